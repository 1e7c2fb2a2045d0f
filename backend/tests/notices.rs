//! Teams, notices and the notice gates: drafting, publishing, revising, acknowledging,
//! unread lists, and the canary and wide-ramp gates that wait for Support.

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, each_database, json_request};
use serde_json::{Value, json};

const SAM: &str = "sam@example.com";
const PAT: &str = "pat@example.com";

async fn teams(app: &TestApp) -> Vec<Value> {
    app.get("/api/v1/teams")
        .await
        .json()
        .as_array()
        .unwrap()
        .clone()
}

/// Signs the approvals of the gate entering `stage` and tries the advance; the answer.
/// Asks to advance into `stage` with its sign-off and its evidence given: what stands in the
/// way is the notices.
async fn try_advance(app: &TestApp, id: &str, stage: &str) -> common::TestResponse {
    app.sign_gate(id, Some(stage)).await;
    app.meet_evidence(id, &json!({ "action": "advance" })).await;
    let body = app.with_revision(id, &json!({ "action": "advance" })).await;
    app.post(&format!("/api/v1/changes/{id}/transitions"), &body)
        .await
}

async fn draft(app: &TestApp, id: &str, audience: &[&str], text: &str) -> Value {
    let res = app
        .post(
            &format!("/api/v1/changes/{id}/notices"),
            &json!({
                "audience": audience,
                "planned_at": "2026-12-01T09:00:00Z",
                "planned_stage": { "stage": "canary" },
                "expected_changes": text,
                "talking_points": "Say it is expected.",
            }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    res.json()
}

async fn publish(app: &TestApp, notice: &str) -> Value {
    let res = app
        .post(&format!("/api/v1/notices/{notice}/publish"), &json!({}))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()
}

/// The ids of the notices `email`'s unread list holds: news to them, or waiting for a team of
/// theirs to acknowledge it. Checks the count says the same.
async fn needing(app: &TestApp, email: &str) -> Vec<String> {
    let unread = app
        .request_as(
            email,
            json_request(Method::GET, "/api/v1/notices/unread", &json!(null)),
        )
        .await
        .json();
    let ids: Vec<String> = unread["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| n["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(unread["count"], ids.len(), "{unread}");
    ids
}

async fn read(app: &TestApp, email: &str, notice: &str) {
    let res = app
        .request_as(
            email,
            json_request(
                Method::POST,
                &format!("/api/v1/notices/{notice}/read"),
                &json!({}),
            ),
        )
        .await;
    assert_eq!(res.status, StatusCode::NO_CONTENT, "{}", res.text());
}

async fn acknowledge(app: &TestApp, email: &str, notice: &str, team: &str) {
    let res = app
        .request_as(
            email,
            json_request(
                Method::POST,
                &format!("/api/v1/notices/{notice}/acknowledgements"),
                &json!({"team_id": team}),
            ),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
}

#[tokio::test]
async fn teams_are_seeded_and_secrets_are_shown_once() {
    each_database(|app| async move {
        let names: Vec<String> = teams(&app)
            .await
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(names, ["Marketing", "Support"]);

        let sam = app.session(SAM).user_id.clone();
        let res = app
            .post(
                "/api/v1/teams",
                &json!({"name": "Billing platform", "members": [sam],
                        "webhook_url": "https://chat.example/hooks/1"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let created = res.json();
        let secret = created["webhook_secret"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("rg_whs_"), "{secret}");
        let team_id = created["team"]["id"].as_str().unwrap().to_owned();
        assert_eq!(created["team"]["members"][0]["email"], SAM);

        let listed = teams(&app).await;
        let text = serde_json::to_string(&listed).unwrap();
        assert!(!text.contains(&secret), "the secret is never listed");
        let stored: String = sqlx::query_scalar("SELECT webhook_secret FROM teams WHERE id = $1")
            .bind(&team_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(stored, secret, "stored as is, to sign with");

        let res = app
            .post(&format!("/api/v1/teams/{team_id}/secret"), &json!({}))
            .await;
        assert_eq!(res.status, StatusCode::OK);
        assert_ne!(res.json()["webhook_secret"], secret);

        let res = app
            .post(&format!("/api/v1/teams/{team_id}/feed-token"), &json!({}))
            .await;
        assert_eq!(res.status, StatusCode::OK);
        let token = res.json()["feed_token"].as_str().unwrap().to_owned();
        let hash: String = sqlx::query_scalar("SELECT feed_token_sha256 FROM teams WHERE id = $1")
            .bind(&team_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
        assert_eq!(hash, rollgate::db::tokens::hash(&token));

        // Names are unique; URLs must be http(s); members must exist.
        let res = app.post("/api/v1/teams", &json!({"name": "Support"})).await;
        res.assert_error(StatusCode::CONFLICT, "conflict", None);
        let res = app
            .post(
                "/api/v1/teams",
                &json!({"name": "X", "webhook_url": "ftp://x"}),
            )
            .await;
        res.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("webhook_url"),
        );
        let res = app
            .put(
                &format!("/api/v1/teams/{team_id}"),
                &json!({"name": "Billing", "members": ["nobody"]}),
            )
            .await;
        res.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("members"),
        );

        let actions: Vec<String> = sqlx::query_scalar(
            "SELECT action FROM audit_log WHERE object_type = 'team' ORDER BY at, id",
        )
        .fetch_all(&app.pool)
        .await
        .unwrap();
        assert_eq!(
            actions,
            ["team.create", "team.rotate_secret", "team.feed_token"]
        );
    })
    .await;
}

#[tokio::test]
async fn notices_are_drafted_published_revised_and_acknowledged() {
    each_database(|app| async move {
        let id = app.create_default().await;
        let support = app.support_team().await;
        let n = draft(&app, &id, &[&support], "Shorter answers in Spanish").await;
        assert_eq!(n["status"], "draft");
        assert_eq!(n["kind"], "manual");
        let nid = n["id"].as_str().unwrap().to_owned();

        // A draft is edited in place.
        let res = app
            .put(
                &format!("/api/v1/notices/{nid}"),
                &json!({"audience": [support], "expected_changes": "Fewer refusals in Spanish"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(res.json()["id"], nid.as_str());

        // Sam joins Support; a published notice shows in their unread list.
        app.acknowledge_as_support_setup().await;
        let unread = app
            .request_as(
                SAM,
                json_request(Method::GET, "/api/v1/notices/unread", &json!(null)),
            )
            .await;
        assert_eq!(unread.json()["count"], 0, "drafts are nobody's news");
        let published = publish(&app, &nid).await;
        assert_eq!(published["status"], "published");
        assert!(published["published_at"].is_string());
        let unread = app
            .request_as(
                SAM,
                json_request(Method::GET, "/api/v1/notices/unread", &json!(null)),
            )
            .await
            .json();
        assert_eq!(unread["count"], 1);
        assert_eq!(
            unread["items"][0]["expected_changes"],
            "Fewer refusals in Spanish"
        );
        let res = app
            .request_as(
                SAM,
                json_request(
                    Method::POST,
                    &format!("/api/v1/notices/{nid}/read"),
                    &json!({}),
                ),
            )
            .await;
        assert_eq!(res.status, StatusCode::NO_CONTENT);
        assert_eq!(
            needing(&app, SAM).await,
            [nid.as_str()],
            "read is not acknowledged: it stays until Support acknowledges it"
        );

        // Only a member acknowledges for a team.
        let res = app
            .request_as(
                PAT,
                json_request(
                    Method::POST,
                    &format!("/api/v1/notices/{nid}/acknowledgements"),
                    &json!({"team_id": support}),
                ),
            )
            .await;
        res.assert_error(StatusCode::FORBIDDEN, "forbidden", None);
        app.acknowledge_as_support(&nid).await;
        assert_eq!(needing(&app, SAM).await, Vec::<String>::new());
        let list = app
            .get(&format!("/api/v1/changes/{id}/notices"))
            .await
            .json();
        assert_eq!(list[0]["acknowledgements"][0]["team_name"], "Support");
        assert_eq!(list[0]["acknowledgements"][0]["user_name"], "Sam Support");

        // Editing a published notice publishes a new revision; acknowledgements start over.
        let res = app
            .put(
                &format!("/api/v1/notices/{nid}"),
                &json!({"audience": [support], "expected_changes": "Shorter answers everywhere"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let rev = res.json();
        assert_ne!(rev["id"], nid.as_str());
        assert_eq!(rev["previous_id"], nid.as_str());
        assert_eq!(rev["status"], "published");
        assert_eq!(rev["acknowledgements"], json!([]));
        let list = app
            .get(&format!("/api/v1/changes/{id}/notices"))
            .await
            .json();
        let old = list
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["id"] == nid.as_str())
            .unwrap();
        assert_eq!(old["status"], "superseded");
        assert_eq!(old["acknowledgements"].as_array().unwrap().len(), 1);
        let unread = app
            .request_as(
                SAM,
                json_request(Method::GET, "/api/v1/notices/unread", &json!(null)),
            )
            .await
            .json();
        assert_eq!(unread["count"], 1, "the revision is news again");
        // A superseded notice is not edited or acknowledged.
        let res = app
            .put(
                &format!("/api/v1/notices/{nid}"),
                &json!({"audience": [support], "expected_changes": "x"}),
            )
            .await;
        res.assert_error(StatusCode::CONFLICT, "conflict", None);

        let actions: Vec<String> = sqlx::query_scalar(
            "SELECT action FROM audit_log WHERE object_type = 'notice' ORDER BY at, id",
        )
        .fetch_all(&app.pool)
        .await
        .unwrap();
        assert_eq!(
            actions,
            [
                "notice.create",
                "notice.update",
                "notice.publish",
                "notice.acknowledge",
                "notice.update"
            ]
        );

        // Bad input is refused by field.
        let res = app
            .post(
                &format!("/api/v1/changes/{id}/notices"),
                &json!({"audience": ["nope"], "expected_changes": "x"}),
            )
            .await;
        res.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("audience[0]"),
        );
        let res = app
            .post(
                &format!("/api/v1/changes/{id}/notices"),
                &json!({"audience": [support], "expected_changes": "x", "planned_at": "Tuesday"}),
            )
            .await;
        res.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("planned_at"),
        );
    })
    .await;
}

#[tokio::test]
async fn the_canary_waits_for_a_notice_to_support_published_in_time() {
    each_database(|app| async move {
        let id = app.create_default().await; // standard risk: 24 h lead
        app.transition(&id, &json!({"action": "advance"})).await; // → eval
        let res = try_advance(&app, &id, "canary").await;
        res.assert_error(StatusCode::CONFLICT, "gate_not_satisfied", None);
        assert_eq!(
            res.message(),
            "entering Canary 5% needs: publish a notice to Support at least 24 h before the \
             canary (none published)"
        );
        let gate = app.get(&format!("/api/v1/changes/{id}/gate")).await.json();
        assert_eq!(gate["satisfied"], false);
        assert_eq!(gate["notices"][0]["requirement"], "published_before_canary");
        assert_eq!(gate["notices"][0]["lead_hours"], 24);

        // A notice to Marketing only does not count; one to Support published now is too late.
        let marketing = teams(&app)
            .await
            .iter()
            .find(|t| t["name"] == "Marketing")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let n = draft(&app, &id, &[&marketing], "Shorter answers").await;
        publish(&app, n["id"].as_str().unwrap()).await;
        let support = app.support_team().await;
        let n = draft(&app, &id, &[&support, &marketing], "Shorter answers").await;
        let nid = n["id"].as_str().unwrap().to_owned();
        publish(&app, &nid).await;
        let res = try_advance(&app, &id, "canary").await;
        res.assert_error(StatusCode::CONFLICT, "gate_not_satisfied", None);
        assert!(
            res.message()
                .contains("at least 24 h before the canary (the notice was published"),
            "{}",
            res.message()
        );

        // With the lead time at 0 (an admin's choice), publishing just before is enough.
        let mut policies = app.get("/api/v1/policies").await.json();
        assert_eq!(policies["standard"]["notice_lead_hours"], 24);
        assert_eq!(policies["low"]["notice_lead_hours"], 0);
        policies["standard"]["notice_lead_hours"] = json!(0);
        let res = app.put("/api/v1/policies", &policies).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let res = try_advance(&app, &id, "canary").await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(res.json()["change"]["state"], json!({"stage": "canary"}));
    })
    .await;
}

#[tokio::test]
async fn the_ramp_past_25_percent_waits_for_supports_acknowledgement() {
    each_database(|app| async move {
        let id = app.create_default().await;
        app.transition(&id, &json!({"action": "advance"})).await; // eval
        app.transition(&id, &json!({"action": "advance"})).await; // canary, notice published
        let detail = app.get(&format!("/api/v1/changes/{id}")).await.json();
        let ramp = detail["change"]["plan"]["ramp"].as_array().unwrap().clone();
        let wide = ramp
            .iter()
            .position(|s| s["percent"].as_f64().unwrap() > 25.0)
            .expect("a ramp step above 25 %");
        for step in 0..wide {
            let res = try_advance(&app, &id, &format!("ramp:{step}")).await;
            assert_eq!(res.status, StatusCode::OK, "step {step}: {}", res.text());
        }
        let res = try_advance(&app, &id, &format!("ramp:{wide}")).await;
        res.assert_error(StatusCode::CONFLICT, "gate_not_satisfied", None);
        assert!(
            res.message()
                .contains("Support has not acknowledged the notice of "),
            "{}",
            res.message()
        );
        let notices = app
            .get(&format!("/api/v1/changes/{id}/notices"))
            .await
            .json();
        let nid = notices[0]["id"].as_str().unwrap().to_owned();
        app.acknowledge_as_support(&nid).await;
        let res = try_advance(&app, &id, &format!("ramp:{wide}")).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    })
    .await;
}

#[tokio::test]
async fn rollbacks_full_rollouts_and_skips_tell_the_audience_by_themselves() {
    each_database(|app| async move {
        // Rollback with no notice ever written: Support hears of it.
        let id = app.create_default().await;
        app.transition(&id, &json!({"action": "advance"})).await;
        app.transition(&id, &json!({"action": "advance"})).await; // canary
        let marketing = teams(&app)
            .await
            .iter()
            .find(|t| t["name"] == "Marketing")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let support = app.support_team().await;
        let n = draft(&app, &id, &[&support, &marketing], "Shorter answers").await;
        publish(&app, n["id"].as_str().unwrap()).await;
        app.transition(
            &id,
            &json!({"action": "roll_back", "reason": "refusals doubled in Spanish"}),
        )
        .await;
        let list = app
            .get(&format!("/api/v1/changes/{id}/notices"))
            .await
            .json();
        let auto = &list[0];
        assert_eq!(auto["kind"], "rollback");
        assert_eq!(auto["status"], "published");
        assert_eq!(
            auto["expected_changes"],
            "Rolled back: users get the previous behaviour again; reason: refusals doubled \
             in Spanish."
        );
        let names: Vec<&str> = auto["audience"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["team_name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            ["Marketing", "Support"],
            "the latest notice's audience"
        );

        // All the way to 100 %: a `full` notice, to Support when nothing else was named.
        let id = app.create_default().await;
        let mut kinds = Vec::new();
        for _ in 0..10 {
            let d = app.get(&format!("/api/v1/changes/{id}")).await.json();
            if d["change"]["state"]["stage"] == "full" {
                break;
            }
            app.transition(&id, &json!({"action": "advance"})).await;
        }
        let list = app
            .get(&format!("/api/v1/changes/{id}/notices"))
            .await
            .json();
        for n in list.as_array().unwrap() {
            kinds.push(n["kind"].as_str().unwrap().to_owned());
        }
        assert_eq!(kinds[0], "full");
        assert!(
            list[0]["expected_changes"]
                .as_str()
                .unwrap()
                .starts_with("Live for everyone")
        );
        assert_eq!(list[0]["audience"][0]["team_name"], "Support");

        // A skip (admin, with a justification).
        let id = app.create_default().await;
        app.transition(&id, &json!({"action": "advance"})).await; // eval
        app.transition(&id, &json!({"action": "advance"})).await; // canary
        app.transition(
            &id,
            &json!({"action": "skip", "reason": "the same prompt already ran at 50 % last week"}),
        )
        .await;
        let list = app
            .get(&format!("/api/v1/changes/{id}/notices"))
            .await
            .json();
        assert_eq!(list[0]["kind"], "skipped");
        assert!(
            list[0]["expected_changes"]
                .as_str()
                .unwrap()
                .starts_with("Stage skipped: Canary 5% → "),
            "{}",
            list[0]["expected_changes"]
        );
    })
    .await;
}

#[tokio::test]
async fn a_notice_waits_for_the_teams_acknowledgement_not_for_being_read() {
    each_database(|app| async move {
        let support = app.acknowledge_as_support_setup().await;
        // Pat joins Support beside Sam: the team acknowledges once, for both.
        let pat = app.session(PAT).user_id.clone();
        let sam = app.session(SAM).user_id.clone();
        let res = app
            .put(
                &format!("/api/v1/teams/{support}"),
                &json!({"name": "Support", "members": [sam, pat]}),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());

        // A change in canary with a notice to Support, then rolled back: the rollback notice
        // goes to Support by itself.
        let id = app.create_default().await;
        app.transition(&id, &json!({"action": "advance"})).await; // eval
        app.transition(&id, &json!({"action": "advance"})).await; // canary
        let manual = draft(&app, &id, &[&support], "Shorter answers").await;
        let manual = manual["id"].as_str().unwrap().to_owned();
        publish(&app, &manual).await;
        app.transition(
            &id,
            &json!({"action": "roll_back", "reason": "refusals doubled in Spanish"}),
        )
        .await;
        let list = app
            .get(&format!("/api/v1/changes/{id}/notices"))
            .await
            .json();
        assert_eq!(list[0]["kind"], "rollback");
        let rollback = list[0]["id"].as_str().unwrap().to_owned();
        let before = needing(&app, SAM).await;
        assert!(
            before.contains(&rollback) && before.contains(&manual),
            "{before:?}"
        );

        // Sam reads everything: what stays is exactly what Support has not acknowledged.
        for n in &before {
            read(&app, SAM, n).await;
        }
        let before = needing(&app, SAM).await;
        let list = app
            .get(&format!("/api/v1/changes/{id}/notices"))
            .await
            .json();
        let unacknowledged: Vec<String> = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["status"] == "published" && n["acknowledgements"] == json!([]))
            .map(|n| n["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(before, unacknowledged);
        assert!(before.contains(&rollback) && before.contains(&manual));

        // Acknowledging the manual notice takes that one away, not the rollback notice.
        acknowledge(&app, SAM, &manual, &support).await;
        let after = needing(&app, SAM).await;
        let expected: Vec<String> = before.iter().filter(|n| **n != manual).cloned().collect();
        assert_eq!(after, expected);

        // Pat has read nothing: the acknowledged notice is still news to Pat until read.
        assert!(needing(&app, PAT).await.contains(&manual));
        read(&app, PAT, &manual).await;
        let pats = needing(&app, PAT).await;
        assert!(!pats.contains(&manual), "{pats:?}");
        assert!(pats.contains(&rollback), "{pats:?}");

        // Pat acknowledges the rollback for Support: gone for Sam, who read it; for Pat once
        // read (the console reads what it acknowledges).
        acknowledge(&app, PAT, &rollback, &support).await;
        assert!(!needing(&app, SAM).await.contains(&rollback));
        read(&app, PAT, &rollback).await;
        assert!(!needing(&app, PAT).await.contains(&rollback));

        // A user in no team of the audience never sees it.
        assert_eq!(
            needing(&app, "alex@example.com").await,
            Vec::<String>::new()
        );
    })
    .await;
}
