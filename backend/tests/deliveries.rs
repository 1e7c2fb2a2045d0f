//! Outgoing webhooks against a real receiver on 127.0.0.1: signatures, retries with backoff,
//! receivers that are down or hang, the delivery log; and the teams' Atom feeds, read by a
//! real Atom parser.

mod common;

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use common::webhooks::{fast, receiver};
use common::{TestApp, each_database};
use rollgate::delivery::{self, Config};
use serde_json::{Value, json};
use tokio::sync::watch;

/// A team with a webhook, Sam in it; its id and signing secret.
async fn team_with_hook(app: &TestApp, url: &str) -> (String, String) {
    let sam = app.session("sam@example.com").user_id.clone();
    let res = app
        .post(
            "/api/v1/teams",
            &json!({"name": "Billing platform", "members": [sam], "webhook_url": url}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let v = res.json();
    (
        v["team"]["id"].as_str().unwrap().to_owned(),
        v["webhook_secret"].as_str().unwrap().to_owned(),
    )
}

/// Drafts and publishes a notice to `team`; the publish answer's time and the notice id.
async fn publish_to(app: &TestApp, team: &str) -> (Duration, String) {
    let id = app.create_default().await;
    let res = app
        .post(
            &format!("/api/v1/changes/{id}/notices"),
            &json!({"audience": [team], "expected_changes": "Shorter answers in Spanish.",
                    "talking_points": "Expected; nothing to do."}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let notice = res.json()["id"].as_str().unwrap().to_owned();
    let started = Instant::now();
    let res = app
        .post(&format!("/api/v1/notices/{notice}/publish"), &json!({}))
        .await;
    let took = started.elapsed();
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    (took, notice)
}

async fn deliveries(app: &TestApp) -> Vec<Value> {
    app.get("/api/v1/deliveries")
        .await
        .json()
        .as_array()
        .unwrap()
        .clone()
}

/// Waits until the first delivery is no longer pending (or 10 s pass).
async fn settled(app: &TestApp) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let d = deliveries(app).await;
        if let Some(first) = d.first()
            && first["status"] != "pending"
        {
            return first.clone();
        }
        assert!(Instant::now() < deadline, "still pending: {d:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_published_notice_is_delivered_signed() {
    each_database(|app| async move {
        let (url, seen) = receiver(0).await;
        let (team, secret) = team_with_hook(&app, &url).await;
        let (stop, stopped) = watch::channel(false);
        let worker = delivery::spawn(app.pool.clone(), fast(None), stopped);
        publish_to(&app, &team).await;
        let d = settled(&app).await;
        assert_eq!(d["status"], "delivered");
        assert_eq!(d["attempts"], 1);
        assert!(d["delivered_at"].is_string());
        let _ = stop.send(true);
        worker.await.unwrap();

        let seen = seen.lock().unwrap();
        assert_eq!(seen.accepted.len(), 1);
        let (headers, body) = &seen.accepted[0];
        let ts: i64 = headers["x-rollgate-timestamp"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let sig = headers["x-rollgate-signature"].to_str().unwrap();
        // Recomputed here, independently of the server's helper.
        use hmac::Mac;
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(format!("{ts}.").as_bytes());
        mac.update(body);
        let hex: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(sig, format!("v1={hex}"));
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        assert!((now - ts).abs() < 60);
        let body: Value = serde_json::from_slice(body).unwrap();
        assert!(body["text"].as_str().unwrap().starts_with("Notice: "));
        let fields = body["attachments"][0]["fields"].as_array().unwrap();
        assert_eq!(fields[0]["title"], "What users may notice");
        assert_eq!(fields[0]["value"], "Shorter answers in Spanish.");
    })
    .await;
}

/// A change title or notice text written as chat markup (a mention, a disguised link) reaches
/// the chat as the plain text it was typed as.
#[tokio::test]
async fn user_text_reaches_the_chat_as_plain_text() {
    each_database(|app| async move {
        let (url, seen) = receiver(0).await;
        let (team, _) = team_with_hook(&app, &url).await;
        let hostile = "<!channel> <https://evil.example|Approve here> & co";
        let escaped = "&lt;!channel&gt; &lt;https://evil.example|Approve here&gt; &amp; co";
        let mut change = common::new_change();
        change["title"] = json!(hostile);
        let id = common::id_of(&app.create(&change).await);
        let res = app
            .post(
                &format!("/api/v1/changes/{id}/notices"),
                &json!({"audience": [team], "expected_changes": hostile,
                        "talking_points": "Reply <@U123> if unsure"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let notice = res.json()["id"].as_str().unwrap().to_owned();
        let res = app
            .post(&format!("/api/v1/notices/{notice}/publish"), &json!({}))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let (stop, stopped) = watch::channel(false);
        let config = Config {
            public_url: Some("https://rollgate.example.com".into()),
            ..fast(None)
        };
        let worker = delivery::spawn(app.pool.clone(), config, stopped);
        assert_eq!(settled(&app).await["status"], "delivered");
        let _ = stop.send(true);
        worker.await.unwrap();

        let seen = seen.lock().unwrap();
        let body: Value = serde_json::from_slice(&seen.accepted[0].1).unwrap();
        assert_eq!(body["text"], format!("Notice: {escaped}"));
        let attachment = &body["attachments"][0];
        assert_eq!(attachment["title"], escaped);
        assert_eq!(
            attachment["title_link"],
            format!("https://rollgate.example.com/changes/{id}")
        );
        assert_eq!(attachment["fields"][0]["value"], escaped);
        assert_eq!(
            attachment["fields"][1]["value"],
            "Reply &lt;@U123&gt; if unsure"
        );
        // No raw markup is left anywhere in what people see.
        let shown = serde_json::to_string(&[&body["text"], attachment]).unwrap();
        assert!(!shown.contains('<') && !shown.contains('>'), "{shown}");
    })
    .await;
}

#[tokio::test]
async fn a_failing_receiver_gets_one_delivery_after_retries() {
    each_database(|app| async move {
        let (url, seen) = receiver(2).await;
        let (team, _) = team_with_hook(&app, &url).await;
        let (stop, stopped) = watch::channel(false);
        let worker = delivery::spawn(app.pool.clone(), fast(None), stopped);
        publish_to(&app, &team).await;
        let d = settled(&app).await;
        assert_eq!(d["status"], "delivered");
        assert_eq!(d["attempts"], 3);
        // Give a double send the chance to show itself.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = stop.send(true);
        worker.await.unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(seen.hits, 3);
        assert_eq!(seen.accepted.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn several_workers_send_each_delivery_once() {
    each_database(|app| async move {
        // A receiver that fails now and then, so retries race too.
        let (url, seen) = receiver(3).await;
        let (team, _) = team_with_hook(&app, &url).await;
        let (stop, stopped) = watch::channel(false);
        // Three server instances' workers on one database.
        let workers: Vec<_> = (0..3)
            .map(|_| delivery::spawn(app.pool.clone(), fast(None), stopped.clone()))
            .collect();
        let mut notices = Vec::new();
        for _ in 0..6 {
            notices.push(publish_to(&app, &team).await.1);
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let d = deliveries(&app).await;
            if d.len() == 6 && d.iter().all(|d| d["status"] == "delivered") {
                break;
            }
            assert!(Instant::now() < deadline, "not all delivered: {d:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Give a double send the chance to show itself.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let _ = stop.send(true);
        for w in workers {
            w.await.unwrap();
        }
        let seen = seen.lock().unwrap();
        let mut sent: Vec<String> = seen
            .accepted
            .iter()
            .map(|(_, body)| {
                let v: Value = serde_json::from_slice(body).unwrap();
                v["rollgate"]["notice_id"].as_str().unwrap().to_owned()
            })
            .collect();
        sent.sort();
        notices.sort();
        assert_eq!(sent, notices, "each notice accepted exactly once");
        assert_eq!(
            seen.hits,
            6 + 3,
            "six deliveries and three refused attempts"
        );
    })
    .await;
}

#[tokio::test]
async fn a_hanging_receiver_does_not_slow_publishing_and_is_retried() {
    each_database(|app| async move {
        // Accepts connections and never answers.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (team, _) = team_with_hook(&app, &url).await;
        let (stop, stopped) = watch::channel(false);
        let mut config = fast(None);
        config.max_attempts = 2;
        config.timeout = Duration::from_millis(200);
        let worker = delivery::spawn(app.pool.clone(), config, stopped);
        let (took, _) = publish_to(&app, &team).await;
        assert!(
            took < Duration::from_millis(500),
            "publishing took {took:?}"
        );
        let d = settled(&app).await;
        assert_eq!(d["status"], "failed");
        assert_eq!(d["attempts"], 2);
        assert!(
            d["last_error"]
                .as_str()
                .unwrap()
                .contains("no answer within"),
            "{d}"
        );

        // An admin resends it: pending again from the first attempt.
        let res = app
            .post(
                &format!("/api/v1/deliveries/{}/resend", d["id"].as_str().unwrap()),
                &json!({}),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(res.json()["status"], "pending");
        let _ = stop.send(true);
        worker.await.unwrap();
        drop(listener);
    })
    .await;
}

#[tokio::test]
async fn a_teams_atom_feed_parses_and_needs_its_token() {
    each_database(|app| async move {
        let (team, _) = team_with_hook(&app, "http://127.0.0.1:9/hook").await;
        let (_, notice) = publish_to(&app, &team).await;
        let res = app
            .post(&format!("/api/v1/teams/{team}/feed-token"), &json!({}))
            .await;
        let token = res.json()["feed_token"].as_str().unwrap().to_owned();

        let uri = format!("/api/v1/teams/{team}/feed.atom");
        let anon = |uri: String| {
            let app = app.clone();
            async move {
                app.anonymous(
                    axum::http::Request::get(uri)
                        .body(axum::body::Body::empty())
                        .unwrap(),
                )
                .await
            }
        };
        let res = anon(format!("{uri}?token={token}")).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert!(
            res.header(axum::http::header::CONTENT_TYPE)
                .unwrap()
                .starts_with("application/atom+xml")
        );
        let feed = atom_syndication::Feed::read_from(res.text().as_bytes()).expect("valid Atom");
        assert_eq!(
            feed.title().as_str(),
            "Rollgate notices for Billing platform"
        );
        assert_eq!(feed.id(), format!("urn:rollgate:team:{team}"));
        assert_eq!(feed.entries().len(), 1);
        let entry = &feed.entries()[0];
        assert_eq!(entry.id(), format!("urn:rollgate:notice:{notice}"));
        assert!(entry.title().as_str().starts_with("Notice: "));
        assert!(entry.links()[0].href().starts_with("/changes/"));
        // Behind a known public address the links are absolute.
        let public = common::TestApp {
            router: rollgate::app(
                rollgate::AppState::new(app.pool.clone(), app.backend, "dist")
                    .with_public_url(Some("https://rollgate.example.com".into())),
            ),
            ..app.clone()
        };
        let res = public
            .anonymous(
                axum::http::Request::get(format!("{uri}?token={token}"))
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        let feed = atom_syndication::Feed::read_from(res.text().as_bytes()).expect("valid Atom");
        assert!(
            feed.entries()[0].links()[0]
                .href()
                .starts_with("https://rollgate.example.com/changes/"),
            "{}",
            res.text()
        );
        assert!(
            entry
                .content()
                .unwrap()
                .value()
                .unwrap()
                .contains("Shorter answers in Spanish.")
        );

        anon(uri.clone())
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthorized", None);
        anon(format!("{uri}?token=rg_feed_wrong"))
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthorized", None);
        anon(format!("/api/v1/teams/nope/feed.atom?token={token}"))
            .await
            .assert_error(StatusCode::NOT_FOUND, "not_found", None);
    })
    .await;
}

/// Sign-off requested: the requesting engineer signs a high-risk change's canary gate, which
/// still waits for a PM and an approver; the approvers' team's webhook hears of it once,
/// signed, however often it is asked again; a team without approvers hears nothing.
#[tokio::test]
async fn a_sign_off_request_reaches_the_approvers_team_once() {
    each_database(|app| async move {
        let (url, seen) = receiver(0).await;
        // Sam (support) has a team with a webhook too: nobody there can approve.
        team_with_hook(&app, &url).await;
        let approvers: Vec<String> = ["alex@example.com", "jo@example.com"]
            .iter()
            .map(|e| app.session(e).user_id.clone())
            .collect();
        let res = app
            .post(
                "/api/v1/teams",
                &json!({"name": "Approvers", "members": approvers, "webhook_url": url}),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let team = res.json()["team"]["id"].as_str().unwrap().to_owned();
        let secret = res.json()["webhook_secret"].as_str().unwrap().to_owned();

        let mut new = common::new_change();
        new["risk"] = json!("high");
        let id = common::id_of(&app.create(&new).await);
        let revision = app.revision_of(&id).await;
        // The author asks: "I ask to start the canary".
        let res = app
            .post(
                &format!("/api/v1/changes/{id}/approvals"),
                &json!({"decision": "approve", "role": "engineer", "revision": revision}),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let gate = res.json();
        assert!(gate["missing"].to_string().contains("approver"), "{gate}");

        // Asked again, from two places at once (two instances): still one request.
        let change = rollgate::app::changes::find(&app.pool, &id).await.unwrap();
        let status = rollgate::app::gates::status(&app.pool, &change, None)
            .await
            .unwrap();
        let (a, b) = tokio::join!(
            rollgate::app::gates::ask_for_sign_off(&app.pool, &change, &status, "Ana"),
            rollgate::app::gates::ask_for_sign_off(&app.pool, &change, &status, "Ana"),
        );
        assert_eq!(a.unwrap() + b.unwrap(), 0);

        let (stop, stopped) = watch::channel(false);
        let worker = delivery::spawn(app.pool.clone(), fast(None), stopped);
        let d = settled(&app).await;
        assert_eq!(d["status"], "delivered");
        assert_eq!(d["team_id"], team.as_str());
        assert_eq!(d["notice_id"], Value::Null);
        let _ = stop.send(true);
        worker.await.unwrap();
        let all = deliveries(&app).await;
        assert_eq!(all.len(), 1, "{all:?}");

        let seen = seen.lock().unwrap();
        assert_eq!(seen.accepted.len(), 1);
        let (headers, body) = &seen.accepted[0];
        let ts: i64 = headers["x-rollgate-timestamp"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            headers["x-rollgate-signature"].to_str().unwrap(),
            delivery::signature(&secret, ts, body)
        );
        let body: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(
            body["text"],
            "Sign-off requested: Shorter system prompt for billing answers"
        );
        assert_eq!(body["rollgate"]["event"], "sign_off");
        assert_eq!(body["rollgate"]["stage"], "canary");
        assert_eq!(body["rollgate"]["change_id"], id.as_str());
        let fields = body["attachments"][0]["fields"].to_string();
        assert!(fields.contains("entering Canary"), "{fields}");
        assert!(fields.contains("from pm and 1 from approver"), "{fields}");
    })
    .await;
}

/// A PM signing after the request asks nobody again: the gate was asked for once.
#[tokio::test]
async fn later_signatures_do_not_ask_again() {
    each_database(|app| async move {
        let approver = app.session("alex@example.com").user_id.clone();
        let res = app
            .post(
                "/api/v1/teams",
                &json!({"name": "Approvers", "members": [approver],
                        "webhook_url": "http://127.0.0.1:9/hook"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let mut new = common::new_change();
        new["risk"] = json!("high");
        let id = common::id_of(&app.create(&new).await);
        for (email, role) in [("ana@example.com", "engineer"), ("pat@example.com", "pm")] {
            let revision = app.revision_of(&id).await;
            let res = app
                .request_as(
                    email,
                    common::json_request(
                        axum::http::Method::POST,
                        &format!("/api/v1/changes/{id}/approvals"),
                        &json!({"decision": "approve", "role": role, "revision": revision}),
                    ),
                )
                .await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        }
        let all = deliveries(&app).await;
        assert_eq!(all.len(), 1, "{all:?}");
        assert_eq!(all[0]["status"], "pending");
    })
    .await;
}
