//! Moving a rollout: advance, skip, roll back. The console (through the API), the demo seeding,
//! the guardian that rolls back on bad metrics (`crate::guardian`) and the command line all call
//! [`transition`] or [`apply`], so a move is checked and recorded one way.

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
/// still current, and (for an advance or a skip) the gate of the stage entered signed off.
pub async fn transition(
    pool: &AnyPool,
    actor: &Actor,
    id: &str,
    request: &TransitionRequest,
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
        request.action,
        request.reason.as_deref(),
    )?;
    if request.action != TransitionAction::RollBack {
        gates::check(pool, &change, to).await?;
    }
    let moved = apply(
        pool,
        actor,
        &change,
        request.action,
        request.reason.as_deref(),
        &db::now(),
    )
    .await?;
    changes::detail(pool, moved).await
}

/// Rolls the change `id` back, giving `reason`: what the guardian and the command line do.
pub async fn rollback(
    pool: &AnyPool,
    actor: &Actor,
    id: &str,
    reason: &str,
) -> Result<ChangeDetail> {
    // The guardian and the command line decide on the change as it is now.
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
    // Checked before the transaction too, so a refused move never takes SQLite's write lock.
    rollout::transition(&change.plan, change.state, action, reason)?;
    let mut tx = db::begin(pool).await?;
    let moved = apply_in(&mut tx, actor, change, action, reason, at).await?;
    tx.commit().await?;
    // Before answering: the caller's next evaluation must see the move (a rollback in seconds).
    flags::changed(pool).await;
    tracing::info!(actor = %actor.user.email, id = %change.id, from = change.state.name(),
                   to = moved.state.name(), "rollout moved");
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
    let to = rollout::transition(&change.plan, change.state, action, reason)?;
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
        },
        &who,
    )
    .await?;
    notices::automatic(conn, change, action, to, reason, &who, at).await?;
    Ok(moved)
}
