//! The one client for Rollgate's HTTP API. Every request goes through [`send`], so headers,
//! error decoding and the session's CSRF token live in one place; pages call the typed
//! functions of the submodules, one per area of the API (re-exported here, so a call reads
//! `api::get_change`), and never touch `gloo-net` themselves. Paths come from
//! [`shared::paths`], which a server test holds equal to the OpenAPI document's.
//!
//! The client knows nothing of the session module (which builds on it): what it needs from the
//! session, the CSRF token and word of a 401, it gets through [`SessionHooks`], set once at
//! startup with [`connect`].

use std::cell::Cell;
use std::fmt;

use gloo_net::http::{Method, RequestBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::api::ErrorBody;
use shared::paths::BASE;
pub use shared::paths::encode;

use crate::format;

mod accounts;
mod approvals;
mod assignments;
mod changes;
mod comments;
mod figures;
mod notices;
mod reader;
mod reviews;

pub use accounts::*;
pub use approvals::*;
pub use assignments::*;
pub use changes::*;
pub use comments::*;
pub use figures::*;
pub use notices::*;
pub use reviews::*;

/// What the client asks of whoever keeps the session.
#[derive(Clone, Copy)]
pub struct SessionHooks {
    /// The CSRF token every write echoes in `X-CSRF-Token`, if someone is signed in.
    pub csrf_token: fn() -> Option<String>,
    /// The server answered 401: the session is gone (expired, revoked, signed out elsewhere).
    pub signed_out: fn(),
}

thread_local! {
    static HOOKS: Cell<Option<SessionHooks>> = const { Cell::new(None) };
}

/// Hands the client its [`SessionHooks`]; called once when the console starts. Until then
/// requests carry no CSRF token and a 401 only fails the request.
pub fn connect(hooks: SessionHooks) {
    HOOKS.with(|h| h.set(Some(hooks)));
}

fn hooks() -> Option<SessionHooks> {
    HOOKS.with(Cell::get)
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// No usable answer: the network failed, the server is down, or it answered with something
    /// that is not the JSON we expect (a proxy's HTML error page, for instance).
    Transport(String),
    /// The server understood the request and refused it with an [`ErrorBody`].
    Api {
        status: u16,
        /// Stable machine-readable code, e.g. `validation`, `not_found`, `conflict`.
        code: String,
        message: String,
        /// The request field at fault, as a path such as `plan.ramp[1].percent`.
        field: Option<String>,
    },
}

impl ApiError {
    pub fn field(&self) -> Option<&str> {
        match self {
            ApiError::Api { field, .. } => field.as_deref(),
            ApiError::Transport(_) => None,
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiError::Api { status: 404, .. })
    }

    pub fn is_conflict(&self) -> bool {
        matches!(self, ApiError::Api { status: 409, .. })
    }

    /// A short heading for an error banner.
    pub fn title(&self) -> &'static str {
        match self {
            ApiError::Transport(_) => "Could not reach the Rollgate server",
            ApiError::Api { status: 401, .. } => "Could not sign in",
            ApiError::Api { status: 403, .. } => "Not allowed",
            ApiError::Api { status: 404, .. } => "Not found",
            ApiError::Api {
                status: 409, code, ..
            } if code == "gate_not_satisfied" => "The gate is not open yet",
            ApiError::Api { status: 409, .. } => "Someone else changed this first",
            ApiError::Api { status: 429, .. } => "Too many attempts",
            ApiError::Api {
                status: 400 | 422, ..
            } => "The server refused the request",
            ApiError::Api { status, .. } if *status >= 500 => "The server hit an error",
            ApiError::Api { .. } => "The request was refused",
        }
    }

    /// The sentence to show people.
    pub fn message(&self) -> String {
        match self {
            ApiError::Transport(m) => format::capitalise(m),
            ApiError::Api { message, .. } => format::capitalise(message),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Transport(m) => write!(f, "network error: {m}"),
            ApiError::Api {
                status,
                code,
                message,
                ..
            } => write!(f, "{status} {code}: {message}"),
        }
    }
}

impl std::error::Error for ApiError {}

pub type ApiResult<T> = Result<T, ApiError>;

/// `?a=1&b=2`, values encoded; empty when there are no parameters.
fn query(params: &[(&str, String)]) -> String {
    if params.is_empty() {
        return String::new();
    }
    let joined = params
        .iter()
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    format!("?{joined}")
}

/// The single request path: encodes the body, exchanges it with the server ([`exchange`]) and
/// decodes the answer. Only the encoding and decoding depend on the types; the request itself is
/// one non-generic function, so each API call adds little to the Wasm bundle.
async fn send<T, B>(method: Method, path: &str, body: Option<&B>) -> ApiResult<T>
where
    T: DeserializeOwned,
    B: Serialize + ?Sized,
{
    let body = match body {
        Some(b) => Some(encode_json(b)?),
        None => None,
    };
    let text = exchange(method, path, body).await?;
    decode(&text)
}

/// Sends the request, with the CSRF token on writes, and answers the body of a successful
/// response or an [`ApiError`]. A 401 means the session is gone (expired, revoked, signed out
/// in another tab): the console forgets it and goes to sign-in.
async fn exchange(method: Method, path: &str, body: Option<String>) -> ApiResult<String> {
    let mutating = method != Method::GET;
    let mut req = RequestBuilder::new(&format!("{BASE}{path}"))
        .method(method)
        .header("Accept", "application/json");
    if mutating && let Some(token) = hooks().and_then(|h| (h.csrf_token)()) {
        req = req.header("X-CSRF-Token", &token);
    }
    let req = match body {
        Some(b) => req.header("Content-Type", "application/json").body(b),
        None => req.build(),
    }
    .map_err(|e| ApiError::Transport(e.to_string()))?;

    let resp = req
        .send()
        .await
        .map_err(|e| ApiError::Transport(format!("the request did not complete ({e})")))?;
    let status = resp.status();
    let text = resp
        .text()
        .await
        .map_err(|e| ApiError::Transport(format!("the answer could not be read ({e})")))?;

    if resp.ok() {
        // 204 No Content (a revoke) has no body; read it as JSON `null`.
        return Ok(if text.trim().is_empty() {
            "null".to_string()
        } else {
            text
        });
    }
    if status == 401
        && let Some(h) = hooks()
    {
        (h.signed_out)();
    }
    Err(match decode::<ErrorBody>(&text) {
        Ok(body) => ApiError::Api {
            status,
            code: body.error.code,
            message: body.error.message,
            field: body.error.field,
        },
        // Not our error shape: a proxy or a server that is not Rollgate answered.
        Err(_) => ApiError::Api {
            status,
            code: "http".into(),
            message: format!("The server answered {status} {}.", resp.status_text()),
            field: None,
        },
    })
}

/// JSON of a request body.
fn encode_json<B: Serialize + ?Sized>(body: &B) -> ApiResult<String> {
    serde_json::to_string(body).map_err(|e| ApiError::Transport(e.to_string()))
}

/// Reads an answer.
///
/// The text is parsed once into a `serde_json::Value` and each type is decoded from that: the
/// types' decoders are then compiled against one small reader instead of the text parser,
/// which keeps several KB out of the Wasm. [`reader::Reader`] reads structs from objects
/// only, which keeps their array form out as well.
///
/// Only the last step depends on the type: parsing and the error stay out of line, so they
/// are compiled once rather than into every type's `decode`.
pub fn decode<T: DeserializeOwned>(text: &str) -> ApiResult<T> {
    T::deserialize(reader::Reader(parse(text)?)).map_err(unexpected)
}

#[inline(never)]
fn parse(text: &str) -> ApiResult<serde_json::Value> {
    serde_json::from_str(text).map_err(unexpected)
}

#[inline(never)]
fn unexpected(e: serde_json::Error) -> ApiError {
    ApiError::Transport(format!("unexpected answer from the server ({e})"))
}
