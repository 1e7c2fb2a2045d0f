//! The one client for Rollgate's HTTP API. Every request goes through [`send`], so headers,
//! error decoding and the session's CSRF token live in one place; pages call the typed
//! functions below and never touch `gloo-net` themselves.
//!
//! The client knows nothing of the session module (which builds on it): what it needs from the
//! session, the CSRF token and word of a 401, it gets through [`SessionHooks`], set once at
//! startup with [`connect`].

use std::cell::Cell;
use std::fmt;

use gloo_net::http::{Method, RequestBuilder};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use shared::api::{
    ChangeDetail, ChangePage, ChangeUpdate, ErrorBody, NewChange, TemplateInfo, TransitionRequest,
};
use shared::approvals::{ApprovalPolicies, ApprovalRequest, GateStatus, Inbox, InboxScope};
use shared::audit::AuditPage;
use shared::auth::{DemoUsers, LoginRequest, NewUser, SessionInfo, User, UserUpdate};
use shared::feed::Feed;
use shared::metrics::{MetricSeries, MetricSummary};
use shared::notices::{AcknowledgeBody, Delivery, Notice, NoticeInput, UnreadNotices};
use shared::rollout::RolloutState;
use shared::teams::{CreatedTeam, FeedToken, Team, TeamInput, WebhookSecret};
use shared::tokens::{NewToken, TokenCreated, TokenInfo};

use crate::coord::FeedQuery;
use crate::format;

const BASE: &str = "/api/v1";

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
            } if code == "gate_not_satisfied" => "Sign-off is missing",
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

/// Ingestion tokens: those that may send windows for one change, or all of them.
pub async fn tokens(change_id: Option<&str>) -> ApiResult<Vec<TokenInfo>> {
    let params: Vec<(&str, String)> = change_id
        .map(|c| ("change_id", c.to_string()))
        .into_iter()
        .collect();
    send(
        Method::GET,
        &format!("/tokens{}", query(&params)),
        None::<&()>,
    )
    .await
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

pub async fn session() -> ApiResult<SessionInfo> {
    send(Method::GET, "/session", None::<&()>).await
}

pub async fn login(body: &LoginRequest) -> ApiResult<SessionInfo> {
    send(Method::POST, "/session", Some(body)).await
}

pub async fn logout() -> ApiResult<()> {
    let _: serde::de::IgnoredAny = send(Method::DELETE, "/session", None::<&()>).await?;
    Ok(())
}

/// The demo accounts; 404 outside a demo workspace.
pub async fn demo_users() -> ApiResult<DemoUsers> {
    send(Method::GET, "/session/demo-users", None::<&()>).await
}

/// The gate the change passes next (or, given `stage`, the gate of that later stage) and
/// where its sign-off stands.
pub async fn gate(change_id: &str, stage: Option<RolloutState>) -> ApiResult<GateStatus> {
    let mut path = format!("/changes/{}/gate", encode(change_id));
    if let Some(s) = stage {
        path += &query(&[("stage", shared::approvals::stage_key(s))]);
    }
    send(Method::GET, &path, None::<&()>).await
}

/// Approves or rejects the upcoming gate; answers the gate afterwards.
pub async fn sign(change_id: &str, body: &ApprovalRequest) -> ApiResult<GateStatus> {
    let path = format!("/changes/{}/approvals", encode(change_id));
    send(Method::POST, &path, Some(body)).await
}

pub fn scope_name(scope: InboxScope) -> &'static str {
    match scope {
        InboxScope::WaitingForMe => "waiting_for_me",
        InboxScope::WaitingForOthers => "waiting_for_others",
        InboxScope::Decided => "decided",
    }
}

pub async fn inbox(scope: InboxScope) -> ApiResult<Inbox> {
    send(Method::GET, &inbox_path(scope), None::<&()>).await
}

/// How many gates wait in `scope`. The top bar's badge needs only the count, asked on every
/// navigation: the entries are skipped over, not decoded.
pub async fn inbox_count(scope: InboxScope) -> ApiResult<usize> {
    #[derive(Deserialize)]
    struct Entries {
        items: Vec<serde::de::IgnoredAny>,
    }
    let inbox: Entries = send(Method::GET, &inbox_path(scope), None::<&()>).await?;
    Ok(inbox.items.len())
}

fn inbox_path(scope: InboxScope) -> String {
    format!(
        "/approvals{}",
        query(&[("scope", scope_name(scope).to_string())])
    )
}

pub async fn policies() -> ApiResult<ApprovalPolicies> {
    send(Method::GET, "/policies", None::<&()>).await
}

pub async fn save_policies(body: &ApprovalPolicies) -> ApiResult<ApprovalPolicies> {
    send(Method::PUT, "/policies", Some(body)).await
}

pub async fn users() -> ApiResult<Vec<User>> {
    send(Method::GET, "/users", None::<&()>).await
}

pub async fn create_user(body: &NewUser) -> ApiResult<User> {
    send(Method::POST, "/users", Some(body)).await
}

pub async fn update_user(id: &str, body: &UserUpdate) -> ApiResult<User> {
    send(Method::PUT, &format!("/users/{}", encode(id)), Some(body)).await
}

/// Filters of the audit log, as kept in the URL query; empty strings are left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditQuery {
    pub actor: String,
    pub action: String,
    pub object_id: String,
    /// RFC 3339 bounds.
    pub from: String,
    pub to: String,
    pub page: u32,
}

impl AuditQuery {
    pub fn params(&self) -> Vec<(&'static str, String)> {
        [
            ("actor", &self.actor),
            ("action", &self.action),
            ("object_id", &self.object_id),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k, v.trim().to_string()))
        .collect()
    }

    /// The export's URL with the same filters (a plain link: the browser sends the cookie).
    pub fn export_href(&self, format: &str) -> String {
        let mut p = self.params();
        p.push(("format", format.to_string()));
        format!("{BASE}/audit/export{}", query(&p))
    }
}

pub async fn audit(q: &AuditQuery, per_page: u32) -> ApiResult<AuditPage> {
    let mut p = q.params();
    p.push(("page", q.page.max(1).to_string()));
    p.push(("per_page", per_page.to_string()));
    send(Method::GET, &format!("/audit{}", query(&p)), None::<&()>).await
}

pub async fn teams() -> ApiResult<Vec<Team>> {
    send(Method::GET, "/teams", None::<&()>).await
}

/// Creates a team; the answer carries its webhook signing secret, shown this once.
pub async fn create_team(body: &TeamInput) -> ApiResult<CreatedTeam> {
    send(Method::POST, "/teams", Some(body)).await
}

pub async fn update_team(id: &str, body: &TeamInput) -> ApiResult<Team> {
    send(Method::PUT, &format!("/teams/{}", encode(id)), Some(body)).await
}

/// Rotates the team's webhook signing secret; the answer is the only time it is shown.
pub async fn rotate_team_secret(id: &str) -> ApiResult<WebhookSecret> {
    let path = format!("/teams/{}/secret", encode(id));
    send(Method::POST, &path, None::<&()>).await
}

/// A new Atom feed URL (with its token) for the team; shown once.
pub async fn create_feed_token(id: &str) -> ApiResult<FeedToken> {
    let path = format!("/teams/{}/feed-token", encode(id));
    send(Method::POST, &path, None::<&()>).await
}

pub async fn notices(change_id: &str) -> ApiResult<Vec<Notice>> {
    let path = format!("/changes/{}/notices", encode(change_id));
    send(Method::GET, &path, None::<&()>).await
}

pub async fn create_notice(change_id: &str, body: &NoticeInput) -> ApiResult<Notice> {
    let path = format!("/changes/{}/notices", encode(change_id));
    send(Method::POST, &path, Some(body)).await
}

/// Edits a notice; a published one becomes a new revision that needs fresh acknowledgements.
pub async fn update_notice(id: &str, body: &NoticeInput) -> ApiResult<Notice> {
    send(Method::PUT, &format!("/notices/{}", encode(id)), Some(body)).await
}

pub async fn publish_notice(id: &str) -> ApiResult<Notice> {
    let path = format!("/notices/{}/publish", encode(id));
    send(Method::POST, &path, None::<&()>).await
}

/// Acknowledges the notice for `team_id`, a team the user belongs to.
/// Answers the notice with its acknowledgements.
pub async fn acknowledge(id: &str, team_id: &str) -> ApiResult<Notice> {
    let path = format!("/notices/{}/acknowledgements", encode(id));
    let body = AcknowledgeBody {
        team_id: team_id.to_string(),
    };
    let notice = send(Method::POST, &path, Some(&body)).await?;
    // Acknowledging is reading: it leaves the user's unread list too.
    mark_read(id).await?;
    Ok(notice)
}

pub async fn mark_read(id: &str) -> ApiResult<()> {
    let path = format!("/notices/{}/read", encode(id));
    let _: serde::de::IgnoredAny = send(Method::POST, &path, None::<&()>).await?;
    Ok(())
}

pub async fn unread() -> ApiResult<UnreadNotices> {
    send(Method::GET, "/notices/unread", None::<&()>).await
}

/// How many notices the user has not read: the count of [`unread`] without decoding the
/// notices, for the top bar's badge.
pub async fn unread_count() -> ApiResult<usize> {
    #[derive(Deserialize)]
    struct Count {
        count: usize,
    }
    let unread: Count = send(Method::GET, "/notices/unread", None::<&()>).await?;
    Ok(unread.count)
}

pub async fn feed(q: &FeedQuery) -> ApiResult<Feed> {
    let path = format!("/feed{}", query(&q.params()));
    send(Method::GET, &path, None::<&()>).await
}

pub async fn deliveries() -> ApiResult<Vec<Delivery>> {
    send(Method::GET, "/deliveries", None::<&()>).await
}

pub async fn resend_delivery(id: &str) -> ApiResult<()> {
    let path = format!("/deliveries/{}/resend", encode(id));
    let _: serde::de::IgnoredAny = send(Method::POST, &path, None::<&()>).await?;
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
pub fn decode<T: DeserializeOwned>(text: &str) -> ApiResult<T> {
    serde_json::from_str(text)
        .map_err(|e| ApiError::Transport(format!("unexpected answer from the server ({e})")))
}

/// Percent-encodes a path segment or query value (ids and filter names are plain, but a
/// hand-typed URL may not be).
pub fn encode(s: &str) -> String {
    String::from(js_sys::encode_uri_component(s))
}
