//! Queries on `transitions`, the rollout history.

use shared::api::TransitionRecord;
use shared::change::{AiChange, Pause};
use shared::plan::RolloutPlan;
use shared::rollout::{RolloutState, TransitionAction};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

use super::{Error, Result};

/// A transition the state machine has allowed, about to be stored.
#[derive(Debug, Clone)]
pub struct NewTransition<'a> {
    pub action: TransitionAction,
    pub to: RolloutState,
    /// The signed-in user's e-mail (or a demo user's).
    pub actor: &'a str,
    pub actor_id: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub at: &'a str,
    /// The report the move was decided on (the guardian's), frozen with it.
    pub evidence: Option<&'a serde_json::Value>,
}

/// Moves `change` to `t.to` and appends the history row and the audit row, inside the
/// caller's transaction. A pause marks the change held by `t.actor` for `t.reason`; a resume
/// and every other move clear the mark. `revision` is the revision the decision was based on;
/// if the change has moved on since, nothing is written and the answer is [`Error::Stale`].
pub async fn record(
    conn: &mut AnyConnection,
    change: &AiChange,
    revision: i64,
    t: &NewTransition<'_>,
    who: &super::audit::Who,
) -> Result<AiChange> {
    let paused = (t.action == TransitionAction::Pause).then(|| Pause {
        at: t.at.to_owned(),
        by: t.actor.to_owned(),
        reason: t.reason.unwrap_or_default().to_owned(),
    });
    if !super::changes::set_state(conn, change, revision, t.to, paused.as_ref(), t.at).await? {
        return Err(Error::Stale {
            sent: revision,
            current: current_revision(conn, &change.id).await?,
        });
    }
    sqlx::query(
        "INSERT INTO transitions (id, change_id, action, from_state, from_step, to_state, \
         to_step, actor, actor_id, reason, at, evidence) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(super::new_id())
    .bind(change.id.as_str())
    .bind(t.action.as_str())
    .bind(change.state.name())
    .bind(change.state.ramp_step().map(i64::from))
    .bind(t.to.name())
    .bind(t.to.ramp_step().map(i64::from))
    .bind(t.actor)
    .bind(t.actor_id)
    .bind(t.reason)
    .bind(t.at)
    .bind(t.evidence.map(serde_json::Value::to_string))
    .execute(&mut *conn)
    .await?;
    let action = format!("change.{}", t.action.as_str());
    let state = |s: RolloutState, paused: bool, revision: i64| {
        serde_json::json!({
            "state": s,
            "label": s.label_held(&change.plan, paused),
            "paused": paused,
            "revision": revision,
        })
    };
    let mut after = state(t.to, paused.is_some(), revision + 1);
    after["reason"] = serde_json::json!(t.reason);
    super::audit::append(
        conn,
        &super::audit::Record::new(who, &action, "change", Some(&change.id), t.at)
            .before_value(Some(state(change.state, change.paused.is_some(), revision)))
            .after_value(Some(after)),
    )
    .await?;
    Ok(AiChange {
        state: t.to,
        traffic_percent: shared::ab::candidate_share(change, t.to),
        paused,
        revision: revision + 1,
        updated_at: t.at.to_owned(),
        ..change.clone()
    })
}

/// A change's revision as stored now; `None` when it was deleted.
pub async fn current_revision(conn: &mut AnyConnection, change_id: &str) -> Result<Option<i64>> {
    let row = sqlx::query("SELECT revision FROM changes WHERE id = $1")
        .bind(change_id)
        .fetch_optional(conn)
        .await?;
    Ok(row.map(|row| row.try_get::<i64, _>(0)).transpose()?)
}

/// A change's history, oldest first, labelled with the change's plan.
pub async fn history(
    pool: &AnyPool,
    change_id: &str,
    plan: &RolloutPlan,
) -> Result<Vec<TransitionRecord>> {
    let rows = sqlx::query(
        "SELECT id, action, from_state, from_step, to_state, to_step, actor, reason, at, \
         evidence FROM transitions WHERE change_id = $1 ORDER BY at, id",
    )
    .bind(change_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(|row| from_row(row, plan)).collect()
}

/// When the rollout left draft, if it has: the time of its first transition.
pub async fn started_at(pool: &AnyPool, change_id: &str) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT at FROM transitions WHERE change_id = $1 AND from_state = 'draft' \
         ORDER BY at, id LIMIT 1",
    )
    .bind(change_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// When the rollout first entered `state` (a stored state name), if it has.
pub async fn entered_at(pool: &AnyPool, change_id: &str, state: &str) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT at FROM transitions WHERE change_id = $1 AND to_state = $2 ORDER BY at, id LIMIT 1",
    )
    .bind(change_id)
    .bind(state)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// When the rollout entered the stage it is at now: the time of the latest move into `state`
/// that changed the stage (a pause or a resume stays in it).
pub async fn stage_entered_at(
    pool: &AnyPool,
    change_id: &str,
    state: RolloutState,
) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT at FROM transitions WHERE change_id = $1 AND to_state = $2 \
         AND COALESCE(to_step, -1) = $3 AND action NOT IN ('pause', 'resume') \
         ORDER BY at DESC, id DESC LIMIT 1",
    )
    .bind(change_id)
    .bind(state.name())
    .bind(state.ramp_step().map_or(-1, i64::from))
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// Whether `actor` has paused the change since `since` (RFC 3339, inclusive).
pub async fn paused_by_since(
    pool: &AnyPool,
    change_id: &str,
    actor: &str,
    since: &str,
) -> Result<bool> {
    let row = sqlx::query(
        "SELECT COUNT(*) FROM transitions WHERE change_id = $1 AND action = 'pause' \
         AND actor = $2 AND at >= $3",
    )
    .bind(change_id)
    .bind(actor)
    .bind(since)
    .fetch_one(pool)
    .await?;
    Ok(row.try_get::<i64, _>(0)? > 0)
}

pub async fn count(pool: &AnyPool) -> Result<i64> {
    Ok(sqlx::query("SELECT COUNT(*) FROM transitions")
        .fetch_one(pool)
        .await?
        .try_get(0)?)
}

fn from_row(row: &AnyRow, plan: &RolloutPlan) -> Result<TransitionRecord> {
    let id: String = row.try_get("id")?;
    let corrupt = |column: &str| Error::internal(format!("transition {id}: bad stored {column}"));
    let state = |name_col: &str, step_col: &str| -> Result<RolloutState> {
        let name: String = row.try_get(name_col)?;
        let step: Option<i64> = row.try_get(step_col)?;
        let step = step
            .map(u32::try_from)
            .transpose()
            .map_err(|_| corrupt(step_col))?;
        RolloutState::from_parts(&name, step).ok_or_else(|| corrupt(name_col))
    };
    let action: String = row.try_get("action")?;
    let evidence: Option<String> = row.try_get("evidence")?;
    let evidence = evidence
        .map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(|_| corrupt("evidence"))?;
    let from = state("from_state", "from_step")?;
    let to = state("to_state", "to_step")?;
    Ok(TransitionRecord {
        action: TransitionAction::parse(&action).ok_or_else(|| corrupt("action"))?,
        from,
        to,
        from_label: from.label(plan),
        to_label: to.label(plan),
        actor: row.try_get("actor")?,
        reason: row.try_get("reason")?,
        at: row.try_get("at")?,
        evidence,
        id,
    })
}

/// One stored transition as the assignment lookup replays it. The action stays text: the
/// lookup must read every row a newer release may have written (a pause, a resume) without
/// failing on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub change_id: String,
    pub action: String,
    pub from: RolloutState,
    pub to: RolloutState,
    pub at: String,
}

/// Every transition made at or before `at`, by change, oldest first within a change.
pub async fn steps_until(pool: &AnyPool, at: &str) -> Result<Vec<Step>> {
    let rows = sqlx::query(
        "SELECT id, change_id, action, from_state, from_step, to_state, to_step, at \
         FROM transitions WHERE at <= $1 ORDER BY change_id, at, id",
    )
    .bind(at)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            let state = |name_col: &str, step_col: &str| -> Result<RolloutState> {
                let name: String = row.try_get(name_col)?;
                let step: Option<i64> = row.try_get(step_col)?;
                let step = step.and_then(|s| u32::try_from(s).ok());
                RolloutState::from_parts(&name, step).ok_or_else(|| {
                    Error::internal(format!("transition {id}: bad stored {name_col}"))
                })
            };
            Ok(Step {
                change_id: row.try_get("change_id")?,
                action: row.try_get("action")?,
                from: state("from_state", "from_step")?,
                to: state("to_state", "to_step")?,
                at: row.try_get("at")?,
            })
        })
        .collect()
}

/// Who rolled the change back and why: the actor and reason of its latest rollback, if any.
pub async fn last_rollback(
    pool: &AnyPool,
    change_id: &str,
) -> Result<Option<(String, Option<String>)>> {
    let row = sqlx::query(
        "SELECT actor, reason FROM transitions WHERE change_id = $1 AND action = 'roll_back' \
         ORDER BY at DESC, id DESC LIMIT 1",
    )
    .bind(change_id)
    .fetch_optional(pool)
    .await?;
    row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
}
