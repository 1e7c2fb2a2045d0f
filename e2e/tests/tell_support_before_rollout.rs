//! The notice path: an engineer publishes a notice to Support before the canary; Sam from
//! Support sees the unread badge, reads it in the change feed and acknowledges it; the engineer
//! sees the acknowledgement on the change page. Rolling back puts an automatic notice in the
//! feed.

use rollgate_e2e::{Browser, ENGINEER, Result, SUPPORT, Server, act, check, find, http};

#[tokio::test]
async fn tell_support_before_rollout() -> Result {
    let server = Server::start();
    let title = "Shorter answers in Spanish (prompt support-es-v3)";
    let erin = http::login(&server, ENGINEER);
    let id = erin.create_change(&server, title);
    erin.transition(&server, &id, "advance", None);
    let change_page = server.page(&format!("/changes/{id}"));

    let browser = Browser::start().await;
    let c = &browser.client;

    // The engineer drafts and publishes the notice to Support.
    act::login(c, &server, ENGINEER).await?;
    c.goto(&change_page).await?;
    find::one(c, &find::hook("notices")).await?;
    act::click(c, &find::hook("new-notice")).await?;
    let behaviour = "Answers in Spanish become shorter; links to help articles stay.";
    act::fill(c, &find::hook("notice-behaviour"), behaviour).await?;
    act::fill(
        c,
        &find::hook("notice-talking-points"),
        "If a user asks for more detail, the full article is one click away.",
    )
    .await?;
    act::click(c, &find::hook("notice-team-support")).await?;
    act::click(c, &find::hook("save-notice")).await?;
    act::click(c, &find::hook("publish-notice")).await?;
    check::attr_is(c, &find::hook("notice"), "data-status", "published").await?;
    act::logout(c).await?;

    // Support sees the badge, reads the notice in the feed and acknowledges it.
    act::login(c, &server, SUPPORT).await?;
    let badge = find::text(c, &find::hook("notices-badge")).await?;
    assert_eq!(badge.trim(), "1", "one unread notice for Support");
    act::click(c, &find::hook("nav-feed")).await?;
    find::one(c, &find::hook("feed-item")).await?;
    check::page_shows(c, title).await?;
    check::page_shows(c, behaviour).await?;
    act::click(c, &find::hook("acknowledge")).await?;
    check::attr_is(c, &find::hook("ack"), "data-acked", "true").await?;
    browser.screenshot("feed-acknowledged").await?;
    act::logout(c).await?;

    // The engineer sees the acknowledgement on the change page.
    act::login(c, &server, ENGINEER).await?;
    c.goto(&change_page).await?;
    let ack = "[data-test=\"notices\"] [data-test=\"ack\"][data-team=\"Support\"]";
    check::attr_is(c, ack, "data-acked", "true").await?;
    check::page_shows(c, "Sam Support").await?;
    browser.screenshot("notice-acknowledged").await?;
    act::logout(c).await?;

    // A rollback tells Support by itself.
    let reason = "Spanish answers lost the refund steps";
    erin.transition(&server, &id, "roll_back", Some(reason));
    act::login(c, &server, SUPPORT).await?;
    act::click(c, &find::hook("nav-feed")).await?;
    find::one(c, "[data-test=\"feed-notice\"][data-kind=\"rollback\"]").await?;
    check::page_shows(c, reason).await?;
    browser.screenshot("feed-rollback").await?;
    browser.close().await;
    Ok(())
}
