//! Queries on `teams` and `team_members`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use shared::teams::{Team, TeamMember};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Error, Result};

/// A fresh secret: `prefix` and 32 random bytes in base64url.
pub fn new_secret(prefix: &str) -> Result<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes)
        .map_err(|e| Error::internal(format!("the OS random generator failed: {e}")))?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

const COLUMNS: &str = "id, name, webhook_url, feed_token_sha256, created_at, updated_at";

fn from_row(r: &AnyRow) -> Result<Team> {
    Ok(Team {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        members: Vec::new(),
        webhook_url: r.try_get("webhook_url")?,
        has_feed_token: r
            .try_get::<Option<String>, _>("feed_token_sha256")?
            .is_some(),
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

async fn with_members(conn: &mut AnyConnection, mut teams: Vec<Team>) -> Result<Vec<Team>> {
    let rows = sqlx::query(
        "SELECT m.team_id, u.id, u.name, u.email FROM team_members m \
         JOIN users u ON u.id = m.user_id ORDER BY u.name, u.id",
    )
    .fetch_all(conn)
    .await?;
    for r in &rows {
        let team_id: String = r.try_get("team_id")?;
        if let Some(t) = teams.iter_mut().find(|t| t.id == team_id) {
            t.members.push(TeamMember {
                user_id: r.try_get("id")?,
                name: r.try_get("name")?,
                email: r.try_get("email")?,
            });
        }
    }
    Ok(teams)
}

pub async fn list(conn: &mut AnyConnection) -> Result<Vec<Team>> {
    let sql = format!("SELECT {COLUMNS} FROM teams ORDER BY name");
    let rows = sqlx::query(&sql).fetch_all(&mut *conn).await?;
    let teams = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    with_members(conn, teams).await
}

pub async fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<Team>> {
    let sql = format!("SELECT {COLUMNS} FROM teams WHERE id = $1");
    let Some(row) = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let team = from_row(&row)?;
    Ok(with_members(conn, vec![team]).await?.pop())
}

/// The id of the team called `name`, if there is one.
pub async fn id_by_name(conn: &mut AnyConnection, name: &str) -> Result<Option<String>> {
    Ok(sqlx::query("SELECT id FROM teams WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?)
}

/// The team whose feed token hashes to `sha256`.
pub async fn id_by_feed_token(conn: &mut AnyConnection, sha256: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query("SELECT id FROM teams WHERE feed_token_sha256 = $1")
            .bind(sha256)
            .fetch_optional(conn)
            .await?
            .map(|r| r.try_get("id"))
            .transpose()?,
    )
}

pub async fn create(
    conn: &mut AnyConnection,
    name: &str,
    webhook_url: Option<&str>,
    webhook_secret: &str,
    at: &str,
) -> Result<String> {
    let id = super::new_id();
    sqlx::query(
        "INSERT INTO teams (id, name, webhook_url, webhook_secret, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(id.as_str())
    .bind(name)
    .bind(webhook_url)
    .bind(webhook_secret)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(id)
}

/// False when there is no such team.
pub async fn update(
    conn: &mut AnyConnection,
    id: &str,
    name: &str,
    webhook_url: Option<&str>,
    at: &str,
) -> Result<bool> {
    let done =
        sqlx::query("UPDATE teams SET name = $1, webhook_url = $2, updated_at = $3 WHERE id = $4")
            .bind(name)
            .bind(webhook_url)
            .bind(at)
            .bind(id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_members(conn: &mut AnyConnection, id: &str, user_ids: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM team_members WHERE team_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for user in user_ids {
        sqlx::query("INSERT INTO team_members (team_id, user_id) VALUES ($1, $2)")
            .bind(id)
            .bind(user.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

pub async fn set_webhook_secret(
    conn: &mut AnyConnection,
    id: &str,
    secret: &str,
    at: &str,
) -> Result<bool> {
    let done = sqlx::query("UPDATE teams SET webhook_secret = $1, updated_at = $2 WHERE id = $3")
        .bind(secret)
        .bind(at)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_feed_token(
    conn: &mut AnyConnection,
    id: &str,
    sha256: &str,
    at: &str,
) -> Result<bool> {
    let done =
        sqlx::query("UPDATE teams SET feed_token_sha256 = $1, updated_at = $2 WHERE id = $3")
            .bind(sha256)
            .bind(at)
            .bind(id)
            .execute(conn)
            .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn is_member(conn: &mut AnyConnection, team_id: &str, user_id: &str) -> Result<bool> {
    Ok(
        sqlx::query("SELECT 1 FROM team_members WHERE team_id = $1 AND user_id = $2")
            .bind(team_id)
            .bind(user_id)
            .fetch_optional(conn)
            .await?
            .is_some(),
    )
}

/// Ids of users that do not exist, among `user_ids`.
pub async fn unknown_users(conn: &mut AnyConnection, user_ids: &[String]) -> Result<Vec<String>> {
    let mut unknown = Vec::new();
    for id in user_ids {
        let found = sqlx::query("SELECT 1 FROM users WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&mut *conn)
            .await?;
        if found.is_none() {
            unknown.push(id.clone());
        }
    }
    Ok(unknown)
}
