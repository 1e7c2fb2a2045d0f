//! Conditional GETs: a strong `ETag` on answers the console polls and that seldom change (the
//! metric aggregates), so an unchanged answer costs a `304 Not Modified` and no body.
//!
//! The tag is the SHA-256 of the JSON answer itself, so it changes exactly when the answer
//! does, whatever it depends on (new windows, the catalogue, the query). What the server saves
//! on its side comes from [`Answers`]: an answer is computed once per version of the change's
//! metrics and kept in memory, so a poll of an unchanged change is a version lookup.
//!
//! The compression layer may send the same tag with a gzip or a plain body; both decode to the
//! bytes hashed, and the console only ever compares tags, so this is harmless here.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Mutex;

use axum::body::Bytes;
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

/// A JSON answer serialised once, with its strong tag: sent whole, or as `304 Not Modified`
/// to a client that holds the tag.
#[derive(Debug, Clone)]
pub struct Tagged {
    body: Bytes,
    etag: String,
}

impl Tagged {
    pub fn of<T: Serialize>(value: &T) -> Result<Tagged, Error> {
        let body = serde_json::to_vec(value)
            .map_err(|e| Error::internal(format!("answer not serialisable: {e}")))?;
        let etag = etag_of(&body);
        Ok(Tagged {
            body: body.into(),
            etag,
        })
    }

    pub fn respond(&self, if_none_match: &IfNoneMatch) -> Response {
        let Ok(etag_value) = HeaderValue::from_str(&self.etag) else {
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
        if if_none_match.matches(&self.etag) {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        (
            headers,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            self.body.clone(),
        )
            .into_response()
    }
}

/// The strong tag of a JSON body: its SHA-256, quoted.
pub fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(Sha256::digest(body)))
}

/// Most answers an instance keeps; when full it starts afresh (the polled answers come back
/// at the next poll).
const MAX_ANSWERS: usize = 512;

/// Aggregate answers kept in this instance's memory, each for one version of its change's
/// metrics (`changes.metrics_version`, raised by every ingestion and catalogue edit in the same
/// transaction): while the version is unchanged the stored answer is the one the database
/// would give, so a poll costs a version lookup instead of reading and adding up rollups.
/// Every instance keeps its own; the version lives in the database they share.
#[derive(Debug, Default)]
pub struct Answers {
    inner: Mutex<HashMap<String, (i64, Tagged)>>,
}

impl Answers {
    /// The answer kept under `key` for `version`, or `compute`d and kept.
    pub async fn get_or_compute<F, Fut>(
        &self,
        key: String,
        version: i64,
        compute: F,
    ) -> Result<Tagged, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Tagged, Error>>,
    {
        if let Some((v, answer)) = self.lock().get(&key)
            && *v == version
        {
            return Ok(answer.clone());
        }
        let answer = compute().await?;
        let mut answers = self.lock();
        if answers.len() >= MAX_ANSWERS {
            answers.clear();
        }
        // A newer version someone computed meanwhile stays.
        match answers.get(&key) {
            Some((v, _)) if *v > version => {}
            _ => {
                answers.insert(key, (version, answer.clone()));
            }
        }
        Ok(answer)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (i64, Tagged)>> {
        // A panic while holding it leaves plain data behind; keep serving.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}
