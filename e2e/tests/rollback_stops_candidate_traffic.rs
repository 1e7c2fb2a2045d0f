//! Rollback reaches production: the demo's simulated application asks Rollgate (OFREP) which
//! variant each of its users gets at the start of every window and reports what it served. An
//! engineer rolls the billing canary back in the console; from the next window on the
//! application serves no one the candidate, while control keeps its traffic.
//!
//! The demo runs with 5-second windows (`--demo-window-seconds 5`) so the effect shows within
//! seconds. What it served is read through the metrics API with a session, summed over the
//! windows that started after the rollback, and the console's comparison over that span must
//! show no candidate observation.

use std::time::{Duration, Instant};

use rollgate_e2e::{Browser, DEMO_ENGINEER, Result, Server, act, check, find, http};
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Length of the demo's windows in this test, seconds.
const WINDOW: i64 = 5;
/// Windows that must run after the rollback before the traffic is read.
const WINDOWS_AFTER: i64 = 4;

fn unix_now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .expect("a time")
        .format(&Rfc3339)
        .expect("RFC 3339")
}

/// The first window boundary at or after `unix`.
fn next_boundary(unix: i64) -> i64 {
    (unix + WINDOW - 1).div_euclid(WINDOW) * WINDOW
}

/// Requests per variant (control, candidate) over every segment, in the windows starting at or
/// after `from`, and how many windows that is.
fn served_since(server: &Server, session: &http::Session, id: &str, from: i64) -> (u64, u64, u64) {
    let path = format!(
        "/api/v1/changes/{id}/metrics/summary?from={}",
        rfc3339(from)
    );
    let (status, text) = session.request(server, "GET", &path, None);
    assert_eq!(status, 200, "{path}: {text}");
    let summary: Value = serde_json::from_str(&text).expect("a JSON summary");
    let (mut control, mut candidate) = (0, 0);
    for cell in summary["traffic"].as_array().expect("traffic") {
        if cell["segment"] == shared::metrics::ALL_SEGMENTS {
            continue;
        }
        let requests = cell["requests"].as_u64().expect("requests");
        match cell["variant"].as_str() {
            Some("control") => control += requests,
            Some("candidate") => candidate += requests,
            other => panic!("unknown variant {other:?}"),
        }
    }
    (
        control,
        candidate,
        summary["windows"].as_u64().unwrap_or_default(),
    )
}

#[tokio::test]
async fn rollback_stops_candidate_traffic() -> Result {
    let server = Server::start_demo_with_windows(WINDOW as u32);
    let started = unix_now();
    let erin = http::login(&server, DEMO_ENGINEER);
    let (status, list) = erin.request(&server, "GET", "/api/v1/changes", None);
    assert_eq!(status, 200, "{list}");
    let list: Value = serde_json::from_str(&list).expect("a JSON list");
    let canary = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|c| {
            c["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("Shorter billing answers"))
        })
        .expect("the demo's billing canary");
    assert_eq!(canary["state"]["stage"], "canary", "{canary}");
    let id = canary["id"].as_str().expect("id").to_owned();

    // Before: the application serves the candidate to the canary's share of its users.
    let from_start = next_boundary(started);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (control, candidate, _) = served_since(&server, &erin, &id, from_start);
        if control > 0 && candidate > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no candidate traffic from the demo app within a minute: control {control}, \
             candidate {candidate}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    // Roll back in the console, with a reason, as an engineer does.
    let browser = Browser::start().await;
    let c = &browser.client;
    act::login(c, &server, DEMO_ENGINEER).await?;
    c.goto(&server.page(&format!("/changes/{id}"))).await?;
    act::click(c, &find::hook("rollback")).await?;
    act::fill(
        c,
        &find::hook("reason"),
        "tool_timeout errors on the candidate only; cost +20 %",
    )
    .await?;
    act::click(c, &find::hook("confirm")).await?;
    check::page_shows(c, "Rolled back").await?;
    // The rollback is stored by now, so every window starting from here was asked for after it.
    let from = next_boundary(unix_now());

    // Wait for the windows after it, plus a tick for the last one to be sent.
    let until = from + WINDOWS_AFTER * WINDOW + 3;
    let wait = (until - unix_now()).max(0) as u64;
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let (control, candidate, windows) = served_since(&server, &erin, &id, from);
    assert!(
        windows >= WINDOWS_AFTER as u64,
        "the demo app sent {windows} windows since the rollback"
    );
    assert!(
        control > 0,
        "control lost its traffic after the rollback: {control}"
    );
    assert_eq!(
        candidate, 0,
        "the demo app still served the candidate {candidate} times after the rollback \
         ({control} on control)"
    );

    // The comparison over the span since the rollback, as support or the engineer would open it.
    let to = unix_now();
    let page = format!(
        "/changes/{id}/compare?window=custom&from={}&to={}",
        rfc3339(from),
        rfc3339(to)
    );
    for (width, name) in [
        (1400, "rollback-stops-candidate-1400"),
        (390, "rollback-stops-candidate-390"),
    ] {
        c.set_window_size(width, 1000).await?;
        c.goto(&server.page(&page)).await?;
        find::one(c, &find::hook("data-span")).await?;
        check::page_shows(c, "Rolled back").await?;
        // The comparison over those windows has no candidate observation at all.
        check::page_shows(c, "candidate needs at least 2 observations, got 0").await?;
        browser.screenshot(name).await?;
    }
    browser.close().await;
    Ok(())
}
