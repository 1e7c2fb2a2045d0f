//! The guardian: windows sent through the real ingestion route; a breach of a pre-registered
//! criterion is rolled back once, as `guardian`, with a reason, the automatic notice and the
//! report it decided on frozen with the transition; a broken split is paused once, never
//! rolled back; a plan without automatic rollback is paused on a breach; an A/A feed is left
//! alone; a new error category above the plan's limit and unexpected drift are held once, and
//! the teams the change affects are told by webhook (a rollback's webhooks name the guardian
//! and its reason); a bad limit in a plan is refused.

mod common;

use axum::http::StatusCode;
use common::traffic::{
    canary_of, cost_windows as windows, second_of_traffic, send_cost as send, send_windows,
};
use common::{TestApp, each_database};
use rollgate::guardian;
use serde_json::{Value, json};
use shared::rollout::TransitionAction;

/// A change at its 5 % canary, with an ingestion token.
async fn canary(app: &TestApp) -> (String, String) {
    canary_of(app, common::new_change()).await
}

async fn detail(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/api/v1/changes/{id}")).await.json()
}

#[tokio::test]
async fn a_breach_is_rolled_back_once_by_the_guardian_with_its_reason() {
    each_database(|app| async move {
        let (id, token) = canary(&app).await;
        send(&app, &id, &token, 19_000, 1_000, 0.30).await;
        let (_, transitions) = app.counts().await;

        // Two sweeps at once (two instances): one rollback between them.
        let (a, b) = tokio::join!(guardian::sweep(&app.pool), guardian::sweep(&app.pool));
        let done: Vec<_> = a.unwrap().into_iter().chain(b.unwrap()).collect();
        assert_eq!(done.len(), 1, "{done:?}");
        assert_eq!(done[0].change_id, id);
        assert!(
            done[0]
                .reason
                .starts_with("Automatic rollback: cost_per_request in all: +30.0% ["),
            "{}",
            done[0].reason
        );

        let d = detail(&app, &id).await;
        assert_eq!(d["change"]["state"], json!({ "stage": "rolled_back" }));
        assert_eq!(d["change"]["traffic_percent"], 0.0);
        let last = d["history"]
            .as_array()
            .and_then(|h| h.last())
            .cloned()
            .unwrap();
        assert_eq!(last["actor"], guardian::ACTOR);
        assert_eq!(last["action"], "roll_back");
        assert_eq!(done[0].action, TransitionAction::RollBack);
        assert_eq!(last["reason"].as_str(), Some(done[0].reason.as_str()));
        // The report it decided on is frozen with the rollback, and reads as one.
        let evidence: shared::comparison::ComparisonReport =
            serde_json::from_value(last["evidence"].clone()).expect("a frozen report");
        assert_eq!(evidence.overall, shared::stats::Verdict::Breach);
        let cost = evidence.cell("cost_per_request", "all").expect("cost row");
        assert_eq!(cost.verdict, Some(shared::stats::Verdict::Breach));
        // Moves people make carry none.
        assert_eq!(d["history"][0]["evidence"], Value::Null);
        assert_eq!(app.counts().await.1, transitions + 1);

        // The automatic notice went out, once, naming the reason.
        let notices = app.get(&format!("/api/v1/changes/{id}/notices")).await;
        assert_eq!(notices.status, StatusCode::OK, "{}", notices.text());
        let text = notices.text();
        assert_eq!(text.matches("Automatic rollback").count(), 1, "{text}");

        // The audit log names the guardian.
        let audit = app.get("/api/v1/audit?action=change.roll_back").await;
        assert!(audit.text().contains(guardian::ACTOR), "{}", audit.text());

        // Judged again: nothing left to do.
        assert!(guardian::sweep(&app.pool).await.unwrap().is_empty());
        assert_eq!(app.counts().await.1, transitions + 1);
    })
    .await;
}

#[tokio::test]
async fn an_aa_feed_is_left_alone() {
    each_database(|app| async move {
        let (id, token) = canary(&app).await;
        for _ in 0..3 {
            send(&app, &id, &token, 19_000, 1_000, 0.0).await;
            assert!(guardian::sweep(&app.pool).await.unwrap().is_empty());
        }
        let d = detail(&app, &id).await;
        assert_eq!(d["change"]["state"], json!({ "stage": "canary" }));
        assert_eq!(d["change"]["paused"], Value::Null);
    })
    .await;
}

#[tokio::test]
async fn a_broken_split_is_paused_once_and_never_rolled_back() {
    each_database(|app| async move {
        // A breach seen through a split far from the plan's 5 %: not trusted, held.
        let (id, token) = canary(&app).await;
        send(&app, &id, &token, 10_000, 10_000, 0.30).await;
        let (_, transitions) = app.counts().await;
        let (a, b) = tokio::join!(guardian::sweep(&app.pool), guardian::sweep(&app.pool));
        let done: Vec<_> = a.unwrap().into_iter().chain(b.unwrap()).collect();
        assert_eq!(done.len(), 1, "{done:?}");
        assert_eq!(done[0].action, TransitionAction::Pause);
        let reason = &done[0].reason;
        assert!(
            reason.starts_with(
                "Paused: sample-ratio mismatch: the candidate has 10000 of 20000 requests \
                 (50.00%, control 10000) where the plan sends 5.00% (p = "
            ),
            "{reason}"
        );

        let d = detail(&app, &id).await;
        assert_eq!(d["change"]["state"], json!({ "stage": "canary" }));
        assert_eq!(d["change"]["traffic_percent"], 5.0);
        assert_eq!(d["change"]["paused"]["by"], guardian::ACTOR);
        assert_eq!(
            d["change"]["paused"]["reason"].as_str(),
            Some(reason.as_str())
        );
        let last = d["history"]
            .as_array()
            .and_then(|h| h.last())
            .cloned()
            .unwrap();
        assert_eq!(last["action"], "pause");
        assert_eq!(last["actor"], guardian::ACTOR);
        assert_eq!(last["from"], last["to"]);
        let evidence: shared::comparison::ComparisonReport =
            serde_json::from_value(last["evidence"].clone()).expect("a frozen report");
        let srm = evidence.srm.expect("the sample-ratio check");
        assert!(srm.mismatch);
        assert_eq!(
            (srm.control_requests, srm.candidate_requests),
            (10_000, 10_000)
        );

        // More of the same data: never paused twice, never rolled back.
        send(&app, &id, &token, 10_000, 10_000, 0.30).await;
        assert!(guardian::sweep(&app.pool).await.unwrap().is_empty());
        assert_eq!(app.counts().await.1, transitions + 1);

        // A person resumes: the guardian leaves the stage's holds to people from then on.
        app.transition(
            &id,
            &json!({ "action": "resume", "reason": "assignment fixed" }),
        )
        .await;
        assert!(guardian::sweep(&app.pool).await.unwrap().is_empty());
        let d = detail(&app, &id).await;
        assert_eq!(d["change"]["paused"], Value::Null);
        assert_eq!(d["change"]["state"], json!({ "stage": "canary" }));
        assert_eq!(app.counts().await.1, transitions + 2);
    })
    .await;
}

#[tokio::test]
async fn without_automatic_rollback_a_breach_is_paused_for_a_person() {
    each_database(|app| async move {
        let mut new = common::new_change();
        new["template"] = json!("low_stakes");
        let (id, token) = canary_of(&app, new).await;
        let plan = &detail(&app, &id).await["change"]["plan"];
        assert_eq!(plan["automatic_rollback"], false);
        send(&app, &id, &token, 19_000, 1_000, 0.30).await;
        let done = guardian::sweep(&app.pool).await.unwrap();
        assert_eq!(done.len(), 1, "{done:?}");
        assert_eq!(done[0].action, TransitionAction::Pause);
        assert!(
            done[0]
                .reason
                .starts_with("Paused: cost_per_request in all: +30.0% ["),
            "{}",
            done[0].reason
        );
        let d = detail(&app, &id).await;
        assert_eq!(d["change"]["state"], json!({ "stage": "canary" }));
        assert_eq!(d["change"]["paused"]["by"], guardian::ACTOR);
        assert!(guardian::sweep(&app.pool).await.unwrap().is_empty());

        // A person rolls it back while it is held.
        let d = app
            .transition(
                &id,
                &json!({ "action": "roll_back", "reason": "cost breach confirmed" }),
            )
            .await;
        assert_eq!(d["change"]["state"], json!({ "stage": "rolled_back" }));
        assert_eq!(d["change"]["paused"], Value::Null);
    })
    .await;
}

#[tokio::test]
async fn a_paused_change_is_still_rolled_back_on_a_breach() {
    each_database(|app| async move {
        let (id, token) = canary(&app).await;
        app.transition(
            &id,
            &json!({ "action": "pause", "reason": "reading tickets" }),
        )
        .await;
        send(&app, &id, &token, 19_000, 1_000, 0.30).await;
        let done = guardian::sweep(&app.pool).await.unwrap();
        assert_eq!(done.len(), 1, "{done:?}");
        assert_eq!(done[0].action, TransitionAction::RollBack);
        let d = detail(&app, &id).await;
        assert_eq!(d["change"]["state"], json!({ "stage": "rolled_back" }));
        assert_eq!(d["change"]["paused"], Value::Null);
    })
    .await;
}

#[tokio::test]
async fn the_task_acts_when_woken_by_an_ingestion() {
    each_database(|app| async move {
        let (id, token) = canary(&app).await;
        send(&app, &id, &token, 19_000, 1_000, 0.30).await;
        let wake = std::sync::Arc::new(tokio::sync::Notify::new());
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let task = guardian::spawn(app.pool.clone(), wake.clone(), stopped);
        wake.notify_one();
        let mut state = Value::Null;
        for _ in 0..100 {
            state = detail(&app, &id).await["change"]["state"].clone();
            if state == json!({ "stage": "rolled_back" }) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(state, json!({ "stage": "rolled_back" }));
        stop.send(true).unwrap();
        task.await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn in_the_demo_the_breaching_canary_is_rolled_back_and_the_ramp_goes_on() {
    each_database(|app| async move {
        assert!(app.seed_demo().await);
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let instance = rollgate::demo_traffic::Instance::generate();
        rollgate::demo_traffic::prepare(&app.router, &app.pool, &instance, now)
            .await
            .expect("demo backfill");
        let done = guardian::sweep(&app.pool).await.expect("sweep");
        let live = rollgate::db::changes::live(&app.pool).await.expect("live");
        let mut rolled = Vec::new();
        for r in done
            .iter()
            .filter(|r| r.action == TransitionAction::RollBack)
        {
            let d = detail(&app, &r.change_id).await;
            rolled.push(d["change"]["title"].as_str().unwrap_or_default().to_owned());
        }
        assert_eq!(rolled.len(), 1, "{rolled:?} {done:?}");
        // Nothing else is held: the demo's other live changes keep moving.
        assert_eq!(done.len(), 1, "{done:?}");
        assert!(
            rolled[0].starts_with("Shorter billing answers"),
            "{rolled:?}"
        );
        assert!(!live.is_empty());
    })
    .await;
}

/// A `rollgate serve` process on `url`, its stderr collected.
struct Instance {
    child: std::process::Child,
    port: u16,
    log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Instance {
    fn start(url: &str, dir: &std::path::Path) -> Instance {
        use std::io::BufRead;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rollgate"))
            .args([
                "serve",
                "--addr",
                &format!("127.0.0.1:{port}"),
                "--database",
                url,
            ])
            .args(["--dist", &dir.display().to_string()])
            .env("RUST_LOG", "info")
            .env_remove("ROLLGATE_DEMO")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn rollgate serve");
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr");
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let instance = Instance { child, port, log };
        for _ in 0..200 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return instance;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("rollgate serve did not listen: {}", instance.log());
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    fn leads(&self) -> bool {
        self.log().contains("now runs the guardian's sweeps")
    }

    /// Sends windows to this instance over HTTP; the answer's status line.
    fn ingest(&self, id: &str, token: &str, body: &Value) -> String {
        use std::io::{Read, Write};
        let body = body.to_string();
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect");
        write!(
            stream,
            "POST /api/v1/changes/{id}/metrics HTTP/1.1\r\nHost: localhost\r\n\
             Connection: close\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .expect("write");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        answer.lines().next().unwrap_or_default().to_owned()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls until the change is rolled back, for at most `limit`; how long it took.
async fn rolled_back_within(
    app: &TestApp,
    id: &str,
    limit: std::time::Duration,
) -> Option<std::time::Duration> {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if detail(app, id).await["change"]["state"] == json!({ "stage": "rolled_back" }) {
            return Some(started.elapsed());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    None
}

/// Two instances on one PostgreSQL database: an ingestion on either is judged at once and
/// rolled back once; when the instance holding the lease is killed (-9), the other takes the
/// sweeps over and acts on a breach nobody woke it for, within 15 s.
#[tokio::test]
async fn two_instances_act_once_and_one_takes_over_when_the_leader_dies() {
    let Ok(admin_url) = std::env::var(common::POSTGRES_ENV) else {
        eprintln!("PostgreSQL test skipped: set {}", common::POSTGRES_ENV);
        return;
    };
    use sqlx::{Connection, Executor};
    let name = format!("rollgate_t_{}", uuid::Uuid::now_v7().simple());
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(&admin_url)
        .await
        .expect("admin");
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create database");
    let url = common::with_database(&admin_url, &name);
    let dist = tempfile::tempdir().expect("tempdir");
    common::write_dist(dist.path());
    let app = common::connect(&url, dist.path()).await;

    let a = Instance::start(&url, dist.path());
    let b = Instance::start(&url, dist.path());
    let mut leader_known = false;
    for _ in 0..100 {
        if a.leads() != b.leads() {
            leader_known = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        leader_known,
        "no single leader:\n{}\n---\n{}",
        a.log(),
        b.log()
    );
    let (leader, other) = if a.leads() { (a, b) } else { (b, a) };

    // Sent to the instance without the lease: it judges on the spot; one rollback.
    let (id, token) = canary(&app).await;
    let (_, before) = app.counts().await;
    let status = other.ingest(&id, &token, &windows(19_000, 1_000, 0.30).await);
    assert!(status.contains("200"), "{status}");
    let took = rolled_back_within(&app, &id, std::time::Duration::from_secs(10)).await;
    assert!(took.is_some(), "not rolled back:\n{}", other.log());
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(app.counts().await.1, before + 1);

    // The leader dies; a breach arrives that wakes nobody (stored in-process here).
    let mut leader = leader;
    leader.child.kill().expect("kill -9");
    leader.child.wait().expect("reaped");
    let (id, token) = canary(&app).await;
    send(&app, &id, &token, 19_000, 1_000, 0.30).await;
    let took = rolled_back_within(&app, &id, std::time::Duration::from_secs(15)).await;
    assert!(
        took.is_some(),
        "the survivor did not take over:\n{}",
        other.log()
    );
    assert!(other.leads());
    eprintln!("taken over and rolled back in {:?}", took.unwrap());
    let history = detail(&app, &id).await["history"].clone();
    let rollbacks = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["action"] == "roll_back")
        .count();
    assert_eq!(rollbacks, 1);

    drop(other);
    drop(leader);
    app.pool.close().await;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
        .await
        .expect("drop database");
}

/// Sends one second of windows with the metrics `control` and `candidate` (window `metrics`
/// objects) on `nc` and `nb` requests.
async fn send_metrics(
    app: &TestApp,
    id: &str,
    token: &str,
    control: (u64, Value),
    candidate: (u64, Value),
) {
    send_windows(app, id, token, &second_of_traffic(control, candidate).await).await;
}

/// A mean metric over `n` requests with mean `m` and a spread of 10 % of it.
fn mean_of(n: u64, m: f64) -> Value {
    let sd = 0.1 * m;
    json!({ "n": n, "sum": m * n as f64, "sum_squares": sd * sd * (n as f64 - 1.0) + m * m * n as f64 })
}

/// Gives the Support team (the audience of a change's automatic messages when it has no
/// notice of its own) a webhook.
async fn hook_support(app: &TestApp) {
    let support = app.support_team().await;
    let teams = app.get("/api/v1/teams").await.json();
    let team = teams
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == support.as_str())
        .cloned()
        .unwrap();
    let members: Vec<Value> = team["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].clone())
        .collect();
    let res = app
        .put(
            &format!("/api/v1/teams/{support}"),
            &json!({"name": "Support", "members": members,
                    "webhook_url": "http://127.0.0.1:9/hook"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
}

/// The change's queued webhook deliveries: event, notice id and message, oldest first.
async fn queued(app: &TestApp, id: &str) -> Vec<(String, Option<String>, Option<String>)> {
    use sqlx::Row;
    sqlx::query(
        "SELECT event, notice_id, message FROM deliveries WHERE change_id = $1 \
         ORDER BY created_at, id",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .expect("deliveries")
    .iter()
    .map(|r| {
        (
            r.try_get("event").unwrap(),
            r.try_get("notice_id").unwrap(),
            r.try_get("message").unwrap(),
        )
    })
    .collect()
}

/// The webhook body of a queued message without a notice.
fn body_of(message: &str) -> Value {
    let m: rollgate::delivery::Message = serde_json::from_str(message).expect("a message");
    rollgate::delivery::message_body(None, &m, None)
}

#[tokio::test]
async fn a_new_error_category_above_the_limit_is_held_once_and_the_teams_are_told() {
    each_database(|app| async move {
        let (id, token) = canary(&app).await;
        hook_support(&app).await;
        let (_, transitions) = app.counts().await;
        // 12 schema errors in 1 000 candidate requests, never seen on control: 12 per 1 000.
        send_metrics(
            &app,
            &id,
            &token,
            (19_000, json!({ "error_categories": { "timeout": 30 } })),
            (
                1_000,
                json!({ "error_categories": { "timeout": 2, "schema_error": 12 } }),
            ),
        )
        .await;
        let (a, b) = tokio::join!(guardian::sweep(&app.pool), guardian::sweep(&app.pool));
        let done: Vec<_> = a.unwrap().into_iter().chain(b.unwrap()).collect();
        assert_eq!(done.len(), 1, "{done:?}");
        assert_eq!(done[0].action, TransitionAction::Pause);
        assert_eq!(
            done[0].reason,
            "Paused: a new error category, schema_error: 12 of 1000 candidate requests (12.00 \
             per 1 000), none in control; the plan's limit is 1 per 1 000. Find out what \
             fails, then resume or roll back."
        );
        let d = detail(&app, &id).await;
        assert_eq!(d["change"]["state"], json!({ "stage": "canary" }));
        assert_eq!(d["change"]["paused"]["by"], guardian::ACTOR);
        assert_eq!(app.counts().await.1, transitions + 1);

        // The teams the change affects are told, once, by the guardian, with what to do.
        let sent = queued(&app, &id).await;
        assert_eq!(sent.len(), 1, "{sent:?}");
        let (event, notice, message) = &sent[0];
        assert_eq!(event, "guardian");
        assert_eq!(notice, &None);
        let body = body_of(message.as_deref().unwrap());
        assert!(
            body["text"]
                .as_str()
                .unwrap()
                .starts_with("Held by the guardian: "),
            "{body}"
        );
        let fields = body["attachments"][0]["fields"].to_string();
        assert!(fields.contains("schema_error: 12 of 1000"), "{fields}");
        assert!(fields.contains("resume the rollout"), "{fields}");
        assert!(fields.contains("roll it back"), "{fields}");
        assert_eq!(body["rollgate"]["by"], guardian::ACTOR);
        assert_eq!(body["rollgate"]["action"], "pause");
        assert_eq!(body["rollgate"]["change_id"], id.as_str());

        // More of the same: held already, nothing more is sent.
        send_metrics(
            &app,
            &id,
            &token,
            (19_000, json!({ "error_categories": { "timeout": 30 } })),
            (1_000, json!({ "error_categories": { "schema_error": 12 } })),
        )
        .await;
        assert!(guardian::sweep(&app.pool).await.unwrap().is_empty());
        assert_eq!(queued(&app, &id).await.len(), 1);
        assert_eq!(app.counts().await.1, transitions + 1);
    })
    .await;
}

#[tokio::test]
async fn a_few_stray_errors_of_a_new_category_hold_nothing() {
    each_database(|app| async move {
        let (id, token) = canary(&app).await;
        send_metrics(
            &app,
            &id,
            &token,
            (19_000, json!({ "error_categories": { "timeout": 30 } })),
            (1_000, json!({ "error_categories": { "schema_error": 3 } })),
        )
        .await;
        assert!(guardian::sweep(&app.pool).await.unwrap().is_empty());
        assert_eq!(detail(&app, &id).await["change"]["paused"], Value::Null);
    })
    .await;
}

#[tokio::test]
async fn unexpected_drift_is_held_and_steady_metrics_are_left_alone() {
    each_database(|app| async move {
        let (id, token) = canary(&app).await;
        // Tokens per request (no criterion; fewer is better) and conversation length as in
        // an A/A test, a few times: nothing.
        for _ in 0..3 {
            send_metrics(
                &app,
                &id,
                &token,
                (
                    19_000,
                    json!({ "tokens_per_request": mean_of(19_000, 900.0),
                            "conversation_length": mean_of(19_000, 4.0) }),
                ),
                (
                    1_000,
                    json!({ "tokens_per_request": mean_of(1_000, 901.0),
                            "conversation_length": mean_of(1_000, 3.99) }),
                ),
            )
            .await;
            assert!(guardian::sweep(&app.pool).await.unwrap().is_empty());
        }
        // Then 30 % more tokens on the candidate.
        send_metrics(
            &app,
            &id,
            &token,
            (
                19_000,
                json!({ "tokens_per_request": mean_of(19_000, 900.0) }),
            ),
            (
                1_000,
                json!({ "tokens_per_request": mean_of(1_000, 900.0 * 1.3) }),
            ),
        )
        .await;
        let done = guardian::sweep(&app.pool).await.unwrap();
        assert_eq!(done.len(), 1, "{done:?}");
        assert_eq!(done[0].action, TransitionAction::Pause);
        assert!(
            done[0]
                .reason
                .starts_with("Paused: unexpected drift: tokens_per_request in all moved +"),
            "{}",
            done[0].reason
        );
        assert_eq!(
            detail(&app, &id).await["change"]["paused"]["by"],
            guardian::ACTOR
        );
    })
    .await;
}

#[tokio::test]
async fn the_webhooks_of_a_guardian_rollback_say_it_was_the_guardian_and_why() {
    each_database(|app| async move {
        let (id, token) = canary(&app).await;
        let (other, _) = canary(&app).await;
        hook_support(&app).await;
        send(&app, &id, &token, 19_000, 1_000, 0.30).await;
        let done = guardian::sweep(&app.pool).await.unwrap();
        assert_eq!(done.len(), 1, "{done:?}");
        let sent = queued(&app, &id).await;
        assert_eq!(sent.len(), 1, "{sent:?}");
        let (event, notice, message) = &sent[0];
        assert_eq!(event, "guardian");
        let notice = notice.as_deref().expect("the rollback notice");
        let mut conn = app.pool.acquire().await.unwrap();
        let notice = rollgate::db::notices::find(&mut conn, notice)
            .await
            .unwrap()
            .expect("notice");
        let m: rollgate::delivery::Message =
            serde_json::from_str(message.as_deref().unwrap()).unwrap();
        let body = rollgate::delivery::message_body(Some(&notice), &m, None);
        assert!(
            body["text"]
                .as_str()
                .unwrap()
                .starts_with("Rolled back by the guardian: "),
            "{body}"
        );
        assert_eq!(body["attachments"][0]["fields"][0]["title"], "Why");
        assert_eq!(
            body["attachments"][0]["fields"][0]["value"].as_str(),
            Some(done[0].reason.as_str())
        );
        assert_eq!(body["rollgate"]["notice_id"], notice.id.as_str());
        assert_eq!(body["rollgate"]["action"], "roll_back");

        // A person's rollback is told as the notice alone.
        app.transition(
            &other,
            &json!({ "action": "roll_back", "reason": "tickets" }),
        )
        .await;
        let sent = queued(&app, &other).await;
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(sent[0].0, "notice");
        assert_eq!(sent[0].2, None);
    })
    .await;
}

#[tokio::test]
async fn a_bad_new_category_limit_is_refused_and_changes_nothing() {
    each_database(|app| async move {
        let before = app.counts().await;
        let mut new = common::new_change();
        let mut plan = serde_json::to_value(shared::plan::PlanTemplate::Standard.plan()).unwrap();
        plan["new_category_limit_per_1000"] = json!(-1);
        new["plan"] = plan.clone();
        let res = app.post("/api/v1/changes", &new).await;
        res.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("plan.new_category_limit_per_1000"),
        );
        assert_eq!(app.counts().await, before);

        // A good one is stored and read back; a stored plan without it reads the default.
        plan["new_category_limit_per_1000"] = json!(2.5);
        new["plan"] = plan;
        let d = app.create(&new).await;
        assert_eq!(d["change"]["plan"]["new_category_limit_per_1000"], 2.5);
        let d = app.create(&common::new_change()).await;
        assert_eq!(d["change"]["plan"].get("new_category_limit_per_1000"), None);
    })
    .await;
}
