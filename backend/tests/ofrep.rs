//! OpenFeature Remote Evaluation Protocol (`/ofrep/v1`): a change as a flag, its key, who may
//! evaluate it, every bad input in the protocol's error shape, and the variant a context gets
//! at each stage of the rollout, rollback included.

mod common;

use axum::http::{Method, StatusCode, header};
use common::{TestApp, each_database, id_of, new_change, raw_request, update_of};
use serde_json::{Value, json};
use shared::assignment::bucket;

const FLAGS: &str = "/ofrep/v1/evaluate/flags";

/// How a request carries its credentials.
#[derive(Clone, Copy)]
enum Auth<'a> {
    None,
    Bearer(&'a str),
    ApiKey(&'a str),
    /// The default test user's console session.
    Session,
}

async fn call(
    app: &TestApp,
    uri: &str,
    auth: Auth<'_>,
    content_type: Option<&str>,
    body: impl Into<axum::body::Body>,
    if_none_match: Option<&str>,
) -> common::TestResponse {
    let mut req = raw_request(Method::POST, uri, content_type, body);
    let headers = req.headers_mut();
    match auth {
        Auth::None => {}
        Auth::Bearer(secret) => {
            headers.insert(
                header::AUTHORIZATION,
                format!("Bearer {secret}").parse().expect("header"),
            );
        }
        Auth::ApiKey(secret) => {
            headers.insert("x-api-key", secret.parse().expect("header"));
        }
        Auth::Session => return app.request(req).await,
    }
    if let Some(tag) = if_none_match {
        headers.insert(header::IF_NONE_MATCH, tag.parse().expect("header"));
    }
    app.anonymous(req).await
}

/// Evaluates `key` for `context` with `token`.
async fn evaluate(app: &TestApp, token: &str, key: &str, context: Value) -> common::TestResponse {
    let body = json!({ "context": context }).to_string();
    call(
        app,
        &format!("{FLAGS}/{key}"),
        Auth::Bearer(token),
        Some("application/json"),
        body,
        None,
    )
    .await
}

/// Asserts an OFREP failure: status, `errorCode`, the flag key when one was asked for, and a
/// non-empty `errorDetails`.
fn assert_failure(res: &common::TestResponse, status: StatusCode, code: &str, key: Option<&str>) {
    let body = res.json();
    assert_eq!(res.status, status, "{body}");
    assert_eq!(body["errorCode"], code, "{body}");
    assert_eq!(body["key"].as_str(), key, "{body}");
    assert!(
        body["errorDetails"].as_str().is_some_and(|d| !d.is_empty()),
        "{body}"
    );
    assert!(
        body.get("error").is_none(),
        "the API's shape, not OFREP's: {body}"
    );
}

/// A service token with `scopes`, for `change_id` or every change; its secret.
/// The flag key of a change detail.
fn flag_key_of(detail: &Value) -> String {
    detail["change"]["flag_key"]
        .as_str()
        .expect("a flag key")
        .to_owned()
}

async fn token(app: &TestApp, scopes: &[&str], change_id: Option<&str>) -> String {
    let res = app
        .post(
            "/api/v1/tokens",
            &json!({ "name": "billing-api", "scopes": scopes, "change_id": change_id }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    res.json()["secret"].as_str().expect("secret").to_owned()
}

/// A targeting key whose bucket in `flag` satisfies `pred`.
fn user_where(flag: &str, pred: impl Fn(u16) -> bool) -> String {
    (0..)
        .map(|i| format!("user-{i}"))
        .find(|k| pred(bucket(flag, k)))
        .expect("some key")
}

#[tokio::test]
async fn a_change_has_a_unique_flag_key_editable_while_a_draft() {
    each_database(|app| async move {
        let first = app.create(&new_change()).await;
        let key = first["change"]["flag_key"]
            .as_str()
            .expect("flag_key")
            .to_owned();
        assert_eq!(key, "shorter-system-prompt-for-billing-answers");
        let id = id_of(&first);
        let list = app.get("/api/v1/changes").await.json();
        assert_eq!(list["items"][0]["flag_key"], key.as_str());

        // The same title again: the slug is taken, so the new key carries the id's end.
        let second = app.create(&new_change()).await;
        let other = second["change"]["flag_key"]
            .as_str()
            .expect("flag_key")
            .to_owned();
        assert!(other.starts_with(&format!("{key}-")), "{other}");
        assert!(shared::validate::flag_key(&other).is_ok(), "{other}");

        let put = |detail: &Value, flag_key: Value| {
            let mut body = update_of(detail);
            body["flag_key"] = flag_key;
            body
        };
        let uri = format!("/api/v1/changes/{id}");
        for bad in [
            json!("Billing Prompt"),
            json!(""),
            json!("-x"),
            json!("a".repeat(65)),
        ] {
            app.rejects(
                common::json_request(Method::PUT, &uri, &put(&first, bad)),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                Some("flag_key"),
            )
            .await;
        }
        let taken = app.put(&uri, &put(&first, json!(other))).await;
        taken.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("flag_key"),
        );
        assert_eq!(
            app.revision_of(&id).await,
            1,
            "a refused edit changed the change"
        );

        let renamed = app
            .put(&uri, &put(&first, json!("billing-prompt.v2")))
            .await;
        assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text());
        let renamed = renamed.json();
        assert_eq!(renamed["change"]["flag_key"], "billing-prompt.v2");
        // An edit without the field keeps the key.
        let kept = app.put(&uri, &update_of(&renamed)).await.json();
        assert_eq!(kept["change"]["flag_key"], "billing-prompt.v2");

        // Once the rollout started, the key is frozen with the rest.
        let moved = app.transition(&id, &json!({ "action": "advance" })).await;
        let frozen = app
            .put(&uri, &put(&moved, json!("billing-prompt-v3")))
            .await;
        frozen.assert_error(StatusCode::CONFLICT, "frozen", None);
        let detail = app.get(&uri).await.json();
        assert_eq!(detail["change"]["flag_key"], "billing-prompt.v2");
    })
    .await;
}

#[tokio::test]
async fn only_evaluate_tokens_may_evaluate() {
    each_database(|app| async move {
        let detail = app.create(&new_change()).await;
        let key = flag_key_of(&detail);
        let uri = format!("{FLAGS}/{key}");
        let body = json!({ "context": { "targetingKey": "u1" } }).to_string();
        let json = Some("application/json");
        let evaluator = token(&app, &["evaluate"], None).await;
        let ingester = token(&app, &["ingest"], None).await;

        for single in [true, false] {
            let uri = if single { uri.as_str() } else { FLAGS };
            let res = call(&app, uri, Auth::None, json, body.clone(), None).await;
            assert_failure(&res, StatusCode::UNAUTHORIZED, "GENERAL", None);
            assert_eq!(res.header(header::WWW_AUTHENTICATE), Some("Bearer"));
            let res = call(
                &app,
                uri,
                Auth::Bearer("rg_ing_nope"),
                json,
                body.clone(),
                None,
            )
            .await;
            assert_failure(&res, StatusCode::UNAUTHORIZED, "GENERAL", None);
            let res = call(&app, uri, Auth::Bearer(&ingester), json, body.clone(), None).await;
            assert_failure(&res, StatusCode::FORBIDDEN, "GENERAL", None);
            assert!(!res.text().contains(&ingester), "the secret is echoed");
            let res = call(&app, uri, Auth::Session, json, body.clone(), None).await;
            assert_failure(&res, StatusCode::FORBIDDEN, "GENERAL", None);
            for auth in [Auth::Bearer(&evaluator), Auth::ApiKey(&evaluator)] {
                let res = call(&app, uri, auth, json, body.clone(), None).await;
                assert_eq!(res.status, StatusCode::OK, "{}", res.text());
            }
        }

        // A token for another change does not see this flag.
        let other = app.create_default().await;
        let narrow = token(&app, &["evaluate"], Some(&other)).await;
        let res = call(&app, &uri, Auth::Bearer(&narrow), json, body.clone(), None).await;
        assert_failure(&res, StatusCode::NOT_FOUND, "FLAG_NOT_FOUND", Some(&key));
        let bulk = call(&app, FLAGS, Auth::Bearer(&narrow), json, body.clone(), None).await;
        let flags = bulk.json()["flags"].as_array().expect("flags").clone();
        assert_eq!(flags.len(), 1, "{flags:?}");
        assert_eq!(flags[0]["metadata"]["changeId"], other.as_str());

        // A revoked token stops at once.
        let tokens = app.get("/api/v1/tokens").await.json();
        let id = tokens
            .as_array()
            .expect("tokens")
            .iter()
            .find(|t| {
                t["prefix"]
                    .as_str()
                    .is_some_and(|p| evaluator.starts_with(p))
            })
            .expect("the evaluate token")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let revoked = app
            .request(raw_request(
                Method::DELETE,
                &format!("/api/v1/tokens/{id}"),
                None,
                "",
            ))
            .await;
        assert!(revoked.status.is_success(), "{}", revoked.text());
        let res = call(&app, &uri, Auth::Bearer(&evaluator), json, body, None).await;
        assert_failure(&res, StatusCode::UNAUTHORIZED, "GENERAL", None);
    })
    .await;
}

#[tokio::test]
async fn bad_input_gets_the_protocols_error_shape() {
    each_database(|app| async move {
        let detail = app.create(&new_change()).await;
        let key = flag_key_of(&detail);
        let secret = token(&app, &["evaluate"], None).await;
        let single = format!("{FLAGS}/{key}");
        let json = Some("application/json");
        let huge = format!(
            "{{\"context\": {{\"targetingKey\": \"u1\", \"x\": \"{}\"}}}}",
            "a".repeat(1024 * 1024)
        );
        let cases: [(&str, Option<&str>, StatusCode, &str); 9] = [
            (
                "{\"context\": ",
                json,
                StatusCode::BAD_REQUEST,
                "PARSE_ERROR",
            ),
            ("[1, 2]", json, StatusCode::BAD_REQUEST, "PARSE_ERROR"),
            (
                "{\"context\": \"u1\"}",
                json,
                StatusCode::BAD_REQUEST,
                "INVALID_CONTEXT",
            ),
            (
                "{\"context\": {\"targetingKey\": 7}}",
                json,
                StatusCode::BAD_REQUEST,
                "INVALID_CONTEXT",
            ),
            (
                "{\"context\": {}}",
                json,
                StatusCode::BAD_REQUEST,
                "TARGETING_KEY_MISSING",
            ),
            ("{}", json, StatusCode::BAD_REQUEST, "TARGETING_KEY_MISSING"),
            (
                "{\"context\": {\"targetingKey\": \"\"}}",
                json,
                StatusCode::BAD_REQUEST,
                "TARGETING_KEY_MISSING",
            ),
            (
                huge.as_str(),
                json,
                StatusCode::PAYLOAD_TOO_LARGE,
                "GENERAL",
            ),
            (
                "{\"context\": {\"targetingKey\": \"u1\"}}",
                Some("text/plain"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "GENERAL",
            ),
        ];
        for (body, content_type, status, code) in cases {
            let what = &body[..body.len().min(40)];
            // The single route names the flag in failures it reads the body for.
            let named = (status == StatusCode::BAD_REQUEST).then_some(key.as_str());
            let res = call(
                &app,
                &single,
                Auth::Bearer(&secret),
                content_type,
                body.to_owned(),
                None,
            )
            .await;
            eprintln!("{what} → {} {}", res.status, res.text());
            assert_failure(&res, status, code, named);
            let res = call(
                &app,
                FLAGS,
                Auth::Bearer(&secret),
                content_type,
                body.to_owned(),
                None,
            )
            .await;
            assert_failure(&res, status, code, None);
        }

        let res = evaluate(
            &app,
            &secret,
            "no-such-flag",
            json!({ "targetingKey": "u1" }),
        )
        .await;
        assert_failure(
            &res,
            StatusCode::NOT_FOUND,
            "FLAG_NOT_FOUND",
            Some("no-such-flag"),
        );
        // Nothing was written by any of it.
        assert_eq!(app.counts().await, (1, 0));
    })
    .await;
}

/// A value, variant, reason and stage, as one evaluation answered them.
fn answer(res: &common::TestResponse) -> (Value, String, String, String) {
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let b = res.json();
    (
        b["value"].clone(),
        b["variant"].as_str().expect("variant").to_owned(),
        b["reason"].as_str().expect("reason").to_owned(),
        b["metadata"]["stage"].as_str().expect("stage").to_owned(),
    )
}

#[tokio::test]
async fn the_variant_follows_the_rollout_and_a_rollback_returns_everyone_to_control() {
    each_database(|app| async move {
        let detail = app.create(&new_change()).await;
        let id = id_of(&detail);
        let key = flag_key_of(&detail);
        let baseline = detail["change"]["baseline"].clone();
        let candidate = detail["change"]["candidate"].clone();
        let secret = token(&app, &["evaluate"], None).await;
        // The standard plan's canary (5 %) reaches staff only.
        let inside = user_where(&key, |b| b < 500);
        let above = user_where(&key, |b| b >= 500);
        let staff = |user: &str| json!({ "targetingKey": user, "internal": true });
        let customer = |user: &str| json!({ "targetingKey": user, "plan": "free" });

        let res = evaluate(&app, &secret, &key, staff(&inside)).await;
        assert_eq!(
            answer(&res),
            (
                baseline.clone(),
                "control".into(),
                "DISABLED".into(),
                "draft".into()
            )
        );
        let meta = &res.json()["metadata"];
        assert_eq!(meta["changeId"], id.as_str());
        assert_eq!(meta["planRevision"], 1);
        assert_eq!(meta["bucket"], bucket(&key, &inside));

        app.transition(&id, &json!({ "action": "advance" })).await;
        let res = evaluate(&app, &secret, &key, staff(&inside)).await;
        assert_eq!(answer(&res).2, "DISABLED");
        assert_eq!(answer(&res).3, "eval");

        app.transition(&id, &json!({ "action": "advance" })).await;
        let res = evaluate(&app, &secret, &key, staff(&inside)).await;
        assert_eq!(
            answer(&res),
            (
                candidate.clone(),
                "candidate".into(),
                "SPLIT".into(),
                "canary".into()
            )
        );
        let res = evaluate(&app, &secret, &key, staff(&above)).await;
        assert_eq!(
            answer(&res),
            (
                baseline.clone(),
                "control".into(),
                "SPLIT".into(),
                "canary".into()
            )
        );
        let res = evaluate(&app, &secret, &key, customer(&inside)).await;
        assert_eq!(
            answer(&res),
            (
                baseline.clone(),
                "control".into(),
                "TARGETING_MATCH".into(),
                "canary".into()
            )
        );

        // Bulk: the same answer, an ETag, and 304 while nothing changed.
        let body = json!({ "context": staff(&inside) }).to_string();
        let json = Some("application/json");
        let bulk = call(&app, FLAGS, Auth::Bearer(&secret), json, body.clone(), None).await;
        assert_eq!(bulk.status, StatusCode::OK, "{}", bulk.text());
        let flags = bulk.json()["flags"].clone();
        assert_eq!(flags.as_array().expect("flags").len(), 1);
        assert_eq!(flags[0]["key"], key.as_str());
        assert_eq!(flags[0]["variant"], "candidate");
        let tag = bulk.header(header::ETAG).expect("ETag").to_owned();
        let again = call(
            &app,
            FLAGS,
            Auth::Bearer(&secret),
            json,
            body.clone(),
            Some(&tag),
        )
        .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        assert!(again.body.is_empty());

        app.transition(
            &id,
            &json!({ "action": "roll_back", "reason": "refusals up in the canary" }),
        )
        .await;
        for context in [staff(&inside), staff(&above), customer(&inside)] {
            let res = evaluate(&app, &secret, &key, context).await;
            assert_eq!(
                answer(&res),
                (
                    baseline.clone(),
                    "control".into(),
                    "DISABLED".into(),
                    "rolled_back".into()
                )
            );
        }
        // The bulk answer changed, so the old tag no longer matches.
        let after = call(&app, FLAGS, Auth::Bearer(&secret), json, body, Some(&tag)).await;
        assert_eq!(after.status, StatusCode::OK, "{}", after.text());
        assert_eq!(after.json()["flags"][0]["variant"], "control");
        assert_ne!(after.header(header::ETAG), Some(tag.as_str()));
    })
    .await;
}

/// A pause holds the rollout where it is: every context keeps its variant and its reason (the
/// stage still decides), and the metadata says that the flag is paused and since when.
#[tokio::test]
async fn a_paused_flag_holds_every_assignment_and_says_it_is_paused() {
    each_database(|app| async move {
        let detail = app.create(&new_change()).await;
        let id = id_of(&detail);
        let key = flag_key_of(&detail);
        let secret = token(&app, &["evaluate"], None).await;
        app.transition(&id, &json!({ "action": "advance" })).await;
        app.transition(&id, &json!({ "action": "advance" })).await;
        let inside = user_where(&key, |b| b < 500);
        let above = user_where(&key, |b| b >= 500);
        let contexts = [
            json!({ "targetingKey": inside, "internal": true }),
            json!({ "targetingKey": above, "internal": true }),
            json!({ "targetingKey": inside, "plan": "free" }),
        ];
        let json = Some("application/json");
        // Variant, reason, stage of each context, single and bulk, and the metadata.
        let read = |app: TestApp| {
            let (secret, key, contexts) = (secret.clone(), key.clone(), contexts.clone());
            async move {
                let mut seen = Vec::new();
                let mut metadata = Vec::new();
                for context in &contexts {
                    let res = evaluate(&app, &secret, &key, context.clone()).await;
                    let (_, variant, reason, stage) = answer(&res);
                    metadata.push(res.json()["metadata"].clone());
                    let body = json!({ "context": context }).to_string();
                    let bulk = call(&app, FLAGS, Auth::Bearer(&secret), json, body, None).await;
                    assert_eq!(bulk.status, StatusCode::OK, "{}", bulk.text());
                    let item = bulk.json()["flags"][0].clone();
                    assert_eq!(item["metadata"], metadata[metadata.len() - 1], "{item}");
                    seen.push((variant, reason, stage, item["variant"].clone()));
                }
                (seen, metadata)
            }
        };
        let (running, metadata) = read(app.clone()).await;
        assert_eq!(running[0].0, "candidate", "{running:?}");
        assert_eq!(running[1].0, "control", "{running:?}");
        assert_eq!(running[2].1, "TARGETING_MATCH", "{running:?}");
        for m in &metadata {
            assert_eq!(m["paused"], false, "{m}");
            assert!(m.get("pausedAt").is_none(), "{m}");
        }

        let paused = app
            .transition(
                &id,
                &json!({ "action": "pause", "reason": "reading support tickets" }),
            )
            .await;
        let paused_at = paused["change"]["paused"]["at"].clone();
        assert!(paused_at.is_string(), "{paused}");
        let (held, metadata) = read(app.clone()).await;
        assert_eq!(held, running, "a pause changed an assignment");
        for m in &metadata {
            assert_eq!(m["paused"], true, "{m}");
            assert_eq!(m["pausedAt"], paused_at, "{m}");
            assert_eq!(m["stage"], "canary", "{m}");
            assert!(
                m["stageLabel"]
                    .as_str()
                    .is_some_and(|l| l.ends_with("paused")),
                "{m}"
            );
        }

        app.transition(
            &id,
            &json!({ "action": "resume", "reason": "tickets read" }),
        )
        .await;
        let (resumed, metadata) = read(app.clone()).await;
        assert_eq!(resumed, running);
        assert_eq!(metadata[0]["paused"], false);

        // Paused again, then rolled back: the rollback wins, everyone on control.
        app.transition(&id, &json!({ "action": "pause", "reason": "again" }))
            .await;
        app.transition(
            &id,
            &json!({ "action": "roll_back", "reason": "refusals up" }),
        )
        .await;
        let (rolled_back, _) = read(app.clone()).await;
        for (variant, reason, stage, bulk) in rolled_back {
            assert_eq!(
                (variant.as_str(), reason.as_str(), stage.as_str()),
                ("control", "DISABLED", "rolled_back")
            );
            assert_eq!(bulk, "control");
        }
    })
    .await;
}

#[tokio::test]
async fn health_reports_the_flag_snapshot() {
    each_database(|app| async move {
        app.create_default().await;
        let health = app.get("/api/v1/health").await.json();
        assert_eq!(health["flags"]["loaded"], true, "{health}");
        assert_eq!(health["flags"]["flags"], 1, "{health}");
        assert!(
            health["flags"]["age_seconds"]
                .as_f64()
                .is_some_and(|a| a < 60.0)
        );
        assert_eq!(health["flags"]["last_error"], Value::Null);
    })
    .await;
}

/// Evaluation answers from memory: with the database gone, the last snapshot (and a token
/// checked before) still serve.
#[tokio::test]
async fn evaluation_survives_a_lost_database() {
    each_database(|app| async move {
        let detail = app.create(&new_change()).await;
        let key = flag_key_of(&detail);
        let secret = token(&app, &["evaluate"], None).await;
        let before = evaluate(&app, &secret, &key, json!({ "targetingKey": "u1" })).await;
        assert_eq!(before.status, StatusCode::OK, "{}", before.text());
        app.pool.close().await;
        let after = evaluate(&app, &secret, &key, json!({ "targetingKey": "u1" })).await;
        assert_eq!(after.status, StatusCode::OK, "{}", after.text());
        assert_eq!(after.json(), before.json());
    })
    .await;
}

/// The bulk answer names the event stream; a rollout move reaches a connected client as
/// `refetchEvaluation` within a second.
#[tokio::test]
async fn the_event_stream_says_when_to_evaluate_again() {
    use http_body_util::BodyExt;
    use std::time::{Duration, Instant};
    use tower::ServiceExt;

    each_database(|app| async move {
        let id = app.create_default().await;
        let secret = token(&app, &["evaluate"], None).await;
        let body = json!({ "context": { "targetingKey": "u1" } }).to_string();
        let bulk = call(
            &app,
            FLAGS,
            Auth::Bearer(&secret),
            Some("application/json"),
            body,
            None,
        )
        .await
        .json();
        assert_eq!(bulk["eventStreams"][0]["type"], "sse", "{bulk}");
        let url = bulk["eventStreams"][0]["url"].as_str().expect("url");
        assert!(url.ends_with("/ofrep/v1/events"), "{url}");

        let mut req = raw_request(Method::GET, "/ofrep/v1/events", None, "");
        req.headers_mut().insert(
            header::AUTHORIZATION,
            format!("Bearer {secret}").parse().expect("header"),
        );
        let res = app.router.clone().oneshot(req).await.expect("infallible");
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            res.headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("text/event-stream")
        );
        let mut stream = res.into_body();

        let moved = Instant::now();
        app.transition(&id, &json!({ "action": "advance" })).await;
        let mut received = String::new();
        while !received.contains("refetchEvaluation") {
            let left = Duration::from_secs(1).saturating_sub(moved.elapsed());
            let frame = tokio::time::timeout(left, stream.frame())
                .await
                .expect("an event within a second of the move")
                .expect("the stream stays open")
                .expect("a frame");
            if let Some(data) = frame.data_ref() {
                received.push_str(&String::from_utf8_lossy(data));
            }
        }
        assert!(
            received.contains("data: {\"type\":\"refetchEvaluation\""),
            "{received}"
        );
        assert!(received.contains("id: "), "{received}");

        // Without a token: the protocol's 401.
        let anonymous = raw_request(Method::GET, "/ofrep/v1/events", None, "");
        assert_failure(
            &app.anonymous(anonymous).await,
            StatusCode::UNAUTHORIZED,
            "GENERAL",
            None,
        );
    })
    .await;
}

/// `PUT /api/v1/changes/{id}/flag-rules` with `rules` at the change's current revision.
async fn put_rules(app: &TestApp, id: &str, rules: Value) -> common::TestResponse {
    let revision = app.revision_of(id).await;
    app.put(
        &format!("/api/v1/changes/{id}/flag-rules"),
        &json!({ "revision": revision, "rules": rules }),
    )
    .await
}

#[tokio::test]
async fn flag_rules_are_edited_with_the_draft_and_frozen_with_it() {
    each_database(|app| async move {
        let detail = app.create(&new_change()).await;
        let id = id_of(&detail);
        assert_eq!(detail["change"]["flag_rules"]["audiences"], json!([]));
        let uri = format!("/api/v1/changes/{id}/flag-rules");
        let staff_in_ml = json!([{ "audience": "staff", "any_of": [
            { "match": "one_of", "attribute": "team", "values": ["ml", 7] }
        ]}]);
        let rules = json!({
            "audiences": staff_in_ml,
            "segment_attributes": ["plan", "locale"],
            "segment_max_percent": { "free / es": 2.5 },
            "holdout_percent": 5
        });

        // Each broken rule is named; nothing changes.
        let bad = [
            (
                json!({ "audiences": [{ "audience": "staff", "any_of": [] }] }),
                "rules.audiences[0].any_of",
            ),
            (
                json!({ "audiences": [{ "audience": "martians", "any_of": [
                { "match": "one_of", "attribute": "a", "values": [1] }] }] }),
                "rules.audiences[0].audience",
            ),
            (json!({ "holdout_percent": 60 }), "rules.holdout_percent"),
            (
                json!({ "segment_max_percent": { "free": 101 } }),
                "rules.segment_max_percent.free",
            ),
        ];
        for (rules, field) in bad {
            let body = json!({ "revision": app.revision_of(&id).await, "rules": rules });
            app.rejects(
                common::json_request(Method::PUT, &uri, &body),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                Some(field),
            )
            .await;
        }
        let body = json!({ "revision": 1, "rules": { "colour": "blue" } });
        let res = app.put(&uri, &body).await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            res.text()
        );
        // Only editors; support reads but does not edit.
        let support = app
            .request_as(
                common::email_of(shared::auth::Role::Support),
                common::json_request(Method::PUT, &uri, &json!({ "revision": 1, "rules": {} })),
            )
            .await;
        support.assert_error(StatusCode::FORBIDDEN, "forbidden", None);

        let res = put_rules(&app, &id, rules.clone()).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let saved = res.json();
        assert_eq!(saved["change"]["revision"], 2);
        assert_eq!(saved["change"]["flag_rules"]["audiences"], staff_in_ml);
        assert_eq!(saved["change"]["flag_rules"]["holdout_percent"], 5.0);
        let read = app.get(&format!("/api/v1/changes/{id}")).await.json();
        assert_eq!(read["change"]["flag_rules"], saved["change"]["flag_rules"]);
        // A stale revision is a conflict.
        let stale = json!({ "revision": 1, "rules": {} });
        app.rejects(
            common::json_request(Method::PUT, &uri, &stale),
            StatusCode::CONFLICT,
            "conflict",
            None,
        )
        .await;
        // An edit of the rest of the draft keeps the rules.
        let res = app
            .put(&format!("/api/v1/changes/{id}"), &update_of(&read))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(
            res.json()["change"]["flag_rules"],
            saved["change"]["flag_rules"]
        );

        // Once the rollout starts they are frozen, like the plan.
        app.transition(&id, &json!({ "action": "advance" })).await;
        let res = put_rules(&app, &id, json!({})).await;
        res.assert_error(StatusCode::CONFLICT, "frozen", None);
    })
    .await;
}

#[tokio::test]
async fn stored_rules_decide_evaluations_and_the_assignment_lookup() {
    each_database(|app| async move {
        let detail = app.create(&new_change()).await;
        let id = id_of(&detail);
        let key = flag_key_of(&detail);
        // Staff are the ML team, whatever `internal` says.
        let rules = json!({ "audiences": [{ "audience": "staff", "any_of": [
            { "match": "one_of", "attribute": "team", "values": ["ml"] }
        ]}]});
        let res = put_rules(&app, &id, rules).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        app.transition(&id, &json!({ "action": "advance" })).await; // eval
        app.transition(&id, &json!({ "action": "advance" })).await; // canary, staff only
        let secret = token(&app, &["evaluate"], None).await;
        let inside = user_where(&key, |b| b < 500);

        let ml = json!({ "targetingKey": inside, "team": "ml" });
        let res = evaluate(&app, &secret, &key, ml).await;
        assert_eq!(answer(&res).1, "candidate", "{}", res.text());
        let internal = json!({ "targetingKey": inside, "internal": true });
        let res = evaluate(&app, &secret, &key, internal).await;
        assert_eq!(answer(&res).2, "TARGETING_MATCH", "{}", res.text());

        let lookup = |context: Value| {
            let app = app.clone();
            let inside = inside.clone();
            async move {
                let uri = format!(
                    "/api/v1/assignments?targeting_key={inside}&context={}",
                    shared::paths::encode(&context.to_string())
                );
                let res = app.get(&uri).await;
                assert_eq!(res.status, StatusCode::OK, "{}", res.text());
                res.json()["assignments"][0].clone()
            }
        };
        let row = lookup(json!({ "team": "ml" })).await;
        assert_eq!(row["change_id"], id.as_str());
        assert_eq!(row["variant"], "candidate", "{row}");
        let row = lookup(json!({ "internal": true })).await;
        assert_eq!(row["reason"], "TARGETING_MATCH", "{row}");
    })
    .await;
}
