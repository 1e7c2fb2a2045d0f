//! Queries on `users`, `sessions` and `login_failures`.

use shared::auth::{Role, User};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, AnyPool, Executor, Row};

use super::{Error, Result};

const COLUMNS: &str = "id, email, name, roles, disabled, created_at";

/// A user with the hash their password is checked against.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user: User,
    pub password_hash: String,
}

pub async fn create(
    conn: &mut AnyConnection,
    email: &str,
    name: &str,
    roles: &[Role],
    password_hash: &str,
    at: &str,
) -> Result<User> {
    let user = User {
        id: super::new_id(),
        email: email.trim().to_owned(),
        name: name.trim().to_owned(),
        roles: roles.to_vec(),
        disabled: false,
        created_at: at.to_owned(),
    };
    sqlx::query(
        "INSERT INTO users (id, email, email_key, name, roles, password_hash, disabled, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $7)",
    )
    .bind(user.id.as_str())
    .bind(user.email.as_str())
    .bind(shared::auth::email_key(email))
    .bind(user.name.as_str())
    .bind(roles_json(roles))
    .bind(password_hash)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(user)
}

/// Whether an account uses this address (compared case-insensitively). On a pool or on the
/// caller's transaction (`&mut *tx`).
pub async fn email_taken<'e>(db: impl Executor<'e, Database = Any>, email: &str) -> Result<bool> {
    Ok(sqlx::query("SELECT 1 FROM users WHERE email_key = $1")
        .bind(shared::auth::email_key(email))
        .fetch_optional(db)
        .await?
        .is_some())
}

pub async fn list(pool: &AnyPool) -> Result<Vec<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users ORDER BY email_key");
    let rows = sqlx::query(&sql).fetch_all(pool).await?;
    rows.iter().map(from_row).collect()
}

pub async fn find(pool: &AnyPool, id: &str) -> Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await?;
    row.as_ref().map(from_row).transpose()
}

/// The account of this address with its password hash; on a pool or a transaction.
pub async fn credentials<'e>(
    db: impl Executor<'e, Database = Any>,
    email: &str,
) -> Result<Option<Credentials>> {
    let sql = format!("SELECT {COLUMNS}, password_hash FROM users WHERE email_key = $1");
    let row = sqlx::query(&sql)
        .bind(shared::auth::email_key(email))
        .fetch_optional(db)
        .await?;
    row.map(|r| {
        Ok(Credentials {
            user: from_row(&r)?,
            password_hash: r.try_get("password_hash")?,
        })
    })
    .transpose()
}

/// Name, roles and the disabled flag. Returns whether the user exists.
pub async fn update(
    conn: &mut AnyConnection,
    id: &str,
    name: &str,
    roles: &[Role],
    disabled: bool,
    at: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE users SET name = $1, roles = $2, disabled = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(name.trim())
    .bind(roles_json(roles))
    .bind(i64::from(disabled))
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn count(pool: &AnyPool) -> Result<i64> {
    Ok(sqlx::query("SELECT COUNT(*) FROM users")
        .fetch_one(pool)
        .await?
        .try_get(0)?)
}

/// Accounts that are not the demo's own (`…@demo.rollgate`).
pub async fn count_outside_demo(pool: &AnyPool) -> Result<i64> {
    Ok(
        sqlx::query("SELECT COUNT(*) FROM users WHERE email_key NOT LIKE '%@demo.rollgate'")
            .fetch_one(pool)
            .await?
            .try_get(0)?,
    )
}

fn roles_json(roles: &[Role]) -> String {
    serde_json::to_string(roles).unwrap_or_else(|_| "[]".to_owned())
}

fn from_row(row: &AnyRow) -> Result<User> {
    let id: String = row.try_get("id")?;
    let roles: String = row.try_get("roles")?;
    let roles: Vec<Role> = serde_json::from_str(&roles)
        .map_err(|e| Error::internal(format!("user {id}: bad stored roles: {e}")))?;
    let disabled: i64 = row.try_get("disabled")?;
    Ok(User {
        email: row.try_get("email")?,
        name: row.try_get("name")?,
        roles,
        disabled: disabled != 0,
        created_at: row.try_get("created_at")?,
        id,
    })
}

/// A live session and its user.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub user: User,
    pub csrf_token: String,
    pub expires_at: String,
}

pub async fn create_session(
    conn: &mut AnyConnection,
    user_id: &str,
    token: &str,
    csrf_token: &str,
    at: &str,
    expires_at: &str,
) -> Result<String> {
    let id = super::new_id();
    sqlx::query(
        "INSERT INTO sessions (id, token_sha256, user_id, csrf_token, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id.as_str())
    .bind(super::tokens::hash(token))
    .bind(user_id)
    .bind(csrf_token)
    .bind(at)
    .bind(expires_at)
    .execute(conn)
    .await?;
    Ok(id)
}

/// The session whose cookie token is `token`, if it is neither revoked, expired at `now`, nor
/// its user disabled.
pub async fn find_session(pool: &AnyPool, token: &str, now: &str) -> Result<Option<Session>> {
    let sql = "SELECT s.id AS session_id, s.csrf_token, s.expires_at, u.id, u.email, u.name, \
               u.roles, u.disabled, u.created_at FROM sessions s JOIN users u ON u.id = s.user_id \
               WHERE s.token_sha256 = $1 AND s.revoked_at IS NULL AND s.expires_at > $2 \
               AND u.disabled = 0";
    let row = sqlx::query(sql)
        .bind(super::tokens::hash(token))
        .bind(now)
        .fetch_optional(pool)
        .await?;
    row.map(|r| {
        Ok(Session {
            id: r.try_get("session_id")?,
            csrf_token: r.try_get("csrf_token")?,
            expires_at: r.try_get("expires_at")?,
            user: from_row(&r)?,
        })
    })
    .transpose()
}

pub async fn revoke_session(conn: &mut AnyConnection, id: &str, at: &str) -> Result<()> {
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Deletes sessions that ended (expired or signed out) before `ended_before`, and sign-in
/// failures recorded before `failures_before` (they no longer count towards any limit).
/// Answers how many rows of each went.
pub async fn purge(
    pool: &AnyPool,
    ended_before: &str,
    failures_before: &str,
) -> Result<(u64, u64)> {
    let sessions = sqlx::query(
        "DELETE FROM sessions WHERE expires_at < $1 OR (revoked_at IS NOT NULL AND revoked_at < $1)",
    )
    .bind(ended_before)
    .execute(pool)
    .await?
    .rows_affected();
    let failures = sqlx::query("DELETE FROM login_failures WHERE at < $1")
        .bind(failures_before)
        .execute(pool)
        .await?
        .rows_affected();
    Ok((sessions, failures))
}

/// Records a sign-in attempt as a failure and returns its id. Sign-in records the attempt
/// *before* counting and checking the password, so parallel guesses see each other.
pub async fn record_failure(
    pool: &AnyPool,
    email_key: &str,
    address: &str,
    at: &str,
) -> Result<String> {
    let id = super::new_id();
    sqlx::query("INSERT INTO login_failures (id, email_key, address, at) VALUES ($1, $2, $3, $4)")
        .bind(&id)
        .bind(email_key)
        .bind(address)
        .bind(at)
        .execute(pool)
        .await?;
    Ok(id)
}

/// Takes back an attempt recorded by [`record_failure`] (it succeeded, or was refused before
/// any password was checked).
pub async fn forget_failure(pool: &AnyPool, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE id = $1")
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Failures since `since` for the account and for the address, with the oldest time of each.
pub async fn recent_failures(
    pool: &AnyPool,
    email_key: &str,
    address: &str,
    since: &str,
) -> Result<((i64, Option<String>), (i64, Option<String>))> {
    let by_email = sqlx::query(
        "SELECT COUNT(*), MIN(at) FROM login_failures WHERE email_key = $1 AND at > $2",
    )
    .bind(email_key)
    .bind(since)
    .fetch_one(pool)
    .await?;
    let by_address =
        sqlx::query("SELECT COUNT(*), MIN(at) FROM login_failures WHERE address = $1 AND at > $2")
            .bind(address)
            .bind(since)
            .fetch_one(pool)
            .await?;
    Ok((
        (by_email.try_get(0)?, by_email.try_get(1)?),
        (by_address.try_get(0)?, by_address.try_get(1)?),
    ))
}
