//! Long-running A/B tests (`POST /api/v1/changes/{id}/decision`) and holdouts after Full
//! (`shared::ab`): an A/B step holds its split for its declared duration and is left only on
//! a recorded decision; a holdout stays on control at Full for its days before the review.

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, each_database, email_of, id_of, json_request, new_change};
use serde_json::{Value, json};
use shared::assignment::bucket;
use shared::auth::Role;

fn decision_uri(id: &str) -> String {
    format!("/api/v1/changes/{id}/decision")
}

/// The standard plan with a 14-day A/B test at 50 % between its 10 % step and 100 %.
fn ab_change() -> Value {
    let mut plan = serde_json::to_value(shared::plan::PlanTemplate::Standard.plan()).unwrap();
    plan["ramp"] = json!([
        { "percent": 10, "min_duration_hours": 4, "min_samples": 1000 },
        { "percent": 50, "min_duration_hours": 336, "min_samples": 1000, "ab_test": true },
        { "percent": 100, "min_duration_hours": 4 },
    ]);
    let mut new = new_change();
    new["plan"] = plan;
    new
}

async fn advance(app: &TestApp, id: &str, n: usize) -> Value {
    let mut last = Value::Null;
    for _ in 0..n {
        last = app.transition(id, &json!({ "action": "advance" })).await;
    }
    last
}

/// A change in the A/B step of [`ab_change`], and its history moved back by the step's
/// declared duration with healthy windows in it (what leaving the step needs, but for the
/// decision).
async fn at_ab_step(app: &TestApp, ran_its_time: bool) -> String {
    let id = id_of(&app.create(&ab_change()).await);
    let d = advance(app, &id, 4).await; // eval, canary, 10 %, A/B 50 %
    assert_eq!(d["change"]["state"], json!({ "stage": "ramp", "step": 1 }));
    if ran_its_time {
        let body = app
            .with_revision(&id, &json!({ "action": "advance" }))
            .await;
        app.meet_evidence(&id, &body).await;
    }
    id
}

async fn decide(app: &TestApp, id: &str, as_role: Role, body: &Value) -> common::TestResponse {
    app.request_as(
        email_of(as_role),
        json_request(Method::POST, &decision_uri(id), body),
    )
    .await
}

#[tokio::test]
async fn an_ab_test_holds_its_split_until_its_time_and_a_kept_decision_opens_its_gate() {
    each_database(|app| async move {
        let id = at_ab_step(&app, false).await;
        let detail = app.get(&format!("/api/v1/changes/{id}")).await.json();
        assert_eq!(detail["change"]["traffic_percent"], 50.0);
        let keep = json!({ "outcome": "keep", "note": "Retention held; answers rated better." });

        // Before its declared duration, a decision is peeking: refused, nothing stored.
        let res = decide(&app, &id, Role::Pm, &keep).await;
        res.assert_error(StatusCode::CONFLICT, "conflict", None);
        assert!(res.message().contains("runs until"), "{}", res.message());
        assert!(app.get(&decision_uri(&id)).await.json().is_null());

        // The gate out of the A/B step waits for a decision, and says how to give it.
        let body = app
            .with_revision(&id, &json!({ "action": "advance" }))
            .await;
        app.meet_evidence(&id, &body).await;
        app.sign_gate(&id, Some("ramp:2")).await;
        app.meet_notice_gates(&id, "ramp:2").await;
        let res = app.gate_refuses(&id, &body).await;
        assert!(
            res.message().contains("A/B test has no decision yet"),
            "{}",
            res.message()
        );

        // Bad input names its field and stores nothing; support may not decide.
        decide(
            &app,
            &id,
            Role::Pm,
            &json!({ "outcome": "keep", "note": "  " }),
        )
        .await
        .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation", Some("note"));
        let res = decide(
            &app,
            &id,
            Role::Pm,
            &json!({ "outcome": "ship", "note": "x" }),
        )
        .await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            res.text()
        );
        decide(&app, &id, Role::Support, &keep).await.assert_error(
            StatusCode::FORBIDDEN,
            "forbidden",
            None,
        );
        assert!(app.get(&decision_uri(&id)).await.json().is_null());

        // Once the test has run its 14 days, a PM keeps the candidate, on the frozen report.
        let res = decide(&app, &id, Role::Pm, &keep).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let d = res.json();
        assert_eq!(d["outcome"], "keep");
        assert_eq!(d["stage"], "A/B test 50%");
        assert_eq!(d["decided_by"], "Pat PM");
        assert!(d["report"]["matrix"].is_array(), "{d}");
        // It stands: a second one is refused.
        decide(&app, &id, Role::Engineer, &keep).await.assert_error(
            StatusCode::CONFLICT,
            "conflict",
            None,
        );
        let stored = app.get(&decision_uri(&id)).await.json();
        assert_eq!(stored, d);
        // The change's detail lists it without the report.
        let detail = app.get(&format!("/api/v1/changes/{id}")).await.json();
        assert_eq!(detail["decision"]["outcome"], "keep");
        assert!(detail["decision"].get("report").is_none());
        let audit = app.get(&format!("/api/v1/audit?target={id}")).await.json();
        assert!(audit.to_string().contains("decision.record"), "{audit}");

        // Kept: the gate opens and the rollout goes on to 100 %.
        let d = app.transition(&id, &json!({ "action": "advance" })).await;
        assert_eq!(d["change"]["state"], json!({ "stage": "ramp", "step": 2 }));
    })
    .await;
}

#[tokio::test]
async fn reverting_or_iterating_rolls_back_with_the_report_frozen() {
    each_database(|app| async move {
        for outcome in ["revert", "iterate"] {
            let id = at_ab_step(&app, true).await;
            let note = "Week-two retention fell 1.8 points on the candidate.";
            let res = decide(
                &app,
                &id,
                Role::Engineer,
                &json!({ "outcome": outcome, "note": note }),
            )
            .await;
            assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
            let detail = app.get(&format!("/api/v1/changes/{id}")).await.json();
            assert_eq!(detail["change"]["state"], json!({ "stage": "rolled_back" }));
            let last = detail["history"]
                .as_array()
                .unwrap()
                .last()
                .unwrap()
                .clone();
            assert_eq!(last["action"], "roll_back");
            assert_eq!(
                last["reason"],
                format!("A/B test decided: {outcome}. {note}")
            );
            assert!(last["evidence"]["matrix"].is_array(), "{last}");
            assert_eq!(last["actor"], email_of(Role::Engineer));
            // The review tells it, from the decision.
            let md = app
                .get(&format!("/api/v1/changes/{id}/review.md"))
                .await
                .text();
            assert!(md.contains("## A/B test decision"), "{md}");
            let word = if outcome == "revert" {
                "**Revert**"
            } else {
                "**Iterate**"
            };
            assert!(md.contains(word) && md.contains(note), "{md}");
        }
        // A change without an A/B step, or not in it, has nothing to decide.
        let plain = app.create_default().await;
        let res = decide(
            &app,
            &plain,
            Role::Engineer,
            &json!({ "outcome": "keep", "note": "x" }),
        )
        .await;
        res.assert_error(StatusCode::CONFLICT, "conflict", None);
        assert!(
            res.message().contains("no A/B test step"),
            "{}",
            res.message()
        );
        let early = id_of(&app.create(&ab_change()).await);
        let res = decide(
            &app,
            &early,
            Role::Engineer,
            &json!({ "outcome": "keep", "note": "x" }),
        )
        .await;
        res.assert_error(StatusCode::CONFLICT, "conflict", None);
        assert!(res.message().contains("Draft"), "{}", res.message());
    })
    .await;
}

#[tokio::test]
async fn a_plan_names_a_broken_ab_step() {
    each_database(|app| async move {
        let before = app.counts().await;
        for (ramp, field) in [
            (
                json!([{ "percent": 50, "min_duration_hours": 2, "ab_test": true },
                       { "percent": 100, "min_duration_hours": 4 }]),
                "plan.ramp[0].min_duration_hours",
            ),
            (
                json!([{ "percent": 50, "min_duration_hours": 4 },
                       { "percent": 100, "min_duration_hours": 48, "ab_test": true }]),
                "plan.ramp[1].ab_test",
            ),
        ] {
            let mut new = ab_change();
            new["plan"]["ramp"] = ramp;
            app.rejects(
                json_request(Method::POST, "/api/v1/changes", &new),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                Some(field),
            )
            .await;
        }
        assert_eq!(app.counts().await, before);
    })
    .await;
}

#[tokio::test]
async fn a_holdout_stays_on_control_for_its_days_at_full_and_is_released_once_reviewed() {
    each_database(|app| async move {
        let detail = app.create(&new_change()).await;
        let id = id_of(&detail);
        let flag = detail["change"]["flag_key"].as_str().unwrap().to_owned();
        let uri = format!("/api/v1/changes/{id}/flag-rules");
        for (rules, field) in [
            (json!({ "holdout_days": 14 }), "rules.holdout_days"),
            (
                json!({ "holdout_percent": 5, "holdout_days": 400 }),
                "rules.holdout_days",
            ),
        ] {
            let body = json!({ "revision": app.revision_of(&id).await, "rules": rules });
            app.rejects(
                json_request(Method::PUT, &uri, &body),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                Some(field),
            )
            .await;
        }
        let body = json!({
            "revision": app.revision_of(&id).await,
            "rules": { "holdout_percent": 5, "holdout_days": 14 }
        });
        let res = app.put(&uri, &body).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        // The detail names the holdout for the console, which does not read the rules.
        let detail = app.get(&format!("/api/v1/changes/{id}")).await.json();
        assert_eq!(detail["holdout"], json!({ "percent": 5.0, "days": 14 }));
        let d = advance(&app, &id, 6).await; // eval, canary, 10, 25, 50, 100 %
        assert_eq!(d["change"]["state"], json!({ "stage": "ramp", "step": 3 }));
        let d = advance(&app, &id, 1).await;
        assert_eq!(d["change"]["state"], json!({ "stage": "full" }));
        // The candidate's share leaves the holdout out.
        assert_eq!(d["change"]["traffic_percent"], 95.0);

        let res = app
            .post(
                "/api/v1/tokens",
                &json!({ "name": "billing-api", "scopes": ["evaluate"] }),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let token = res.json()["secret"].as_str().unwrap().to_owned();
        let held = (0..)
            .map(|i| format!("user-{i}"))
            .find(|k| bucket(&flag, k) >= 9_500)
            .unwrap();
        let variant_of = |user: String| {
            let (app, flag, token) = (&app, &flag, &token);
            async move {
                let mut req = json_request(
                    Method::POST,
                    &format!("/ofrep/v1/evaluate/flags/{flag}"),
                    &json!({ "context": { "targetingKey": user } }),
                );
                req.headers_mut().insert(
                    axum::http::header::AUTHORIZATION,
                    format!("Bearer {token}").parse().unwrap(),
                );
                let res = app.anonymous(req).await;
                assert_eq!(res.status, StatusCode::OK, "{}", res.text());
                res.json()["variant"].as_str().unwrap().to_owned()
            }
        };
        assert_eq!(variant_of(held.clone()).await, "control");

        // Written review or not, Reviewed waits for the holdout's 14 days at Full.
        let review = json!({
            "users_noticed": "Nothing.", "lessons": "Holdouts are cheap.",
            "follow_ups": [], "revision": 0
        });
        let res = app
            .put(&format!("/api/v1/changes/{id}/review"), &review)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let gate = app.get(&format!("/api/v1/changes/{id}/gate")).await.json();
        assert!(
            gate["message"].as_str().unwrap().contains("holdout"),
            "{gate}"
        );
        let body = app
            .with_revision(&id, &json!({ "action": "advance" }))
            .await;
        app.gate_refuses(&id, &body).await;
        assert_eq!(variant_of(held.clone()).await, "control");

        // Fourteen days later the review may close it, and the old version is retired.
        app.backdate_history(&id, 14.0 * 86_400.0 + 60.0).await;
        let d = app.transition(&id, &json!({ "action": "advance" })).await;
        assert_eq!(d["change"]["state"], json!({ "stage": "reviewed" }));
        assert_eq!(d["change"]["traffic_percent"], 100.0);
        assert_eq!(variant_of(held).await, "candidate");
    })
    .await;
}
