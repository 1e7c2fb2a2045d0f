//! A PM asks Support in the change's discussion with a mention, and Support finds it in its
//! feed; the engineer's Advance waits, disabled, naming the missing sign-off; and a New change
//! form with several mistakes, in its fields and in its plan, shows them all at once, the focus
//! on the first.
//! Screenshots of the feed, the change page and the form at 1400 and 390 px are saved
//! (`ROLLGATE_E2E_SCREENSHOTS`).

use fantoccini::Client;
use rollgate_e2e::{ADMIN, Browser, ENGINEER, PM, Result, SUPPORT, Server, act, check, find, http};
use serde_json::{Value, json};

/// Makes Sam (support) a member of the Support team, as an admin does on the Admin page.
fn sam_joins_support(server: &Server) {
    let ada = http::login(server, ADMIN);
    let (status, text) = ada.request(server, "GET", "/api/v1/users", None);
    assert_eq!(status, 200, "{text}");
    let users: Value = serde_json::from_str(&text).expect("users are JSON");
    let sam = users
        .as_array()
        .and_then(|u| u.iter().find(|u| u["email"] == SUPPORT))
        .and_then(|u| u["id"].as_str())
        .expect("Sam's account")
        .to_string();
    let support = http::team_id(server, &ada, "Support");
    let body = json!({ "name": "Support", "members": [sam] });
    let (status, text) = ada.request(
        server,
        "PUT",
        &format!("/api/v1/teams/{support}"),
        Some(&body.to_string()),
    );
    assert_eq!(status, 200, "{text}");
}

/// Resizes the window to `width` px and saves a screenshot named `name-width`.
async fn shot(browser: &Browser, width: u32, name: &str) -> Result {
    browser.client.set_window_size(width, 1400).await?;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    browser.screenshot(&format!("{name}-{width}")).await?;
    Ok(())
}

/// The `name` attribute of the focused element.
async fn focused_name(c: &Client) -> Result<String> {
    let v = c
        .execute(
            "const el = document.activeElement; return el ? el.getAttribute('name') : null;",
            vec![],
        )
        .await?;
    Ok(v.as_str().unwrap_or_default().to_string())
}

#[tokio::test]
async fn discussion_and_forms() -> Result {
    let server = Server::start();
    sam_joins_support(&server);
    let erin = http::login(&server, ENGINEER);
    let title = "Shorter billing answers (prompt billing-v13)";
    let id = erin.create_change(&server, title);
    // At the eval gate: the canary needs the engineer's and a PM's sign-off.
    erin.transition(&server, &id, "advance", None);
    let change_page = server.page(&format!("/changes/{id}"));

    let browser = Browser::start().await;
    let c = &browser.client;

    // The PM asks Support in writing; a PM can never advance, so sees no Advance.
    act::login(c, &server, PM).await?;
    c.goto(&change_page).await?;
    find::one(c, &find::hook("discussion")).await?;
    find::one(c, &find::hook("no-comments")).await?;
    assert!(find::all(c, &find::hook("advance")).await?.is_empty());
    // An unknown team is refused beside the field, and nothing is posted.
    act::fill(c, &find::hook("comment-text"), "@nobody is this fine?").await?;
    act::click(c, &find::hook("comment-post")).await?;
    let refusal = find::text(c, "[data-test=field-error][data-field=text]").await?;
    assert!(refusal.contains("@nobody"), "{refusal}");
    let question = "@support will customers notice the shorter billing answers?";
    act::fill(c, &find::hook("comment-text"), question).await?;
    act::click(c, &find::hook("comment-post")).await?;
    check::count(c, &find::hook("comment"), 1).await?;
    let comment = find::text(c, &find::hook("comment")).await?;
    assert!(comment.contains("Pat PM"), "{comment}");
    assert!(comment.contains(question), "{comment}");
    assert!(
        comment.contains("@Support"),
        "the mentioned team: {comment}"
    );
    act::logout(c).await?;

    // Support finds it in the feed, with the change it is about.
    act::login(c, &server, SUPPORT).await?;
    c.goto(&server.page("/feed")).await?;
    let mention = find::text(c, &find::hook("mention")).await?;
    assert!(mention.contains(title), "{mention}");
    assert!(mention.contains(question), "{mention}");
    for width in [1400, 390] {
        shot(&browser, width, "discussion-feed-mention").await?;
    }
    c.set_window_size(1400, 1400).await?;
    // Support may answer in the discussion too.
    c.goto(&change_page).await?;
    act::fill(
        c,
        &find::hook("comment-text"),
        "Only on billing; we are ready.",
    )
    .await?;
    act::click(c, &find::hook("comment-post")).await?;
    check::count(c, &find::hook("comment"), 2).await?;
    act::logout(c).await?;

    // The engineer's Advance waits for the sign-off and says whose.
    act::login(c, &server, ENGINEER).await?;
    c.goto(&change_page).await?;
    let reason = find::text(c, &find::hook("advance-reason")).await?;
    assert!(reason.contains("pm"), "names the missing role: {reason}");
    assert!(reason.contains("Canary"), "names the gate: {reason}");
    let advance = find::one(c, &find::hook("advance")).await?;
    assert_eq!(advance.attr("disabled").await?.as_deref(), Some("true"));
    for width in [1400, 390] {
        shot(&browser, width, "discussion-change-page").await?;
        c.execute(
            "document.querySelector('[data-test=discussion]').scrollIntoView();",
            vec![],
        )
        .await?;
        browser
            .screenshot(&format!("discussion-thread-{width}"))
            .await?;
        c.execute("window.scrollTo(0, 0);", vec![]).await?;
    }

    // A New change form with six mistakes, three of them in the plan, shows all six in the
    // form's order (a plan field left empty says so), the focus on the first.
    c.set_window_size(1400, 1400).await?;
    c.goto(&server.page("/changes/new")).await?;
    act::fill(c, "[name=owner]", " ").await?;
    act::fill(c, "[name=candidate]", "{\"model\": ").await?;
    act::fill(c, "[name=\"plan.canary.percent\"]", "50").await?;
    // Emptied key by key, as a person would (clearing a field sends no input event).
    find::one(c, "[name=\"plan.ramp[1].percent\"]")
        .await?
        .send_keys("\u{E010}\u{E003}\u{E003}\u{E003}\u{E003}")
        .await?;
    act::fill(c, "[name=\"plan.criteria[0].metric\"]", "Cost Per Request").await?;
    act::click(c, &find::hook("submit")).await?;
    find::one(c, &find::hook("field-error")).await?;
    let fields: Vec<String> = {
        let mut out = Vec::new();
        for e in find::all(c, &find::hook("field-error")).await? {
            out.push(e.attr("data-field").await?.unwrap_or_default());
        }
        out
    };
    assert_eq!(
        fields,
        [
            "title",
            "owner",
            "candidate",
            "plan.canary.percent",
            "plan.ramp[1].percent",
            "plan.criteria[0].metric",
        ]
    );
    let empty = find::text(
        c,
        "[data-test=field-error][data-field=\"plan.ramp[1].percent\"]",
    )
    .await?;
    assert_eq!(empty, "must not be empty");
    assert_eq!(focused_name(c).await?, "title");
    assert!(
        c.current_url().await?.path().ends_with("/changes/new"),
        "nothing was sent"
    );
    for width in [1400, 390] {
        shot(&browser, width, "discussion-change-form").await?;
    }
    browser.close().await;
    Ok(())
}
