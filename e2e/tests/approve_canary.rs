//! The sign-off path of a standard-risk change: the engineer asks to start the canary, the
//! gate shows the PM missing, the PM finds the change in the approvals inbox and approves with
//! a comment, the engineer advances, and the audit log shows every step. Then an approver signs
//! a later stage's gate ahead, as an admin's skip to it would need.

use rollgate_e2e::{
    ADMIN, APPROVER, Browser, ENGINEER, PM, Result, Server, act, check, find, http,
};

#[tokio::test]
async fn approve_canary() -> Result {
    let server = Server::start();
    let title = "Warmer tone for onboarding answers (prompt onboarding-v7)";
    let erin = http::login(&server, ENGINEER);
    let id = erin.create_change(&server, title);
    erin.transition(&server, &id, "advance", None);
    erin.upload_passing_eval(&server, &id);
    erin.notify_support(&server, &id, "Onboarding answers sound warmer.");

    let browser = Browser::start().await;
    let c = &browser.client;
    let change_page = server.page(&format!("/changes/{id}"));

    // The engineer asks to start the canary: their signature as the requesting engineer.
    act::login(c, &server, ENGINEER).await?;
    c.goto(&change_page).await?;
    find::one(c, &find::hook("gate")).await?;
    act::click(c, &find::hook("approve")).await?;
    act::fill(
        c,
        &find::hook("approval-comment"),
        "Eval bench at 94%; ready for canary.",
    )
    .await?;
    act::click(c, &find::hook("confirm")).await?;
    check::count(c, &find::hook("signature"), 1).await?;
    let missing = find::text(c, &find::hook("gate-missing")).await?;
    assert!(missing.to_lowercase().contains("pm"), "missing: {missing}");
    assert!(
        !missing.to_lowercase().contains("engineer"),
        "missing: {missing}"
    );
    check::attr_is(c, &find::hook("gate"), "data-satisfied", "false").await?;
    browser.screenshot("gate-waiting-for-pm").await?;
    act::logout(c).await?;

    // The PM finds it in the inbox and approves with a comment.
    act::login(c, &server, PM).await?;
    check::page_shows(c, "Approvals").await?;
    let badge = find::text(c, &find::hook("inbox-badge")).await?;
    assert_eq!(badge.trim(), "1", "one change waits for the PM");
    act::click(c, &find::hook("nav-approvals")).await?;
    let entry = find::one(c, &find::hook("inbox-entry")).await?;
    let text = entry.text().await?;
    assert!(text.contains(title), "{text}");
    assert!(text.contains("opened just now"), "{text}");
    browser.screenshot("approvals-inbox").await?;
    entry
        .find(fantoccini::Locator::Css("a"))
        .await?
        .click()
        .await?;
    find::one(c, &find::hook("gate")).await?;
    act::click(c, &find::hook("approve")).await?;
    let comment = "Spanish and German answers reviewed; fine to canary.";
    act::fill(c, &find::hook("approval-comment"), comment).await?;
    act::click(c, &find::hook("confirm")).await?;
    check::attr_is(c, &find::hook("gate"), "data-satisfied", "true").await?;
    check::page_shows(c, comment).await?;
    act::logout(c).await?;

    // The engineer advances to canary.
    act::login(c, &server, ENGINEER).await?;
    c.goto(&change_page).await?;
    act::click(c, &find::hook("advance")).await?;
    act::click(c, &find::hook("confirm")).await?;
    check::count(c, &find::hook("history-entry"), 2).await?;
    check::attr_is(
        c,
        &format!(
            "{} {}:nth-child(2)",
            find::hook("timeline"),
            find::hook("stage")
        ),
        "data-status",
        "current",
    )
    .await?;
    act::logout(c).await?;

    // The audit log shows each step, with who did it.
    act::login(c, &server, ADMIN).await?;
    c.goto(&server.page(&format!("/audit?object_id={id}")))
        .await?;
    find::one(c, &find::hook("audit-row")).await?;
    let mut actions = Vec::new();
    for row in find::all(c, &find::hook("audit-row")).await? {
        actions.push(row.attr("data-action").await?.unwrap_or_default());
    }
    for step in ["change.create", "change.advance", "approval.approve"] {
        assert!(
            actions.iter().any(|a| a == step),
            "no {step} in {actions:?}"
        );
    }
    assert_eq!(
        actions.iter().filter(|a| *a == "approval.approve").count(),
        2,
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| *a == "change.advance").count(),
        2,
        "{actions:?}"
    );
    check::page_shows(c, PM).await?;
    browser.screenshot("audit-log").await?;
    act::logout(c).await?;

    // The approver signs the gate of Ramp 25% ahead, from the gate panel's stage picker.
    act::login(c, &server, APPROVER).await?;
    c.goto(&change_page).await?;
    find::one(c, &find::hook("gate-stage")).await?;
    act::select(c, &find::hook("gate-stage"), "ramp:1").await?;
    check::page_shows(c, "Sign-off · Ramp to 25%").await?;
    check::page_shows(c, "Signing ahead").await?;
    act::click(c, &find::hook("approve")).await?;
    let ahead = "Fine to go to 25% if the canary holds.";
    act::fill(c, &find::hook("approval-comment"), ahead).await?;
    act::click(c, &find::hook("confirm")).await?;
    check::page_shows(c, ahead).await?;
    check::page_shows(c, "Sign-off · Ramp to 25%").await?;
    browser.screenshot("gate-signed-ahead").await?;
    browser.close().await;
    Ok(())
}
