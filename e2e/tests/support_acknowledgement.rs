//! Support's view: reading a notice is not acknowledging it. A notice to Support and the
//! rollback notice that follows stay under "Needs your acknowledgement", and in the top bar's
//! badge, however often Sam opens the feed, until Support acknowledges each; acknowledging one
//! leaves the other.

use fantoccini::Client;
use rollgate_e2e::{Browser, ENGINEER, Result, SUPPORT, Server, act, check, find, http};

/// Opens the feed afresh and waits for it.
async fn open_feed(c: &Client, server: &Server) -> Result {
    c.goto(&server.page("/feed")).await?;
    find::one(c, &find::hook("feed-item")).await?;
    Ok(())
}

/// The notice ids listed under "Needs your acknowledgement".
async fn waiting(c: &Client) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for n in find::all(c, "[data-test=needs-ack] [data-test=unread-notice]").await? {
        out.push(n.attr("data-notice").await?.unwrap_or_default());
    }
    Ok(out)
}

#[tokio::test]
async fn support_keeps_what_it_has_not_acknowledged() -> Result {
    let server = Server::start();
    let erin = http::login(&server, ENGINEER);
    let id = erin.create_change(&server, "Shorter billing answers");
    erin.transition(&server, &id, "advance", None);
    let notice = erin.notify_support(&server, &id, "Billing answers get shorter.");
    erin.transition(&server, &id, "roll_back", Some("refund links went missing"));
    let browser = Browser::start().await;
    let c = &browser.client;

    act::login(c, &server, SUPPORT).await?;
    check::attr_is(
        c,
        &find::hook("notices-badge"),
        "title",
        "2 notices to read or acknowledge",
    )
    .await?;
    open_feed(c, &server).await?;
    check::count(c, "[data-test=needs-ack] [data-test=unread-notice]", 2).await?;
    let both = waiting(c).await?;
    assert!(both.contains(&notice), "{both:?}");
    let rollback = both
        .iter()
        .find(|n| **n != notice)
        .cloned()
        .expect("the rollback notice");
    let kind = format!("[data-notice=\"{rollback}\"] [data-test=feed-notice][data-kind=rollback]");
    find::one(c, &kind).await?;
    browser.screenshot("support-needs-ack-1400").await?;

    // Shown once, both are read now; neither is acknowledged, so both are still there.
    open_feed(c, &server).await?;
    check::count(c, "[data-test=needs-ack] [data-test=unread-notice]", 2).await?;
    let title = find::text(c, "[data-test=needs-ack] .section-title").await?;
    assert_eq!(title.to_lowercase(), "needs your acknowledgement · 2");
    let badge = find::text(c, &find::hook("notices-badge")).await?;
    assert_eq!(badge.trim(), "2", "reading does not clear the badge");

    // Acknowledging the notice leaves the rollback notice waiting.
    act::click(
        c,
        &format!("[data-test=needs-ack] [data-notice=\"{notice}\"] [data-test=acknowledge]"),
    )
    .await?;
    check::attr_is(
        c,
        &format!("[data-notice=\"{notice}\"] [data-test=ack]"),
        "data-acked",
        "true",
    )
    .await?;
    open_feed(c, &server).await?;
    check::count(c, "[data-test=needs-ack] [data-test=unread-notice]", 1).await?;
    assert_eq!(waiting(c).await?, std::slice::from_ref(&rollback));
    check::attr_is(
        c,
        &find::hook("notices-badge"),
        "title",
        "1 notice to read or acknowledge",
    )
    .await?;

    // At a phone's width too.
    c.set_window_size(390, 844).await?;
    browser.screenshot("support-needs-ack-390").await?;
    c.set_window_size(1400, 1000).await?;

    // Once the rollback is acknowledged, nothing waits and the badge is gone.
    act::click(c, "[data-test=needs-ack] [data-test=acknowledge]").await?;
    check::attr_is(
        c,
        &format!("[data-notice=\"{rollback}\"] [data-test=ack]"),
        "data-acked",
        "true",
    )
    .await?;
    open_feed(c, &server).await?;
    check::count(c, "[data-test=needs-ack]", 0).await?;
    check::count(c, &find::hook("notices-badge"), 0).await?;
    browser.close().await;
    Ok(())
}
