//! A newcomer opens the demo's canary while the simulated production app is feeding it: the
//! cost criterion breaches, and the segment matrix shows the quality drop confined to
//! `free / es` that the aggregate hides. Then the numbers on the page are checked against
//! `rollgate stats` run on the very same aggregates.

use std::io::Write;
use std::process::{Command, Stdio};

use rollgate_e2e::{Browser, DEMO_PM, Result, Server, act, check, find, http};
use serde_json::Value;

fn canary_id(server: &Server) -> String {
    let (status, text) =
        http::login(server, DEMO_PM).request(server, "GET", "/api/v1/changes?state=canary", None);
    assert_eq!(status, 200, "{text}");
    let page: Value = serde_json::from_str(&text).expect("json");
    page["items"][0]["id"]
        .as_str()
        .expect("the demo has a change in canary")
        .to_string()
}

/// Runs `rollgate stats` (the binary under test) on `requests`.
fn rollgate_stats(requests: &[Value]) -> Vec<Value> {
    let bin = std::env::var_os("ROLLGATE_E2E_BIN").expect("ROLLGATE_E2E_BIN");
    let mut child = Command::new(bin)
        .arg("stats")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("rollgate stats starts");
    let input = serde_json::to_vec(requests).expect("requests");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("written");
    let out = child.wait_with_output().expect("rollgate stats ends");
    assert!(out.status.success());
    serde_json::from_slice(&out.stdout).expect("a JSON array")
}

/// Equal to 1e-9 relative: the page's Wasm uses Rust's libm, the binary the C library's.
fn close(page: f64, cli: f64) -> bool {
    page == cli || (page - cli).abs() <= 1e-9 * page.abs().max(cli.abs())
}

#[tokio::test]
async fn catch_a_hidden_regression() -> Result {
    let server = Server::start_demo();
    let id = canary_id(&server);
    let browser = Browser::start().await;
    let c = &browser.client;
    act::login(c, &server, DEMO_PM).await?;
    c.goto(&server.page(&format!("/changes/{id}/compare?window=all")))
        .await?;
    find::one(c, &find::hook("comparison-ready")).await?;

    // The cost criterion breaches on the aggregate.
    let cost = "[data-test=\"metric-row\"][data-metric=\"cost_per_request\"]";
    check::attr_is(c, cost, "data-verdict", "breach").await?;
    check::attr_is(c, &find::hook("overall-verdict"), "data-verdict", "breach").await?;

    // Quality passes on the aggregate but breaches in free / es, and the page says so.
    let quality = "shadow_eval_pass_rate";
    check::attr_is(
        c,
        &format!("[data-test=\"metric-row\"][data-metric=\"{quality}\"]"),
        "data-verdict",
        "pass",
    )
    .await?;
    check::attr_is(
        c,
        &format!(
            "[data-test=\"matrix-cell\"][data-metric=\"{quality}\"][data-segment=\"free / es\"]"
        ),
        "data-status",
        "breach",
    )
    .await?;
    let callout = find::text(c, &find::hook("hidden-regression")).await?;
    assert!(callout.contains("free / es"), "{callout}");
    assert!(
        find::all(c, &find::hook("srm-banner")).await?.is_empty(),
        "the demo's split is as planned"
    );
    browser.screenshot("comparison").await?;

    // Every number on the page equals `rollgate stats` on the same aggregates.
    let rows = find::all(c, &find::hook("metric-row")).await?;
    let mut requests = Vec::new();
    let mut shown = Vec::new();
    for row in rows {
        let metric = row.attr("data-metric").await?.unwrap_or_default();
        let Some(request) = row
            .attr("data-stats-request")
            .await?
            .filter(|r| !r.is_empty())
        else {
            continue;
        };
        let num = |v: Option<String>| v.and_then(|s| s.parse::<f64>().ok()).unwrap_or(f64::NAN);
        let numbers = [
            num(row.attr("data-estimate").await?),
            num(row.attr("data-ci-lo").await?),
            num(row.attr("data-ci-hi").await?),
            num(row.attr("data-p").await?),
        ];
        requests.push(serde_json::from_str::<Value>(&request)?);
        shown.push((metric, numbers));
    }
    assert!(
        shown.len() >= 8,
        "rates and means are all reproducible: {}",
        shown.len()
    );
    let answers = rollgate_stats(&requests);
    for ((metric, [estimate, lo, hi, p]), cli) in shown.iter().zip(&answers) {
        let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
        let want = [
            f(&cli["estimate"]),
            f(&cli["ci"][0]),
            f(&cli["ci"][1]),
            f(&cli["p_value"]),
        ];
        for (got, want) in [*estimate, *lo, *hi, *p].into_iter().zip(want) {
            assert!(
                close(got, want),
                "{metric}: page {got} vs rollgate stats {want} ({cli})"
            );
        }
    }
    browser.close().await;
    Ok(())
}
