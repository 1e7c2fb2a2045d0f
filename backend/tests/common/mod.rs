//! Helpers for the integration tests: a fresh database per test (SQLite always, PostgreSQL when
//! `ROLLGATE_TEST_POSTGRES_URL` is set), requests through the real router, and checks on error
//! bodies and row counts.

#![allow(dead_code)] // Each test binary uses a different subset.

pub mod traffic;
pub mod webhooks;

use std::future::Future;
use std::io::Write;
use std::path::Path;
use std::sync::Once;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use rollgate::db::Backend;
use rollgate::{AppState, app};
use serde_json::{Value, json};
use shared::auth::Role;
use sqlx::{AnyPool, Connection, Executor};
use tower::ServiceExt;

pub const POSTGRES_ENV: &str = "ROLLGATE_TEST_POSTGRES_URL";

/// The application under test, on its own fresh database, with one signed-in session per
/// test user ([`USERS`]).
#[derive(Clone)]
pub struct TestApp {
    pub router: Router,
    pub pool: AnyPool,
    pub backend: Backend,
    pub sessions: Arc<HashMap<&'static str, Session>>,
}

/// A signed-in session: the cookie to send and the CSRF token writes must echo.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: String,
    pub email: &'static str,
    pub token: String,
    pub csrf: String,
}

impl Session {
    /// `req` sent as this user (cookie and CSRF header).
    pub fn sign(&self, mut req: Request<Body>) -> Request<Body> {
        let h = req.headers_mut();
        h.insert(
            header::COOKIE,
            format!("rollgate_session={}", self.token)
                .parse()
                .expect("cookie"),
        );
        h.insert("x-csrf-token", self.csrf.parse().expect("csrf"));
        req
    }
}

pub const PASSWORD: &str = "correct horse battery staple";
/// The default user: every role, so that tests about something else than authorization act
/// without thinking about it. Authorization itself is tested per role (`tests/authz.rs`).
pub const OWNER: &str = "ana@example.com";

/// The test users: e-mail, name, roles.
pub const USERS: &[(&str, &str, &[Role])] = &[
    (
        OWNER,
        "Ana Owner",
        &[
            Role::Admin,
            Role::Engineer,
            Role::Pm,
            Role::Support,
            Role::Approver,
        ],
    ),
    ("admin@example.com", "Ada Admin", &[Role::Admin]),
    ("erin@example.com", "Erin Engineer", &[Role::Engineer]),
    ("eli@example.com", "Eli Engineer", &[Role::Engineer]),
    ("pat@example.com", "Pat PM", &[Role::Pm]),
    ("sam@example.com", "Sam Support", &[Role::Support]),
    ("alex@example.com", "Alex Approver", &[Role::Approver]),
    ("jo@example.com", "Jo Approver", &[Role::Approver]),
];

/// The single-role user of `role` (the first one when there are two).
pub fn email_of(role: Role) -> &'static str {
    USERS
        .iter()
        .skip(1)
        .find(|(_, _, roles)| roles == &[role])
        .map(|(e, _, _)| *e)
        .expect("a user per role")
}

/// Runs `test` on a fresh SQLite database, then on a fresh PostgreSQL database when
/// `ROLLGATE_TEST_POSTGRES_URL` is set (an admin URL; the test creates and drops
/// `rollgate_t_<uuid>`).
pub async fn each_database<F, Fut>(test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dist = tempfile::tempdir().expect("tempdir");
    write_dist(dist.path());
    each_database_with_dist(dist.path(), test).await;
}

pub async fn each_database_with_dist<F, Fut>(dist: &Path, test: F)
where
    F: Fn(TestApp) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}", dir.path().join("rollgate.db").display());
        let app = connect(&url, dist).await;
        let pool = app.pool.clone();
        eprintln!("--- on SQLite");
        let outcome = tokio::spawn(test(app)).await;
        pool.close().await;
        if let Err(e) = outcome {
            std::panic::resume_unwind(e.into_panic());
        }
    }

    let Ok(admin_url) = std::env::var(POSTGRES_ENV) else {
        static SKIPPED: Once = Once::new();
        SKIPPED.call_once(|| {
            // Straight to stderr, past the test harness's capture, once per test binary.
            let _ = writeln!(
                std::io::stderr(),
                "PostgreSQL tests skipped: set {POSTGRES_ENV}"
            );
        });
        return;
    };
    let name = format!("rollgate_t_{}", uuid::Uuid::now_v7().simple());
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(&admin_url)
        .await
        .expect("connect to ROLLGATE_TEST_POSTGRES_URL");
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create test database");
    let app = connect(&with_database(&admin_url, &name), dist).await;
    let pool = app.pool.clone();
    eprintln!("--- on PostgreSQL ({name})");
    let outcome = tokio::spawn(test(app)).await;
    pool.close().await;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await
        .expect("drop test database");
    let _ = admin.close().await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

/// `postgres://u@h:5432/admin?x=y` with another database name.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

pub async fn connect(url: &str, dist: &Path) -> TestApp {
    let (pool, backend) = rollgate::db::connect(url).await.expect("connect");
    let passwords = rollgate::accounts::Passwords::cheap_for_tests();
    let mut sessions = HashMap::new();
    for (email, name, roles) in USERS {
        let user = rollgate::accounts::create_user(
            &pool,
            &passwords,
            &shared::auth::NewUser {
                email: email.to_string(),
                name: name.to_string(),
                roles: roles.to_vec(),
                password: PASSWORD.to_owned(),
            },
            &rollgate::db::audit::Who::system(),
        )
        .await
        .expect("create test user");
        sessions.insert(*email, open_session(&pool, &user.id, email).await);
    }
    let router =
        app(AppState::new(pool.clone(), backend, dist.to_path_buf()).with_passwords(passwords));
    TestApp {
        router,
        pool,
        backend,
        sessions: Arc::new(sessions),
    }
}

/// A session straight in the database (signing in over HTTP is tested in `tests/session.rs`).
pub async fn open_session(pool: &AnyPool, user_id: &str, email: &'static str) -> Session {
    let token = rollgate::db::tokens::random_token().expect("token");
    let csrf = rollgate::db::tokens::random_token().expect("token");
    let mut conn = pool.acquire().await.expect("conn");
    let now = rollgate::db::now();
    rollgate::db::users::create_session(
        &mut conn,
        user_id,
        &token,
        &csrf,
        &now,
        "9999-12-31T00:00:00.000000Z",
    )
    .await
    .expect("session");
    Session {
        user_id: user_id.to_owned(),
        email,
        token,
        csrf,
    }
}

/// A small built console: the shell, a script with a gzip sibling, a wasm module.
pub fn write_dist(dir: &Path) {
    std::fs::write(dir.join("index.html"), INDEX_HTML).expect("write index");
    std::fs::create_dir_all(dir.join("pkg")).expect("mkdir");
    std::fs::write(dir.join("pkg/app.js"), APP_JS).expect("write js");
    std::fs::write(dir.join("pkg/app.js.gz"), gzip_of_app_js()).expect("write gz");
    std::fs::write(dir.join("pkg/app_bg.wasm"), b"\0asm\x01\0\0\0").expect("write wasm");
}

pub const INDEX_HTML: &str = "<!doctype html><title>Rollgate</title><div id=app></div>";
pub const APP_JS: &str = "console.log('rollgate');\n";

/// A valid gzip stream of [`APP_JS`] (stored, not deflated: this is about serving, not
/// compressing).
fn gzip_of_app_js() -> Vec<u8> {
    let data = APP_JS.as_bytes();
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    // One final stored block.
    out.push(1);
    let len = data.len() as u16;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// An answer, fully read.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl TestResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} answered non-JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a JSON error answer: status, `error.code` and `error.field`.
    pub fn assert_error(&self, status: StatusCode, code: &str, field: Option<&str>) -> &Self {
        let body = self.json();
        assert_eq!(self.status, status, "status of {body}");
        assert_eq!(body["error"]["code"], code, "code of {body}");
        assert_eq!(body["error"]["field"].as_str(), field, "field of {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "message of {body}"
        );
        assert_eq!(
            self.header(header::CONTENT_TYPE),
            Some("application/json"),
            "content type of {body}"
        );
        self
    }

    pub fn message(&self) -> String {
        self.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

impl TestApp {
    /// The session of a test user.
    pub fn session(&self, email: &str) -> &Session {
        self.sessions
            .get(email)
            .unwrap_or_else(|| panic!("no test user {email}"))
    }

    /// The session of the single-role user of `role`.
    pub fn login_as(&self, role: Role) -> &Session {
        self.session(email_of(role))
    }

    /// Sends `req` as the default user ([`OWNER`]) unless it already carries a cookie or an
    /// `Authorization` header.
    pub async fn request(&self, req: Request<Body>) -> TestResponse {
        let req = if req.headers().contains_key(header::COOKIE)
            || req.headers().contains_key(header::AUTHORIZATION)
        {
            req
        } else {
            self.session(OWNER).sign(req)
        };
        self.anonymous(req).await
    }

    /// Sends `req` as `email`.
    pub async fn request_as(&self, email: &str, req: Request<Body>) -> TestResponse {
        let req = self.session(email).sign(req);
        self.anonymous(req).await
    }

    /// Sends `req` exactly as it is.
    pub async fn anonymous(&self, req: Request<Body>) -> TestResponse {
        let res = self.router.clone().oneshot(req).await.expect("infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let body = res
            .into_body()
            .collect()
            .await
            .expect("read body")
            .to_bytes();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str) -> TestResponse {
        self.request(Request::get(uri).body(Body::empty()).expect("request"))
            .await
    }

    /// A JSON request as the console sends it.
    pub async fn send(&self, method: Method, uri: &str, body: &Value) -> TestResponse {
        self.request(json_request(method, uri, body)).await
    }

    pub async fn post(&self, uri: &str, body: &Value) -> TestResponse {
        self.send(Method::POST, uri, body).await
    }

    pub async fn put(&self, uri: &str, body: &Value) -> TestResponse {
        self.send(Method::PUT, uri, body).await
    }

    /// Creates a change and returns its detail.
    pub async fn create(&self, body: &Value) -> Value {
        let res = self.post("/api/v1/changes", body).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        res.json()
    }

    /// Creates a change from [`new_change`] and returns its id.
    pub async fn create_default(&self) -> String {
        id_of(&self.create(&new_change()).await)
    }

    /// Applies a transition that must succeed, after having the gate it enters signed by
    /// the test users the policy asks for (never the author) and its evidence made to hold.
    /// A body without `revision` gets the change's current one.
    pub async fn transition(&self, id: &str, body: &Value) -> Value {
        let body = &self.with_revision(id, body).await;
        self.sign_off_for(id, body).await;
        let res = self
            .post(&format!("/api/v1/changes/{id}/transitions"), body)
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        res.json()
    }

    /// The change's current revision.
    pub async fn revision_of(&self, id: &str) -> i64 {
        let detail = self.get(&format!("/api/v1/changes/{id}")).await.json();
        detail["change"]["revision"].as_i64().expect("revision")
    }

    /// `body` (a transition request) with the change's current `revision` if it names none.
    pub async fn with_revision(&self, id: &str, body: &Value) -> Value {
        let mut body = body.clone();
        if body.get("revision").is_none() {
            body["revision"] = serde_json::json!(self.revision_of(id).await);
        }
        body
    }

    /// The change and the stage an advance or a skip `body` (a transition request) would
    /// enter; `None` for another action or one the state machine refuses.
    pub async fn target(
        &self,
        id: &str,
        body: &Value,
    ) -> Option<(shared::change::AiChange, shared::rollout::RolloutState)> {
        let detail = self.get(&format!("/api/v1/changes/{id}")).await.json();
        let change: shared::change::AiChange =
            serde_json::from_value(detail["change"].clone()).expect("change");
        let action = serde_json::from_value(body["action"].clone()).ok()?;
        use shared::rollout::TransitionAction::{Advance, Skip};
        if !matches!(action, Advance | Skip) {
            return None;
        }
        let to = shared::rollout::transition(
            &change.plan,
            change.state,
            change.paused.is_some(),
            action,
            body["reason"].as_str(),
        )
        .ok()?;
        Some((change, to))
    }

    /// Signs the gate `body` (a transition request) would enter, if it has one, and makes
    /// its evidence hold ([`TestApp::meet_evidence`]).
    pub async fn sign_off_for(&self, id: &str, body: &Value) {
        let Some((_, to)) = self.target(id, body).await else {
            return;
        };
        self.meet_evidence(id, body).await;
        let stage = shared::approvals::stage_key(to);
        self.sign_gate(id, Some(&stage)).await;
        self.meet_notice_gates(id, &stage).await;
    }

    /// Makes the evidence of the advance or skip `body` asks for hold, as a healthy rollout
    /// has it: leaving eval, a passing eval result; leaving the canary or a ramp step, its
    /// minimum time (the change's history moved back by it) and healthy windows of every
    /// catalogue metric, with enough requests per arm, just after the stage began.
    pub async fn meet_evidence(&self, id: &str, body: &Value) {
        use shared::rollout::RolloutState::{Canary, Eval, Ramp};
        let Some((change, to)) = self.target(id, body).await else {
            return;
        };
        if !to.is_live() || to == change.state {
            return;
        }
        let (hours, min_samples) = match change.state {
            Eval => {
                self.upload_eval(id, 0.99, &[]).await;
                return;
            }
            Canary => (change.plan.canary.min_duration_hours, 0),
            Ramp { step } => {
                let s = &change.plan.ramp[step as usize];
                (s.min_duration_hours, s.min_samples)
            }
            _ => return,
        };
        self.backdate_history(id, hours * 3600.0 + 60.0).await;
        let entered = rollgate::db::transitions::stage_entered_at(&self.pool, id, change.state)
            .await
            .expect("stage entry")
            .expect("the stage was entered");
        let entered =
            time::OffsetDateTime::parse(&entered, &time::format_description::well_known::Rfc3339)
                .expect("time");
        let candidate = min_samples.max(2_000) + 100;
        let percent = change.state.traffic_percent(&change.plan);
        let control = if percent < 100.0 {
            ((candidate as f64) * (100.0 - percent) / percent).ceil() as u64
        } else {
            0
        };
        self.send_healthy_windows(id, entered + time::Duration::seconds(1), control, candidate)
            .await;
    }

    /// Uploads an eval result of `pass_rate` with `failures` (category, count) for the change
    /// in eval, as the default user; returns the stored result.
    pub async fn upload_eval(&self, id: &str, pass_rate: f64, failures: &[(&str, u64)]) -> Value {
        let failures: serde_json::Map<String, Value> = failures
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect();
        let res = self
            .post(
                &format!("/api/v1/changes/{id}/eval-results"),
                &json!({ "pass_rate": pass_rate, "cases": 400, "failures": failures }),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        res.json()
    }

    /// Moves the change's creation and whole history `seconds` back in time, as if they had
    /// been made that much earlier (their order stays).
    pub async fn backdate_history(&self, id: &str, seconds: f64) {
        use sqlx::Row;
        let shift = time::Duration::seconds_f64(seconds);
        let earlier = |at: String| {
            let at =
                time::OffsetDateTime::parse(&at, &time::format_description::well_known::Rfc3339)
                    .expect("time");
            rollgate::db::timestamp(at - shift)
        };
        let rows = sqlx::query("SELECT id, at FROM transitions WHERE change_id = $1")
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .expect("history");
        for row in rows {
            sqlx::query("UPDATE transitions SET at = $1 WHERE id = $2")
                .bind(earlier(row.get(1)))
                .bind(row.get::<String, _>(0))
                .execute(&self.pool)
                .await
                .expect("backdate");
        }
        let created: String = sqlx::query("SELECT created_at FROM changes WHERE id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .expect("change")
            .get(0);
        sqlx::query("UPDATE changes SET created_at = $1 WHERE id = $2")
            .bind(earlier(created))
            .bind(id)
            .execute(&self.pool)
            .await
            .expect("backdate");
    }

    /// One second of windows from `start`: `control` and `candidate` requests, every metric of
    /// the change's catalogue alike on both arms (a healthy candidate), through the ingestion
    /// route with a token made for it.
    pub async fn send_healthy_windows(
        &self,
        id: &str,
        start: time::OffsetDateTime,
        control: u64,
        candidate: u64,
    ) {
        let catalogue = self
            .get(&format!("/api/v1/changes/{id}/catalogue"))
            .await
            .json();
        let defs = catalogue["metrics"]
            .as_array()
            .or_else(|| catalogue.as_array())
            .cloned()
            .expect("catalogue");
        let window = |variant: &str, n: u64| {
            let mut metrics = serde_json::Map::new();
            for d in &defs {
                let key = d["key"].as_str().expect("key").to_owned();
                let value = match d["kind"].as_str() {
                    Some("rate") => json!({ "n": n, "successes": n / 10 }),
                    Some("mean") => json!({
                        "n": n,
                        "sum": n as f64,
                        "sum_squares": n as f64 * 1.01,
                    }),
                    Some("latency") => json!({
                        "le": [100, 500, 1000, 2000],
                        "counts": [n / 4, n / 2, n / 8, n - n / 4 - n / 2 - n / 8],
                        "cumulative": false,
                    }),
                    _ => continue,
                };
                metrics.insert(key, value);
            }
            json!({
                "variant": variant,
                "segment": "all",
                "window_start": rollgate::db::timestamp(start),
                "window_end": rollgate::db::timestamp(start + time::Duration::seconds(1)),
                "requests": n,
                "metrics": metrics,
            })
        };
        let mut windows = vec![window("candidate", candidate)];
        if control > 0 {
            windows.push(window("control", control));
        }
        let token = self
            .post(
                "/api/v1/tokens",
                &json!({ "name": format!("evidence {}", rollgate::db::new_id()), "change_id": id }),
            )
            .await;
        assert_eq!(token.status, StatusCode::CREATED, "{}", token.text());
        let secret = token.json()["secret"].as_str().expect("secret").to_owned();
        let res = self
            .request(
                Request::post(format!("/api/v1/changes/{id}/metrics"))
                    .header(header::CONTENT_TYPE, "application/json")
                    .header(header::AUTHORIZATION, format!("Bearer {secret}"))
                    .body(Body::from(json!({ "windows": windows }).to_string()))
                    .expect("request"),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    }

    /// Meets the notice requirements of the gate of `stage`, if it has any: publishes a notice
    /// to Support dated back past the lead time, and has Support (Sam) acknowledge it.
    pub async fn meet_notice_gates(&self, id: &str, stage: &str) {
        let gate = self
            .get(&format!("/api/v1/changes/{id}/gate?stage={stage}"))
            .await
            .json();
        let mut notice: Option<String> = None;
        for n in gate["notices"].as_array().cloned().unwrap_or_default() {
            if n["satisfied"] == true {
                continue;
            }
            let current = match (&notice, n["notice_id"].as_str()) {
                (Some(id), _) => id.clone(),
                (None, Some(existing)) if n["requirement"] == "acknowledged_before_wide_ramp" => {
                    existing.to_owned()
                }
                _ => {
                    let lead = n["lead_hours"].as_i64().unwrap_or(0);
                    self.publish_support_notice(id, lead + 1).await
                }
            };
            if n["requirement"] == "acknowledged_before_wide_ramp" {
                self.acknowledge_as_support(&current).await;
            }
            notice = Some(current);
        }
    }

    /// The id of the seeded Support team.
    pub async fn support_team(&self) -> String {
        let teams = self.get("/api/v1/teams").await.json();
        teams
            .as_array()
            .expect("teams")
            .iter()
            .find(|t| t["name"] == "Support")
            .and_then(|t| t["id"].as_str())
            .expect("the Support team")
            .to_owned()
    }

    /// Publishes a notice to Support about change `id`, as if `hours_ago` hours ago; its id.
    pub async fn publish_support_notice(&self, id: &str, hours_ago: i64) -> String {
        let support = self.support_team().await;
        let res = self
            .post(
                &format!("/api/v1/changes/{id}/notices"),
                &json!({
                    "audience": [support],
                    "expected_changes": "Shorter answers in Spanish.",
                    "talking_points": "Nothing to do; tell us about refusals.",
                }),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let notice = res.json()["id"].as_str().expect("id").to_owned();
        let res = self
            .post(&format!("/api/v1/notices/{notice}/publish"), &json!({}))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        self.backdate_notice(&notice, hours_ago).await;
        notice
    }

    /// Moves a notice's publication `hours_ago` hours into the past (the lead time).
    pub async fn backdate_notice(&self, notice: &str, hours_ago: i64) {
        let at = rollgate::db::timestamp(
            time::OffsetDateTime::now_utc() - time::Duration::hours(hours_ago),
        );
        sqlx::query("UPDATE notices SET published_at = $1 WHERE id = $2")
            .bind(at)
            .bind(notice)
            .execute(&self.pool)
            .await
            .expect("backdate");
    }

    /// Puts Sam (support) in the Support team and acknowledges `notice` for it as Sam.
    pub async fn acknowledge_as_support(&self, notice: &str) {
        let support = self.acknowledge_as_support_setup().await;
        let res = self
            .request_as(
                "sam@example.com",
                json_request(
                    Method::POST,
                    &format!("/api/v1/notices/{notice}/acknowledgements"),
                    &json!({"team_id": support}),
                ),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    }

    /// Puts Sam (support) in the Support team; the team's id.
    pub async fn acknowledge_as_support_setup(&self) -> String {
        let support = self.support_team().await;
        let sam = self.session("sam@example.com").user_id.clone();
        let teams = self.get("/api/v1/teams").await.json();
        let team = teams
            .as_array()
            .expect("teams")
            .iter()
            .find(|t| t["id"] == support.as_str())
            .cloned()
            .expect("support");
        let mut members: Vec<String> = team["members"]
            .as_array()
            .expect("members")
            .iter()
            .map(|m| m["user_id"].as_str().expect("id").to_owned())
            .collect();
        if !members.contains(&sam) {
            members.push(sam);
            let res = self
                .put(
                    &format!("/api/v1/teams/{support}"),
                    &json!({"name": "Support", "members": members, "webhook_url": team["webhook_url"]}),
                )
                .await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        }
        support
    }

    /// Has every missing role of a gate signed by test users; returns the gate after.
    pub async fn sign_gate(&self, id: &str, stage: Option<&str>) -> Value {
        let uri = match stage {
            Some(s) => format!("/api/v1/changes/{id}/gate?stage={s}"),
            None => format!("/api/v1/changes/{id}/gate"),
        };
        let mut gate = self.get(&uri).await.json();
        let author = gate["author"]["id"].as_str().unwrap_or_default().to_owned();
        for missing in gate["missing"].as_array().cloned().unwrap_or_default() {
            let role: Role = serde_json::from_value(missing["role"].clone()).expect("role");
            let mut needed = missing["missing"].as_u64().unwrap_or(0);
            for (email, _, roles) in USERS.iter().skip(1) {
                let session = self.session(email);
                if needed == 0 || !roles.contains(&role) || session.user_id == author {
                    continue;
                }
                let res = self
                    .request_as(
                        email,
                        json_request(
                            Method::POST,
                            &format!("/api/v1/changes/{id}/approvals"),
                            &json!({
                                "decision": "approve",
                                "role": role,
                                "revision": gate["revision"],
                                "stage": gate["stage"],
                            }),
                        ),
                    )
                    .await;
                assert_eq!(res.status, StatusCode::OK, "{}", res.text());
                gate = res.json();
                needed -= 1;
            }
        }
        gate
    }

    /// Seeds the demo workspace (cheap password hashes); false when the workspace was not
    /// empty and was left alone.
    pub async fn seed_demo(&self) -> bool {
        self.seed_demo_with(false).await
    }

    /// [`Self::seed_demo`], with the four months of finished changes before it if `history`.
    pub async fn seed_demo_with(&self, history: bool) -> bool {
        rollgate::demo::seed(
            &self.pool,
            &rollgate::accounts::Passwords::cheap_for_tests(),
            history,
        )
        .await
        .expect("seed")
    }

    /// Rows in `changes` and `transitions`.
    pub async fn counts(&self) -> (i64, i64) {
        (
            rollgate::db::changes::count(&self.pool)
                .await
                .expect("count"),
            rollgate::db::transitions::count(&self.pool)
                .await
                .expect("count"),
        )
    }

    /// Posts the transition `body` (with its revision) on the change `id` and asserts it is
    /// refused as `409 gate_not_satisfied`, nothing stored; the refusal names what is missing.
    pub async fn gate_refuses(&self, id: &str, body: &Value) -> TestResponse {
        self.rejects(
            json_request(
                Method::POST,
                &format!("/api/v1/changes/{id}/transitions"),
                body,
            ),
            StatusCode::CONFLICT,
            "gate_not_satisfied",
            None,
        )
        .await
    }

    /// Sends `req`, asserts the JSON error, and asserts nothing was stored.
    pub async fn rejects(
        &self,
        req: Request<Body>,
        status: StatusCode,
        code: &str,
        field: Option<&str>,
    ) -> TestResponse {
        let before = self.counts().await;
        let what = format!("{} {}", req.method(), req.uri());
        let res = self.request(req).await;
        eprintln!("{what} → {} {}", res.status, res.text());
        res.assert_error(status, code, field);
        assert_eq!(self.counts().await, before, "{what} changed the row counts");
        res
    }
}

pub fn json_request(method: Method, uri: &str, body: &Value) -> Request<Body> {
    raw_request(method, uri, Some("application/json"), body.to_string())
}

pub fn raw_request(
    method: Method,
    uri: &str,
    content_type: Option<&str>,
    body: impl Into<Body>,
) -> Request<Body> {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(ct) = content_type {
        req = req.header(header::CONTENT_TYPE, ct);
    }
    req.body(body.into()).expect("request")
}

pub fn id_of(detail: &Value) -> String {
    detail["change"]["id"]
        .as_str()
        .expect("detail has change.id")
        .to_owned()
}

/// A valid `NewChange`.
pub fn new_change() -> Value {
    json!({
        "title": "Shorter system prompt for billing answers",
        "kind": "prompt",
        "risk": "standard",
        "baseline": { "prompt_version": "billing-v12" },
        "candidate": { "prompt_version": "billing-v13" },
        "expected_changes": "Answers get shorter.",
        "owner": "ana@example.com"
    })
}

/// A valid `ChangeUpdate` of `detail` at its current revision.
pub fn update_of(detail: &Value) -> Value {
    let c = &detail["change"];
    json!({
        "revision": c["revision"],
        "title": c["title"],
        "kind": c["kind"],
        "risk": c["risk"],
        "baseline": c["baseline"],
        "candidate": c["candidate"],
        "expected_changes": c["expected_changes"],
        "owner": c["owner"],
        "product_area": c["product_area"],
        "plan": c["plan"],
    })
}

/// A `rollgate serve` process (the real binary) on a free loopback port, on `database_url`,
/// with the guardian off; killed when dropped.
pub struct Server {
    child: std::process::Child,
    port: u16,
    /// Kept open: a closed pipe would fail the server's next line of output.
    _stdout: std::io::BufReader<std::process::ChildStdout>,
    _dist: tempfile::TempDir,
}

impl Server {
    pub fn start(database_url: &str) -> Server {
        use std::io::BufRead;
        use std::process::{Command, Stdio};
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dist = tempfile::tempdir().expect("tempdir");
        write_dist(dist.path());
        let mut child = Command::new(env!("CARGO_BIN_EXE_rollgate"))
            .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
            .env("ROLLGATE_DATABASE_URL", database_url)
            .env("ROLLGATE_DIST", dist.path())
            .env("ROLLGATE_GUARDIAN", "off")
            .env_remove("ROLLGATE_DEMO")
            .env_remove("ROLLGATE_ADDR")
            .env_remove("RUST_LOG")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn rollgate");
        // It prints its address once it is about to serve.
        let mut line = String::new();
        let mut stdout = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        stdout.read_line(&mut line).expect("read");
        assert!(line.contains(&format!("127.0.0.1:{port}")), "{line}");
        Server {
            child,
            port,
            _stdout: stdout,
            _dist: dist,
        }
    }

    /// `127.0.0.1:<port>`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
