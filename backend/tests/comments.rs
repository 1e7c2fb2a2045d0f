//! The discussion on a change (`/api/v1/changes/{id}/comments`) and the mentions of a team
//! (`/api/v1/mentions`, and the team's webhook, against a real receiver on 127.0.0.1).

mod common;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::webhooks::{fast, receiver};
use common::{TestApp, each_database, email_of, json_request};
use rollgate::delivery;
use serde_json::{Value, json};
use shared::auth::Role;
use tokio::sync::watch;

fn uri(id: &str) -> String {
    format!("/api/v1/changes/{id}/comments")
}

async fn comments(app: &TestApp, id: &str) -> Vec<Value> {
    let res = app.get(&uri(id)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json().as_array().expect("array").clone()
}

async fn post_as(app: &TestApp, role: Role, id: &str, text: &str) -> common::TestResponse {
    app.request_as(
        email_of(role),
        json_request(Method::POST, &uri(id), &json!({ "text": text })),
    )
    .await
}

async fn mentions_of(app: &TestApp, email: &str) -> Vec<Value> {
    let res = app
        .request_as(
            email,
            Request::get("/api/v1/mentions")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json().as_array().expect("array").clone()
}

/// A team called "Billing platform" (`@billing-platform`) with Sam (support) in it and a
/// webhook at `url`; its id and signing secret.
async fn billing_team(app: &TestApp, url: &str) -> (String, String) {
    let sam = app.session(email_of(Role::Support)).user_id.clone();
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

#[tokio::test]
async fn every_role_reads_and_writes_the_discussion() {
    each_database(|app| async move {
        let id = app.create_default().await;
        assert!(comments(&app, &id).await.is_empty());

        let res = post_as(
            &app,
            Role::Pm,
            &id,
            "  Why did cost per request rise on es?  ",
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let c = res.json();
        assert_eq!(c["text"], "Why did cost per request rise on es?");
        assert_eq!(c["author_name"], "Pat PM");
        assert_eq!(c["author_email"], email_of(Role::Pm));
        assert_eq!(c["change_id"], id.as_str());
        assert!(c["mentions"].as_array().unwrap().is_empty());
        assert!(c["created_at"].as_str().unwrap().ends_with('Z'));

        for role in [Role::Support, Role::Approver, Role::Engineer, Role::Admin] {
            let res = post_as(&app, role, &id, "Seen.").await;
            assert_eq!(res.status, StatusCode::CREATED, "{role:?}: {}", res.text());
        }
        let all = comments(&app, &id).await;
        assert_eq!(all.len(), 5);
        assert_eq!(all[0]["author_name"], "Pat PM");
        assert_eq!(all[1]["author_name"], "Sam Support");
        // Read by someone who wrote none of them.
        let res = app
            .request_as(
                "jo@example.com",
                Request::get(uri(&id)).body(Body::empty()).unwrap(),
            )
            .await;
        assert_eq!(res.json().as_array().unwrap().len(), 5);

        // One audit row per comment, with its text.
        let audit = app
            .get(&format!(
                "/api/v1/audit?action=comment.create&object_id={id}"
            ))
            .await
            .json();
        let items = audit["items"].as_array().expect("items");
        assert_eq!(items.len(), 5, "{audit}");
        assert!(
            audit
                .to_string()
                .contains("Why did cost per request rise on es?")
        );

        // Signed out: neither read nor write.
        let res = app
            .anonymous(Request::get(uri(&id)).body(Body::empty()).unwrap())
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test]
async fn bad_text_and_unknown_changes_store_nothing() {
    each_database(|app| async move {
        let id = app.create_default().await;
        for text in [
            String::new(),
            "   \n ".into(),
            "x".repeat(4_001),
            "a\0b".into(),
        ] {
            let res = post_as(&app, Role::Pm, &id, &text).await;
            res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation", Some("text"));
        }
        // 4 000 characters are fine (counted as characters, not bytes).
        let res = post_as(&app, Role::Pm, &id, &"é".repeat(4_000)).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());

        let res = post_as(&app, Role::Pm, &id, "@nobody-here what do you think?").await;
        res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation", Some("text"));
        assert!(res.message().contains("@nobody-here"), "{}", res.message());
        assert!(res.message().contains("@support"), "{}", res.message());
        // A known and an unknown team: nothing is written either.
        let res = post_as(&app, Role::Pm, &id, "@support and @nobody").await;
        res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation", Some("text"));
        // An e-mail address mentions nobody.
        let res = post_as(&app, Role::Pm, &id, "Ask ana@example.com").await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        assert_eq!(comments(&app, &id).await.len(), 2);

        let res = post_as(&app, Role::Pm, "no-such-change", "Hello").await;
        res.assert_error(StatusCode::NOT_FOUND, "not_found", None);
        let res = app.get(&uri("no-such-change")).await;
        res.assert_error(StatusCode::NOT_FOUND, "not_found", None);

        // Unknown fields are refused like everywhere else.
        let res = app
            .post(&uri(&id), &json!({"text": "ok", "author": "someone else"}))
            .await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            res.text()
        );
        assert_eq!(comments(&app, &id).await.len(), 2);
    })
    .await;
}

#[tokio::test]
async fn a_mentioned_team_sees_it_in_its_feed_and_on_its_webhook() {
    each_database(|app| async move {
        let (url, seen) = receiver(0).await;
        let (team, secret) = billing_team(&app, &url).await;
        let id = app.create_default().await;
        let (stop, stopped) = watch::channel(false);
        let worker = delivery::spawn(
            app.pool.clone(),
            fast(Some("https://rollgate.example.com")),
            stopped,
        );

        let res = post_as(
            &app,
            Role::Pm,
            &id,
            "@Billing-Platform can you confirm the <!channel> cost rise? cc @support",
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let c = res.json();
        let names: Vec<&str> = c["mentions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["team_name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Billing platform", "Support"]);
        assert_eq!(c["mentions"][0]["team_id"], team.as_str());
        // Not mentioned: no webhook and no feed entry for Marketing.
        post_as(&app, Role::Pm, &id, "A note for nobody in particular.").await;

        // Sam is in the team: the mention is in his feed, newest first; Pat is in no team.
        let mine = mentions_of(&app, email_of(Role::Support)).await;
        assert_eq!(mine.len(), 1, "{mine:?}");
        assert_eq!(mine[0]["id"], c["id"]);
        assert_eq!(mine[0]["change_title"], c["change_title"]);
        assert!(mentions_of(&app, email_of(Role::Pm)).await.is_empty());

        // One signed delivery to the team's webhook (Support has none).
        let deadline = Instant::now() + Duration::from_secs(10);
        while seen.lock().unwrap().accepted.is_empty() {
            assert!(Instant::now() < deadline, "no delivery");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Long enough for a second, wrong delivery to show.
        tokio::time::sleep(Duration::from_millis(200)).await;
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
        assert_eq!(sig, delivery::signature(&secret, ts, body));
        let body: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(
            body["text"],
            format!(
                "Pat PM mentioned your team on {}",
                c["change_title"].as_str().unwrap()
            )
        );
        let comment = &body["attachments"][0]["fields"][0]["value"];
        // What people typed reaches the chat as plain text.
        assert!(
            comment.as_str().unwrap().contains("&lt;!channel&gt;"),
            "{comment}"
        );
        assert_eq!(
            body["attachments"][0]["title_link"],
            format!("https://rollgate.example.com/changes/{id}")
        );
        assert_eq!(body["rollgate"]["comment_id"], c["id"]);
    })
    .await;
}

/// Two server instances' workers share the mention queue: each mention reaches the webhook
/// once.
#[tokio::test]
async fn two_workers_send_each_mention_once() {
    each_database(|app| async move {
        let (url, seen) = receiver(0).await;
        billing_team(&app, &url).await;
        let id = app.create_default().await;
        let (stop, stopped) = watch::channel(false);
        let workers: Vec<_> = (0..2)
            .map(|_| {
                delivery::spawn(
                    app.pool.clone(),
                    fast(Some("https://rollgate.example.com")),
                    stopped.clone(),
                )
            })
            .collect();
        let mut ids = Vec::new();
        for i in 0..6 {
            let res = post_as(
                &app,
                Role::Pm,
                &id,
                &format!("@billing-platform question {i}"),
            )
            .await;
            assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
            ids.push(res.json()["id"].as_str().unwrap().to_owned());
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while seen.lock().unwrap().accepted.len() < ids.len() {
            assert!(Instant::now() < deadline, "not every mention was delivered");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = stop.send(true);
        for w in workers {
            w.await.unwrap();
        }
        let mut sent: Vec<String> = seen
            .lock()
            .unwrap()
            .accepted
            .iter()
            .map(|(_, body)| {
                let v: Value = serde_json::from_slice(body).unwrap();
                v["rollgate"]["comment_id"].as_str().unwrap().to_owned()
            })
            .collect();
        sent.sort();
        ids.sort();
        assert_eq!(sent, ids);
    })
    .await;
}
