//! `/api/v1/session`: signing in and out, and who is signed in.
//!
//! Signing in answers the same (status, body, and about the same time: an unknown e-mail is
//! checked against a dummy Argon2 hash) for an unknown account, a disabled one and a wrong
//! password, so the answer does not tell which addresses have accounts. Failures are counted
//! in the database, per account and per client address; past the limit the answer is 429
//! with `Retry-After`, and the password is not even checked.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::access::AnyUser;
use shared::api::ErrorBody;
use shared::auth::{DemoUsers, LoginRequest, SessionInfo, email_key};
use time::{Duration, OffsetDateTime};
use utoipa_axum::router::OpenApiRouter;

use super::authz::{ClientAddress, Require, SESSION_COOKIE, same_site};
use super::extract::Json;
use crate::AppState;
use crate::accounts;
use crate::db::{self, audit::Record, audit::Who};
use crate::error::{Error, Result};

/// How long a session lasts: a working day, then sign in again.
pub const SESSION_HOURS: i64 = 12;
/// The window failures are counted over.
pub const FAILURE_WINDOW_MINUTES: i64 = 15;
/// Failures per account within the window before it is paused.
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failures per client address within the window (a shared office address tries several
/// accounts legitimately, hence more).
pub const MAX_FAILURES_PER_ADDRESS: i64 = 30;

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
    let key = email_key(&body.email);
    // Only something shaped like an e-mail is logged, cut short: a password typed into the
    // e-mail box must not end up in the audit log.
    let tried: String = body.email.trim().chars().take(254).collect();
    let looks_like_email = tried.contains('@') && !tried.chars().any(char::is_whitespace);
    let who = Who {
        id: None,
        label: if tried.is_empty() {
            "(empty)".into()
        } else if looks_like_email {
            tried
        } else {
            "(not an e-mail address)".into()
        },
        address: Some(address.clone()),
    };
    let now = OffsetDateTime::now_utc();
    let window = Duration::minutes(FAILURE_WINDOW_MINUTES);
    let since = db::timestamp(now - window);
    // Record the attempt first, then count: concurrent guesses each see the others, so a
    // burst cannot slip more than the limit past the check.
    let attempt =
        db::users::record_failure(&state.pool, &key, &address, &db::timestamp(now)).await?;
    let ((by_account, oldest_account), (by_address, oldest_address)) =
        db::users::recent_failures(&state.pool, &key, &address, &since).await?;
    let limited = [
        (by_account > MAX_FAILURES_PER_ACCOUNT, oldest_account),
        (by_address > MAX_FAILURES_PER_ADDRESS, oldest_address),
    ]
    .into_iter()
    .filter(|(hit, _)| *hit)
    .filter_map(|(_, oldest)| oldest)
    .max();
    if let Some(oldest) = limited {
        // No password was checked: this attempt must not extend the lock.
        db::users::forget_failure(&state.pool, &attempt).await?;
        let retry_after = retry_after(&oldest, now, window);
        audit_failure(&state, &who, "rate_limited").await?;
        return Err(Error::RateLimited {
            message: format!(
                "too many failed sign-ins; try again in {} minutes",
                retry_after.div_ceil(60)
            ),
            retry_after,
        });
    }

    let credentials = db::users::credentials(&state.pool, &body.email).await?;
    let usable = credentials.as_ref().filter(|c| !c.user.disabled);
    let ok = state
        .passwords
        .verify(&body.password, usable.map(|c| c.password_hash.as_str()))
        .await;
    let Some(credentials) = usable.filter(|_| ok) else {
        audit_failure(&state, &who, "bad_credentials").await?;
        return Err(Error::unauthorized("wrong e-mail or password"));
    };
    db::users::forget_failure(&state.pool, &attempt).await?;

    let user = credentials.user.clone();
    let token = db::tokens::random_token()?;
    let csrf_token = db::tokens::random_token()?;
    let at = db::timestamp(now);
    let expires_at = db::timestamp(now + Duration::hours(SESSION_HOURS));
    let who = Who {
        id: Some(user.id.clone()),
        label: user.email.clone(),
        address: Some(address),
    };
    let mut tx = db::begin(&state.pool).await?;
    let session_id =
        db::users::create_session(&mut tx, &user.id, &token, &csrf_token, &at, &expires_at).await?;
    db::audit::append(
        &mut tx,
        &Record {
            who: &who,
            action: "login.success",
            object_type: "session",
            object_id: Some(&session_id),
            before: None,
            after: None,
            at: &at,
        },
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user = %user.email, "signed in");
    let cookie = set_cookie(
        &token,
        Duration::hours(SESSION_HOURS),
        secure(&state, &headers),
    );
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(SessionInfo {
            user,
            csrf_token,
            expires_at,
        }),
    )
        .into_response())
}

/// Seconds until the oldest counted failure leaves the window (at least 1).
fn retry_after(oldest: &str, now: OffsetDateTime, window: Duration) -> u64 {
    let oldest = OffsetDateTime::parse(oldest, &time::format_description::well_known::Rfc3339)
        .unwrap_or(now);
    let wait = (oldest + window - now).whole_seconds();
    u64::try_from(wait).unwrap_or(0).max(1)
}

/// Records a failed sign-in (counted for the rate limit when `count` names the account and
/// address) and its audit row, in one transaction.
async fn audit_failure(state: &AppState, who: &Who, reason: &str) -> Result<()> {
    let at = db::now();
    let mut tx = db::begin(&state.pool).await?;
    db::audit::append(
        &mut tx,
        &Record {
            who,
            action: "login.failure",
            object_type: "session",
            object_id: None,
            before: None,
            after: Some(serde_json::json!({ "reason": reason })),
            at: &at,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
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
    let at = db::now();
    let mut tx = db::begin(&state.pool).await?;
    db::users::revoke_session(&mut tx, &user.session_id, &at).await?;
    db::audit::append(
        &mut tx,
        &Record {
            who: &user.who(),
            action: "logout",
            object_type: "session",
            object_id: Some(&user.session_id),
            before: None,
            after: None,
            at: &at,
        },
    )
    .await?;
    tx.commit().await?;
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
