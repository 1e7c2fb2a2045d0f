//! An engineer registers a prompt change from the standard template, walks it through the eval
//! gate into canary (the eval result and the canary's sign-off given through the API; `approve_canary.rs` walks that
//! part through the console), reloads, and finds the timeline as they left it.

use rollgate_e2e::{Browser, ENGINEER, Result, Server, act, check, find, http};

#[tokio::test]
async fn create_and_advance_to_canary() -> Result {
    let server = Server::start();
    let browser = Browser::start().await;
    let c = &browser.client;

    act::login(c, &server, ENGINEER).await?;
    c.goto(&server.page("/")).await?;
    act::click(c, &find::hook("new-change")).await?;
    act::click(c, &find::hook("template-standard")).await?;
    act::fill(
        c,
        "[name=title]",
        "Friendlier refund answers (prompt refunds-v4)",
    )
    .await?;
    act::fill(c, "[name=owner]", "mara@example.com").await?;
    act::fill(c, "[name=product_area]", "Refunds").await?;
    act::select(c, "[name=kind]", "prompt").await?;
    act::select(c, "[name=risk]", "standard").await?;
    act::fill(
        c,
        "[name=expected_changes]",
        "Refund answers apologise once and name the refund date.",
    )
    .await?;
    act::fill(c, "[name=baseline]", r#"{"prompt_version": "refunds-v3"}"#).await?;
    act::fill(c, "[name=candidate]", r#"{"prompt_version": "refunds-v4"}"#).await?;
    browser.screenshot("change-form").await?;
    act::click(c, &find::hook("submit")).await?;

    find::one(c, &find::hook("timeline")).await?;
    check::page_shows(c, "Friendlier refund answers").await?;
    assert_eq!(
        find::text(c, &find::hook("product-area")).await?,
        "Area Refunds"
    );
    let change_url = c.current_url().await?;
    assert!(change_url.path().starts_with("/changes/"), "{change_url}");

    let canary_stage = format!(
        "{} {}:nth-child(2)",
        find::hook("timeline"),
        find::hook("stage")
    );
    let id = change_url
        .path()
        .trim_start_matches("/changes/")
        .to_string();
    for done in 1..=2 {
        if done == 2 {
            // Standard risk: the requesting engineer and a PM sign the canary gate.
            http::login(&server, ENGINEER).ready_for_canary(
                &server,
                &id,
                "Refund answers apologise once.",
            );
            c.refresh().await?;
            check::attr_is(c, &find::hook("gate"), "data-satisfied", "true").await?;
        }
        act::click(c, &find::hook("advance")).await?;
        act::click(c, &find::hook("confirm")).await?;
        // Wait until the transition has landed before the next click.
        check::count(c, &find::hook("history-entry"), done).await?;
    }
    check::attr_is(c, &canary_stage, "data-status", "current").await?;

    c.goto(change_url.as_str()).await?;
    find::one(c, &find::hook("timeline")).await?;
    check::attr_is(c, &canary_stage, "data-status", "current").await?;
    let statuses = check::timeline(c).await?;
    assert_eq!(statuses[0], "done", "eval gate: {statuses:?}");
    assert_eq!(statuses[1], "current", "canary: {statuses:?}");
    assert!(
        statuses[2..].iter().all(|s| s == "upcoming"),
        "{statuses:?}"
    );
    let history = find::texts(c, &find::hook("history-entry")).await?;
    assert_eq!(history.len(), 2, "two transitions stored: {history:?}");
    check::page_shows(c, "Canary 5%").await?;
    browser.screenshot("change-in-canary").await?;
    browser.close().await;
    Ok(())
}
