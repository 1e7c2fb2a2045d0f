//! Conditional GETs: a strong `ETag` on answers the console polls and that seldom change (the
//! metric aggregates), so an unchanged answer costs a `304 Not Modified` and no body.
//!
//! The tag is the SHA-256 of the JSON answer itself, so it changes exactly when the answer
//! does, whatever it depends on (new windows, the catalogue, the query). What the server saves
//! on its side comes from [`Answers`]: an answer is computed once per version of the change's
//! metrics and kept in memory, so a poll of an unchanged change is a version lookup.
//!
//! The same tag goes with the gzip and the plain body (compressed once per answer kept); both
//! decode to the bytes hashed, and the console only ever compares tags.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::Write;
use std::sync::Mutex;

use axum::body::Bytes;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use flate2::Compression;
use flate2::write::GzEncoder;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::error::Error;

/// What a polling client sends about the answer: the `If-None-Match` tags it already holds,
/// and whether it takes gzip (`Accept-Encoding`), so a kept answer goes out as the gzip
/// compressed once instead of once per request.
#[derive(Debug, Clone, Default)]
pub struct IfNoneMatch {
    tags: Option<String>,
    gzip: bool,
}

impl<S: Send + Sync> FromRequestParts<S> for IfNoneMatch {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        let text = |name| {
            parts
                .headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
        };
        Ok(IfNoneMatch {
            tags: text(header::IF_NONE_MATCH).map(str::to_owned),
            gzip: text(header::ACCEPT_ENCODING).is_some_and(accepts_gzip),
        })
    }
}

/// Whether an `Accept-Encoding` value takes gzip: listed, and not with `q=0`.
fn accepts_gzip(value: &str) -> bool {
    value.split(',').any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        parts.next().is_some_and(|c| c.eq_ignore_ascii_case("gzip"))
            && !parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            })
    })
}

impl IfNoneMatch {
    /// Whether `etag` (quoted) is among the client's tags. `If-None-Match` uses the weak
    /// comparison (RFC 9110 §13.1.2), so `W/"x"` matches `"x"`; `*` matches any answer.
    fn matches(&self, etag: &str) -> bool {
        let Some(list) = &self.tags else {
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
    /// The body gzip-compressed, for clients that take it; `None` for an answer made for one
    /// request ([`Tagged::once`]).
    gzip: Option<Bytes>,
    etag: String,
}

impl Tagged {
    pub fn of<T: Serialize>(value: &T) -> Result<Tagged, Error> {
        let body = serde_json::to_vec(value)
            .map_err(|e| Error::internal(format!("answer not serialisable: {e}")))?;
        let etag = etag_of(&body);
        let mut gz = GzEncoder::new(Vec::with_capacity(body.len() / 8), Compression::default());
        gz.write_all(&body)
            .map_err(|e| Error::internal(format!("cannot compress an answer: {e}")))?;
        let gzip = gz
            .finish()
            .map_err(|e| Error::internal(format!("cannot compress an answer: {e}")))?;
        Ok(Tagged {
            body: body.into(),
            gzip: Some(gzip.into()),
            etag,
        })
    }

    /// An answer made for one request (a bulk flag evaluation, which depends on the
    /// request's context): tagged but not compressed ahead, so a client that does not take
    /// gzip does not pay for it; the compression layer compresses it for one that does.
    pub fn once<T: Serialize>(value: &T) -> Result<Tagged, Error> {
        let body = serde_json::to_vec(value)
            .map_err(|e| Error::internal(format!("answer not serialisable: {e}")))?;
        let etag = etag_of(&body);
        Ok(Tagged {
            body: body.into(),
            gzip: None,
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
            (header::VARY, HeaderValue::from_static("accept-encoding")),
        ];
        if if_none_match.matches(&self.etag) {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        let json = (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        // With a `Content-Encoding` the compression layer passes the answer through as it is.
        if if_none_match.gzip
            && let Some(body) = &self.gzip
        {
            let gzip = (header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            return (headers, [json, gzip], body.clone()).into_response();
        }
        (headers, [json], self.body.clone()).into_response()
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

#[cfg(test)]
mod tests {
    use super::accepts_gzip;

    #[test]
    fn gzip_is_taken_when_listed_without_q_zero() {
        assert!(accepts_gzip("gzip, deflate, br"));
        assert!(accepts_gzip("br;q=1.0, GZIP;q=0.5"));
        assert!(!accepts_gzip("gzip;q=0, br"));
        assert!(!accepts_gzip("identity"));
        assert!(!accepts_gzip("x-gzip-like"));
    }
}
