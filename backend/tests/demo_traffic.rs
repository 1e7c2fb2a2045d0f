//! The demo's simulated production app: its backfill goes through the real ingestion route,
//! and the data tells the story the demo is meant to tell.

mod common;

use std::time::Instant;

use common::{TestApp, each_database};
use rollgate::demo_traffic;
use serde_json::Value;
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
        let feeds = demo_traffic::prepare(&app.router, &app.pool, &instance, NOW)
            .await
            .expect("backfill");
        eprintln!("demo backfill in {:?}", started.elapsed());
        assert_eq!(feeds.len(), 2);

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
        let feed = &feeds[0];
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
        assert_eq!(again.len(), 2);
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
        let first = demo_traffic::prepare(&app.router, &app.pool, &a, NOW)
            .await
            .expect("first instance");
        let second = demo_traffic::prepare(&app.router, &app.pool, &b, NOW)
            .await
            .expect("second instance");
        for feed in first.iter().chain(&second) {
            demo_traffic::tick(&app.router, feed, NOW, NOW + 60)
                .await
                .expect("both instances' tokens work");
        }
        // A restart of the first instance replaces its own token only.
        let again = demo_traffic::prepare(&app.router, &app.pool, &a, NOW + 60)
            .await
            .expect("restart");
        for feed in again.iter().chain(&second) {
            demo_traffic::tick(&app.router, feed, NOW, NOW + 90)
                .await
                .expect("tokens still work");
        }
        demo_traffic::tick(&app.router, &first[0], NOW, NOW + 90)
            .await
            .expect_err("the replaced token is revoked");
    })
    .await;
}
