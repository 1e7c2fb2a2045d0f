//! Queries on `notices`, `notice_audience`, `notice_acks` and `notice_reads`.

use shared::notices::{Acknowledgement, Audience, Notice, NoticeKind, NoticeStatus};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Error, Result};

const COLUMNS: &str = "n.id, n.change_id, c.title, n.previous_id, n.status, n.kind, \
     n.planned_at, n.planned_stage, n.expected_changes, n.talking_points, n.created_by, \
     n.created_at, n.published_at";
const FROM: &str = "FROM notices n JOIN changes c ON c.id = n.change_id";

/// A notice about to be written.
#[derive(Debug, Clone)]
pub struct NewNotice<'a> {
    pub change_id: &'a str,
    pub previous_id: Option<&'a str>,
    pub status: NoticeStatus,
    pub kind: NoticeKind,
    pub audience: &'a [String],
    pub planned_at: Option<&'a str>,
    pub planned_stage: Option<String>,
    pub expected_changes: &'a str,
    pub talking_points: &'a str,
    pub created_by: Option<&'a str>,
    pub at: &'a str,
}

fn from_row(r: &AnyRow) -> Result<Notice> {
    let status: String = r.try_get("status")?;
    let kind: String = r.try_get("kind")?;
    let stage: Option<String> = r.try_get("planned_stage")?;
    Ok(Notice {
        id: r.try_get("id")?,
        change_id: r.try_get("change_id")?,
        change_title: r.try_get("title")?,
        previous_id: r.try_get("previous_id")?,
        status: NoticeStatus::parse(&status)
            .ok_or_else(|| Error::internal(format!("stored notice status `{status}`")))?,
        kind: NoticeKind::parse(&kind)
            .ok_or_else(|| Error::internal(format!("stored notice kind `{kind}`")))?,
        audience: Vec::new(),
        planned_at: r.try_get("planned_at")?,
        planned_stage: stage
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(|e| Error::internal(format!("stored notice stage: {e}")))?,
        expected_changes: r.try_get("expected_changes")?,
        talking_points: r.try_get("talking_points")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        published_at: r.try_get("published_at")?,
        acknowledgements: Vec::new(),
    })
}

/// Fills in audience and acknowledgements.
async fn complete(conn: &mut AnyConnection, mut n: Notice) -> Result<Notice> {
    let rows = sqlx::query(
        "SELECT t.id, t.name FROM notice_audience a JOIN teams t ON t.id = a.team_id \
         WHERE a.notice_id = $1 ORDER BY t.name",
    )
    .bind(n.id.as_str())
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        n.audience.push(Audience {
            team_id: r.try_get("id")?,
            team_name: r.try_get("name")?,
        });
    }
    let rows = sqlx::query(
        "SELECT k.team_id, t.name AS team_name, k.user_id, u.name AS user_name, k.at \
         FROM notice_acks k JOIN teams t ON t.id = k.team_id JOIN users u ON u.id = k.user_id \
         WHERE k.notice_id = $1 ORDER BY k.at",
    )
    .bind(n.id.as_str())
    .fetch_all(&mut *conn)
    .await?;
    for r in &rows {
        n.acknowledgements.push(Acknowledgement {
            team_id: r.try_get("team_id")?,
            team_name: r.try_get("team_name")?,
            user_id: r.try_get("user_id")?,
            user_name: r.try_get("user_name")?,
            at: r.try_get("at")?,
        });
    }
    Ok(n)
}

async fn many(conn: &mut AnyConnection, rows: Vec<AnyRow>) -> Result<Vec<Notice>> {
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let n = from_row(r)?;
        out.push(complete(conn, n).await?);
    }
    Ok(out)
}

pub async fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<Notice>> {
    let sql = format!("SELECT {COLUMNS} {FROM} WHERE n.id = $1");
    let Some(row) = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
    else {
        return Ok(None);
    };
    let n = from_row(&row)?;
    Ok(Some(complete(conn, n).await?))
}

/// A change's notices, newest first.
pub async fn for_change(conn: &mut AnyConnection, change_id: &str) -> Result<Vec<Notice>> {
    let sql = format!(
        "SELECT {COLUMNS} {FROM} WHERE n.change_id = $1 ORDER BY n.created_at DESC, n.id DESC"
    );
    let rows = sqlx::query(&sql)
        .bind(change_id)
        .fetch_all(&mut *conn)
        .await?;
    many(conn, rows).await
}

/// Published notices to teams `user_id` belongs to that need them: those they have not read,
/// and those one of their teams has still to acknowledge, read or not. Newest first.
pub async fn unread(conn: &mut AnyConnection, user_id: &str) -> Result<Vec<Notice>> {
    let sql = format!(
        "SELECT {COLUMNS} {FROM} WHERE n.status = 'published' \
         AND (EXISTS (SELECT 1 FROM notice_audience a JOIN team_members m ON m.team_id = a.team_id \
                      WHERE a.notice_id = n.id AND m.user_id = $1 \
                      AND NOT EXISTS (SELECT 1 FROM notice_acks k \
                                      WHERE k.notice_id = n.id AND k.team_id = a.team_id)) \
              OR (EXISTS (SELECT 1 FROM notice_audience a \
                          JOIN team_members m ON m.team_id = a.team_id \
                          WHERE a.notice_id = n.id AND m.user_id = $1) \
                  AND NOT EXISTS (SELECT 1 FROM notice_reads r \
                                  WHERE r.notice_id = n.id AND r.user_id = $1))) \
         ORDER BY n.published_at DESC, n.id DESC"
    );
    let rows = sqlx::query(&sql)
        .bind(user_id)
        .fetch_all(&mut *conn)
        .await?;
    many(conn, rows).await
}

/// Published notices to `team_id`, newest first (the team's Atom feed).
pub async fn published_to(
    conn: &mut AnyConnection,
    team_id: &str,
    limit: i64,
) -> Result<Vec<Notice>> {
    let sql = format!(
        "SELECT {COLUMNS} {FROM} WHERE n.status IN ('published', 'superseded') \
         AND n.published_at IS NOT NULL \
         AND EXISTS (SELECT 1 FROM notice_audience a WHERE a.notice_id = n.id AND a.team_id = $1) \
         ORDER BY n.published_at DESC, n.id DESC LIMIT $2"
    );
    let rows = sqlx::query(&sql)
        .bind(team_id)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    many(conn, rows).await
}

pub async fn insert(conn: &mut AnyConnection, n: &NewNotice<'_>) -> Result<String> {
    let id = super::new_id();
    let published_at = (n.status == NoticeStatus::Published).then_some(n.at);
    sqlx::query(
        "INSERT INTO notices (id, change_id, previous_id, status, kind, planned_at, planned_stage, \
         expected_changes, talking_points, created_by, created_at, published_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(id.as_str())
    .bind(n.change_id)
    .bind(n.previous_id)
    .bind(n.status.as_str())
    .bind(n.kind.as_str())
    .bind(n.planned_at)
    .bind(n.planned_stage.as_deref())
    .bind(n.expected_changes)
    .bind(n.talking_points)
    .bind(n.created_by)
    .bind(n.at)
    .bind(published_at)
    .execute(&mut *conn)
    .await?;
    set_audience(conn, &id, n.audience).await?;
    Ok(id)
}

async fn set_audience(conn: &mut AnyConnection, id: &str, teams: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM notice_audience WHERE notice_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for team in teams {
        sqlx::query("INSERT INTO notice_audience (notice_id, team_id) VALUES ($1, $2)")
            .bind(id)
            .bind(team.as_str())
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Rewrites a draft in place. False when it is no longer a draft.
pub async fn update_draft(conn: &mut AnyConnection, id: &str, n: &NewNotice<'_>) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE notices SET planned_at = $1, planned_stage = $2, expected_changes = $3, \
         talking_points = $4 WHERE id = $5 AND status = 'draft'",
    )
    .bind(n.planned_at)
    .bind(n.planned_stage.as_deref())
    .bind(n.expected_changes)
    .bind(n.talking_points)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    set_audience(conn, id, n.audience).await?;
    Ok(true)
}

/// Moves a notice from `from` to `to` (publishing stamps `published_at`). False when it was
/// not in `from` any more (a concurrent edit won).
pub async fn set_status(
    conn: &mut AnyConnection,
    id: &str,
    from: NoticeStatus,
    to: NoticeStatus,
    at: &str,
) -> Result<bool> {
    let done = if to == NoticeStatus::Published {
        sqlx::query(
            "UPDATE notices SET status = $1, published_at = $2 WHERE id = $3 AND status = $4",
        )
        .bind(to.as_str())
        .bind(at)
        .bind(id)
        .bind(from.as_str())
        .execute(conn)
        .await?
    } else {
        sqlx::query("UPDATE notices SET status = $1 WHERE id = $2 AND status = $3")
            .bind(to.as_str())
            .bind(id)
            .bind(from.as_str())
            .execute(conn)
            .await?
    };
    Ok(done.rows_affected() == 1)
}

/// Records `team_id`'s acknowledgement; a repeat keeps the first.
pub async fn acknowledge(
    conn: &mut AnyConnection,
    id: &str,
    team_id: &str,
    user_id: &str,
    at: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO notice_acks (notice_id, team_id, user_id, at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (notice_id, team_id) DO NOTHING",
    )
    .bind(id)
    .bind(team_id)
    .bind(user_id)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn mark_read(conn: &mut AnyConnection, id: &str, user_id: &str, at: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO notice_reads (notice_id, user_id, at) VALUES ($1, $2, $3) \
         ON CONFLICT (notice_id, user_id) DO NOTHING",
    )
    .bind(id)
    .bind(user_id)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// The newest published notice of a change addressed to `team_id`, with whether that team
/// acknowledged it: what the Support notice gates look at.
pub async fn latest_published_to(
    conn: &mut AnyConnection,
    change_id: &str,
    team_id: &str,
) -> Result<Option<(String, String, bool)>> {
    let row = sqlx::query(
        "SELECT n.id, n.published_at, \
         (SELECT COUNT(*) FROM notice_acks k WHERE k.notice_id = n.id AND k.team_id = $2) AS acks \
         FROM notices n JOIN notice_audience a ON a.notice_id = n.id AND a.team_id = $2 \
         WHERE n.change_id = $1 AND n.status = 'published' AND n.kind = 'manual' \
         ORDER BY n.published_at DESC, n.id DESC LIMIT 1",
    )
    .bind(change_id)
    .bind(team_id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok((
            r.try_get("id")?,
            r.try_get("published_at")?,
            r.try_get::<i64, _>("acks")? > 0,
        ))
    })
    .transpose()
}

/// Team ids of a change's latest notice (any status), for automatic notices.
pub async fn latest_audience(conn: &mut AnyConnection, change_id: &str) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT a.team_id FROM notice_audience a WHERE a.notice_id = \
         (SELECT n.id FROM notices n WHERE n.change_id = $1 ORDER BY n.created_at DESC, n.id DESC LIMIT 1)",
    )
    .bind(change_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| r.try_get("team_id").map_err(Error::from))
        .collect()
}
