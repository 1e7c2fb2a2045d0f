//! The guardian: a server task that judges every live change (canary or ramp) with the report
//! the console draws (`app::gates::stage_report`, decided by `shared::guardian::decide`) and
//! acts through the same transition path a person uses, as [`ACTOR`]:
//!
//! - it **rolls back** a change whose pre-registered criterion breaches, in the aggregate or in
//!   any segment, with a reason naming the metric, the segment, the estimate, its interval and
//!   the criterion (the automatic notice and the team webhooks follow as for any rollback);
//! - it **pauses** (holds) a change whose data fails the sample-ratio check, that shows a new
//!   error category above the plan's limit, whose metrics without a criterion drift
//!   significantly the bad way, whose stage has outlived the plan's `max_hours` while still
//!   inconclusive, or whose plan turns automatic rollback off when a criterion breaches. A
//!   paused change keeps its stage and traffic; advancing is refused until a person resumes
//!   or rolls back. The teams the change affects hear of the hold by webhook: that it is held,
//!   why, and what a person can do (`app::notices::automatic`); the webhooks of a rollback
//!   say it was the guardian's, and why.
//!
//! The whole report it decided on is frozen with the transition (`evidence` in the history).
//! It pauses a stage at most once: it never pauses a paused change, and after a person resumes
//! a stage it paused, it leaves that stage's holds to people. A paused change is acted on only
//! to roll it back on a breach (see `shared::guardian`).
//!
//! When: after each ingestion batch this instance stored (the handler wakes it) and every
//! [`SWEEP`] on the instance holding the lease. Exactly once: every move names the revision
//! it judged, so when two instances (or a person and the guardian) act on the same data, the
//! second finds the change moved on and does nothing (one transition, one notice). The lease
//! is a PostgreSQL session advisory lock held on a connection of its own: when its instance
//! dies, the database drops the connection and the lock, and another instance takes it within
//! [`TRY_LEAD`]. On SQLite there is one instance per file, which always holds it.

use std::sync::Arc;
use std::time::Duration;

use shared::api::TransitionRequest;
use shared::change::AiChange;
use shared::guardian::{Decision, Standing, decide};
use shared::rollout::TransitionAction;
use sqlx::{AnyConnection, AnyPool, Connection};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::app::{Actor, gates, rollout};
use crate::db;
use crate::error::{Error, Result};

/// The guardian's name in the history, the audit log and notices.
pub const ACTOR: &str = "guardian";
/// Longest time between two judgements of every live change, on the lease holder.
pub const SWEEP: Duration = Duration::from_secs(60);
/// How often an instance without the lease tries to take it.
pub const TRY_LEAD: Duration = Duration::from_secs(5);

/// What the guardian did to a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acted {
    pub change_id: String,
    /// [`TransitionAction::RollBack`] or [`TransitionAction::Pause`].
    pub action: TransitionAction,
    pub reason: String,
}

/// Judges every live change once; rolls back or pauses those that need it.
pub async fn sweep(pool: &AnyPool) -> Result<Vec<Acted>> {
    let mut done = Vec::new();
    for change in db::changes::live(pool).await? {
        match judge(pool, &change).await {
            Ok(Some(r)) => done.push(r),
            Ok(None) => {}
            // One change's trouble must not keep the others from being judged.
            Err(e) => tracing::warn!(change = %change.id, error = %e, "guardian could not judge"),
        }
    }
    Ok(done)
}

/// Judges one change as it was read; rolls it back or pauses it when the report says so.
pub async fn judge(pool: &AnyPool, change: &AiChange) -> Result<Option<Acted>> {
    let Some(report) = gates::stage_report(pool, change).await? else {
        return Ok(None);
    };
    let entered = db::transitions::stage_entered_at(pool, &change.id, change.state).await?;
    let hours_in_stage = match &entered {
        Some(at) => {
            let since = OffsetDateTime::parse(at, &Rfc3339)
                .map_err(|e| Error::internal(format!("stored transition time {at}: {e}")))?;
            Some((OffsetDateTime::now_utc() - since).as_seconds_f64() / 3600.0)
        }
        None => None,
    };
    let paused_by_guardian_in_stage = match &entered {
        Some(at) => db::transitions::paused_by_since(pool, &change.id, ACTOR, at).await?,
        None => false,
    };
    let standing = Standing {
        state: change.state,
        paused: change.paused.is_some(),
        paused_by_guardian_in_stage,
        hours_in_stage,
    };
    let (action, reason) = match decide(&report, &change.plan, &standing) {
        Decision::Nothing => return Ok(None),
        Decision::RollBack { reason } => (TransitionAction::RollBack, reason),
        Decision::Pause { reason } => (TransitionAction::Pause, reason),
    };
    let evidence = serde_json::to_value(&report)
        .map_err(|e| Error::internal(format!("cannot serialize the report: {e}")))?;
    let request = TransitionRequest {
        action,
        reason: Some(reason.clone()),
        revision: Some(change.revision),
    };
    match rollout::transition_on_evidence(
        pool,
        &Actor::guardian(),
        &change.id,
        &request,
        Some(&evidence),
    )
    .await
    {
        Ok(_) => {
            tracing::warn!(change = %change.id, action = action.as_str(), %reason,
                           "guardian acted");
            Ok(Some(Acted {
                change_id: change.id.clone(),
                action,
                reason,
            }))
        }
        // Moved since it was read (another instance, or a person): that decision stands,
        // and the next sweep judges the change as it is now.
        Err(Error::Conflict(_) | Error::IllegalTransition(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The guardian's lease: who sweeps every [`SWEEP`].
enum Lease {
    /// One instance per SQLite file.
    Sole,
    /// The connection holding the PostgreSQL advisory lock [`db::GUARDIAN_LOCK`].
    Held(AnyConnection),
}

impl Lease {
    /// Takes the lease if nobody holds it.
    async fn take(pool: &AnyPool) -> Option<Lease> {
        if pool.connect_options().database_url.scheme() == "sqlite" {
            return Some(Lease::Sole);
        }
        let attempt = async {
            let mut conn = pool.acquire().await?.detach();
            let (got,): (bool,) = sqlx::query_as("SELECT pg_try_advisory_lock($1)")
                .bind(db::GUARDIAN_LOCK)
                .fetch_one(&mut conn)
                .await?;
            Ok::<_, sqlx::Error>(got.then_some(conn))
        };
        match attempt.await {
            Ok(Some(conn)) => {
                tracing::info!("this instance now runs the guardian's sweeps");
                Some(Lease::Held(conn))
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "guardian lease");
                None
            }
        }
    }

    /// Whether the lease still holds (its connection is alive).
    async fn holds(&mut self) -> bool {
        match self {
            Lease::Sole => true,
            Lease::Held(conn) => conn.ping().await.is_ok(),
        }
    }
}

/// Starts the guardian. `wake` is notified after each ingestion batch; `stop` ends it.
pub fn spawn(pool: AnyPool, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut lease: Option<Lease> = None;
        let mut next_sweep = Instant::now();
        loop {
            if *stop.borrow() {
                return;
            }
            if let Some(l) = lease.as_mut()
                && !l.holds().await
            {
                tracing::warn!("guardian lease lost");
                lease = None;
            }
            if lease.is_none() {
                lease = Lease::take(&pool).await;
            }
            let wait = match lease {
                Some(_) => next_sweep.saturating_duration_since(Instant::now()),
                None => TRY_LEAD,
            };
            let woken = tokio::select! {
                _ = wake.notified() => true,
                _ = tokio::time::sleep(wait) => false,
                _ = stop.changed() => return,
            };
            let due = lease.is_some() && Instant::now() >= next_sweep;
            if woken || due {
                if due {
                    next_sweep = Instant::now() + SWEEP;
                }
                if let Err(e) = sweep(&pool).await {
                    tracing::warn!(error = %e, "guardian sweep");
                }
            }
        }
    })
}
