//! The client commands as a pipeline runs them: the real `rollgate` binary against a real
//! server (the same binary, `rollgate serve`) on SQLite and, when `ROLLGATE_TEST_POSTGRES_URL`
//! is set, PostgreSQL, with a service token of scope `ci`. People's parts (signing gates) are
//! done through the in-process app on the same database.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use axum::http::StatusCode;
use common::traffic::at;
use common::{Server, TestApp, each_database};
use serde_json::{Value, json};

/// A server on the test's database, a token of `scopes` and a working directory.
struct Pipeline {
    server: Server,
    token: String,
    dir: tempfile::TempDir,
}

impl Pipeline {
    async fn start(app: &TestApp, scopes: Value) -> Pipeline {
        let res = app
            .post(
                "/api/v1/tokens",
                &json!({ "name": "pipeline", "scopes": scopes }),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let url = app.pool.connect_options().database_url.to_string();
        Pipeline {
            server: Server::start(&url),
            token: res.json()["secret"].as_str().expect("secret").to_owned(),
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }

    fn write(&self, name: &str, text: &str) -> String {
        std::fs::write(self.dir.path().join(name), text).expect("write");
        self.path(name)
    }

    /// `rollgate args…` with `ROLLGATE_URL` and `ROLLGATE_TOKEN` set, as a CI job would.
    fn run(&self, args: &[&str]) -> Run {
        run(Command::new(env!("CARGO_BIN_EXE_rollgate"))
            .args(args)
            .current_dir(self.dir.path())
            .env("ROLLGATE_URL", self.server.url())
            .env("ROLLGATE_TOKEN", &self.token))
    }
}

/// What a command did: exit code, standard output and error.
#[derive(Debug)]
struct Run {
    code: i32,
    out: String,
    err: String,
}

fn run(cmd: &mut Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.env_remove("RUST_LOG").output().expect("run rollgate");
    Run {
        code: status.code().expect("exit code"),
        out: String::from_utf8_lossy(&stdout).into_owned(),
        err: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

impl Run {
    fn expect(&self, code: i32) -> &Self {
        assert_eq!(self.code, code, "{self:#?}");
        self
    }
}

const CHANGE_TOML: &str = r#"
flag_key = "billing-prompt-v13"
title = "Shorter system prompt for billing answers"
kind = "prompt"
risk = "standard"
owner = "ana@example.com"
expected_changes = """
Answers get shorter.
"""
template = "standard"

[baseline]
prompt_version = "billing-v12"

[candidate]
prompt_version = "billing-v13"
"#;

async fn change_by_key(app: &TestApp, key: &str) -> Value {
    let page = app
        .get(&format!("/api/v1/changes?flag_key={key}"))
        .await
        .json();
    let id = page["items"][0]["id"]
        .as_str()
        .expect("a change")
        .to_owned();
    app.get(&format!("/api/v1/changes/{id}")).await.json()
}

async fn count(app: &TestApp) -> i64 {
    app.counts().await.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applying_a_file_twice_makes_one_change_and_a_bad_file_none() {
    each_database(|app| async move {
        let p = Pipeline::start(&app, json!(["ci"])).await;
        let file = p.write("change.toml", CHANGE_TOML);

        let first = p.run(&["change", "apply", &file]);
        first.expect(0);
        let detail = change_by_key(&app, "billing-prompt-v13").await;
        let id = detail["change"]["id"].as_str().expect("id");
        assert_eq!(
            first.out.trim(),
            format!("created {}/changes/{id}", p.server.url())
        );
        assert_eq!(
            detail["change"]["title"],
            "Shorter system prompt for billing answers"
        );
        p.run(&["change", "apply", &file])
            .expect(0)
            .out
            .starts_with("unchanged ")
            .then_some(())
            .expect("unchanged");
        assert_eq!(count(&app).await, 1);
        assert_eq!(
            app.revision_of(id).await,
            detail["change"]["revision"].as_i64().unwrap()
        );

        // An edit of the file updates the same change; the same content in JSON is no edit.
        let edited = CHANGE_TOML.replace("Shorter system prompt", "Short system prompt");
        let file = p.write("change.toml", &edited);
        let res = p.run(&["change", "apply", &file]);
        assert!(res.expect(0).out.starts_with("updated "), "{res:?}");
        let as_json = json!({
            "flag_key": "billing-prompt-v13",
            "title": "Short system prompt for billing answers",
            "kind": "prompt",
            "risk": "standard",
            "owner": "ana@example.com",
            "expected_changes": "Answers get shorter.\n",
            "template": "standard",
            "baseline": { "prompt_version": "billing-v12" },
            "candidate": { "prompt_version": "billing-v13" },
        });
        let json_file = p.write("change.json", &as_json.to_string());
        let res = p.run(&["change", "apply", &json_file]);
        assert!(res.expect(0).out.starts_with("unchanged "), "{res:?}");
        assert_eq!(count(&app).await, 1);

        // A bad file: each problem with its path, exit 3, nothing created.
        let mut plan = serde_json::to_value(shared::plan::PlanTemplate::Standard.plan()).unwrap();
        plan["ramp"][2]["percent"] = json!("most");
        let mut bad = as_json.clone();
        bad["flag_key"] = json!("another-change");
        bad["colour"] = json!("blue");
        bad["risk"] = json!(3);
        bad.as_object_mut().unwrap().remove("template");
        bad["plan"] = plan.clone();
        let res = p.run(&["change", "apply", &p.write("bad.json", &bad.to_string())]);
        res.expect(3);
        for path in ["colour: ", "risk: ", "plan.ramp[2].percent: "] {
            assert!(res.err.contains(path), "{path}: {res:?}");
        }
        // Types right, rules broken: the plan's numbers and the flag key.
        plan["ramp"][2]["percent"] = json!(250.0);
        let mut broken = as_json.clone();
        broken.as_object_mut().unwrap().remove("template");
        broken["plan"] = plan;
        broken["flag_key"] = json!("Not A Key");
        let res = p.run(&[
            "change",
            "apply",
            &p.write("broken.json", &broken.to_string()),
        ]);
        res.expect(3);
        assert!(res.err.contains("flag_key: "), "{res:?}");
        assert!(res.err.contains("plan.ramp[2]"), "{res:?}");
        let res = p.run(&["change", "apply", &p.write("broken.toml", "title = [")]);
        res.expect(3);
        assert!(res.err.contains("not valid TOML"), "{res:?}");
        assert_eq!(count(&app).await, 1);

        // The server's refusals are printed with its message (a token without `ci`), and a
        // server that is not there is named.
        let ingest_only = app
            .post(
                "/api/v1/tokens",
                &json!({ "name": "app", "scopes": ["ingest"] }),
            )
            .await
            .json()["secret"]
            .as_str()
            .expect("secret")
            .to_owned();
        let res = run(Command::new(env!("CARGO_BIN_EXE_rollgate")).args([
            "change",
            "apply",
            &file,
            "--url",
            &p.server.url(),
            "--token",
            &ingest_only,
        ]));
        res.expect(4);
        assert!(
            res.err.contains("403") && res.err.contains("`ci`"),
            "{res:?}"
        );
        let closed = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port");
        let res = p.run(&[
            "change",
            "apply",
            &file,
            "--url",
            &format!("http://{closed}"),
        ]);
        res.expect(5);
        assert!(res.err.contains(&format!("http://{closed}")), "{res:?}");
        let res = p.run(&["rollback", "billing-prompt-v13"]);
        res.expect(3);
        assert!(res.err.contains("--reason"), "{res:?}");
        assert_eq!(count(&app).await, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_file_sets_the_flag_rules_once() {
    each_database(|app| async move {
        let p = Pipeline::start(&app, json!(["ci"])).await;
        let with_rules =
            format!("{CHANGE_TOML}\n[flag_rules]\nholdout_percent = 5\nholdout_days = 14\n");
        let file = p.write("change.toml", &with_rules);
        p.run(&["change", "apply", &file]).expect(0);
        let detail = change_by_key(&app, "billing-prompt-v13").await;
        assert_eq!(detail["holdout"], json!({ "percent": 5.0, "days": 14 }));
        let revision = detail["change"]["revision"].as_i64().unwrap();
        // Applied again, nothing moves.
        let res = p.run(&["change", "apply", &file]);
        assert!(res.expect(0).out.starts_with("unchanged "), "{res:?}");
        let id = detail["change"]["id"].as_str().unwrap();
        assert_eq!(app.revision_of(id).await, revision);
        // Broken rules are named under their key and send nothing.
        let broken = with_rules.replace("holdout_percent = 5", "holdout_percent = 80");
        let res = p.run(&["change", "apply", &p.write("broken.toml", &broken)]);
        res.expect(3);
        assert!(res.err.contains("flag_rules.holdout_percent"), "{res:?}");
        assert_eq!(app.revision_of(id).await, revision);
        // Changed rules on the draft are applied.
        let wider = with_rules.replace("holdout_days = 14", "holdout_days = 21");
        let res = p.run(&["change", "apply", &p.write("wider.toml", &wider)]);
        assert!(res.expect(0).out.starts_with("updated "), "{res:?}");
        let detail = change_by_key(&app, "billing-prompt-v13").await;
        assert_eq!(detail["holdout"]["days"], 21);
        assert_eq!(count(&app).await, 1);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_advances_and_rolls_back_as_its_token() {
    each_database(|app| async move {
        let p = Pipeline::start(&app, json!(["ci"])).await;
        p.run(&["change", "apply", &p.write("change.toml", CHANGE_TOML)])
            .expect(0);
        let id = change_by_key(&app, "billing-prompt-v13").await["change"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        // People sign the gate; the pipeline moves.
        let advance = app
            .with_revision(&id, &json!({ "action": "advance" }))
            .await;
        app.sign_off_for(&id, &advance).await;
        let res = p.run(&["advance", "billing-prompt-v13"]);
        assert!(res.expect(0).out.contains("Draft → Eval gate"), "{res:?}");
        let res = p.run(&[
            "rollback",
            "billing-prompt-v13",
            "--reason",
            "eval regressed",
        ]);
        res.expect(0);
        let detail = app.get(&format!("/api/v1/changes/{id}")).await.json();
        assert_eq!(detail["change"]["state"], json!({ "stage": "rolled_back" }));
        let actors: Vec<&str> = detail["history"]
            .as_array()
            .expect("history")
            .iter()
            .map(|t| t["actor"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(actors, ["token:pipeline", "token:pipeline"], "{detail}");
        let res = p.run(&["status", "billing-prompt-v13"]);
        assert!(
            res.expect(0)
                .out
                .contains("rolled back by token:pipeline: eval regressed"),
            "{res:?}"
        );
        // A rolled-back change is over: advancing it is the server's refusal.
        let res = p.run(&["advance", "billing-prompt-v13"]);
        res.expect(4);
        assert!(res.err.contains("409"), "{res:?}");
        let res = p.run(&["advance", "no-such-change"]);
        res.expect(3);
        assert!(res.err.contains("no-such-change"), "{res:?}");

        // The same file again: the rolled-back change already says it.
        let before = count(&app).await;
        let res = p.run(&["change", "apply", &p.write("change.toml", CHANGE_TOML)]);
        assert!(res.expect(0).out.starts_with("unchanged "), "{res:?}");
        // A fixed candidate: the flag's next version, from the baseline it went back to.
        let fixed = CHANGE_TOML.replace(
            "[candidate]\nprompt_version = \"billing-v13\"",
            "[candidate]\nprompt_version = \"billing-v13b\"",
        );
        let res = p.run(&["change", "apply", &p.write("fixed.toml", &fixed)]);
        assert!(
            res.expect(0)
                .out
                .contains("the next version of `billing-prompt-v13` after"),
            "{res:?}"
        );
        assert_eq!(count(&app).await, before + 1);
        let next = change_by_key(&app, "billing-prompt-v13").await;
        assert_ne!(next["change"]["id"], id.as_str());
        assert_eq!(next["change"]["state"], json!({ "stage": "draft" }));
        assert_eq!(next["versions"].as_array().map(Vec::len), Some(2), "{next}");
        let res = p.run(&["change", "apply", &p.write("fixed.toml", &fixed)]);
        assert!(res.expect(0).out.starts_with("unchanged "), "{res:?}");
        // A file that starts elsewhere than the flag serves: refused, nothing created.
        let elsewhere = fixed.replace(
            "[baseline]\nprompt_version = \"billing-v12\"",
            "[baseline]\nprompt_version = \"billing-v11\"",
        );
        let res = p.run(&["change", "apply", &p.write("elsewhere.toml", &elsewhere)]);
        assert_ne!(res.code, 0, "{res:?}");
        assert_eq!(count(&app).await, before + 1);
    })
    .await;
}

/// Two windows (control, candidate) of one second ending `end`, as JSON lines: `control`
/// and `candidate` requests with a mean cost of 0.004 on control and `0.004 × (1 + lift)`
/// on the candidate.
fn window_lines(end: i64, control: u64, candidate: u64, lift: f64) -> String {
    let window = |variant: &str, n: u64, mean: f64| {
        json!({
            "variant": variant,
            "segment": "all",
            "window_start": at(end - 1),
            "window_end": at(end),
            "requests": n,
            "metrics": {
                "cost_per_request": {
                    "n": n,
                    "sum": mean * n as f64,
                    "sum_squares": (mean * mean + 0.001 * 0.001) * n as f64,
                },
            },
        })
        .to_string()
    };
    format!(
        "{}\n{}\n",
        window("control", control, 0.004),
        window("candidate", candidate, 0.004 * (1.0 + lift))
    )
}

/// A change from `file` at its canary, moved there by people in process.
async fn at_canary(app: &TestApp, key: &str) -> String {
    let id = change_by_key(app, key).await["change"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for _ in 0..2 {
        app.transition(&id, &json!({ "action": "advance" })).await;
    }
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_wait_exits_with_the_verdict() {
    each_database(|app| async move {
        let p = Pipeline::start(&app, json!(["ci", "ingest"])).await;
        for key in ["passing", "breaching", "quiet"] {
            let toml = CHANGE_TOML
                .replace("billing-prompt-v13", key)
                .replace("Shorter system prompt", key);
            p.run(&["change", "apply", &p.write(&format!("{key}.toml"), &toml)])
                .expect(0);
            // The windows below carry the cost only: the other criteria would have no data,
            // which is never a pass.
            let detail = change_by_key(&app, key).await;
            let id = detail["change"]["id"].as_str().expect("id").to_owned();
            let mut edit = common::update_of(&detail);
            let criteria = edit["plan"]["criteria"].as_array_mut().expect("criteria");
            criteria.retain(|c| c["metric"] == "cost_per_request");
            assert_eq!(criteria.len(), 1);
            let res = app.put(&format!("/api/v1/changes/{id}"), &edit).await;
            assert_eq!(res.status, axum::http::StatusCode::OK, "{}", res.text());
            at_canary(&app, key).await;
        }
        // Windows may not start before the canary nor end in the future.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let end = time::OffsetDateTime::now_utc().unix_timestamp();
        let same = p.write("same.jsonl", &window_lines(end, 190_000, 10_000, 0.0));
        p.run(&["push", "--change", "passing", &same]).expect(0);
        let worse = p.write("worse.jsonl", &window_lines(end, 19_000, 1_000, 0.5));
        p.run(&["push", "--change", "breaching", &worse]).expect(0);

        let wait = |key: &'static str, timeout: &'static str| {
            p.run(&[
                "status",
                key,
                "--wait",
                "--timeout",
                timeout,
                "--interval",
                "200ms",
            ])
        };
        let res = wait("passing", "20s");
        assert!(res.expect(0).out.contains("passing: pass"), "{res:?}");
        let res = wait("breaching", "20s");
        res.expect(1);
        assert!(res.out.contains("breaching: breach"), "{res:?}");
        assert!(res.out.contains("cost_per_request"), "{res:?}");
        let started = std::time::Instant::now();
        let res = wait("quiet", "1s");
        res.expect(2);
        assert!(started.elapsed() < std::time::Duration::from_secs(10));
        assert!(res.out.contains("giving up"), "{res:?}");
        let res = p.run(&["status", "breaching"]);
        assert!(res.expect(0).out.contains("report: breach"), "{res:?}");
        let res = p.run(&["status", "quiet", "--wait", "--timeout", "soon"]);
        res.expect(3);
    })
    .await;
}

/// Six windows an hour apart on 1 January 2025, one JSON object a line.
fn six_windows() -> Vec<String> {
    (0..6)
        .map(|i| {
            let start = 1_735_689_600 + i * 3600;
            json!({
                "variant": if i % 2 == 0 { "control" } else { "candidate" },
                "segment": "all",
                "window_start": at(start),
                "window_end": at(start + 3600),
                "requests": 100 + i,
                "metrics": { "cost_per_request": { "n": 100 + i, "sum": 0.4, "sum_squares": 0.0017 } },
            })
            .to_string()
        })
        .collect()
}

async fn summary(app: &TestApp, id: &str) -> Value {
    let res = app
        .get(&format!("/api/v1/changes/{id}/metrics/summary"))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_push_resumes_without_counting_twice() {
    each_database(|app| async move {
        let p = Pipeline::start(&app, json!(["ci", "ingest"])).await;
        let mut ids = Vec::new();
        for key in ["resumed", "at-once"] {
            let toml = CHANGE_TOML
                .replace("billing-prompt-v13", key)
                .replace("Shorter system prompt", key);
            p.run(&["change", "apply", &p.write(&format!("{key}.toml"), &toml)])
                .expect(0);
            ids.push(
                change_by_key(&app, key).await["change"]["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        let lines = six_windows();
        // Line 4 is cut short: the first batch (lines 1–2) goes, the push stops there.
        let mut damaged = lines.clone();
        damaged[3] = damaged[3][..40].to_owned();
        let file = p.write("windows.jsonl", &(damaged.join("\n") + "\n"));
        let res = p.run(&["push", "--change", "resumed", &file, "--batch", "2"]);
        res.expect(3);
        assert!(res.err.contains("line 4"), "{res:?}");
        assert!(res.out.contains("pushed 2 windows in 1 batch "), "{res:?}");
        assert_eq!(summary(&app, &ids[0]).await["windows"], 2);
        assert!(Path::new(&p.path("windows.jsonl.rollgate-progress")).exists());

        // Repaired, the rerun skips what the server acknowledged.
        let file = p.write("windows.jsonl", &(lines.join("\n") + "\n"));
        let res = p.run(&["push", "--change", "resumed", &file, "--batch", "2"]);
        res.expect(0);
        assert!(res.out.contains("pushed 4 windows in 2 batches"), "{res:?}");
        assert!(res.out.contains("2 skipped"), "{res:?}");
        assert!(!res.out.contains("replaced"), "{res:?}");
        let resumed = summary(&app, &ids[0]).await;
        assert_eq!(resumed["windows"], 6);

        // The same file in one go elsewhere: the same sums.
        let res = p.run(&["push", "--change", "at-once", &file]);
        assert!(
            res.expect(0).out.contains("pushed 6 windows in 1 batch "),
            "{res:?}"
        );
        let at_once = summary(&app, &ids[1]).await;
        for part in ["windows", "cells", "traffic", "from", "to"] {
            assert_eq!(resumed[part], at_once[part], "{part}");
        }

        // Sent again in full (the progress file now speaks of the other change), the windows
        // replace themselves: nothing counts twice.
        let res = p.run(&["push", "--change", "resumed", &file]);
        assert!(res.expect(0).out.contains("(6 replaced"), "{res:?}");
        assert_eq!(summary(&app, &ids[0]).await, resumed);

        // A window the server refuses is named by its line.
        let mut unknown = lines.clone();
        unknown[4] = unknown[4].replace("cost_per_request", "no_such_metric");
        let other = p.write("other.jsonl", &(unknown.join("\n") + "\n"));
        let res = p.run(&["push", "--change", "at-once", &other, "--batch", "10"]);
        res.expect(4);
        assert!(res.err.contains("other.jsonl line 5"), "{res:?}");
    })
    .await;
}

/// Needs `POST /api/v1/changes/{id}/eval-results` (built on another branch): until both are
/// merged it fails at the upload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_eval_opens_the_gate() {
    each_database(|app| async move {
        let p = Pipeline::start(&app, json!(["ci"])).await;
        p.run(&["change", "apply", &p.write("change.toml", CHANGE_TOML)])
            .expect(0);
        let key = "billing-prompt-v13";
        let id = change_by_key(&app, key).await["change"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let good = p.write(
            "results.json",
            &json!({
                "pass_rate": 0.97, "cases": 400, "failures": { "format": 12, "safety": 0 },
                "cost_usd": 3.2, "latency_ms_p50": 850.0, "latency_ms_p95": 2100.0,
                "run_url": "https://ci.example.com/runs/812",
            })
            .to_string(),
        );
        // Not in eval yet: the server says which stage it is in.
        let res = p.run(&["eval", "upload", "--change", key, &good]);
        res.expect(4);
        assert!(res.err.contains("409"), "{res:?}");

        app.transition(&id, &json!({ "action": "advance" })).await;
        // People sign the canary's gate; without an eval result it stays shut.
        app.sign_gate(&id, Some("canary")).await;
        app.meet_notice_gates(&id, "canary").await;
        p.run(&["advance", key]).expect(4);

        // A bad file is refused before anything is sent; a weak run is stored and says why.
        let bad = p.write(
            "bad.json",
            &json!({ "pass_rate": 1.5, "cases": 10 }).to_string(),
        );
        let res = p.run(&["eval", "upload", "--change", key, &bad]);
        res.expect(3);
        assert!(res.err.contains("pass_rate"), "{res:?}");
        let weak = p.write(
            "weak.json",
            &json!({ "pass_rate": 0.5, "cases": 10 }).to_string(),
        );
        let res = p.run(&["eval", "upload", "--change", key, &weak]);
        res.expect(1);
        assert!(res.out.contains("does not meet"), "{res:?}");
        p.run(&["advance", key]).expect(4);

        let res = p.run(&["eval", "upload", "--change", key, &good]);
        assert!(res.expect(0).out.contains("meets the eval gate"), "{res:?}");
        let res = p.run(&["advance", key]);
        assert!(res.expect(0).out.contains("Eval gate → Canary"), "{res:?}");
        let detail = app.get(&format!("/api/v1/changes/{id}")).await.json();
        assert_eq!(detail["change"]["state"], json!({ "stage": "canary" }));
    })
    .await;
}

#[tokio::test]
async fn changes_are_found_by_flag_key() {
    each_database(|app| async move {
        let detail = app.create(&common::new_change()).await;
        let key = detail["change"]["flag_key"]
            .as_str()
            .expect("key")
            .to_owned();
        app.create_default().await;
        let page = app
            .get(&format!("/api/v1/changes?flag_key={key}"))
            .await
            .json();
        assert_eq!(page["total"], 1, "{page}");
        assert_eq!(page["items"][0]["id"], detail["change"]["id"]);
        let none = app.get("/api/v1/changes?flag_key=no-such-key").await.json();
        assert_eq!(none["total"], 0, "{none}");
        assert_eq!(none["items"], json!([]));
        let in_canary = app
            .get(&format!("/api/v1/changes?flag_key={key}&state=canary"))
            .await
            .json();
        assert_eq!(in_canary["total"], 0, "{in_canary}");
    })
    .await;
}

#[test]
fn help_lists_the_exit_codes_and_usage_errors_exit_3() {
    let res = run(Command::new(env!("CARGO_BIN_EXE_rollgate")).arg("help"));
    res.expect(0);
    for line in [
        "0  done",
        "1  `status --wait`: a rollback criterion breached",
        "2  `status --wait`: still inconclusive at the timeout",
        "3  bad command line or input file",
        "4  the server refused or failed",
        "5  the server could not be reached",
    ] {
        assert!(res.out.contains(line), "{line}: {res:?}");
    }
    let res = run(Command::new(env!("CARGO_BIN_EXE_rollgate"))
        .args(["status", "some-change", "--wait", "--timeout", "soon"])
        .env_remove("ROLLGATE_URL"));
    res.expect(3);
    let res = run(Command::new(env!("CARGO_BIN_EXE_rollgate"))
        .args(["status", "some-change"])
        .env_remove("ROLLGATE_URL"));
    res.expect(3);
    assert!(res.err.contains("ROLLGATE_URL"), "{res:?}");
}
