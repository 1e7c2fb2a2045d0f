//! Every page of the demo, as every role, passes axe-core's WCAG 2 A and AA rules with no
//! serious or critical violation (colour contrast among them). Besides: the first Tab on a
//! page reaches "Skip to content", which takes the keyboard past the top bar; a focused control
//! shows a visible outline; and every chart has a text equivalent.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use rollgate_e2e::{Browser, PATIENCE, Result, Server, act, axe, find, http};
use serde_json::Value;

/// The demo's people, one per role.
const ROLES: [(&str, &str); 5] = [
    ("admin", "admin@demo.rollgate"),
    ("engineer", "erin.engineer@demo.rollgate"),
    ("pm", "pat.pm@demo.rollgate"),
    ("approver", "alex.approver@demo.rollgate"),
    ("support", "sam.support@demo.rollgate"),
];

/// Charts drawn in SVG that have no text a screen reader could read: no `aria-label` or
/// `aria-labelledby` of their own or of the image (`role="img"`) holding them, and no
/// `figcaption` of the figure around them. Icons
/// (`aria-hidden`) and small marks are not charts.
const UNNAMED_CHARTS: &str = r#"
const out = [];
for (const svg of document.querySelectorAll('svg')) {
  if (svg.closest('[aria-hidden="true"]')) continue;
  const r = svg.getBoundingClientRect();
  if (r.width < 48 || r.height < 48) continue;
  const holder = svg.closest('[aria-label], [aria-labelledby]');
  const named = holder && (holder === svg || holder.getAttribute('role') === 'img');
  const figure = svg.closest('figure');
  const caption = figure && figure.querySelector('figcaption');
  if (!named && !(caption && caption.textContent.trim())) {
    out.push((svg.parentElement.className || svg.parentElement.tagName) + ' ' + Math.round(r.width) + '×' + Math.round(r.height));
  }
}
return out;
"#;

/// The focused element's text and whether it draws an outline or a ring.
const FOCUSED: &str = r#"
const el = document.activeElement;
const s = getComputedStyle(el);
const r = el.getBoundingClientRect();
return {
  text: el.textContent.trim(),
  tag: el.tagName.toLowerCase(),
  visible: r.width > 0 && r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight,
  ring: (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2) || s.boxShadow !== 'none',
};
"#;

/// (id, state) of every demo change.
fn changes(server: &Server) -> Vec<(String, String)> {
    let (status, text) =
        http::login(server, ROLES[0].1).request(server, "GET", "/api/v1/changes?per_page=50", None);
    assert_eq!(status, 200, "{text}");
    let page: Value = serde_json::from_str(&text).expect("json");
    page["items"]
        .as_array()
        .expect("a list of changes")
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap_or_default().to_string(),
                c["state"]["stage"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Waits until nothing on the page is loading: no skeleton, nothing `aria-busy`.
async fn settled(c: &Client) -> Result {
    let start = Instant::now();
    loop {
        let busy = c
            .execute(
                "return document.querySelector('[aria-busy=true], .skeleton, [data-test=pages-loading]') !== null;",
                vec![],
            )
            .await?;
        if busy.as_bool() == Some(false) {
            // The last fetch's answer may still be drawing.
            tokio::time::sleep(Duration::from_millis(200)).await;
            return Ok(());
        }
        if start.elapsed() > PATIENCE {
            return Err("the page kept loading".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens `path`, waits for `ready` and the data, and adds what axe and the chart check find.
async fn audit(
    c: &Client,
    server: &Server,
    who: &str,
    path: &str,
    ready: &str,
) -> Result<Vec<String>> {
    c.goto(&server.page(path)).await?;
    find::one(c, ready)
        .await
        .map_err(|e| format!("{who} on {path}: {e}"))?;
    settled(c).await?;
    let mut found: Vec<String> = axe::serious_violations(c)
        .await?
        .into_iter()
        .map(|v| format!("{who} on {path}: {v}"))
        .collect();
    let charts = c.execute(UNNAMED_CHARTS, vec![]).await?;
    for chart in charts.as_array().into_iter().flatten() {
        found.push(format!(
            "{who} on {path}: a chart without a text equivalent: {chart}"
        ));
    }
    Ok(found)
}

#[tokio::test]
async fn every_page_passes_axe_for_every_role() -> Result {
    // Installs axe-core before the clock of any wait starts.
    axe::source();
    let server = Server::start_demo();
    let changes = changes(&server);
    let canary = changes
        .iter()
        .find(|(_, s)| s == "canary")
        .map(|(id, _)| id.clone())
        .expect("the demo has a change in canary");
    let draft = changes
        .iter()
        .find(|(_, s)| s == "draft")
        .map(|(id, _)| id.clone())
        .expect("the demo has a draft");
    let browser = Browser::start().await;
    let c = &browser.client;
    let hook = find::hook;

    let mut found = audit(c, &server, "nobody", "/login", &hook("demo-users")).await?;
    for (role, email) in ROLES {
        act::login(c, &server, email).await?;
        let mut pages = vec![
            ("/".to_string(), hook("change-row")),
            (
                format!("/changes/{canary}/compare?window=all"),
                hook("comparison-ready"),
            ),
            (
                "/approvals".into(),
                "[data-test=inbox-entry], [data-test=inbox-empty]".into(),
            ),
            ("/feed".into(), hook("feed-item")),
            ("/figures".into(), "[data-test=figures-shipped] svg".into()),
            ("/stats".into(), hook("stats-input")),
            ("/no-such-page".into(), "h1".into()),
        ];
        for (id, state) in &changes {
            pages.push((format!("/changes/{id}"), hook("timeline")));
            if matches!(state.as_str(), "full" | "rolled_back" | "reviewed") {
                pages.push((format!("/changes/{id}/review"), hook("doc-row")));
            }
        }
        if matches!(role, "admin" | "engineer" | "pm") {
            pages.push(("/changes/new".into(), hook("submit")));
            pages.push((format!("/changes/{draft}/edit"), hook("submit")));
        }
        if role == "admin" {
            pages.push(("/audit".into(), hook("audit-row")));
            pages.push(("/admin".into(), hook("policies")));
        }
        for (path, ready) in &pages {
            found.extend(audit(c, &server, role, path, ready).await?);
        }
        act::logout(c).await?;
    }
    assert!(
        found.is_empty(),
        "{} serious or critical accessibility problems:\n{}",
        found.len(),
        found.join("\n")
    );
    browser.close().await;
    Ok(())
}

#[tokio::test]
async fn the_keyboard_skips_the_top_bar_and_sees_where_it_is() -> Result {
    let server = Server::start_demo();
    let browser = Browser::start().await;
    let c = &browser.client;
    act::login(c, &server, ROLES[1].1).await?;
    c.goto(&server.page("/")).await?;
    find::one(c, &find::hook("change-row")).await?;

    // The first Tab lands on the skip link, shown and outlined while it has the focus.
    let body = c.find(Locator::Css("body")).await?;
    body.send_keys("\u{E004}").await?;
    let focused = c.execute(FOCUSED, vec![]).await?;
    assert_eq!(
        focused["text"], "Skip to content",
        "the first Tab: {focused}"
    );
    assert_eq!(
        focused["visible"], true,
        "the skip link is shown: {focused}"
    );
    assert_eq!(
        focused["ring"], true,
        "the skip link shows its focus: {focused}"
    );
    browser.screenshot("skip-link-1400").await?;

    // Following it, the next Tab is inside the page, not in the top bar.
    c.active_element().await?.send_keys("\u{E007}").await?;
    c.active_element().await?.send_keys("\u{E004}").await?;
    let inside = c
        .execute(
            "const el = document.activeElement; return !!el.closest('main') && !el.closest('header');",
            vec![],
        )
        .await?;
    let focused = c.execute(FOCUSED, vec![]).await?;
    assert_eq!(
        inside, true,
        "after the skip link, Tab reaches the page: {focused}"
    );
    assert_eq!(
        focused["ring"], true,
        "a focused control shows its focus: {focused}"
    );
    browser.screenshot("focus-in-page-1400").await?;
    browser.close().await;
    Ok(())
}
