//! The console on a slow network: Chrome's network emulation at 1.5 s latency and 200 KB/s
//! each way, with an empty cache, as someone opening it for the first time on a poor mobile
//! connection. The first screen must show something that says what is coming (the sign-in or
//! a skeleton of the console) within 1.5 s of the page's HTML arriving; the HTML itself cannot
//! come sooner than the latency. The times to the sign-in form, the change list and the
//! comparison's verdict are printed for BENCHMARKS.md ("Console on a slow network").

use std::time::{Duration, Instant};

use fantoccini::Client;
use rollgate_e2e::{Browser, Result, Server, act, http};
use serde_json::{Value, json};

/// The throttled profile of the issue: 1.5 s before each response, 200 KB/s both ways.
const LATENCY: Duration = Duration::from_millis(1500);
const BYTES_PER_SECOND: u32 = 200 * 1024;

/// How long the first screen may stay blank once the HTML has arrived.
const FIRST_SCREEN_MS: f64 = 1500.0;

/// How long a throttled page may take to show what is waited for.
const SLOW_PATIENCE: Duration = Duration::from_secs(90);

const DEMO_ADMIN: &str = "admin@demo.rollgate";

/// Installed before any of the page's own scripts: the moment each of these first appears in
/// the document, in ms from the start of the navigation.
const MARKS: &str = r#"
window.__marks = {};
const want = {
  skeleton: '.boot-skeleton, [aria-busy=true]',
  login: '[data-test=login-email]',
  list: '[data-test=change-row]',
  verdict: '[data-test=overall-verdict]',
};
const look = () => {
  for (const [k, sel] of Object.entries(want)) {
    if (!(k in window.__marks) && document.querySelector(sel)) window.__marks[k] = performance.now();
  }
};
new MutationObserver(look).observe(document, { subtree: true, childList: true, attributes: true });
document.addEventListener('readystatechange', look);
"#;

/// The document's arrival, the first paint with content, and the marks, in ms from the start
/// of the navigation.
const TIMINGS: &str = r#"
const nav = performance.getEntriesByType('navigation')[0];
const fcp = performance.getEntriesByName('first-contentful-paint')[0];
return {
  html: nav ? nav.responseEnd : null,
  paint: fcp ? fcp.startTime : null,
  marks: window.__marks || {},
};
"#;

/// A browser with an empty cache whose pages record [`MARKS`], throttled from now on.
async fn throttled(server: &Server, email: Option<&str>) -> Result<Browser> {
    let browser = Browser::start().await;
    let c = &browser.client;
    if let Some(email) = email {
        // Signed in from the origin's health check, which loads nothing of the console, so
        // its files are not in the cache yet: the browser keeps the session cookie.
        c.goto(&server.page("/api/v1/health")).await?;
        let body = json!({ "email": email, "password": server.password() }).to_string();
        let status = c
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 fetch('/api/v1/session', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                   body: arguments[0] }).then((r) => done(r.status), (e) => done(String(e)));",
                vec![body.into()],
            )
            .await?;
        assert_eq!(status, 200, "signing in as {email}");
    }
    act::cdp(
        c,
        "Page.addScriptToEvaluateOnNewDocument",
        json!({ "source": MARKS }),
    )
    .await?;
    act::slow_network(c, LATENCY, BYTES_PER_SECOND).await?;
    Ok(browser)
}

/// Opens `path` and waits until the mark `until` is set; the timings.
async fn load(c: &Client, server: &Server, path: &str, until: &str) -> Result<Value> {
    c.goto(&server.page(path)).await?;
    let start = Instant::now();
    loop {
        let t = c.execute(TIMINGS, vec![]).await?;
        if t["marks"][until].is_number() && t["paint"].is_number() {
            return Ok(t);
        }
        if start.elapsed() > SLOW_PATIENCE {
            return Err(format!("{path} never showed `{until}` on the slow network: {t}").into());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn ms(t: &Value, key: &str) -> f64 {
    t.pointer(key).and_then(Value::as_f64).unwrap_or(f64::NAN)
}

fn canary_id(server: &Server, admin: &http::Session) -> String {
    let (status, text) = admin.request(server, "GET", "/api/v1/changes?state=canary", None);
    assert_eq!(status, 200, "{text}");
    let page: Value = serde_json::from_str(&text).expect("json");
    page["items"][0]["id"]
        .as_str()
        .expect("the demo has a change in canary")
        .to_string()
}

#[tokio::test]
async fn the_first_screen_shows_up_on_a_slow_network() -> Result {
    let server = Server::start_demo();
    let admin = http::login(&server, DEMO_ADMIN);
    let canary = canary_id(&server, &admin);
    let mut figures = Vec::new();

    // Signed out: the sign-in page.
    let browser = throttled(&server, None).await?;
    let t = load(&browser.client, &server, "/login", "login").await?;
    browser.screenshot("slow-network-sign-in").await?;
    browser.close().await;
    let (html, paint) = (ms(&t, "/html"), ms(&t, "/paint"));
    figures.push(format!(
        "sign-in: HTML {html:.0} ms, first paint {paint:.0} ms, skeleton {:.0} ms, sign-in form {:.0} ms",
        ms(&t, "/marks/skeleton"),
        ms(&t, "/marks/login")
    ));
    let first_screen = ms(&t, "/marks/skeleton")
        .min(ms(&t, "/marks/login"))
        .max(paint);
    let mut late = Vec::new();
    if first_screen - html > FIRST_SCREEN_MS {
        late.push(format!(
            "sign-in: neither a skeleton nor the form {:.0} ms after the HTML: {t}",
            first_screen - html
        ));
    }

    // Signed in: the change list, then (another empty cache) the comparison's verdict.
    let browser = throttled(&server, Some(DEMO_ADMIN)).await?;
    let t = load(&browser.client, &server, "/", "list").await?;
    browser.close().await;
    let (html, paint) = (ms(&t, "/html"), ms(&t, "/paint"));
    figures.push(format!(
        "change list: HTML {html:.0} ms, first paint {paint:.0} ms, skeleton {:.0} ms, rows {:.0} ms",
        ms(&t, "/marks/skeleton"),
        ms(&t, "/marks/list")
    ));
    let first_screen = ms(&t, "/marks/skeleton").max(paint);
    if first_screen - html > FIRST_SCREEN_MS {
        late.push(format!(
            "change list: no skeleton {:.0} ms after the HTML: {t}",
            first_screen - html
        ));
    }

    let browser = throttled(&server, Some(DEMO_ADMIN)).await?;
    let path = format!("/changes/{canary}/compare?window=all");
    let t = load(&browser.client, &server, &path, "verdict").await?;
    browser.screenshot("slow-network-comparison").await?;
    browser.close().await;
    figures.push(format!(
        "comparison: HTML {:.0} ms, first paint {:.0} ms, skeleton {:.0} ms, verdict {:.0} ms",
        ms(&t, "/html"),
        ms(&t, "/paint"),
        ms(&t, "/marks/skeleton"),
        ms(&t, "/marks/verdict")
    ));
    eprintln!(
        "Console on a slow network ({} ms latency, {} B/s, empty cache):\n{}",
        LATENCY.as_millis(),
        BYTES_PER_SECOND,
        figures.join("\n")
    );
    assert!(
        late.is_empty(),
        "over the {FIRST_SCREEN_MS} ms limit:\n{}",
        late.join("\n")
    );
    Ok(())
}
