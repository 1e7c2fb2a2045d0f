//! A complaint reaches Support: "since this morning the billing answers are cut short". Sam
//! from Support opens the change feed, looks the user up by the id the complaint came with,
//! and sees that this user is in the demo's 5 % canary of the shorter billing answers (which
//! reaches every audience), on the candidate, and why; a day before the same change served them
//! nothing new. Sam records the user's complaint against that change from the answer: without
//! words it is refused beside the field, with them it is stored with the user's variant.
//! A user outside the split is on control, a moment before any change shows the empty state,
//! and a lookup without an id or with attributes that are not an object names the field.

use fantoccini::Client;
use rollgate_e2e::{Browser, Result, Server, act, axe, check, find, http};
use shared::assignment::{bucket, buckets_for_percent};

const SUPPORT: &str = "sam.support@demo.rollgate";
const CANARY_TITLE: &str = "Shorter billing answers";

#[tokio::test]
async fn support_looks_up_a_user() -> Result {
    let server = Server::start_demo();
    let sam = http::login(&server, SUPPORT);
    let (status, text) = sam.request(&server, "GET", "/api/v1/changes", None);
    assert_eq!(status, 200, "changes: {text}");
    let list: serde_json::Value = serde_json::from_str(&text)?;
    let canary = list["items"]
        .as_array()
        .and_then(|items| {
            items.iter().find(|c| {
                c["title"]
                    .as_str()
                    .is_some_and(|t| t.contains(CANARY_TITLE))
            })
        })
        .unwrap_or_else(|| panic!("the demo has the billing canary: {text}"));
    let change_id = canary["id"].as_str().expect("an id").to_string();
    let flag = canary["flag_key"].as_str().expect("a flag key").to_string();
    // The demo's canary serves the candidate to 5 % of buckets: pick a user inside and one
    // outside by the published bucket function, not by asking the server.
    let limit = buckets_for_percent(5.0);
    let key_where = |inside: bool| {
        (1000..)
            .map(|i| format!("user-{i}"))
            .find(|k| (bucket(&flag, k) < limit) == inside)
            .expect("some key lands on each side")
    };
    let (inside, outside) = (key_where(true), key_where(false));

    let browser = Browser::start().await;
    let c = &browser.client;
    act::login(c, &server, SUPPORT).await?;
    act::click(c, &find::hook("nav-feed")).await?;
    find::one(c, &find::hook("user-lookup")).await?;

    // No id: the field says so, and nothing is asked.
    act::click(c, &find::hook("lookup-submit")).await?;
    check::attr_is(
        c,
        "[data-test=\"user-lookup\"] [data-test=\"field-error\"]",
        "data-field",
        "targeting_key",
    )
    .await?;

    // The canary reaches every audience: the user inside the split got the candidate, and the
    // reason names the split.
    act::fill(c, &find::hook("lookup-key"), &inside).await?;
    act::click(c, &find::hook("lookup-submit")).await?;
    let row = format!("[data-test=\"lookup-item\"][data-change-id=\"{change_id}\"]");
    let reason_of = format!("{row} {}", find::hook("lookup-reason"));
    check::attr_is(c, &row, "data-variant", "candidate").await?;
    let shown = find::text(c, &row).await?;
    assert!(shown.contains("Candidate"), "the variant tag: {shown}");
    assert!(shown.contains(&flag), "the flag key: {shown}");
    assert!(shown.contains("Canary 5%"), "the state then: {shown}");
    let reason = find::text(c, &reason_of).await?;
    assert!(
        reason.contains("In the 5 % canary split") && reason.contains("bucket"),
        "the reason: {reason}"
    );
    legible(c, &format!("{row} {}", find::hook("lookup-variant"))).await?;
    let link = find::one(c, &format!("{row} a.feed-title")).await?;
    assert_eq!(
        link.attr("href").await?.as_deref(),
        Some(format!("/changes/{change_id}").as_str())
    );
    browser.screenshot("support-lookup-1400").await?;

    // Support records the user's complaint against the canary: without words it is refused
    // beside the field; with them it is stored with the variant the user had.
    act::click(c, &format!("{row} [data-test=\"complaint\"] summary")).await?;
    act::click(c, &format!("{row} {}", find::hook("complaint-submit"))).await?;
    check::attr_is(
        c,
        &format!("{row} [data-test=\"complaint\"] [data-test=\"field-error\"]"),
        "data-field",
        "text",
    )
    .await?;
    let said = "The billing answer left out the refund deadline.";
    act::fill(c, &format!("{row} {}", find::hook("complaint-text")), said).await?;
    act::select(
        c,
        &format!("{row} {}", find::hook("complaint-category")),
        "wrong_answer",
    )
    .await?;
    act::click(c, &format!("{row} {}", find::hook("complaint-submit"))).await?;
    find::one(c, &format!("{row} {}", find::hook("complaint-recorded"))).await?;
    let (status, text) = sam.request(
        &server,
        "GET",
        &format!("/api/v1/changes/{change_id}/complaints"),
        None,
    );
    assert_eq!(status, 200, "{text}");
    let stored: serde_json::Value = serde_json::from_str(&text)?;
    let complaint = &stored[0];
    assert_eq!(complaint["text"], said, "{stored}");
    assert_eq!(complaint["category"], "wrong_answer", "{stored}");
    assert_eq!(complaint["user_key"], inside.as_str(), "{stored}");
    assert_eq!(complaint["variant"], "candidate", "{stored}");
    browser.screenshot("support-complaint-1400").await?;
    let violations = axe::serious_violations(c).await?;
    assert!(violations.is_empty(), "axe-core: {violations:?}");

    // On a phone the answer fits the screen: nothing wider than the viewport.
    c.set_window_size(390, 900).await?;
    check::attr_is(c, &row, "data-variant", "candidate").await?;
    browser.screenshot("support-lookup-390").await?;
    // The lookup's elements that reach past the right edge of the viewport.
    let wide = c
        .execute(
            "const w = document.documentElement.clientWidth;
             return [...document.querySelectorAll('[data-test=\"user-lookup\"] *')]
               .filter(e => e.getBoundingClientRect().right > w + 0.5)
               .map(e => e.tagName + '.' + e.className);",
            vec![],
        )
        .await?;
    assert_eq!(wide, serde_json::json!([]), "wider than 390 px");
    c.execute(
        "document.querySelector(arguments[0]).scrollIntoView();",
        vec![serde_json::Value::String(row.clone())],
    )
    .await?;
    browser.screenshot("support-lookup-390-answer").await?;
    c.set_window_size(1400, 1000).await?;
    // Back to the form, out from under the sticky top bar.
    c.execute("window.scrollTo(0, 0);", vec![]).await?;

    // An hour ago the canary was already running: the complaint that came in then was about
    // the candidate.
    act::click(c, "[data-test=\"lookup-moment\"][data-hours=\"1\"]").await?;
    act::click(c, &find::hook("lookup-submit")).await?;
    check::attr_is(c, &row, "data-variant", "candidate").await?;
    let reason = find::text(c, &reason_of).await?;
    assert!(
        reason.contains("In the 5 % canary split"),
        "an hour ago: {reason}"
    );

    // A day ago the canary had not started: the same user got the current behaviour.
    act::click(c, "[data-test=\"lookup-moment\"][data-hours=\"24\"]").await?;
    act::click(c, &find::hook("lookup-submit")).await?;
    check::attr_is(c, &row, "data-variant", "control").await?;
    let reason = find::text(c, &reason_of).await?;
    assert!(reason.contains("Rollout off"), "a day ago: {reason}");

    // Now again, a user outside the split is on control.
    act::click(c, &find::hook("lookup-now")).await?;
    act::fill(c, &find::hook("lookup-key"), &outside).await?;
    act::click(c, &find::hook("lookup-submit")).await?;
    check::attr_is(c, "[data-test=\"lookup-answer\"]", "data-key", &outside).await?;
    check::attr_is(c, &row, "data-variant", "control").await?;
    let reason = find::text(c, &reason_of).await?;
    assert!(
        reason.contains("Outside the 5 % canary split"),
        "outside: {reason}"
    );
    legible(c, &format!("{row} {}", find::hook("lookup-variant"))).await?;

    // Attributes that are not a JSON object: the server's refusal shows under that field.
    act::fill(c, &find::hook("lookup-context"), "[1, 2]").await?;
    act::click(c, &find::hook("lookup-submit")).await?;
    check::attr_is(
        c,
        "[data-test=\"user-lookup\"] [data-test=\"field-error\"]",
        "data-field",
        "context",
    )
    .await?;
    act::fill(c, &find::hook("lookup-context"), "").await?;

    // Long before the demo's changes, nothing was live.
    set_moment(c, "2020-01-06T09:00").await?;
    act::click(c, &find::hook("lookup-submit")).await?;
    check::page_shows(c, "No change was live at that moment.").await?;
    browser.close().await;
    Ok(())
}

/// Types a moment into the lookup's `datetime-local` field the way the browser reports a
/// picked value (typing into it depends on the browser's locale).
async fn set_moment(c: &Client, value: &str) -> Result {
    find::one(c, &find::hook("lookup-at")).await?;
    c.execute(
        "const el = document.querySelector('[data-test=\"lookup-at\"]');
         el.value = arguments[0];
         el.dispatchEvent(new Event('input', { bubbles: true }));",
        vec![serde_json::Value::String(value.into())],
    )
    .await?;
    Ok(())
}

/// Checks that the text of the element matching `css` contrasts at least 4.5:1 with its own
/// background (WCAG AA for normal text), from the browser's computed colours.
async fn legible(c: &Client, css: &str) -> Result {
    let colours = c
        .execute(
            "const s = getComputedStyle(document.querySelector(arguments[0]));
             return [s.color, s.backgroundColor];",
            vec![serde_json::Value::String(css.into())],
        )
        .await?;
    let rgb = |v: &serde_json::Value| -> Vec<f64> {
        v.as_str()
            .unwrap_or_default()
            .split(|ch: char| !ch.is_ascii_digit() && ch != '.')
            .filter_map(|n| n.parse().ok())
            .take(3)
            .collect()
    };
    let luminance = |c: &[f64]| {
        let lin = |x: f64| {
            let x = x / 255.0;
            if x <= 0.039_28 {
                x / 12.92
            } else {
                ((x + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
    };
    let (fg, bg) = (rgb(&colours[0]), rgb(&colours[1]));
    assert!(
        fg.len() == 3 && bg.len() == 3,
        "colours of {css}: {colours}"
    );
    let (a, b) = (luminance(&fg), luminance(&bg));
    let ratio = (a.max(b) + 0.05) / (a.min(b) + 0.05);
    assert!(ratio >= 4.5, "{css} contrasts {ratio:.2}:1 ({colours})");
    Ok(())
}
