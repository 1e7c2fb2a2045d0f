//! `POST /api/v1/changes/{id}/transitions`: the rollout state machine over HTTP, with history.

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, each_database, json_request, raw_request};
use serde_json::{Value, json};

fn uri(id: &str) -> String {
    format!("/api/v1/changes/{id}/transitions")
}

/// Moves the rollout as the test user `email`, after the gate is signed.
async fn move_as(app: &TestApp, email: &str, id: &str, body: Value) -> Value {
    let body = app.with_revision(id, &body).await;
    app.sign_off_for(id, &body).await;
    let res = app
        .request_as(email, json_request(Method::POST, &uri(id), &body))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()
}

#[tokio::test]
async fn advancing_moves_the_rollout_and_records_who_and_why() {
    each_database(|app| async move {
        let id = app.create_default().await;
        let d = move_as(
            &app,
            "erin@example.com",
            &id,
            json!({ "action": "advance", "reason": "bench is green", "revision": 1 }),
        )
        .await;
        assert_eq!(d["change"]["state"], json!({ "stage": "eval" }));
        assert_eq!(d["change"]["revision"], 2);
        assert_eq!(d["change"]["traffic_percent"], 0.0);
        let h = &d["history"][0];
        assert_eq!(h["action"], "advance");
        assert_eq!(h["from"], json!({ "stage": "draft" }));
        assert_eq!(h["to"], json!({ "stage": "eval" }));
        assert_eq!(
            (h["from_label"].clone(), h["to_label"].clone()),
            (json!("Draft"), json!("Eval gate"))
        );
        assert_eq!(h["actor"], "erin@example.com");
        assert_eq!(h["reason"], "bench is green");
        assert_eq!(h["at"], d["change"]["updated_at"]);
        assert_eq!(app.counts().await, (1, 1));

        // The default test user acts; no reason: stored as null.
        let d = app.transition(&id, &json!({ "action": "advance" })).await;
        assert_eq!(d["change"]["state"], json!({ "stage": "canary" }));
        assert_eq!(d["change"]["traffic_percent"], 5.0);
        assert_eq!(d["history"][1]["actor"], "ana@example.com");
        assert_eq!(d["history"][1]["reason"], Value::Null);
        assert_eq!(d["history"][1]["to_label"], "Canary 5%");

        let d = app.transition(&id, &json!({ "action": "advance" })).await;
        assert_eq!(d["change"]["state"], json!({ "stage": "ramp", "step": 0 }));
        assert_eq!(d["change"]["traffic_percent"], 10.0);
        assert_eq!(app.get(&format!("/api/v1/changes/{id}")).await.json(), d);
        assert_eq!(app.counts().await, (1, 3));
    })
    .await;
}

#[tokio::test]
async fn a_rollout_walks_to_reviewed_with_history_oldest_first() {
    each_database(|app| async move {
        let id = app.create_default().await;
        for _ in 0..7 {
            app.transition(&id, &json!({ "action": "advance" })).await;
        }
        // Reviewed needs the post-deployment review written (tests/reviews.rs).
        let res = app
            .put(
                &format!("/api/v1/changes/{id}/review"),
                &json!({ "users_noticed": "nothing", "lessons": "none", "revision": 0 }),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let last = app.transition(&id, &json!({ "action": "advance" })).await;
        assert_eq!(last["change"]["state"], json!({ "stage": "reviewed" }));
        assert_eq!(last["change"]["revision"], 9);
        let labels: Vec<&str> = last["history"]
            .as_array()
            .expect("history")
            .iter()
            .map(|h| h["to_label"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(
            labels,
            [
                "Eval gate",
                "Canary 5%",
                "Ramp 10%",
                "Ramp 25%",
                "Ramp 50%",
                "Ramp 100%",
                "Full",
                "Reviewed"
            ]
        );
        let body = app
            .with_revision(&id, &json!({ "action": "advance" }))
            .await;
        app.rejects(
            json_request(Method::POST, &uri(&id), &body),
            StatusCode::CONFLICT,
            "illegal_transition",
            Some("action"),
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn skipping_needs_a_justification() {
    each_database(|app| async move {
        let id = app.create_default().await;
        for body in [
            json!({ "action": "skip", "revision": 1 }),
            json!({ "action": "skip", "reason": "   ", "revision": 1 }),
        ] {
            app.rejects(
                json_request(Method::POST, &uri(&id), &body),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                Some("reason"),
            )
            .await;
        }
        let d = move_as(
            &app,
            "admin@example.com",
            &id,
            json!({ "action": "skip", "reason": "eval bench already ran in CI (run 4711)" }),
        )
        .await;
        assert_eq!(d["change"]["state"], json!({ "stage": "canary" }));
        let h = &d["history"][0];
        assert_eq!(h["action"], "skip");
        assert_eq!(
            (h["from_label"].clone(), h["to_label"].clone()),
            (json!("Draft"), json!("Canary 5%"))
        );
        assert_eq!(h["actor"], "admin@example.com");
        assert_eq!(h["reason"], "eval bench already ran in CI (run 4711)");

        let d = app
            .transition(
                &id,
                &json!({ "action": "skip", "reason": "10 % step is redundant here" }),
            )
            .await;
        assert_eq!(d["change"]["state"], json!({ "stage": "ramp", "step": 1 }));
        assert_eq!(d["change"]["traffic_percent"], 25.0);
        assert_eq!(app.counts().await, (1, 2));
    })
    .await;
}

#[tokio::test]
async fn rolling_back_needs_a_reason_and_ends_the_rollout() {
    each_database(|app| async move {
        let id = app.create_default().await;
        // Nothing to roll back in a draft.
        app.rejects(
            json_request(
                Method::POST,
                &uri(&id),
                &json!({ "action": "roll_back", "reason": "x", "revision": 1 }),
            ),
            StatusCode::CONFLICT,
            "illegal_transition",
            Some("action"),
        )
        .await;
        app.transition(&id, &json!({ "action": "advance" })).await;
        app.transition(&id, &json!({ "action": "advance" })).await;
        app.rejects(
            json_request(
                Method::POST,
                &uri(&id),
                &json!({ "action": "roll_back", "revision": 3 }),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("reason"),
        )
        .await;
        let reason = "hard_error_rate +1.8 pp in canary (timeouts from order service)";
        let d = move_as(
            &app,
            "alex@example.com",
            &id,
            json!({ "action": "roll_back", "reason": reason }),
        )
        .await;
        assert_eq!(d["change"]["state"], json!({ "stage": "rolled_back" }));
        assert_eq!(d["change"]["traffic_percent"], 0.0);
        let h = &d["history"][2];
        assert_eq!(
            (h["action"].clone(), h["actor"].clone(), h["reason"].clone()),
            (json!("roll_back"), json!("alex@example.com"), json!(reason))
        );
        assert_eq!(h["from_label"], "Canary 5%");
        assert_eq!(app.counts().await, (1, 3));
        for action in ["advance", "skip", "roll_back"] {
            let res = app
                .rejects(
                    json_request(
                        Method::POST,
                        &uri(&id),
                        &json!({ "action": action, "reason": "again", "revision": 4 }),
                    ),
                    StatusCode::CONFLICT,
                    "illegal_transition",
                    Some("action"),
                )
                .await;
            assert!(res.message().contains("finished"), "{}", res.message());
        }
    })
    .await;
}

#[tokio::test]
async fn stale_and_concurrent_transitions_are_refused() {
    each_database(|app| async move {
        let id = app.create_default().await;
        app.transition(&id, &json!({ "action": "advance" })).await;
        let res = app
            .rejects(
                json_request(
                    Method::POST,
                    &uri(&id),
                    &json!({ "action": "advance", "revision": 1 }),
                ),
                StatusCode::CONFLICT,
                "conflict",
                None,
            )
            .await;
        assert!(
            res.message().contains("current revision is 2"),
            "{}",
            res.message()
        );

        // Two people press "advance" on the same revision at once: exactly one wins.
        let body = json!({ "action": "advance", "revision": 2 });
        app.sign_off_for(&id, &body).await;
        let (a, b) = tokio::join!(
            app.request(json_request(Method::POST, &uri(&id), &body)),
            app.request(json_request(Method::POST, &uri(&id), &body)),
        );
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(
            statuses,
            [StatusCode::OK, StatusCode::CONFLICT],
            "{} / {}",
            a.text(),
            b.text()
        );
        let loser = if a.status == StatusCode::CONFLICT {
            &a
        } else {
            &b
        };
        loser.assert_error(StatusCode::CONFLICT, "conflict", None);
        let d = app.get(&format!("/api/v1/changes/{id}")).await.json();
        assert_eq!(d["change"]["state"], json!({ "stage": "canary" }));
        assert_eq!(d["change"]["revision"], 3);
        assert_eq!(app.counts().await, (1, 2));
    })
    .await;
}

/// Twenty clicks on "advance" from the same page: the first moves the rollout one stage, the
/// others are stale and change nothing (before `revision` was required, each request read the
/// then-current revision and the change went from draft to a ramp at once).
#[tokio::test]
async fn repeated_advances_move_one_stage() {
    each_database(|app| async move {
        let id = app.create_default().await;
        let body = json!({ "action": "advance", "revision": 1 });
        app.sign_off_for(&id, &body).await;
        let mut bare = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let req = json_request(Method::POST, &uri(&id), &json!({ "action": "advance" }));
            let app = app.clone();
            bare.spawn(async move { app.request(req).await });
        }
        for r in bare.join_all().await {
            r.assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                Some("revision"),
            );
        }
        assert_eq!(app.revision_of(&id).await, 1);
        let mut clicks = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let (app, req) = (app.clone(), json_request(Method::POST, &uri(&id), &body));
            clicks.spawn(async move { app.request(req).await });
        }
        let results = clicks.join_all().await;
        let ok = results
            .iter()
            .filter(|r| r.status == StatusCode::OK)
            .count();
        assert_eq!(ok, 1);
        for r in results.iter().filter(|r| r.status != StatusCode::OK) {
            r.assert_error(StatusCode::CONFLICT, "conflict", None);
        }
        let d = app.get(&format!("/api/v1/changes/{id}")).await.json();
        assert_eq!(d["change"]["state"], json!({ "stage": "eval" }));
        assert_eq!(d["change"]["revision"], 2);
        assert_eq!(app.counts().await, (1, 1));
    })
    .await;
}

#[tokio::test]
async fn bad_transition_requests_are_refused() {
    each_database(|app| async move {
        let id = app.create_default().await;
        let u = uri(&id);
        let invalid = StatusCode::UNPROCESSABLE_ENTITY;
        app.rejects(
            json_request(Method::POST, &uri("nope"), &json!({ "action": "advance" })),
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        )
        .await;
        for (body, field) in [
            (json!({ "action": "hold" }), "action"),
            (json!({}), "action"),
            (json!({ "action": "advance" }), "revision"),
            (
                json!({ "action": "roll_back", "reason": "errors" }),
                "revision",
            ),
            (json!({ "action": "advance", "reason": 5 }), "reason"),
            (json!({ "action": "advance", "revision": "2" }), "revision"),
            (json!({ "action": "advance", "actor": "me" }), "actor"),
            (
                json!({ "action": "advance", "reason": "x".repeat(2001) }),
                "reason",
            ),
        ] {
            app.rejects(
                json_request(Method::POST, &u, &body),
                invalid,
                "validation",
                Some(field),
            )
            .await;
        }
        app.rejects(
            raw_request(
                Method::POST,
                &u,
                Some("application/json"),
                "{\"action\": \"advance\"",
            ),
            StatusCode::BAD_REQUEST,
            "malformed_json",
            None,
        )
        .await;
        app.rejects(
            raw_request(
                Method::POST,
                &u,
                Some("text/plain"),
                "{\"action\": \"advance\"}",
            ),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            None,
        )
        .await;
        let big = json!({ "action": "advance", "reason": "x".repeat(300 * 1024) });
        app.rejects(
            json_request(Method::POST, &u, &big),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            None,
        )
        .await;
        // Who acts is the session, never a header: the old actor header cannot spoof it, and
        // a write without the CSRF token (or from another site) is refused.
        let mut req = json_request(Method::POST, &u, &json!({ "action": "advance" }));
        req.headers_mut()
            .insert("X-Rollgate-Actor", "someone-else".parse().expect("header"));
        let mut req = app.session("erin@example.com").sign(req);
        req.headers_mut().remove("x-csrf-token");
        app.rejects(req, StatusCode::FORBIDDEN, "csrf", None).await;
        let mut req = app.session("erin@example.com").sign(json_request(
            Method::POST,
            &u,
            &json!({ "action": "advance" }),
        ));
        req.headers_mut()
            .insert("sec-fetch-site", "cross-site".parse().expect("header"));
        app.rejects(req, StatusCode::FORBIDDEN, "csrf", None).await;
        let _ = invalid;
        let d = app.get(&format!("/api/v1/changes/{id}")).await.json();
        assert_eq!(d["change"]["state"], json!({ "stage": "draft" }));
        assert_eq!(d["change"]["revision"], 1);
    })
    .await;
}

#[tokio::test]
async fn a_pause_holds_the_stage_until_resumed_or_rolled_back() {
    each_database(|app| async move {
        let id = app.create_default().await;
        app.transition(&id, &json!({ "action": "advance" })).await;
        app.transition(&id, &json!({ "action": "advance" })).await;
        let post = |body: Value| json_request(Method::POST, &uri(&id), &body);

        // A pause needs a reason, and a role that may move the rollout.
        app.rejects(
            post(json!({ "action": "pause", "reason": "  ", "revision": 3 })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("reason"),
        )
        .await;
        let pm = app
            .request_as(
                "pat@example.com",
                post(json!({ "action": "pause", "reason": "looking", "revision": 3 })),
            )
            .await;
        pm.assert_error(StatusCode::FORBIDDEN, "forbidden", None);

        let reason = "support tickets about tone are up; holding while we read them";
        let d = move_as(
            &app,
            "alex@example.com",
            &id,
            json!({ "action": "pause", "reason": reason }),
        )
        .await;
        // The stage and its traffic stay as they are; the change says who held it and why.
        assert_eq!(d["change"]["state"], json!({ "stage": "canary" }));
        assert_eq!(d["change"]["traffic_percent"], 5.0);
        assert_eq!(d["change"]["paused"]["by"], "alex@example.com");
        assert_eq!(d["change"]["paused"]["reason"], reason);
        assert_eq!(d["change"]["paused"]["at"], d["change"]["updated_at"]);
        let h = &d["history"][2];
        assert_eq!(h["action"], "pause");
        assert_eq!(h["from"], h["to"]);
        assert_eq!(h["to_label"], "Canary 5%");
        assert_eq!(h["evidence"], Value::Null);
        let list = app.get("/api/v1/changes").await.json();
        assert_eq!(list["items"][0]["paused"], true);
        assert_eq!(list["items"][0]["state_label"], "Canary 5% · paused");
        assert_eq!(app.counts().await, (1, 3));

        // Advancing and skipping wait for a resume; a second pause has nothing to hold.
        for (body, message) in [
            (
                json!({ "action": "advance", "revision": 4 }),
                "the rollout is paused: resume or roll back",
            ),
            (
                json!({ "action": "skip", "reason": "hurry", "revision": 4 }),
                "the rollout is paused: resume or roll back",
            ),
            (
                json!({ "action": "pause", "reason": "again", "revision": 4 }),
                "the rollout is already paused",
            ),
        ] {
            let res = app
                .rejects(
                    post(body),
                    StatusCode::CONFLICT,
                    "illegal_transition",
                    Some("action"),
                )
                .await;
            assert_eq!(res.message(), message);
        }
        let audit = app.get("/api/v1/audit?action=change.pause").await;
        assert!(
            audit.text().contains("alex@example.com"),
            "{}",
            audit.text()
        );

        // A resume needs no reason and lifts the hold; the rollout moves on again.
        let d = app.transition(&id, &json!({ "action": "resume" })).await;
        assert_eq!(d["change"]["paused"], Value::Null);
        assert_eq!(d["change"]["state"], json!({ "stage": "canary" }));
        assert_eq!(d["history"][3]["action"], "resume");
        assert_eq!(d["history"][3]["reason"], Value::Null);
        let res = app
            .rejects(
                post(json!({ "action": "resume", "revision": 5 })),
                StatusCode::CONFLICT,
                "illegal_transition",
                Some("action"),
            )
            .await;
        assert!(res.message().contains("not paused"), "{}", res.message());

        // Paused again, a rollback is still open and ends the hold with the rollout.
        app.transition(
            &id,
            &json!({ "action": "pause", "reason": "cost looks high" }),
        )
        .await;
        let d = move_as(
            &app,
            "alex@example.com",
            &id,
            json!({ "action": "roll_back", "reason": "cost is up 20%" }),
        )
        .await;
        assert_eq!(d["change"]["state"], json!({ "stage": "rolled_back" }));
        assert_eq!(d["change"]["paused"], Value::Null);
        assert_eq!(d["change"]["traffic_percent"], 0.0);
        assert_eq!(app.counts().await, (1, 6));
    })
    .await;
}

#[tokio::test]
async fn only_a_started_rollout_can_be_paused() {
    each_database(|app| async move {
        let id = app.create_default().await;
        let res = app
            .rejects(
                json_request(
                    Method::POST,
                    &uri(&id),
                    &json!({ "action": "pause", "reason": "not yet", "revision": 1 }),
                ),
                StatusCode::CONFLICT,
                "illegal_transition",
                Some("action"),
            )
            .await;
        assert!(res.message().contains("draft"), "{}", res.message());
    })
    .await;
}
