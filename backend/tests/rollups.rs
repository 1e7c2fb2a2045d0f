//! The metric rollups: the summary and the series read from them must answer what adding up
//! every stored window answers (`shared::aggregate` over `db::metrics::windows`, the path they
//! replaced), for random window sets with re-sends and replacements, for the demo's data, and
//! for windows stored before rollups existed.

mod common;

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::traffic::at;
use common::{TestApp, each_database};
use rollgate::app::metrics::{SeriesRequest, series, summary};
use rollgate::db::metrics::{Selection, windows};
use serde_json::{Value, json};
use shared::aggregate;
use shared::synthetic::SplitMix64;

/// 2025-06-15T00:00:00Z.
const T0: i64 = 1_749_945_600;

/// Equal, with floating-point numbers to 1e-12 relative and every other value exactly.
fn assert_close(got: &Value, want: &Value, path: &str) {
    match (got, want) {
        (Value::Number(a), Value::Number(b)) if a.is_f64() || b.is_f64() => {
            let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
            assert!(
                (a - b).abs() <= 1e-12 * a.abs().max(b.abs()),
                "{path}: {a} vs {b}"
            );
        }
        (Value::Array(a), Value::Array(b)) => {
            assert_eq!(a.len(), b.len(), "{path}: lengths");
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert_close(x, y, &format!("{path}[{i}]"));
            }
        }
        (Value::Object(a), Value::Object(b)) => {
            assert_eq!(
                a.keys().collect::<Vec<_>>(),
                b.keys().collect::<Vec<_>>(),
                "{path}: keys"
            );
            for (k, x) in a {
                assert_close(x, &b[k], &format!("{path}.{k}"));
            }
        }
        _ => assert_eq!(got, want, "{path}"),
    }
}

/// Checks the summary and a few series of `change` over `[from, to)` against adding up its
/// stored windows.
async fn check(app: &TestApp, change: &str, from: Option<i64>, to: Option<i64>, segment: &str) {
    let label = format!("{change} from {from:?} to {to:?} segment {segment}");
    let catalogue = rollgate::app::metrics::catalogue(&app.pool, change)
        .await
        .expect("catalogue");
    let keys: Vec<&str> = catalogue.iter().map(|d| d.key.as_str()).collect();
    let all = Selection {
        from,
        to,
        segment: None,
    };
    let stored = windows(&app.pool, change, all, &keys)
        .await
        .expect("windows");
    let want = aggregate::summarize(catalogue.clone(), &stored).expect("summarize");
    let got = summary(
        &app.pool,
        change,
        from.map(at).as_deref(),
        to.map(at).as_deref(),
    )
    .await
    .expect("summary");
    assert_close(
        &serde_json::to_value(&got).unwrap(),
        &serde_json::to_value(&want).unwrap(),
        &format!("summary {label}"),
    );

    for metric in [
        "retry_rate",
        "cost_per_request",
        "latency_ms",
        "error_categories",
    ] {
        for resolution in [None, Some(600), Some(3600), Some(7200), Some(86_400)] {
            let sel = Selection {
                from,
                to,
                segment: (segment != "all").then_some(segment),
            };
            let stored = windows(&app.pool, change, sel, &[metric])
                .await
                .expect("windows");
            let want = aggregate::series(&stored, from, resolution);
            let got = series(
                &app.pool,
                change,
                SeriesRequest {
                    metric: metric.into(),
                    segment: Some(segment.into()),
                    resolution,
                    from: from.map(at),
                    to: to.map(at),
                },
            )
            .await;
            match (got, want) {
                (Ok(got), Ok((width, points))) => {
                    assert_eq!(got.resolution_seconds, width, "{label} {metric}");
                    assert_close(
                        &serde_json::to_value(&got.points).unwrap(),
                        &serde_json::to_value(&points).unwrap(),
                        &format!("series {label} {metric} {resolution:?}"),
                    );
                }
                (Err(_), Err(_)) => {}
                (got, want) => panic!("{label} {metric} {resolution:?}: {got:?} vs {want:?}"),
            }
        }
    }
}

async fn ingest(app: &TestApp, change: &str, token: &str, windows: &[Value]) {
    let res = app
        .request(
            Request::post(format!("/api/v1/changes/{change}/metrics"))
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::from(json!({ "windows": windows }).to_string()))
                .expect("request"),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
}

async fn change_with_token(app: &TestApp) -> (String, String) {
    let change = app.create_default().await;
    let res = app
        .post(
            "/api/v1/tokens",
            &json!({ "name": "rollups", "change_id": change }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    (
        change,
        res.json()["secret"].as_str().expect("secret").to_owned(),
    )
}

/// A window's key: variant, segment, start, end.
type Key = (&'static str, &'static str, i64, i64);

fn random_window(rng: &mut SplitMix64, key: Key) -> Value {
    let (variant, segment, start, end) = key;
    let n = 1 + rng.next_u64() % 500;
    let mut latency = [0u64; 3];
    for _ in 0..(1 + n % 40) {
        latency[(rng.next_u64() % 3) as usize] += 1;
    }
    let costs: Vec<f64> = (0..3).map(|_| rng.uniform() * 0.03 + 1e-4).collect();
    json!({
        "variant": variant,
        "segment": segment,
        "window_start": at(start),
        "window_end": at(end),
        "requests": n,
        "metrics": {
            "retry_rate": { "n": n, "successes": rng.next_u64() % (n + 1) },
            "cost_per_request": {
                "n": 3,
                "sum": costs.iter().sum::<f64>(),
                "sum_squares": costs.iter().map(|c| c * c).sum::<f64>(),
            },
            "latency_ms": { "le": [100, 500, 2000], "counts": latency, "cumulative": false },
            "error_categories": { "timeout": rng.next_u64() % 4, "tool_error": rng.next_u64() % 2 },
        },
    })
}

#[tokio::test]
async fn rollups_answer_like_every_window_added_up_after_resends_and_replacements() {
    each_database(|app| async move {
        let (change, token) = change_with_token(&app).await;
        let mut rng = SplitMix64(42);
        let variants = ["control", "candidate"];
        let segments = ["free / en", "pro / en", "pro / es", "all"];
        let mut sent: BTreeMap<Key, Value> = BTreeMap::new();
        for round in 0..6 {
            let mut batch: BTreeMap<Key, Value> = BTreeMap::new();
            // New windows anywhere in three days, of 1 to 120 minutes, some crossing an hour
            // or a day boundary.
            for _ in 0..60 {
                let start = T0 + (rng.next_u64() % (3 * 86_400 / 60)) as i64 * 60;
                let len = 60 * (1 + (rng.next_u64() % 120) as i64);
                let key: Key = (
                    variants[(rng.next_u64() % 2) as usize],
                    segments[(rng.next_u64() % 4) as usize],
                    start,
                    start + len,
                );
                batch.insert(key, random_window(&mut rng, key));
            }
            // Re-sends of earlier windows: a third as they were, the rest with new values.
            let earlier: Vec<Key> = sent.keys().copied().collect();
            for (i, key) in earlier.iter().enumerate() {
                if (i + round) % 4 == 0 {
                    let value = if i % 3 == 0 {
                        sent[key].clone()
                    } else {
                        random_window(&mut rng, *key)
                    };
                    batch.insert(*key, value);
                }
            }
            let windows: Vec<Value> = batch.values().cloned().collect();
            ingest(&app, &change, &token, &windows).await;
            sent.extend(batch);
        }
        let stored = rollgate::db::metrics::count(&app.pool, &change)
            .await
            .expect("count");
        assert_eq!(stored, sent.len() as i64);

        let (h, d) = (3600, 86_400);
        for (from, to) in [
            (None, None),
            (Some(T0 + d), None),
            (None, Some(T0 + 2 * d)),
            (Some(T0 + 1234), Some(T0 + 2 * d + h + 600)),
            (Some(T0 + 7 * h), Some(T0 + 31 * h)),
            (Some(T0 + d - 60), Some(T0 + d + 60)),
        ] {
            check(&app, &change, from, to, "all").await;
        }
        check(&app, &change, None, None, "pro / es").await;
        check(&app, &change, Some(T0 + 5 * h + 17), None, "free / en").await;
    })
    .await;
}

#[tokio::test]
async fn the_demo_data_reads_the_same_from_its_rollups() {
    each_database(|app| async move {
        assert!(app.seed_demo().await);
        let instance = rollgate::demo_traffic::Instance::generate();
        // 2025-06-15T10:02:30Z, as the demo traffic test.
        let feeds =
            rollgate::demo_traffic::prepare(&app.router, &app.pool, &instance, 1_749_981_750)
                .await
                .expect("demo backfill");
        assert!(!feeds.is_empty());
        for feed in &feeds {
            let id = feed.change_id.as_str();
            assert!(rollgate::db::metrics::count(&app.pool, id).await.unwrap() > 0);
            check(&app, id, None, None, "all").await;
            check(
                &app,
                id,
                Some(1_749_981_750 - 6 * 3600 - 150),
                None,
                "free / es",
            )
            .await;
        }
    })
    .await;
}

#[tokio::test]
async fn windows_stored_before_rollups_are_rolled_up_at_start() {
    each_database(|app| async move {
        let (change, token) = change_with_token(&app).await;
        let mut rng = SplitMix64(7);
        let windows: Vec<Value> = (0..30)
            .map(|i| {
                random_window(
                    &mut rng,
                    ("control", "pro / en", T0 + i * 1800, T0 + i * 1800 + 1800),
                )
            })
            .collect();
        ingest(&app, &change, &token, &windows).await;
        // As a database written before migration 0010 would be.
        sqlx::query("DELETE FROM metric_rollups")
            .execute(&app.pool)
            .await
            .expect("delete");
        let empty = summary(&app.pool, &change, None, None)
            .await
            .expect("summary");
        assert_eq!(empty.windows, 0);
        assert_eq!(
            rollgate::db::rollups::backfill(&app.pool)
                .await
                .expect("backfill"),
            1
        );
        assert_eq!(
            rollgate::db::rollups::backfill(&app.pool)
                .await
                .expect("again"),
            0
        );
        check(&app, &change, None, None, "all").await;
        check(&app, &change, Some(T0 + 3 * 3600), None, "all").await;
    })
    .await;
}
