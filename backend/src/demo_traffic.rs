//! Demo traffic: a simulated production app serving the demo's in-flight rollouts as an
//! application would, asking Rollgate which variant each user gets (OFREP) and reporting the
//! metrics of what it served through the real ingestion route, so the canary page has live,
//! realistic data and a rollback in the console empties the candidate's side.
//!
//! Each fed change gets a service token with the scopes `ingest` and `evaluate`, limited to
//! that change (created directly in the database, as the `system` actor of the audit log: the
//! simulator is no signed-in admin). Every evaluation goes through `POST
//! /ofrep/v1/evaluate/flags` and every window through `POST /api/v1/changes/{id}/metrics` on
//! the application's own `Router` (`tower::ServiceExt::oneshot`): authentication, evaluation,
//! validation and storage are all exercised.
//!
//! # Who gets what
//!
//! The simulated users of a segment are [`PROBES`] targeting keys spread evenly over the
//! flag's buckets (one in each hundredth of `0..10 000`, found with the published bucket
//! hash), with the segment's attributes as context (`plan`, `locale`, `cohort`, `internal`).
//! At the start of every window the simulator evaluates them all; the share served the
//! candidate is that segment's candidate share for the whole window. Evenly spread keys make
//! that share the rollout's exact percentage (at whole percents) instead of a sample of it,
//! so the sample-ratio check sees the split the plan asked for. A rollback, a pause or a
//! step forward in the console therefore shows from the next window on, and a change rolled
//! back sends control windows only. The backfill of the past is drawn with the split served
//! when the simulator starts: it has no record of what it served before.
//!
//! # Windows
//!
//! Windows are 5 minutes long on a fixed grid (`rollgate serve --demo-window-seconds N` makes
//! them shorter, for a browser test that must see a rollback reach the next window). The current window must be sendable while it is
//! still running, and ingestion refuses windows that end more than
//! `shared::metrics::MAX_FUTURE_SECONDS` (5 minutes) ahead; one grid for the backfill and the
//! live data also means a restart can never send two windows over the same span. On start the
//! last 24 hours are filled in (only what is missing, plus the last stored window, which may
//! have been sent half-full); then every [`TICK`] the current window is sent again with its
//! counts grown. Sending the same key again replaces the window, which is the point: the page
//! updates live and nothing is counted twice.
//!
//! # Numbers
//!
//! Every window is drawn from [`SplitMix64`] seeded by (change, segment, window start), so it
//! is the same on every send and every restart. A running window is the finished window scaled
//! down to the elapsed fraction (counts rounded, sums scaled with their `n`), so its counts only
//! ever grow and it ends exactly as the finished window.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use shared::metrics::{MetricValue, Variant};
use shared::synthetic::SplitMix64;
use shared::tokens::TokenScope;
use sqlx::AnyPool;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::db;
use crate::error::{Error, Result};

/// Length of a window, unless the server is told otherwise (`--demo-window-seconds`).
pub const WINDOW: i64 = 300;
/// Shortest and longest window the simulator takes: it must send a window while it runs, and
/// ingestion refuses windows ending more than `shared::metrics::MAX_FUTURE_SECONDS` ahead.
pub const WINDOW_RANGE: std::ops::RangeInclusive<i64> = 2..=300;
/// How far back the backfill goes with [`WINDOW`]: 24 hours. Shorter windows backfill as many
/// windows ([`BACKFILL_WINDOWS`]), not as many hours.
pub const BACKFILL: i64 = 24 * 3600;
const BACKFILL_WINDOWS: i64 = BACKFILL / WINDOW;
/// How often the current window is sent again (half a window when windows are shorter).
pub const TICK: Duration = Duration::from_secs(5);
/// Windows per ingestion request during the backfill.
const BATCH: usize = 2000;
/// Who the demo's tokens are created by, and their name.
const ACTOR: &str = "demo-traffic";
const TOKEN_NAME: &str = "Demo traffic simulator";
/// A simulator token unused this long belongs to an instance that stopped without revoking it
/// (a crash, a kill): any running instance revokes it. A running simulator uses its tokens
/// every [`TICK`] and ingestion records the use to the minute, so ten minutes leaves a wide
/// margin for a slow database; an instance whose tokens were revoked all the same (one that
/// could not send for ten minutes) makes itself new ones.
pub const ABANDONED_AFTER: time::Duration = time::Duration::minutes(10);
/// Ticks between two looks for abandoned tokens (and for this instance's own revoked ones).
const SWEEP_TICKS: u32 = 12;

/// Latency buckets (ms), Prometheus-style; the last one catches everything slower.
pub const LATENCY_LE: [f64; 13] = [
    100.0, 250.0, 500.0, 750.0, 1000.0, 1500.0, 2000.0, 2500.0, 3000.0, 4000.0, 6000.0, 10_000.0,
    30_000.0,
];

/// Simulated users per segment, each evaluated at the start of every window: one per
/// hundredth of the buckets, so shares are exact to the whole percent.
pub const PROBES: usize = 100;

/// One simulated product and the change rolled out on it.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The demo change's title starts with this.
    pub title: &'static str,
    pub seed: u64,
    /// Requests per hour over all segments, before the time-of-day swing.
    pub requests_per_hour: f64,
    pub segments: &'static [Segment],
    /// Candidate effects, everywhere unless a segment says otherwise.
    pub cost_factor: f64,
    pub latency_factor: f64,
    pub pass_rate_delta: f64,
    /// Rate of the candidate-only `tool_timeout` error category.
    pub tool_timeout_rate: f64,
}

/// A segment: its share of traffic and how it differs.
#[derive(Debug, Clone, Copy)]
pub struct Segment {
    pub name: &'static str,
    pub weight: f64,
    /// Control's shadow-eval pass rate.
    pub pass_rate: f64,
    /// Extra candidate pass-rate change here (on top of the scenario's).
    pub pass_rate_delta: f64,
    /// Cost and latency relative to the product's average.
    pub cost: f64,
    pub latency: f64,
}

const fn seg(name: &'static str, weight: f64, pass_rate: f64, cost: f64, latency: f64) -> Segment {
    Segment {
        name,
        weight,
        pass_rate,
        pass_rate_delta: 0.0,
        cost,
        latency,
    }
}

const SEGMENTS_BILLING: [Segment; 8] = [
    seg("free / en", 0.30, 0.91, 0.9, 1.0),
    Segment {
        // The candidate's shorter prompt drops the Spanish billing glossary: six points of
        // shadow-eval pass rate lost here only, while the aggregate stays within its margin.
        pass_rate_delta: -0.06,
        ..seg("free / es", 0.12, 0.88, 0.9, 1.05)
    },
    seg("paid / en", 0.22, 0.93, 1.1, 0.95),
    seg("paid / es", 0.07, 0.91, 1.1, 1.0),
    seg("free / de", 0.08, 0.90, 0.9, 1.05),
    seg("paid / de", 0.06, 0.92, 1.1, 1.0),
    seg("enterprise / en", 0.10, 0.94, 1.3, 0.9),
    seg("internal", 0.05, 0.92, 1.0, 0.9),
];

const SEGMENTS_SUPPORT: [Segment; 6] = [
    seg("free / en", 0.34, 0.90, 0.9, 1.0),
    seg("free / es", 0.12, 0.89, 0.9, 1.05),
    seg("paid / en", 0.26, 0.92, 1.1, 0.95),
    seg("paid / de", 0.10, 0.91, 1.1, 1.0),
    seg("enterprise / en", 0.13, 0.93, 1.3, 0.9),
    seg("internal", 0.05, 0.92, 1.0, 0.9),
];

/// The demo's three rollouts with traffic, at the split Rollgate serves them: the prompt
/// canary at 5 % (cost up 20 % everywhere, quality down 6 points in `free / es`, a new
/// `tool_timeout` error), the onboarding A/B test at 50 % (quality up a little, cost flat) and
/// the model upgrade at 25 % (healthy: cost down 10 %, quality up a little, slightly faster).
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            title: "Shorter billing answers",
            seed: 0x5eed_b111,
            requests_per_hour: 60_000.0,
            segments: &SEGMENTS_BILLING,
            cost_factor: 1.20,
            latency_factor: 1.0,
            pass_rate_delta: 0.0,
            tool_timeout_rate: 0.002,
        },
        Scenario {
            title: "Warmer tone in onboarding answers",
            seed: 0x5eed_0ab7,
            requests_per_hour: 20_000.0,
            segments: &SEGMENTS_SUPPORT,
            cost_factor: 1.01,
            latency_factor: 1.0,
            pass_rate_delta: 0.006,
            tool_timeout_rate: 0.0,
        },
        Scenario {
            title: "Upgrade support assistant",
            seed: 0x5eed_5a9e,
            requests_per_hour: 30_000.0,
            segments: &SEGMENTS_SUPPORT,
            cost_factor: 0.90,
            latency_factor: 0.95,
            pass_rate_delta: 0.004,
            tool_timeout_rate: 0.0,
        },
    ]
}

/// The simulator of one running server. Several instances may serve one PostgreSQL database,
/// each with its own simulator: the token names carry the instance's id so that an instance
/// replaces and revokes its own tokens only, never those another instance is sending with.
/// The tokens of an instance that died are revoked by the others once unused for
/// [`ABANDONED_AFTER`] ([`revoke_abandoned`]).
#[derive(Debug, Clone)]
pub struct Instance(String);

impl Instance {
    /// A fresh id (UUIDv7) for a server that is starting.
    pub fn generate() -> Self {
        Instance(uuid::Uuid::now_v7().simple().to_string())
    }

    fn token_name(&self) -> String {
        format!("{TOKEN_NAME} ({})", self.0)
    }
}

/// A scenario bound to its change, the token that evaluates its flag and writes its windows,
/// and the split served in the current window.
#[derive(Debug, Clone)]
pub struct Feed {
    pub scenario: Scenario,
    pub change_id: String,
    pub flag_key: String,
    token: String,
    /// Per segment (in the scenario's order), the simulated users of [`PROBES`].
    users: Vec<Vec<String>>,
    /// Per segment, the share of users served the candidate in the window starting at
    /// `window`, 0–1.
    pub shares: Vec<f64>,
    pub window: i64,
    /// Length of its windows, seconds: [`WINDOW`] unless the server was told otherwise.
    pub window_seconds: i64,
}

/// Starts the simulator with windows of `window_seconds` (clamped to [`WINDOW_RANGE`]):
/// finds the demo changes, backfills, then feeds the current window until `stop` turns true.
/// Errors are logged, never raised: the demo must not take the server down.
pub fn spawn(
    router: Router,
    pool: AnyPool,
    window_seconds: i64,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let window = window_seconds.clamp(*WINDOW_RANGE.start(), *WINDOW_RANGE.end());
    let tick_every = TICK.min(Duration::from_millis(window as u64 * 500));
    tokio::spawn(async move {
        let now = unix_now();
        let instance = Instance::generate();
        let mut feeds = match prepare_with(&router, &pool, &instance, now, window).await {
            Ok(feeds) => feeds,
            Err(e) => {
                tracing::error!(error = %e, "demo traffic cannot start");
                return;
            }
        };
        if feeds.is_empty() {
            tracing::info!("no demo rollout to feed; demo traffic is off");
            return;
        }
        tracing::info!(
            changes = feeds.len(),
            window_seconds = window,
            "demo traffic running"
        );
        let mut last = now.div_euclid(window) * window;
        let mut ticks = 0u32;
        loop {
            tokio::select! {
                _ = stop.changed() => break,
                () = tokio::time::sleep(tick_every) => {}
            }
            if *stop.borrow() {
                break;
            }
            ticks += 1;
            if ticks.is_multiple_of(SWEEP_TICKS) {
                let now = time::OffsetDateTime::now_utc();
                if let Err(e) = revoke_abandoned(&pool, &instance, now).await {
                    tracing::warn!(error = %e, "abandoned demo traffic tokens not revoked");
                }
                if let Err(e) = renew_revoked(&pool, &instance, &mut feeds).await {
                    tracing::warn!(error = %e, "revoked demo traffic token not renewed");
                }
            }
            let now = unix_now();
            for feed in &mut feeds {
                if let Err(e) = tick(&router, feed, last, now).await {
                    tracing::warn!(error = %e, change = %feed.change_id, "demo traffic tick failed");
                }
            }
            last = now.div_euclid(window) * window;
        }
        // The next start has another id and would never revoke these.
        for feed in &feeds {
            if let Err(e) = revoke_own(&pool, &instance, &feed.change_id).await {
                tracing::warn!(error = %e, change = %feed.change_id, "demo traffic token not revoked");
            }
        }
        tracing::info!("demo traffic stopped");
    })
}

/// Finds the demo changes, gives each a fresh token of `instance` (revoking that instance's
/// earlier ones, other instances' abandoned ones, and no live instance's) and fills in the
/// last 24 hours up to the window running at `now`, in windows of [`WINDOW`].
pub async fn prepare(
    router: &Router,
    pool: &AnyPool,
    instance: &Instance,
    now: i64,
) -> Result<Vec<Feed>> {
    prepare_with(router, pool, instance, now, WINDOW).await
}

/// [`prepare`] with windows of `window_seconds`; the backfill covers [`BACKFILL_WINDOWS`]
/// windows, at most 24 hours.
pub async fn prepare_with(
    router: &Router,
    pool: &AnyPool,
    instance: &Instance,
    now: i64,
    window_seconds: i64,
) -> Result<Vec<Feed>> {
    revoke_abandoned(pool, instance, time::OffsetDateTime::now_utc()).await?;
    let (items, _) = db::changes::list(pool, &db::changes::Filter::default(), 100, 0).await?;
    let mut feeds = Vec::new();
    for scenario in scenarios() {
        let Some(change) = items
            .iter()
            .find(|c| c.title.starts_with(scenario.title) && c.traffic_percent > 0.0)
        else {
            continue;
        };
        let change_id = change.id.clone();
        let token = fresh_token(pool, instance, &change_id).await?;
        let users = scenario
            .segments
            .iter()
            .map(|s| users(&change.flag_key, s.name))
            .collect();
        let mut feed = Feed {
            scenario,
            change_id,
            flag_key: change.flag_key.clone(),
            token,
            users,
            shares: Vec::new(),
            window: now.div_euclid(window_seconds) * window_seconds,
            window_seconds,
        };
        feed.shares = served_shares(router, &feed).await?;
        backfill(router, pool, &feed, now).await?;
        feeds.push(feed);
    }
    Ok(feeds)
}

fn system() -> db::audit::Who {
    db::audit::Who {
        id: None,
        label: ACTOR.to_owned(),
        address: None,
    }
}

/// Revokes the live tokens `instance` made for `change_id`.
async fn revoke_own(pool: &AnyPool, instance: &Instance, change_id: &str) -> Result<()> {
    let name = instance.token_name();
    for t in db::tokens::list(pool, Some(change_id)).await? {
        if t.name == name && t.revoked_at.is_none() {
            db::tokens::revoke(pool, &t.id, &system(), &db::now()).await?;
        }
    }
    Ok(())
}

/// Revokes the simulator tokens of other instances that nobody has used for
/// [`ABANDONED_AFTER`] before `now`: their instance stopped without revoking them. Tokens
/// that people made are never touched, whatever their name. Answers how many went.
pub async fn revoke_abandoned(
    pool: &AnyPool,
    instance: &Instance,
    now: time::OffsetDateTime,
) -> Result<usize> {
    let before = db::timestamp(now - ABANDONED_AFTER);
    let own = instance.token_name();
    let mut revoked = 0;
    for t in db::tokens::idle(pool, ACTOR, &before).await? {
        if t.name.starts_with(TOKEN_NAME) && t.name != own {
            db::tokens::revoke(pool, &t.id, &system(), &db::now()).await?;
            revoked += 1;
        }
    }
    if revoked > 0 {
        tracing::info!(tokens = revoked, "revoked abandoned demo traffic tokens");
    }
    Ok(revoked)
}

/// Gives a feed whose token was revoked (another instance took this one for dead, say after
/// ten minutes without a database) a fresh one. Answers how many feeds got one.
pub async fn renew_revoked(
    pool: &AnyPool,
    instance: &Instance,
    feeds: &mut [Feed],
) -> Result<usize> {
    let mut renewed = 0;
    for feed in feeds.iter_mut() {
        let revoked = db::tokens::find_by_secret(pool, &feed.token)
            .await?
            .is_none_or(|t| t.revoked_at.is_some());
        if revoked {
            feed.token = fresh_token(pool, instance, &feed.change_id).await?;
            renewed += 1;
        }
    }
    Ok(renewed)
}

async fn fresh_token(pool: &AnyPool, instance: &Instance, change_id: &str) -> Result<String> {
    revoke_own(pool, instance, change_id).await?;
    let system = system();
    let secret = db::tokens::new_secret()?;
    db::tokens::create(
        pool,
        &instance.token_name(),
        &[change_id.to_owned()],
        &[TokenScope::Ingest, TokenScope::Evaluate],
        &secret,
        &system,
        &db::now(),
    )
    .await?;
    Ok(secret)
}

/// Sends every finished window of the last 24 hours (of the last [`BACKFILL_WINDOWS`]
/// windows, when they are shorter than [`WINDOW`]) that is not stored yet, and the last
/// stored one again in full (it may have been sent while running).
pub async fn backfill(router: &Router, pool: &AnyPool, feed: &Feed, now: i64) -> Result<()> {
    let length = feed.window_seconds;
    let current = now.div_euclid(length) * length;
    let mut start = current - BACKFILL.min(BACKFILL_WINDOWS * length);
    if let Some(end) = db::metrics::latest_end(pool, &feed.change_id).await? {
        // On the grid: windows stored with another length must not overlap new ones.
        start = start.max(end.div_euclid(length) * length - length);
    }
    let mut windows = Vec::new();
    let mut t = start;
    while t < current {
        windows.extend(windows_at(&feed.scenario, t, length, 1.0, &feed.shares));
        t += length;
    }
    for chunk in windows.chunks(BATCH) {
        ingest(router, feed, chunk.to_vec()).await?;
    }
    tracing::info!(change = %feed.change_id, windows = windows.len(), "demo traffic backfilled");
    Ok(())
}

/// Sends the running window with its counts so far; when the window running at `last` (the
/// previous tick) is over, finishes it first (with the split it ran with), and asks which
/// variant each user gets in the new one.
pub async fn tick(router: &Router, feed: &mut Feed, last: i64, now: i64) -> Result<()> {
    let length = feed.window_seconds;
    let current = now.div_euclid(length) * length;
    let last = last.div_euclid(length) * length;
    let mut windows = Vec::new();
    if last < current {
        windows.extend(windows_at(&feed.scenario, last, length, 1.0, &feed.shares));
    }
    if feed.window != current {
        feed.shares = served_shares(router, feed).await?;
        feed.window = current;
    }
    let elapsed = (now - current) as f64 / length as f64;
    windows.extend(windows_at(
        &feed.scenario,
        current,
        length,
        elapsed,
        &feed.shares,
    ));
    ingest(router, feed, windows).await
}

/// The targeting keys of a segment's simulated users for `flag_key`: the first key
/// `sim-{segment}-{i}` found in each hundredth of the flag's buckets, so that the users
/// spread evenly over them (module docs).
pub fn users(flag_key: &str, segment: &str) -> Vec<String> {
    let width = shared::assignment::BUCKETS / PROBES as u16;
    let mut found: Vec<Option<String>> = vec![None; PROBES];
    let mut missing = PROBES;
    let slug: String = segment
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    // About PROBES × ln(PROBES) ≈ 500 keys fill every slot (coupon collector); the bound
    // only guards against a hash that never reaches one.
    for i in 0..1_000_000u32 {
        let key = format!("sim-{slug}-{i}");
        let slot = usize::from(shared::assignment::bucket(flag_key, &key) / width);
        if found[slot].is_none() {
            found[slot] = Some(key);
            missing -= 1;
            if missing == 0 {
                break;
            }
        }
    }
    found.into_iter().flatten().collect()
}

/// The evaluation context of a segment's users: `plan` and `locale` from the segment's name
/// (`"free / es"`), the plan as their cohort, and staff (`"internal"`) marked internal.
pub fn segment_context(segment: &str) -> Value {
    let mut parts = segment.split('/').map(str::trim);
    let plan = parts.next().unwrap_or_default();
    let mut context = json!({ "plan": plan, "cohort": plan });
    if let Some(locale) = parts.next() {
        context["locale"] = json!(locale);
    }
    if plan == "internal" {
        context["internal"] = json!(true);
    }
    context
}

/// Per segment, the share of its simulated users that Rollgate serves the candidate now,
/// asked through the OFREP bulk evaluation with the feed's token.
async fn served_shares(router: &Router, feed: &Feed) -> Result<Vec<f64>> {
    let mut shares = Vec::with_capacity(feed.users.len());
    for (segment, users) in feed.scenario.segments.iter().zip(&feed.users) {
        let mut candidate = 0usize;
        for user in users {
            let mut context = segment_context(segment.name);
            context["targetingKey"] = json!(user);
            let answer = call(
                router,
                Method::POST,
                "/ofrep/v1/evaluate/flags",
                Some(json!({ "context": context })),
                Some(&feed.token),
            )
            .await?;
            let flag = answer["flags"]
                .as_array()
                .and_then(|flags| flags.iter().find(|f| f["key"] == feed.flag_key.as_str()))
                .ok_or_else(|| {
                    Error::internal(format!(
                        "the flag {} is not in the evaluation answer: {answer}",
                        feed.flag_key
                    ))
                })?;
            if flag["variant"] == Variant::Candidate.as_str() {
                candidate += 1;
            }
        }
        shares.push(if users.is_empty() {
            0.0
        } else {
            candidate as f64 / users.len() as f64
        });
    }
    Ok(shares)
}

async fn ingest(router: &Router, feed: &Feed, windows: Vec<Value>) -> Result<()> {
    call(
        router,
        Method::POST,
        &format!("/api/v1/changes/{}/metrics", feed.change_id),
        Some(json!({ "windows": windows })),
        Some(&feed.token),
    )
    .await
    .map(drop)
}

/// One request through the application; any answer but 2xx is an error.
async fn call(
    router: &Router,
    method: Method,
    uri: &str,
    body: Option<Value>,
    token: Option<&str>,
) -> Result<Value> {
    let mut req = Request::builder().method(method.clone()).uri(uri);
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let req = match body {
        Some(b) => req
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(b.to_string())),
        None => req.body(Body::empty()),
    }
    .map_err(|e| Error::internal(format!("demo request {method} {uri}: {e}")))?;
    let res = router
        .clone()
        .oneshot(req)
        .await
        .map_err(|e| Error::internal(format!("demo request {method} {uri}: {e}")))?;
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 64 * 1024 * 1024)
        .await
        .map_err(|e| Error::internal(format!("demo answer {method} {uri}: {e}")))?;
    if !status.is_success() {
        return Err(Error::internal(format!(
            "demo request {method} {uri} answered {status}: {}",
            String::from_utf8_lossy(&bytes)
        )));
    }
    if status == StatusCode::NO_CONTENT || bytes.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| Error::internal(format!("demo answer {method} {uri} is not JSON: {e}")))
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Every segment × variant window of `length` seconds starting at `start`, as sent, scaled
/// to `fraction` of the finished window (1.0 once it is over), with `shares[i]` of segment
/// `i`'s requests on the candidate (none where `shares` has no entry).
pub fn windows_at(
    s: &Scenario,
    start: i64,
    length: i64,
    fraction: f64,
    shares: &[f64],
) -> Vec<Value> {
    let fraction = fraction.clamp(0.0, 1.0);
    let mut out = Vec::with_capacity(s.segments.len() * 2);
    for (i, segment) in s.segments.iter().enumerate() {
        let share = shares.get(i).copied().unwrap_or(0.0);
        for (variant, window) in finished(s, i, segment, start, length, share) {
            out.push(to_json(
                variant,
                segment.name,
                start,
                length,
                &scale(&window, fraction),
            ));
        }
    }
    out
}

/// A window's content: requests and the value of each metric.
#[derive(Debug, Clone)]
struct Drawn {
    requests: u64,
    values: Vec<(&'static str, MetricValue)>,
}

/// Both variants' finished windows of one segment at `start`, `share` of its requests on the
/// candidate, drawn from a generator seeded by the scenario, the segment and the start.
fn finished(
    s: &Scenario,
    index: usize,
    seg: &Segment,
    start: i64,
    length: i64,
    share: f64,
) -> [(Variant, Drawn); 2] {
    let mut rng = SplitMix64(
        s.seed
            ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (start as u64).rotate_left(17),
    );
    // Busier in the (UTC) working day, quieter at night.
    let hour = start.rem_euclid(86_400) as f64 / 3600.0;
    let daily = 1.0 + 0.35 * ((hour - 15.0) / 24.0 * std::f64::consts::TAU).cos();
    let expected = s.requests_per_hour * seg.weight * daily * length as f64 / 3600.0;
    let total = (expected + expected.sqrt() * rng.normal()).round().max(0.0) as u64;
    let candidate = binomial(&mut rng, total, share);
    [
        (
            Variant::Control,
            draw(&mut rng, s, seg, Variant::Control, total - candidate),
        ),
        (
            Variant::Candidate,
            draw(&mut rng, s, seg, Variant::Candidate, candidate),
        ),
    ]
}

fn draw(rng: &mut SplitMix64, s: &Scenario, seg: &Segment, v: Variant, requests: u64) -> Drawn {
    let cand = v == Variant::Candidate;
    let pass_rate = seg.pass_rate
        + if cand {
            s.pass_rate_delta + seg.pass_rate_delta
        } else {
            0.0
        };
    let cost = 0.0042 * seg.cost * if cand { s.cost_factor } else { 1.0 };
    let latency = 850.0 * seg.latency * if cand { s.latency_factor } else { 1.0 };
    let rate = |rng: &mut SplitMix64, n: u64, p: f64| MetricValue::Rate {
        n,
        successes: binomial(rng, n, p.clamp(0.0, 1.0)),
    };
    // Half of the requests get a shadow evaluation; 40 % show suggestions.
    let evaluated = binomial(rng, requests, 0.5);
    let suggested = binomial(rng, requests, 0.4);
    let mut values = vec![
        ("shadow_eval_pass_rate", rate(rng, evaluated, pass_rate)),
        ("suggestion_click_through", rate(rng, suggested, 0.22)),
        ("retry_rate", rate(rng, requests, 0.06)),
        ("conversation_length", mean(rng, requests, 3.2, 2.0)),
        ("cost_per_request", mean(rng, requests, cost, 0.6 * cost)),
        ("tokens_per_request", mean(rng, requests, 1100.0, 450.0)),
        ("latency_ms", histogram(rng, requests, latency)),
        ("hard_error_rate", rate(rng, requests, 0.004)),
        ("soft_error_rate", rate(rng, requests, 0.02)),
        ("refusal_rate", rate(rng, requests, 0.008)),
        ("moderation_flag_rate", rate(rng, requests, 0.001)),
    ];
    let mut categories = std::collections::BTreeMap::new();
    let mut kinds = vec![
        ("timeout", 0.0015),
        ("rate_limited", 0.001),
        ("upstream_5xx", 0.0012),
        ("invalid_tool_args", 0.0004),
    ];
    if cand && s.tool_timeout_rate > 0.0 {
        kinds.push(("tool_timeout", s.tool_timeout_rate));
    }
    for (name, p) in kinds {
        categories.insert(name.to_owned(), binomial(rng, requests, p));
    }
    values.push((
        "error_categories",
        MetricValue::Categories { counts: categories },
    ));
    Drawn { requests, values }
}

/// Binomial(n, p). `SplitMix64::binomial` is a normal approximation, which is biased for the
/// small counts of 5-minute windows (clamping at 0 or n moves the mean by several tenths of a
/// point at n = 15, p = 0.9, enough to distort a canary's quality). Small expected counts are
/// therefore drawn exactly, by skipping geometric gaps between successes (O(n·p) uniforms);
/// only counts expected to be ≥ 20 use the approximation, whose clamping then never bites.
fn binomial(rng: &mut SplitMix64, n: u64, p: f64) -> u64 {
    if n == 0 || p <= 0.0 {
        return 0;
    }
    if p >= 1.0 {
        return n;
    }
    if p > 0.5 {
        return n - binomial(rng, n, 1.0 - p);
    }
    if n as f64 * p >= 20.0 {
        return rng.binomial(n, p);
    }
    let log_q = (1.0 - p).ln();
    let (mut count, mut position) = (0u64, 0u64);
    loop {
        let gap = (rng.uniform().ln() / log_q).floor();
        // `uniform()` is in (0, 1) and 0 < p < 1, so the gap is finite; one beyond the
        // remaining trials ends them.
        if gap >= (n - position) as f64 {
            return count;
        }
        position += gap as u64 + 1;
        if position > n {
            return count;
        }
        count += 1;
    }
}

/// Sufficient statistics of `n` draws with this mean and standard deviation: the sample mean
/// and variance are drawn from their sampling distributions, so no per-request loop is needed,
/// and `sum_squares = (n − 1)·s² + n·m²` keeps them consistent (Cauchy–Schwarz holds).
fn mean(rng: &mut SplitMix64, n: u64, mu: f64, sd: f64) -> MetricValue {
    if n == 0 {
        return MetricValue::Mean {
            n,
            sum: 0.0,
            sum_squares: 0.0,
        };
    }
    let nf = n as f64;
    let m = (mu + sd / nf.sqrt() * rng.normal()).max(0.0);
    let var = if n > 1 {
        sd * sd * (1.0 + (2.0 / (nf - 1.0)).sqrt() * rng.normal()).max(0.05)
    } else {
        0.0
    };
    MetricValue::Mean {
        n,
        sum: m * nf,
        sum_squares: (nf - 1.0) * var + nf * m * m,
    }
}

/// A log-normal latency histogram with this median (σ = 0.45: p95 ≈ 2.1 × median), drawn
/// bucket by bucket with conditional binomials (a multinomial draw).
fn histogram(rng: &mut SplitMix64, n: u64, median: f64) -> MetricValue {
    const SIGMA: f64 = 0.45;
    let mut counts = Vec::with_capacity(LATENCY_LE.len());
    let (mut left, mut below) = (n, 0.0);
    for (i, le) in LATENCY_LE.iter().enumerate() {
        let cdf = if i + 1 == LATENCY_LE.len() {
            1.0
        } else {
            normal_cdf((le / median).ln() / SIGMA)
        };
        let p = cdf - below;
        let rest = 1.0 - below;
        let c = if rest <= 0.0 {
            0
        } else {
            binomial(rng, left, (p / rest).clamp(0.0, 1.0))
        };
        counts.push(c);
        left -= c;
        below = cdf;
    }
    if let Some(last) = counts.last_mut() {
        *last += left;
    }
    MetricValue::Latency {
        le: LATENCY_LE.to_vec(),
        counts,
    }
}

/// Φ(x), from erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7; plenty for bucket shares).
fn normal_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    let erf = 1.0 - poly * (-z * z).exp();
    if x >= 0.0 {
        0.5 * (1.0 + erf)
    } else {
        0.5 * (1.0 - erf)
    }
}

/// The window as it stood after `f` of its time: counts rounded down proportionally (so they
/// only grow with `f` and stay consistent: successes ≤ n), sums scaled with their n.
fn scale(w: &Drawn, f: f64) -> Drawn {
    if f >= 1.0 {
        return w.clone();
    }
    let part = |c: u64| (c as f64 * f).round() as u64;
    let values = w
        .values
        .iter()
        .map(|(k, v)| {
            let v = match v {
                MetricValue::Rate { n, successes } => MetricValue::Rate {
                    n: part(*n),
                    successes: part(*successes),
                },
                MetricValue::Mean {
                    n,
                    sum,
                    sum_squares,
                } => {
                    let scaled = part(*n);
                    let r = if *n == 0 {
                        0.0
                    } else {
                        scaled as f64 / *n as f64
                    };
                    MetricValue::Mean {
                        n: scaled,
                        sum: sum * r,
                        sum_squares: sum_squares * r,
                    }
                }
                MetricValue::Latency { le, counts } => MetricValue::Latency {
                    le: le.clone(),
                    counts: counts.iter().map(|&c| part(c)).collect(),
                },
                MetricValue::Categories { counts } => MetricValue::Categories {
                    counts: counts.iter().map(|(k, &c)| (k.clone(), part(c))).collect(),
                },
            };
            (*k, v)
        })
        .collect();
    Drawn {
        requests: part(w.requests),
        values,
    }
}

/// A window in the wire format of `POST …/metrics`.
fn to_json(v: Variant, segment: &str, start: i64, length: i64, w: &Drawn) -> Value {
    let mut metrics = serde_json::Map::new();
    for (key, value) in &w.values {
        let wire = match value {
            MetricValue::Rate { n, successes } => json!({ "n": n, "successes": successes }),
            MetricValue::Mean {
                n,
                sum,
                sum_squares,
            } => json!({ "n": n, "sum": sum, "sum_squares": sum_squares }),
            MetricValue::Latency { le, counts } => {
                json!({ "le": le, "counts": counts, "cumulative": false })
            }
            MetricValue::Categories { counts } => json!(counts),
        };
        metrics.insert((*key).to_owned(), wire);
    }
    json!({
        "variant": v.as_str(),
        "segment": segment,
        "window_start": rfc3339(start),
        "window_end": rfc3339(start + length),
        "requests": w.requests,
        "metrics": metrics,
    })
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(db::timestamp)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::metrics::default_catalogue;

    #[test]
    fn every_default_metric_is_fed() {
        let s = &scenarios()[0];
        let w = windows_at(s, 1_750_000_200, WINDOW, 1.0, &[0.05; 8]);
        assert_eq!(w.len(), 16);
        let keys: Vec<String> = w[0]["metrics"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        let mut expected: Vec<String> = default_catalogue().into_iter().map(|d| d.key).collect();
        expected.sort();
        assert_eq!(keys, expected);
    }

    #[test]
    fn running_windows_grow_into_the_finished_one() {
        let s = &scenarios()[0];
        let at = |f| windows_at(s, 1_750_000_200, WINDOW, f, &[0.05; 8]);
        let requests = |w: &[Value]| -> Vec<u64> {
            w.iter().map(|x| x["requests"].as_u64().unwrap()).collect()
        };
        let (a, b, c) = (at(0.2), at(0.7), at(1.0));
        for ((x, y), z) in requests(&a).iter().zip(requests(&b)).zip(requests(&c)) {
            assert!(*x <= y && y <= z);
        }
        assert_eq!(at(1.0), c);
        assert_eq!(windows_at(s, 1_750_000_200, WINDOW, 2.0, &[0.05; 8]), c);
    }

    #[test]
    fn simulated_users_spread_evenly_over_the_buckets() {
        let users = users("shorter-billing-answers", "free / es");
        assert_eq!(users.len(), PROBES);
        let mut slots: Vec<u16> = users
            .iter()
            .map(|u| shared::assignment::bucket("shorter-billing-answers", u) / 100)
            .collect();
        slots.sort_unstable();
        assert_eq!(slots, (0..100).collect::<Vec<u16>>());
        assert_eq!(
            segment_context("free / es"),
            json!({ "plan": "free", "cohort": "free", "locale": "es" })
        );
        assert_eq!(
            segment_context("internal"),
            json!({ "plan": "internal", "cohort": "internal", "internal": true })
        );
    }

    #[test]
    fn no_share_no_candidate_traffic() {
        let s = &scenarios()[0];
        for w in windows_at(s, 1_750_000_200, WINDOW, 1.0, &[0.0; 8]) {
            if w["variant"] == "candidate" {
                assert_eq!(w["requests"], 0, "{w}");
            }
        }
    }

    #[test]
    fn small_binomials_are_unbiased() {
        let mut rng = SplitMix64(7);
        for (n, p) in [(15u64, 0.9), (75, 0.002), (30, 0.5), (1000, 0.3)] {
            let draws = 20_000;
            let total: u64 = (0..draws).map(|_| binomial(&mut rng, n, p)).sum();
            let mean = total as f64 / draws as f64;
            let sd = (n as f64 * p * (1.0 - p) / draws as f64).sqrt();
            assert!(
                (mean - n as f64 * p).abs() < 4.0 * sd,
                "n={n} p={p}: {mean}"
            );
        }
        assert_eq!(binomial(&mut rng, 10, 0.0), 0);
        assert_eq!(binomial(&mut rng, 10, 1.0), 10);
    }

    #[test]
    fn the_normal_cdf_is_accurate() {
        assert!((normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_cdf(1.959_964) - 0.975).abs() < 1e-6);
        assert!((normal_cdf(-1.644_854) - 0.05).abs() < 1e-6);
    }
}
