//! Queries on `approvals`: signatures on gates.

use shared::approvals::{ApprovalRecord, Decision, EvidenceSnapshot, UserRef, parse_stage_key};
use shared::auth::Role;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

use super::{Error, Result};

/// A signature about to be stored.
#[derive(Debug, Clone)]
pub struct NewSignature<'a> {
    pub change_id: &'a str,
    pub stage: &'a str,
    pub plan_revision: i64,
    pub revision: i64,
    pub user_id: &'a str,
    pub role: Role,
    pub decision: Decision,
    pub comment: Option<&'a str>,
    pub evidence: &'a EvidenceSnapshot,
    /// The signer confirmed having seen the change's breach (an approval in Breach needs it).
    pub seen_breach: bool,
    pub at: &'a str,
}

/// What signing did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signed {
    /// A new signature.
    Inserted,
    /// The signer had decided otherwise on this revision; their row now says this.
    Changed,
    /// The same decision was already stored: nothing written (a retry or a double click).
    Unchanged,
}

/// Stores a signature inside the caller's transaction. The insert comes first so that it
/// takes the write lock before any read (SQLite), and the unique key makes concurrent
/// requests of one signer collapse into one row.
pub async fn sign(conn: &mut AnyConnection, s: &NewSignature<'_>) -> Result<(String, Signed)> {
    let evidence = serde_json::to_string(s.evidence)
        .map_err(|e| Error::internal(format!("cannot serialize evidence: {e}")))?;
    let id = super::new_id();
    let inserted = sqlx::query(
        "INSERT INTO approvals (id, change_id, stage, plan_revision, revision, user_id, role, \
         decision, comment, evidence, at, seen_breach) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (change_id, stage, plan_revision, user_id) DO NOTHING",
    )
    .bind(id.as_str())
    .bind(s.change_id)
    .bind(s.stage)
    .bind(s.plan_revision)
    .bind(s.revision)
    .bind(s.user_id)
    .bind(s.role.as_str())
    .bind(s.decision.as_str())
    .bind(s.comment)
    .bind(evidence.as_str())
    .bind(s.at)
    .bind(i64::from(s.seen_breach))
    .execute(&mut *conn)
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok((id, Signed::Inserted));
    }
    let row = sqlx::query(
        "SELECT id, decision, role FROM approvals WHERE change_id = $1 AND stage = $2 \
         AND plan_revision = $3 AND user_id = $4",
    )
    .bind(s.change_id)
    .bind(s.stage)
    .bind(s.plan_revision)
    .bind(s.user_id)
    .fetch_one(&mut *conn)
    .await?;
    let existing: String = row.try_get(0)?;
    let decision: String = row.try_get(1)?;
    let role: String = row.try_get(2)?;
    if decision == s.decision.as_str() && role == s.role.as_str() {
        return Ok((existing, Signed::Unchanged));
    }
    sqlx::query(
        "UPDATE approvals SET decision = $1, role = $2, comment = $3, evidence = $4, \
         revision = $5, at = $6, seen_breach = $7 WHERE id = $8",
    )
    .bind(s.decision.as_str())
    .bind(s.role.as_str())
    .bind(s.comment)
    .bind(evidence)
    .bind(s.revision)
    .bind(s.at)
    .bind(i64::from(s.seen_breach))
    .bind(existing.as_str())
    .execute(&mut *conn)
    .await?;
    Ok((existing, Signed::Changed))
}

const SELECT: &str = "SELECT a.id, a.change_id, a.stage, a.plan_revision, a.revision, a.role, \
                      a.decision, a.comment, a.evidence, a.at, a.seen_breach, u.id AS user_id, u.name, \
                      u.email FROM approvals a JOIN users u ON u.id = a.user_id";

/// Every signature on the gate of `stage` (all plan revisions), oldest first; `current` is
/// set for those made on `plan_revision`.
pub async fn for_stage(
    pool: &AnyPool,
    change_id: &str,
    stage: &str,
    plan_revision: i64,
) -> Result<Vec<ApprovalRecord>> {
    let sql = format!("{SELECT} WHERE a.change_id = $1 AND a.stage = $2 ORDER BY a.at, a.id");
    let rows = sqlx::query(&sql)
        .bind(change_id)
        .bind(stage)
        .fetch_all(pool)
        .await?;
    rows.iter().map(|r| from_row(r, plan_revision)).collect()
}

pub async fn find(pool: &AnyPool, id: &str, plan_revision: i64) -> Result<Option<ApprovalRecord>> {
    let sql = format!("{SELECT} WHERE a.id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(pool).await?;
    row.as_ref().map(|r| from_row(r, plan_revision)).transpose()
}

/// Ids of the changes `user_id` has signed something on, most recent first.
pub async fn changes_signed_by(pool: &AnyPool, user_id: &str) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT change_id, MAX(at) AS last FROM approvals WHERE user_id = $1 \
         GROUP BY change_id ORDER BY last DESC LIMIT 200",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

pub async fn count(pool: &AnyPool) -> Result<i64> {
    Ok(sqlx::query("SELECT COUNT(*) FROM approvals")
        .fetch_one(pool)
        .await?
        .try_get(0)?)
}

fn from_row(row: &AnyRow, plan_revision: i64) -> Result<ApprovalRecord> {
    let id: String = row.try_get("id")?;
    let corrupt = |c: &str| Error::internal(format!("approval {id}: bad stored {c}"));
    let stage: String = row.try_get("stage")?;
    let role: String = row.try_get("role")?;
    let decision: String = row.try_get("decision")?;
    let evidence: String = row.try_get("evidence")?;
    let signed_on: i64 = row.try_get("plan_revision")?;
    let seen_breach: i64 = row.try_get("seen_breach")?;
    Ok(ApprovalRecord {
        change_id: row.try_get("change_id")?,
        stage: parse_stage_key(&stage).ok_or_else(|| corrupt("stage"))?,
        user: UserRef {
            id: row.try_get("user_id")?,
            name: row.try_get("name")?,
            email: row.try_get("email")?,
        },
        role: Role::parse(&role).ok_or_else(|| corrupt("role"))?,
        decision: Decision::parse(&decision).ok_or_else(|| corrupt("decision"))?,
        comment: row.try_get("comment")?,
        plan_revision: signed_on,
        revision: row.try_get("revision")?,
        evidence: serde_json::from_str(&evidence).map_err(|_| corrupt("evidence"))?,
        at: row.try_get("at")?,
        current: signed_on == plan_revision,
        seen_breach: seen_breach == 1,
        id,
    })
}
