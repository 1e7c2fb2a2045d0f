//! Conditional GETs: a strong `ETag` on answers the console polls and that seldom change (the
//! metric aggregates), so an unchanged answer costs a `304 Not Modified` and no body.
//!
//! The tag is the SHA-256 of the JSON answer itself, so it changes exactly when the answer
//! does, whatever it depends on (new windows, the catalogue, the query), with no version
//! column to keep in step. The server still computes the answer; what is saved is sending and
//! parsing it, which for a summary of every metric × segment × variant is most of the cost on
//! the browser's side.
//!
//! The compression layer may send the same tag with a gzip or a plain body; both decode to the
//! bytes hashed, and the console only ever compares tags, so this is harmless here.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::Error;

/// The `If-None-Match` request header: the tags the client already holds.
#[derive(Debug, Clone, Default)]
pub struct IfNoneMatch(Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IfNoneMatch {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(IfNoneMatch(
            parts
                .headers
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        ))
    }
}

impl IfNoneMatch {
    /// Whether `etag` (quoted) is among the client's tags. `If-None-Match` uses the weak
    /// comparison (RFC 9110 §13.1.2), so `W/"x"` matches `"x"`; `*` matches any answer.
    fn matches(&self, etag: &str) -> bool {
        let Some(list) = &self.0 else {
            return false;
        };
        list.split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
    }
}

/// A JSON answer with its `ETag`, or `304 Not Modified` when the client holds that tag.
#[derive(Debug)]
pub struct Tagged<T> {
    value: T,
    if_none_match: IfNoneMatch,
}

impl<T> Tagged<T> {
    pub fn new(value: T, if_none_match: IfNoneMatch) -> Self {
        Tagged {
            value,
            if_none_match,
        }
    }
}

/// The strong tag of a JSON body: its SHA-256, quoted.
pub fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(Sha256::digest(body)))
}

impl<T: Serialize> IntoResponse for Tagged<T> {
    fn into_response(self) -> Response {
        let body = match serde_json::to_vec(&self.value) {
            Ok(body) => body,
            Err(e) => {
                return Error::internal(format!("answer not serialisable: {e}")).into_response();
            }
        };
        let etag = etag_of(&body);
        let Ok(etag_value) = HeaderValue::from_str(&etag) else {
            return Error::internal("an ETag that is no header value").into_response();
        };
        // Stored by the browser but checked with the server each time: the answers hold no
        // secret, unlike the API's other answers, which are `no-store`.
        let headers = [
            (header::ETAG, etag_value),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-cache"),
            ),
        ];
        if self.if_none_match.matches(&etag) {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        (
            headers,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response()
    }
}
