//! The post-deployment review (`/api/v1/changes/{id}/review`, `…/review.md`) and support's
//! complaints (`/api/v1/changes/{id}/complaints`).

mod common;

use axum::http::{Method, StatusCode, header};
use common::{TestApp, each_database, email_of, json_request};
use serde_json::{Value, json};
use shared::auth::Role;

fn review_uri(id: &str) -> String {
    format!("/api/v1/changes/{id}/review")
}

fn complaints_uri(id: &str) -> String {
    format!("/api/v1/changes/{id}/complaints")
}

fn written(revision: i64) -> Value {
    json!({
        "users_noticed": "Two tickets said answers got shorter; nobody minded.",
        "lessons": "Answer length deserves a metric of its own.",
        "follow_ups": ["Add an answer-length metric to the catalogue"],
        "revision": revision,
    })
}

/// Advances the change `id` `n` times.
async fn advance(app: &TestApp, id: &str, n: usize) -> Value {
    let mut last = Value::Null;
    for _ in 0..n {
        last = app.transition(id, &json!({ "action": "advance" })).await;
    }
    last
}

async fn complaint_count(app: &TestApp, id: &str) -> usize {
    let res = app.get(&complaints_uri(id)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json().as_array().expect("array").len()
}

#[tokio::test]
async fn reviewed_needs_a_written_review_which_waits_for_full() {
    each_database(|app| async move {
        let id = app.create_default().await;
        advance(&app, &id, 2).await; // canary
        // Too early: the rollout has not reached everyone.
        let res = app
            .request(json_request(Method::PUT, &review_uri(&id), &written(0)))
            .await;
        res.assert_error(StatusCode::CONFLICT, "conflict", None);
        assert!(res.message().contains("Canary 5%"), "{}", res.message());
        assert!(app.get(&review_uri(&id)).await.json()["written"].is_null());

        let d = advance(&app, &id, 5).await;
        assert_eq!(d["change"]["state"], json!({ "stage": "full" }));
        // Full → Reviewed is refused until the review is written, and nothing moves.
        let body = app
            .with_revision(&id, &json!({ "action": "advance" }))
            .await;
        let res = app.gate_refuses(&id, &body).await;
        assert!(
            res.message().contains("post-deployment review"),
            "{}",
            res.message()
        );
        // The gate ahead says so before anyone tries: the console disables Advance with it.
        let gate = app.get(&format!("/api/v1/changes/{id}/gate")).await.json();
        let review_check = gate["evidence"]
            .as_array()
            .and_then(|e| e.iter().find(|c| c["label"] == "Post-deployment review"))
            .cloned()
            .unwrap_or_else(|| panic!("no review check in {gate}"));
        assert_eq!(review_check["satisfied"], false, "{gate}");
        assert!(
            gate["message"]
                .as_str()
                .is_some_and(|m| m.contains("not written yet")),
            "{gate}"
        );

        // Bad input names its field and stores nothing.
        let mut bad = written(0);
        bad["lessons"] = json!("  ");
        app.request(json_request(Method::PUT, &review_uri(&id), &bad))
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                Some("lessons"),
            );
        let mut bad = written(0);
        bad["follow_ups"] = json!(["fine", ""]);
        app.request(json_request(Method::PUT, &review_uri(&id), &bad))
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                Some("follow_ups[1]"),
            );
        let mut bad = written(0);
        bad["mood"] = json!("good");
        app.request(json_request(Method::PUT, &review_uri(&id), &bad))
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation", Some("mood"));
        // Support reads it but may not write it.
        app.request_as(
            email_of(Role::Support),
            json_request(Method::PUT, &review_uri(&id), &written(0)),
        )
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden", None);
        assert!(app.get(&review_uri(&id)).await.json()["written"].is_null());

        let res = app
            .request(json_request(Method::PUT, &review_uri(&id), &written(0)))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let r = res.json();
        assert_eq!(r["written"]["revision"], 1);
        assert_eq!(
            r["written"]["follow_ups"],
            json!(["Add an answer-length metric to the catalogue"])
        );
        // Written against an old revision: refused, the newer text stays.
        let mut stale = written(0);
        stale["lessons"] = json!("overwritten");
        app.request(json_request(Method::PUT, &review_uri(&id), &stale))
            .await
            .assert_error(StatusCode::CONFLICT, "conflict", None);
        let mut edit = written(1);
        edit["lessons"] = json!("Answer length deserves a metric; so does tone.");
        let res = app
            .request(json_request(Method::PUT, &review_uri(&id), &edit))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(res.json()["written"]["revision"], 2);

        let d = advance(&app, &id, 1).await;
        assert_eq!(d["change"]["state"], json!({ "stage": "reviewed" }));

        // The facts: every stage the change went through, with its time.
        let r = app.get(&review_uri(&id)).await.json();
        let stages: Vec<&str> = r["facts"]["stages"]
            .as_array()
            .expect("stages")
            .iter()
            .map(|s| s["stage"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(
            stages,
            [
                "Draft",
                "Eval gate",
                "Canary 5%",
                "Ramp 10%",
                "Ramp 25%",
                "Ramp 50%",
                "Ramp 100%",
                "Full"
            ]
        );
        assert_eq!(r["state"], "Reviewed");
        assert!(
            r["facts"]["expected_changes"]
                .as_str()
                .is_some_and(|s| !s.is_empty())
        );

        // The audit log holds both writes.
        let audit = app
            .get(&format!("/api/v1/audit?action=review.write&object_id={id}"))
            .await
            .json();
        assert_eq!(audit["items"].as_array().map(Vec::len), Some(2), "{audit}");

        // Markdown export.
        let res = app.get(&format!("{}.md", review_uri(&id))).await;
        assert_eq!(res.status, StatusCode::OK);
        assert!(
            res.header(header::CONTENT_TYPE)
                .is_some_and(|c| c.starts_with("text/markdown"))
        );
        let md = res.text();
        assert!(md.starts_with("# Post-deployment review: "), "{md}");
        assert!(
            md.contains("Answer length deserves a metric; so does tone."),
            "{md}"
        );
        assert!(md.contains("| Canary 5% |"), "{md}");
        assert!(md.contains("- [ ] Add an answer-length metric"), "{md}");
    })
    .await;
}

#[tokio::test]
async fn support_records_complaints_that_the_review_lists() {
    each_database(|app| async move {
        let id = app.create_default().await;
        advance(&app, &id, 2).await; // canary
        let support = email_of(Role::Support);
        let complaint = json!({
            "user_key": "user-17",
            "at": "2026-01-01T10:00:00Z",
            "text": "The assistant answered in English to a Spanish question.",
            "category": "wrong_answer",
        });
        // Bad input: each field named, nothing stored.
        for (field, value) in [
            ("user_key", json!("")),
            ("at", json!("yesterday")),
            ("at", json!("2999-01-01T00:00:00Z")),
            ("text", json!(" ")),
            ("category", json!("rude")),
        ] {
            let mut bad = complaint.clone();
            bad[field] = value;
            app.request_as(
                support,
                json_request(Method::POST, &complaints_uri(&id), &bad),
            )
            .await
            .assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation", Some(field));
        }
        assert_eq!(complaint_count(&app, &id).await, 0);
        app.anonymous(json_request(Method::POST, &complaints_uri(&id), &complaint))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthorized", None);
        app.request_as(
            support,
            json_request(
                Method::POST,
                "/api/v1/changes/no-such-change/complaints",
                &complaint,
            ),
        )
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found", None);

        let res = app
            .request_as(
                support,
                json_request(Method::POST, &complaints_uri(&id), &complaint),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let c = res.json();
        assert_eq!(c["user_key"], "user-17");
        assert_eq!(c["category"], "wrong_answer");
        // Before the rollout started, the user had no variant of this change.
        assert!(c["variant"].is_null(), "{c}");
        assert_eq!(c["at"], "2026-01-01T10:00:00.000000Z");

        // Now: the user had control or the candidate, as the lookup says.
        let mut now = complaint.clone();
        now["at"] = json!(rollgate::db::now());
        let c = app
            .request_as(
                support,
                json_request(Method::POST, &complaints_uri(&id), &now),
            )
            .await
            .json();
        let lookup = app
            .get(&format!(
                "/api/v1/assignments?targeting_key=user-17&at={}",
                c["at"].as_str().unwrap_or_default()
            ))
            .await
            .json();
        let expected = lookup["assignments"]
            .as_array()
            .expect("assignments")
            .iter()
            .find(|a| a["change_id"] == json!(id))
            .map(|a| a["variant"].clone())
            .expect("the change is live");
        assert_eq!(c["variant"], expected);

        assert_eq!(complaint_count(&app, &id).await, 2);
        let r = app.get(&review_uri(&id)).await.json();
        assert_eq!(r["facts"]["complaints"].as_array().map(Vec::len), Some(2));
        let md = app.get(&format!("{}.md", review_uri(&id))).await.text();
        assert!(md.contains("## Complaints (2)"), "{md}");
        assert!(md.contains("wrong answer · user `user-17`"), "{md}");
    })
    .await;
}

#[tokio::test]
async fn a_rolled_back_change_is_reviewed_with_its_rollback() {
    each_database(|app| async move {
        let id = app.create_default().await;
        advance(&app, &id, 2).await; // canary
        app.transition(
            &id,
            &json!({ "action": "roll_back", "reason": "cost rose 20 % in the canary" }),
        )
        .await;
        let res = app
            .request(json_request(Method::PUT, &review_uri(&id), &written(0)))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let r = res.json();
        let rollback = &r["facts"]["interruptions"][0];
        assert_eq!(rollback["action"], "roll_back");
        assert_eq!(rollback["from"], "Canary 5%");
        assert_eq!(rollback["reason"], "cost rose 20 % in the canary");
        let md = app.get(&format!("{}.md", review_uri(&id))).await.text();
        assert!(
            md.contains("rolled back at ") && md.contains(": cost rose 20 % in the canary"),
            "{md}"
        );
    })
    .await;
}
