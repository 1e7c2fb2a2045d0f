//! Controls a role can never use are not shown: Support gets no "New change" button and no
//! form at `/changes/new`; the statistics calculator is not in anyone's main navigation but
//! one click from a metric's "Reproduce" box, where engineers check a number.

use fantoccini::Client;
use rollgate_e2e::{Browser, Result, Server, act, check, find};

/// Whether the element matching `css` is displayed (present and not `display: none`).
async fn shown(c: &Client, css: &str) -> Result<bool> {
    Ok(match find::all(c, css).await?.into_iter().next() {
        Some(e) => e.is_displayed().await?,
        None => false,
    })
}

#[tokio::test]
async fn each_role_sees_the_controls_it_can_use() -> Result {
    let server = Server::start_demo();
    let browser = Browser::start().await;
    let c = &browser.client;
    let new_change = find::hook("new-change");

    act::login(c, &server, "sam.support@demo.rollgate").await?;
    find::one(c, &find::hook("change-row")).await?;
    assert!(
        !shown(c, &new_change).await?,
        "Support is offered New change"
    );
    check::count(c, &find::hook("nav-stats"), 0).await?;
    c.goto(&server.page("/changes/new")).await?;
    check::page_shows(c, "Engineers, PMs and admins register changes").await?;
    check::count(c, &find::hook("submit"), 0).await?;
    for width in [1400, 390] {
        c.set_window_size(width, 900).await?;
        c.goto(&server.page("/")).await?;
        find::one(c, &find::hook("change-row")).await?;
        browser
            .screenshot(&format!("support-change-list-{width}"))
            .await?;
    }
    c.set_window_size(1400, 1000).await?;
    act::logout(c).await?;

    act::login(c, &server, "erin.engineer@demo.rollgate").await?;
    find::one(c, &find::hook("change-row")).await?;
    assert!(
        shown(c, &new_change).await?,
        "an engineer is offered New change"
    );
    check::count(c, &find::hook("nav-stats"), 0).await?;
    // The calculator is where a number is reproduced.
    c.goto(&server.page("/?state=canary")).await?;
    act::click(c, "[data-test=change-row] a").await?;
    find::one(c, &find::hook("timeline")).await?;
    let compare = format!("{}/compare?window=all", c.current_url().await?.path());
    c.goto(&server.page(&compare)).await?;
    find::one(c, &find::hook("comparison-ready")).await?;
    act::click(c, &find::hook("reproduce")).await?;
    act::click(c, &find::hook("stats-link")).await?;
    find::one(c, &find::hook("stats-input")).await?;
    browser.close().await;
    Ok(())
}
