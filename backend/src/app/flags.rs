//! Flag evaluation (OFREP) from memory: every instance keeps a snapshot of all changes as
//! flags (key → state, plan, configurations, revisions), so that answering an evaluation
//! never waits for the database and keeps working while it is unreachable.
//!
//! The snapshot is rebuilt whole (a workspace has hundreds of changes, not millions):
//! * at once, before the call returns, on the instance that moved a rollout or edited a draft
//!   ([`changed`], called by `rollout::apply` and `changes::create`/`update` after commit);
//! * on the other instances sharing a PostgreSQL database within milliseconds, through
//!   `LISTEN/NOTIFY` on [`CHANNEL`] ([`spawn_sync`]);
//! * every [`RESYNC`] anyway, as a safety net for a notification lost while a listener
//!   reconnected.
//!
//! [`changed`] finds the snapshots to rebuild in a process-wide registry keyed by database
//! URL, because the use cases that move a rollout take only the pool (the demo seeding and
//! the command line call them too): the instance that made the change serves it on the next
//! request, with no race against a background task.
//!
//! Service tokens are cached here as well: a token checked within [`RESYNC`] is not read
//! again, and when the database cannot be reached a token seen before is still honoured.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};
use std::time::{Duration, Instant};

use shared::api::FlagSnapshotHealth;
use shared::api::{ChangeDetail, FlagRulesUpdate};
use shared::assignment::{EvaluationContext, Flag, Reason, evaluate};
use shared::change::AiChange;
use shared::metrics::Variant;
use shared::ofrep::{OfrepErrorCode, OfrepEvaluation, OfrepFailure, OfrepMetadata};
use shared::tokens::TokenInfo;
use sqlx::AnyPool;
use tokio::sync::watch;

use super::{Actor, changes};
use crate::db::{self, Backend};
use crate::error::{Error, Result};

/// The PostgreSQL notification channel a change to any flag is announced on.
pub const CHANNEL: &str = "rollgate_flags";

/// How often every instance rebuilds its snapshot regardless of notifications, and how long
/// a checked service token is trusted without reading it again.
pub const RESYNC: Duration = Duration::from_secs(30);

/// One change as a flag; its targeting rules are `change.flag_rules`.
#[derive(Debug, Clone)]
pub struct LiveFlag {
    pub change: AiChange,
    pub plan_revision: i64,
}

impl LiveFlag {
    /// The OFREP answer for `context`, or the failure when the stored rollout cannot be
    /// evaluated (a ramp step the plan does not have).
    pub fn evaluate(
        &self,
        context: &EvaluationContext,
    ) -> std::result::Result<OfrepEvaluation, OfrepFailure> {
        let c = &self.change;
        let flag = Flag {
            key: &c.flag_key,
            plan: &c.plan,
            rules: &c.flag_rules,
            state: c.state,
            paused_at_percent: None,
        };
        let assignment = evaluate(&flag, context);
        if assignment.reason == Reason::Error {
            return Err(OfrepFailure {
                key: Some(c.flag_key.clone()),
                error_code: OfrepErrorCode::General,
                error_details: format!(
                    "the change {} is in a state its plan does not have ({}); its owner must \
                     roll it back",
                    c.id,
                    c.state.label(&c.plan)
                ),
            });
        }
        let value = match assignment.variant {
            Variant::Control => &c.baseline,
            Variant::Candidate => &c.candidate,
        };
        Ok(OfrepEvaluation {
            key: c.flag_key.clone(),
            value: value.clone(),
            reason: assignment.reason,
            variant: assignment.variant,
            metadata: OfrepMetadata {
                change_id: c.id.clone(),
                stage: c.state.name().to_owned(),
                stage_label: c.state.label(&c.plan),
                plan_revision: self.plan_revision,
                revision: c.revision,
                bucket: assignment.bucket,
            },
        })
    }
}

/// Every flag as the database had them at one moment.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// By flag key, in key order (the bulk answer's order).
    pub flags: BTreeMap<String, LiveFlag>,
    /// When it was read; `None` for the empty snapshot before the first read.
    pub loaded_at: Option<(Instant, String)>,
}

impl Snapshot {
    /// The flag `key` as a token limited to `changes` (empty: every change) may see it.
    pub fn visible(&self, key: &str, changes: &[String]) -> Option<&LiveFlag> {
        self.flags.get(key).filter(|f| reaches(changes, f))
    }
}

/// Whether a token limited to `changes` (empty: every change) may see `flag`.
fn reaches(changes: &[String], flag: &LiveFlag) -> bool {
    changes.is_empty() || changes.contains(&flag.change.id)
}

#[derive(Debug, Clone)]
struct CachedToken {
    info: TokenInfo,
    checked: Instant,
    /// Cleared by every rebuild of the snapshot, so a revocation announced by [`changed`]
    /// is read at the token's next use.
    fresh: bool,
}

/// One instance's snapshot and token cache.
#[derive(Debug)]
pub struct FlagStore {
    /// The database URL, the registry's key.
    database: String,
    snapshot: RwLock<Arc<Snapshot>>,
    /// Why the last rebuild failed; cleared by the next one that succeeds.
    last_error: Mutex<Option<String>>,
    /// One rebuild at a time, so that a slow rebuild cannot store an older read over a newer.
    rebuilding: tokio::sync::Mutex<()>,
    tokens: Mutex<HashMap<String, CachedToken>>,
    /// Bumped by every rebuild that changed something: what server-sent event streams wait on.
    generation: watch::Sender<u64>,
}

fn registry() -> &'static Mutex<Vec<Weak<FlagStore>>> {
    static STORES: Mutex<Vec<Weak<FlagStore>>> = Mutex::new(Vec::new());
    &STORES
}

/// The registry's key for a pool's database.
fn database_of(pool: &AnyPool) -> String {
    pool.connect_options().database_url.to_string()
}

impl FlagStore {
    /// An empty store for `pool`'s database, registered so that [`changed`] rebuilds it.
    pub fn new(pool: &AnyPool) -> Arc<Self> {
        let store = Arc::new(FlagStore {
            database: database_of(pool),
            snapshot: RwLock::new(Arc::default()),
            last_error: Mutex::new(None),
            rebuilding: tokio::sync::Mutex::new(()),
            tokens: Mutex::new(HashMap::new()),
            generation: watch::channel(0).0,
        });
        let mut stores = registry().lock().unwrap_or_else(PoisonError::into_inner);
        stores.retain(|s| s.strong_count() > 0);
        stores.push(Arc::downgrade(&store));
        store
    }

    /// The snapshot as it is; read from the database only if it never was.
    pub async fn current(&self, pool: &AnyPool) -> Result<Arc<Snapshot>> {
        let snapshot = self.peek();
        if snapshot.loaded_at.is_some() {
            return Ok(snapshot);
        }
        self.rebuild(pool).await?;
        Ok(self.peek())
    }

    fn peek(&self) -> Arc<Snapshot> {
        self.snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Reads every flag again. On failure the previous snapshot stays in service and the
    /// error is kept for the health check.
    pub async fn rebuild(&self, pool: &AnyPool) -> Result<()> {
        let _one_at_a_time = self.rebuilding.lock().await;
        let read = db::changes::flags(pool).await;
        let rows = match read {
            Ok(rows) => rows,
            Err(e) => {
                *self
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(e.to_string());
                return Err(e.into());
            }
        };
        let flags: BTreeMap<String, LiveFlag> = rows
            .into_iter()
            .map(|(change, plan_revision)| {
                let flag = LiveFlag {
                    change,
                    plan_revision,
                };
                (flag.change.flag_key.clone(), flag)
            })
            .collect();
        let before = self.peek();
        let same = before.loaded_at.is_some()
            && before.flags.len() == flags.len()
            && before.flags.iter().zip(&flags).all(|((k1, a), (k2, b))| {
                k1 == k2 && a.change.revision == b.change.revision && a.change.id == b.change.id
            });
        *self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Arc::new(Snapshot {
            flags,
            loaded_at: Some((Instant::now(), db::now())),
        });
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
        for token in self
            .tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values_mut()
        {
            token.fresh = false;
        }
        if !same {
            self.generation.send_modify(|g| *g = g.wrapping_add(1));
        }
        Ok(())
    }

    /// A receiver woken by every rebuild that changed a flag.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.generation.subscribe()
    }

    /// The service token whose secret is `secret`, revoked or not: from the cache when it
    /// was checked within [`RESYNC`] and no rebuild happened since, else from the database,
    /// and from the cache whatever its age when the database fails.
    pub async fn token(&self, pool: &AnyPool, secret: &str) -> Result<Option<TokenInfo>> {
        let hash = db::tokens::hash(secret);
        let cached = self
            .tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&hash)
            .cloned();
        if let Some(c) = &cached
            && c.fresh
            && c.checked.elapsed() < RESYNC
        {
            return Ok(Some(c.info.clone()));
        }
        match db::tokens::find_by_secret(pool, secret).await {
            Ok(found) => {
                let mut tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
                match &found {
                    Some(info) => {
                        tokens.insert(
                            hash,
                            CachedToken {
                                info: info.clone(),
                                checked: Instant::now(),
                                fresh: true,
                            },
                        );
                    }
                    None => {
                        tokens.remove(&hash);
                    }
                }
                Ok(found)
            }
            Err(e) => match cached {
                Some(c) => {
                    tracing::warn!(error = %e, token = %c.info.prefix,
                                   "database unreachable: honouring the token as last checked");
                    Ok(Some(c.info))
                }
                None => Err(e.into()),
            },
        }
    }

    /// What `/api/v1/health` says about the snapshot.
    pub fn health(&self) -> FlagSnapshotHealth {
        let snapshot = self.peek();
        FlagSnapshotHealth {
            loaded: snapshot.loaded_at.is_some(),
            flags: u32::try_from(snapshot.flags.len()).unwrap_or(u32::MAX),
            loaded_at: snapshot.loaded_at.as_ref().map(|(_, at)| at.clone()),
            age_seconds: snapshot
                .loaded_at
                .as_ref()
                .map(|(at, _)| at.elapsed().as_secs_f64()),
            last_error: self
                .last_error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
                .map(|_| "the last rebuild could not read the database".to_owned()),
        }
    }
}

/// Replaces a draft's flag rules, if `edit.revision` is still current: 404 for no change, 409
/// once the rollout started or when the revision is stale, 422 for rules that break a limit or
/// declare a rule for an audience the plan does not have.
pub async fn set_rules(
    pool: &AnyPool,
    actor: &Actor,
    id: &str,
    edit: &FlagRulesUpdate,
) -> Result<ChangeDetail> {
    let current = changes::find(pool, id).await?;
    changes::check_editable(pool, &current, edit.revision).await?;
    edit.rules.validate()?;
    for (i, rule) in edit.rules.audiences.iter().enumerate() {
        if !current
            .plan
            .audiences
            .iter()
            .any(|a| a.name == rule.audience)
        {
            return Err(Error::validation(
                format!("rules.audiences[{i}].audience"),
                format!(
                    "the plan has no audience `{}`; its audiences are: {}",
                    rule.audience,
                    current
                        .plan
                        .audiences
                        .iter()
                        .map(|a| format!("`{}`", a.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    let at = db::now();
    let mut tx = db::begin(pool).await?;
    if db::changes::set_flag_rules(&mut tx, id, edit.revision, &edit.rules, &at).await? {
        db::audit::append(
            &mut tx,
            &db::audit::Record::new(&actor.who(), "change.flag_rules", "change", Some(id), &at)
                .before(&current.flag_rules)
                .after(&edit.rules),
        )
        .await?;
        tx.commit().await?;
        changed(pool).await;
    } else {
        tx.rollback().await?;
        // Someone moved or edited it between our read and our write: explain with a re-read.
        let now = changes::find(pool, id).await?;
        changes::check_editable(pool, &now, edit.revision).await?;
        return Err(changes::stale(edit.revision, now.revision));
    }
    tracing::info!(actor = %actor.user.email, %id, revision = edit.revision + 1, "flag rules edited");
    changes::get(pool, id).await
}

/// Says that flags (or tokens) changed in `pool`'s database, after the change committed:
/// rebuilds every snapshot of this process on that database before returning, and on
/// PostgreSQL notifies the other instances. Failures are logged, not returned: the change is
/// made, and the periodic resync catches up.
pub async fn changed(pool: &AnyPool) {
    let database = database_of(pool);
    let stores: Vec<Arc<FlagStore>> = registry()
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter_map(Weak::upgrade)
        .filter(|s| s.database == database)
        .collect();
    for store in stores {
        if let Err(e) = store.rebuild(pool).await {
            tracing::warn!(error = %e, "could not rebuild the flag snapshot; serving the last one");
        }
    }
    if Backend::from_url(&database) == Some(Backend::Postgres)
        && let Err(e) = sqlx::raw_sql(&format!("NOTIFY {CHANNEL}"))
            .execute(pool)
            .await
    {
        tracing::warn!(error = %e, "could not notify the other instances of a flag change");
    }
}

/// Keeps `store` current in the background: listens on [`CHANNEL`] on PostgreSQL
/// (reconnecting every second while it cannot), and rebuilds every [`RESYNC`] on any
/// database, until `stopped`.
pub fn spawn_sync(
    store: Arc<FlagStore>,
    pool: AnyPool,
    database_url: String,
    mut stopped: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let postgres = Backend::from_url(&database_url) == Some(Backend::Postgres);
        let mut listener: Option<sqlx::postgres::PgListener> = None;
        let mut resync = tokio::time::interval(RESYNC);
        resync.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if postgres && listener.is_none() {
                match listen(&database_url).await {
                    Ok(l) => {
                        listener = Some(l);
                        // Whatever was announced while no one listened.
                        rebuild_logged(&store, &pool).await;
                    }
                    Err(e) => tracing::warn!(error = %e, "cannot listen for flag changes yet"),
                }
            }
            tokio::select! {
                _ = resync.tick() => rebuild_logged(&store, &pool).await,
                received = next(&mut listener) => match received {
                    Ok(()) => rebuild_logged(&store, &pool).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "lost the flag change listener");
                        listener = None;
                    }
                },
                () = tokio::time::sleep(Duration::from_secs(1)), if postgres && listener.is_none() => {}
                // The guard `wait_for` answers is not `Send`: drop it inside.
                () = async { drop(stopped.wait_for(|s| *s).await) } => return,
            }
        }
    })
}

async fn listen(url: &str) -> sqlx::Result<sqlx::postgres::PgListener> {
    let mut listener = sqlx::postgres::PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// The next notification; never, without a listener.
async fn next(listener: &mut Option<sqlx::postgres::PgListener>) -> sqlx::Result<()> {
    match listener {
        Some(l) => l.recv().await.map(|_| ()),
        None => std::future::pending().await,
    }
}

async fn rebuild_logged(store: &FlagStore, pool: &AnyPool) {
    if let Err(e) = store.rebuild(pool).await {
        tracing::warn!(error = %e, "could not rebuild the flag snapshot; serving the last one");
    }
}

/// The answer for `key` and `context`, for a token limited to `changes` (empty: every
/// change). A flag outside the limit is not found, as if it did not exist.
pub fn evaluate_one(
    snapshot: &Snapshot,
    key: &str,
    changes: &[String],
    context: &EvaluationContext,
) -> std::result::Result<OfrepEvaluation, OfrepFailure> {
    match snapshot.visible(key, changes) {
        Some(flag) => flag.evaluate(context),
        None => Err(OfrepFailure {
            key: Some(key.to_owned()),
            error_code: OfrepErrorCode::FlagNotFound,
            error_details: format!("no change has the flag key `{key}`"),
        }),
    }
}

/// Every flag a token limited to `changes` (empty: every change) may see, evaluated for
/// `context`.
pub fn evaluate_all(
    snapshot: &Snapshot,
    changes: &[String],
    context: &EvaluationContext,
) -> Vec<shared::ofrep::OfrepBulkItem> {
    use shared::ofrep::OfrepBulkItem;
    snapshot
        .flags
        .values()
        .filter(|f| reaches(changes, f))
        .map(|f| match f.evaluate(context) {
            Ok(e) => OfrepBulkItem::Evaluated(e),
            Err(e) => OfrepBulkItem::Failed(e),
        })
        .collect()
}
