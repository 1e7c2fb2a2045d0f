//! The one client for Rollgate's HTTP API. Every request goes through [`send`], so headers,
//! error decoding and the actor live in one place; pages call the typed functions below and
//! never touch `gloo-net` themselves.

use std::fmt;

use gloo_net::http::{Method, RequestBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::api::{
    ChangeDetail, ChangePage, ChangeUpdate, ErrorBody, NewChange, TemplateInfo, TransitionRequest,
};
use shared::metrics::{MetricSeries, MetricSummary};
use shared::tokens::{NewToken, TokenCreated, TokenInfo};

use crate::{actor, format};

const BASE: &str = "/api/v1";

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
            ApiError::Api { status: 404, .. } => "Not found",
            ApiError::Api { status: 409, .. } => "Someone else changed this first",
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

/// Filter and page of the change list, as kept in the URL query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    pub state: Option<String>,
    pub kind: Option<String>,
    pub page: u32,
    pub per_page: u32,
}

pub async fn list_changes(q: &ListQuery) -> ApiResult<ChangePage> {
    let mut params: Vec<(&str, String)> = Vec::new();
    if let Some(s) = &q.state {
        params.push(("state", s.clone()));
    }
    if let Some(k) = &q.kind {
        params.push(("kind", k.clone()));
    }
    params.push(("page", q.page.max(1).to_string()));
    params.push(("per_page", q.per_page.max(1).to_string()));
    send(
        Method::GET,
        &format!("/changes{}", query(&params)),
        None::<&()>,
    )
    .await
}

pub async fn templates() -> ApiResult<Vec<TemplateInfo>> {
    send(Method::GET, "/templates", None::<&()>).await
}

pub async fn get_change(id: &str) -> ApiResult<ChangeDetail> {
    send(
        Method::GET,
        &format!("/changes/{}", encode(id)),
        None::<&()>,
    )
    .await
}

pub async fn create_change(body: &NewChange) -> ApiResult<ChangeDetail> {
    send(Method::POST, "/changes", Some(body)).await
}

pub async fn update_change(id: &str, body: &ChangeUpdate) -> ApiResult<ChangeDetail> {
    send(Method::PUT, &format!("/changes/{}", encode(id)), Some(body)).await
}

pub async fn transition(id: &str, body: &TransitionRequest) -> ApiResult<ChangeDetail> {
    let path = format!("/changes/{}/transitions", encode(id));
    send(Method::POST, &path, Some(body)).await
}

/// Time span of a metrics query (RFC 3339 bounds; `None` is open-ended).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Span {
    pub from: Option<String>,
    pub to: Option<String>,
}

impl Span {
    fn params(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        if let Some(f) = &self.from {
            p.push(("from", f.clone()));
        }
        if let Some(t) = &self.to {
            p.push(("to", t.clone()));
        }
        p
    }
}

pub async fn metrics_summary(id: &str, span: &Span) -> ApiResult<MetricSummary> {
    let path = format!(
        "/changes/{}/metrics/summary{}",
        encode(id),
        query(&span.params())
    );
    send(Method::GET, &path, None::<&()>).await
}

/// One metric in one segment over time, cumulative per bucket of `resolution` seconds.
pub async fn metrics_series(
    id: &str,
    metric: &str,
    segment: &str,
    resolution: i64,
    span: &Span,
) -> ApiResult<MetricSeries> {
    let mut params = vec![
        ("metric", metric.to_string()),
        ("segment", segment.to_string()),
        ("resolution", resolution.to_string()),
    ];
    params.extend(span.params());
    let path = format!("/changes/{}/metrics/series{}", encode(id), query(&params));
    send(Method::GET, &path, None::<&()>).await
}

/// Ingestion tokens that may send windows for one change.
pub async fn tokens(change_id: &str) -> ApiResult<Vec<TokenInfo>> {
    let path = format!("/tokens{}", query(&[("change_id", change_id.to_string())]));
    send(Method::GET, &path, None::<&()>).await
}

/// Creates a token; the answer carries the secret, which is never shown again.
pub async fn create_token(body: &NewToken) -> ApiResult<TokenCreated> {
    send(Method::POST, "/tokens", Some(body)).await
}

pub async fn revoke_token(id: &str) -> ApiResult<()> {
    let _: serde::de::IgnoredAny = send(
        Method::DELETE,
        &format!("/tokens/{}", encode(id)),
        None::<&()>,
    )
    .await?;
    Ok(())
}

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

/// The single request path: builds the request, names the actor on writes, and turns every
/// answer into either the expected value or an [`ApiError`].
async fn send<T, B>(method: Method, path: &str, body: Option<&B>) -> ApiResult<T>
where
    T: DeserializeOwned,
    B: Serialize + ?Sized,
{
    let mutating = method != Method::GET;
    let mut req = RequestBuilder::new(&format!("{BASE}{path}"))
        .method(method)
        .header("Accept", "application/json");
    if mutating && let Some(name) = actor::get() {
        req = req.header("X-Rollgate-Actor", &name);
    }
    let req = match body {
        Some(b) => req.json(b),
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
        let text = if text.trim().is_empty() {
            "null"
        } else {
            &text
        };
        return serde_json::from_str(text)
            .map_err(|e| ApiError::Transport(format!("unexpected answer from the server ({e})")));
    }
    Err(match serde_json::from_str::<ErrorBody>(&text) {
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

/// Percent-encodes a path segment or query value (ids and filter names are plain, but a
/// hand-typed URL may not be).
fn encode(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}
