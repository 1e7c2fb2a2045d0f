//! An approver opens the demo workspace: the breaching canary reads Breach in the change list,
//! on its page and in the approvals inbox, every health chip legible; the list sorts by health
//! (the header) and by title, and finds changes by title words and by product area; at 390 px
//! it is stacked cards without sideways scroll. Approving the breaching canary's gate waits for
//! "I have seen the breach", and the signature's evidence says it was confirmed.

use fantoccini::Client;
use rollgate_e2e::{Browser, Result, Server, act, check, find, http};

const APPROVER: &str = "alex.approver@demo.rollgate";
const BREACHING: &str = "Shorter billing answers";

/// WCAG AA for normal-size text.
const MINIMUM: f64 = 4.5;

/// Each visible health chip: its `data-health` and the contrast of its text on its own
/// background (the chips paint an opaque one), as WCAG 2 defines luminance and ratio.
const CHIP_CONTRASTS: &str = r#"
const rgb = (s) => s.match(/[\d.]+/g).slice(0, 3).map(Number);
const lum = (c) => {
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
};
return [...document.querySelectorAll('[data-test="health"]')]
  .filter((el) => el.getClientRects().length > 0)
  .map((el) => {
    const s = getComputedStyle(el);
    const [hi, lo] = [lum(rgb(s.color)), lum(rgb(s.backgroundColor))].sort((a, b) => b - a);
    return { health: el.dataset.health, ratio: (hi + 0.05) / (lo + 0.05) };
  });
"#;

/// The titles of the list's rows, in order.
async fn titles(c: &Client) -> Result<Vec<String>> {
    // Read in one script: the list re-renders as it navigates, which would leave element
    // handles stale between two reads.
    let found = c
        .execute(
            r#"return [...document.querySelectorAll('[data-test="change-row"] .row-link')]
                 .map((a) => a.innerText);"#,
            vec![],
        )
        .await?;
    Ok(found
        .as_array()
        .map(|v| {
            v.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// Waits until the list shows exactly `want` (prefixes of the titles), in this order.
async fn rows_are(c: &Client, want: &[&str]) -> Result {
    let start = std::time::Instant::now();
    loop {
        let got = titles(c).await?;
        if got.len() == want.len() && got.iter().zip(want).all(|(g, w)| g.starts_with(w)) {
            return Ok(());
        }
        if start.elapsed() > rollgate_e2e::PATIENCE {
            return Err(format!("the list shows {got:?}, expected {want:?}").into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The health of the row whose title starts with `title`.
async fn row_health(c: &Client, title: &str) -> Result<String> {
    let found = c
        .execute(
            r#"const row = [...document.querySelectorAll('[data-test="change-row"]')]
                 .find((r) => r.querySelector('.row-link').innerText.startsWith(arguments[0]));
               const chip = row && row.querySelector('[data-test="health"]');
               return chip ? chip.dataset.health : null;"#,
            vec![serde_json::json!(title)],
        )
        .await?;
    Ok(found.as_str().unwrap_or_default().to_string())
}

async fn legible_chips(c: &Client, page: &str) -> Result {
    let chips = c.execute(CHIP_CONTRASTS, vec![]).await?;
    let chips = chips.as_array().cloned().unwrap_or_default();
    assert!(!chips.is_empty(), "{page}: no health chip shown");
    for chip in chips {
        let ratio = chip["ratio"].as_f64().unwrap_or(0.0);
        assert!(
            ratio >= MINIMUM,
            "{page}: the {} chip has a contrast of {ratio:.2}:1",
            chip["health"]
        );
    }
    Ok(())
}

async fn search(c: &Client, words: &str) -> Result {
    act::fill(c, &find::hook("search"), words).await?;
    find::one(c, &find::hook("search"))
        .await?
        .send_keys("\u{E007}")
        .await?;
    Ok(())
}

#[tokio::test]
async fn health_everywhere() -> Result {
    let server = Server::start_demo();
    // The demo's simulated app sends the canary's first windows once the server is up.
    let approver = http::login(&server, APPROVER);
    let start = std::time::Instant::now();
    let id = loop {
        let (status, text) = approver.request(&server, "GET", "/api/v1/changes?q=billing", None);
        assert_eq!(status, 200, "{text}");
        let page: serde_json::Value = serde_json::from_str(&text)?;
        if page["items"][0]["health"]["kind"] == "breach" {
            break page["items"][0]["id"]
                .as_str()
                .expect("the demo's canary")
                .to_string();
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "the demo's canary is not in breach: {text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    let browser = Browser::start().await;
    let c = &browser.client;
    c.set_window_size(1400, 900).await?;
    act::login(c, &server, APPROVER).await?;

    // The list: a Health column, Breach on the breaching canary.
    c.goto(&server.page("/")).await?;
    find::one(c, &find::hook("change-row")).await?;
    assert_eq!(row_health(c, BREACHING).await?, "breach");
    assert_eq!(row_health(c, "Route Spanish").await?, "no_data");
    legible_chips(c, "change list").await?;
    browser.screenshot("health-list-1400").await?;

    // Sorting: the Health header puts the breach first; the sort choice, titles A to Z.
    act::click(c, &find::hook("sort-health")).await?;
    check::attr_is(c, "th[aria-sort]", "aria-sort", "ascending").await?;
    let start = std::time::Instant::now();
    loop {
        let first = titles(c).await?;
        if first.first().is_some_and(|t| t.starts_with(BREACHING)) {
            break;
        }
        assert!(
            start.elapsed() < rollgate_e2e::PATIENCE,
            "sorted by health: {first:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    act::select(c, &find::hook("sort"), "title").await?;
    rows_are(
        c,
        &[
            "Add order-lookup tool",
            "Route Spanish",
            BREACHING,
            "Upgrade support assistant",
            "Warmer tone in onboarding",
        ],
    )
    .await?;

    // Searching: title words, then a product area no title names.
    search(c, "MODEL").await?;
    rows_are(c, &["Route Spanish", "Upgrade support assistant"]).await?;
    search(c, "billing chat").await?;
    rows_are(c, &[BREACHING]).await?;
    act::click(c, ".toolbar a[href=\"/\"]").await?;
    check::count(c, &find::hook("change-row"), 5).await?;

    // At 390 px the list is stacked cards, each with its health, and nothing scrolls sideways.
    c.set_window_size(390, 844).await?;
    find::one(c, &find::hook("change-row")).await?;
    let widths = c
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await?;
    assert!(
        widths[0].as_u64() <= widths[1].as_u64(),
        "the list scrolls sideways at 390 px: {widths}"
    );
    let shown = c
        .execute(
            r#"const chip = document.querySelector('[data-test="change-row"] [data-test="health"]');
               const r = chip.getBoundingClientRect();
               return r.width > 0 && r.right <= window.innerWidth;"#,
            vec![],
        )
        .await?;
    assert_eq!(
        shown.as_bool(),
        Some(true),
        "the health chip is off screen at 390 px"
    );
    browser.screenshot("health-list-390").await?;
    c.set_window_size(1400, 900).await?;

    // The approvals inbox: the gate waits for the approver, the breach beside it.
    c.goto(&server.page("/approvals")).await?;
    let entry = format!("{}[data-change-id=\"{id}\"]", find::hook("inbox-entry"));
    find::one(c, &entry).await?;
    check::attr_is(
        c,
        &format!("{entry} {}", find::hook("health")),
        "data-health",
        "breach",
    )
    .await?;
    legible_chips(c, "approvals inbox").await?;
    browser.screenshot("health-inbox").await?;

    // The change's overview says Breach and names the metric.
    c.goto(&server.page(&format!("/changes/{id}"))).await?;
    find::one(c, &find::hook("timeline")).await?;
    check::attr_is(c, &find::hook("health"), "data-health", "breach").await?;
    let reason = find::text(c, &find::hook("health-reason")).await?;
    assert!(reason.contains("Cost per request"), "reason: {reason}");
    legible_chips(c, "change page").await?;

    // The Approve dialog waits for "I have seen the breach".
    act::click(c, &find::hook("approve")).await?;
    // The dialog opens a moment after the click; its text reads empty until it shows.
    let start = std::time::Instant::now();
    loop {
        let warning = find::text(c, &find::hook("breach-warning")).await?;
        if warning.contains("Cost per request") {
            break;
        }
        assert!(
            start.elapsed() < rollgate_e2e::PATIENCE,
            "warning: {warning:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    check::attr_is(c, &find::hook("confirm"), "disabled", "true").await?;
    browser.screenshot("health-approve-dialog").await?;
    act::click(c, &find::hook("seen-breach")).await?;
    let confirm = find::one(c, &find::hook("confirm")).await?;
    assert_eq!(
        confirm.attr("disabled").await?,
        None,
        "Approve stays disabled"
    );
    act::fill(
        c,
        &find::hook("approval-comment"),
        "Seen the cost breach; approving the ramp once cost is fixed.",
    )
    .await?;
    act::click(c, &find::hook("confirm")).await?;
    find::one(c, &find::hook("signature")).await?;
    act::click(c, &format!("{} summary", find::hook("evidence"))).await?;
    check::page_shows(c, "I have seen the breach").await?;
    find::one(c, &find::hook("seen-breach-note")).await?;

    // The inbox lists it as decided, still with its breach.
    c.goto(&server.page("/approvals?tab=decided")).await?;
    check::attr_is(
        c,
        &format!("{entry} {}", find::hook("health")),
        "data-health",
        "breach",
    )
    .await?;
    browser.close().await;
    Ok(())
}

/// An empty workspace offers "Register a change" to those who can create one, and to nobody
/// else.
#[tokio::test]
async fn register_a_change_is_offered_to_those_who_can() -> Result {
    let server = Server::start();
    let browser = Browser::start().await;
    let c = &browser.client;
    for (who, offered) in [
        (rollgate_e2e::SUPPORT, false),
        (rollgate_e2e::APPROVER, false),
        (rollgate_e2e::PM, true),
        (rollgate_e2e::ENGINEER, true),
    ] {
        act::login(c, &server, who).await?;
        find::one(c, &find::hook("empty")).await?;
        let n = find::all(c, &find::hook("register-change")).await?.len();
        assert_eq!(n, usize::from(offered), "{who}: {n} Register buttons");
        act::logout(c).await?;
    }
    browser.close().await;
    Ok(())
}
