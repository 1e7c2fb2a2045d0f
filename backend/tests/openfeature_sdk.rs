//! The official OpenFeature Rust SDK (`open-feature`) and its OFREP provider
//! (`open-feature-ofrep`) against the real `rollgate` binary on a loopback port: a client we
//! did not write, so that our reading of the protocol is checked by someone else's. A user
//! inside the canary gets the candidate, everyone gets control after a rollback; on
//! PostgreSQL two instances share one database, answer alike, and a rollback made on one is
//! served by the other within a second (`LISTEN/NOTIFY`).

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use common::{TestApp, each_database, id_of, new_change};
use open_feature::provider::FeatureProvider;
use open_feature::{EvaluationContext, StructValue};
use open_feature_ofrep::{OfrepOptions, OfrepProvider};
use serde_json::json;
use shared::assignment::bucket;

/// A `rollgate serve` process on a free loopback port; killed when dropped.
struct Server {
    child: Child,
    port: u16,
    /// Kept open: a closed pipe would fail the server's next line of output.
    _stdout: BufReader<std::process::ChildStdout>,
    _dist: tempfile::TempDir,
}

impl Server {
    fn start(database_url: &str) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dist = tempfile::tempdir().expect("tempdir");
        let mut child = Command::new(env!("CARGO_BIN_EXE_rollgate"))
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .env("ROLLGATE_DATABASE_URL", database_url)
            .env("ROLLGATE_DIST", dist.path())
            .env_remove("ROLLGATE_DEMO")
            .env_remove("ROLLGATE_ADDR")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn rollgate");
        // It prints its address once it is about to serve.
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        stdout.read_line(&mut line).expect("read");
        assert!(line.contains(&format!("127.0.0.1:{port}")), "{line}");
        Server {
            child,
            port,
            _stdout: stdout,
            _dist: dist,
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The SDK's client on this server, with `secret` as the bearer token.
    async fn client(&self, secret: &str) -> OfrepProvider {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("Bearer {secret}")).expect("header"),
        );
        OfrepProvider::new(OfrepOptions {
            base_url: self.url(),
            headers,
            connect_timeout: Duration::from_secs(2),
            ..Default::default()
        })
        .await
        .expect("provider")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
            clients.push(server.client(&secret).await);
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
