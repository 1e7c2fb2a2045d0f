//! Queries on `ab_decisions`: the decision that ends a change's A/B test.

use shared::ab::{AbDecision, AbOutcome};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Error, Result};

fn from_row(r: &AnyRow, with_report: bool) -> Result<AbDecision> {
    let outcome: String = r.try_get("outcome")?;
    let report = if with_report {
        let text: Option<String> = r.try_get("report")?;
        text.map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|e| Error::internal(format!("stored decision report: {e}")))?
    } else {
        None
    };
    Ok(AbDecision {
        change_id: r.try_get("change_id")?,
        stage: r.try_get("stage")?,
        outcome: AbOutcome::parse(&outcome)
            .ok_or_else(|| Error::internal(format!("stored outcome `{outcome}`")))?,
        note: r.try_get("note")?,
        decided_by: r.try_get("decided_by")?,
        decided_at: r.try_get("decided_at")?,
        report,
    })
}

/// The decision on the change `change_id`, with its frozen report when `with_report`.
pub async fn find(
    conn: &mut AnyConnection,
    change_id: &str,
    with_report: bool,
) -> Result<Option<AbDecision>> {
    let row = sqlx::query(
        "SELECT change_id, stage, outcome, note, decided_by, decided_at, report \
         FROM ab_decisions WHERE change_id = $1",
    )
    .bind(change_id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| from_row(&r, with_report)).transpose()
}

/// Records `d`; `false` when the change already has a decision (one got there first).
pub async fn insert(conn: &mut AnyConnection, d: &AbDecision) -> Result<bool> {
    let report = d
        .report
        .as_ref()
        .map(serde_json::to_string)
        .transpose()
        .map_err(|e| Error::internal(format!("decision report: {e}")))?;
    let done = sqlx::query(
        "INSERT INTO ab_decisions (change_id, stage, outcome, note, decided_by, decided_at, \
         report) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (change_id) DO NOTHING",
    )
    .bind(&d.change_id)
    .bind(&d.stage)
    .bind(d.outcome.as_str())
    .bind(&d.note)
    .bind(&d.decided_by)
    .bind(&d.decided_at)
    .bind(report)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
