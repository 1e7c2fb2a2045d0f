//! Moving a rollout: advance, skip, roll back, pause, resume. The console (through the API),
//! the demo seeding, the guardian that rolls back or pauses on bad metrics (`crate::guardian`)
//! and the command line all call [`transition`] or [`apply`], so a move is checked and
//! recorded one way.

use serde_json::Value;
use shared::access::transition_roles;
use shared::api::{ChangeDetail, TransitionRequest};
use shared::change::AiChange;
use shared::rollout::{self, TransitionAction};
use shared::validate;
use sqlx::{AnyConnection, AnyPool};

use super::{Actor, changes, flags, gates, notices};
use crate::db::{self, transitions::NewTransition};
use crate::error::Result;

/// Moves the change `id` as `request` asks, if `actor` may: the action's roles
/// ([`transition_roles`]), a reason where the state machine needs one, `request.revision`
/// still current, not paused (for an advance or a skip), and (for an advance or a skip) the
/// gate of the stage entered signed off.
pub async fn transition(
    pool: &AnyPool,
    actor: &Actor,
    id: &str,
    request: &TransitionRequest,
) -> Result<ChangeDetail> {
    transition_on_evidence(pool, actor, id, request, None).await
}

/// [`transition`], storing `evidence` (the report the move was decided on) with it: what the
/// guardian does.
pub async fn transition_on_evidence(
    pool: &AnyPool,
    actor: &Actor,
    id: &str,
    request: &TransitionRequest,
    evidence: Option<&Value>,
) -> Result<ChangeDetail> {
    let change = changes::find(pool, id).await?;
    actor.require(
        transition_roles(request.action),
        &format!("the transition `{}`", request.action.as_str()),
    )?;
    validate::reason(request.reason.as_deref())?;
    let sent = validate::transition_revision(request.revision)?;
    if sent != change.revision {
        return Err(changes::stale(sent, change.revision));
    }
    let to = rollout::transition(
        &change.plan,
        change.state,
        change.paused.is_some(),
        request.action,
        request.reason.as_deref(),
    )?;
    if matches!(
        request.action,
        TransitionAction::Advance | TransitionAction::Skip
    ) {
        gates::check(pool, &change, to).await?;
    }
    let moved = record(
        pool,
        actor,
        &change,
        request.action,
        request.reason.as_deref(),
        &db::now(),
        evidence,
    )
    .await?;
    if matches!(
        request.action,
        TransitionAction::Advance | TransitionAction::Skip
    ) {
        // The gate ahead may now wait for approvers. The move stands whatever happens here,
        // so a failure is logged, not answered.
        let asked = async {
            let gate = gates::status(pool, &moved, None).await?;
            gates::ask_for_sign_off(pool, &moved, &gate, &actor.user.name).await
        };
        if let Err(e) = asked.await {
            tracing::warn!(change = %moved.id, error = %e, "cannot ask for sign-off");
        }
    }
    changes::detail(pool, moved).await
}

/// Rolls the change `id` back, giving `reason`: what the command line does.
pub async fn rollback(
    pool: &AnyPool,
    actor: &Actor,
    id: &str,
    reason: &str,
) -> Result<ChangeDetail> {
    // The command line decides on the change as it is now.
    let current = changes::find(pool, id).await?;
    let request = TransitionRequest {
        action: TransitionAction::RollBack,
        reason: Some(reason.to_owned()),
        revision: Some(current.revision),
    };
    transition(pool, actor, id, &request).await
}

/// Records `action` on `change` at `at`, as the state machine allows, with its audit row and
/// automatic notice, in one transaction; without asking who may or whether a gate is signed:
/// the checks are [`transition`]'s. The demo seeding calls it
/// directly to write a history in the past.
pub async fn apply(
    pool: &AnyPool,
    actor: &Actor,
    change: &AiChange,
    action: TransitionAction,
    reason: Option<&str>,
    at: &str,
) -> Result<AiChange> {
    record(pool, actor, change, action, reason, at, None).await
}

/// [`apply`] with the evidence the move was decided on.
async fn record(
    pool: &AnyPool,
    actor: &Actor,
    change: &AiChange,
    action: TransitionAction,
    reason: Option<&str>,
    at: &str,
    evidence: Option<&Value>,
) -> Result<AiChange> {
    // Checked before the transaction too, so a refused move never takes SQLite's write lock.
    rollout::transition(
        &change.plan,
        change.state,
        change.paused.is_some(),
        action,
        reason,
    )?;
    let mut tx = db::begin(pool).await?;
    let moved = apply_in_on_evidence(&mut tx, actor, change, action, reason, at, evidence).await?;
    tx.commit().await?;
    // Before answering: the caller's next evaluation must see the move (a rollback in seconds).
    flags::changed(pool).await;
    tracing::info!(actor = %actor.user.email, id = %change.id, from = change.state.name(),
                   to = moved.state.name(), action = action.as_str(), "rollout moved");
    Ok(moved)
}

/// [`apply`] on the caller's transaction (the demo seeds its whole workspace in one).
pub async fn apply_in(
    conn: &mut AnyConnection,
    actor: &Actor,
    change: &AiChange,
    action: TransitionAction,
    reason: Option<&str>,
    at: &str,
) -> Result<AiChange> {
    apply_in_on_evidence(conn, actor, change, action, reason, at, None).await
}

/// Rolls `change` back on the caller's transaction, giving `reason` and the report the
/// decision was made on (an A/B test's revert or iteration, `app::decisions`); the caller
/// announces the flag change once it commits.
pub async fn roll_back_in(
    conn: &mut AnyConnection,
    actor: &Actor,
    change: &AiChange,
    reason: &str,
    at: &str,
    evidence: Option<&Value>,
) -> Result<AiChange> {
    apply_in_on_evidence(
        conn,
        actor,
        change,
        TransitionAction::RollBack,
        Some(reason),
        at,
        evidence,
    )
    .await
}

async fn apply_in_on_evidence(
    conn: &mut AnyConnection,
    actor: &Actor,
    change: &AiChange,
    action: TransitionAction,
    reason: Option<&str>,
    at: &str,
    evidence: Option<&Value>,
) -> Result<AiChange> {
    let to = rollout::transition(
        &change.plan,
        change.state,
        change.paused.is_some(),
        action,
        reason,
    )?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let who = actor.who();
    let moved = db::transitions::record(
        &mut *conn,
        change,
        change.revision,
        &NewTransition {
            action,
            to,
            actor: &actor.user.email,
            actor_id: actor.user_id(),
            reason,
            at,
            evidence,
        },
        &who,
    )
    .await?;
    notices::automatic(conn, change, action, to, reason, &who, at).await?;
    Ok(moved)
}
