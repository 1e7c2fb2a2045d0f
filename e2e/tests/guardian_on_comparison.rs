//! The decision where the numbers are: with the guardian on (as `cargo xtask serve` runs the
//! demo), it rolls the breaching canary back by itself; its comparison page and its change page
//! both say so with the guardian's reason, the plain verdict names the breaching criterion
//! first, and "Details" holds the statistics behind it (adjusted p). On the healthy ramping
//! change an engineer holds the rollout from the comparison page, through the change page's own
//! dialog; support is offered neither move.

use std::time::{Duration, Instant};

use rollgate_e2e::{Browser, DEMO_ENGINEER, Result, Server, act, check, find, http};
use serde_json::Value;

const DEMO_SUPPORT: &str = "sam.support@demo.rollgate";

/// The demo change the guardian rolled back, with the reason it gave.
fn rolled_back_by_guardian(server: &Server, session: &http::Session) -> Option<(String, String)> {
    let (status, text) = session.request(server, "GET", "/api/v1/changes", None);
    assert_eq!(status, 200, "{text}");
    let list: Value = serde_json::from_str(&text).expect("a JSON list");
    for item in list["items"].as_array().expect("items") {
        let id = item["id"].as_str().expect("an id");
        let (_, text) = session.request(server, "GET", &format!("/api/v1/changes/{id}"), None);
        let detail: Value = serde_json::from_str(&text).expect("a JSON change");
        let by_guardian = detail["history"].as_array().and_then(|h| {
            h.iter()
                .rev()
                .find(|r| r["actor"] == "guardian" && r["action"] == "roll_back")
        });
        if let Some(r) = by_guardian {
            let reason = r["reason"].as_str().unwrap_or_default().to_string();
            return Some((id.to_string(), reason));
        }
    }
    None
}

/// The id of the demo change at `state`.
fn change_in(server: &Server, session: &http::Session, state: &str) -> String {
    let (status, text) = session.request(
        server,
        "GET",
        &format!("/api/v1/changes?state={state}"),
        None,
    );
    assert_eq!(status, 200, "{text}");
    let list: Value = serde_json::from_str(&text).expect("a JSON list");
    list["items"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("the demo has a change at {state}"))
        .to_string()
}

#[tokio::test]
async fn guardian_on_comparison() -> Result {
    let server = Server::start_demo_with_guardian();
    let erin = http::login(&server, DEMO_ENGINEER);

    // The simulator sends the canary's data on start; the guardian acts right after the batch.
    let start = Instant::now();
    let (id, reason) = loop {
        if let Some(found) = rolled_back_by_guardian(&server, &erin) {
            break found;
        }
        assert!(
            start.elapsed() < Duration::from_secs(180),
            "the guardian rolled nothing back within 3 minutes"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let why = reason
        .strip_prefix("Automatic rollback: ")
        .unwrap_or_else(|| panic!("the guardian's reason: {reason}"));
    // The first batch may show the segment's quality drop before the cost rise: either is
    // a pre-registered criterion breaching, named with its segment and threshold.
    assert!(
        (why.contains("cost_per_request") || why.contains("shadow_eval_pass_rate"))
            && why.contains("breaching"),
        "{reason}"
    );

    let browser = Browser::start().await;
    let c = &browser.client;
    c.set_window_size(1400, 1000).await?;
    act::login(c, &server, DEMO_ENGINEER).await?;
    c.goto(&server.page(&format!("/changes/{id}/compare?window=all")))
        .await?;
    find::one(c, &find::hook("comparison-ready")).await?;

    // What the guardian did, in the words of the change page.
    let banner = find::text(c, &find::hook("rollback-banner")).await?;
    assert!(banner.contains("Rolled back automatically at "), "{banner}");
    assert!(banner.contains(&format!("because {why}")), "{banner}");
    // A rolled-back change has nothing left to roll back or hold.
    check::count(c, &find::hook("rollback"), 0).await?;
    check::count(c, &find::hook("pause"), 0).await?;

    // The plain verdict: the breaching cost criterion first, with its limit and the action.
    check::attr_is(c, &find::hook("overall-verdict"), "data-verdict", "breach").await?;
    let first = find::one(c, &find::hook("finding")).await?;
    assert_eq!(first.attr("data-verdict").await?.as_deref(), Some("breach"));
    assert_eq!(
        first.attr("data-metric").await?.as_deref(),
        Some("cost_per_request")
    );
    let sentence = first.text().await?;
    assert!(
        sentence.starts_with("Cost per request rose ")
            && sentence.contains(", above the 15% limit")
            && sentence.ends_with(" → roll back"),
        "{sentence}"
    );
    // No jargon in the first view: the adjusted p and the method wait behind "Details".
    // (The error categories' own table, further down, keeps its adjusted p.)
    let mut first_view = find::text(c, &find::hook("overall-verdict")).await?;
    for row in find::all(c, &find::hook("metric-row")).await? {
        first_view.push_str(&row.text().await?);
    }
    assert!(
        !first_view.contains("Adj. p"),
        "the first view shows `Adj. p`"
    );
    let rules = find::all(c, &find::hook("verdict-rule")).await?;
    assert!(!rules.is_empty(), "no rule in the Details");
    for m in &rules {
        assert!(
            !m.is_displayed().await?,
            "a rule shows before Details opens"
        );
    }

    // Details: the same numbers as the sentence, and the adjusted p.
    act::click(c, &format!("{} summary", find::hook("verdict-details"))).await?;
    let cost_detail =
        "[data-test=\"detail-row\"][data-metric=\"cost_per_request\"][data-segment=\"all\"]";
    let detail = find::text(c, cost_detail).await?;
    let estimate = detail
        .split_whitespace()
        .find(|w| w.starts_with('+') && w.ends_with('%'))
        .unwrap_or_else(|| panic!("an estimate in {detail:?}"));
    assert!(
        sentence.contains(&format!("rose {} (", &estimate[1..])),
        "the sentence `{sentence}` and the details `{detail}` disagree"
    );
    let adjusted = find::text(
        c,
        &format!("{cost_detail} {}", find::hook("detail-adjusted-p")),
    )
    .await?;
    assert!(
        adjusted == "< 0.001" || adjusted.parse::<f64>().is_ok(),
        "adjusted p: {adjusted:?}"
    );
    // The sequential rule names its method once, with no second line repeating it.
    let rule = find::text(c, &format!("{cost_detail} {}", find::hook("verdict-rule"))).await?;
    assert!(rule.contains("planned-information design"), "{rule}");
    assert!(
        find::all(
            c,
            &format!("{cost_detail} {}", find::hook("verdict-method"))
        )
        .await?
        .is_empty(),
        "a method line under a rule that names it"
    );
    browser.screenshot("guardian-comparison-1400").await?;

    // The change page says the same.
    c.goto(&server.page(&format!("/changes/{id}"))).await?;
    let banner = find::text(c, &find::hook("rollback-banner")).await?;
    assert!(banner.contains(&format!("because {why}")), "{banner}");

    // On a phone: nothing scrolls sideways, the custom window's From and To included.
    c.set_window_size(390, 900).await?;
    c.goto(&server.page(&format!("/changes/{id}/compare?window=custom")))
        .await?;
    find::one(c, &find::hook("window-from")).await?;
    find::one(c, &find::hook("rollback-banner")).await?;
    assert!(
        !check::scrolls_sideways(c).await?,
        "the comparison scrolls sideways at 390 px"
    );
    c.goto(&server.page(&format!("/changes/{id}/compare?window=all")))
        .await?;
    find::one(c, &find::hook("comparison-ready")).await?;
    assert!(
        !check::scrolls_sideways(c).await?,
        "the comparison scrolls sideways at 390 px"
    );
    browser.screenshot("guardian-comparison-390").await?;
    c.set_window_size(1400, 1000).await?;

    // The healthy ramp: an engineer holds it from its comparison, with the change page's dialog.
    let ramp = change_in(&server, &erin, "ramp");
    c.goto(&server.page(&format!("/changes/{ramp}/compare?window=all")))
        .await?;
    find::one(c, &find::hook("comparison-ready")).await?;
    find::one(c, &find::hook("rollback")).await?;
    check::count(c, &find::hook("advance"), 0).await?;
    check::count(c, &find::hook("edit"), 0).await?;
    act::click(c, &find::hook("pause")).await?;
    act::fill(c, &find::hook("reason"), "Reading the latest tickets first").await?;
    act::click(c, &find::hook("confirm")).await?;
    let paused = find::text(c, &find::hook("paused-banner")).await?;
    assert!(
        paused.contains(&format!("Paused by {DEMO_ENGINEER} at ")),
        "{paused}"
    );
    find::one(c, &find::hook("resume")).await?;
    find::one(c, &find::hook("comparison-ready")).await?;

    // Support reads the same page without the moves.
    act::logout(c).await?;
    act::login(c, &server, DEMO_SUPPORT).await?;
    c.goto(&server.page(&format!("/changes/{ramp}/compare?window=all")))
        .await?;
    find::one(c, &find::hook("comparison-ready")).await?;
    find::one(c, &find::hook("paused-banner")).await?;
    for hook in ["rollback", "pause", "resume"] {
        check::count(c, &find::hook(hook), 0).await?;
    }
    browser.close().await;
    Ok(())
}
