//! `GET /api/v1/figures`: delivery figures counted from the stored moves.

mod common;

use axum::http::{Method, StatusCode};
use common::{each_database, json_request, raw_request};
use serde_json::json;

#[tokio::test]
async fn figures_count_what_shipped_and_what_rolled_back() {
    each_database(|app| async move {
        // Nothing moved yet: no rates, but every week of the default twelve is there.
        let f = app.get("/api/v1/figures").await;
        assert_eq!(f.status, StatusCode::OK, "{}", f.text());
        let f = f.json();
        assert!(
            f["weeks"]
                .as_array()
                .is_some_and(|w| (12..=13).contains(&w.len())),
            "{f}"
        );
        assert_eq!(f["overall"]["active"], 0);
        assert!(f["overall"]["rollback_rate"].is_null());

        // One change to Full, one rolled back from its canary.
        let shipped = app.create_default().await;
        for _ in 0..7 {
            app.transition(&shipped, &json!({ "action": "advance" }))
                .await;
        }
        let rolled = app.create_default().await;
        for _ in 0..2 {
            app.transition(&rolled, &json!({ "action": "advance" }))
                .await;
        }
        app.transition(
            &rolled,
            &json!({ "action": "roll_back", "reason": "hard errors rose" }),
        )
        .await;

        let f = app.get("/api/v1/figures").await.json();
        let all = &f["overall"];
        assert_eq!(all["active"], 2, "{f}");
        assert_eq!(all["started"], 2);
        assert_eq!(all["shipped"], 1);
        assert_eq!(all["manual_rollbacks"], 1);
        assert_eq!(all["automatic_rollbacks"], 0);
        assert_eq!(all["rollback_rate"], 0.5);
        // The test's moves meet each stage's minimum time by dating the history back.
        assert!(
            all["median_lead_time_hours"]
                .as_f64()
                .is_some_and(|h| h > 0.0 && h.is_finite()),
            "{f}"
        );
        assert_eq!(all["skipped_share"], 0.0);
        let last = f["weeks"].as_array().and_then(|w| w.last()).expect("weeks");
        assert_eq!(
            (last["shipped"].clone(), last["manual_rollbacks"].clone()),
            (json!(1), json!(1))
        );
        assert_eq!(f["by_kind"].as_array().map(Vec::len), Some(1));

        // The same figures as Markdown, for a wiki page.
        let md = app.get("/api/v1/figures.md").await;
        assert_eq!(md.status, StatusCode::OK);
        assert!(
            md.headers["content-type"]
                .to_str()
                .is_ok_and(|t| t.starts_with("text/markdown")),
            "{:?}",
            md.headers
        );
        let md = md.text();
        assert!(md.starts_with("# Delivery figures, "), "{md}");
        assert!(
            md.contains(
                "- **1** rolled back (0 by the guardian, 1 by people): a rollback rate of **50 %**"
            ),
            "{md}"
        );
        assert!(md.contains("| prompt | 2 | 1 | 1 (0 / 1) | 50 % |"), "{md}");

        // A period before any of it counts nothing.
        let f = app
            .get("/api/v1/figures?from=2020-01-01T00:00:00Z&to=2020-03-01T00:00:00Z")
            .await
            .json();
        assert_eq!(f["overall"]["active"], 0, "{f}");
        assert_eq!(f["weeks"][0]["start"], "2019-12-30");
    })
    .await;
}

#[tokio::test]
async fn a_bad_period_names_its_field() {
    each_database(|app| async move {
        for (query, field) in [
            ("from=yesterday", "from"),
            ("to=2026-13-01T00:00:00Z", "to"),
            ("from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from"),
            ("from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from"),
            ("period=week", "period"),
        ] {
            for path in ["/api/v1/figures", "/api/v1/figures.md"] {
                app.request(raw_request(
                    Method::GET,
                    &format!("{path}?{query}"),
                    None,
                    "",
                ))
                .await
                .assert_error(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation",
                    Some(field),
                );
            }
        }
        app.anonymous(json_request(Method::GET, "/api/v1/figures", &json!(null)))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthorized", None);
    })
    .await;
}
