//! The official OpenFeature Rust SDK (`open-feature`) and its OFREP provider
//! (`open-feature-ofrep`) against the real `rollgate` binary on a loopback port: a client we
//! did not write, so that our reading of the protocol is checked by someone else's. A user
//! inside the canary gets the candidate, everyone gets control after a rollback; on
//! PostgreSQL two instances share one database, answer alike, and a rollback made on one is
//! served by the other within a second (`LISTEN/NOTIFY`).

mod common;

use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use common::{Server, TestApp, each_database, id_of, new_change};
use open_feature::provider::FeatureProvider;
use open_feature::{EvaluationContext, StructValue};
use open_feature_ofrep::{OfrepOptions, OfrepProvider};
use serde_json::json;
use shared::assignment::bucket;

/// The SDK's client on `server`, with `secret` as the bearer token.
async fn client(server: &Server, secret: &str) -> OfrepProvider {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {secret}")).expect("header"),
    );
    OfrepProvider::new(OfrepOptions {
        base_url: server.url(),
        headers,
        connect_timeout: Duration::from_secs(2),
        ..Default::default()
    })
    .await
    .expect("provider")
}

/// The variant and the configuration's `prompt_version` the SDK resolved for `user`.
async fn resolve(
    provider: &OfrepProvider,
    key: &str,
    context: &EvaluationContext,
) -> (String, String) {
    let details = provider
        .resolve_struct_value(key, context)
        .await
        .unwrap_or_else(|e| panic!("{key}: {e:?}"));
    let value: StructValue = details.value;
    let prompt = value
        .fields
        .get("prompt_version")
        .and_then(|v| v.as_str())
        .expect("prompt_version")
        .to_owned();
    (details.variant.expect("variant"), prompt)
}

/// Rolls `id` back through the server at `base` (not the test's own router), as the console
/// does: session cookie and CSRF token.
async fn roll_back(app: &TestApp, base: &str, id: &str) {
    let session = app.session(common::OWNER);
    let revision = app.revision_of(id).await;
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/changes/{id}/transitions"))
        .header(
            header::COOKIE,
            format!(
                "{}={}",
                rollgate::http::authz::SESSION_COOKIE,
                session.token
            ),
        )
        .header(rollgate::http::authz::CSRF_HEADER, &session.csrf)
        .json(&json!({ "action": "roll_back", "reason": "refusals up", "revision": revision }))
        .send()
        .await
        .expect("roll back");
    assert_eq!(
        res.status().as_u16(),
        StatusCode::OK.as_u16(),
        "{:?}",
        res.text().await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_gets_the_candidate_in_the_canary_and_control_after_a_rollback() {
    each_database(|app| async move {
        let detail = app.create(&new_change()).await;
        let id = id_of(&detail);
        let key = detail["change"]["flag_key"]
            .as_str()
            .expect("key")
            .to_owned();
        for _ in 0..2 {
            app.transition(&id, &json!({ "action": "advance" })).await;
        }
        let secret = app
            .post(
                "/api/v1/tokens",
                &json!({ "name": "billing-api", "scopes": ["evaluate"] }),
            )
            .await
            .json()["secret"]
            .as_str()
            .expect("secret")
            .to_owned();
        let url = app.pool.connect_options().database_url.to_string();
        let postgres = url.starts_with("postgres");

        // The canary (5 %) reaches staff: one inside its buckets, one above.
        let user = |pred: fn(u16) -> bool| {
            (0..)
                .map(|i| format!("user-{i}"))
                .find(|k| pred(bucket(&key, k)))
                .expect("a user")
        };
        let staff = |user: String| {
            EvaluationContext::default()
                .with_targeting_key(user)
                .with_custom_field("internal", true)
        };
        let inside = staff(user(|b| b < 500));
        let above = staff(user(|b| b >= 500));

        let servers: Vec<Server> = (0..if postgres { 2 } else { 1 })
            .map(|_| Server::start(&url))
            .collect();
        let mut clients = Vec::new();
        for server in &servers {
            clients.push(client(server, &secret).await);
        }
        for client in &clients {
            assert_eq!(
                resolve(client, &key, &inside).await,
                ("candidate".to_owned(), "billing-v13".to_owned())
            );
            assert_eq!(
                resolve(client, &key, &above).await,
                ("control".to_owned(), "billing-v12".to_owned())
            );
        }

        // Rolled back on the first instance: every instance serves control, the others
        // within a second.
        let rolled_back = Instant::now();
        roll_back(&app, &servers[0].url(), &id).await;
        let answered = rolled_back.elapsed();
        assert_eq!(resolve(&clients[0], &key, &inside).await.0, "control");
        for client in &clients[1..] {
            loop {
                if resolve(client, &key, &inside).await.0 == "control" {
                    break;
                }
                assert!(
                    rolled_back.elapsed() < Duration::from_secs(1),
                    "the other instance still serves the candidate after 1 s"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            eprintln!(
                "rollback answered after {answered:?}, served by the other instance after {:?}",
                rolled_back.elapsed()
            );
        }
    })
    .await;
}
