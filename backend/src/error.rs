//! The one error type of the HTTP API and its JSON form, `shared::api::ErrorBody`:
//! `{ "error": { "code", "message", "field" } }`.
//!
//! Codes are stable and machine-readable; messages are sentences for people. Internal failures
//! are logged with their cause (inside the request's trace span, which names method and path)
//! and answered with a generic message, so no SQL or server detail leaks to clients.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use shared::api::{ErrorBody, ErrorDetail};
use shared::rollout::TransitionError;
use shared::validate::FieldError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400 Bad Request, code `malformed_json`: the body is not well-formed JSON.
    #[error("the request body is not valid JSON: {0}")]
    MalformedJson(String),

    /// 400 Bad Request, code `bad_request`: the request could not be read at all.
    #[error("{0}")]
    BadRequest(String),

    /// 401 Unauthorized, code `unauthorized`: not signed in (no, expired or ended session) or
    /// no valid bearer token on the ingestion route. Answered with `WWW-Authenticate: Bearer`.
    #[error("{0}")]
    Unauthorized(String),

    /// 403 Forbidden, code `forbidden`: the token is valid but may not do this, e.g. it is
    /// scoped to another change.
    #[error("{0}")]
    Forbidden(String),

    /// 403 Forbidden, code `csrf`: a cookie-authenticated write without the session's
    /// `X-CSRF-Token`, or sent from another site.
    #[error("{0}")]
    Csrf(String),

    /// 404 Not Found, code `not_found`: no such resource (or no such API route).
    #[error("{0} not found")]
    NotFound(String),

    /// 405 Method Not Allowed, code `method_not_allowed`.
    #[error("this method is not allowed on this route")]
    MethodNotAllowed,

    /// 409 Conflict, code `conflict`: the resource changed since the caller read it.
    #[error("{0}")]
    Conflict(String),

    /// 409 Conflict, code `frozen`: the plan cannot be edited once the rollout started.
    #[error("{0}")]
    Frozen(String),

    /// 409 Conflict, code `illegal_transition`: the state machine refuses the action here.
    #[error("{0}")]
    IllegalTransition(TransitionError),

    /// 409 Conflict, code `gate_not_satisfied`: the stage's approvals are missing or rejected.
    #[error("{0}")]
    GateNotSatisfied(String),

    /// 429 Too Many Requests, code `rate_limited`, with `Retry-After` in seconds.
    #[error("{message}")]
    RateLimited { message: String, retry_after: u64 },

    /// 413 Payload Too Large, code `payload_too_large`.
    #[error("the request body is larger than {limit_kib} KiB")]
    PayloadTooLarge { limit_kib: usize },

    /// 415 Unsupported Media Type, code `unsupported_media_type`: the body is not declared as
    /// `application/json`.
    #[error("send the body as JSON with `Content-Type: application/json`")]
    UnsupportedMediaType,

    /// 422 Unprocessable Entity, code `validation`: well-formed input that breaks a rule;
    /// `field` names the culprit, as a path such as `plan.ramp[1].percent`.
    #[error("{message}")]
    Validation {
        field: Option<String>,
        message: String,
    },

    /// 500 Internal Server Error, code `internal`: the database failed. Logged, never shown.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),

    /// 500 Internal Server Error, code `internal`: anything else that should not happen, such
    /// as a stored row that no longer parses. The text is for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// 404 for a resource, e.g. `Error::not_found("change")`.
    pub fn not_found(what: &str) -> Self {
        Error::NotFound(what.to_owned())
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Error::Unauthorized(message.into())
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Error::Forbidden(message.into())
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict(message.into())
    }

    pub fn frozen(message: impl Into<String>) -> Self {
        Error::Frozen(message.into())
    }

    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Validation {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    pub fn internal(context: impl Into<String>) -> Self {
        Error::Internal(context.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::MalformedJson(_) | Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) | Error::Csrf(_) => StatusCode::FORBIDDEN,
            Error::GateNotSatisfied(_) => StatusCode::CONFLICT,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::Conflict(_) | Error::Frozen(_) | Error::IllegalTransition(_) => {
                StatusCode::CONFLICT
            }
            Error::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Validation { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::Database(e) if constraint_violation(e) => StatusCode::CONFLICT,
            Error::Database(_) | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Error::MalformedJson(_) => "malformed_json",
            Error::BadRequest(_) => "bad_request",
            Error::Unauthorized(_) => "unauthorized",
            Error::Forbidden(_) => "forbidden",
            Error::Csrf(_) => "csrf",
            Error::GateNotSatisfied(_) => "gate_not_satisfied",
            Error::RateLimited { .. } => "rate_limited",
            Error::NotFound(_) => "not_found",
            Error::MethodNotAllowed => "method_not_allowed",
            Error::Conflict(_) => "conflict",
            Error::Frozen(_) => "frozen",
            Error::IllegalTransition(_) => "illegal_transition",
            Error::PayloadTooLarge { .. } => "payload_too_large",
            Error::UnsupportedMediaType => "unsupported_media_type",
            Error::Validation { .. } => "validation",
            Error::Database(e) if constraint_violation(e) => "conflict",
            Error::Database(_) | Error::Internal(_) => "internal",
        }
    }

    /// The message a client would see, for the command line; `None` for internal errors,
    /// whose detail is for the log.
    pub fn body_message(&self) -> Option<String> {
        (!self.status().is_server_error()).then(|| {
            let b = self.body();
            match b.error.field {
                Some(f) if !b.error.message.starts_with(&f) => format!("{f}: {}", b.error.message),
                _ => b.error.message,
            }
        })
    }

    fn body(&self) -> ErrorBody {
        let (message, field) = match self {
            Error::Validation { field, message } => (message.clone(), field.clone()),
            Error::IllegalTransition(e) => (e.to_string(), e.field().map(str::to_owned)),
            // Input is validated before it reaches the database, so a violated constraint
            // means two requests raced (e.g. the same id twice); say so, not which constraint.
            Error::Database(e) if constraint_violation(e) => (
                "the request conflicts with the stored data; reload and try again".to_owned(),
                None,
            ),
            Error::Database(_) | Error::Internal(_) => (
                "something went wrong on the server; it has been logged".to_owned(),
                None,
            ),
            other => (other.to_string(), None),
        };
        ErrorBody {
            error: ErrorDetail {
                code: self.code().to_owned(),
                message,
                field,
            },
        }
    }
}

fn constraint_violation(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => {
            db.is_unique_violation() || db.is_foreign_key_violation() || db.is_check_violation()
        }
        _ => false,
    }
}

impl From<crate::db::Error> for Error {
    /// A stale write is the caller's to resolve (409, in `shared`'s words); anything else the
    /// storage layer reports is the server's (500, or 409 for a violated constraint).
    fn from(e: crate::db::Error) -> Self {
        match e {
            crate::db::Error::Stale { sent, current } => {
                Error::Conflict(shared::rollout::moved_meanwhile(sent, current))
            }
            crate::db::Error::Internal(context) => Error::Internal(context),
            crate::db::Error::Sqlx(e) => Error::Database(e),
        }
    }
}

impl From<FieldError> for Error {
    fn from(e: FieldError) -> Self {
        Error::Validation {
            field: Some(e.field),
            message: e.message,
        }
    }
}

impl From<TransitionError> for Error {
    /// A missing justification or reason is bad input (422 on `reason`); anything else is the
    /// state machine saying no (409).
    fn from(e: TransitionError) -> Self {
        match e {
            TransitionError::JustificationRequired
            | TransitionError::ReasonRequired
            | TransitionError::PauseReasonRequired => Error::Validation {
                field: e.field().map(str::to_owned),
                message: e.to_string(),
            },
            other => Error::IllegalTransition(other),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after = match &self {
            Error::RateLimited { retry_after, .. } => Some(*retry_after),
            _ => None,
        };
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        } else if let Error::Database(e) = &self {
            tracing::warn!(error = %e, "constraint violation answered with 409");
        }
        let mut response = (status, axum::Json(self.body())).into_response();
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        if status == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3: a 401 names the scheme the client should use.
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_do_not_leak() {
        let e = Error::internal("stored plan of change 42 does not parse: SELECT …");
        let body = e.body();
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body.error.code, "internal");
        assert!(!body.error.message.contains("SELECT"));
    }

    #[test]
    fn storage_errors_keep_their_meaning() {
        let e = Error::from(crate::db::Error::Stale {
            sent: 3,
            current: Some(4),
        });
        assert_eq!(e.status(), StatusCode::CONFLICT);
        assert_eq!(e.code(), "conflict");
        assert!(
            e.to_string()
                .contains("you sent revision 3, it is now at 4")
        );
        let e = Error::from(crate::db::Error::internal("bad stored plan"));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn missing_reason_is_a_validation_error() {
        let e = Error::from(TransitionError::ReasonRequired);
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.body().error.field.as_deref(), Some("reason"));
        let e = Error::from(TransitionError::NotStarted);
        assert_eq!(e.status(), StatusCode::CONFLICT);
        assert_eq!(e.code(), "illegal_transition");
    }
}
