//! `/api/v1/session`: signing in and out, and who is signed in. The rules (rate limit,
//! uniform answers, audit) are `app::session`'s; this module adds the cookie.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::access::AnyUser;
use shared::api::ErrorBody;
use shared::auth::{DemoUsers, LoginRequest, SessionInfo};
use time::Duration;
use utoipa_axum::router::OpenApiRouter;

use super::authz::{ClientAddress, Require, SESSION_COOKIE, same_site};
use super::extract::Json;
use crate::AppState;
use crate::accounts;
use crate::app::session::{self as sessions, SESSION_HOURS};
use crate::error::{Error, Result};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(crate::route!(login))
        .routes(crate::route!(current))
        .routes(crate::route!(logout))
        .routes(crate::route!(demo_users))
}

/// Signs in. Sets the `rollgate_session` cookie (HttpOnly, SameSite=Strict, Path=/, 12 h;
/// Secure over TLS) and answers the user and the CSRF token to send as `X-CSRF-Token` on
/// every write.
#[utoipa::path(
    post,
    path = "/session",
    tag = "session",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = SessionInfo,
         headers(("Set-Cookie" = String, description = "`rollgate_session=…; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200`"))),
        (status = 401, description = "Wrong e-mail or password (the same answer for both)", body = ErrorBody),
        (status = 403, description = "`csrf`: sent from another site", body = ErrorBody),
        (status = 422, description = "A field is missing", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many failures; see `Retry-After`", body = ErrorBody,
         headers(("Retry-After" = u64, description = "Seconds to wait"))),
    )
)]
async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Json(body): Json<LoginRequest>,
) -> Result<Response> {
    same_site(&state, &headers)?;
    let signed_in = sessions::sign_in(
        &state.pool,
        &state.passwords,
        &body.email,
        &body.password,
        &address,
    )
    .await?;
    let cookie = set_cookie(
        &signed_in.token,
        Duration::hours(SESSION_HOURS),
        secure(&state, &headers),
    );
    Ok(([(header::SET_COOKIE, cookie)], Json(signed_in.info)).into_response())
}

/// `Secure` when the server is configured for TLS or a TLS-terminating proxy says so.
fn secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}

/// The `Set-Cookie` value for the session cookie `token` (empty and `max_age` zero clear it):
/// HttpOnly so no script reads it, SameSite=Strict so no cross-site request carries it.
fn set_cookie(token: &str, max_age: Duration, secure: bool) -> String {
    cookie::Cookie::build((SESSION_COOKIE, token))
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .path("/")
        .max_age(max_age)
        .secure(secure)
        .to_string()
}

/// Who is signed in, with the CSRF token (e.g. after a reload of the console).
#[utoipa::path(
    get,
    path = "/session",
    tag = "session",
    responses(
        (status = 200, description = "The signed-in user", body = SessionInfo),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
async fn current(user: Require<AnyUser>) -> Json<SessionInfo> {
    let user = user.into_inner();
    Json(SessionInfo {
        user: user.user,
        csrf_token: user.csrf_token,
        expires_at: user.expires_at,
    })
}

/// Signs out: the session ends on the server at once, and the cookie is cleared.
#[utoipa::path(
    delete,
    path = "/session",
    tag = "session",
    params(("X-CSRF-Token" = String, Header, description = "The session's CSRF token")),
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "`csrf`: no or a wrong CSRF token", body = ErrorBody),
    )
)]
async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    user: Require<AnyUser>,
) -> Result<Response> {
    sessions::sign_out(&state.pool, &user.who(), &user.session_id).await?;
    let cookie = set_cookie("", Duration::ZERO, secure(&state, &headers));
    let mut res = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// The demo accounts and their password, for the login page. Only in demo mode
/// (`rollgate serve --demo`); 404 otherwise.
#[utoipa::path(
    get,
    path = "/session/demo-users",
    tag = "session",
    responses(
        (status = 200, description = "The demo accounts", body = DemoUsers),
        (status = 404, description = "Not a demo workspace", body = ErrorBody),
    )
)]
async fn demo_users(State(state): State<AppState>) -> Result<Json<DemoUsers>> {
    if !state.demo {
        return Err(Error::not_found(
            "demo users (this is not a demo workspace)",
        ));
    }
    Ok(Json(DemoUsers {
        password: accounts::DEMO_PASSWORD.to_owned(),
        users: accounts::demo_users(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_set_and_cleared_with_the_same_attributes() {
        assert_eq!(
            set_cookie("abc", Duration::hours(SESSION_HOURS), false),
            "rollgate_session=abc; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200"
        );
        assert_eq!(
            set_cookie("", Duration::ZERO, true),
            "rollgate_session=; HttpOnly; SameSite=Strict; Secure; Path=/; Max-Age=0"
        );
    }
}
