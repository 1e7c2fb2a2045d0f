//! Golden cases of the `rollgate stats` contract: `[{name, request, expect}]`, numbers from
//! GrowthBook gbstats, scipy and statsmodels (each case's `name` says which). Every expected
//! field must agree to 1e-6 relative or 1e-12 absolute; `{"error": true}` means the item must
//! be answered with an error message.
//!
//! Two files: the in-project copy `tests/golden/stats.json` (always; it also holds extra cases
//! computed with scipy/statsmodels/gbstats) and the project-wide `shared/golden/stats.json`
//! outside the repository, when it exists.

use std::path::PathBuf;

use serde_json::Value;
use shared::stats::{run_batch, run_request};

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-12 || (got - want).abs() <= 1e-6 * want.abs()
}

fn check_value(case: &str, field: &str, got: &Value, want: &Value, failures: &mut Vec<String>) {
    match (got, want) {
        (Value::Number(g), Value::Number(w)) => {
            let (g, w) = (
                g.as_f64().unwrap_or(f64::NAN),
                w.as_f64().unwrap_or(f64::NAN),
            );
            if !close(g, w) {
                failures.push(format!("{case}: {field} = {g:e}, expected {w:e}"));
            }
        }
        (Value::Array(g), Value::Array(w)) if g.len() == w.len() => {
            for (i, (g, w)) in g.iter().zip(w).enumerate() {
                check_value(case, &format!("{field}[{i}]"), g, w, failures);
            }
        }
        _ => failures.push(format!("{case}: {field} = {got}, expected {want}")),
    }
}

/// Runs every case of one golden file; returns how many were checked.
fn run_file(path: &PathBuf) -> usize {
    let text = std::fs::read_to_string(path).expect("read golden file");
    let cases: Vec<Value> = serde_json::from_str(&text).expect("golden file is a JSON array");
    let mut failures = Vec::new();
    for case in &cases {
        let name = case["name"].as_str().unwrap_or("<unnamed>");
        let got = run_request(&case["request"]);
        let expect = &case["expect"];
        if expect.get("error") == Some(&Value::Bool(true)) {
            if !got.get("error").is_some_and(Value::is_string) {
                failures.push(format!("{name}: expected an error, got {got}"));
            }
            continue;
        }
        if let Some(err) = got.get("error") {
            failures.push(format!("{name}: unexpected error {err}"));
            continue;
        }
        for (field, want) in expect.as_object().expect("expect is an object") {
            match got.get(field) {
                Some(g) => check_value(name, field, g, want, &mut failures),
                None => failures.push(format!("{name}: missing field {field} in {got}")),
            }
        }
    }
    // The batch entry point must agree with the item-by-item answers.
    let requests: Vec<&Value> = cases.iter().map(|c| &c["request"]).collect();
    let batch = run_batch(&serde_json::to_string(&requests).expect("serialise")).expect("batch");
    let batch: Vec<Value> = serde_json::from_str(&batch).expect("batch output is JSON");
    assert_eq!(batch.len(), cases.len());
    assert!(
        failures.is_empty(),
        "{} golden mismatches in {}:\n{}",
        failures.len(),
        path.display(),
        failures.join("\n")
    );
    cases.len()
}

#[test]
fn in_project_golden_cases() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/stats.json");
    let n = run_file(&path);
    println!("{n} golden cases passed in {}", path.display());
}

#[test]
fn project_wide_golden_cases_when_present() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/golden/stats.json");
    if path.exists() {
        let n = run_file(&path);
        println!("{n} golden cases passed in {}", path.display());
    } else {
        println!(
            "project-wide golden file {} is absent; only the in-project copy was checked",
            path.display()
        );
    }
}
