//! The post-deployment review of a rolled-back canary: the page comes filled in from what
//! Rollgate recorded, as its Markdown export says it (what was expected, the rollback and its
//! reason, the stages, the notice and the complaint support recorded, which also drafts
//! "What users noticed"); a review
//! without lessons is refused beside the field and stores nothing; a written one is kept and
//! exports as Markdown. Support reads it without being offered to edit it. Nothing scrolls
//! sideways on a phone, and axe-core finds nothing serious.

use rollgate_e2e::{Browser, ENGINEER, PM, Result, SUPPORT, Server, act, axe, check, find, http};

#[tokio::test]
async fn review_after_rollback() -> Result {
    let server = Server::start();
    let erin = http::login(&server, ENGINEER);
    let id = erin.change_at_canary(
        &server,
        "Shorter billing answers",
        "Billing answers get shorter.",
    );
    let why = "users ask for the details the shorter answers leave out";
    erin.transition(&server, &id, "roll_back", Some(why));
    let complaint = "The answer left out the refund deadline.";
    let body = serde_json::json!({
        "user_key": "user-17",
        "at": "2026-12-01T10:00:00Z",
        "text": complaint,
        "category": "wrong_answer",
    });
    let (status, text) = http::login(&server, SUPPORT).request(
        &server,
        "POST",
        &format!("/api/v1/changes/{id}/complaints"),
        Some(&body.to_string()),
    );
    assert_eq!(status, 201, "recording the complaint failed: {text}");

    let browser = Browser::start().await;
    let c = &browser.client;
    c.set_window_size(1400, 1000).await?;
    act::login(c, &server, PM).await?;
    c.goto(&server.page(&format!("/changes/{id}"))).await?;
    act::click(c, &find::hook("review-link")).await?;
    find::one(c, &find::hook("doc-row")).await?;

    // Filled in from what was recorded, as the Markdown export says it.
    let document = find::text(c, &find::hook("review-document")).await?;
    let quote = find::text(c, &find::hook("doc-quote")).await?;
    assert_eq!(quote, "Shorter answers.", "what was expected");
    let items = find::texts(c, &find::hook("doc-item")).await?;
    assert!(
        items
            .iter()
            .any(|i| i.contains("rolled back") && i.contains(why)),
        "the rollback and its reason: {items:?}"
    );
    assert!(
        items.iter().any(|i| i.contains("Support")),
        "the notice to Support: {items:?}"
    );
    assert!(
        items
            .iter()
            .any(|i| i.contains(complaint) && i.contains("user-17")),
        "the complaint: {items:?}"
    );
    let rows = find::texts(c, &find::hook("doc-row")).await?;
    assert!(
        rows.iter().any(|r| r.starts_with("Canary")),
        "no canary stage in {rows:?}"
    );
    assert!(document.contains("Time in each stage"), "{document}");
    let drafted = find::one(c, &find::hook("review-users-noticed"))
        .await?
        .prop("value")
        .await?
        .unwrap_or_default();
    assert!(drafted.contains(complaint), "not pre-filled: {drafted:?}");
    let markdown = find::one(c, &find::hook("review-markdown"))
        .await?
        .attr("href")
        .await?
        .unwrap_or_default();
    assert_eq!(markdown, format!("/api/v1/changes/{id}/review.md"));
    browser.screenshot("review-1400").await?;
    let violations = axe::serious_violations(c).await?;
    assert!(violations.is_empty(), "axe-core: {violations:?}");
    c.execute(
        "document.querySelector('[data-test=review-document]').scrollIntoView();",
        vec![],
    )
    .await?;
    browser.screenshot("review-document-1400").await?;
    c.execute("window.scrollTo(0, 0);", vec![]).await?;

    // Without lessons: refused beside the field, focused, nothing stored.
    act::click(c, &find::hook("review-save")).await?;
    let message = find::text(c, "[data-field=\"lessons\"]").await?;
    assert!(message.contains("must be"), "{message}");
    let focused = c
        .execute("return document.activeElement.name;", vec![])
        .await?;
    assert_eq!(focused.as_str(), Some("lessons"));
    let (_, text) = erin.request(
        &server,
        "GET",
        &format!("/api/v1/changes/{id}/review"),
        None,
    );
    let stored: serde_json::Value = serde_json::from_str(&text)?;
    assert!(stored["written"].is_null(), "a refused review was stored");

    // Written: kept, and in the Markdown export.
    let lessons = "The eval had no case that needs the refund deadline.";
    act::fill(c, &find::hook("review-lessons"), lessons).await?;
    act::fill(
        c,
        &find::hook("review-follow-ups"),
        "Add refund-deadline cases to the eval\nWatch answer completeness in the canary",
    )
    .await?;
    act::click(c, &find::hook("review-save")).await?;
    check::page_shows(c, "Last written by").await?;
    check::page_shows(c, "Add refund-deadline cases to the eval").await?;
    let document = find::text(c, &find::hook("review-document")).await?;
    assert!(
        document.contains(lessons),
        "the document shows the lessons: {document}"
    );
    c.refresh().await?;
    let kept = find::one(c, &find::hook("review-lessons"))
        .await?
        .prop("value")
        .await?
        .unwrap_or_default();
    assert_eq!(kept, lessons);
    let (status, text) = erin.request(
        &server,
        "GET",
        &format!("/api/v1/changes/{id}/review.md"),
        None,
    );
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains(lessons) && text.contains("- [ ] Watch answer completeness in the canary"),
        "{text}"
    );

    // On a phone: nothing scrolls sideways.
    c.set_window_size(390, 900).await?;
    find::one(c, &find::hook("doc-row")).await?;
    assert!(
        !check::scrolls_sideways(c).await?,
        "the review scrolls sideways at 390 px"
    );
    browser.screenshot("review-390").await?;

    // Support reads the review and is not offered to edit it.
    c.set_window_size(1400, 1000).await?;
    act::logout(c).await?;
    act::login(c, &server, SUPPORT).await?;
    c.goto(&server.page(&format!("/changes/{id}/review")))
        .await?;
    find::one(c, &find::hook("doc-row")).await?;
    assert!(
        find::all(c, &find::hook("review-save")).await?.is_empty(),
        "support is offered to save the review"
    );
    browser.close().await;
    Ok(())
}
