//! `cargo xtask bench console`: the canary console's speed figures for BENCHMARKS.md.
//!
//! 1. Ingestion: one `POST /api/v1/changes/{id}/metrics` of 10,000 windows (default catalogue).
//! 2. Page loads in headless Chromium (`performance.now()` when the page's marker appears),
//!    three of each: the change list (the first screen), then, with 30 metrics × 12 segments
//!    (plus the aggregate) × 14 days of hourly windows for both arms, a fully rendered
//!    comparison page (`[data-test=comparison-ready]`).
//! 3. The console's report for 30 × 12 in the browser build (`window.rollgate.bench_report`).
//!
//! Prints figures; asserts nothing. Run with the release server binary.

use std::time::{Duration, Instant};

use rollgate_e2e::{ADMIN, Browser, ENGINEER, PM, Server, act, find, http};
use serde_json::{Value, json};
use shared::metrics::{GoodDirection, MetricDef, MetricFamily, MetricKind, default_catalogue};
use shared::synthetic::SplitMix64;

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .expect("a valid time")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formattable")
}

fn token_for(server: &Server, change: &str) -> String {
    let body = json!({ "name": "bench", "change_id": change }).to_string();
    let (status, text) =
        http::login(server, ADMIN).request(server, "POST", "/api/v1/tokens", Some(&body));
    assert_eq!(status, 201, "token: {text}");
    let v: Value = serde_json::from_str(&text).expect("json");
    v["secret"].as_str().expect("secret").to_string()
}

fn ingest(server: &Server, change: &str, token: &str, windows: &[Value]) -> Duration {
    let body = json!({ "windows": windows }).to_string();
    let auth = format!("Bearer {token}");
    let start = Instant::now();
    let (status, text) = http::request_with(
        server,
        "POST",
        &format!("/api/v1/changes/{change}/metrics"),
        Some(&body),
        &[("Authorization", &auth)],
    );
    let took = start.elapsed();
    assert!(status == 200 || status == 202, "ingest: {status} {text}");
    took
}

/// One window's value for a metric of `kind`, with a small effect on the candidate.
fn value(rng: &mut SplitMix64, kind: MetricKind, n: u64, candidate: bool) -> Value {
    match kind {
        MetricKind::Rate => {
            let p = if candidate { 0.81 } else { 0.8 };
            json!({ "n": n, "successes": rng.binomial(n, p) })
        }
        MetricKind::Mean => {
            let mean = if candidate { 1.02 } else { 1.0 };
            let nf = n as f64;
            let sum = mean * nf + 0.5 * nf.sqrt() * rng.normal();
            json!({ "n": n, "sum": sum, "sum_squares": sum * sum / nf + 0.25 * (nf - 1.0) })
        }
        MetricKind::Latency => {
            let le = [100, 250, 500, 1000, 2000, 4000, 10000];
            let mut counts = vec![0u64; le.len()];
            let per = n / 20;
            for _ in 0..per {
                let ms = 150.0 + 400.0 * rng.exponential();
                let i = le
                    .iter()
                    .position(|&b| ms <= b as f64)
                    .unwrap_or(le.len() - 1);
                counts[i] += 20;
            }
            json!({ "le": le, "counts": counts, "cumulative": false })
        }
        MetricKind::Categories => json!({ "timeout": n / 500, "rate_limited": n / 900 }),
    }
}

fn windows(
    catalogue: &[MetricDef],
    segments: usize,
    hours: i64,
    end_hour: i64,
    rng: &mut SplitMix64,
) -> Vec<Value> {
    let mut out = Vec::new();
    for h in 0..hours {
        let start = (end_hour - hours + h) * 3600;
        for s in 0..segments {
            for (variant, n) in [("control", 950u64), ("candidate", 50u64)] {
                let metrics: serde_json::Map<String, Value> = catalogue
                    .iter()
                    .map(|d| (d.key.clone(), value(rng, d.kind, n, variant == "candidate")))
                    .collect();
                out.push(json!({
                    "variant": variant,
                    "segment": format!("segment {s:02}"),
                    "window_start": rfc3339(start),
                    "window_end": rfc3339(start + 3600),
                    "requests": n,
                    "metrics": metrics,
                }));
            }
        }
    }
    out
}

fn thirty_metrics() -> Vec<MetricDef> {
    let mut catalogue = default_catalogue();
    let mut i = 0;
    while catalogue.len() < 30 {
        let rate = i % 2 == 0;
        catalogue.push(MetricDef {
            key: format!("extra_metric_{i:02}"),
            name: format!("Extra metric {i}"),
            kind: if rate {
                MetricKind::Rate
            } else {
                MetricKind::Mean
            },
            family: MetricFamily::UserBehaviour,
            good: GoodDirection::Up,
            unit: String::new(),
        });
        i += 1;
    }
    catalogue
}

/// The middle of three timings.
fn median3(runs: &[f64]) -> f64 {
    let mut sorted = runs.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

#[tokio::main]
async fn main() -> rollgate_e2e::Result {
    let server = Server::start();
    let now_hour = time::OffsetDateTime::now_utc().unix_timestamp() / 3600;
    let mut rng = SplitMix64(11);

    // 1. Ingestion of 10,000 windows.
    let erin = http::login(&server, ENGINEER);
    let a = erin.create_change(&server, "Ingestion benchmark");
    let token = token_for(&server, &a);
    let batch = windows(&default_catalogue(), 10, 500, now_hour, &mut rng);
    assert_eq!(batch.len(), 10_000);
    let took = ingest(&server, &a, &token, &batch);
    println!(
        "ingest: 10000 windows x {} metrics in one request: {:.0} ms",
        default_catalogue().len(),
        took.as_secs_f64() * 1000.0
    );
    let again = ingest(&server, &a, &token, &batch);
    println!(
        "ingest: the same 10000 windows again (idempotent replace): {:.0} ms",
        again.as_secs_f64() * 1000.0
    );

    // 2. 30 metrics x 12 segments x 14 days hourly, then the page.
    let b = erin.create_change(&server, "Page-load benchmark: 30 metrics x 12 segments");
    erin.transition(&server, &b, "advance", None);
    erin.notify_support(&server, &b, "Nothing users would notice.");
    erin.approve(&server, &b, "engineer");
    http::login(&server, PM).approve(&server, &b, "pm");
    erin.transition(&server, &b, "advance", None);
    let catalogue = thirty_metrics();
    let body = json!({ "metrics": catalogue }).to_string();
    let (status, text) = erin.request(
        &server,
        "PUT",
        &format!("/api/v1/changes/{b}/catalogue"),
        Some(&body),
    );
    assert_eq!(status, 200, "catalogue: {text}");
    let token = token_for(&server, &b);
    let data = windows(&catalogue, 12, 14 * 24, now_hour, &mut rng);
    let took = ingest(&server, &b, &token, &data);
    println!(
        "ingest: {} windows x 30 metrics (14 days, 12 segments, 2 arms): {:.0} ms",
        data.len(),
        took.as_secs_f64() * 1000.0
    );
    let start = Instant::now();
    let (status, summary) = erin.request(
        &server,
        "GET",
        &format!("/api/v1/changes/{b}/metrics/summary"),
        None,
    );
    assert_eq!(status, 200);
    println!(
        "summary API: {:.0} ms, {} KB of JSON",
        start.elapsed().as_secs_f64() * 1000.0,
        summary.len() / 1000
    );

    let browser = Browser::start().await;
    let c = &browser.client;
    act::login(c, &server, ENGINEER).await?;
    // The first screen: the change list, rendered from a fresh page load.
    let mut lists = Vec::new();
    for _ in 0..3 {
        c.goto(&server.page("/stats")).await?;
        c.goto(&server.page("/")).await?;
        find::one(c, &find::hook("change-row")).await?;
        let ms = c.execute("return performance.now();", vec![]).await?;
        lists.push(ms.as_f64().unwrap_or(f64::NAN));
    }
    println!(
        "page: navigation to the rendered change list: median {:.0} ms (runs {:?})",
        median3(&lists),
        lists.iter().map(|x| x.round()).collect::<Vec<_>>()
    );

    let url = server.page(&format!("/changes/{b}/compare?window=all"));
    let mut loads = Vec::new();
    for _ in 0..3 {
        c.goto(&server.page("/stats")).await?;
        c.goto(&url).await?;
        find::one(c, &find::hook("comparison-ready")).await?;
        let ms = c.execute("return performance.now();", vec![]).await?;
        loads.push(ms.as_f64().unwrap_or(f64::NAN));
    }
    let shot = browser.screenshot("bench-comparison").await?;
    println!(
        "page: navigation to rendered comparison (30 x 12 x 14 d): median {:.0} ms (runs {:?}); screenshot {}",
        median3(&loads),
        loads.iter().map(|x| x.round()).collect::<Vec<_>>(),
        shot.display()
    );

    // 3. The report in the browser build.
    let per = c
        .execute("return window.rollgate.bench_report(50);", vec![])
        .await?;
    println!(
        "browser: shared::comparison::report for 30 x 12: {:.2} ms per call (mean of 50)",
        per.as_f64().unwrap_or(f64::NAN)
    );
    browser.close().await;
    Ok(())
}
