//! A PM ends the demo's long-running A/B test from its comparison page: the panel shows the
//! split and the two weeks it ran, the window over the test's own data, and the decision
//! form; an empty reason is refused beside the field; "Keep" is recorded with who and why,
//! and the change page's Advance no longer waits for a decision. A shipped change of the
//! demo's history shows its holdout on the same page.

use rollgate_e2e::{Browser, DEMO_PM, Result, Server, act, axe, check, find, http};

#[tokio::test]
async fn decide_an_ab_test() -> Result {
    let server = Server::start_demo_with_history();
    let pat = http::login(&server, DEMO_PM);
    let (status, text) = pat.request(&server, "GET", "/api/v1/changes?q=warmer%20tone", None);
    assert_eq!(status, 200, "{text}");
    let page: serde_json::Value = serde_json::from_str(&text)?;
    let id = page["items"][0]["id"]
        .as_str()
        .ok_or("no A/B test in the demo")?
        .to_owned();

    let browser = Browser::start().await;
    let c = &browser.client;
    c.set_window_size(1400, 1000).await?;
    act::login(c, &server, DEMO_PM).await?;
    c.goto(&server.page(&format!("/changes/{id}/compare")))
        .await?;
    let panel = find::text(c, &find::hook("long-run")).await?;
    assert!(panel.contains("A/B test at 50%"), "{panel}");
    assert!(panel.contains("Fixed split for 14 days"), "{panel}");
    // The window over the test's own data is one of the picker's choices.
    find::one(c, &find::hook("window-longrun")).await?;
    act::click(c, &find::hook("long-run-window")).await?;
    check::attr_is(c, &find::hook("window-longrun"), "aria-current", "true").await?;
    find::one(c, &find::hook("comparison-ready")).await?;
    browser.screenshot("ab-test-1400").await?;
    let violations = axe::serious_violations(c).await?;
    assert!(violations.is_empty(), "axe-core: {violations:?}");

    // No reason, no decision: the field says so and nothing is recorded.
    act::click(c, &find::hook("decision-submit")).await?;
    let error = find::text(c, "[data-test=field-error][data-field=note]").await?;
    assert!(error.contains("must be 1–4000 characters"), "{error}");
    let (_, text) = pat.request(
        &server,
        "GET",
        &format!("/api/v1/changes/{id}/decision"),
        None,
    );
    assert_eq!(text.trim(), "null");

    c.set_window_size(390, 844).await?;
    find::one(c, &find::hook("decision-form")).await?;
    assert!(
        !check::scrolls_sideways(c).await?,
        "the comparison scrolls sideways at 390 px"
    );
    browser.screenshot("ab-test-390").await?;
    c.set_window_size(1400, 1000).await?;

    act::select(c, &find::hook("decision-outcome"), "keep").await?;
    act::fill(
        c,
        &find::hook("decision-note"),
        "Setup completion up 0.6 points with cost flat: keep the warmer tone.",
    )
    .await?;
    act::click(c, &find::hook("decision-submit")).await?;
    let decided = find::text(c, &find::hook("decision")).await?;
    assert!(decided.starts_with("Decided: Keep"), "{decided}");
    assert!(decided.contains("Pat"), "{decided}");
    assert!(decided.contains("keep the warmer tone"), "{decided}");
    browser.screenshot("ab-test-decided-1400").await?;
    let (_, text) = pat.request(
        &server,
        "GET",
        &format!("/api/v1/changes/{id}/decision"),
        None,
    );
    let stored: serde_json::Value = serde_json::from_str(&text)?;
    assert_eq!(stored["outcome"], "keep", "{stored}");
    assert!(stored["report"]["matrix"].is_array(), "{stored}");

    // The gate out of the test reads the decision: its evidence no longer waits for one.
    let (_, text) = pat.request(&server, "GET", &format!("/api/v1/changes/{id}/gate"), None);
    let gate: serde_json::Value = serde_json::from_str(&text)?;
    let evidence = gate["evidence"].to_string();
    assert!(
        evidence.contains("decision is to keep the candidate"),
        "{evidence}"
    );

    // The demo history's last change keeps a 5 % holdout for five days after Full.
    let (_, text) = pat.request(&server, "GET", "/api/v1/changes?q=related-article", None);
    let page: serde_json::Value = serde_json::from_str(&text)?;
    let shipped = page["items"][0]["id"]
        .as_str()
        .ok_or("no holdout in the demo's history")?
        .to_owned();
    c.goto(&server.page(&format!("/changes/{shipped}/compare")))
        .await?;
    let panel = find::text(c, &find::hook("long-run")).await?;
    assert!(panel.contains("Holdout of 5%"), "{panel}");
    assert!(panel.contains("its 5 days ran until"), "{panel}");
    find::one(c, &find::hook("window-longrun")).await?;
    browser.screenshot("holdout-1400").await?;
    c.set_window_size(390, 844).await?;
    find::one(c, &find::hook("long-run")).await?;
    browser.screenshot("holdout-390").await?;
    browser.close().await;
    Ok(())
}
