//! Who may call what: one table, [`POLICY`], maps every API route (method and matched path)
//! to a [`Rule`]; the [`authorize`] middleware enforces it before any handler runs. A route
//! missing from the table is refused (denied by default), and `tests/authz.rs` walks every
//! route of the OpenAPI document × every role so that a new route without a rule fails.
//!
//! Signed-in callers carry the `rollgate_session` cookie. Writes made with it must also send
//! the session's CSRF token in `X-CSRF-Token` and come from the same site (`Sec-Fetch-Site`,
//! `Origin`): SameSite=Strict already keeps the cookie off cross-site requests in current
//! browsers; the token covers older ones and same-site subdomains.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shared::auth::{Role, User};
use shared::rollout::TransitionAction;

use crate::AppState;
use crate::app::Actor;
use crate::db::{self, audit::Who};
use crate::error::{Error, Result};

pub const SESSION_COOKIE: &str = "rollgate_session";
pub const CSRF_HEADER: &str = "X-CSRF-Token";

/// What a route asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user.
    AnyUser,
    /// A signed-in user holding at least one of these roles.
    Roles(&'static [Role]),
    /// A service token of this scope (`Authorization: Bearer rg_ing_…`), checked by the
    /// route's extractor; session cookies do not count.
    ServiceToken(&'static str),
}

use Role::{Admin, Approver, Engineer, Pm};
use Rule::{AnyUser, Public, Roles, ServiceToken};

/// Create and edit a change and its metric catalogue.
pub const EDITORS: &[Role] = &[Engineer, Pm, Admin];
/// Users, roles, service tokens, approval policies.
pub const ADMINS: &[Role] = &[Admin];
/// Read and export the audit log.
pub const AUDITORS: &[Role] = &[Admin, Approver, Pm];
/// Anyone who may make at least one transition; [`transition_roles`] decides per action.
pub const MOVERS: &[Role] = &[Engineer, Approver, Admin];

/// Who may make a transition. Rolling back is open to approvers too and never waits for a
/// gate; skipping needs an admin (and the written justification the state machine asks for).
pub fn transition_roles(action: TransitionAction) -> &'static [Role] {
    match action {
        TransitionAction::Advance => &[Engineer, Admin],
        TransitionAction::Skip => &[Admin],
        TransitionAction::RollBack => &[Engineer, Approver, Admin],
    }
}

/// Every API route. Signing a gate is open to any user here; the handler checks the role
/// signed as against the gate's policy (which an admin can change at run time).
pub const POLICY: &[(&str, &str, Rule)] = &[
    ("GET", "/api/v1/health", Public),
    ("GET", "/api/v1/openapi.json", Public),
    ("POST", "/api/v1/session", Public),
    ("GET", "/api/v1/session", AnyUser),
    ("DELETE", "/api/v1/session", AnyUser),
    ("GET", "/api/v1/session/demo-users", Public),
    ("GET", "/api/v1/templates", AnyUser),
    ("GET", "/api/v1/changes", AnyUser),
    ("POST", "/api/v1/changes", Roles(EDITORS)),
    ("GET", "/api/v1/changes/{id}", AnyUser),
    ("PUT", "/api/v1/changes/{id}", Roles(EDITORS)),
    ("POST", "/api/v1/changes/{id}/transitions", Roles(MOVERS)),
    ("GET", "/api/v1/changes/{id}/gate", AnyUser),
    ("POST", "/api/v1/changes/{id}/approvals", AnyUser),
    ("GET", "/api/v1/approvals", AnyUser),
    ("GET", "/api/v1/changes/{id}/catalogue", AnyUser),
    ("PUT", "/api/v1/changes/{id}/catalogue", Roles(EDITORS)),
    (
        "POST",
        "/api/v1/changes/{id}/metrics",
        ServiceToken(db::tokens::SCOPE_INGEST),
    ),
    ("GET", "/api/v1/changes/{id}/metrics/summary", AnyUser),
    ("GET", "/api/v1/changes/{id}/metrics/series", AnyUser),
    ("GET", "/api/v1/tokens", Roles(ADMINS)),
    ("POST", "/api/v1/tokens", Roles(ADMINS)),
    ("DELETE", "/api/v1/tokens/{id}", Roles(ADMINS)),
    ("GET", "/api/v1/users", Roles(ADMINS)),
    ("POST", "/api/v1/users", Roles(ADMINS)),
    ("PUT", "/api/v1/users/{id}", Roles(ADMINS)),
    ("GET", "/api/v1/policies", AnyUser),
    ("PUT", "/api/v1/policies", Roles(ADMINS)),
    ("GET", "/api/v1/audit", Roles(AUDITORS)),
    ("GET", "/api/v1/audit/export", Roles(AUDITORS)),
    ("GET", "/api/v1/teams", AnyUser),
    ("POST", "/api/v1/teams", Roles(ADMINS)),
    ("PUT", "/api/v1/teams/{id}", Roles(ADMINS)),
    ("POST", "/api/v1/teams/{id}/secret", Roles(ADMINS)),
    ("POST", "/api/v1/teams/{id}/feed-token", Roles(ADMINS)),
    ("GET", "/api/v1/changes/{id}/notices", AnyUser),
    ("POST", "/api/v1/changes/{id}/notices", Roles(EDITORS)),
    ("PUT", "/api/v1/notices/{id}", Roles(EDITORS)),
    ("POST", "/api/v1/notices/{id}/publish", Roles(EDITORS)),
    // Any member of the team, checked by the handler: teams cut across roles.
    ("POST", "/api/v1/notices/{id}/acknowledgements", AnyUser),
    ("POST", "/api/v1/notices/{id}/read", AnyUser),
    ("GET", "/api/v1/notices/unread", AnyUser),
    ("GET", "/api/v1/feed", AnyUser),
    ("GET", "/api/v1/deliveries", Roles(ADMINS)),
    ("POST", "/api/v1/deliveries/{id}/resend", Roles(ADMINS)),
    // Feed readers send no cookie: the handler checks the team's feed token.
    ("GET", "/api/v1/teams/{id}/feed.atom", Public),
];

/// The rule of a route; HEAD follows GET (axum answers HEAD with the GET handler).
pub fn rule(method: &Method, path: &str) -> Option<Rule> {
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    POLICY
        .iter()
        .find(|(m, p, _)| *m == method && *p == path)
        .map(|(_, _, r)| *r)
}

/// The signed-in user of a request, put there by [`authorize`].
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: User,
    pub session_id: String,
    pub csrf_token: String,
    pub expires_at: String,
    /// The client's address, for the audit log.
    pub address: String,
}

impl AuthUser {
    /// The user as the use cases see them.
    pub fn actor(&self) -> Actor {
        Actor::new(self.user.clone(), Some(self.address.clone()))
    }

    /// The audit log's name for this user.
    pub fn who(&self) -> Who {
        self.actor().who()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for AuthUser {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self> {
        // Only `authorize` puts it there, after checking the session; a handler taking an
        // `AuthUser` on a route whose rule does not authenticate gets a 401, never a guess.
        parts
            .extensions
            .get::<AuthUser>()
            .cloned()
            .ok_or_else(not_signed_in)
    }
}

/// The client's address: the socket's peer (`serve` records it), or the client a trusted
/// proxy names in `X-Forwarded-For` ([`super::client_ip`]); `unknown` when the server was
/// built without socket information (tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> std::result::Result<Self, Self::Rejection> {
        Ok(ClientAddress(address(parts, &state.trusted_proxies)))
    }
}

fn address(parts: &Parts, trusted: &[super::client_ip::Cidr]) -> String {
    let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() else {
        return "unknown".to_owned();
    };
    let forwarded: Vec<&str> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    super::client_ip::client_ip(peer.ip(), &forwarded, trusted).to_string()
}

fn not_signed_in() -> Error {
    Error::unauthorized("sign in first: POST /api/v1/session with your e-mail and password")
}

/// Enforces [`POLICY`] on every matched API route.
pub async fn authorize(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    match check(&state, &mut parts).await {
        Ok(()) => next.run(Request::from_parts(parts, body)).await,
        Err(e) => e.into_response(),
    }
}

async fn check(state: &AppState, parts: &mut Parts) -> Result<()> {
    let Some(path) = parts
        .extensions
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
    else {
        return Err(Error::internal("authorization ran without a matched route"));
    };
    let rule = match rule(&parts.method, &path) {
        Some(r) => r,
        // The path is known but not with this method: axum would answer 405 anyway.
        None if POLICY.iter().any(|(_, p, _)| *p == path) => return Err(Error::MethodNotAllowed),
        None => {
            return Err(Error::internal(format!(
                "no authorization rule for {} {path}; add one to http::authz::POLICY",
                parts.method
            )));
        }
    };
    let roles = match rule {
        Public | ServiceToken(_) => return Ok(()),
        AnyUser => None,
        Roles(roles) => Some(roles),
    };
    let token = session_cookie(&parts.headers).ok_or_else(not_signed_in)?;
    let session = db::users::find_session(&state.pool, token, &db::now())
        .await?
        .ok_or_else(|| {
            Error::unauthorized("your session has ended or is not valid; sign in again")
        })?;
    if is_write(&parts.method) {
        same_site(&parts.headers)?;
        let sent = parts
            .headers
            .get(CSRF_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !constant_time_eq(sent, session.csrf_token.as_bytes()) {
            return Err(Error::Csrf(format!(
                "send the session's CSRF token (from GET /api/v1/session) in the {CSRF_HEADER} \
                 header"
            )));
        }
    }
    let user = AuthUser {
        user: session.user,
        session_id: session.id,
        csrf_token: session.csrf_token,
        expires_at: session.expires_at,
        address: address(parts, &state.trusted_proxies),
    };
    if let Some(roles) = roles {
        user.actor()
            .require(roles, &format!("{} {path}", parts.method))?;
    }
    parts.extensions.insert(user);
    Ok(())
}

fn is_write(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// 403 `csrf` when the browser says the request comes from another site: `Sec-Fetch-Site:
/// cross-site`, or an `Origin` whose host is not the `Host` the request was sent to.
pub fn same_site(headers: &HeaderMap) -> Result<()> {
    let refuse =
        || Error::Csrf("this request comes from another site; use the Rollgate console".to_owned());
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
    {
        return Err(refuse());
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().map_err(|_| refuse())?;
        let origin_host = origin
            .split_once("://")
            .map(|(_, rest)| rest.trim_end_matches('/'))
            .ok_or_else(refuse)?;
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .ok_or_else(refuse)?;
        if !origin_host.eq_ignore_ascii_case(host) {
            return Err(refuse());
        }
    }
    Ok(())
}

/// The session token of the `rollgate_session` cookie, if sent.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

/// Compares secrets without an early exit, so the time taken does not reveal how many leading
/// characters were right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn cookies_are_found_among_others() {
        let h = headers(&[("cookie", "a=1; rollgate_session=abc ; b=2")]);
        assert_eq!(session_cookie(&h), Some("abc"));
        assert_eq!(session_cookie(&headers(&[("cookie", "a=1")])), None);
        assert_eq!(
            session_cookie(&headers(&[("cookie", "rollgate_session=")])),
            None
        );
    }

    #[test]
    fn cross_site_requests_are_refused() {
        assert!(same_site(&headers(&[])).is_ok());
        assert!(same_site(&headers(&[("sec-fetch-site", "same-origin")])).is_ok());
        assert!(same_site(&headers(&[("sec-fetch-site", "cross-site")])).is_err());
        let ok = headers(&[
            ("origin", "https://rg.example.org"),
            ("host", "rg.example.org"),
        ]);
        assert!(same_site(&ok).is_ok());
        let evil = headers(&[
            ("origin", "https://evil.example"),
            ("host", "rg.example.org"),
        ]);
        assert!(same_site(&evil).is_err());
        assert!(same_site(&headers(&[("origin", "null"), ("host", "x")])).is_err());
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn head_follows_get_and_unknown_routes_have_no_rule() {
        assert_eq!(rule(&Method::HEAD, "/api/v1/changes"), Some(AnyUser));
        assert_eq!(rule(&Method::DELETE, "/api/v1/changes"), None);
    }
}
