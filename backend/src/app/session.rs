//! Signing in and out: the failure-counting rate limit, the password check, the session row
//! and the audit trail. The HTTP layer adds only the cookie and the same-site check.
//!
//! Signing in answers the same (and in about the same time: an unknown e-mail is checked
//! against a dummy Argon2 hash) for an unknown account, a disabled one and a wrong password,
//! so the answer does not tell which addresses have accounts. Failures are counted in the
//! database, per account and per client address; past the limit the answer is
//! [`Error::RateLimited`] and the password is not even checked.

use shared::auth::{SessionInfo, email_key};
use sqlx::AnyPool;
use time::{Duration, OffsetDateTime};

use crate::accounts::Passwords;
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

/// A new session: what the caller is told, and the secret for its cookie.
pub struct SignedIn {
    pub info: SessionInfo,
    pub token: String,
}

/// Checks `email` and `password` from `address` and opens a session.
pub async fn sign_in(
    pool: &AnyPool,
    passwords: &Passwords,
    email: &str,
    password: &str,
    address: &str,
) -> Result<SignedIn> {
    let key = email_key(email);
    let who = Who {
        id: None,
        label: attempted_label(email),
        address: Some(address.to_owned()),
    };
    let now = OffsetDateTime::now_utc();
    let window = Duration::minutes(FAILURE_WINDOW_MINUTES);
    let since = db::timestamp(now - window);
    // Record the attempt first, then count: concurrent guesses each see the others, so a
    // burst cannot slip more than the limit past the check.
    let attempt = db::users::record_failure(pool, &key, address, &db::timestamp(now)).await?;
    let ((by_account, oldest_account), (by_address, oldest_address)) =
        db::users::recent_failures(pool, &key, address, &since).await?;
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
        db::users::forget_failure(pool, &attempt).await?;
        let retry_after = retry_after(&oldest, now, window);
        audit_failure(pool, &who, "rate_limited").await?;
        return Err(Error::RateLimited {
            message: format!(
                "too many failed sign-ins; try again in {} minutes",
                retry_after.div_ceil(60)
            ),
            retry_after,
        });
    }

    let credentials = db::users::credentials(pool, email).await?;
    let usable = credentials.as_ref().filter(|c| !c.user.disabled);
    let ok = passwords
        .verify(password, usable.map(|c| c.password_hash.as_str()))
        .await;
    let Some(credentials) = usable.filter(|_| ok) else {
        audit_failure(pool, &who, "bad_credentials").await?;
        return Err(Error::unauthorized("wrong e-mail or password"));
    };
    db::users::forget_failure(pool, &attempt).await?;

    let user = credentials.user.clone();
    let token = db::tokens::random_token()?;
    let csrf_token = db::tokens::random_token()?;
    let at = db::timestamp(now);
    let expires_at = db::timestamp(now + Duration::hours(SESSION_HOURS));
    let who = Who {
        id: Some(user.id.clone()),
        label: user.email.clone(),
        address: Some(address.to_owned()),
    };
    let mut tx = db::begin(pool).await?;
    let session_id =
        db::users::create_session(&mut tx, &user.id, &token, &csrf_token, &at, &expires_at).await?;
    db::audit::append(
        &mut tx,
        &Record::new(&who, "login.success", "session", Some(&session_id), &at),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(user = %user.email, "signed in");
    Ok(SignedIn {
        info: SessionInfo {
            user,
            csrf_token,
            expires_at,
        },
        token,
    })
}

/// Ends session `session_id` of `who` at once.
pub async fn sign_out(pool: &AnyPool, who: &Who, session_id: &str) -> Result<()> {
    let at = db::now();
    let mut tx = db::begin(pool).await?;
    db::users::revoke_session(&mut tx, session_id, &at).await?;
    db::audit::append(
        &mut tx,
        &Record::new(who, "logout", "session", Some(session_id), &at),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// What the audit log names a failed attempt by. Only something shaped like an e-mail is
/// logged, cut short: a password typed into the e-mail box must not end up in the log.
fn attempted_label(email: &str) -> String {
    let tried: String = email.trim().chars().take(254).collect();
    let looks_like_email = tried.contains('@') && !tried.chars().any(char::is_whitespace);
    if tried.is_empty() {
        "(empty)".into()
    } else if looks_like_email {
        tried
    } else {
        "(not an e-mail address)".into()
    }
}

/// Seconds until the oldest counted failure leaves the window (at least 1).
fn retry_after(oldest: &str, now: OffsetDateTime, window: Duration) -> u64 {
    let oldest = OffsetDateTime::parse(oldest, &time::format_description::well_known::Rfc3339)
        .unwrap_or(now);
    let wait = (oldest + window - now).whole_seconds();
    u64::try_from(wait).unwrap_or(0).max(1)
}

/// Writes the audit row of a failed sign-in.
async fn audit_failure(pool: &AnyPool, who: &Who, reason: &str) -> Result<()> {
    let at = db::now();
    let mut tx = db::begin(pool).await?;
    db::audit::append(
        &mut tx,
        &Record::new(who, "login.failure", "session", None, &at)
            .after_value(Some(serde_json::json!({ "reason": reason }))),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_email_shaped_attempts_are_logged_by_name() {
        assert_eq!(attempted_label("  a@b.c "), "a@b.c");
        assert_eq!(attempted_label(""), "(empty)");
        assert_eq!(attempted_label("hunter2 secret"), "(not an e-mail address)");
        assert_eq!(attempted_label("hunter2"), "(not an e-mail address)");
    }

    #[test]
    fn retry_after_counts_to_the_window_end_and_is_never_zero() {
        let now = OffsetDateTime::parse(
            "2026-11-26T10:00:00Z",
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        let window = Duration::minutes(15);
        assert_eq!(retry_after("2026-11-26T09:50:00Z", now, window), 300);
        assert_eq!(retry_after("2026-11-26T09:40:00Z", now, window), 1);
    }
}
