//! The decision that ends a change's A/B test (`shared::ab`): recorded once the A/B step has
//! run its declared duration, with the report over the step's own data frozen in it. *Keep*
//! opens the step's gate (its evidence reads the decision, `app::gates`); *revert* and
//! *iterate* roll the change back in the same transaction, the report as the rollback's
//! evidence.

use shared::ab::{self, AbDecision, AbDecisionInput};
use shared::access::EDITORS;
use sqlx::AnyPool;
use time::OffsetDateTime;

use super::{Actor, changes, flags, gates, rollout};
use crate::db::{self, audit::Record};
use crate::error::{Error, Result};

/// The decision on the change `id` with its frozen report, if one is recorded.
pub async fn get(pool: &AnyPool, id: &str) -> Result<Option<AbDecision>> {
    changes::find(pool, id).await?;
    let mut conn = pool.acquire().await?;
    Ok(db::decisions::find(&mut conn, id, true).await?)
}

/// Records `input` as the decision on the change `id`'s A/B test, as `actor`.
pub async fn decide(
    pool: &AnyPool,
    actor: &Actor,
    id: &str,
    input: &AbDecisionInput,
) -> Result<AbDecision> {
    let change = changes::find(pool, id).await?;
    ab::validate_decision(input)?;
    // The product's call as much as the rollout's: whoever edits changes decides, PMs too.
    actor.require(EDITORS, "an A/B test's decision")?;
    let Some((step_index, step)) = ab::ab_step(&change.plan) else {
        return Err(Error::conflict(
            "the change's plan has no A/B test step: a decision ends an A/B test",
        ));
    };
    let label = change.state.label(&change.plan);
    if change.state.ramp_step() != Some(step_index) {
        return Err(Error::conflict(format!(
            "a decision ends the A/B test while it runs ({}); the change is in {label}",
            shared::rollout::RolloutState::Ramp { step: step_index }.label(&change.plan)
        )));
    }
    let entered = db::transitions::stage_entered_at(pool, id, change.state)
        .await?
        .ok_or_else(|| Error::internal(format!("change {id} is in {label} without entering it")))?;
    let entered = gates::parse_time(&entered)?;
    let ends = entered + time::Duration::seconds_f64(step.min_duration_hours * 3600.0);
    let now = OffsetDateTime::now_utc();
    if now < ends {
        return Err(Error::conflict(format!(
            "the A/B test runs until {} (its declared {} h from its start); deciding before \
             then is peeking at a result that is not in yet",
            shared::notices::minute_utc(&db::timestamp(ends)),
            step.min_duration_hours,
        )));
    }
    let report = gates::report_since(pool, &change, entered.unix_timestamp()).await?;
    let at = db::now();
    let decision = AbDecision {
        change_id: change.id.clone(),
        stage: label,
        outcome: input.outcome,
        note: input.note.trim().to_owned(),
        decided_by: actor.user.name.clone(),
        decided_at: at.clone(),
        report,
    };
    let mut tx = db::begin(pool).await?;
    if !db::decisions::insert(&mut tx, &decision).await? {
        return Err(Error::conflict(
            "the A/B test is already decided: its decision stands (GET it to read it)",
        ));
    }
    db::audit::append(
        &mut tx,
        &Record::new(&actor.who(), "decision.record", "change", Some(id), &at).after(
            &serde_json::json!({
                "stage": decision.stage,
                "outcome": decision.outcome,
                "note": decision.note,
            }),
        ),
    )
    .await?;
    if input.outcome.rolls_back() {
        let evidence = decision
            .report
            .as_ref()
            .and_then(|r| serde_json::to_value(r).ok());
        rollout::roll_back_in(
            &mut tx,
            actor,
            &change,
            &ab::rollback_reason(input.outcome, &input.note),
            &at,
            evidence.as_ref(),
        )
        .await?;
    }
    tx.commit().await?;
    if input.outcome.rolls_back() {
        flags::changed(pool).await;
    }
    Ok(decision)
}
