//! The guardian: a server task that judges every live change (canary or ramp) with the report
//! the console draws (`app::gates::stage_report`, decided by `shared::guardian::decide`) and
//! rolls back a change whose pre-registered criterion breaches, in the aggregate or in any
//! segment, through the same transition path a person uses, as [`ACTOR`], with a reason
//! naming the metric, the segment, the estimate, its interval and the criterion. The automatic
//! notice and the team webhooks follow as for any rollback.
//!
//! When: after each ingestion batch this instance stored (the handler wakes it) and every
//! [`SWEEP`] on the instance holding the lease. Exactly once: the rollback names the revision
//! it judged, so when two instances (or a person and the guardian) act on the same data, the
//! second finds the change moved on and does nothing (one transition, one notice). The lease
//! is a PostgreSQL session advisory lock held on a connection of its own: when its instance
//! dies, the database drops the connection and the lock, and another instance takes it within
//! [`TRY_LEAD`]. On SQLite there is one instance per file, which always holds it.
//!
//! Data that fails the sample-ratio check is never acted on (the split itself is broken); the
//! guardian logs it and waits.

use std::sync::Arc;
use std::time::Duration;

use shared::api::TransitionRequest;
use shared::change::AiChange;
use shared::guardian::{Decision, decide};
use shared::rollout::TransitionAction;
use sqlx::{AnyConnection, AnyPool, Connection};
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
pub struct RolledBack {
    pub change_id: String,
    pub reason: String,
}

/// Judges every live change once and rolls back those with a breach.
pub async fn sweep(pool: &AnyPool) -> Result<Vec<RolledBack>> {
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

/// Judges one change as it was read; rolls it back on a breach.
pub async fn judge(pool: &AnyPool, change: &AiChange) -> Result<Option<RolledBack>> {
    let Some(report) = gates::stage_report(pool, change).await? else {
        return Ok(None);
    };
    match decide(&report) {
        Decision::Nothing => Ok(None),
        Decision::Distrust { reason } => {
            tracing::warn!(change = %change.id, %reason, "guardian does not act on this data");
            Ok(None)
        }
        Decision::RollBack { reason } => {
            let request = TransitionRequest {
                action: TransitionAction::RollBack,
                reason: Some(reason.clone()),
                revision: Some(change.revision),
            };
            match rollout::transition(pool, &Actor::guardian(), &change.id, &request).await {
                Ok(_) => {
                    tracing::warn!(change = %change.id, %reason, "guardian rolled back");
                    Ok(Some(RolledBack {
                        change_id: change.id.clone(),
                        reason,
                    }))
                }
                // Moved since it was read (another instance, or a person): that decision
                // stands, and the next sweep judges the change as it is now.
                Err(Error::Conflict(_) | Error::IllegalTransition(_)) => Ok(None),
                Err(e) => Err(e),
            }
        }
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
