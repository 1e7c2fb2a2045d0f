//! Who may call what. Each handler names its caller in its signature, once:
//! `actor: Require<Editors>` (a signed-in user holding one of `shared::access::EDITORS`),
//! `Require<AnyUser>`, an [`IngestToken`](super::ingest_auth::IngestToken), or nothing for a
//! public route. Registering the handler with [`route!`](crate::route) reads that type
//! ([`Declared`]) and writes it as the operation's OpenAPI `security`; [`table`] is derived
//! back from the document, and from it the [`authorize`] middleware enforces every rule before
//! any handler runs, and `openapi::complete` documents the 401/403. A route registered without
//! a declaration has no rule and is refused (denied by default); `tests/authz.rs` walks every
//! route of the document × every role.
//!
//! Signed-in callers carry the `rollgate_session` cookie. Writes made with it must also send
//! the session's CSRF token in `X-CSRF-Token` and come from the same site (`Sec-Fetch-Site`,
//! `Origin`): SameSite=Strict already keeps the cookie off cross-site requests in current
//! browsers; the token covers older ones and same-site subdomains.

use std::net::SocketAddr;

use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::OnceLock;

use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shared::access::Audience;
use shared::auth::{Role, User};
use shared::tokens::TokenScope;
use utoipa::openapi::security::SecurityRequirement;
use utoipa_axum::router::UtoipaMethodRouter;

use crate::AppState;
use crate::app::Actor;
use crate::db::{self, audit::Who};
use crate::error::{Error, Result};

pub const SESSION_COOKIE: &str = "rollgate_session";
pub const CSRF_HEADER: &str = "X-CSRF-Token";

pub use shared::access::{Rule, transition_roles};

/// The security scheme of signed-in users and of service tokens in the OpenAPI document.
pub const SESSION_SCHEME: &str = "session_cookie";
pub const TOKEN_SCHEME: &str = "ingest_token";
/// OFREP's other way to send the token: the `X-API-Key` header (evaluation only).
pub const API_KEY_SCHEME: &str = "api_key";

/// The scope of evaluating flags, as the route rule names it; a test checks it is
/// [`TokenScope::Evaluate`](shared::tokens::TokenScope)'s name.
pub const SCOPE_EVALUATE: &str = "evaluate";

/// An extractor type's say in who may call: `Some` for the extractors that identify the
/// caller ([`Require`], the ingestion token), `None` for the others. Every extractor a
/// handler takes implements it, so that a handler's rule is read from its signature.
pub trait Caller {
    const RULE: Option<Rule> = None;
}

impl<T> Caller for axum::extract::State<T> {}
impl<T> Caller for axum::Extension<T> {}
impl Caller for HeaderMap {}
impl<T> Caller for super::extract::Json<T> {}
impl<T> Caller for super::extract::Path<T> {}
impl<T> Caller for super::extract::Query<T> {}
impl Caller for ClientAddress {}
impl Caller for super::etag::IfNoneMatch {}
impl Caller for super::ingest_auth::IngestToken {
    const RULE: Option<Rule> = Some(Rule::ServiceToken(db::tokens::SCOPE_INGEST));
}
impl Caller for super::evaluate_auth::EvaluateToken {
    const RULE: Option<Rule> = Some(Rule::ServiceToken(SCOPE_EVALUATE));
}
impl Caller for super::evaluate_auth::OfrepBody {}
impl Caller for super::evaluate_auth::OfrepKey {}
impl<A: Audience> Caller for Require<A> {
    const RULE: Option<Rule> = Some(A::RULE);
}

/// A handler's rule, read from the types of its arguments: the one [`Caller`] that names
/// one, or [`Rule::Public`] when none does.
pub trait Declared<Args> {
    fn rule() -> Rule;
}

macro_rules! declared {
    ($($arg:ident),*) => {
        impl<F, Fut, $($arg: Caller),*> Declared<($($arg,)*)> for F
        where
            F: FnOnce($($arg),*) -> Fut,
        {
            fn rule() -> Rule {
                let named: &[Option<Rule>] = &[$($arg::RULE),*];
                let mut named = named.iter().flatten();
                let rule = named.next().copied().unwrap_or(Rule::Public);
                assert!(named.next().is_none(), "a handler names two callers");
                rule
            }
        }
    };
}

declared!();
declared!(A1);
declared!(A1, A2);
declared!(A1, A2, A3);
declared!(A1, A2, A3, A4);
declared!(A1, A2, A3, A4, A5);
declared!(A1, A2, A3, A4, A5, A6);

/// `routes!(handler)` with the handler's rule written into its operation's `security`:
/// an empty list for a public route, else the scheme with the roles (or token scope) as its
/// scopes (OpenAPI 3.1 lets a non-OAuth scheme list the roles it needs). Use it through
/// [`route!`](crate::route).
pub fn declared<H, Args>(
    _handler: &H,
    (schemas, mut paths, router): UtoipaMethodRouter<AppState>,
) -> UtoipaMethodRouter<AppState>
where
    H: Declared<Args>,
{
    let rule = H::rule();
    let security = requirement(rule);
    for (path, item) in paths.paths.iter_mut() {
        for (method, op) in [
            (Method::GET, &mut item.get),
            (Method::PUT, &mut item.put),
            (Method::POST, &mut item.post),
            (Method::DELETE, &mut item.delete),
            (Method::PATCH, &mut item.patch),
        ] {
            let Some(op) = op else { continue };
            let mut security = security.clone();
            // The routes a `ci` token may call also take it, as a second way in; the first
            // requirement stays the rule the table is derived from.
            if matches!(rule, Rule::AnyUser | Rule::Roles(_))
                && ci_may_call(&method, &format!("/api/v1{path}"))
            {
                security.push(SecurityRequirement::new(
                    TOKEN_SCHEME,
                    [TokenScope::Ci.as_str()],
                ));
            }
            op.security = Some(security);
        }
    }
    (schemas, paths, router)
}

fn requirement(rule: Rule) -> Vec<SecurityRequirement> {
    let scopes = |names: Vec<&str>| names.into_iter().map(str::to_owned).collect::<Vec<_>>();
    match rule {
        Rule::Public => vec![],
        Rule::AnyUser => vec![SecurityRequirement::new(SESSION_SCHEME, scopes(vec![]))],
        Rule::Roles(roles) => vec![SecurityRequirement::new(
            SESSION_SCHEME,
            scopes(roles.iter().map(|r| r.as_str()).collect()),
        )],
        // Evaluation takes the token as a bearer token or in `X-API-Key`, as OFREP says.
        Rule::ServiceToken(scope) if scope == SCOPE_EVALUATE => vec![
            SecurityRequirement::new(TOKEN_SCHEME, scopes(vec![scope])),
            SecurityRequirement::new(API_KEY_SCHEME, scopes(vec![scope])),
        ],
        Rule::ServiceToken(scope) => {
            vec![SecurityRequirement::new(TOKEN_SCHEME, scopes(vec![scope]))]
        }
    }
}

/// The rule an operation's `security` declares; `None` when it declares none.
fn declared_rule(security: Option<&Vec<SecurityRequirement>>) -> Option<Rule> {
    let security = serde_json::to_value(security?).ok()?;
    let Some(first) = security.as_array()?.first() else {
        return Some(Rule::Public);
    };
    let (scheme, scopes) = first.as_object()?.iter().next()?;
    let scopes: Vec<&str> = scopes
        .as_array()?
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    match scheme.as_str() {
        TOKEN_SCHEME => match scopes[..] {
            [scope] if scope == db::tokens::SCOPE_INGEST => {
                Some(Rule::ServiceToken(db::tokens::SCOPE_INGEST))
            }
            [scope] if scope == SCOPE_EVALUATE => Some(Rule::ServiceToken(SCOPE_EVALUATE)),
            _ => None,
        },
        SESSION_SCHEME if scopes.is_empty() => Some(Rule::AnyUser),
        SESSION_SCHEME => {
            let roles: Vec<Role> = scopes
                .iter()
                .map(|s| Role::parse(s))
                .collect::<Option<_>>()?;
            shared::access::ROLE_SETS
                .iter()
                .find(|set| **set == roles.as_slice())
                .map(|set| Rule::Roles(set))
        }
        _ => None,
    }
}

/// Every API route and its rule, as declared by the handlers (method, matched path, rule).
pub type Table = Vec<(Method, String, Rule)>;

/// The table of the API's routes, derived once from the document [`super::api`] builds.
pub fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| derive(&super::api().split_for_parts().1))
}

/// Each operation of `doc` with the rule its `security` declares; an operation declaring none
/// is left out, and so refused.
pub fn derive(doc: &utoipa::openapi::OpenApi) -> Table {
    let mut table = Vec::new();
    for (path, item) in &doc.paths.paths {
        let ops = [
            (Method::GET, &item.get),
            (Method::PUT, &item.put),
            (Method::POST, &item.post),
            (Method::DELETE, &item.delete),
            (Method::PATCH, &item.patch),
        ];
        for (method, op) in ops {
            if let Some(rule) = op
                .as_ref()
                .and_then(|op| declared_rule(op.security.as_ref()))
            {
                table.push((method, path.clone(), rule));
            }
        }
    }
    table
}

/// The rule of a route; HEAD follows GET (axum answers HEAD with the GET handler).
pub fn rule(method: &Method, path: &str) -> Option<Rule> {
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    table()
        .iter()
        .find(|(m, p, _)| m == method && p == path)
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
    /// Set when the caller is a `ci` service token rather than a person: `user` is then its
    /// [`ci_actor`](crate::app::tokens::ci_actor) and `session_id` is `token:<id>` (the key of
    /// its read rate limit).
    pub token: Option<CiToken>,
}

/// A `ci` service token calling a session route (`Authorization: Bearer rg_ing_…` or
/// `X-API-Key`), limited to [`CI_ROUTES`] and, when `change_ids` is not empty, to those changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiToken {
    pub id: String,
    pub name: String,
    pub change_ids: Vec<String>,
}

impl AuthUser {
    /// The user as the use cases see them.
    pub fn actor(&self) -> Actor {
        match &self.token {
            Some(t) => crate::app::tokens::ci_actor(&t.name, Some(self.address.clone())),
            None => Actor::new(self.user.clone(), Some(self.address.clone())),
        }
    }

    /// The audit log's name for this user.
    pub fn who(&self) -> Who {
        self.actor().who()
    }
}

/// The signed-in caller of a route open to the audience `A` (`Require<Editors>`,
/// `Require<AnyUser>`): the handler's declaration of who may call it, which the
/// authorization table is derived from. Derefs to the [`AuthUser`].
#[derive(Debug, Clone)]
pub struct Require<A> {
    caller: AuthUser,
    audience: PhantomData<A>,
}

impl<A> Require<A> {
    /// The signed-in user, by value.
    pub fn into_inner(self) -> AuthUser {
        self.caller
    }
}

impl<A> Deref for Require<A> {
    type Target = AuthUser;

    fn deref(&self) -> &AuthUser {
        &self.caller
    }
}

impl<A: Audience, S: Send + Sync> FromRequestParts<S> for Require<A> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self> {
        // Only `authorize` puts the user there, after checking the session and the roles of
        // the same rule; checking again costs nothing and holds should the two ever differ.
        let user = parts
            .extensions
            .get::<AuthUser>()
            .cloned()
            .ok_or_else(not_signed_in)?;
        if let Rule::Roles(roles) = A::RULE {
            let path = parts
                .extensions
                .get::<MatchedPath>()
                .map_or_else(|| parts.uri.path().to_owned(), |m| m.as_str().to_owned());
            user.actor()
                .require(roles, &format!("{} {path}", parts.method))?;
        }
        Ok(Require {
            caller: user,
            audience: PhantomData,
        })
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

/// Enforces the [`table`] on every matched API route.
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
        None if table().iter().any(|(_, p, _)| *p == path) => {
            return Err(Error::MethodNotAllowed);
        }
        None => {
            return Err(Error::internal(format!(
                "no authorization rule for {} {path}; register the handler with route!",
                parts.method
            )));
        }
    };
    let roles = match rule {
        Rule::Public | Rule::ServiceToken(_) => return Ok(()),
        Rule::AnyUser => None,
        Rule::Roles(roles) => Some(roles),
    };
    if let Some(secret) = service_credentials(&parts.headers).map(str::to_owned) {
        let user = ci_caller(state, parts, &path, &secret).await?;
        if let Some(roles) = roles {
            user.actor()
                .require(roles, &format!("{} {path}", parts.method))?;
        }
        parts.extensions.insert(user);
        return Ok(());
    }
    let token = session_cookie(&parts.headers).ok_or_else(not_signed_in)?;
    let session = db::users::find_session(&state.pool, token, &db::now())
        .await?
        .ok_or_else(|| {
            Error::unauthorized("your session has ended or is not valid; sign in again")
        })?;
    if is_write(&parts.method) {
        same_site(state, &parts.headers)?;
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
        token: None,
    };
    if let Some(roles) = roles {
        user.actor()
            .require(roles, &format!("{} {path}", parts.method))?;
    }
    parts.extensions.insert(user);
    Ok(())
}

/// The routes a `ci` token may call (method, matched path; HEAD follows GET): read changes,
/// their gates, metrics and eval results; create and edit changes, their flag rules and
/// catalogues; upload eval results; request transitions (which ones is the engineer's say,
/// `shared::access::transition_roles`). Every other session route answers 403 to a token:
/// signing gates, notices, and managing people, teams, policies, tokens and deliveries need a
/// person. Metric windows go through the ingestion route, with the `ingest` scope.
pub const CI_ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/changes"),
    ("POST", "/api/v1/changes"),
    ("GET", "/api/v1/changes/{id}"),
    ("PUT", "/api/v1/changes/{id}"),
    ("PUT", "/api/v1/changes/{id}/flag-rules"),
    ("GET", "/api/v1/changes/{id}/catalogue"),
    ("PUT", "/api/v1/changes/{id}/catalogue"),
    ("POST", "/api/v1/changes/{id}/transitions"),
    ("GET", "/api/v1/changes/{id}/gate"),
    ("GET", "/api/v1/changes/{id}/metrics/summary"),
    ("GET", "/api/v1/changes/{id}/metrics/series"),
    ("GET", "/api/v1/changes/{id}/eval-results"),
    ("POST", "/api/v1/changes/{id}/eval-results"),
    ("GET", "/api/v1/templates"),
];

/// The routes under one change, whose `{id}` a token limited to some changes must hold.
const CHANGE_ROUTES: &str = "/api/v1/changes/{id}";

/// Whether a `ci` token may call `method path` at all.
pub fn ci_may_call(method: &Method, path: &str) -> bool {
    let method = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    CI_ROUTES
        .iter()
        .any(|(m, p)| method.as_str() == *m && path == *p)
}

/// A service token's secret, when the request carries one (`Authorization: Bearer …` or
/// `X-API-Key`) and is to be judged by it: always when it looks like a Rollgate secret, else
/// only without a session cookie. A proxy in front of the console may add its own
/// `Authorization` (Basic, or a bearer token of its own) to every request; the people behind
/// it are still signed in by their cookie.
fn service_credentials(headers: &HeaderMap) -> Option<&str> {
    let sent = match headers.get(header::AUTHORIZATION) {
        Some(value) => super::ingest_auth::bearer(value.as_bytes()),
        None => headers
            .get(super::evaluate_auth::API_KEY_HEADER)
            .map(|v| v.to_str().unwrap_or_default().trim()),
    }?;
    (db::tokens::looks_like_secret(sent) || session_cookie(headers).is_none()).then_some(sent)
}

/// The `ci` token behind `secret` as the caller of `method path`: 401 for an unknown or
/// revoked token, 403 when it lacks the scope `ci`, when the route is not one of [`CI_ROUTES`],
/// or when the token is limited to other changes.
async fn ci_caller(
    state: &AppState,
    parts: &mut Parts,
    path: &str,
    secret: &str,
) -> Result<AuthUser> {
    let unknown = || {
        Error::unauthorized(format!(
            "unknown service token; send a token of scope `{}` as `Authorization: Bearer \
             {}…`, or sign in",
            TokenScope::Ci.as_str(),
            shared::tokens::SECRET_PREFIX
        ))
    };
    if !db::tokens::looks_like_secret(secret) {
        return Err(unknown());
    }
    let (token, last_used) = db::tokens::find_for_use(&state.pool, secret)
        .await?
        .ok_or_else(unknown)?;
    if let Some(at) = token.revoked_at {
        return Err(Error::unauthorized(format!(
            "the service token \"{}\" ({}…) was revoked at {at}",
            token.name, token.prefix
        )));
    }
    if !token.scopes.contains(&TokenScope::Ci) {
        return Err(Error::forbidden(format!(
            "the service token \"{}\" lacks the scope `{}`; create a token with it to drive \
             changes from a pipeline",
            token.name,
            TokenScope::Ci.as_str()
        )));
    }
    let method = parts.method.clone();
    if !ci_may_call(&method, path) {
        return Err(Error::forbidden(format!(
            "{method} {path} needs a person: a `ci` token may read and edit changes, upload \
             eval results and request transitions, but not sign gates or manage people, \
             teams, policies or tokens"
        )));
    }
    if !token.change_ids.is_empty() {
        let limited = || {
            Error::forbidden(format!(
                "the service token \"{}\" is limited to other changes",
                token.name
            ))
        };
        if method == Method::POST && path == "/api/v1/changes" {
            return Err(Error::forbidden(format!(
                "the service token \"{}\" is limited to some changes and cannot create one; \
                 use a workspace-wide token",
                token.name
            )));
        }
        if path.starts_with(CHANGE_ROUTES) {
            let params = axum::extract::RawPathParams::from_request_parts(parts, state)
                .await
                .map_err(|_| limited())?;
            let id = params
                .iter()
                .find(|(name, _)| *name == "id")
                .map(|(_, v)| v.to_owned());
            if !id.is_some_and(|id| token.change_ids.contains(&id)) {
                return Err(limited());
            }
        }
    }
    super::ingest_auth::record_use(state, &token.id, last_used.as_deref()).await;
    let address = address(parts, &state.trusted_proxies);
    let actor = crate::app::tokens::ci_actor(&token.name, Some(address.clone()));
    Ok(AuthUser {
        user: actor.user,
        session_id: format!("token:{}", token.id),
        csrf_token: String::new(),
        expires_at: String::new(),
        address,
        token: Some(CiToken {
            id: token.id,
            name: token.name,
            change_ids: token.change_ids,
        }),
    })
}

fn is_write(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// 403 `csrf` when the browser says the request comes from another site: `Sec-Fetch-Site:
/// cross-site`, or an `Origin` that is not the server's own origin. Scheme, host and port all
/// count: a page on `http://rollgate.example.org` (a network attacker can serve one) is another
/// site to a console on `https://rollgate.example.org`. The server's origin is `--public-url`
/// when set; else the `Host` the request was sent to, over https when the session cookie is
/// `Secure` (the server speaks plain HTTP itself, so TLS means a proxy in front) and http
/// otherwise.
pub fn same_site(state: &AppState, headers: &HeaderMap) -> Result<()> {
    let refuse =
        || Error::Csrf("this request comes from another site; use the Rollgate console".to_owned());
    if headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
    {
        return Err(refuse());
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin
        .to_str()
        .ok()
        .and_then(origin_of)
        .ok_or_else(refuse)?;
    let own = match state.public_url.as_deref() {
        Some(url) => origin_of(url),
        None => headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .and_then(|host| {
                let scheme = if state.secure_cookies {
                    "https"
                } else {
                    "http"
                };
                origin_of(&format!("{scheme}://{host}"))
            }),
    };
    if own.as_ref() != Some(&origin) {
        return Err(refuse());
    }
    Ok(())
}

/// The (scheme, host, port) of an http(s) URL, lower-cased, with the scheme's default port
/// filled in; `None` for anything else (`null`, other schemes, user info).
fn origin_of(url: &str) -> Option<(String, String, u16)> {
    let uri: axum::http::Uri = url.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let authority = uri.authority()?;
    if authority.as_str().contains('@') {
        return None;
    }
    let port = authority.port_u16().unwrap_or(default_port);
    Some((scheme, authority.host().to_ascii_lowercase(), port))
}

/// The session token of the `rollgate_session` cookie, if sent.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(std::result::Result::ok)
        .find(|c| c.name() == SESSION_COOKIE)
        .and_then(|c| c.value_raw())
        .filter(|v| !v.is_empty())
}

/// Compares secrets without an early exit, so the time taken does not reveal how many leading
/// characters were right (only whether the lengths differ, and every CSRF token has one length).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    bool::from(subtle::ConstantTimeEq::ct_eq(a, b))
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

    fn state(public_url: Option<&str>, secure: bool) -> AppState {
        let pool = sqlx::pool::PoolOptions::<sqlx::Any>::new()
            .connect_lazy("sqlite::memory:")
            .expect("lazy pool");
        AppState::new(pool, crate::db::Backend::Sqlite, "dist")
            .with_public_url(public_url.map(str::to_owned))
            .with_secure_cookies(secure)
    }

    #[tokio::test]
    async fn cross_site_requests_are_refused() {
        sqlx::any::install_default_drivers();
        let plain = state(None, false);
        assert!(same_site(&plain, &headers(&[])).is_ok());
        assert!(same_site(&plain, &headers(&[("sec-fetch-site", "same-origin")])).is_ok());
        assert!(same_site(&plain, &headers(&[("sec-fetch-site", "cross-site")])).is_err());
        let from = |origin: &str, host: &str| headers(&[("origin", origin), ("host", host)]);
        assert!(same_site(&plain, &from("http://rg.example.org", "rg.example.org")).is_ok());
        assert!(same_site(&plain, &from("HTTP://RG.example.org:80", "rg.example.org")).is_ok());
        assert!(same_site(&plain, &from("https://evil.example", "rg.example.org")).is_err());
        assert!(same_site(&plain, &from("http://rg.example.org:81", "rg.example.org")).is_err());
        assert!(same_site(&plain, &from("null", "x")).is_err());
        assert!(same_site(&plain, &from("http://a@x", "x")).is_err());
        // Behind a TLS proxy (Secure cookies), a plain-http page on the same host is another site.
        let tls = state(None, true);
        assert!(same_site(&tls, &from("https://rg.example.org", "rg.example.org")).is_ok());
        assert!(same_site(&tls, &from("http://rg.example.org", "rg.example.org")).is_err());
        // The configured public address wins over the Host header.
        let public = state(Some("https://rg.example.org/console"), false);
        assert!(same_site(&public, &from("https://rg.example.org", "internal:8080")).is_ok());
        assert!(same_site(&public, &from("https://rg.example.org:443", "x")).is_ok());
        assert!(same_site(&public, &from("http://rg.example.org", "rg.example.org")).is_err());
        assert!(same_site(&public, &from("https://internal:8080", "internal:8080")).is_err());
    }

    #[test]
    fn tokens_are_read_unless_a_proxy_added_its_own_to_a_session() {
        let secret = format!("rg_ing_{}", "A".repeat(43));
        let bearer = format!("Bearer {secret}");
        let cookie = "rollgate_session=s";
        assert_eq!(
            service_credentials(&headers(&[("authorization", &bearer)])),
            Some(secret.as_str())
        );
        assert_eq!(
            service_credentials(&headers(&[("authorization", &bearer), ("cookie", cookie)])),
            Some(secret.as_str())
        );
        assert_eq!(
            service_credentials(&headers(&[("x-api-key", &secret)])),
            Some(secret.as_str())
        );
        // A proxy's own credentials beside a session: the session decides.
        for theirs in ["Bearer eyJhbGciOi.x.y", "Basic dXNlcjpwYXNz"] {
            let h = headers(&[("authorization", theirs), ("cookie", cookie)]);
            assert_eq!(service_credentials(&h), None, "{theirs}");
        }
        // Without a session, a bearer token is judged (and refused) as one.
        assert_eq!(
            service_credentials(&headers(&[("authorization", "Bearer nope")])),
            Some("nope")
        );
        assert_eq!(service_credentials(&headers(&[("cookie", cookie)])), None);
    }

    #[test]
    fn ci_tokens_read_with_get_and_head() {
        assert!(ci_may_call(&Method::HEAD, "/api/v1/changes/{id}"));
        assert!(ci_may_call(
            &Method::POST,
            "/api/v1/changes/{id}/transitions"
        ));
        assert!(!ci_may_call(
            &Method::POST,
            "/api/v1/changes/{id}/approvals"
        ));
        assert!(!ci_may_call(&Method::POST, "/api/v1/tokens"));
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn rules_survive_the_document_and_undeclared_routes_have_none() {
        for rule in [
            Rule::Public,
            Rule::AnyUser,
            Rule::Roles(shared::access::EDITORS),
            Rule::Roles(shared::access::AUDITORS),
            Rule::ServiceToken(db::tokens::SCOPE_INGEST),
            Rule::ServiceToken(SCOPE_EVALUATE),
        ] {
            assert_eq!(declared_rule(Some(&requirement(rule))), Some(rule));
        }
        assert_eq!(
            SCOPE_EVALUATE,
            shared::tokens::TokenScope::Evaluate.as_str()
        );
        assert_eq!(declared_rule(None), None);
        let unknown = vec![SecurityRequirement::new(SESSION_SCHEME, ["nobody"])];
        assert_eq!(declared_rule(Some(&unknown)), None);
    }

    #[test]
    fn every_route_of_the_api_has_a_rule() {
        let (_, doc) = super::super::api().split_for_parts();
        let operations: usize = doc
            .paths
            .paths
            .values()
            .map(|i| {
                [&i.get, &i.put, &i.post, &i.delete, &i.patch]
                    .into_iter()
                    .flatten()
                    .count()
            })
            .sum();
        assert_eq!(table().len(), operations);
        assert_eq!(
            rule(&Method::POST, "/api/v1/changes/{id}/transitions"),
            Some(Rule::Roles(shared::access::MOVERS))
        );
    }

    #[test]
    fn head_follows_get_and_unknown_routes_have_no_rule() {
        assert_eq!(rule(&Method::HEAD, "/api/v1/changes"), Some(Rule::AnyUser));
        assert_eq!(rule(&Method::DELETE, "/api/v1/changes"), None);
    }
}
