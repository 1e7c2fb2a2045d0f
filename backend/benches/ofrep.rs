//! Benchmarks of flag evaluation (OFREP), against the real `rollgate` binary where a socket is
//! involved, so that the figures include the runtime, the layers and the logging a deployment
//! runs with.
//!
//! * `evaluate` (criterion): `shared::assignment::evaluate` in process, one flag, a context with
//!   a few attributes, a canary reaching staff in the standard plan's audiences.
//! * `http`: 100 live flags on a fresh SQLite file, one `rollgate serve` process (release, the
//!   runtime's default worker threads), and a load generator in this process: a fixed number of
//!   keep-alive connections, each sending its next request when the last is answered. Single-
//!   flag evaluations, then bulk evaluations of the 100 flags; first, the same load generator
//!   against a handler that answers a fixed body, the most this machine gives when the client
//!   shares it.
//! * `propagation` (when `ROLLGATE_BENCH_POSTGRES_URL` names an admin URL; the bench creates
//!   and drops `rollgate_b_<uuid>`): two `rollgate serve` processes on one PostgreSQL database;
//!   20 trials each rolling back one canary through instance A, timing until an evaluation on
//!   B, one on A, and a `refetchEvaluation` event on B's `/ofrep/v1/events` say so.
//!
//! * `wrk`: the same HTTP runs with `wrk` as the load generator (`apt-get install wrk`), its
//!   requests from a generated Lua script; figures printed with wrk's latency percentiles.
//!
//! `ROLLGATE_BENCH_OFREP` picks the parts (comma-separated, default all of them);
//! `ROLLGATE_BENCH_LOAD_SECONDS` (default 10) sets each load run's length,
//! `ROLLGATE_BENCH_CONNECTIONS` (default 64) the connections, `ROLLGATE_BENCH_CLIENT_THREADS`
//! (default 1) the load generator's threads (the hyper client's and wrk's). Every figure is
//! printed with the load average of the minute before it, the machine being shared.
//!
//! `cargo bench -p rollgate-backend --bench ofrep`

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Server, TestApp};
use criterion::Criterion;
use serde_json::{Value, json};
use shared::assignment::{EvaluationContext, Flag, FlagRules, bucket, evaluate};
use shared::plan::PlanTemplate;
use shared::rollout::RolloutState;

/// Live flags in the HTTP runs.
const FLAGS: usize = 100;
/// Propagation trials.
const TRIALS: usize = 20;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn part(name: &str) -> bool {
    match std::env::var("ROLLGATE_BENCH_OFREP") {
        Ok(parts) => parts.split(',').any(|p| p.trim() == name),
        Err(_) => true,
    }
}

fn main() {
    if part("evaluate") {
        let mut c = Criterion::default()
            .configure_from_args()
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3));
        evaluate_in_process(&mut c);
        c.final_summary();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if part("http") || part("wrk") {
        rt.block_on(http());
    }
    if part("propagation") {
        match std::env::var("ROLLGATE_BENCH_POSTGRES_URL") {
            Ok(admin_url) => rt.block_on(propagation(&admin_url)),
            Err(_) => eprintln!("propagation skipped: set ROLLGATE_BENCH_POSTGRES_URL"),
        }
    }
}

/// The context an application sends: a user id and a handful of attributes.
fn context(user: &str) -> EvaluationContext {
    EvaluationContext::new(user)
        .with("internal", true)
        .with("email", "ana@example.com")
        .with("plan", "paid")
        .with("locale", "es")
}

fn evaluate_in_process(c: &mut Criterion) {
    let plan = PlanTemplate::Standard.plan();
    assert!(
        !plan.audiences.is_empty(),
        "the standard plan has audiences"
    );
    let rules = FlagRules::default();
    let ctx = context("user-1234567");
    let canary = Flag {
        key: "shorter-billing-prompt",
        plan: &plan,
        rules: &rules,
        state: RolloutState::Canary,
        paused_at_percent: None,
    };
    c.bench_function("evaluate/canary_with_audiences", |b| {
        b.iter(|| evaluate(std::hint::black_box(&canary), std::hint::black_box(&ctx)))
    });
    // The stratified case: a segment cap, so the segment's name is built from two attributes.
    let stratified_rules = FlagRules {
        segment_attributes: vec!["plan".into(), "locale".into()],
        segment_max_percent: [("paid / es".to_owned(), 2.0)].into(),
        ..FlagRules::default()
    };
    let ramp = Flag {
        rules: &stratified_rules,
        state: RolloutState::Ramp { step: 1 },
        ..canary
    };
    c.bench_function("evaluate/ramp_stratified", |b| {
        b.iter(|| evaluate(std::hint::black_box(&ramp), std::hint::black_box(&ctx)))
    });
}

/// What a change's variants configure: a prompt, a model and its parameters, tools.
fn configuration(i: usize, version: u32) -> Value {
    json!({
        "prompt_version": format!("flag-{i:03}-v{version}"),
        "model": "gpt-4o-mini",
        "temperature": 0.2,
        "max_tokens": 800,
        "system_prompt": "You answer billing questions for small businesses. Be brief, cite the \
                          invoice line you rely on, and hand over to a person when a refund is \
                          asked for.",
        "tools": ["lookup_invoice", "create_ticket"],
    })
}

/// Creates [`FLAGS`] changes in their canary (5 %, reaching staff) and an `evaluate` token;
/// the flag keys, change ids and the token's secret.
async fn live_flags(app: &TestApp) -> (Vec<(String, String)>, String) {
    let started = Instant::now();
    let mut flags = Vec::with_capacity(FLAGS);
    for i in 0..FLAGS {
        let detail = app
            .create(&json!({
                "title": format!("Bench flag {i:03}"),
                "kind": "prompt",
                "risk": "standard",
                "baseline": configuration(i, 1),
                "candidate": configuration(i, 2),
                "expected_changes": "Answers get shorter.",
                "owner": common::OWNER,
            }))
            .await;
        let id = common::id_of(&detail);
        let key = detail["change"]["flag_key"]
            .as_str()
            .expect("flag_key")
            .to_owned();
        for _ in 0..2 {
            app.transition(&id, &json!({ "action": "advance" })).await;
        }
        flags.push((key, id));
    }
    let res = app
        .post(
            "/api/v1/tokens",
            &json!({ "name": "bench", "scopes": ["evaluate"] }),
        )
        .await;
    assert_eq!(res.status.as_u16(), 201, "{}", res.text());
    let secret = res.json()["secret"].as_str().expect("secret").to_owned();
    eprintln!(
        "{FLAGS} flags in their canary in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    (flags, secret)
}

/// A user of flag `key` inside its 5 % canary, and one above it.
fn users_of(key: &str) -> (String, String) {
    let find = |inside: bool| {
        (0..)
            .map(|i| format!("user-{i}"))
            .find(|u| (bucket(key, u) < 500) == inside)
            .expect("a user")
    };
    (find(true), find(false))
}

fn request_body(user: &str) -> String {
    json!({ "context": {
        "targetingKey": user, "internal": true, "email": "ana@example.com",
        "plan": "paid", "locale": "es",
    } })
    .to_string()
}

/// Which load generators the HTTP runs use: the in-process hyper client (`http`), `wrk`
/// (`wrk`), or both.
fn clients() -> (bool, bool) {
    let wrk = part("wrk")
        && match std::process::Command::new("wrk").arg("--version").output() {
            Ok(_) => true,
            Err(e) => {
                eprintln!("wrk runs skipped: cannot run wrk ({e}); `apt-get install wrk`");
                false
            }
        };
    (part("http"), wrk)
}

/// The load average over the last minute, as `/proc/loadavg` says (the machine is shared:
/// every figure is read against it).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
}

async fn http() {
    let (hyper_client, wrk_client) = clients();
    if !hyper_client && !wrk_client {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let dist = tempfile::tempdir().expect("tempdir");
    common::write_dist(dist.path());
    let app = common::connect(&url, dist.path()).await;
    let (flags, secret) = live_flags(&app).await;
    app.pool.close().await;
    let server = Server::start(&url);
    let addr = server.addr();
    let seconds: u64 = env_or("ROLLGATE_BENCH_LOAD_SECONDS", 10);
    let connections: usize = env_or("ROLLGATE_BENCH_CONNECTIONS", 64);
    let threads: usize = env_or("ROLLGATE_BENCH_CLIENT_THREADS", 1);
    let auth = format!("Bearer {secret}");
    // Each run with each client chosen; `fixed` says the target answers a fixed body.
    let measure = |what: String, target: load::Target| {
        if hyper_client {
            report(
                &format!("hyper client, {what}"),
                load::run(&target, connections, threads, seconds),
            );
        }
        if wrk_client {
            wrk::run(&what, &target, connections, threads, seconds);
        }
    };

    // The machine's ceiling for each client: a handler answering a fixed body of the size of
    // an evaluation, on a runtime like the server's (2 worker threads) in this process.
    let single = load::Target {
        addr: addr.clone(),
        authorization: auth.clone(),
        requests: flags
            .iter()
            .enumerate()
            .flat_map(|(i, (key, _))| {
                (0..10).map(move |u| {
                    (
                        format!("/ofrep/v1/evaluate/flags/{key}"),
                        request_body(&format!("user-{}", i * 10 + u)),
                    )
                })
            })
            .collect(),
    };
    let sample = load::once(&single, 0).await;
    assert_eq!(sample.0, 200, "{}", sample.1);
    let answer: Value = serde_json::from_str(&sample.1).expect("evaluation JSON");
    assert!(answer["variant"].is_string(), "{answer}");
    let fixed = sample.1.clone();
    let trivial = load::trivial_server(fixed).await;
    let trivial_target = load::Target {
        addr: trivial.to_string(),
        ..single.clone()
    };
    measure(
        "fixed body, no work (the machine's ceiling with this client)".to_owned(),
        trivial_target,
    );
    measure(format!("single flag, {FLAGS} live flags"), single.clone());

    let bulk = load::Target {
        requests: (0..100)
            .map(|u| {
                (
                    "/ofrep/v1/evaluate/flags".to_owned(),
                    request_body(&format!("user-{u}")),
                )
            })
            .collect(),
        ..single.clone()
    };
    let sample = load::once(&bulk, 0).await;
    assert_eq!(sample.0, 200, "{}", sample.1);
    let answer: Value = serde_json::from_str(&sample.1).expect("bulk JSON");
    assert_eq!(
        answer["flags"].as_array().map(Vec::len),
        Some(FLAGS),
        "{answer}"
    );
    eprintln!("bulk answer: {} bytes", sample.1.len());
    measure(format!("bulk, {FLAGS} flags"), bulk);
    drop(server);
}

fn report(what: &str, figures: load::Figures) {
    println!(
        "[ofrep] {what} (load average {}): {} connections, {} requests in {:.1} s = {:.0} req/s; p50 {:.2} ms, \
         p99 {:.2} ms, max {:.1} ms",
        load_average(),
        figures.connections,
        figures.latencies.len(),
        figures.elapsed,
        figures.latencies.len() as f64 / figures.elapsed,
        percentile(&figures.latencies, 0.5),
        percentile(&figures.latencies, 0.99),
        percentile(&figures.latencies, 1.0),
    );
}

/// The `p` quantile of sorted durations, in milliseconds (nearest rank).
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i].as_secs_f64() * 1e3
}

/// A closed-loop load generator over hyper's HTTP/1 connections (no pool: one task owns
/// each connection and sends its next request when the last answer is read).
mod load {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use axum::body::Bytes;
    use axum::http::{HeaderValue, Request, header};
    use http_body_util::{BodyExt, Full};
    use hyper_util::rt::TokioIo;

    #[derive(Clone)]
    pub struct Target {
        pub addr: String,
        pub authorization: String,
        /// Path and body of each request, sent in turn (each connection starts elsewhere).
        pub requests: Vec<(String, String)>,
    }

    pub struct Figures {
        pub connections: usize,
        pub elapsed: f64,
        /// Sorted.
        pub latencies: Vec<Duration>,
    }

    type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

    async fn connect(addr: &str) -> Sender {
        let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        tokio::spawn(async move {
            let _ = conn.await;
        });
        sender
    }

    struct Prepared {
        host: HeaderValue,
        authorization: HeaderValue,
        requests: Vec<(String, Bytes)>,
    }

    impl Prepared {
        fn of(target: &Target) -> Prepared {
            Prepared {
                host: HeaderValue::from_str(&target.addr).expect("host"),
                authorization: HeaderValue::from_str(&target.authorization).expect("auth"),
                requests: target
                    .requests
                    .iter()
                    .map(|(p, b)| (p.clone(), Bytes::from(b.clone())))
                    .collect(),
            }
        }

        fn request(&self, i: usize) -> Request<Full<Bytes>> {
            let (path, body) = &self.requests[i % self.requests.len()];
            let mut req = Request::post(path.as_str())
                .body(Full::new(body.clone()))
                .expect("request");
            let h = req.headers_mut();
            h.insert(header::HOST, self.host.clone());
            h.insert(header::AUTHORIZATION, self.authorization.clone());
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            req
        }
    }

    /// One request (the `i`th of the target's); its status and body.
    pub async fn once(target: &Target, i: usize) -> (u16, String) {
        let prepared = Prepared::of(target);
        let mut sender = connect(&target.addr).await;
        let res = sender
            .send_request(prepared.request(i))
            .await
            .expect("response");
        let status = res.status().as_u16();
        let body = res.into_body().collect().await.expect("body").to_bytes();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// `connections` connections spread over `threads` threads (each a current-thread
    /// runtime), as fast as the server answers, for `seconds` after a one-second warm-up.
    pub fn run(target: &Target, connections: usize, threads: usize, seconds: u64) -> Figures {
        let prepared = Arc::new(Prepared::of(target));
        let measuring = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (prepared, measuring, stop) =
                    (prepared.clone(), measuring.clone(), stop.clone());
                let addr = target.addr.clone();
                let mine = (t..connections).step_by(threads).collect::<Vec<_>>();
                std::thread::spawn(move || {
                    tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("runtime")
                        .block_on(async move {
                            let mut tasks = Vec::new();
                            for c in mine {
                                let (prepared, measuring, stop) =
                                    (prepared.clone(), measuring.clone(), stop.clone());
                                let mut sender = connect(&addr).await;
                                tasks.push(tokio::spawn(async move {
                                    let mut times = Vec::with_capacity(1 << 16);
                                    let mut i = c * 7;
                                    while !stop.load(Ordering::Relaxed) {
                                        let started = Instant::now();
                                        let res = sender
                                            .send_request(prepared.request(i))
                                            .await
                                            .expect("response");
                                        assert_eq!(res.status(), 200, "status");
                                        res.into_body().collect().await.expect("body");
                                        if measuring.load(Ordering::Relaxed) {
                                            times.push(started.elapsed());
                                        }
                                        i += 1;
                                    }
                                    times
                                }));
                            }
                            let mut times = Vec::new();
                            for t in tasks {
                                times.extend(t.await.expect("connection"));
                            }
                            times
                        })
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(1));
        measuring.store(true, Ordering::Relaxed);
        let started = Instant::now();
        std::thread::sleep(Duration::from_secs(seconds));
        measuring.store(false, Ordering::Relaxed);
        let elapsed = started.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        let mut latencies = Vec::new();
        for h in handles {
            latencies.extend(h.join().expect("load thread"));
        }
        latencies.sort_unstable();
        Figures {
            connections,
            elapsed,
            latencies,
        }
    }

    /// An axum server on a runtime of its own (2 worker threads, like the server's on this
    /// machine) answering every POST with `body`: what serving costs without any work.
    pub async fn trivial_server(body: String) -> SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        listener.set_nonblocking(true).expect("nonblocking");
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                    let body = Bytes::from(body);
                    let router = axum::Router::new().fallback(move || {
                        let body = body.clone();
                        async move { ([(header::CONTENT_TYPE, "application/json")], body) }
                    });
                    axum::serve(listener, router).await.expect("serve");
                })
        });
        addr
    }
}

/// `wrk` as the load generator (C, an event loop per thread, far less CPU per request than
/// the in-process client): the target's requests go into a Lua script that formats them all
/// once and sends them in turn, each thread starting at a random one.
mod wrk {
    use std::fmt::Write as _;
    use std::process::Command;

    use super::load::Target;

    /// A Lua long string holding `text` (whose `]` runs are shorter than the level used).
    fn long_string(text: &str) -> String {
        let mut level = 1;
        while text.contains(&format!("]{}]", "=".repeat(level))) {
            level += 1;
        }
        let eq = "=".repeat(level);
        format!("[{eq}[{text}]{eq}]")
    }

    fn script(target: &Target) -> String {
        let mut lua = String::from("local requests = {\n");
        for (path, body) in &target.requests {
            let _ = writeln!(lua, "  {{{}, {}}},", long_string(path), long_string(body));
        }
        let _ = write!(
            lua,
            r#"}}
local formatted = {{}}
local n = 0
local i = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
function init(args)
  for k, r in ipairs(requests) do
    formatted[k] = wrk.format("POST", r[1], {{
      ["Authorization"] = {auth},
      ["Content-Type"] = "application/json",
    }}, r[2])
  end
  n = #formatted
  i = ((id or 1) * 97) % n
end
function request()
  i = i % n + 1
  return formatted[i]
end
"#,
            auth = long_string(&target.authorization)
        );
        lua
    }

    /// Runs wrk against `target` and prints its figures (requests a second, latency
    /// percentiles) with the load average; fails on any answer that is not 2xx.
    pub fn run(what: &str, target: &Target, connections: usize, threads: usize, seconds: u64) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ofrep.lua");
        std::fs::write(&path, script(target)).expect("write the wrk script");
        let args = [
            format!("-t{threads}"),
            format!("-c{connections}"),
            format!("-d{seconds}s"),
            "--latency".to_owned(),
            "-s".to_owned(),
            path.display().to_string(),
            format!("http://{}", target.addr),
        ];
        // A one-second warm-up, as the hyper client has.
        let mut warm = args.clone();
        warm[2] = "-d1s".to_owned();
        Command::new("wrk").args(&warm).output().expect("wrk");
        let load = super::load_average();
        let out = Command::new("wrk").args(&args).output().expect("wrk");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "wrk failed: {text} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !text.contains("Non-2xx"),
            "answers other than 200 under load: {text}"
        );
        let field = |prefix: &str| {
            text.lines()
                .map(str::trim)
                .find_map(|l| l.strip_prefix(prefix))
                .map(|v| v.split_whitespace().next().unwrap_or("?").to_owned())
                .unwrap_or_else(|| "?".to_owned())
        };
        println!(
            "[ofrep] wrk, {what} (load average {load}): {connections} connections, {threads} \
             thread(s), {seconds} s: {} req/s; p50 {}, p90 {}, p99 {}; wrk: `wrk {}`",
            field("Requests/sec:"),
            field("50%"),
            field("90%"),
            field("99%"),
            args.join(" ")
        );
        eprintln!("{text}");
    }
}

/// Two instances on one PostgreSQL database; each trial rolls back one canary through A.
async fn propagation(admin_url: &str) {
    use sqlx::{Connection, Executor};
    let name = format!("rollgate_b_{}", uuid::Uuid::now_v7().simple());
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(admin_url)
        .await
        .expect("connect to ROLLGATE_BENCH_POSTGRES_URL");
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create database");
    let url = common::with_database(admin_url, &name);
    let dist = tempfile::tempdir().expect("tempdir");
    common::write_dist(dist.path());
    let app = common::connect(&url, dist.path()).await;
    let (flags, secret) = live_flags(&app).await;
    let a = Server::start(&url);
    let b = Server::start(&url);
    let figures = trials(&app, &flags, &secret, &a, &b).await;
    drop((a, b));
    app.pool.close().await;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await
        .expect("drop database");
    let (mut on_b, mut on_a, mut sse, mut request) = figures;
    for (what, times) in [
        (
            "rollback answered by the transition request on A",
            &mut request,
        ),
        ("served by instance A", &mut on_a),
        ("served by instance B", &mut on_b),
        ("refetchEvaluation received from B's event stream", &mut sse),
    ] {
        times.sort_unstable();
        println!(
            "[ofrep] propagation on PostgreSQL, {TRIALS} trials, {what}: p50 {:.1} ms, p100 \
             {:.1} ms",
            percentile(times, 0.5),
            percentile(times, 1.0),
        );
    }
}

type Times = Vec<Duration>;

async fn trials(
    app: &TestApp,
    flags: &[(String, String)],
    secret: &str,
    a: &Server,
    b: &Server,
) -> (Times, Times, Times, Times) {
    use axum::http::{Request, header};
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;

    let client: Client<_, Full<axum::body::Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let auth = format!("Bearer {secret}");
    let variant = |addr: String, key: String, user: String| {
        let (client, auth) = (client.clone(), auth.clone());
        async move {
            let req = Request::post(format!("http://{addr}/ofrep/v1/evaluate/flags/{key}"))
                .header(header::AUTHORIZATION, auth)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Full::from(request_body(&user)))
                .expect("request");
            let res = client.request(req).await.expect("evaluate");
            assert_eq!(res.status(), 200);
            let body = res.into_body().collect().await.expect("body").to_bytes();
            let v: Value = serde_json::from_slice(&body).expect("JSON");
            v["variant"].as_str().expect("variant").to_owned()
        }
    };
    // Polls until `addr` answers control for `user`; when it did, from `t0`.
    let until_control = |addr: String, key: String, user: String, t0: Instant| async move {
        loop {
            if variant(addr.clone(), key.clone(), user.clone()).await == "control" {
                return t0.elapsed();
            }
            assert!(t0.elapsed() < Duration::from_secs(10), "never propagated");
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    };

    // The event stream of B: each `refetchEvaluation` event's arrival, on a channel.
    let (events_tx, mut events) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    {
        let req = Request::get(format!("http://{}/ofrep/v1/events", b.addr()))
            .header(header::AUTHORIZATION, &auth)
            .body(Full::default())
            .expect("request");
        let res = client.request(req).await.expect("events");
        assert_eq!(res.status(), 200);
        let mut body = res.into_body();
        tokio::spawn(async move {
            let mut text = String::new();
            while let Some(Ok(frame)) = body.frame().await {
                let Ok(data) = frame.into_data() else {
                    continue;
                };
                text.push_str(&String::from_utf8_lossy(&data));
                while let Some(end) = text.find("\n\n") {
                    if text[..end].contains("refetchEvaluation") {
                        let _ = events_tx.send(Instant::now());
                    }
                    text.drain(..end + 2);
                }
            }
        });
    }

    let session = app.session(common::OWNER);
    let cookie = format!(
        "{}={}",
        rollgate::http::authz::SESSION_COOKIE,
        session.token
    );
    let (mut on_b, mut on_a, mut sse, mut request) = (vec![], vec![], vec![], vec![]);
    for (key, id) in flags.iter().take(TRIALS) {
        let (inside, _) = users_of(key);
        for server in [a, b] {
            assert_eq!(
                variant(server.addr(), key.clone(), inside.clone()).await,
                "candidate"
            );
        }
        let revision = app.revision_of(id).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        while events.try_recv().is_ok() {}
        let body = json!({ "action": "roll_back", "reason": "refusals up", "revision": revision });
        let req = Request::post(format!(
            "http://{}/api/v1/changes/{id}/transitions",
            a.addr()
        ))
        .header(header::COOKIE, &cookie)
        .header(rollgate::http::authz::CSRF_HEADER, &session.csrf)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::from(body.to_string()))
        .expect("request");
        let t0 = Instant::now();
        let sent = {
            let client = client.clone();
            async move {
                let res = client.request(req).await.expect("transition");
                let status = res.status();
                let body = res.into_body().collect().await.expect("body").to_bytes();
                assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
                t0.elapsed()
            }
        };
        let event = async {
            let at = tokio::time::timeout(Duration::from_secs(10), events.recv())
                .await
                .expect("an event within 10 s")
                .expect("the event stream is open");
            at - t0
        };
        let (answered, served_a, served_b, notified) = tokio::join!(
            sent,
            until_control(a.addr(), key.clone(), inside.clone(), t0),
            until_control(b.addr(), key.clone(), inside.clone(), t0),
            event,
        );
        request.push(answered);
        on_a.push(served_a);
        on_b.push(served_b);
        sse.push(notified);
    }
    (on_b, on_a, sse, request)
}
