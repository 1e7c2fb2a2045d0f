//! An engineer sees a canary hurting users and rolls it back with a reason; the reason stays in
//! the history and the timeline shows where it stopped.

use rollgate_e2e::{Browser, ENGINEER, Result, Server, act, check, find, http};

#[tokio::test]
async fn roll_back_with_reason() -> Result {
    let server = Server::start();
    let erin = http::login(&server, ENGINEER);
    let id = erin.change_at_canary(
        &server,
        "Cheaper model for title suggestions",
        "Title suggestions may read a little differently.",
    );

    let browser = Browser::start().await;
    let c = &browser.client;
    act::login(c, &server, ENGINEER).await?;
    c.goto(&server.page(&format!("/changes/{id}"))).await?;
    act::click(c, &find::hook("rollback")).await?;
    let reason = "cost_per_request +22% in canary; breach of the +15% criterion";
    act::fill(c, &find::hook("reason"), reason).await?;
    act::click(c, &find::hook("confirm")).await?;

    check::page_shows(c, "Rolled back").await?;
    c.refresh().await?;
    find::one(c, &find::hook("history-entry")).await?;
    check::page_shows(c, reason).await?;
    let statuses = check::timeline(c).await?;
    assert!(
        statuses.iter().any(|s| s == "rolled-back"),
        "the timeline marks where the rollout stopped: {statuses:?}"
    );
    assert!(
        find::all(c, &find::hook("advance")).await?.is_empty(),
        "a rolled-back change offers no way forward"
    );
    browser.screenshot("rolled-back").await?;
    browser.close().await;
    Ok(())
}
