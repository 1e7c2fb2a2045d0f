//! Benchmarks of metric ingestion and aggregation, through the real router (`oneshot`, no
//! socket) on a fresh SQLite file, and on a fresh PostgreSQL database when
//! `ROLLGATE_BENCH_POSTGRES_URL` names an admin URL (the bench creates and drops
//! `rollgate_b_<uuid>`).
//!
//! * `ingest_10k`: one request of 10 000 windows (12 segments × 2 variants, the 12 metrics of
//!   the default catalogue; about 14 MB of JSON). Each iteration re-sends the same windows,
//!   so this is the replace path; the first (insert) send is timed once and printed.
//! * `summary_30x12x14d`: `GET …/metrics/summary` over 14 days of hourly windows for 30
//!   metrics × 12 segments × 2 variants (8 064 windows, 241 920 values).
//! * `series_30x12x14d`: `GET …/metrics/series` of one latency metric over the same data.
//!
//! `cargo bench -p rollgate-backend --bench metrics -- --warm-up-time 1 --measurement-time 5`

use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use criterion::{Criterion, criterion_group, criterion_main};
use rollgate::{AppState, app};
use serde_json::{Value, json};
use shared::synthetic::SplitMix64;
use sqlx::{Connection, Executor};
use tower::ServiceExt;

/// 2025-06-01T00:00:00Z.
const T0: i64 = 1_748_736_000;

fn at(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(rollgate::db::timestamp)
        .unwrap_or_default()
}

async fn call(router: &Router, req: Request<Body>) -> (StatusCode, Value) {
    let res = router.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Who sends a request: a signed-in user (cookie and CSRF token) or a change's ingestion
/// token.
enum Caller<'a> {
    Session(&'a Session),
    Token(&'a str),
}

/// A console session, signed in through the API.
struct Session {
    cookie: String,
    csrf: String,
}

const PASSWORD: &str = "bench password of some length";

/// Creates an admin engineer (creating ingestion tokens is an admin's job) and signs them in.
async fn sign_in(router: &Router, pool: &sqlx::AnyPool) -> Session {
    let passwords = rollgate::accounts::Passwords::production();
    rollgate::accounts::create_user(
        pool,
        &passwords,
        &shared::auth::NewUser {
            email: "bench@example.com".into(),
            name: "Bench".into(),
            roles: vec![shared::auth::Role::Admin, shared::auth::Role::Engineer],
            password: PASSWORD.into(),
        },
        &rollgate::db::audit::Who::system(),
    )
    .await
    .expect("create the bench user");
    let req = Request::post("/api/v1/session")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({ "email": "bench@example.com", "password": PASSWORD }).to_string(),
        ))
        .expect("request");
    let res = router.clone().oneshot(req).await.expect("infallible");
    assert_eq!(res.status(), StatusCode::OK, "sign-in");
    let cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    let info: Value = serde_json::from_slice(&bytes).expect("session JSON");
    Session {
        cookie,
        csrf: info["csrf_token"].as_str().expect("csrf token").to_owned(),
    }
}

fn json_req(method: &str, uri: &str, body: &Value, caller: Caller<'_>) -> Request<Body> {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    let req = match caller {
        Caller::Session(s) => req
            .header(header::COOKIE, &s.cookie)
            .header("X-CSRF-Token", &s.csrf),
        Caller::Token(t) => req.header(header::AUTHORIZATION, format!("Bearer {t}")),
    };
    req.body(Body::from(body.to_string())).expect("request")
}

/// A change, optionally with a 30-metric catalogue, and a token for it.
async fn change(router: &Router, session: &Session, wide: bool) -> (String, String) {
    let (status, detail) = call(
        router,
        json_req(
            "POST",
            "/api/v1/changes",
            &json!({ "title": "Bench", "kind": "prompt", "risk": "standard", "owner": "bench" }),
            Caller::Session(session),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{detail}");
    let id = detail["change"]["id"].as_str().expect("id").to_owned();
    if wide {
        let mut metrics: Vec<Value> = shared::metrics::default_catalogue()
            .iter()
            .map(|d| serde_json::to_value(d).expect("def"))
            .collect();
        for i in 0..18 {
            metrics.push(json!({
                "key": format!("extra_{i:02}"), "name": format!("Extra {i}"),
                "kind": if i % 2 == 0 { "rate" } else { "mean" },
                "family": "quality", "good": "up",
            }));
        }
        let (status, body) = call(
            router,
            json_req(
                "PUT",
                &format!("/api/v1/changes/{id}/catalogue"),
                &json!({ "metrics": metrics }),
                Caller::Session(session),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let (status, token) = call(
        router,
        json_req(
            "POST",
            "/api/v1/tokens",
            &json!({ "name": "bench", "change_id": id }),
            Caller::Session(session),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{token}");
    (id, token["secret"].as_str().expect("secret").to_owned())
}

/// A window with every default metric, plus 18 extra ones when `wide`.
fn window(
    rng: &mut SplitMix64,
    variant: &str,
    segment: usize,
    start: i64,
    len: i64,
    wide: bool,
) -> Value {
    let n = 200 + rng.next_u64() % 800;
    let rate = |rng: &mut SplitMix64, p: f64| json!({ "n": n, "successes": rng.binomial(n, p) });
    let mean = |rng: &mut SplitMix64, m: f64| {
        let mu = m * (1.0 + 0.01 * rng.normal());
        json!({ "n": n, "sum": mu * n as f64, "sum_squares": (mu * mu * 1.5) * n as f64 })
    };
    let mut metrics = serde_json::Map::new();
    metrics.insert("shadow_eval_pass_rate".into(), rate(rng, 0.9));
    metrics.insert("suggestion_click_through".into(), rate(rng, 0.2));
    metrics.insert("retry_rate".into(), rate(rng, 0.06));
    metrics.insert("conversation_length".into(), mean(rng, 3.2));
    metrics.insert("cost_per_request".into(), mean(rng, 0.004));
    metrics.insert("tokens_per_request".into(), mean(rng, 1100.0));
    let mut counts = [0u64; 12];
    for _ in 0..n.min(64) {
        counts[(rng.next_u64() % 12) as usize] += n / 64;
    }
    metrics.insert(
        "latency_ms".into(),
        json!({ "le": [100, 250, 500, 750, 1000, 1500, 2000, 2500, 3000, 4000, 6000, 10000],
                "counts": counts, "cumulative": false }),
    );
    metrics.insert("hard_error_rate".into(), rate(rng, 0.004));
    metrics.insert("soft_error_rate".into(), rate(rng, 0.02));
    metrics.insert("refusal_rate".into(), rate(rng, 0.008));
    metrics.insert("moderation_flag_rate".into(), rate(rng, 0.001));
    metrics.insert(
        "error_categories".into(),
        json!({ "timeout": rng.binomial(n, 0.002), "rate_limited": rng.binomial(n, 0.001) }),
    );
    if wide {
        for i in 0..18 {
            let v = if i % 2 == 0 {
                rate(rng, 0.5)
            } else {
                mean(rng, 10.0)
            };
            metrics.insert(format!("extra_{i:02}"), v);
        }
    }
    json!({
        "variant": variant,
        "segment": format!("segment {segment:02}"),
        "window_start": at(start),
        "window_end": at(start + len),
        "requests": n,
        "metrics": metrics,
    })
}

/// `count` windows over 12 segments × 2 variants, `len` seconds each, from [`T0`].
fn windows(count: usize, len: i64, wide: bool) -> Vec<Value> {
    let mut rng = SplitMix64(42);
    let mut out = Vec::with_capacity(count);
    let mut slot = 0;
    while out.len() < count {
        for segment in 0..12 {
            for variant in ["control", "candidate"] {
                if out.len() < count {
                    out.push(window(
                        &mut rng,
                        variant,
                        segment,
                        T0 + slot * len,
                        len,
                        wide,
                    ));
                }
            }
        }
        slot += 1;
    }
    out
}

/// Stores `days` of hourly windows of the 30-metric catalogue over 12 segments × 2 variants
/// for a new change; its id.
async fn history(router: &Router, session: &Session, days: i64) -> String {
    let (id, token) = change(router, session, true).await;
    let data = windows((days * 24 * 24) as usize, 3600, true);
    for chunk in data.chunks(4000) {
        let (status, answer) = call(
            router,
            json_req(
                "POST",
                &format!("/api/v1/changes/{id}/metrics"),
                &json!({ "windows": chunk }),
                Caller::Token(&token),
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{answer}");
    }
    id
}

fn run(c: &mut Criterion, label: &str, url: &str) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let (router, session) = rt.block_on(async {
        let (pool, backend) = rollgate::db::connect(url).await.expect("connect");
        // The per-session read limit (10 requests/s) would answer most of these requests 429:
        // the bench measures what the server can do, so it lifts it.
        let router = app(AppState::new(pool.clone(), backend, "dist").with_read_limit(1e9, 1e9));
        let session = sign_in(&router, &pool).await;
        (router, session)
    });

    // Ingestion: 10 000 five-minute windows of the default catalogue.
    let (id, token) = rt.block_on(change(&router, &session, false));
    let body = json!({ "windows": windows(10_000, 300, false) }).to_string();
    eprintln!("[{label}] ingest body: {:.1} MB", body.len() as f64 / 1e6);
    let uri = format!("/api/v1/changes/{id}/metrics");
    let send = |body: String| {
        Request::post(&uri)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(body))
            .expect("request")
    };
    let started = Instant::now();
    let (status, answer) = rt.block_on(call(&router, send(body.clone())));
    assert_eq!(status, StatusCode::OK, "{answer}");
    eprintln!(
        "[{label}] first send of 10 000 windows (insert): {:?}",
        started.elapsed()
    );
    c.bench_function(&format!("{label}/ingest_10k"), |b| {
        b.iter(|| {
            let (status, _) = rt.block_on(call(&router, send(body.clone())));
            assert_eq!(status, StatusCode::OK);
        })
    });

    // Aggregation: 14 days of hourly windows, 30 metrics × 12 segments × 2 variants.
    let id = rt.block_on(history(&router, &session, 14));
    let get = |uri: String| {
        Request::get(uri)
            .header(header::COOKIE, &session.cookie)
            .body(Body::empty())
            .expect("request")
    };
    let summary = format!("/api/v1/changes/{id}/metrics/summary");
    let (_, s) = rt.block_on(call(&router, get(summary.clone())));
    assert_eq!(s["windows"], 8064);
    assert_eq!(s["cells"].as_array().map(Vec::len), Some(30 * 13 * 2));
    c.bench_function(&format!("{label}/summary_30x12x14d"), |b| {
        b.iter(|| {
            let (status, _) = rt.block_on(call(&router, get(summary.clone())));
            assert_eq!(status, StatusCode::OK);
        })
    });
    let series = format!("/api/v1/changes/{id}/metrics/series?metric=latency_ms");
    c.bench_function(&format!("{label}/series_30x12x14d"), |b| {
        b.iter(|| {
            let (status, _) = rt.block_on(call(&router, get(series.clone())));
            assert_eq!(status, StatusCode::OK);
        })
    });
    // The same summary over 7, 28 and 56 days of history (14 is above): its cost should not
    // grow with the history.
    for days in [7, 28, 56] {
        let id = rt.block_on(history(&router, &session, days));
        let summary = format!("/api/v1/changes/{id}/metrics/summary");
        let (_, s) = rt.block_on(call(&router, get(summary.clone())));
        assert_eq!(s["windows"], days * 24 * 24);
        c.bench_function(&format!("{label}/summary_30x12x{days}d"), |b| {
            b.iter(|| {
                let (status, _) = rt.block_on(call(&router, get(summary.clone())));
                assert_eq!(status, StatusCode::OK);
            })
        });
    }

    let seconds: u64 = std::env::var("ROLLGATE_BENCH_LOAD_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    if seconds > 0 {
        let summary = format!("/api/v1/changes/{id}/metrics/summary");
        load::run(&rt, label, router, &session.cookie, &summary, seconds);
    }
}

/// 50 viewers polling a summary over real sockets while a monitor probes `/api/v1/health`.
/// The server runs on the bench's runtime (where its pool lives); the viewers and the monitor
/// each run on a runtime of their own on their own thread, so a slow server shows as latency
/// and not as a starved client. Two ways of polling, each with and without `If-None-Match`:
/// as fast as each viewer can (the most the server answers) and at 20 requests a second per
/// viewer, 1 000 in all (latency at the target rate, measured from when each request was due,
/// so a late answer also delays what follows it).
mod load {
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};

    use axum::Router;
    use axum::body::Bytes;
    use axum::http::{Request, StatusCode, header};
    use http_body_util::{BodyExt, Empty};
    use hyper_util::client::legacy::Client;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::TokioExecutor;

    const VIEWERS: usize = 50;
    /// Each viewer's rate in the paced runs: 50 × 20 = 1 000 requests a second.
    const PACED_PER_VIEWER: u64 = 20;

    type Http = Client<HttpConnector, Empty<Bytes>>;

    fn client() -> Http {
        Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(VIEWERS + 1)
            .build_http()
    }

    /// One GET; its status and ETag.
    async fn get(
        client: &Http,
        uri: &str,
        cookie: &str,
        etag: Option<&str>,
    ) -> (StatusCode, Option<String>) {
        let mut req = Request::get(uri)
            .header(header::COOKIE, cookie)
            .header(header::ACCEPT_ENCODING, "gzip");
        if let Some(tag) = etag {
            req = req.header(header::IF_NONE_MATCH, tag);
        }
        let res = client
            .request(req.body(Empty::new()).expect("request"))
            .await
            .expect("response");
        let status = res.status();
        let tag = res
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        res.into_body().collect().await.expect("body");
        (status, tag)
    }

    fn percentile(sorted: &[Duration], p: f64) -> f64 {
        let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
        sorted[i].as_secs_f64() * 1e3
    }

    /// Runs `f` on a runtime of its own, on a thread of its own.
    fn on_own_thread<T: Send + 'static>(
        f: impl FnOnce() -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>>
        + Send
        + 'static,
    ) -> std::thread::JoinHandle<T> {
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime")
                .block_on(f())
        })
    }

    pub fn run(
        rt: &tokio::runtime::Runtime,
        label: &str,
        router: Router,
        cookie: &str,
        summary: &str,
        seconds: u64,
    ) {
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        rt.spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .expect("serve");
        });
        let base = format!("http://{addr}");
        for paced in [false, true] {
            for conditional in [true, false] {
                let stop = Arc::new(AtomicBool::new(false));
                let viewers = {
                    let (stop, uri, cookie) =
                        (stop.clone(), format!("{base}{summary}"), cookie.to_owned());
                    on_own_thread(move || {
                        Box::pin(async move {
                            let client = client();
                            let mut tasks = Vec::new();
                            for v in 0..VIEWERS {
                                let (client, stop) = (client.clone(), stop.clone());
                                let (uri, cookie) = (uri.clone(), cookie.clone());
                                tasks.push(tokio::spawn(async move {
                                    let period =
                                        Duration::from_micros(1_000_000 / PACED_PER_VIEWER);
                                    // Viewers spread over the period, as people are.
                                    let first = tokio::time::Instant::now()
                                        + period * v as u32 / VIEWERS as u32;
                                    let mut ticks = tokio::time::interval_at(first, period);
                                    let mut times = Vec::new();
                                    let mut tag: Option<String> = None;
                                    while !stop.load(Ordering::Relaxed) {
                                        let due = if paced {
                                            ticks.tick().await.into_std()
                                        } else {
                                            Instant::now()
                                        };
                                        let held = if conditional { tag.as_deref() } else { None };
                                        let (status, etag) =
                                            get(&client, &uri, &cookie, held).await;
                                        assert!(
                                            status == StatusCode::OK
                                                || status == StatusCode::NOT_MODIFIED,
                                            "summary answered {status}"
                                        );
                                        tag = etag.or(tag);
                                        times.push(due.elapsed());
                                    }
                                    times
                                }));
                            }
                            let mut times = Vec::new();
                            for t in tasks {
                                times.extend(t.await.expect("viewer"));
                            }
                            times
                        })
                    })
                };
                let monitor = {
                    let (stop, uri) = (stop.clone(), format!("{base}/api/v1/health"));
                    on_own_thread(move || {
                        Box::pin(async move {
                            let client = client();
                            let mut times = Vec::new();
                            while !stop.load(Ordering::Relaxed) {
                                let started = Instant::now();
                                let (status, _) = get(&client, &uri, "", None).await;
                                assert_eq!(status, StatusCode::OK, "health");
                                times.push(started.elapsed());
                                tokio::time::sleep(Duration::from_millis(20)).await;
                            }
                            times
                        })
                    })
                };
                let started = Instant::now();
                std::thread::sleep(Duration::from_secs(seconds));
                stop.store(true, Ordering::Relaxed);
                let mut times = viewers.join().expect("viewers");
                let elapsed = started.elapsed().as_secs_f64();
                let mut health = monitor.join().expect("monitor");
                times.sort();
                health.sort();
                println!(
                    "[{label}] {VIEWERS} viewers polling the 14-day summary, {}, {}: {} \
                     requests in {elapsed:.1} s = {:.0} req/s; p50 {:.2} ms, p99 {:.2} ms, max \
                     {:.1} ms; health p50 {:.2} ms, p99 {:.2} ms ({} probes)",
                    if paced {
                        "20 req/s each (1 000 req/s)"
                    } else {
                        "as fast as they can"
                    },
                    if conditional {
                        "with If-None-Match (304)"
                    } else {
                        "full answers (gzip)"
                    },
                    times.len(),
                    times.len() as f64 / elapsed,
                    percentile(&times, 0.5),
                    percentile(&times, 0.99),
                    percentile(&times, 1.0),
                    percentile(&health, 0.5),
                    percentile(&health, 0.99),
                    health.len(),
                );
            }
        }
    }
}
fn benches(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    run(c, "sqlite", &url);

    if let Ok(admin_url) = std::env::var("ROLLGATE_BENCH_POSTGRES_URL") {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        let name = format!("rollgate_b_{}", uuid::Uuid::now_v7().simple());
        sqlx::any::install_default_drivers();
        let mut admin = rt
            .block_on(sqlx::AnyConnection::connect(&admin_url))
            .expect("connect to ROLLGATE_BENCH_POSTGRES_URL");
        rt.block_on(admin.execute(format!("CREATE DATABASE {name}").as_str()))
            .expect("create database");
        let base = admin_url
            .rsplit_once('/')
            .map_or(admin_url.as_str(), |(b, _)| b);
        run(c, "postgres", &format!("{base}/{name}"));
        rt.block_on(admin.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()))
            .expect("drop database");
    }
}

criterion_group! {
    name = metrics;
    config = Criterion::default().sample_size(10);
    targets = benches
}
criterion_main!(metrics);
