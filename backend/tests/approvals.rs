//! Approval gates: who must sign, self-approval, plan edits resetting sign-off, rejections,
//! concurrent signatures, stale revisions and the inbox.

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, each_database, json_request, new_change, update_of};
use serde_json::{Value, json};

const ERIN: &str = "erin@example.com"; // engineer, the author below
const ELI: &str = "eli@example.com"; // engineer
const PAT: &str = "pat@example.com"; // pm
const SAM: &str = "sam@example.com"; // support
const ALEX: &str = "alex@example.com"; // approver
const JO: &str = "jo@example.com"; // approver

/// A standard-risk change created by Erin.
async fn create_as_erin(app: &TestApp) -> String {
    let res = app
        .request_as(
            ERIN,
            json_request(Method::POST, "/api/v1/changes", &new_change()),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let id = common::id_of(&res.json());
    // Standard risk: the canary also needs a notice to Support published a day before.
    app.publish_support_notice(&id, 25).await;
    id
}

async fn gate(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/api/v1/changes/{id}/gate")).await.json()
}

async fn sign(app: &TestApp, who: &str, id: &str, body: Value) -> common::TestResponse {
    app.request_as(
        who,
        json_request(
            Method::POST,
            &format!("/api/v1/changes/{id}/approvals"),
            &body,
        ),
    )
    .await
}

fn approve(role: &str, revision: &Value) -> Value {
    json!({ "decision": "approve", "role": role, "revision": revision, "comment": "looks good" })
}

async fn advance_as(app: &TestApp, who: &str, id: &str) -> common::TestResponse {
    let body = app.with_revision(id, &json!({ "action": "advance" })).await;
    app.request_as(
        who,
        json_request(
            Method::POST,
            &format!("/api/v1/changes/{id}/transitions"),
            &body,
        ),
    )
    .await
}

async fn approvals_count(app: &TestApp) -> i64 {
    rollgate::db::approvals::count(&app.pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn a_gate_refuses_naming_who_is_missing_until_signed() {
    each_database(|app| async move {
        let id = create_as_erin(&app).await;
        assert_eq!(advance_as(&app, ERIN, &id).await.status, StatusCode::OK); // → eval
        let g = gate(&app, &id).await;
        assert_eq!(g["stage"], json!({ "stage": "canary" }));
        assert_eq!(
            g["required"],
            json!([{ "role": "engineer", "count": 1 }, { "role": "pm", "count": 1 }])
        );
        assert_eq!(g["author"]["email"], ERIN);
        // The eval result is there (its own refusals are `tests/gates_evidence.rs`).
        app.upload_eval(&id, 0.95, &[]).await;

        let res = advance_as(&app, ERIN, &id).await;
        res.assert_error(StatusCode::CONFLICT, "gate_not_satisfied", None);
        assert_eq!(
            res.message(),
            "entering Canary 5% needs 1 more approval from engineer and 1 from pm"
        );
        let g = sign(&app, ELI, &id, approve("engineer", &g["revision"]))
            .await
            .json();
        assert_eq!(g["missing"], json!([{ "role": "pm", "missing": 1 }]));
        let res = advance_as(&app, ERIN, &id).await;
        assert_eq!(
            res.message(),
            "entering Canary 5% needs 1 more approval from pm"
        );
        let g = sign(&app, PAT, &id, approve("pm", &g["revision"]))
            .await
            .json();
        assert_eq!(g["satisfied"], true);
        assert_eq!(g["approvals"].as_array().unwrap().len(), 2);
        let a = &g["approvals"][0];
        assert_eq!(a["user"]["email"], ELI);
        assert_eq!(a["role"], "engineer");
        assert_eq!(a["comment"], "looks good");
        assert_eq!(a["evidence"]["plan_revision"], g["plan_revision"]);
        assert_eq!(a["evidence"]["verdicts"], json!([]));
        let res = advance_as(&app, ERIN, &id).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        // Rolling back never waits for a gate; an approver may do it.
        let body = app
            .with_revision(
                &id,
                &json!({ "action": "roll_back", "reason": "cost +20 %" }),
            )
            .await;
        let res = app
            .request_as(
                ALEX,
                json_request(
                    Method::POST,
                    &format!("/api/v1/changes/{id}/transitions"),
                    &body,
                ),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    })
    .await;
}

#[tokio::test]
async fn authors_cannot_sign_and_roles_must_be_held_and_asked_for() {
    each_database(|app| async move {
        let id = create_as_erin(&app).await;
        let rev = gate(&app, &id).await["revision"].clone();
        let before = approvals_count(&app).await;
        // The author (anyone holding the role) may not sign as pm: separation of duties.
        let own = app.post("/api/v1/changes", &new_change()).await.json();
        let own_id = own["change"]["id"].as_str().unwrap().to_string();
        let own_rev = gate(&app, &own_id).await["revision"].clone();
        let res = sign(&app, common::OWNER, &own_id, approve("pm", &own_rev)).await;
        res.assert_error(StatusCode::FORBIDDEN, "forbidden", None);
        assert!(
            res.message().contains("you created this change"),
            "{}",
            res.message()
        );
        sign(&app, SAM, &id, approve("pm", &rev))
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden", None);
        sign(&app, ALEX, &id, approve("approver", &rev))
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden", None);
        // A stale revision is a conflict naming the current one.
        let res = sign(&app, PAT, &id, approve("pm", &json!(99))).await;
        res.assert_error(StatusCode::CONFLICT, "conflict", None);
        assert!(
            res.message().contains("current revision is 1"),
            "{}",
            res.message()
        );
        assert_eq!(approvals_count(&app).await, before);
        // But the author may sign as the requesting engineer; then only the pm is missing.
        let g = sign(&app, ERIN, &id, approve("engineer", &rev))
            .await
            .json();
        assert_eq!(g["missing"], json!([{"role": "pm", "missing": 1}]), "{g}");
    })
    .await;
}

#[tokio::test]
async fn whoever_edited_a_change_signs_only_as_its_engineer() {
    each_database(|app| async move {
        let id = create_as_erin(&app).await;
        let detail = app.get(&format!("/api/v1/changes/{id}")).await.json();
        let mut edit = update_of(&detail);
        edit["expected_changes"] = json!("Shorter answers, and no more emoji.");
        // Ana holds every role, PM included, and edits Erin's draft.
        let res = app.put(&format!("/api/v1/changes/{id}"), &edit).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let g = gate(&app, &id).await;
        assert_eq!(g["author"]["email"], ERIN);
        assert_eq!(g["editors"][0]["email"], common::OWNER, "{g}");
        let before = approvals_count(&app).await;
        let res = sign(&app, common::OWNER, &id, approve("pm", &g["revision"])).await;
        res.assert_error(StatusCode::FORBIDDEN, "forbidden", None);
        assert!(
            res.message().contains("you edited this change"),
            "{}",
            res.message()
        );
        assert_eq!(approvals_count(&app).await, before);
        // A PM who did not touch it signs; the editor may still sign as the engineer.
        sign(&app, PAT, &id, approve("pm", &g["revision"])).await;
        let g = sign(
            &app,
            common::OWNER,
            &id,
            approve("engineer", &g["revision"]),
        )
        .await
        .json();
        assert_eq!(g["satisfied"], true, "{g}");
    })
    .await;
}

#[tokio::test]
async fn whoever_edited_only_the_catalogue_signs_only_as_its_engineer() {
    each_database(|app| async move {
        let id = create_as_erin(&app).await;
        let uri = format!("/api/v1/changes/{id}/catalogue");
        let mut metrics = app.get(&uri).await.json()["metrics"].clone();
        metrics[0]["name"] = json!("Reworded by Ana");
        // Ana holds every role, PM included, and edits only the catalogue of Erin's draft.
        let res = app.put(&uri, &json!({ "metrics": metrics })).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let g = gate(&app, &id).await;
        assert_eq!(g["editors"][0]["email"], common::OWNER, "{g}");
        let before = approvals_count(&app).await;
        let res = sign(&app, common::OWNER, &id, approve("pm", &g["revision"])).await;
        res.assert_error(StatusCode::FORBIDDEN, "forbidden", None);
        assert!(
            res.message().contains("you edited this change"),
            "{}",
            res.message()
        );
        assert_eq!(approvals_count(&app).await, before);
        // Another PM signs.
        let res = sign(&app, PAT, &id, approve("pm", &g["revision"])).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let g = res.json();
        assert!(
            !g["missing"].to_string().contains("\"pm\""),
            "the PM signature counts: {g}"
        );
    })
    .await;
}

#[tokio::test]
async fn editing_the_plan_resets_sign_off() {
    each_database(|app| async move {
        let id = create_as_erin(&app).await;
        let g = gate(&app, &id).await;
        sign(&app, ELI, &id, approve("engineer", &g["revision"])).await;
        let g = sign(&app, PAT, &id, approve("pm", &g["revision"]))
            .await
            .json();
        assert_eq!(g["satisfied"], true);

        let detail = app.get(&format!("/api/v1/changes/{id}")).await.json();
        let mut edit = update_of(&detail);
        edit["plan"]["canary"]["percent"] = json!(2.0);
        let res = app
            .request_as(
                ERIN,
                json_request(Method::PUT, &format!("/api/v1/changes/{id}"), &edit),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());

        let g = gate(&app, &id).await;
        assert_eq!(g["satisfied"], false);
        assert_eq!(g["approvals"], json!([]));
        assert_eq!(g["plan_revision"], 2);
        // The old signatures are kept, marked as no longer current; signing again counts.
        let g = sign(&app, ELI, &id, approve("engineer", &g["revision"]))
            .await
            .json();
        assert_eq!(g["missing"], json!([{ "role": "pm", "missing": 1 }]));
    })
    .await;
}

#[tokio::test]
async fn a_rejection_blocks_until_the_rejecter_approves() {
    each_database(|app| async move {
        let id = create_as_erin(&app).await;
        app.transition(&id, &json!({ "action": "advance" })).await;
        app.transition(&id, &json!({ "action": "advance" })).await; // canary
        let g = gate(&app, &id).await;
        assert_eq!(g["required"], json!([{ "role": "approver", "count": 1 }]));
        let reject = json!({ "decision": "reject", "role": "approver", "revision": g["revision"],
                             "comment": "cost is up 18 % in free / es" });
        let g = sign(&app, ALEX, &id, reject.clone()).await.json();
        assert_eq!(g["satisfied"], false);
        assert_eq!(g["rejections"][0]["user"]["email"], ALEX);
        // Rejecting again is idempotent.
        let before = approvals_count(&app).await;
        assert_eq!(sign(&app, ALEX, &id, reject).await.status, StatusCode::OK);
        assert_eq!(approvals_count(&app).await, before);
        let g = sign(&app, JO, &id, approve("approver", &g["revision"]))
            .await
            .json();
        assert!(g["missing"].as_array().unwrap().is_empty());
        let res = advance_as(&app, ERIN, &id).await;
        res.assert_error(StatusCode::CONFLICT, "gate_not_satisfied", None);
        assert!(
            res.message().contains("rejected by alex@example.com"),
            "{}",
            res.message()
        );
        sign(&app, ALEX, &id, approve("approver", &g["revision"])).await;
        app.meet_evidence(&id, &json!({ "action": "advance" }))
            .await;
        assert_eq!(advance_as(&app, ERIN, &id).await.status, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn concurrent_signatures_count_once_each() {
    each_database(|app| async move {
        let id = create_as_erin(&app).await;
        let rev = gate(&app, &id).await["revision"].clone();
        let (a, b, c) = tokio::join!(
            sign(&app, ELI, &id, approve("engineer", &rev)),
            sign(&app, PAT, &id, approve("pm", &rev)),
            sign(&app, PAT, &id, approve("pm", &rev)),
        );
        for r in [&a, &b, &c] {
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
        }
        assert_eq!(approvals_count(&app).await, 2);
        let g = gate(&app, &id).await;
        assert_eq!(g["satisfied"], true);
        assert_eq!(g["approvals"].as_array().unwrap().len(), 2);
    })
    .await;
}

#[tokio::test]
async fn high_risk_needs_a_second_approver_for_full_traffic() {
    each_database(|app| async move {
        let mut body = new_change();
        body["risk"] = json!("high");
        let id = common::id_of(&app.create(&body).await);
        // Through the canary and the first three ramp steps.
        for _ in 0..5 {
            app.transition(&id, &json!({ "action": "advance" })).await;
        }
        let g = gate(&app, &id).await;
        assert_eq!(g["stage"], json!({ "stage": "ramp", "step": 3 }));
        assert_eq!(g["gates"], json!(["ramp", "full_traffic"]));
        assert_eq!(
            g["required"],
            json!([{ "role": "engineer", "count": 1 }, { "role": "pm", "count": 1 },
                   { "role": "approver", "count": 2 }])
        );
    })
    .await;
}

#[tokio::test]
async fn the_inbox_lists_the_longest_waiting_gate_first() {
    each_database(|app| async move {
        let first = create_as_erin(&app).await;
        let second = create_as_erin(&app).await;
        let waiting = |app: TestApp| async move {
            let res = app
                .request_as(
                    PAT,
                    axum::http::Request::get("/api/v1/approvals?scope=waiting_for_me")
                        .body(axum::body::Body::empty())
                        .unwrap(),
                )
                .await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.text());
            res.json()["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    (
                        i["change_id"].as_str().unwrap().to_owned(),
                        i["waiting_since"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        };
        let items = waiting(app.clone()).await;
        let ids: Vec<&str> = items.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(ids, [first.as_str(), second.as_str()]);
        let detail = app.get(&format!("/api/v1/changes/{first}")).await.json();
        assert_eq!(items[0].1, detail["change"]["updated_at"].as_str().unwrap());
        // Editing the first change's plan opens its gate afresh: it goes to the back.
        let mut edit = update_of(&detail);
        edit["plan"]["canary"]["percent"] = json!(2.0);
        let res = app
            .request_as(
                ERIN,
                json_request(Method::PUT, &format!("/api/v1/changes/{first}"), &edit),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let ids: Vec<String> = waiting(app.clone())
            .await
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(ids, [second, first]);
    })
    .await;
}

#[tokio::test]
async fn the_inbox_shows_what_waits_for_whom() {
    each_database(|app| async move {
        let id = create_as_erin(&app).await;
        let inbox = |who: &'static str, scope: &'static str| {
            let app = app.clone();
            async move {
                let res = app
                    .request_as(
                        who,
                        axum::http::Request::get(format!("/api/v1/approvals?scope={scope}"))
                            .body(axum::body::Body::empty())
                            .unwrap(),
                    )
                    .await;
                assert_eq!(res.status, StatusCode::OK, "{}", res.text());
                res.json()["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["change_id"].as_str().unwrap().to_owned())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(inbox(PAT, "waiting_for_me").await, vec![id.clone()]);
        assert_eq!(inbox(ELI, "waiting_for_me").await, vec![id.clone()]);
        // The author's own request (as engineer) is still theirs to make.
        assert_eq!(inbox(ERIN, "waiting_for_me").await, vec![id.clone()]);
        assert_eq!(inbox(SAM, "waiting_for_others").await, vec![id.clone()]);
        let rev = gate(&app, &id).await["revision"].clone();
        sign(&app, ERIN, &id, approve("engineer", &rev)).await;
        assert!(inbox(ERIN, "waiting_for_me").await.is_empty());
        assert!(inbox(ELI, "waiting_for_me").await.is_empty());
        assert_eq!(inbox(ERIN, "waiting_for_others").await, vec![id.clone()]);
        sign(&app, PAT, &id, approve("pm", &rev)).await;
        assert!(inbox(PAT, "waiting_for_me").await.is_empty());
        // Engineer and pm have signed: the gate is satisfied and waits for no one.
        assert!(inbox(PAT, "waiting_for_others").await.is_empty());
        assert!(inbox(ERIN, "waiting_for_others").await.is_empty());
        assert_eq!(inbox(PAT, "decided").await, vec![id.clone()]);
    })
    .await;
}
