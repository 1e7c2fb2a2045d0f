//! Queries on `deliveries`: enqueueing in the publishing transaction, claiming by the worker
//! (compare-and-set, safe with several instances), recording outcomes, and the admin list.

use shared::auth::Role;
use shared::notices::{Delivery, DeliveryStatus};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

use super::{Error, Result};

/// Queues a delivery of `notice_id` to every audience team with a webhook URL.
pub async fn enqueue(conn: &mut AnyConnection, notice_id: &str, at: &str) -> Result<()> {
    enqueue_said(conn, notice_id, None, at).await
}

/// [`enqueue`], with `said`: a message (`delivery::Message` as JSON) the notice is said with,
/// such as the guardian's name and reason on the notice of its rollback.
pub async fn enqueue_said(
    conn: &mut AnyConnection,
    notice_id: &str,
    said: Option<(&str, &str)>,
    at: &str,
) -> Result<()> {
    let rows = sqlx::query(
        "SELECT t.id, t.webhook_url, n.change_id FROM notice_audience a \
         JOIN teams t ON t.id = a.team_id JOIN notices n ON n.id = a.notice_id \
         WHERE a.notice_id = $1 AND t.webhook_url IS NOT NULL",
    )
    .bind(notice_id)
    .fetch_all(&mut *conn)
    .await?;
    let (event, message) = match said {
        Some((event, message)) => (event, Some(message)),
        None => ("notice", None),
    };
    for r in &rows {
        let team: String = r.try_get("id")?;
        let url: String = r.try_get("webhook_url")?;
        let change: String = r.try_get("change_id")?;
        sqlx::query(
            "INSERT INTO deliveries (id, notice_id, team_id, url, status, attempts, \
             next_attempt_at, created_at, updated_at, event, change_id, message) \
             VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5, $5, $6, $7, $8)",
        )
        .bind(super::new_id())
        .bind(notice_id)
        .bind(team)
        .bind(url)
        .bind(at)
        .bind(event)
        .bind(change)
        .bind(message)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// A message that is no notice, about to be queued for one team.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    /// `guardian` or `sign_off`.
    pub event: &'a str,
    pub change_id: &'a str,
    /// `delivery::Message` as JSON.
    pub message: &'a str,
    /// When set, the message goes to the team once for this key, however often it is queued.
    pub once_key: Option<&'a str>,
    pub at: &'a str,
}

/// Queues `m` for each of `team_ids` that has a webhook URL; how many were queued (a team
/// already sent this `once_key` is skipped).
pub async fn enqueue_message(
    conn: &mut AnyConnection,
    team_ids: &[String],
    m: &NewMessage<'_>,
) -> Result<u64> {
    let mut queued = 0;
    for team in team_ids {
        let Some(row) =
            sqlx::query("SELECT webhook_url FROM teams WHERE id = $1 AND webhook_url IS NOT NULL")
                .bind(team.as_str())
                .fetch_optional(&mut *conn)
                .await?
        else {
            continue;
        };
        let url: String = row.try_get("webhook_url")?;
        let once = m.once_key.map(|k| format!("{k}:{team}"));
        let done = sqlx::query(
            "INSERT INTO deliveries (id, notice_id, team_id, url, status, attempts, \
             next_attempt_at, created_at, updated_at, event, change_id, message, once_key) \
             VALUES ($1, NULL, $2, $3, 'pending', 0, $4, $4, $4, $5, $6, $7, $8) \
             ON CONFLICT (once_key) DO NOTHING",
        )
        .bind(super::new_id())
        .bind(team.as_str())
        .bind(url)
        .bind(m.at)
        .bind(m.event)
        .bind(m.change_id)
        .bind(m.message)
        .bind(once)
        .execute(&mut *conn)
        .await?;
        queued += done.rows_affected();
    }
    Ok(queued)
}

/// The teams with a webhook URL that have an active member holding one of `roles`, by name.
pub async fn teams_with_roles(conn: &mut AnyConnection, roles: &[Role]) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT t.id, t.name, u.roles FROM teams t \
         JOIN team_members m ON m.team_id = t.id JOIN users u ON u.id = m.user_id \
         WHERE t.webhook_url IS NOT NULL AND u.disabled = 0 ORDER BY t.name, t.id",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut out: Vec<String> = Vec::new();
    for r in &rows {
        let id: String = r.try_get("id")?;
        let held: String = r.try_get("roles")?;
        let held: Vec<Role> = serde_json::from_str(&held)
            .map_err(|e| Error::internal(format!("stored roles of a member of team {id}: {e}")))?;
        if held.iter().any(|h| roles.contains(h)) && !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// A delivery taken by this worker, with what it needs to send.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub id: String,
    /// The notice sent, when the message is one (or says one).
    pub notice_id: Option<String>,
    /// `delivery::Message` as JSON, when the message is no notice or says one.
    pub message: Option<String>,
    pub team_id: String,
    pub url: String,
    /// Attempts including this one.
    pub attempt: i64,
    pub secret: Option<String>,
}

/// Takes the most overdue pending delivery, if any, until `claim_until`. Another instance
/// that read the same row loses the compare-and-set and looks again.
pub async fn claim(pool: &AnyPool, now: &str, claim_until: &str) -> Result<Option<Claimed>> {
    for _ in 0..5 {
        let Some(row) = sqlx::query(
            "SELECT d.id, d.notice_id, d.team_id, d.url, d.attempts, d.claimed_until, \
             d.message, t.webhook_secret FROM deliveries d JOIN teams t ON t.id = d.team_id \
             WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
             AND (d.claimed_until IS NULL OR d.claimed_until < $1) \
             ORDER BY d.next_attempt_at, d.id LIMIT 1",
        )
        .bind(now)
        .fetch_optional(pool)
        .await?
        else {
            return Ok(None);
        };
        let id: String = row.try_get("id")?;
        let attempts: i64 = row.try_get("attempts")?;
        let done = sqlx::query(
            "UPDATE deliveries SET claimed_until = $1, attempts = attempts + 1, updated_at = $2 \
             WHERE id = $3 AND status = 'pending' AND attempts = $4",
        )
        .bind(claim_until)
        .bind(now)
        .bind(id.as_str())
        .bind(attempts)
        .execute(pool)
        .await?;
        if done.rows_affected() == 1 {
            return Ok(Some(Claimed {
                id,
                notice_id: row.try_get("notice_id")?,
                message: row.try_get("message")?,
                team_id: row.try_get("team_id")?,
                url: row.try_get("url")?,
                attempt: attempts + 1,
                secret: row.try_get("webhook_secret")?,
            }));
        }
    }
    Ok(None)
}

pub async fn delivered(pool: &AnyPool, id: &str, at: &str) -> Result<()> {
    sqlx::query(
        "UPDATE deliveries SET status = 'delivered', delivered_at = $1, last_error = NULL, \
         claimed_until = NULL, updated_at = $1 WHERE id = $2",
    )
    .bind(at)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Records a failed attempt: retried at `next` or, when `None`, given up.
pub async fn attempt_failed(
    pool: &AnyPool,
    id: &str,
    error: &str,
    next: Option<&str>,
    at: &str,
) -> Result<()> {
    let (status, next_at) = match next {
        Some(n) => ("pending", n),
        None => ("failed", at),
    };
    sqlx::query(
        "UPDATE deliveries SET status = $1, last_error = $2, next_attempt_at = $3, \
         claimed_until = NULL, updated_at = $4 WHERE id = $5",
    )
    .bind(status)
    .bind(error)
    .bind(next_at)
    .bind(at)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Sends a delivery again from its first attempt. False when there is no such delivery.
pub async fn resend(conn: &mut AnyConnection, id: &str, at: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1, \
         claimed_until = NULL, delivered_at = NULL, updated_at = $1 WHERE id = $2",
    )
    .bind(at)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn from_row(r: &AnyRow) -> Result<Delivery> {
    let status: String = r.try_get("status")?;
    Ok(Delivery {
        id: r.try_get("id")?,
        notice_id: r.try_get("notice_id")?,
        team_id: r.try_get("team_id")?,
        team_name: r.try_get("name")?,
        url: r.try_get("url")?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| Error::internal(format!("stored delivery status `{status}`")))?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        delivered_at: r.try_get("delivered_at")?,
        created_at: r.try_get("created_at")?,
    })
}

const SELECT: &str = "SELECT d.id, d.notice_id, d.team_id, t.name, d.url, d.status, d.attempts, \
     d.last_error, d.next_attempt_at, d.delivered_at, d.created_at \
     FROM deliveries d JOIN teams t ON t.id = d.team_id";

/// The newest deliveries first.
pub async fn list(pool: &AnyPool, limit: i64) -> Result<Vec<Delivery>> {
    let sql = format!("{SELECT} ORDER BY d.created_at DESC, d.id DESC LIMIT $1");
    let rows = sqlx::query(&sql).bind(limit).fetch_all(pool).await?;
    rows.iter().map(from_row).collect()
}

pub async fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<Delivery>> {
    let sql = format!("{SELECT} WHERE d.id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(conn).await?;
    row.as_ref().map(from_row).transpose()
}
