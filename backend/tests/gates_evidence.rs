//! Gates check evidence, not only signatures: each refusal of `app::gates::check` (no eval
//! result, a failing pass rate, a critical failure, too early, too few samples, a breach, a
//! criterion without data) is a 409 `gate_not_satisfied` naming what is missing, changes
//! nothing, and shows in the gate's status; with the evidence there the rollout moves. Also
//! the upload route's refusals, and the catalogue frozen at the canary (an edit makes a new
//! plan revision that resets sign-off).

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, each_database, json_request};
use serde_json::{Value, json};

fn transitions(id: &str) -> String {
    format!("/api/v1/changes/{id}/transitions")
}

fn eval_results(id: &str) -> String {
    format!("/api/v1/changes/{id}/eval-results")
}

/// A default change (standard plan: eval gate 90 % with `safety` and `pii` critical; canary
/// 5 % for 24 h; ramp steps of 4 h and 5 000 requests per arm) in `eval`.
async fn in_eval(app: &TestApp) -> String {
    let id = app.create_default().await;
    app.transition(&id, &json!({ "action": "advance" })).await;
    id
}

/// The default change at its canary (a passing eval result uploaded on the way).
async fn in_canary(app: &TestApp) -> String {
    let id = in_eval(app).await;
    let d = app.transition(&id, &json!({ "action": "advance" })).await;
    assert_eq!(d["change"]["state"], json!({ "stage": "canary" }));
    id
}

/// Signs the gate of `stage` and meets its notices, leaving the evidence as it is.
async fn sign_only(app: &TestApp, id: &str, stage: &str) {
    app.sign_gate(id, Some(stage)).await;
    app.meet_notice_gates(id, stage).await;
}

/// Asks to advance; asserts the 409 `gate_not_satisfied`, that nothing moved, and that the
/// message holds `needle`. Returns the message.
async fn refused_advance(app: &TestApp, id: &str, needle: &str) -> String {
    let body = app.with_revision(id, &json!({ "action": "advance" })).await;
    let res = app
        .rejects(
            json_request(Method::POST, &transitions(id), &body),
            StatusCode::CONFLICT,
            "gate_not_satisfied",
            None,
        )
        .await;
    let message = res.message();
    assert!(message.contains(needle), "{message}");
    message
}

/// The gate of the upcoming stage, and its evidence check labelled `label`.
async fn check_of(app: &TestApp, id: &str, label: &str) -> (Value, Value) {
    let gate = app.get(&format!("/api/v1/changes/{id}/gate")).await.json();
    let check = gate["evidence"]
        .as_array()
        .and_then(|e| e.iter().find(|c| c["label"] == label).cloned())
        .unwrap_or_else(|| panic!("no check {label} in {gate}"));
    (gate, check)
}

fn at(t: time::OffsetDateTime) -> String {
    rollgate::db::timestamp(t)
}

/// When the change entered the stage it is at.
async fn entered(app: &TestApp, id: &str) -> time::OffsetDateTime {
    let d = app.get(&format!("/api/v1/changes/{id}")).await.json();
    let state = serde_json::from_value(d["change"]["state"].clone()).expect("state");
    let at = rollgate::db::transitions::stage_entered_at(&app.pool, id, state)
        .await
        .expect("read")
        .expect("entered");
    time::OffsetDateTime::parse(&at, &time::format_description::well_known::Rfc3339).expect("time")
}

/// Sends one window pair through the ingestion route: `metrics` per arm as given.
async fn send(
    app: &TestApp,
    id: &str,
    start: time::OffsetDateTime,
    control: Value,
    candidate: Value,
) {
    let token = app
        .post(
            "/api/v1/tokens",
            &json!({ "name": format!("t {}", rollgate::db::new_id()), "change_id": id }),
        )
        .await
        .json()["secret"]
        .as_str()
        .expect("secret")
        .to_owned();
    let window = |variant: &str, m: &Value| {
        json!({
            "variant": variant,
            "segment": "all",
            "window_start": at(start),
            "window_end": at(start + time::Duration::seconds(1)),
            "requests": m["requests"],
            "metrics": m["metrics"],
        })
    };
    let res = app
        .request(
            axum::http::Request::post(format!("/api/v1/changes/{id}/metrics"))
                .header("content-type", "application/json")
                .header("authorization", format!("Bearer {token}"))
                .body(axum::body::Body::from(
                    json!({ "windows": [window("control", &control), window("candidate", &candidate)] })
                        .to_string(),
                ))
                .expect("request"),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
}

/// Cost per request only: `n` requests at a mean of `mean` dollars.
fn cost_only(n: u64, mean: f64) -> Value {
    json!({
        "requests": n,
        "metrics": { "cost_per_request": {
            "n": n, "sum": mean * n as f64, "sum_squares": (mean * mean + 0.0001) * n as f64,
        } },
    })
}

#[tokio::test]
async fn the_canary_is_refused_without_an_eval_result() {
    each_database(|app| async move {
        let id = in_eval(&app).await;
        sign_only(&app, &id, "canary").await;
        let message = refused_advance(
            &app,
            &id,
            "no eval result uploaded: upload one with `rollgate eval upload`",
        )
        .await;
        assert!(message.starts_with("entering Canary 5% is approved but waits for its evidence"));
        // The gate says the same, and that its sign-off is given.
        let (gate, check) = check_of(&app, &id, "Eval result").await;
        assert_eq!(gate["satisfied"], true);
        assert_eq!(check["satisfied"], false);
        assert!(gate["message"].as_str().unwrap().contains("no eval result"));
    })
    .await;
}

#[tokio::test]
async fn a_pass_rate_below_the_plan_is_refused_and_a_newer_passing_run_opens_the_gate() {
    each_database(|app| async move {
        let id = in_eval(&app).await;
        sign_only(&app, &id, "canary").await;
        let low = app.upload_eval(&id, 0.8, &[("format", 30)]).await;
        assert_eq!(low["meets_gate"], false);
        assert_eq!(
            low["problems"],
            json!(["pass rate 80.0 % is below the plan's 90.0 %"])
        );
        refused_advance(&app, &id, "pass rate 80.0 % is below the plan's 90.0 %").await;

        // The newest upload counts.
        app.upload_eval(&id, 0.95, &[("format", 12)]).await;
        let (gate, check) = check_of(&app, &id, "Eval result").await;
        assert_eq!(check["satisfied"], true, "{gate}");
        assert_eq!(gate["message"], "entering Canary 5% is approved");
        let body = app
            .with_revision(&id, &json!({ "action": "advance" }))
            .await;
        let res = app.post(&transitions(&id), &body).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(res.json()["change"]["state"], json!({ "stage": "canary" }));
    })
    .await;
}

#[tokio::test]
async fn a_failure_in_a_critical_category_is_refused() {
    each_database(|app| async move {
        let id = in_eval(&app).await;
        sign_only(&app, &id, "canary").await;
        app.upload_eval(&id, 0.99, &[("safety", 1), ("format", 3)])
            .await;
        refused_advance(&app, &id, "1 failure in the critical category safety").await;
    })
    .await;
}

#[tokio::test]
async fn leaving_the_canary_before_its_minimum_time_is_refused() {
    each_database(|app| async move {
        let id = in_canary(&app).await;
        sign_only(&app, &id, "ramp:0").await;
        let start = entered(&app, &id).await + time::Duration::seconds(1);
        app.send_healthy_windows(&id, start, 19_000, 1_000).await;
        refused_advance(&app, &id, "Canary 5% has run 0 h of its minimum 24 h").await;
        let (_, check) = check_of(&app, &id, "Minimum time in Canary 5%").await;
        assert_eq!(check["satisfied"], false);
        // The data itself is fine.
        let (_, data) = check_of(&app, &id, "Data for every criterion").await;
        assert_eq!(data["satisfied"], true, "{data}");
    })
    .await;
}

#[tokio::test]
async fn leaving_a_ramp_step_with_too_few_samples_per_arm_is_refused() {
    each_database(|app| async move {
        let id = in_canary(&app).await;
        let d = app.transition(&id, &json!({ "action": "advance" })).await;
        assert_eq!(d["change"]["state"], json!({ "stage": "ramp", "step": 0 }));
        sign_only(&app, &id, "ramp:1").await;
        app.backdate_history(&id, 5.0 * 3600.0).await;
        let start = entered(&app, &id).await + time::Duration::seconds(1);
        app.send_healthy_windows(&id, start, 9_000, 1_000).await;
        refused_advance(
            &app,
            &id,
            "Ramp 10% has 1000 requests on the candidate and 9000 on control; each arm needs \
             5000",
        )
        .await;
        // Enough of them opens it.
        app.send_healthy_windows(&id, start + time::Duration::seconds(5), 45_000, 5_000)
            .await;
        let body = app
            .with_revision(&id, &json!({ "action": "advance" }))
            .await;
        let res = app.post(&transitions(&id), &body).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    })
    .await;
}

#[tokio::test]
async fn a_criterion_in_breach_is_refused() {
    each_database(|app| async move {
        let id = in_canary(&app).await;
        sign_only(&app, &id, "ramp:0").await;
        app.backdate_history(&id, 25.0 * 3600.0).await;
        let start = entered(&app, &id).await + time::Duration::seconds(1);
        app.send_healthy_windows(&id, start, 19_000, 1_000).await;
        // Cost up 30 % where the plan tolerates 15 %.
        send(
            &app,
            &id,
            start + time::Duration::seconds(5),
            cost_only(190_000, 1.0),
            cost_only(10_000, 1.3),
        )
        .await;
        refused_advance(
            &app,
            &id,
            "a rollback criterion is in breach: cost_per_request in all",
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn a_criterion_without_data_is_refused_never_passed() {
    each_database(|app| async move {
        let id = in_canary(&app).await;
        sign_only(&app, &id, "ramp:0").await;
        app.backdate_history(&id, 25.0 * 3600.0).await;
        let start = entered(&app, &id).await + time::Duration::seconds(1);
        // Only cost arrives: quality, latency and errors have no data.
        send(
            &app,
            &id,
            start,
            cost_only(19_000, 1.0),
            cost_only(1_000, 1.0),
        )
        .await;
        refused_advance(
            &app,
            &id,
            "no data for shadow_eval_pass_rate, latency_p95_ms, hard_error_rate",
        )
        .await;
        let (_, check) = check_of(&app, &id, "Data for every criterion").await;
        assert_eq!(check["satisfied"], false);
        let (_, time_check) = check_of(&app, &id, "Minimum time in Canary 5%").await;
        assert_eq!(time_check["satisfied"], true);
    })
    .await;
}

#[tokio::test]
async fn with_its_evidence_the_rollout_moves_and_a_skip_needs_the_same() {
    each_database(|app| async move {
        let id = in_canary(&app).await;
        // An admin's skip over the first ramp step leaves the canary too: its time is due.
        let skip = app
            .with_revision(
                &id,
                &json!({ "action": "skip", "reason": "hotfix for the billing outage" }),
            )
            .await;
        sign_only(&app, &id, "ramp:1").await;
        let res = app
            .rejects(
                json_request(Method::POST, &transitions(&id), &skip),
                StatusCode::CONFLICT,
                "gate_not_satisfied",
                None,
            )
            .await;
        assert!(
            res.message().contains("of its minimum 24 h"),
            "{}",
            res.message()
        );

        // Time, samples and healthy data: the gate opens and every check says why.
        sign_only(&app, &id, "ramp:0").await;
        app.backdate_history(&id, 25.0 * 3600.0).await;
        let start = entered(&app, &id).await + time::Duration::seconds(1);
        app.send_healthy_windows(&id, start, 19_000, 1_000).await;
        let gate = app.get(&format!("/api/v1/changes/{id}/gate")).await.json();
        let evidence = gate["evidence"].as_array().expect("evidence");
        assert_eq!(evidence.len(), 3, "{gate}");
        assert!(evidence.iter().all(|c| c["satisfied"] == true), "{gate}");
        assert_eq!(gate["message"], "entering Ramp 10% is approved");
        let body = app
            .with_revision(&id, &json!({ "action": "advance" }))
            .await;
        let res = app.post(&transitions(&id), &body).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(
            res.json()["change"]["state"],
            json!({ "stage": "ramp", "step": 0 })
        );

        // Rolling back never waits for evidence.
        let back = app
            .with_revision(&id, &json!({ "action": "roll_back", "reason": "enough" }))
            .await;
        let res = app.post(&transitions(&id), &back).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    })
    .await;
}

#[tokio::test]
async fn pausing_never_waits_for_evidence() {
    each_database(|app| async move {
        let id = in_canary(&app).await;
        let body = app
            .with_revision(
                &id,
                &json!({ "action": "pause", "reason": "looking at cost" }),
            )
            .await;
        let res = app.post(&transitions(&id), &body).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    })
    .await;
}

fn upload(pass_rate: f64) -> Value {
    json!({ "pass_rate": pass_rate, "cases": 250, "failures": { "format": 4 },
            "run_url": "https://ci.example.com/runs/42" })
}

async fn stored(app: &TestApp, id: &str) -> usize {
    app.get(&eval_results(id))
        .await
        .json()
        .as_array()
        .expect("list")
        .len()
}

#[tokio::test]
async fn uploads_are_listed_newest_first_and_audited() {
    each_database(|app| async move {
        let id = in_eval(&app).await;
        let res = app.post(&eval_results(&id), &upload(0.91)).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        assert_eq!(
            res.header(axum::http::header::LOCATION),
            Some(eval_results(&id).as_str())
        );
        let first = res.json();
        assert_eq!(first["uploaded_by"], "Ana Owner");
        assert_eq!(first["meets_gate"], true);
        assert_eq!(first["failures"], json!({ "format": 4 }));
        let second = app
            .request_as(
                "erin@example.com",
                json_request(Method::POST, &eval_results(&id), &upload(0.5)),
            )
            .await;
        assert_eq!(second.status, StatusCode::CREATED, "{}", second.text());
        let list = app.get(&eval_results(&id)).await.json();
        assert_eq!(list[0]["id"], second.json()["id"]);
        assert_eq!(list[0]["uploaded_by"], "Erin Engineer");
        assert_eq!(list[0]["meets_gate"], false);
        assert_eq!(list[1]["id"], first["id"]);
        let audit = app
            .get(&format!(
                "/api/v1/audit?action=eval_result.upload&object_id={id}"
            ))
            .await
            .json();
        assert_eq!(audit["total"], 2, "{audit}");
        assert_eq!(audit["items"][0]["actor"], "erin@example.com");
    })
    .await;
}

#[tokio::test]
async fn the_upload_route_refuses_and_changes_nothing() {
    each_database(|app| async move {
        let draft = app.create_default().await;
        let id = in_eval(&app).await;

        // 401 without a caller.
        let res = app
            .anonymous(json_request(Method::POST, &eval_results(&id), &upload(0.9)))
            .await;
        res.assert_error(StatusCode::UNAUTHORIZED, "unauthorized", None);
        // 403 for roles that do not edit changes.
        for email in ["sam@example.com", "alex@example.com"] {
            let res = app
                .request_as(
                    email,
                    json_request(Method::POST, &eval_results(&id), &upload(0.9)),
                )
                .await;
            res.assert_error(StatusCode::FORBIDDEN, "forbidden", None);
        }
        // 422 naming the field.
        for (body, field) in [
            (json!({ "pass_rate": 1.5, "cases": 10 }), "pass_rate"),
            (json!({ "pass_rate": 0.9, "cases": 0 }), "cases"),
            (
                json!({ "pass_rate": 0.9, "cases": 10, "failures": { "safety": 11 } }),
                "failures.safety",
            ),
            (
                json!({ "pass_rate": 0.9, "cases": 10, "run_url": "ftp://x" }),
                "run_url",
            ),
            (json!({ "cases": 10 }), "pass_rate"),
            (
                json!({ "pass_rate": 0.9, "cases": 10, "score": 3 }),
                "score",
            ),
        ] {
            let res = app.post(&eval_results(&id), &body).await;
            res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation", Some(field));
        }
        // 409 outside eval, naming where the change is.
        let res = app.post(&eval_results(&draft), &upload(0.9)).await;
        res.assert_error(StatusCode::CONFLICT, "conflict", None);
        assert_eq!(
            res.message(),
            "eval results are uploaded while the change is in eval; it is in Draft"
        );
        // 404 for no change.
        let res = app
            .post(&eval_results("no-such-change"), &upload(0.9))
            .await;
        res.assert_error(StatusCode::NOT_FOUND, "not_found", None);
        assert_eq!(stored(&app, &id).await, 0);
        assert_eq!(stored(&app, &draft).await, 0);
        let audit = app
            .get("/api/v1/audit?action=eval_result.upload")
            .await
            .json();
        assert_eq!(audit["total"], 0, "{audit}");

        // Once the canary started, the eval is over.
        let d = app.transition(&id, &json!({ "action": "advance" })).await;
        assert_eq!(d["change"]["state"], json!({ "stage": "canary" }));
        let before = stored(&app, &id).await;
        let res = app.post(&eval_results(&id), &upload(0.9)).await;
        res.assert_error(StatusCode::CONFLICT, "conflict", None);
        assert_eq!(
            res.message(),
            "eval results are uploaded while the change is in eval; it is in Canary 5%"
        );
        assert_eq!(stored(&app, &id).await, before);
    })
    .await;
}

#[tokio::test]
async fn once_the_canary_started_a_catalogue_edit_is_a_new_plan_revision_that_resets_sign_off() {
    each_database(|app| async move {
        let id = in_canary(&app).await;
        app.sign_gate(&id, Some("ramp:0")).await;
        let gate = app.get(&format!("/api/v1/changes/{id}/gate")).await.json();
        assert!(gate["missing"].as_array().unwrap().is_empty(), "{gate}");
        let signed_at = gate["plan_revision"].as_i64().unwrap();

        let catalogue = app
            .get(&format!("/api/v1/changes/{id}/catalogue"))
            .await
            .json();
        let mut metrics = catalogue["metrics"].as_array().cloned().unwrap();
        metrics.push(json!({
            "key": "escalation_rate", "name": "Escalations to a person", "kind": "rate",
            "family": "quality", "good": "down", "unit": "",
        }));
        let res = app
            .put(
                &format!("/api/v1/changes/{id}/catalogue"),
                &json!({ "metrics": metrics }),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());

        let gate = app.get(&format!("/api/v1/changes/{id}/gate")).await.json();
        assert!(
            gate["plan_revision"].as_i64().unwrap() > signed_at,
            "{gate}"
        );
        assert!(gate["approvals"].as_array().unwrap().is_empty(), "{gate}");
        assert!(!gate["missing"].as_array().unwrap().is_empty(), "{gate}");
        let audit = app
            .get(&format!(
                "/api/v1/audit?action=catalogue.update&object_id={id}"
            ))
            .await
            .json();
        assert_eq!(
            audit["items"][0]["after"]["new_plan_revision"], true,
            "{audit}"
        );

        // The criteria are in the plan, frozen since the eval gate.
        let detail = app.get(&format!("/api/v1/changes/{id}")).await.json();
        let mut edit = common::update_of(&detail);
        edit["plan"]["criteria"][0]["threshold"] = json!(0.5);
        let res = app.put(&format!("/api/v1/changes/{id}"), &edit).await;
        res.assert_error(StatusCode::CONFLICT, "frozen", None);
    })
    .await;
}
