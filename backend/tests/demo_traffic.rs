//! The demo's simulated production app: its backfill goes through the real ingestion route,
//! and the data tells the story the demo is meant to tell.

mod common;

use std::time::Instant;

use axum::http::StatusCode;
use common::{TestApp, each_database};
use rollgate::demo_traffic;
use serde_json::{Value, json};
use shared::comparison::{ReportOptions, report};
use shared::metrics::{ALL_SEGMENTS, MetricSummary};
use shared::plan::PlanTemplate;
use shared::stats::Verdict;

/// 2025-06-15T10:02:30Z: a fixed time, so the drawn data is the same on every run.
const NOW: i64 = 1_749_981_750;

async fn change_id(app: &TestApp, title: &str) -> String {
    let page = app.get("/api/v1/changes?per_page=100").await.json();
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|c| c["title"].as_str().is_some_and(|t| t.starts_with(title)))
        .and_then(|c| c["id"].as_str())
        .expect("demo change")
        .to_owned()
}

async fn summary(app: &TestApp, id: &str) -> MetricSummary {
    let res = app
        .get(&format!("/api/v1/changes/{id}/metrics/summary"))
        .await;
    serde_json::from_slice(&res.body).expect("summary")
}

#[tokio::test]
async fn the_demo_canary_breaches_on_cost_and_hides_a_regression_in_free_es() {
    each_database(|app| async move {
        assert!(app.seed_demo().await);
        let started = Instant::now();
        let instance = demo_traffic::Instance::generate();
        let mut feeds = demo_traffic::prepare(&app.router, &app.pool, &instance, NOW)
            .await
            .expect("backfill");
        eprintln!("demo backfill in {:?}", started.elapsed());
        assert_eq!(feeds.len(), 3);

        // The prompt canary at 5 %.
        let canary = change_id(&app, "Shorter billing answers").await;
        let s = summary(&app, &canary).await;
        assert_eq!(s.windows, 24 * 12 * 8 * 2);
        assert_eq!(s.segments.len(), 8);
        let criteria = PlanTemplate::Standard.plan().criteria;
        let opts = ReportOptions {
            candidate_percent: 5.0,
            ..Default::default()
        };
        let r = report(&s, &criteria, &opts);
        let verdict = |key: &str, seg: &str| r.cell(key, seg).and_then(|c| c.verdict);
        assert_eq!(
            verdict("cost_per_request", ALL_SEGMENTS),
            Some(Verdict::Breach)
        );
        assert_ne!(
            verdict("shadow_eval_pass_rate", ALL_SEGMENTS),
            Some(Verdict::Breach)
        );
        assert_eq!(
            verdict("shadow_eval_pass_rate", "free / es"),
            Some(Verdict::Breach)
        );
        assert!(
            r.hidden_regressions
                .contains(&("shadow_eval_pass_rate".into(), "free / es".into())),
            "{:?}",
            r.hidden_regressions
        );
        assert_eq!(verdict("latency_p95_ms", ALL_SEGMENTS), Some(Verdict::Pass));
        let p95 = r
            .cell("latency_p95_ms", ALL_SEGMENTS)
            .and_then(|c| c.candidate);
        assert!(p95.is_some_and(|p| p < 2500.0), "{p95:?}");
        assert_ne!(
            verdict("hard_error_rate", ALL_SEGMENTS),
            Some(Verdict::Breach)
        );
        let srm = r.srm.as_ref().expect("srm");
        assert!(!srm.mismatch, "{srm:?}");
        assert_eq!(r.overall, Verdict::Breach);
        assert!(
            r.categories
                .iter()
                .any(|c| serde_json::to_value(c)
                    .is_ok_and(|v| v.to_string().contains("tool_timeout"))),
            "{:?}",
            r.categories
        );
        let q = r.cell("shadow_eval_pass_rate", ALL_SEGMENTS).expect("row");
        eprintln!(
            "quality all: {:?} {:?} {:?}; free/es: {:?}",
            q.control,
            q.candidate,
            q.verdict,
            r.cell("shadow_eval_pass_rate", "free / es")
                .map(|c| (c.control, c.candidate))
        );

        // The model upgrade at 25 % is healthy.
        let upgrade = change_id(&app, "Upgrade support assistant").await;
        let s = summary(&app, &upgrade).await;
        assert!(s.windows > 0);
        let r = report(
            &s,
            &PlanTemplate::ModelUpgrade.plan().criteria,
            &ReportOptions {
                candidate_percent: 25.0,
                ..Default::default()
            },
        );
        let breaches: Vec<(&str, &str)> = r
            .matrix
            .iter()
            .filter(|c| c.verdict == Some(Verdict::Breach))
            .map(|c| (c.key.as_str(), c.segment.as_str()))
            .collect();
        assert!(breaches.is_empty(), "{breaches:?}");
        assert!(!r.srm.as_ref().expect("srm").mismatch);

        // The running window grows in place; a restart re-sends only what is missing.
        let feed = &mut feeds[0];
        let count = |id: String| {
            let app = app.clone();
            async move {
                rollgate::db::metrics::count(&app.pool, &id)
                    .await
                    .expect("count")
            }
        };
        let before = count(canary.clone()).await;
        demo_traffic::tick(&app.router, feed, NOW, NOW + 60)
            .await
            .expect("tick");
        let first = summary(&app, &canary).await;
        assert_eq!(count(canary.clone()).await, before + 16);
        demo_traffic::tick(&app.router, feed, NOW, NOW + 100)
            .await
            .expect("tick");
        let second = summary(&app, &canary).await;
        assert_eq!(count(canary.clone()).await, before + 16);
        let requests = |s: &MetricSummary| -> u64 {
            s.traffic
                .iter()
                .filter(|t| t.segment == ALL_SEGMENTS)
                .map(|t| t.requests)
                .sum()
        };
        assert!(requests(&second) > requests(&first));
        let again = demo_traffic::prepare(&app.router, &app.pool, &instance, NOW + 100)
            .await
            .expect("restart");
        assert_eq!(again.len(), 3);
        assert_eq!(count(canary.clone()).await, before + 16);
        let tokens = app
            .get(&format!("/api/v1/tokens?change_id={canary}"))
            .await
            .json();
        let active: Vec<&Value> = tokens
            .as_array()
            .expect("tokens")
            .iter()
            .filter(|t| t["revoked_at"].is_null())
            .collect();
        assert_eq!(active.len(), 1);
    })
    .await;
}

/// Two servers on one database each run a simulator: neither revokes the other's tokens, so
/// both keep sending (each used to revoke the other's at start, and one got 401 every tick).
#[tokio::test]
async fn two_instances_keep_their_own_tokens() {
    each_database(|app| async move {
        assert!(app.seed_demo().await);
        let (a, b) = (
            demo_traffic::Instance::generate(),
            demo_traffic::Instance::generate(),
        );
        let mut first = demo_traffic::prepare(&app.router, &app.pool, &a, NOW)
            .await
            .expect("first instance");
        let mut second = demo_traffic::prepare(&app.router, &app.pool, &b, NOW)
            .await
            .expect("second instance");
        for feed in first.iter_mut().chain(second.iter_mut()) {
            demo_traffic::tick(&app.router, feed, NOW, NOW + 60)
                .await
                .expect("both instances' tokens work");
        }
        // A restart of the first instance replaces its own token only.
        let mut again = demo_traffic::prepare(&app.router, &app.pool, &a, NOW + 60)
            .await
            .expect("restart");
        for feed in again.iter_mut().chain(second.iter_mut()) {
            demo_traffic::tick(&app.router, feed, NOW, NOW + 90)
                .await
                .expect("tokens still work");
        }
        demo_traffic::tick(&app.router, &mut first[0], NOW, NOW + 90)
            .await
            .expect_err("the replaced token is revoked");
    })
    .await;
}

/// The live, unrevoked tokens: (name, last use).
async fn live_tokens(app: &TestApp) -> Vec<(String, Option<String>)> {
    sqlx::query_as(
        "SELECT name, last_used_at FROM ingest_tokens WHERE revoked_at IS NULL ORDER BY name",
    )
    .fetch_all(&app.pool)
    .await
    .expect("tokens")
}

/// An instance that crashed never revokes its simulator tokens: the other instances revoke
/// them once nobody has used them for ten minutes, and never a token a live instance sends
/// with, nor one a person made; an instance whose tokens were revoked all the same makes new
/// ones.
#[tokio::test]
async fn a_crashed_instance_s_tokens_expire_and_no_live_one_s() {
    each_database(|app| async move {
        assert!(app.seed_demo().await);
        let now = time::OffsetDateTime::now_utc();
        let crashed = demo_traffic::Instance::generate();
        let mut crashed_feeds = demo_traffic::prepare(&app.router, &app.pool, &crashed, NOW)
            .await
            .expect("first instance");
        for feed in &mut crashed_feeds {
            demo_traffic::tick(&app.router, feed, NOW, NOW + 60)
                .await
                .expect("tick");
        }
        // Ingestion records the use.
        let tokens = live_tokens(&app).await;
        assert_eq!(tokens.len(), 3);
        assert!(tokens.iter().all(|(_, used)| used.is_some()), "{tokens:?}");

        // A person's token, whatever its name, is theirs to revoke.
        let res = app
            .post(
                "/api/v1/tokens",
                &json!({ "name": "Demo traffic simulator (mine)", "scopes": ["ingest"] }),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        // The first instance crashed eleven minutes ago; the person's token is as old.
        let long_ago = rollgate::db::timestamp(now - time::Duration::minutes(11));
        sqlx::query("UPDATE ingest_tokens SET created_at = $1, last_used_at = $1")
            .bind(&long_ago)
            .execute(&app.pool)
            .await
            .expect("age the tokens");

        // Another instance starts: it revokes the abandoned tokens and makes its own.
        let live = demo_traffic::Instance::generate();
        let mut live_feeds = demo_traffic::prepare(&app.router, &app.pool, &live, NOW)
            .await
            .expect("second instance");
        for feed in &mut crashed_feeds {
            demo_traffic::tick(&app.router, feed, NOW, NOW + 90)
                .await
                .expect_err("the abandoned token is revoked");
        }
        for feed in &mut live_feeds {
            demo_traffic::tick(&app.router, feed, NOW, NOW + 90)
                .await
                .expect("the new instance's token works");
        }
        let names: Vec<String> = live_tokens(&app).await.into_iter().map(|t| t.0).collect();
        assert_eq!(names.len(), 4, "{names:?}");
        assert!(names.contains(&"Demo traffic simulator (mine)".to_owned()));

        // A third instance, five minutes on, leaves the running instance's tokens alone.
        let third = demo_traffic::Instance::generate();
        let later = |minutes| now + time::Duration::minutes(minutes);
        assert_eq!(
            demo_traffic::revoke_abandoned(&app.pool, &third, later(5))
                .await
                .expect("sweep"),
            0
        );
        assert_eq!(
            demo_traffic::renew_revoked(&app.pool, &live, &mut live_feeds)
                .await
                .expect("renew"),
            0
        );
        // Eleven minutes on without a tick, they count as abandoned; the instance was only
        // cut off, and once it is back it makes new tokens and sends again.
        assert_eq!(
            demo_traffic::revoke_abandoned(&app.pool, &third, later(11))
                .await
                .expect("sweep"),
            3
        );
        assert_eq!(
            demo_traffic::renew_revoked(&app.pool, &live, &mut live_feeds)
                .await
                .expect("renew"),
            3
        );
        for feed in &mut live_feeds {
            demo_traffic::tick(&app.router, feed, NOW, NOW + 120)
                .await
                .expect("the renewed token works");
        }
        assert_eq!(live_tokens(&app).await.len(), 4);
    })
    .await;
}

/// The simulated app asks OFREP who gets the candidate: after a rollback in the console the
/// next window carries no candidate traffic, while the window that ran before it keeps its
/// split.
#[tokio::test]
async fn a_rollback_empties_the_candidate_from_the_next_window() {
    each_database(|app| async move {
        assert!(app.seed_demo().await);
        let instance = demo_traffic::Instance::generate();
        let mut feeds = demo_traffic::prepare(&app.router, &app.pool, &instance, NOW)
            .await
            .expect("prepare");
        let canary = change_id(&app, "Shorter billing answers").await;
        let feed = feeds
            .iter_mut()
            .find(|f| f.change_id == canary)
            .expect("the canary is fed");
        // Served by OFREP: 5 % of every segment's users.
        assert!(
            feed.shares.iter().all(|s| (s - 0.05).abs() < 1e-9),
            "{:?}",
            feed.shares
        );
        demo_traffic::tick(&app.router, feed, NOW, NOW + 60)
            .await
            .expect("tick");
        app.transition(
            &canary,
            &json!({ "action": "roll_back", "reason": "cost up 20 %" }),
        )
        .await;
        let next =
            NOW.div_euclid(demo_traffic::WINDOW) * demo_traffic::WINDOW + demo_traffic::WINDOW + 30;
        demo_traffic::tick(&app.router, feed, NOW + 60, next)
            .await
            .expect("tick after the rollback");
        assert!(feed.shares.iter().all(|s| *s == 0.0), "{:?}", feed.shares);
        demo_traffic::tick(&app.router, feed, next, next + 200)
            .await
            .expect("tick later in the window");

        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT window_start, variant, CAST(SUM(requests) AS BIGINT) FROM metric_windows \
             WHERE change_id = $1 GROUP BY window_start, variant \
             ORDER BY window_start DESC, variant",
        )
        .bind(&canary)
        .fetch_all(&app.pool)
        .await
        .expect("windows");
        let at = |i: usize| (rows[i].0, rows[i].1.as_str(), rows[i].2);
        // Newest first: the window after the rollback, then the one that ran before it.
        assert_eq!(at(0).1, "candidate");
        assert_eq!(at(0).2, 0, "candidate traffic after the rollback: {rows:?}");
        assert_eq!(at(1).1, "control");
        assert!(at(1).2 > 0, "{rows:?}");
        assert_eq!(at(2).1, "candidate");
        assert!(
            at(2).2 > 0,
            "the window before the rollback kept its split: {rows:?}"
        );
        assert!(at(2).0 < at(0).0);
    })
    .await;
}

/// With short windows (`--demo-window-seconds`, for browser tests) the simulator backfills as
/// many windows as with five-minute ones, each of the asked length, and a rollback empties the
/// candidate from the next short window.
#[tokio::test]
async fn short_windows_show_a_rollback_seconds_later() {
    each_database(|app| async move {
        assert!(app.seed_demo().await);
        let instance = demo_traffic::Instance::generate();
        let mut feeds = demo_traffic::prepare_with(&app.router, &app.pool, &instance, NOW, 5)
            .await
            .expect("prepare");
        let canary = change_id(&app, "Shorter billing answers").await;
        let before = summary(&app, &canary).await.windows;
        let feed = feeds
            .iter_mut()
            .find(|f| f.change_id == canary)
            .expect("the canary is fed");
        assert_eq!(feed.window_seconds, 5);
        let lengths: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT window_end - window_start, CAST(COUNT(*) AS BIGINT) FROM metric_windows \
             WHERE change_id = $1 AND window_start >= $2 GROUP BY window_end - window_start",
        )
        .bind(&canary)
        .bind(NOW - 24 * 3600)
        .fetch_all(&app.pool)
        .await
        .expect("windows");
        assert_eq!(
            lengths,
            vec![(5, 24 * 12 * 8 * 2)],
            "{lengths:?} of {before}"
        );

        demo_traffic::tick(&app.router, feed, NOW, NOW + 3)
            .await
            .expect("tick");
        app.transition(
            &canary,
            &json!({ "action": "roll_back", "reason": "cost up 20 %" }),
        )
        .await;
        let next = NOW.div_euclid(5) * 5 + 5;
        demo_traffic::tick(&app.router, feed, NOW + 3, next + 1)
            .await
            .expect("tick after the rollback");
        assert!(feed.shares.iter().all(|s| *s == 0.0), "{:?}", feed.shares);
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT variant, CAST(SUM(requests) AS BIGINT) FROM metric_windows \
             WHERE change_id = $1 AND window_start = $2 GROUP BY variant ORDER BY variant",
        )
        .bind(&canary)
        .bind(next)
        .fetch_all(&app.pool)
        .await
        .expect("the window after the rollback");
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(rows[0].0, "candidate");
        assert_eq!(rows[0].1, 0, "{rows:?}");
    })
    .await;
}
