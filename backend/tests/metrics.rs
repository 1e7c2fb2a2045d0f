//! `/api/v1/changes/{id}/metrics` (ingestion), `…/metrics/summary`, `…/metrics/series` and
//! `…/catalogue`: idempotent re-sends, atomic rejection, aggregates checked by hand.

mod common;

use std::time::Instant;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{TestApp, TestResponse, each_database};
use serde_json::{Value, json};

/// 2025-06-15T00:00:00Z: a fixed past hour, so windows are never "in the future".
const T0: i64 = 1_749_945_600;

fn at(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .expect("time")
        .format(&time::format_description::well_known::Rfc3339)
        .expect("format")
}

/// An hourly window starting `hour` hours after [`T0`].
fn window(variant: &str, segment: &str, hour: i64, requests: u64, metrics: Value) -> Value {
    json!({
        "variant": variant,
        "segment": segment,
        "window_start": at(T0 + hour * 3600),
        "window_end": at(T0 + (hour + 1) * 3600),
        "requests": requests,
        "metrics": metrics,
    })
}

fn rate(n: u64, successes: u64) -> Value {
    json!({ "n": n, "successes": successes })
}

fn latency(counts: [u64; 3]) -> Value {
    json!({ "le": [100, 500, 2000], "counts": counts, "cumulative": false })
}

/// A change and a token for it.
async fn setup(app: &TestApp) -> (String, String) {
    let change = app.create_default().await;
    let res = app
        .post(
            "/api/v1/tokens",
            &json!({ "name": "test", "change_id": change }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let secret = res.json()["secret"].as_str().expect("secret").to_owned();
    (change, secret)
}

async fn ingest(app: &TestApp, change: &str, token: &str, windows: &[Value]) -> TestResponse {
    let body = json!({ "windows": windows }).to_string();
    app.request(
        Request::post(format!("/api/v1/changes/{change}/metrics"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(body))
            .expect("request"),
    )
    .await
}

async fn ingest_ok(app: &TestApp, change: &str, token: &str, windows: &[Value]) -> Value {
    let res = ingest(app, change, token, windows).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()
}

async fn summary(app: &TestApp, change: &str, query: &str) -> Value {
    let res = app
        .get(&format!("/api/v1/changes/{change}/metrics/summary{query}"))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()
}

fn cell<'a>(summary: &'a Value, metric: &str, segment: &str, variant: &str) -> &'a Value {
    summary["cells"]
        .as_array()
        .expect("cells")
        .iter()
        .find(|c| c["metric"] == metric && c["segment"] == segment && c["variant"] == variant)
        .map(|c| &c["value"])
        .unwrap_or(&Value::Null)
}

fn traffic(summary: &Value, segment: &str, variant: &str) -> Value {
    summary["traffic"]
        .as_array()
        .expect("traffic")
        .iter()
        .find(|c| c["segment"] == segment && c["variant"] == variant)
        .map(|c| c["requests"].clone())
        .unwrap_or(Value::Null)
}

/// Four windows over two segments and two hours.
fn small_batch() -> Vec<Value> {
    vec![
        window(
            "control",
            "free / en",
            0,
            100,
            json!({ "retry_rate": rate(100, 6), "latency_ms": latency([50, 40, 10]),
                    "error_categories": { "timeout": 2 } }),
        ),
        window(
            "candidate",
            "free / en",
            0,
            10,
            json!({ "retry_rate": rate(10, 2), "latency_ms": latency([4, 5, 1]),
                    "error_categories": { "timeout": 1, "tool_timeout": 1 } }),
        ),
        window(
            "control",
            "paid / es",
            1,
            50,
            json!({ "retry_rate": rate(50, 1),
                    "cost_per_request": { "n": 2, "sum": 3.0, "sum_squares": 5.0 } }),
        ),
        window(
            "control",
            "free / en",
            1,
            30,
            json!({ "retry_rate": rate(30, 3),
                    "cost_per_request": { "n": 1, "sum": 3.0, "sum_squares": 9.0 } }),
        ),
    ]
}

#[tokio::test]
async fn summaries_add_up_by_hand() {
    each_database(|app| async move {
        let (change, token) = setup(&app).await;
        assert_eq!(
            ingest_ok(&app, &change, &token, &small_batch()).await,
            json!({ "accepted": 4, "replaced": 0 })
        );
        let s = summary(&app, &change, "").await;
        assert_eq!(s["windows"], 4);
        assert_eq!(s["segments"], json!(["free / en", "paid / es"]));
        assert_eq!(s["from"], "2025-06-15T00:00:00.000000Z");
        assert_eq!(s["to"], "2025-06-15T02:00:00.000000Z");
        assert_eq!(s["catalogue"].as_array().map(Vec::len), Some(12));

        assert_eq!(
            cell(&s, "retry_rate", "all", "control"),
            &json!({ "kind": "rate", "n": 180, "successes": 10 })
        );
        assert_eq!(
            cell(&s, "retry_rate", "free / en", "control"),
            &json!({ "kind": "rate", "n": 130, "successes": 9 })
        );
        assert_eq!(
            cell(&s, "retry_rate", "all", "candidate"),
            &json!({ "kind": "rate", "n": 10, "successes": 2 })
        );
        assert_eq!(
            cell(&s, "cost_per_request", "all", "control"),
            &json!({ "kind": "mean", "n": 3, "sum": 6.0, "sum_squares": 14.0 })
        );
        assert_eq!(
            cell(&s, "latency_ms", "free / en", "control"),
            &json!({ "kind": "latency", "le": [100.0, 500.0, 2000.0], "counts": [50, 40, 10] })
        );
        assert_eq!(
            cell(&s, "error_categories", "all", "candidate"),
            &json!({ "kind": "categories", "counts": { "timeout": 1, "tool_timeout": 1 } })
        );
        assert_eq!(
            cell(&s, "cost_per_request", "all", "candidate"),
            &Value::Null
        );
        assert_eq!(traffic(&s, "all", "control"), json!(180));
        assert_eq!(traffic(&s, "free / en", "control"), json!(130));
        assert_eq!(traffic(&s, "paid / es", "control"), json!(50));
        assert_eq!(traffic(&s, "all", "candidate"), json!(10));
        assert_eq!(traffic(&s, "paid / es", "candidate"), Value::Null);

        // Windows starting in [from, to).
        let second_hour = format!("?from={}", at(T0 + 3600).replace('+', "%2B"));
        let s = summary(&app, &change, &second_hour).await;
        assert_eq!(s["windows"], 2);
        assert_eq!(
            cell(&s, "retry_rate", "all", "control"),
            &json!({ "kind": "rate", "n": 80, "successes": 4 })
        );
        let first_hour = format!("?to={}", at(T0 + 3600));
        let s = summary(&app, &change, &first_hour).await;
        assert_eq!(s["windows"], 2);
        assert_eq!(traffic(&s, "all", "control"), json!(100));
        let empty = summary(&app, &change, &format!("?from={}", at(T0 + 7200))).await;
        assert_eq!(
            (empty["windows"].clone(), empty["from"].clone()),
            (json!(0), Value::Null)
        );
        assert_eq!(empty["cells"], json!([]));

        for (query, field) in [
            ("?from=yesterday", "from"),
            ("?from=2025-06-15T01:00:00Z&to=2025-06-15T00:00:00Z", "to"),
        ] {
            let res = app
                .get(&format!("/api/v1/changes/{change}/metrics/summary{query}"))
                .await;
            res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation", Some(field));
        }
        let res = app.get("/api/v1/changes/nope/metrics/summary").await;
        res.assert_error(StatusCode::NOT_FOUND, "not_found", None);
    })
    .await;
}

#[tokio::test]
async fn series_are_cumulative() {
    each_database(|app| async move {
        let (change, token) = setup(&app).await;
        ingest_ok(&app, &change, &token, &small_batch()).await;
        let later = window("candidate", "free / en", 3, 20, json!({ "retry_rate": rate(20, 5) }));
        ingest_ok(&app, &change, &token, &[later]).await;

        let res = app
            .get(&format!("/api/v1/changes/{change}/metrics/series?metric=retry_rate"))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let s = res.json();
        assert_eq!(s["segment"], "all");
        assert_eq!(s["resolution_seconds"], 3600);
        let points = s["points"].as_array().expect("points");
        let ats: Vec<&str> = points.iter().map(|p| p["at"].as_str().unwrap_or("")).collect();
        assert_eq!(
            ats,
            [
                "2025-06-15T01:00:00.000000Z",
                "2025-06-15T02:00:00.000000Z",
                "2025-06-15T03:00:00.000000Z",
                "2025-06-15T04:00:00.000000Z"
            ]
        );
        let n = |p: &Value, v: &str| (p[v]["n"].clone(), p[v]["successes"].clone());
        assert_eq!(n(&points[0], "control"), (json!(100), json!(6)));
        assert_eq!(n(&points[1], "control"), (json!(180), json!(10)));
        assert_eq!(n(&points[2], "control"), (json!(180), json!(10)));
        assert_eq!(n(&points[3], "control"), (json!(180), json!(10)));
        assert_eq!(n(&points[0], "candidate"), (json!(10), json!(2)));
        assert_eq!(n(&points[2], "candidate"), (json!(10), json!(2)));
        assert_eq!(n(&points[3], "candidate"), (json!(30), json!(7)));

        // One segment, a coarser resolution, and a metric only some windows have.
        let res = app
            .get(&format!(
                "/api/v1/changes/{change}/metrics/series?metric=cost_per_request&segment=paid%20/%20es&resolution=7200"
            ))
            .await;
        let s = res.json();
        assert_eq!(s["resolution_seconds"], 7200);
        assert_eq!(
            s["points"],
            json!([{
                "at": "2025-06-15T02:00:00.000000Z",
                "control": { "kind": "mean", "n": 2, "sum": 3.0, "sum_squares": 5.0 },
                "candidate": null
            }])
        );
        let res = app
            .get(&format!("/api/v1/changes/{change}/metrics/series?metric=retry_rate&segment=nobody"))
            .await;
        assert_eq!(res.json()["points"], json!([]));

        for (query, field) in [
            ("metric=vibes", "metric"),
            ("segment=all", "metric"),
            ("metric=retry_rate&resolution=1", "resolution"),
            ("metric=retry_rate&resolution=hourly", "resolution"),
            ("metric=retry_rate&to=noon", "to"),
        ] {
            let res = app
                .get(&format!("/api/v1/changes/{change}/metrics/series?{query}"))
                .await;
            res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation", Some(field));
        }
        let res = app
            .get(&format!(
                "/api/v1/changes/{change}/metrics/series?metric=retry_rate&resolution=60&from=2000-01-01T00:00:00Z"
            ))
            .await;
        res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation", Some("resolution"));
    })
    .await;
}

#[tokio::test]
async fn re_sending_replaces_and_never_double_counts() {
    each_database(|app| async move {
        let (change, token) = setup(&app).await;
        let batch = small_batch();
        ingest_ok(&app, &change, &token, &batch).await;
        let once = summary(&app, &change, "").await;
        assert_eq!(
            ingest_ok(&app, &change, &token, &batch).await,
            json!({ "accepted": 4, "replaced": 4 })
        );
        assert_eq!(summary(&app, &change, "").await, once);

        // The running hour again, with grown counts: replaced, not added.
        let grown = window(
            "control",
            "free / en",
            1,
            45,
            json!({ "retry_rate": rate(45, 4),
                    "cost_per_request": { "n": 2, "sum": 5.0, "sum_squares": 13.0 } }),
        );
        let fresh = window(
            "candidate",
            "paid / es",
            1,
            3,
            json!({ "retry_rate": rate(3, 0) }),
        );
        assert_eq!(
            ingest_ok(&app, &change, &token, &[grown, fresh]).await,
            json!({ "accepted": 2, "replaced": 1 })
        );
        let s = summary(&app, &change, "").await;
        assert_eq!(s["windows"], 5);
        assert_eq!(
            cell(&s, "retry_rate", "all", "control"),
            &json!({ "kind": "rate", "n": 195, "successes": 11 })
        );
        assert_eq!(
            cell(&s, "cost_per_request", "all", "control"),
            &json!({ "kind": "mean", "n": 4, "sum": 8.0, "sum_squares": 18.0 })
        );
        assert_eq!(traffic(&s, "all", "control"), json!(195));
    })
    .await;
}

#[tokio::test]
async fn one_bad_window_rejects_the_whole_batch() {
    each_database(|app| async move {
        let (change, token) = setup(&app).await;
        ingest_ok(&app, &change, &token, &small_batch()).await;
        let good = window("candidate", "paid / es", 5, 10, json!({ "retry_rate": rate(10, 1) }));
        let with = |path: &[&str], value: Value| {
            let mut w = good.clone();
            let mut target = &mut w;
            for key in &path[..path.len() - 1] {
                target = &mut target[*key];
            }
            target[path[path.len() - 1]] = value;
            w
        };
        let future = time::OffsetDateTime::now_utc().unix_timestamp() + 3600;
        let cases: Vec<(Value, &str)> = vec![
            (with(&["metrics", "retry_rate"], rate(10, 11)), "windows[1].metrics.retry_rate.successes"),
            (with(&["metrics", "retry_rate"], json!({ "n": -1, "successes": 0 })), "windows[1].metrics.retry_rate.n"),
            (with(&["requests"], json!(-5)), "windows[1].requests"),
            (
                with(&["metrics", "latency_ms"], json!({ "le": [100, 50], "counts": [1, 2], "cumulative": false })),
                "windows[1].metrics.latency_ms.le[1]",
            ),
            (with(&["window_end"], json!(at(T0 + 4 * 3600))), "windows[1].window_end"),
            (with(&["window_start"], json!("yesterday")), "windows[1].window_start"),
            (with(&["window_start"], json!("1999-12-31T23:00:00Z")), "windows[1].window_start"),
            (with(&["window_start"], json!("1970-01-01T00:00:00Z")), "windows[1].window_start"),
            (with(&["window_end"], json!(at(T0 + 5 * 3600 + 86_401))), "windows[1].window_end"),
            (with(&["window_end"], json!(at(future))), "windows[1].window_end"),
            (with(&["variant"], json!("treatment")), "windows[1].variant"),
            (
                with(&["metrics", "retry_rate"], json!({ "n": 3, "sum": 1.0, "sum_squares": 1.0 })),
                "windows[1].metrics.retry_rate.sum",
            ),
            (with(&["metrics", "vibes"], rate(1, 1)), "windows[1].metrics.vibes"),
            (with(&["segment"], json!(" ")), "windows[1].segment"),
            (with(&["metrics"], json!({})), "windows[1].metrics"),
            // Bounds other than the stored windows' cannot be added to them.
            (
                window(
                    "candidate",
                    "paid / en",
                    5,
                    6,
                    json!({ "latency_ms": { "le": [100, 500, 3000], "counts": [1, 2, 3], "cumulative": false } }),
                ),
                "windows[1].metrics.latency_ms.le",
            ),
            // The same window twice in one batch.
            (good.clone(), "windows[1]"),
        ];
        let before = summary(&app, &change, "").await;
        for (bad, field) in cases {
            let res = ingest(&app, &change, &token, &[good.clone(), bad]).await;
            eprintln!("{field} → {} {}", res.status, res.text());
            res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation", Some(field));
            assert_eq!(summary(&app, &change, "").await, before, "{field} stored something");
        }
        let empty = ingest(&app, &change, &token, &[]).await;
        empty.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation", Some("windows"));
        assert_eq!(summary(&app, &change, "").await["windows"], 4);

        // Histograms with new bounds within one batch must agree too.
        let (other, other_token) = setup(&app).await;
        let a = window("control", "x", 0, 1, json!({ "latency_ms": latency([1, 0, 0]) }));
        let b = window(
            "control",
            "y",
            0,
            1,
            json!({ "latency_ms": { "le": [1, 2], "counts": [1, 0], "cumulative": false } }),
        );
        let res = ingest(&app, &other, &other_token, &[a, b]).await;
        res.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("windows[1].metrics.latency_ms.le"),
        );
    })
    .await;
}

#[tokio::test]
async fn a_large_batch_is_accepted() {
    each_database(|app| async move {
        let (change, token) = setup(&app).await;
        // 10 000 windows: 50 segments × 2 variants × 100 hours.
        let mut windows = Vec::with_capacity(10_000);
        for hour in 0..100 {
            for s in 0..50 {
                for (variant, n) in [("control", 95u64), ("candidate", 5)] {
                    windows.push(window(
                        variant,
                        &format!("segment {s:02}"),
                        hour,
                        n,
                        json!({ "retry_rate": rate(n, 1),
                                "cost_per_request": { "n": n, "sum": n as f64 * 0.01,
                                                      "sum_squares": n as f64 * 0.0002 } }),
                    ));
                }
            }
        }
        let started = Instant::now();
        let first = ingest_ok(&app, &change, &token, &windows).await;
        eprintln!("10 000 windows ingested in {:?}", started.elapsed());
        assert_eq!(first, json!({ "accepted": 10_000, "replaced": 0 }));
        let started = Instant::now();
        let again = ingest_ok(&app, &change, &token, &windows).await;
        eprintln!("10 000 windows replaced in {:?}", started.elapsed());
        assert_eq!(again, json!({ "accepted": 10_000, "replaced": 10_000 }));
        let started = Instant::now();
        let s = summary(&app, &change, "").await;
        eprintln!("summary of 10 000 windows in {:?}", started.elapsed());
        assert_eq!(s["windows"], 10_000);
        assert_eq!(traffic(&s, "all", "control"), json!(95 * 5000));
        assert_eq!(s["segments"].as_array().map(Vec::len), Some(50));
    })
    .await;
}

#[tokio::test]
async fn catalogues_follow_their_rules() {
    each_database(|app| async move {
        let (change, token) = setup(&app).await;
        let uri = format!("/api/v1/changes/{change}/catalogue");
        let default = app.get(&uri).await;
        assert_eq!(default.status, StatusCode::OK);
        let mut metrics = default.json()["metrics"].clone();
        assert_eq!(metrics.as_array().map(Vec::len), Some(12));
        assert_eq!(metrics[0]["key"], "shadow_eval_pass_rate");

        // Add a metric; windows can then carry it.
        metrics.as_array_mut().expect("array").push(json!({
            "key": "thumbs_up_rate", "name": "Thumbs up", "kind": "rate",
            "family": "user_behaviour", "good": "up", "unit": ""
        }));
        let res = app.put(&uri, &json!({ "metrics": metrics })).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(app.get(&uri).await.json()["metrics"], metrics);
        let w = window(
            "control",
            "x",
            0,
            5,
            json!({ "thumbs_up_rate": rate(5, 4) }),
        );
        ingest_ok(&app, &change, &token, &[w]).await;
        let s = summary(&app, &change, "").await;
        assert_eq!(s["catalogue"], metrics);

        let bad = |edit: &dyn Fn(&mut Value)| {
            let mut m = metrics.clone();
            edit(&mut m);
            json!({ "metrics": m })
        };
        let cases: Vec<(Value, StatusCode, &str, Option<&str>)> = vec![
            (
                bad(&|m| m[3]["key"] = json!("Bad Key")),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                Some("metrics[3].key"),
            ),
            (
                bad(&|m| m[3]["key"] = json!("x".repeat(65))),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                Some("metrics[3].key"),
            ),
            (
                bad(&|m| m[5]["key"] = m[1]["key"].clone()),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                Some("metrics[5].key"),
            ),
            (
                bad(&|m| m[2]["name"] = json!("")),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                Some("metrics[2].name"),
            ),
            (
                bad(&|m| m[2]["kind"] = json!("median")),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                Some("metrics[2].kind"),
            ),
            (
                json!({ "metrics": [] }),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                Some("metrics"),
            ),
            (
                json!({ "metrics": (0..101).map(|i| json!({
                    "key": format!("m{i}"), "name": "m", "kind": "rate",
                    "family": "quality", "good": "up" })).collect::<Vec<_>>() }),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                Some("metrics"),
            ),
            // `thumbs_up_rate` has stored windows: it stays, and stays a rate.
            (
                bad(&|m| {
                    m.as_array_mut().map(Vec::pop);
                }),
                StatusCode::CONFLICT,
                "conflict",
                None,
            ),
            (
                bad(&|m| m[12]["kind"] = json!("mean")),
                StatusCode::CONFLICT,
                "conflict",
                None,
            ),
        ];
        for (body, status, code, field) in cases {
            let res = app.put(&uri, &body).await;
            eprintln!("{} {}", res.status, res.text());
            res.assert_error(status, code, field);
            assert_eq!(app.get(&uri).await.json()["metrics"], metrics);
        }
        // A metric without windows can go; a kept one can be renamed.
        let mut fewer = metrics.clone();
        fewer.as_array_mut().expect("array").remove(1);
        fewer[11]["name"] = json!("Thumbs up (explicit feedback)");
        let res = app.put(&uri, &json!({ "metrics": fewer })).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());

        // Windows are read against the change's catalogue.
        let w = window(
            "control",
            "x",
            1,
            5,
            json!({ "suggestion_click_through": rate(5, 1) }),
        );
        let res = ingest(&app, &change, &token, &[w]).await;
        res.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("windows[0].metrics.suggestion_click_through"),
        );
        let res = app.get("/api/v1/changes/nope/catalogue").await;
        res.assert_error(StatusCode::NOT_FOUND, "not_found", None);
        let res = app
            .put(
                "/api/v1/changes/nope/catalogue",
                &json!({ "metrics": fewer }),
            )
            .await;
        res.assert_error(StatusCode::NOT_FOUND, "not_found", None);
    })
    .await;
}

/// Windows each finite on its own but whose total would overflow f64 (here `sum_squares:
/// 1e308` twice) are refused, in one batch or across batches, and nothing of the batch is
/// stored: every summary stays computable.
#[tokio::test]
async fn windows_that_would_overflow_a_total_are_refused() {
    each_database(|app| async move {
        let (change, token) = setup(&app).await;
        let huge = |hour: i64, segment: &str| {
            window(
                "control",
                segment,
                hour,
                1,
                json!({ "cost_per_request": { "n": 1, "sum": 1.0, "sum_squares": 1e308 } }),
            )
        };
        let small = window(
            "control",
            "free / en",
            3,
            10,
            json!({ "retry_rate": rate(10, 1) }),
        );
        let res = ingest(
            &app,
            &change,
            &token,
            &[huge(0, "free / en"), huge(1, "paid / es")],
        )
        .await;
        res.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("windows[1].metrics.cost_per_request"),
        );
        assert_eq!(summary(&app, &change, "").await["windows"], 0);

        ingest_ok(&app, &change, &token, &[huge(0, "free / en")]).await;
        let res = ingest(
            &app,
            &change,
            &token,
            &[small.clone(), huge(1, "paid / es")],
        )
        .await;
        res.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("windows[1].metrics.cost_per_request"),
        );
        let s = summary(&app, &change, "").await;
        assert_eq!(s["windows"], 1);
        assert_eq!(
            cell(&s, "cost_per_request", "all", "control"),
            &json!({ "kind": "mean", "n": 1, "sum": 1.0, "sum_squares": 1e308 })
        );
        // Other metrics of the change are not held back.
        ingest_ok(&app, &change, &token, &[small]).await;
        assert_eq!(summary(&app, &change, "").await["windows"], 2);
    })
    .await;
}

/// The console polls the aggregates: each answer carries a strong `ETag`, the same tag sent
/// back in `If-None-Match` gets `304` with no body, and a new window changes the answer and
/// its tag.
#[tokio::test]
async fn aggregates_answer_304_while_unchanged() {
    each_database(|app| async move {
        let (change, token) = setup(&app).await;
        ingest_ok(&app, &change, &token, &small_batch()).await;
        for path in ["summary", "series?metric=retry_rate"] {
            let uri = format!("/api/v1/changes/{change}/metrics/{path}");
            let get = |tag: Option<String>| {
                let app = app.clone();
                let uri = uri.clone();
                async move {
                    let mut req = Request::get(&uri);
                    if let Some(tag) = tag {
                        req = req.header(header::IF_NONE_MATCH, tag);
                    }
                    app.request(req.body(Body::empty()).expect("request")).await
                }
            };
            let first = get(None).await;
            assert_eq!(first.status, StatusCode::OK, "{}", first.text());
            let tag = first.header(header::ETAG).expect("an ETag").to_owned();
            assert!(tag.starts_with('"') && tag.ends_with('"'), "strong: {tag}");

            let again = get(Some(tag.clone())).await;
            assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}");
            assert!(again.body.is_empty());
            assert_eq!(again.header(header::ETAG), Some(tag.as_str()));
            let listed = get(Some(format!("\"other\", W/{tag}"))).await;
            assert_eq!(listed.status, StatusCode::NOT_MODIFIED, "{path}");
            let stale = get(Some("\"other\"".to_owned())).await;
            assert_eq!(stale.status, StatusCode::OK, "{path}");
            assert_eq!(stale.header(header::ETAG), Some(tag.as_str()));

            let hour = if path == "summary" { 5 } else { 6 };
            let new = window(
                "candidate",
                "free / en",
                hour,
                20,
                json!({ "retry_rate": rate(20, 5) }),
            );
            ingest_ok(&app, &change, &token, &[new]).await;
            let changed = get(Some(tag.clone())).await;
            assert_eq!(changed.status, StatusCode::OK, "{path}");
            let new_tag = changed.header(header::ETAG).expect("an ETag");
            assert_ne!(new_tag, tag, "{path}");

            // A client that takes gzip gets the same answer compressed, under the same tag.
            let zipped = app
                .request(
                    Request::get(&uri)
                        .header(header::ACCEPT_ENCODING, "gzip, br")
                        .body(Body::empty())
                        .expect("request"),
                )
                .await;
            assert_eq!(zipped.status, StatusCode::OK, "{path}");
            assert_eq!(zipped.header(header::CONTENT_ENCODING), Some("gzip"));
            assert_eq!(zipped.header(header::ETAG), Some(new_tag));
            let mut plain = Vec::new();
            std::io::Read::read_to_end(
                &mut flate2::read::GzDecoder::new(&zipped.body[..]),
                &mut plain,
            )
            .expect("gzip");
            assert_eq!(plain, changed.body, "{path}");
        }
    })
    .await;
}
