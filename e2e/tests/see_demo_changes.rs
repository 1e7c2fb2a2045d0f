//! A newcomer opens the demo workspace and sees the AI changes in flight, rendered by the
//! Wasm console (the server only sends an empty shell).

use rollgate_e2e::{Browser, DEMO_PM, Result, Server, act, check, find, http};

const DEMO_TITLES: [&str; 5] = [
    "Shorter billing answers",
    "Upgrade support assistant",
    "order-lookup tool",
    "Route Spanish conversations",
    "Warmer tone in onboarding answers",
];

#[tokio::test]
async fn see_demo_changes() -> Result {
    let server = Server::start_demo();
    let (status, shell) = http::request(&server, "GET", "/", None);
    assert_eq!(status, 200);
    for title in DEMO_TITLES {
        assert!(
            !shell.contains(title),
            "the server's HTML already names {title:?}: the list must come from the Wasm app"
        );
    }

    let browser = Browser::start().await;
    let c = &browser.client;
    act::login(c, &server, DEMO_PM).await?;
    c.goto(&server.page("/")).await?;
    find::one(c, &find::hook("change-row")).await?;
    for title in DEMO_TITLES {
        check::page_shows(c, title).await?;
    }
    let rows = find::all(c, &find::hook("change-row")).await?;
    assert_eq!(rows.len(), 5, "the demo has five changes");
    let badges = find::texts(c, &find::hook("state-badge"))
        .await?
        .join(" | ");
    for state in ["Canary", "Ramp", "A/B test 50%", "Rolled back", "Draft"] {
        assert!(badges.contains(state), "no {state} badge among {badges}");
    }
    browser.screenshot("change-list").await?;
    browser.close().await;
    Ok(())
}
