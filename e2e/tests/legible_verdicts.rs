//! Colours people must read are measured, not assumed: on the demo's breaching canary every
//! verdict chip of the comparison page (Breach above all), every state badge and tag, and the
//! small secondary text keep a contrast of at least 4.5:1 (WCAG AA for text under 18 px).
//!
//! The browser computes each contrast from the styles it actually applies, so a rule of one
//! stylesheet overriding another (which once drew the Breach chip red on red) fails here.

use std::time::{Duration, Instant};

use fantoccini::Client;
use rollgate_e2e::{Browser, DEMO_PM, PATIENCE, Result, Server, act, check, find, http};
use serde_json::Value;

/// WCAG AA for normal-size text.
const MINIMUM: f64 = 4.5;

/// For each selector in `arguments[0]`, every visible element with text: its contrast ratio
/// against the colour behind it. The background is the first non-transparent one found
/// walking up from the element, with translucent layers composited over what lies beneath
/// (the page canvas is white); the text colour is composited over that background with its own
/// alpha and every ancestor's opacity. Luminance and ratio as WCAG 2 defines them.
const CONTRASTS: &str = r#"
const rgba = (s) => {
  if (!s.startsWith('rgb')) throw new Error('unexpected colour ' + s);
  const [r, g, b, a] = s.match(/[\d.]+/g).map(Number);
  return [r, g, b, a === undefined ? 1 : a];
};
const over = (top, bottom) => {
  const a = top[3] + bottom[3] * (1 - top[3]);
  if (a === 0) return [0, 0, 0, 0];
  const mix = (i) => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a;
  return [mix(0), mix(1), mix(2), a];
};
const behind = (el) => {
  const layers = [];
  for (let n = el; n; n = n.parentElement) {
    const c = rgba(getComputedStyle(n).backgroundColor);
    if (c[3] > 0) layers.push(c);
    if (c[3] >= 1) break;
  }
  return layers.reverse().reduce((below, layer) => over(layer, below), [255, 255, 255, 1]);
};
const luminance = (c) => {
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
};
const out = [];
for (const selector of arguments[0]) {
  for (const el of document.querySelectorAll(selector)) {
    const text = el.innerText.trim();
    if (!text || el.getClientRects().length === 0) continue;
    let opacity = 1;
    for (let n = el; n; n = n.parentElement) opacity *= Number(getComputedStyle(n).opacity);
    const bg = behind(el);
    const fg = rgba(getComputedStyle(el).color);
    const ink = over([fg[0], fg[1], fg[2], fg[3] * opacity], bg);
    const [hi, lo] = [luminance(ink), luminance(bg)].sort((a, b) => b - a);
    out.push({
      selector, text: text.slice(0, 40), className: String(el.className),
      ratio: (hi + 0.05) / (lo + 0.05),
      color: getComputedStyle(el).color, background: 'rgb(' + bg.slice(0, 3).map(Math.round).join(', ') + ')',
    });
  }
}
return out;
"#;

/// Waits until no CSS transition runs and nothing is marked as loading: a list fading back in
/// after a fetch is briefly paler than it stays.
async fn settled(c: &Client, page: &str) -> Result {
    let start = Instant::now();
    loop {
        let busy = c
            .execute(
                "return document.querySelector('.is-loading') !== null || document.getAnimations()\
                 .some((a) => a instanceof CSSTransition && a.playState === 'running');",
                vec![],
            )
            .await?;
        if busy.as_bool() == Some(false) {
            return Ok(());
        }
        if start.elapsed() > PATIENCE {
            return Err(format!("{page} never settled").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The contrast of every visible element matching `selectors`; fails listing each one below
/// [`MINIMUM`], and when a selector in `required` matched nothing (a check of nothing).
async fn legible(
    c: &Client,
    page: &str,
    selectors: &[&str],
    required: &[&str],
) -> Result<Vec<Value>> {
    settled(c, page).await?;
    let found = c
        .execute(CONTRASTS, vec![serde_json::json!(selectors)])
        .await?;
    let found = found.as_array().cloned().unwrap_or_default();
    for want in required {
        assert!(
            found.iter().any(|f| f["selector"] == *want),
            "{page}: nothing visible matches `{want}`"
        );
    }
    let faint: Vec<String> = found
        .iter()
        .filter(|f| f["ratio"].as_f64().unwrap_or(0.0) < MINIMUM)
        .map(|f| {
            format!(
                "{:.2}:1 `{}` ({}) {} on {}: {:?}",
                f["ratio"].as_f64().unwrap_or(0.0),
                f["selector"].as_str().unwrap_or_default(),
                f["className"].as_str().unwrap_or_default(),
                f["color"].as_str().unwrap_or_default(),
                f["background"].as_str().unwrap_or_default(),
                f["text"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert!(
        faint.is_empty(),
        "{page}: text below {MINIMUM}:1 contrast:\n{}",
        faint.join("\n")
    );
    Ok(found)
}

fn canary_id(server: &Server) -> String {
    let (status, text) =
        http::login(server, DEMO_PM).request(server, "GET", "/api/v1/changes?state=canary", None);
    assert_eq!(status, 200, "{text}");
    let page: Value = serde_json::from_str(&text).expect("json");
    page["items"][0]["id"]
        .as_str()
        .expect("the demo has a change in canary")
        .to_string()
}

#[tokio::test]
async fn legible_verdicts() -> Result {
    let server = Server::start_demo();
    let id = canary_id(&server);
    let browser = Browser::start().await;
    let c = &browser.client;

    // The sign-in page lists the demo accounts with their roles as tags.
    c.goto(&server.page("/login")).await?;
    find::one(c, &find::hook("login-email")).await?;
    legible(
        c,
        "sign-in",
        &[".role-tags .tag", ".subtle"],
        &[".role-tags .tag"],
    )
    .await?;

    // The change list: state badges, kind tags, risk, owner and age.
    act::login(c, &server, DEMO_PM).await?;
    find::one(c, &find::hook("change-row")).await?;
    legible(
        c,
        "change list",
        &[
            "[data-test=\"state-badge\"]",
            ".changes-table .tag",
            ".risk",
            ".traffic-num",
            ".col-owner",
            ".col-updated",
            ".changes-table th",
            ".table-foot .subtle",
            ".pager-pos",
            ".whoami-roles",
            ".topnav a",
        ],
        &["[data-test=\"state-badge\"]", ".changes-table .tag"],
    )
    .await?;

    // The comparison of the breaching canary: every verdict chip, Breach included.
    c.goto(&server.page(&format!("/changes/{id}/compare?window=all")))
        .await?;
    find::one(c, &find::hook("comparison-ready")).await?;
    let cost = "[data-test=\"metric-row\"][data-metric=\"cost_per_request\"]";
    check::attr_is(c, cost, "data-verdict", "breach").await?;
    let chip = "[data-test=\"metric-row\"] .verdict";
    let found = legible(
        c,
        "comparison",
        &[
            chip,
            "[data-test=\"state-badge\"]",
            ".metric-key",
            ".family-row th",
            ".diff-ci",
            ".criterion-text",
            ".metric-table th",
            ".matrix-cell",
            ".matrix th",
            ".callout-label",
            ".verdict-callout-text",
        ],
        &[chip, ".metric-key", ".family-row th", ".matrix-cell"],
    )
    .await?;
    let chips: Vec<&str> = found
        .iter()
        .filter(|f| f["selector"] == chip)
        .filter_map(|f| f["text"].as_str())
        .collect();
    for label in ["Breach", "Pass"] {
        assert!(
            chips.contains(&label),
            "a {label} chip was measured: {chips:?}"
        );
    }
    browser.close().await;
    Ok(())
}
