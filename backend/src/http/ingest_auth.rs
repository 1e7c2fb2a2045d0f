//! Who is sending metrics: a production app holding an ingestion token, as
//! `Authorization: Bearer rg_ing_…`. Handlers take an [`IngestToken`] and never read the header
//! themselves.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use shared::tokens::{SECRET_PREFIX, TokenScope};

use crate::AppState;
use crate::db;
use crate::error::{Error, Result};

/// A valid (known, unrevoked) ingestion token. Rejections are 401 with
/// `WWW-Authenticate: Bearer`; nothing of the request body has been read by then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestToken {
    pub id: String,
    pub name: String,
    /// The changes it may write to; empty for every change.
    pub change_ids: Vec<String>,
}

impl IngestToken {
    /// 403 unless the token may write to `change_id`.
    pub fn authorize(&self, change_id: &str) -> Result<()> {
        if self.change_ids.is_empty() || self.change_ids.iter().any(|id| id == change_id) {
            return Ok(());
        }
        Err(Error::forbidden(format!(
            "the ingestion token \"{}\" is for other changes; create a token for this change \
             or a workspace-wide one",
            self.name
        )))
    }
}

/// The bearer credentials in an `Authorization` header value, if it has that shape.
/// The scheme is case-insensitive (RFC 9110 §11.1).
pub fn bearer(value: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(value).ok()?;
    let (scheme, credentials) = text.trim().split_once(' ')?;
    let credentials = credentials.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !credentials.is_empty()).then_some(credentials)
}

impl FromRequestParts<AppState> for IngestToken {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(Error::unauthorized(format!(
                "send an ingestion token as `Authorization: Bearer {SECRET_PREFIX}…`; create \
                 one with POST /api/v1/tokens"
            )));
        };
        let secret = bearer(value.as_bytes()).ok_or_else(|| {
            Error::unauthorized(format!(
                "the Authorization header must be `Bearer {SECRET_PREFIX}…`"
            ))
        })?;
        let unknown = || Error::unauthorized("unknown ingestion token");
        if !db::tokens::looks_like_secret(secret) {
            return Err(unknown());
        }
        let (token, last_used) = db::tokens::find_for_use(&state.pool, secret)
            .await?
            .ok_or_else(unknown)?;
        if !token.scopes.contains(&TokenScope::Ingest) {
            return Err(Error::forbidden(format!(
                "the service token \"{}\" lacks the scope `{}`; create a token with it to send \
                 metric windows",
                token.name,
                TokenScope::Ingest.as_str()
            )));
        }
        if let Some(at) = token.revoked_at {
            return Err(Error::unauthorized(format!(
                "the ingestion token \"{}\" ({}…) was revoked at {at}",
                token.name, token.prefix
            )));
        }
        record_use(state, &token.id, last_used.as_deref()).await;
        Ok(IngestToken {
            id: token.id,
            name: token.name,
            change_ids: token.change_ids,
        })
    }
}

/// How stale a token's recorded last use may get: it is written again only after this long,
/// so a client sending every few seconds costs one write a minute, not one per request.
pub const LAST_USE_PRECISION: time::Duration = time::Duration::minutes(1);

/// Records the token's use when the recorded one is older than [`LAST_USE_PRECISION`]. A
/// failure is logged and the request goes on: the record is bookkeeping, not a check.
pub(super) async fn record_use(state: &AppState, id: &str, last_used: Option<&str>) {
    let now = time::OffsetDateTime::now_utc();
    let stale_before = db::timestamp(now - LAST_USE_PRECISION);
    if last_used.is_some_and(|at| at >= stale_before.as_str()) {
        return;
    }
    if let Err(e) = db::tokens::mark_used(&state.pool, id, &db::timestamp(now)).await {
        tracing::warn!(error = %e, token = %id, "the token's last use was not recorded");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_headers() {
        assert_eq!(bearer(b"Bearer rg_ing_x"), Some("rg_ing_x"));
        assert_eq!(bearer(b"bearer   rg_ing_x "), Some("rg_ing_x"));
        assert_eq!(bearer(b"Basic dXNlcjpwYXNz"), None);
        assert_eq!(bearer(b"Bearer"), None);
        assert_eq!(bearer(b"Bearer "), None);
        assert_eq!(bearer(b"rg_ing_x"), None);
        assert_eq!(bearer(&[0xff, 0x20, 0x41]), None);
    }

    #[test]
    fn scoped_tokens_only_write_to_their_change() {
        let t = IngestToken {
            id: "t".into(),
            name: "n".into(),
            change_ids: vec!["a".into()],
        };
        assert!(t.authorize("a").is_ok());
        assert_eq!(
            t.authorize("b").unwrap_err().status(),
            axum::http::StatusCode::FORBIDDEN
        );
        let all = IngestToken {
            change_ids: Vec::new(),
            ..t
        };
        assert!(all.authorize("b").is_ok());
    }
}
