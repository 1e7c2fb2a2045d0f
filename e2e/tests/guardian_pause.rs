//! The guardian holds a canary whose traffic split is broken: the change page says who paused
//! it, when and why, offers Resume and Roll back, and no longer offers Advance.

use rollgate_e2e::{ADMIN, Browser, ENGINEER, Result, Server, act, check, find, http};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// One window per variant ending now: `control` and `candidate` requests, equal costs.
fn windows(control: u64, candidate: u64) -> String {
    let end = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .expect("whole second");
    let start = end - time::Duration::seconds(1);
    let at = |t: OffsetDateTime| t.format(&Rfc3339).expect("RFC 3339");
    let window = |variant: &str, n: u64| {
        serde_json::json!({
            "variant": variant,
            "segment": "all",
            "window_start": at(start),
            "window_end": at(end),
            "requests": n,
            "metrics": { "cost_per_request": {
                "n": n, "sum": 0.004 * n as f64, "sum_squares": 0.000_017 * n as f64,
            } },
        })
    };
    serde_json::json!({ "windows": [window("control", control), window("candidate", candidate)] })
        .to_string()
}

#[tokio::test]
async fn guardian_pause() -> Result {
    let server = Server::start_with_guardian();
    let erin = http::login(&server, ENGINEER);
    let id = erin.change_at_canary(
        &server,
        "Friendlier greeting prompt",
        "Greetings read a little warmer.",
    );

    // Half the requests on a 5 % canary: the split is broken.
    let admin = http::login(&server, ADMIN);
    let body = serde_json::json!({ "name": "e2e feed", "change_id": id }).to_string();
    let (status, text) = admin.request(&server, "POST", "/api/v1/tokens", Some(&body));
    assert_eq!(status, 201, "token: {text}");
    let token: serde_json::Value = serde_json::from_str(&text).expect("a JSON body");
    let bearer = format!("Bearer {}", token["secret"].as_str().expect("a secret"));
    // Window times may not lie in the future: wait out the second the canary started in.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, text) = http::request_with(
        &server,
        "POST",
        &format!("/api/v1/changes/{id}/metrics"),
        Some(&windows(10_000, 10_000)),
        &[("Authorization", &bearer)],
    );
    assert_eq!(status, 200, "ingestion: {text}");

    // The guardian acts right after the batch.
    let mut paused = false;
    for _ in 0..50 {
        let (_, text) = erin.request(&server, "GET", &format!("/api/v1/changes/{id}"), None);
        let detail: serde_json::Value = serde_json::from_str(&text).expect("a JSON body");
        if !detail["change"]["paused"].is_null() {
            paused = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(paused, "the guardian did not pause the canary");

    let browser = Browser::start().await;
    let c = &browser.client;
    act::login(c, &server, ENGINEER).await?;
    c.goto(&server.page(&format!("/changes/{id}"))).await?;
    let banner = find::text(c, &find::hook("paused-banner")).await?;
    assert!(banner.contains("Paused by guardian at "), "{banner}");
    let reason = find::text(c, &find::hook("paused-reason")).await?;
    assert!(
        reason.starts_with("sample-ratio mismatch: the candidate has 10000 of 20000 requests"),
        "{reason}"
    );
    assert!(banner.contains("resume or roll back"), "{banner}");
    check::page_shows(c, "Canary 5% · paused").await?;
    let statuses = check::timeline(c).await?;
    assert!(
        statuses.iter().any(|s| s == "paused"),
        "the timeline marks the held stage: {statuses:?}"
    );
    find::one(c, &find::hook("resume")).await?;
    find::one(c, &find::hook("rollback")).await?;
    // A paused change offers no way forward: Advance waits, disabled, saying why.
    let advance = find::one(c, &find::hook("advance")).await?;
    assert_eq!(advance.attr("disabled").await?.as_deref(), Some("true"));
    let why = find::text(c, &find::hook("advance-reason")).await?;
    assert!(why.starts_with("Paused"), "{why}");
    browser.screenshot("guardian-paused").await?;
    browser.close().await;
    Ok(())
}
