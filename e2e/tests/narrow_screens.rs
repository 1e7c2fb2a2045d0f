//! The console on a phone, 360 and 390 px wide: no page scrolls sideways, Sign out stays on
//! screen, and every column of a wide table can be reached, in stacked cards or by scrolling the
//! table's own box.
//! Screenshots of the change list, the comparison, the feed and each role's main page at 1400
//! and 390 px are saved for people to look at (`ROLLGATE_E2E_SCREENSHOTS`; `cargo xtask test`
//! writes them to `e2e-screenshots/` in the cargo target directory).

use fantoccini::Client;
use rollgate_e2e::{Browser, Result, Server, act, find, http};
use serde_json::Value;

/// The page's widths, and the elements that stick out to the right of the viewport without
/// an ancestor that clips or scrolls them: what makes a page scroll sideways.
const OVERFLOW: &str = r#"
const width = window.innerWidth;
const describe = (el) => el.tagName.toLowerCase()
  + (el.dataset.test ? '[data-test=' + el.dataset.test + ']' : '')
  + (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\s+/).join('.') : '');
const sticking = [];
for (const el of document.querySelectorAll('body *')) {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.right <= width + 0.5) continue;
  let contained = false;
  for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
    if (getComputedStyle(p).overflowX !== 'visible') { contained = true; break; }
  }
  if (!contained) sticking.push(describe(el) + ' right=' + Math.round(r.right));
}
return {
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: width,
  sticking: sticking.slice(0, 12),
};
"#;

/// Where the element matching `arguments[0]` is, against the viewport.
const IN_VIEW: &str = r#"
const el = document.querySelector(arguments[0]);
if (!el) return null;
const r = el.getBoundingClientRect();
const shown = el.getClientRects().length > 0 && getComputedStyle(el).visibility === 'visible';
return shown && r.width > 0 && r.left >= 0 && r.top >= 0
  && r.right <= window.innerWidth && r.bottom <= window.innerHeight;
"#;

/// Every cell of the first row matching `arguments[0]`: shown, and either inside the viewport
/// or inside a box that scrolls sideways and itself fits the viewport. A table may become
/// stacked cards or scroll in its own box; a column it hides is unreachable.
const CELLS: &str = r#"
const width = window.innerWidth;
const row = document.querySelector(arguments[0]);
if (!row) return { count: 0, unreachable: [] };
const out = [];
row.querySelectorAll(':scope > td').forEach((td, i) => {
  const r = td.getBoundingClientRect();
  let ok = td.getClientRects().length > 0 && r.width > 0;
  if (ok && (r.left < 0 || r.right > width + 0.5)) {
    let p = td.parentElement;
    while (p && !['auto', 'scroll'].includes(getComputedStyle(p).overflowX)) p = p.parentElement;
    const box = p && p.getBoundingClientRect();
    ok = !!p && box.left >= 0 && box.right <= width + 0.5;
  }
  if (!ok) out.push('cell ' + (i + 1) + ': ' + (td.innerText.trim() || td.className));
});
return { count: row.querySelectorAll(':scope > td').length, unreachable: out };
"#;

/// The demo's admin sees the most: every navigation link and the change page's ingestion
/// tokens.
const DEMO_ADMIN: &str = "admin@demo.rollgate";

/// Each demo role, the page its work starts from, and what shows when that page is ready.
const MAIN_PAGES: [(&str, &str, &str, &str); 5] = [
    ("admin", DEMO_ADMIN, "/admin", "users"),
    ("engineer", "erin.engineer@demo.rollgate", "/", "change-row"),
    ("pm", "pat.pm@demo.rollgate", "/", "change-row"),
    (
        "approver",
        "alex.approver@demo.rollgate",
        "/approvals",
        "inbox-entry",
    ),
    ("support", "sam.support@demo.rollgate", "/feed", "feed-item"),
];

/// How tall a window may grow for a whole-page screenshot.
const TALLEST: u64 = 6000;

fn canary_id(server: &Server) -> String {
    let (status, text) = http::login(server, DEMO_ADMIN).request(
        server,
        "GET",
        "/api/v1/changes?state=canary",
        None,
    );
    assert_eq!(status, 200, "{text}");
    let page: Value = serde_json::from_str(&text).expect("json");
    page["items"][0]["id"]
        .as_str()
        .expect("the demo has a change in canary")
        .to_string()
}

/// Resizes the window so the viewport is `width` wide, and checks it is.
async fn viewport(c: &Client, width: u32) -> Result {
    c.set_window_size(width, 844).await?;
    // The window manager may apply the size a moment after answering.
    let mut inner = c.execute("return window.innerWidth;", vec![]).await?;
    for _ in 0..20 {
        if inner.as_u64() == Some(u64::from(width)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        inner = c.execute("return window.innerWidth;", vec![]).await?;
    }
    assert_eq!(
        inner.as_u64(),
        Some(u64::from(width)),
        "the viewport is {width} px wide"
    );
    Ok(())
}

/// Opens `path`, waits for `ready` and checks nothing makes the page scroll sideways.
async fn no_sideways_scroll(
    c: &Client,
    server: &Server,
    page: &str,
    path: &str,
    ready: &str,
) -> Result {
    c.goto(&server.page(path)).await?;
    find::one(c, &find::hook(ready)).await?;
    let o = c.execute(OVERFLOW, vec![]).await?;
    let (scroll, inner) = (o["scrollWidth"].as_u64(), o["innerWidth"].as_u64());
    assert!(
        scroll <= inner,
        "{page} at {inner:?} px scrolls sideways to {scroll:?} px; sticking out: {}",
        o["sticking"]
    );
    Ok(())
}

/// As [`no_sideways_scroll`], and Sign out is on screen.
async fn fits(c: &Client, server: &Server, page: &str, path: &str, ready: &str) -> Result {
    no_sideways_scroll(c, server, page, path, ready).await?;
    let logout = c
        .execute(IN_VIEW, vec![find::hook("logout").into()])
        .await?;
    assert_eq!(
        logout.as_bool(),
        Some(true),
        "{page}: Sign out is on screen"
    );
    Ok(())
}

/// Saves the whole page, not only the viewport: the window grows to fit the page's height for
/// the shot and returns to phone height after.
async fn whole_page(browser: &Browser, width: u32, name: &str) -> Result {
    let c = &browser.client;
    let height = c
        .execute(
            "return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight;",
            vec![],
        )
        .await?
        .as_u64()
        .unwrap_or(844)
        .min(TALLEST);
    c.set_window_size(width, height as u32).await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    browser.screenshot(name).await?;
    c.set_window_size(width, 844).await?;
    Ok(())
}

/// Every cell of the first row matching `row` can be reached.
async fn cells_reachable(c: &Client, page: &str, row: &str, cells: u64) -> Result {
    let found = c.execute(CELLS, vec![row.into()]).await?;
    assert_eq!(
        found["count"].as_u64(),
        Some(cells),
        "{page}: `{row}` has its cells: {found}"
    );
    assert_eq!(
        found["unreachable"],
        serde_json::json!([]),
        "{page}: cells of `{row}` that cannot be reached"
    );
    Ok(())
}

#[tokio::test]
async fn narrow_screens() -> Result {
    let server = Server::start_demo();
    let id = canary_id(&server);
    let browser = Browser::start().await;
    let c = &browser.client;
    let compare = format!("/changes/{id}/compare?window=all");

    viewport(c, 360).await?;
    no_sideways_scroll(c, &server, "the sign-in page", "/login", "login-email").await?;
    act::login(c, &server, DEMO_ADMIN).await?;
    for width in [360, 390] {
        viewport(c, width).await?;
        fits(c, &server, "the change list", "/", "change-row").await?;
        cells_reachable(c, "the change list", &find::hook("change-row"), 8).await?;
        fits(
            c,
            &server,
            "a change page",
            &format!("/changes/{id}"),
            "timeline",
        )
        .await?;
        fits(c, &server, "the comparison", &compare, "comparison-ready").await?;
        cells_reachable(c, "the comparison", &find::hook("metric-row"), 7).await?;
        fits(c, &server, "the change feed", "/feed", "feed-item").await?;
        fits(
            c,
            &server,
            "the delivery figures",
            "/figures",
            "figures-shipped",
        )
        .await?;
    }

    // Screenshots of the main pages, wide and narrow.
    for width in [1400, 390] {
        viewport(c, width).await?;
        for (name, path, ready) in [
            ("change-list", "/", "change-row"),
            ("comparison", compare.as_str(), "comparison-ready"),
            ("feed", "/feed", "feed-item"),
            ("figures", "/figures", "figures-document"),
        ] {
            c.goto(&server.page(path)).await?;
            find::one(c, &find::hook(ready)).await?;
            whole_page(&browser, width, &format!("{name}-{width}")).await?;
        }
    }

    // Sign out works from a phone.
    viewport(c, 360).await?;
    act::logout(c).await?;

    // Each role's main page, wide and narrow: it fits a phone, and the shots are saved as
    // `role-<role>-<width>.png`.
    for (role, email, path, ready) in MAIN_PAGES {
        viewport(c, 1400).await?;
        act::login(c, &server, email).await?;
        for width in [1400, 390] {
            viewport(c, width).await?;
            let page = format!("the {role}'s main page");
            if width == 390 {
                fits(c, &server, &page, path, ready).await?;
            } else {
                c.goto(&server.page(path)).await?;
                find::one(c, &find::hook(ready)).await?;
            }
            whole_page(&browser, width, &format!("role-{role}-{width}")).await?;
        }
        act::logout(c).await?;
    }
    browser.close().await;
    Ok(())
}
