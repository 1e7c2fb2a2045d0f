//! `rollgate stats`: the golden cases pass through the binary exactly as through the library
//! (whose own tests hold them to the reference numbers), bad items are answered in place, and
//! input that is not an array is a usage error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn stats(input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rollgate"))
        .arg("stats")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("rollgate stats starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("input written");
    child.wait_with_output().expect("rollgate stats ends")
}

fn golden_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = vec![root.join("shared/tests/golden/stats.json")];
    let outside = root.join("../shared/golden/stats.json");
    if outside.exists() {
        files.push(outside);
    } else {
        eprintln!(
            "{} is absent; checked the in-project copy only",
            outside.display()
        );
    }
    files
}

/// Equal up to the last bit that a JSON round trip may change (serde_json's default float
/// parsing can be one unit in the last place off).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            (x - y).abs() <= 1e-12 * x.abs().max(y.abs()) || x == y
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn golden_cases_pass_through_the_binary() {
    for file in golden_files() {
        let cases: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&file).expect("golden file"))
                .expect("a JSON array");
        let requests: Vec<&Value> = cases.iter().map(|c| &c["request"]).collect();
        let out = stats(&serde_json::to_string(&requests).expect("requests"));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let answers: Vec<Value> = serde_json::from_slice(&out.stdout).expect("a JSON array out");
        assert_eq!(answers.len(), cases.len(), "{}", file.display());
        for (case, got) in cases.iter().zip(&answers) {
            let name = case["name"].as_str().unwrap_or("?");
            let want = shared::stats::run_request(&case["request"]);
            assert!(
                same(got, &want),
                "{name} ({}): binary says {got}, library says {want}",
                file.display()
            );
            let wants_error = case["expect"].get("error") == Some(&Value::Bool(true));
            assert_eq!(got.get("error").is_some(), wants_error, "{name}: {got}");
        }
    }
}

#[test]
fn bad_items_are_answered_in_place() {
    let out = stats(
        r#"[{"test":"proportions","control":{"n":10,"successes":11},"candidate":{"n":10,"successes":5}},
            {"test":"srm","observed":[1000,1200],"weights":[0.5,0.5]}]"#,
    );
    assert!(out.status.success());
    let answers: Vec<Value> = serde_json::from_slice(&out.stdout).expect("a JSON array out");
    assert!(
        answers[0]["error"]
            .as_str()
            .is_some_and(|m| m.contains("successes")),
        "{}",
        answers[0]
    );
    assert!(answers[1]["p_value"].as_f64().is_some_and(|p| p < 1e-4));
}

#[test]
fn input_that_is_not_an_array_is_a_usage_error() {
    for input in ["{\"test\":\"srm\"}", "not json", ""] {
        let out = stats(input);
        assert_eq!(out.status.code(), Some(2), "{input:?}");
        assert!(out.stdout.is_empty());
        assert!(!out.stderr.is_empty(), "{input:?} gets a message");
    }
}
