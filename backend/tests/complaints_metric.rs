//! Complaints per 1 000 exposed users as a metric criteria use: the application reports the
//! users it exposed to each variant as the metric's `n`; Rollgate counts the complaints support
//! recorded against each variant as its successes, in the aggregate, over the same span.

mod common;

use axum::http::StatusCode;
use common::{TestApp, each_database, traffic};
use serde_json::{Value, json};
use shared::assignment::{bucket, buckets_for_percent};
use shared::metrics::{COMPLAINTS_METRIC, complaints_def, default_catalogue};
use shared::plan::PlanTemplate;

/// Records a complaint by `user` against the change at `at` (Unix seconds).
async fn complain(app: &TestApp, id: &str, user: &str, at: i64) {
    let res = app
        .post(
            &format!("/api/v1/changes/{id}/complaints"),
            &json!({
                "user_key": user,
                "at": traffic::at(at),
                "text": "The answer was cut short.",
                "category": "wrong_answer",
            }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
}

fn rate(summary: &Value, variant: &str) -> (u64, u64) {
    let cell = summary["cells"]
        .as_array()
        .and_then(|cells| {
            cells.iter().find(|c| {
                c["metric"] == COMPLAINTS_METRIC && c["segment"] == "all" && c["variant"] == variant
            })
        })
        .unwrap_or_else(|| panic!("no {variant} cell in {summary}"));
    (
        cell["value"]["n"].as_u64().expect("n"),
        cell["value"]["successes"].as_u64().expect("successes"),
    )
}

#[tokio::test]
async fn complaints_rising_on_the_candidate_breach_their_criterion() {
    each_database(|app| async move {
        let mut plan = serde_json::to_value(PlanTemplate::Standard.plan()).expect("plan");
        // The canary reaches everyone, so the split alone decides a user's variant.
        plan["audiences"] = json!([]);
        plan["criteria"]
            .as_array_mut()
            .expect("criteria")
            .push(json!({
                "metric": COMPLAINTS_METRIC,
                "bad_direction": "increase",
                "threshold_kind": "relative",
                "threshold": 0.5,
            }));
        let mut new = common::new_change();
        new["plan"] = plan;
        let (id, token) = traffic::canary_of(&app, new).await;
        let mut metrics = default_catalogue();
        metrics.push(complaints_def());
        let res = app
            .put(
                &format!("/api/v1/changes/{id}/catalogue"),
                &json!({ "metrics": metrics }),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());

        // Three seconds of the canary: 20 000 users on control, 1 000 on the candidate, and
        // in the middle support records 10 complaints from control users and 8 from candidate
        // users (the variant is the one each user had then).
        let start = time::OffsetDateTime::now_utc().unix_timestamp();
        tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
        let d = app.get(&format!("/api/v1/changes/{id}")).await.json();
        let flag = d["change"]["flag_key"].as_str().expect("key").to_owned();
        let limit = buckets_for_percent(5.0);
        let users = |inside: bool, n: usize| -> Vec<String> {
            (0..)
                .map(|i| format!("user-{i}"))
                .filter(|k| (bucket(&flag, k) < limit) == inside)
                .take(n)
                .collect()
        };
        for user in users(false, 10).iter().chain(&users(true, 8)) {
            complain(&app, &id, user, start + 1).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
        let window = |variant: &str, users: u64| {
            json!({
                "variant": variant,
                "segment": "all",
                "window_start": traffic::at(start),
                "window_end": traffic::at(start + 3),
                "requests": users * 3,
                "metrics": { COMPLAINTS_METRIC: { "n": users, "successes": 0 } },
            })
        };
        traffic::send_windows(
            &app,
            &id,
            &token,
            &json!({ "windows": [window("control", 20_000), window("candidate", 1_000)] }),
        )
        .await;

        let summary = app
            .get(&format!("/api/v1/changes/{id}/metrics/summary"))
            .await
            .json();
        assert_eq!(rate(&summary, "control"), (20_000, 10), "{summary}");
        assert_eq!(rate(&summary, "candidate"), (1_000, 8), "{summary}");
        // Complaints name no segment: only the aggregate is judged.
        assert!(
            summary["cells"]
                .as_array()
                .expect("cells")
                .iter()
                .all(|c| c["metric"] != COMPLAINTS_METRIC || c["segment"] == "all"),
            "{summary}"
        );

        // The series counts them too, in the aggregate only.
        let series = app
            .get(&format!(
                "/api/v1/changes/{id}/metrics/series?metric={COMPLAINTS_METRIC}"
            ))
            .await
            .json();
        let last = series["points"]
            .as_array()
            .and_then(|p| p.last())
            .cloned()
            .unwrap_or_else(|| panic!("no points in {series}"));
        assert_eq!(last["candidate"]["successes"], 8, "{series}");
        assert_eq!(last["control"]["successes"], 10, "{series}");
        let by_segment = app
            .get(&format!(
                "/api/v1/changes/{id}/metrics/series?metric={COMPLAINTS_METRIC}&segment=free"
            ))
            .await
            .json();
        assert_eq!(by_segment["points"], json!([]), "{by_segment}");

        // One more complaint, after the answers were read: they are read again, not kept.
        complain(&app, &id, &users(true, 9)[8], start + 2).await;
        let summary = app
            .get(&format!("/api/v1/changes/{id}/metrics/summary"))
            .await
            .json();
        assert_eq!(rate(&summary, "candidate"), (1_000, 9), "{summary}");

        // 0.5 against 9 per 1 000: the criterion is in breach, and the change's health says so.
        let page = app.get("/api/v1/changes").await.json();
        let health = page["items"]
            .as_array()
            .and_then(|items| items.iter().find(|c| c["id"] == id.as_str()))
            .map(|c| c["health"].clone())
            .expect("the change is listed");
        assert_eq!(health["kind"], "breach", "{health}");
        assert!(
            health["reason"]
                .as_str()
                .is_some_and(|r| r.contains("Complaints per 1 000 exposed users")),
            "{health}"
        );
    })
    .await;
}
