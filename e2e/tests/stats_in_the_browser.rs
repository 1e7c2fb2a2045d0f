//! The browser runs the same significance maths as the server: every golden case computed by
//! the Wasm build equals the native result (to rounding of the platform's libm) and the
//! reference numbers.

use fantoccini::Client;
use rollgate_e2e::{Browser, PATIENCE, Result, Server};
use serde_json::Value;
use std::path::Path;
use std::time::Instant;

fn golden_files() -> Vec<std::path::PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = vec![root.join("shared/tests/golden/stats.json")];
    let outside = root.join("../shared/golden/stats.json");
    if outside.exists() {
        files.push(outside);
    }
    files
}

/// Same number to 1e-12 relative: the Wasm build uses Rust's own libm where the native build
/// uses the C library's, which may differ in the last place.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs())
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

async fn wasm_ready(c: &Client) -> Result {
    let start = Instant::now();
    loop {
        let ready = c
            .execute(
                "return typeof window.rollgate?.run_stats === 'function';",
                vec![],
            )
            .await?;
        if ready == Value::Bool(true) {
            return Ok(());
        }
        if start.elapsed() > PATIENCE {
            return Err("window.rollgate.run_stats never appeared".into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn stats_in_the_browser_match_native() -> Result {
    let server = Server::start();
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&server.page("/stats")).await?;
    wasm_ready(c).await?;

    for file in golden_files() {
        let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&file)?)?;
        let requests: Vec<&Value> = cases.iter().map(|c| &c["request"]).collect();
        let input = serde_json::to_string(&requests)?;
        let out = c
            .execute(
                "return window.rollgate.run_stats(arguments[0]);",
                vec![Value::String(input)],
            )
            .await?;
        let answers: Vec<Value> = serde_json::from_str(out.as_str().ok_or("a string")?)?;
        assert_eq!(answers.len(), cases.len());
        for (case, wasm) in cases.iter().zip(&answers) {
            let name = case["name"].as_str().unwrap_or("?");
            let native = shared::stats::run_request(&case["request"]);
            assert!(
                same(wasm, &native),
                "{name}: Wasm says {wasm}, native says {native}"
            );
            let expect = &case["expect"];
            if expect.get("error") == Some(&Value::Bool(true)) {
                assert!(wasm.get("error").is_some(), "{name}: {wasm}");
                continue;
            }
            for (field, want) in expect.as_object().ok_or("expect is an object")? {
                let got = &wasm[field];
                let close = match (got, want) {
                    (Value::Array(g), Value::Array(w)) => g.iter().zip(w).all(|(g, w)| {
                        let (g, w) = (g.as_f64().unwrap_or(f64::NAN), w.as_f64().unwrap_or(0.0));
                        (g - w).abs() <= 1e-12 || (g - w).abs() <= 1e-6 * w.abs()
                    }),
                    _ => {
                        let (g, w) = (
                            got.as_f64().unwrap_or(f64::NAN),
                            want.as_f64().unwrap_or(0.0),
                        );
                        (g - w).abs() <= 1e-12 || (g - w).abs() <= 1e-6 * w.abs()
                    }
                };
                assert!(close, "{name}: {field} = {got}, expected {want}");
            }
        }
    }
    browser.close().await;
    Ok(())
}
