//! Queries on `ingest_tokens`, and the making and checking of their secrets.
//!
//! # Why a plain SHA-256
//!
//! Only the SHA-256 of a secret is stored, so a copy of the database (a backup, a replica, a
//! leaked dump) gives no usable token. Passwords need a slow, salted hash (Argon2, bcrypt)
//! because people pick them from a small space that an attacker can enumerate; these secrets
//! are 256 random bits from the operating system's CSPRNG, so there is nothing to enumerate
//! and a fast hash is exactly as strong, while keeping the check cheap on every ingestion
//! request. For the same reason a token is found by the hash of what the caller sent (an
//! index lookup): the lookup's timing can only reveal something about a hash the caller has
//! no way to steer towards a stored one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use shared::tokens::{SECRET_PREFIX, TokenInfo, TokenScope};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use super::audit::{self, Record, Who};
use super::{Error, Result};

/// Random bytes in a secret.
pub const SECRET_BYTES: usize = 32;
/// Characters of the secret kept in clear to recognise it: the marker and 5 random characters
/// (30 bits, far too few to help guessing the other 226).
pub const PREFIX_LEN: usize = SECRET_PREFIX.len() + 5;

const COLUMNS: &str = "id, name, prefix, change_id, scopes, created_by, created_at, revoked_at";

/// A fresh secret: `rg_ing_` and 32 random bytes in base64url (43 characters).
pub fn new_secret() -> Result<String> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| Error::internal(format!("the OS random generator failed: {e}")))?;
    Ok(format!("{SECRET_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// Whether `s` has the shape of a secret we issue; anything else is refused without a query.
pub fn looks_like_secret(s: &str) -> bool {
    s.strip_prefix(SECRET_PREFIX).is_some_and(|rest| {
        rest.len() == 43
            && rest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// The stored form of a secret: its SHA-256 in lowercase hex.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The scope of sending metric windows, as the route rule names it (a `const` for
/// [`Rule::ServiceToken`](shared::access::Rule); a test checks it is
/// [`TokenScope::Ingest`]'s name).
pub const SCOPE_INGEST: &str = "ingest";

/// The stored form of a scope list: names separated by one space (see migration 0009).
fn scopes_text(scopes: &[TokenScope]) -> String {
    scopes
        .iter()
        .map(|s| s.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The single `scope` a server of the release before migration 0009 checks: `ingest` only
/// when the token may ingest, so such a server never lets an `evaluate` token send windows.
fn legacy_scope(scopes: &[TokenScope]) -> &'static str {
    if scopes.contains(&TokenScope::Ingest) {
        TokenScope::Ingest.as_str()
    } else {
        scopes.first().map_or("none", |s| s.as_str())
    }
}

fn parse_scopes(text: &str) -> Result<Vec<TokenScope>> {
    text.split_whitespace()
        .map(|name| {
            TokenScope::parse(name)
                .ok_or_else(|| Error::internal(format!("a stored token has the scope `{name}`")))
        })
        .collect()
}

/// Stores a new token for `secret`, limited to `change_ids` (none: every change), and its
/// audit row, and returns it (without the secret).
pub async fn create(
    pool: &AnyPool,
    name: &str,
    change_ids: &[String],
    scopes: &[TokenScope],
    secret: &str,
    who: &Who,
    at: &str,
) -> Result<TokenInfo> {
    let actor = who.label.as_str();
    let mut limit = change_ids.to_vec();
    limit.sort();
    limit.dedup();
    // The previous release reads only this column: the first change keeps its check narrow.
    let legacy_change = change_ids.first().map(String::as_str);
    let token = TokenInfo {
        id: super::new_id(),
        name: name.to_owned(),
        prefix: secret.chars().take(PREFIX_LEN).collect(),
        change_id: single(&limit),
        change_ids: limit,
        scopes: scopes.to_vec(),
        created_by: actor.to_owned(),
        created_at: at.to_owned(),
        revoked_at: None,
    };
    let mut tx = super::begin(pool).await?;
    sqlx::query(
        "INSERT INTO ingest_tokens (id, name, change_id, prefix, secret_sha256, created_by, \
         created_at, scopes, scope) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(token.id.as_str())
    .bind(token.name.as_str())
    .bind(legacy_change)
    .bind(token.prefix.as_str())
    .bind(hash(secret))
    .bind(actor)
    .bind(at)
    .bind(scopes_text(scopes))
    .bind(legacy_scope(scopes))
    .execute(&mut *tx)
    .await?;
    for change_id in &token.change_ids {
        sqlx::query("INSERT INTO ingest_token_changes (token_id, change_id) VALUES ($1, $2)")
            .bind(token.id.as_str())
            .bind(change_id.as_str())
            .execute(&mut *tx)
            .await?;
    }
    audit::append(
        &mut tx,
        &Record::new(who, "token.create", "token", Some(&token.id), at).after(&token),
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// Tokens, newest first; only those limited to a set of changes holding `change_id` (not
/// the workspace-wide ones) when given.
pub async fn list(pool: &AnyPool, change_id: Option<&str>) -> Result<Vec<TokenInfo>> {
    let rows = match change_id {
        Some(c) => {
            // The old column holds one change of every limit (migration 0014), and the only
            // one of a row written by the previous release.
            let sql = format!(
                "SELECT {COLUMNS} FROM ingest_tokens WHERE change_id = $1 OR id IN \
                 (SELECT token_id FROM ingest_token_changes WHERE change_id = $1) \
                 ORDER BY created_at DESC, id DESC"
            );
            sqlx::query(&sql).bind(c).fetch_all(pool).await?
        }
        None => {
            let sql =
                format!("SELECT {COLUMNS} FROM ingest_tokens ORDER BY created_at DESC, id DESC");
            sqlx::query(&sql).fetch_all(pool).await?
        }
    };
    let tokens = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    with_limits(pool, tokens).await
}

pub async fn find(pool: &AnyPool, id: &str) -> Result<Option<TokenInfo>> {
    let sql = format!("SELECT {COLUMNS} FROM ingest_tokens WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await?;
    one_with_limit(pool, row.as_ref().map(from_row).transpose()?).await
}

/// The token whose secret is `secret`, revoked or not.
pub async fn find_by_secret(pool: &AnyPool, secret: &str) -> Result<Option<TokenInfo>> {
    let sql = format!("SELECT {COLUMNS} FROM ingest_tokens WHERE secret_sha256 = $1");
    let row = sqlx::query(&sql)
        .bind(hash(secret))
        .fetch_optional(pool)
        .await?;
    one_with_limit(pool, row.as_ref().map(from_row).transpose()?).await
}

/// `Some(id)` for a limit of exactly one change.
fn single(limit: &[String]) -> Option<String> {
    match limit {
        [one] => Some(one.clone()),
        _ => None,
    }
}

/// `tokens` with the changes each is limited to (`from_row` reads only the old column).
async fn with_limits(pool: &AnyPool, mut tokens: Vec<TokenInfo>) -> Result<Vec<TokenInfo>> {
    if tokens.is_empty() {
        return Ok(tokens);
    }
    let placeholders = (1..=tokens.len())
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT token_id, change_id FROM ingest_token_changes WHERE token_id IN ({placeholders}) \
         ORDER BY token_id, change_id"
    );
    let mut query = sqlx::query(&sql);
    for t in &tokens {
        query = query.bind(t.id.as_str());
    }
    let mut limits: std::collections::HashMap<String, Vec<String>> = Default::default();
    for row in query.fetch_all(pool).await? {
        limits
            .entry(row.try_get("token_id")?)
            .or_default()
            .push(row.try_get("change_id")?);
    }
    for t in &mut tokens {
        // No rows: every change, or the one change of a row the previous release wrote.
        let limit = limits
            .remove(&t.id)
            .unwrap_or_else(|| t.change_id.iter().cloned().collect());
        t.change_id = single(&limit);
        t.change_ids = limit;
    }
    Ok(tokens)
}

async fn one_with_limit(pool: &AnyPool, token: Option<TokenInfo>) -> Result<Option<TokenInfo>> {
    Ok(match token {
        Some(t) => with_limits(pool, vec![t]).await?.pop(),
        None => None,
    })
}

/// [`find_by_secret`], with when the token last authenticated a request (`None`: never), for
/// the ingestion check that records uses.
pub async fn find_for_use(
    pool: &AnyPool,
    secret: &str,
) -> Result<Option<(TokenInfo, Option<String>)>> {
    let sql = format!("SELECT {COLUMNS}, last_used_at FROM ingest_tokens WHERE secret_sha256 = $1");
    let row = sqlx::query(&sql)
        .bind(hash(secret))
        .fetch_optional(pool)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let last_used: Option<String> = row.try_get("last_used_at")?;
    let token = one_with_limit(pool, Some(from_row(&row)?)).await?;
    Ok(token.map(|t| (t, last_used)))
}

/// Records that token `id` was used at `at`.
pub async fn mark_used(pool: &AnyPool, id: &str, at: &str) -> Result<()> {
    sqlx::query("UPDATE ingest_tokens SET last_used_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Unrevoked tokens created by `created_by` that have not been used since `before` (never
/// used ones count from their creation), oldest first.
pub async fn idle(pool: &AnyPool, created_by: &str, before: &str) -> Result<Vec<TokenInfo>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM ingest_tokens WHERE created_by = $1 AND revoked_at IS NULL \
         AND COALESCE(last_used_at, created_at) < $2 ORDER BY created_at, id"
    );
    let rows = sqlx::query(&sql)
        .bind(created_by)
        .bind(before)
        .fetch_all(pool)
        .await?;
    let tokens = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    with_limits(pool, tokens).await
}

/// A random 256-bit secret in base64url (43 characters), for session and CSRF tokens.
pub fn random_token() -> Result<String> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| Error::internal(format!("the OS random generator failed: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Revokes a token unless it already is (the first revocation's time and actor stay).
/// Returns the token as stored afterwards, or `None` when there is no such token.
pub async fn revoke(pool: &AnyPool, id: &str, who: &Who, at: &str) -> Result<Option<TokenInfo>> {
    let mut tx = super::begin(pool).await?;
    let done = sqlx::query(
        "UPDATE ingest_tokens SET revoked_at = $1, revoked_by = $2 \
         WHERE id = $3 AND revoked_at IS NULL",
    )
    .bind(at)
    .bind(who.label.as_str())
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 1 {
        audit::append(
            &mut tx,
            &Record::new(who, "token.revoke", "token", Some(id), at)
                .after_value(Some(serde_json::json!({ "revoked_at": at }))),
        )
        .await?;
    }
    tx.commit().await?;
    find(pool, id).await
}

fn from_row(row: &AnyRow) -> Result<TokenInfo> {
    Ok(TokenInfo {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        prefix: row.try_get("prefix")?,
        // The old column; `with_limits` completes it.
        change_id: row.try_get("change_id")?,
        change_ids: Vec::new(),
        scopes: parse_scopes(&row.try_get::<String, _>("scopes")?)?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_the_issued_shape() {
        let a = new_secret().unwrap();
        let b = new_secret().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), SECRET_PREFIX.len() + 43);
        assert!(looks_like_secret(&a), "{a}");
        assert!(!looks_like_secret("rg_ing_short"));
        assert!(!looks_like_secret(&a.replace("rg_ing_", "rg_xxx_")));
        assert!(!looks_like_secret(&format!("{a}=")));
    }

    #[test]
    fn scope_lists_read_back() {
        assert_eq!(SCOPE_INGEST, TokenScope::Ingest.as_str());
        let all = [TokenScope::Ingest, TokenScope::Evaluate, TokenScope::Ci];
        assert_eq!(scopes_text(&all), "ingest evaluate ci");
        assert_eq!(parse_scopes("ingest evaluate ci").unwrap(), all);
        assert!(parse_scopes("ingest admin").is_err());
        assert_eq!(
            legacy_scope(&[TokenScope::Ci, TokenScope::Ingest]),
            "ingest"
        );
        assert_eq!(
            legacy_scope(&[TokenScope::Evaluate, TokenScope::Ci]),
            "evaluate"
        );
    }

    #[test]
    fn hashes_are_sha256_hex() {
        // FIPS 180-2 test vector.
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
