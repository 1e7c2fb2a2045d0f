//! Who is evaluating flags: an application holding a service token with the scope `evaluate`,
//! sent as `Authorization: Bearer rg_ing_…` or `X-API-Key: rg_ing_…` (the two ways OFREP
//! providers are configured). Handlers take an [`EvaluateToken`]; its rejections, like every
//! answer under `/ofrep/v1`, are in the protocol's error shape ([`OfrepError`]), not the API's,
//! because OpenFeature providers read that shape.
//!
//! No message names the secret, so nothing logged from here holds it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::ofrep::{OfrepErrorCode, OfrepFailure};
use shared::tokens::{SECRET_PREFIX, TokenInfo, TokenScope};

use super::authz::session_cookie;
use super::ingest_auth::bearer;
use crate::AppState;
use crate::db;
use crate::error::Error;

/// The header OFREP's `ApiKeyAuth` scheme names.
pub const API_KEY_HEADER: &str = "x-api-key";

/// An answer under `/ofrep/v1` that is not an evaluation: the status and OFREP's failure body.
#[derive(Debug)]
pub struct OfrepError {
    pub status: StatusCode,
    pub body: OfrepFailure,
}

impl OfrepError {
    pub fn new(status: StatusCode, code: OfrepErrorCode, details: impl Into<String>) -> Self {
        OfrepError {
            status,
            body: OfrepFailure {
                key: None,
                error_code: code,
                error_details: details.into(),
            },
        }
    }

    /// 400 with `code` (`PARSE_ERROR`, `TARGETING_KEY_MISSING`, `INVALID_CONTEXT`).
    pub fn bad_request(code: OfrepErrorCode, details: impl Into<String>) -> Self {
        OfrepError::new(StatusCode::BAD_REQUEST, code, details)
    }

    fn unauthorized(details: impl Into<String>) -> Self {
        OfrepError::new(StatusCode::UNAUTHORIZED, OfrepErrorCode::General, details)
    }

    fn forbidden(details: impl Into<String>) -> Self {
        OfrepError::new(StatusCode::FORBIDDEN, OfrepErrorCode::General, details)
    }

    /// The same failure about the flag `key`.
    pub fn with_key(mut self, key: &str) -> Self {
        self.body.key = Some(key.to_owned());
        self
    }
}

impl From<OfrepFailure> for OfrepError {
    /// The status OFREP gives each code: 404 for an unknown flag, 500 for a general failure
    /// of evaluation, 400 for the rest (the request's fault).
    fn from(body: OfrepFailure) -> Self {
        let status = match body.error_code {
            OfrepErrorCode::FlagNotFound => StatusCode::NOT_FOUND,
            OfrepErrorCode::General => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        };
        OfrepError { status, body }
    }
}

impl From<Error> for OfrepError {
    /// The API's errors in OFREP's shape; a server failure is logged with its cause and told
    /// as a generic sentence, as the API does.
    fn from(e: Error) -> Self {
        let status = e.status();
        let details = if status.is_server_error() {
            tracing::error!(error = %e, "evaluation failed");
            "something went wrong on the server; it has been logged".to_owned()
        } else {
            e.to_string()
        };
        OfrepError::new(status, OfrepErrorCode::General, details)
    }
}

impl IntoResponse for OfrepError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3: a 401 names the scheme the client should use.
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// A valid (known, unrevoked) service token holding the scope `evaluate`: the cached record,
/// shared rather than copied per request.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluateToken(pub Arc<TokenInfo>);

impl EvaluateToken {
    /// The changes whose flags it may evaluate; empty for every change.
    pub fn change_ids(&self) -> &[String] {
        &self.0.change_ids
    }
}

impl FromRequestParts<AppState> for EvaluateToken {
    type Rejection = OfrepError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let headers = &parts.headers;
        let secret = if let Some(value) = headers.get(header::AUTHORIZATION) {
            bearer(value.as_bytes()).ok_or_else(|| {
                OfrepError::unauthorized(format!(
                    "the Authorization header must be `Bearer {SECRET_PREFIX}…`"
                ))
            })?
        } else if let Some(value) = headers.get(API_KEY_HEADER) {
            value
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| OfrepError::unauthorized("the X-API-Key header is empty"))?
        } else if session_cookie(headers).is_some() {
            return Err(OfrepError::forbidden(
                "a console session cannot evaluate flags; send a service token with the scope \
                 `evaluate` as `Authorization: Bearer …` or `X-API-Key`",
            ));
        } else {
            return Err(OfrepError::unauthorized(format!(
                "send a service token with the scope `evaluate` as `Authorization: Bearer \
                 {SECRET_PREFIX}…` or `X-API-Key`; create one with POST /api/v1/tokens"
            )));
        };
        let unknown = || OfrepError::unauthorized("unknown service token");
        if !db::tokens::looks_like_secret(secret) {
            return Err(unknown());
        }
        let token = state
            .flags
            .token(&state.pool, secret)
            .await?
            .ok_or_else(unknown)?;
        if let Some(at) = &token.revoked_at {
            return Err(OfrepError::unauthorized(format!(
                "the service token \"{}\" ({}…) was revoked at {at}",
                token.name, token.prefix
            )));
        }
        if !token.scopes.contains(&TokenScope::Evaluate) {
            return Err(OfrepError::forbidden(format!(
                "the service token \"{}\" lacks the scope `{}`; create a token with it to \
                 evaluate flags",
                token.name,
                TokenScope::Evaluate.as_str()
            )));
        }
        Ok(EvaluateToken(token))
    }
}

/// The raw body of an evaluation request, at most the route's limit, declared as JSON; read
/// by the handler so that each defect gets its own OFREP code.
#[derive(Debug, Clone)]
pub struct OfrepBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for OfrepBody {
    type Rejection = OfrepError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !super::extract::is_json(req.headers()) {
            return Err(OfrepError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                OfrepErrorCode::General,
                "send the body as JSON with `Content-Type: application/json`",
            ));
        }
        let limit = req
            .extensions()
            .get::<super::BodyLimit>()
            .map_or(super::BODY_LIMIT, |l| l.0);
        Bytes::from_request(req, state)
            .await
            .map(OfrepBody)
            .map_err(|e| {
                if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    OfrepError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        OfrepErrorCode::General,
                        format!("the request body is larger than {} KiB", limit / 1024),
                    )
                } else {
                    OfrepError::bad_request(
                        OfrepErrorCode::ParseError,
                        format!("the request body could not be read: {e}"),
                    )
                }
            })
    }
}

/// The flag key in the path, read without the API's checks: a key no flag can have (one with
/// a NUL, say) is simply not found, and the answer stays in OFREP's shape.
#[derive(Debug, Clone)]
pub struct OfrepKey(pub String);

impl<S: Send + Sync> FromRequestParts<S> for OfrepKey {
    type Rejection = OfrepError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(key)| OfrepKey(key))
            .map_err(|e| {
                OfrepError::bad_request(
                    OfrepErrorCode::ParseError,
                    format!("the flag key in the path cannot be read: {e}"),
                )
            })
    }
}
