//! An engineer finishes a shipped change of the demo's history: at Full, the change page says
//! the post-deployment review is not written yet and Advance waits for it; once the review is
//! written on the Review tab, Advance moves the change to Reviewed. A change that retries a
//! rolled-back one on its flag lists the flag's versions.

use rollgate_e2e::{Browser, DEMO_ENGINEER, Result, Server, act, check, find, http};

#[tokio::test]
async fn finish_with_review() -> Result {
    let server = Server::start_demo_with_history();
    let erin = http::login(&server, DEMO_ENGINEER);
    let (status, text) = erin.request(&server, "GET", "/api/v1/changes?state=full", None);
    assert_eq!(status, 200, "{text}");
    let page: serde_json::Value = serde_json::from_str(&text)?;
    let id = page["items"][0]["id"]
        .as_str()
        .ok_or("no shipped change in the demo's history")?
        .to_owned();

    let browser = Browser::start().await;
    let c = &browser.client;
    c.set_window_size(1400, 1000).await?;
    act::login(c, &server, DEMO_ENGINEER).await?;
    let change_page = server.page(&format!("/changes/{id}"));
    c.goto(&change_page).await?;
    let reason = find::text(c, &find::hook("advance-reason")).await?;
    assert!(
        reason.contains("post-deployment review is not written yet"),
        "{reason}"
    );
    check::attr_is(c, &find::hook("advance"), "disabled", "true").await?;
    // Nobody needs to sign Reviewed: its gate waits for the evidence, and says so.
    let pill = find::text(c, "[data-test=\"gate\"] .gate-status").await?;
    assert_eq!(pill, "Waiting for evidence");
    browser.screenshot("advance-waits-for-review").await?;

    act::click(c, &find::hook("review-link")).await?;
    act::fill(
        c,
        &find::hook("review-users-noticed"),
        "Nothing out of the ordinary.",
    )
    .await?;
    act::fill(
        c,
        &find::hook("review-lessons"),
        "The eval predicted the canary well.",
    )
    .await?;
    act::click(c, &find::hook("review-save")).await?;
    check::page_shows(c, "Last written by").await?;

    c.goto(&change_page).await?;
    find::one(c, &find::hook("timeline")).await?;
    check::count(c, &find::hook("advance-reason"), 0).await?;
    act::click(c, &find::hook("advance")).await?;
    act::click(c, &find::hook("confirm")).await?;
    check::page_shows(c, "Reviewed").await?;
    // "Reviewed" shows in the dialog before the move lands: wait for the change itself.
    let start = std::time::Instant::now();
    loop {
        let (_, text) = erin.request(&server, "GET", &format!("/api/v1/changes/{id}"), None);
        let detail: serde_json::Value = serde_json::from_str(&text)?;
        if detail["change"]["state"]["stage"] == "reviewed" {
            break;
        }
        assert!(
            start.elapsed() < rollgate_e2e::PATIENCE,
            "the change did not reach Reviewed: {detail}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // The demo's second try of a rolled-back change is its flag's second version: its Flag
    // card lists both, the first a link.
    let (_, text) = erin.request(&server, "GET", "/api/v1/changes?q=second%20try", None);
    let page: serde_json::Value = serde_json::from_str(&text)?;
    let retry = page["items"][0]["id"]
        .as_str()
        .ok_or("no second try in the demo's history")?
        .to_owned();
    c.goto(&server.page(&format!("/changes/{retry}"))).await?;
    find::one(c, &find::hook("flag-version")).await?;
    let versions = find::texts(c, &find::hook("flag-version")).await?;
    assert_eq!(versions.len(), 2, "{versions:?}");
    assert!(
        versions[0].starts_with("v1 Return label flow in one turn · rolled back"),
        "{versions:?}"
    );
    assert!(versions[1].ends_with("(this change)"), "{versions:?}");
    c.execute(
        "document.querySelector('[data-test=flag]').scrollIntoView();",
        vec![],
    )
    .await?;
    browser.screenshot("flag-versions-1400").await?;
    find::one(c, "[data-test=flag-versions] a")
        .await?
        .click()
        .await?;
    check::page_shows(c, "Complaints about truncated answers rose in the ramp.").await?;
    browser.close().await;
    Ok(())
}
