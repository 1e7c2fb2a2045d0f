//! `POST /api/v1/changes/{id}/transitions`: the rollout state machine over HTTP, with history.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{TestApp, each_database, json_request, raw_request};
use serde_json::{Value, json};

fn uri(id: &str) -> String {
    format!("/api/v1/changes/{id}/transitions")
}

fn as_actor(actor: &str, id: &str, body: &Value) -> Request<Body> {
    let mut req = json_request(Method::POST, &uri(id), body);
    req.headers_mut()
        .insert("X-Rollgate-Actor", actor.parse().expect("header"));
    req
}

async fn move_as(app: &TestApp, actor: &str, id: &str, body: Value) -> Value {
    let res = app.request(as_actor(actor, id, &body)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()
}

#[tokio::test]
async fn advancing_moves_the_rollout_and_records_who_and_why() {
    each_database(|app| async move {
        let id = app.create_default().await;
        let d = move_as(
            &app,
            "  ana@example.com ",
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
        assert_eq!(h["actor"], "ana@example.com");
        assert_eq!(h["reason"], "bench is green");
        assert_eq!(h["at"], d["change"]["updated_at"]);
        assert_eq!(app.counts().await, (1, 1));

        // No header: the console acts; no reason: stored as null.
        let d = app.transition(&id, &json!({ "action": "advance" })).await;
        assert_eq!(d["change"]["state"], json!({ "stage": "canary" }));
        assert_eq!(d["change"]["traffic_percent"], 5.0);
        assert_eq!(d["history"][1]["actor"], "console");
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
        let mut last = Value::Null;
        for _ in 0..8 {
            last = app.transition(&id, &json!({ "action": "advance" })).await;
        }
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
        app.rejects(
            json_request(Method::POST, &uri(&id), &json!({ "action": "advance" })),
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
            json!({ "action": "skip" }),
            json!({ "action": "skip", "reason": "   " }),
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
            "sam@example.com",
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
        assert_eq!(h["actor"], "sam@example.com");
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
                &json!({ "action": "roll_back", "reason": "x" }),
            ),
            StatusCode::CONFLICT,
            "illegal_transition",
            Some("action"),
        )
        .await;
        app.transition(&id, &json!({ "action": "advance" })).await;
        app.transition(&id, &json!({ "action": "advance" })).await;
        app.rejects(
            json_request(Method::POST, &uri(&id), &json!({ "action": "roll_back" })),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("reason"),
        )
        .await;
        let reason = "hard_error_rate +1.8 pp in canary (timeouts from order service)";
        let d = move_as(
            &app,
            "priya@example.com",
            &id,
            json!({ "action": "roll_back", "reason": reason }),
        )
        .await;
        assert_eq!(d["change"]["state"], json!({ "stage": "rolled_back" }));
        assert_eq!(d["change"]["traffic_percent"], 0.0);
        let h = &d["history"][2];
        assert_eq!(
            (h["action"].clone(), h["actor"].clone(), h["reason"].clone()),
            (
                json!("roll_back"),
                json!("priya@example.com"),
                json!(reason)
            )
        );
        assert_eq!(h["from_label"], "Canary 5%");
        assert_eq!(app.counts().await, (1, 3));
        for action in ["advance", "skip", "roll_back"] {
            let res = app
                .rejects(
                    json_request(
                        Method::POST,
                        &uri(&id),
                        &json!({ "action": action, "reason": "again" }),
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
            (json!({ "action": "pause" }), "action"),
            (json!({}), "action"),
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
        for actor in ["   ", &"y".repeat(101)] {
            app.rejects(
                as_actor(actor, &id, &json!({ "action": "advance" })),
                invalid,
                "validation",
                Some("X-Rollgate-Actor"),
            )
            .await;
        }
        let mut req = json_request(Method::POST, &u, &json!({ "action": "advance" }));
        req.headers_mut().insert(
            "X-Rollgate-Actor",
            header::HeaderValue::from_bytes(&[0xff, 0xfe]).expect("header"),
        );
        app.rejects(req, invalid, "validation", Some("X-Rollgate-Actor"))
            .await;
        let d = app.get(&format!("/api/v1/changes/{id}")).await.json();
        assert_eq!(d["change"]["state"], json!({ "stage": "draft" }));
        assert_eq!(d["change"]["revision"], 1);
    })
    .await;
}
