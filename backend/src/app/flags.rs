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
use shared::assignment::{Assignment, EvaluationContext, Flag, Reason, evaluate};
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
    /// Per variant (control, then candidate), the answer's JSON up to its bucket, serialised
    /// once per snapshot: `{"key":…,"value":{…},"variant":"…","metadata":{…,"bucket":`. An
    /// answer is this, the context's bucket and its reason ([`LiveFlag::write`]), so the
    /// configurations are neither cloned nor serialised again per request.
    heads: [Box<[u8]>; 2],
}

impl LiveFlag {
    pub fn new(change: AiChange, plan_revision: i64) -> serde_json::Result<Self> {
        let heads = [
            head(&change, plan_revision, Variant::Control)?,
            head(&change, plan_revision, Variant::Candidate)?,
        ];
        Ok(LiveFlag {
            change,
            plan_revision,
            heads,
        })
    }

    /// The assignment of `context`, or the failure when the stored rollout cannot be
    /// evaluated (a ramp step the plan does not have).
    fn assign(&self, context: &EvaluationContext) -> std::result::Result<Assignment, OfrepFailure> {
        let c = &self.change;
        let flag = Flag {
            key: &c.flag_key,
            plan: &c.plan,
            rules: &c.flag_rules,
            state: c.state,
            // A pause keeps the state, so the share held is the state's own: every context
            // keeps the variant it had (as the history API computes it).
            paused_at_percent: c.paused.as_ref().map(|_| c.state.traffic_percent(&c.plan)),
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
        Ok(assignment)
    }

    /// The OFREP answer for `context`, as a value (what [`LiveFlag::write`] sends).
    pub fn evaluate(
        &self,
        context: &EvaluationContext,
    ) -> std::result::Result<OfrepEvaluation, OfrepFailure> {
        let assignment = self.assign(context)?;
        let c = &self.change;
        let value = match assignment.variant {
            Variant::Control => &c.baseline,
            Variant::Candidate => &c.candidate,
        };
        Ok(OfrepEvaluation {
            key: c.flag_key.clone(),
            value: value.clone(),
            reason: assignment.reason,
            variant: assignment.variant,
            metadata: metadata(c, self.plan_revision, assignment.bucket),
        })
    }

    /// Appends the OFREP answer for `context` to `out` as JSON, from the pre-serialised
    /// head of its variant; the failure is for the caller to write.
    pub fn write(
        &self,
        context: &EvaluationContext,
        out: &mut Vec<u8>,
    ) -> std::result::Result<(), OfrepFailure> {
        let assignment = self.assign(context)?;
        let head = match assignment.variant {
            Variant::Control => &self.heads[0],
            Variant::Candidate => &self.heads[1],
        };
        out.extend_from_slice(head);
        let mut digits = [0u8; 5];
        out.extend_from_slice(decimal(assignment.bucket, &mut digits));
        out.extend_from_slice(b"},\"reason\":\"");
        out.extend_from_slice(assignment.reason.as_str().as_bytes());
        out.extend_from_slice(b"\"}");
        Ok(())
    }
}

/// `n` in decimal, written at the end of `buf`.
fn decimal(mut n: u16, buf: &mut [u8; 5]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[i..];
        }
    }
}

fn metadata(c: &AiChange, plan_revision: i64, bucket: u16) -> OfrepMetadata {
    OfrepMetadata {
        change_id: c.id.clone(),
        stage: c.state.name().to_owned(),
        stage_label: c.state_label(),
        plan_revision,
        revision: c.revision,
        paused: c.paused.is_some(),
        paused_at: c.paused.as_ref().map(|p| p.at.clone()),
        bucket,
    }
}

/// The answer of `change` for `variant` up to its bucket (see [`LiveFlag`]).
fn head(change: &AiChange, plan_revision: i64, variant: Variant) -> serde_json::Result<Box<[u8]>> {
    let value = match variant {
        Variant::Control => &change.baseline,
        Variant::Candidate => &change.candidate,
    };
    let mut out = Vec::with_capacity(256 + value.to_string().len());
    out.extend_from_slice(b"{\"key\":");
    serde_json::to_writer(&mut out, &change.flag_key)?;
    out.extend_from_slice(b",\"value\":");
    serde_json::to_writer(&mut out, value)?;
    out.extend_from_slice(b",\"variant\":");
    serde_json::to_writer(&mut out, &variant)?;
    out.extend_from_slice(b",\"metadata\":{");
    let serde_json::Value::Object(mut fields) =
        serde_json::to_value(metadata(change, plan_revision, 0))?
    else {
        return Err(serde::ser::Error::custom("the metadata is not an object"));
    };
    fields.remove("bucket");
    for (name, value) in &fields {
        serde_json::to_writer(&mut out, name)?;
        out.push(b':');
        serde_json::to_writer(&mut out, value)?;
        out.push(b',');
    }
    out.extend_from_slice(b"\"bucket\":");
    Ok(out.into_boxed_slice())
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
    info: Arc<TokenInfo>,
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
                let flag = LiveFlag::new(change, plan_revision).map_err(|e| {
                    Error::internal(format!("a flag's answer cannot be serialised: {e}"))
                })?;
                Ok((flag.change.flag_key.clone(), flag))
            })
            .collect::<Result<_>>()?;
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
    pub async fn token(&self, pool: &AnyPool, secret: &str) -> Result<Option<Arc<TokenInfo>>> {
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
        let found = db::tokens::find_by_secret(pool, secret)
            .await
            .map(|found| found.map(Arc::new));
        match found {
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

/// Appends the answer for `key` and `context` to `out`, for a token limited to `changes`
/// (empty: every change). A flag outside the limit is not found, as if it did not exist.
pub fn write_one(
    snapshot: &Snapshot,
    key: &str,
    changes: &[String],
    context: &EvaluationContext,
    out: &mut Vec<u8>,
) -> std::result::Result<(), OfrepFailure> {
    match snapshot.visible(key, changes) {
        Some(flag) => flag.write(context, out),
        None => Err(OfrepFailure {
            key: Some(key.to_owned()),
            error_code: OfrepErrorCode::FlagNotFound,
            error_details: format!("no change has the flag key `{key}`"),
        }),
    }
}

/// Appends every flag a token limited to `changes` (empty: every change) may see, evaluated
/// for `context`, to `out` as a JSON array of OFREP bulk items (an evaluation, or the failure
/// of a flag that cannot be evaluated).
pub fn write_all(
    snapshot: &Snapshot,
    changes: &[String],
    context: &EvaluationContext,
    out: &mut Vec<u8>,
) -> serde_json::Result<()> {
    out.push(b'[');
    let mut first = true;
    for flag in snapshot.flags.values().filter(|f| reaches(changes, f)) {
        if !first {
            out.push(b',');
        }
        first = false;
        if let Err(failure) = flag.write(context, out) {
            serde_json::to_writer(&mut *out, &failure)?;
        }
    }
    out.push(b']');
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::change::Pause;
    use shared::ofrep::OfrepBulkItem;
    use shared::plan::PlanTemplate;
    use shared::rollout::RolloutState;

    fn change(key: &str, state: RolloutState) -> AiChange {
        let mut c: AiChange = serde_json::from_value(serde_json::json!({
            "id": format!("id-{key}"),
            "flag_key": key,
            "title": "Shorter answers \"quoted\"",
            "kind": "prompt",
            "risk": "standard",
            "baseline": {"prompt": "long \u{e9}\n", "n": 1},
            "candidate": {"prompt": "short", "tools": ["a", "b"]},
            "expected_changes": "shorter",
            "owner": "o@example.com",
            "plan": PlanTemplate::Standard.plan(),
            "state": RolloutState::Draft,
            "traffic_percent": 0.0,
            "revision": 3,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }))
        .expect("a change");
        c.state = state;
        c
    }

    fn snapshot(changes: Vec<AiChange>) -> Snapshot {
        Snapshot {
            flags: changes
                .into_iter()
                .map(|c| (c.flag_key.clone(), LiveFlag::new(c, 2).unwrap()))
                .collect(),
            loaded_at: None,
        }
    }

    #[test]
    fn written_answers_are_the_evaluations_serialised() {
        let mut paused = change("p", RolloutState::Canary);
        paused.paused = Some(Pause {
            at: "2026-01-02T00:00:00Z".into(),
            by: "guardian".into(),
            reason: "slow".into(),
        });
        let mut broken = change("x", RolloutState::Ramp { step: 40 });
        broken.revision = 9;
        let snap = snapshot(vec![
            change("a", RolloutState::Canary),
            change("b", RolloutState::Full),
            change("c", RolloutState::RolledBack),
            paused,
            broken,
        ]);
        for i in 0..300 {
            let ctx = EvaluationContext::new(format!("user-{i}"))
                .with("internal", i % 2 == 0)
                .with("plan", "paid");
            for (key, flag) in &snap.flags {
                let mut out = Vec::new();
                match (flag.write(&ctx, &mut out), flag.evaluate(&ctx)) {
                    (Ok(()), Ok(e)) => {
                        let written: OfrepEvaluation = serde_json::from_slice(&out)
                            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)));
                        assert_eq!(written, e, "{key}");
                        assert_eq!(
                            serde_json::from_slice::<serde_json::Value>(&out).unwrap(),
                            serde_json::to_value(&e).unwrap()
                        );
                    }
                    (Err(a), Err(b)) => assert_eq!(a, b),
                    (a, b) => panic!("{key}: {a:?} vs {b:?}"),
                }
            }
            let mut all = Vec::new();
            write_all(&snap, &[], &ctx, &mut all).unwrap();
            let items: Vec<OfrepBulkItem> = serde_json::from_slice(&all).unwrap();
            assert_eq!(items.len(), 5);
            assert!(matches!(&items[4], OfrepBulkItem::Failed(f) if f.key.as_deref() == Some("x")));
            let mut limited = Vec::new();
            write_all(&snap, &["id-b".to_owned()], &ctx, &mut limited).unwrap();
            let items: Vec<OfrepBulkItem> = serde_json::from_slice(&limited).unwrap();
            assert_eq!(items.len(), 1);
        }
        let meta = |key: &str| {
            let mut out = Vec::new();
            snap.flags[key]
                .write(&EvaluationContext::new("u"), &mut out)
                .unwrap();
            serde_json::from_slice::<serde_json::Value>(&out).unwrap()["metadata"].clone()
        };
        assert_eq!(meta("p")["paused"], true);
        assert_eq!(meta("p")["pausedAt"], "2026-01-02T00:00:00Z");
        assert_eq!(meta("a")["paused"], false);
        assert!(meta("a").get("pausedAt").is_none());
    }

    #[test]
    fn buckets_are_written_in_decimal() {
        let mut buf = [0u8; 5];
        for n in [0u16, 7, 10, 99, 100, 9999, u16::MAX] {
            assert_eq!(decimal(n, &mut buf), n.to_string().as_bytes());
        }
    }
}
