//! A PM opens the delivery figures of the demo workspace with its four months of history: two
//! plotters charts of the weeks (changes shipped; rollbacks by the guardian and by people),
//! the headline figures and a table per product area, kind and risk tier, all for the period
//! chosen. At 390 px the charts are drawn at the phone's width and nothing scrolls sideways;
//! axe-core finds nothing serious.

use rollgate_e2e::{Browser, DEMO_PM, Result, Server, act, axe, check, find};

/// Bars of a chart: the filled rectangles plotters draws (the background is one more).
async fn bars(c: &fantoccini::Client, chart: &str, fill: &str) -> Result<usize> {
    let n = c
        .execute(
            "return document.querySelectorAll(arguments[0] + ' svg rect[fill=\"' + arguments[1] + '\"]').length;",
            vec![chart.into(), fill.into()],
        )
        .await?;
    Ok(n.as_u64().unwrap_or(0) as usize)
}

#[tokio::test]
async fn figures_page() -> Result {
    let server = Server::start_demo_with_history();
    let browser = Browser::start().await;
    let c = &browser.client;
    c.set_window_size(1400, 1000).await?;
    act::login(c, &server, DEMO_PM).await?;
    act::click(c, &find::hook("nav-figures")).await?;
    find::one(c, &format!("{} svg", find::hook("figures-shipped"))).await?;

    // Twelve weeks by default: the last of the history's changes shipped in them.
    let shipped_12 = bars(c, &find::hook("figures-shipped"), "#245BDB").await?;
    assert!(shipped_12 >= 3, "{shipped_12} weeks with shipped changes");

    // Twenty-six weeks hold the whole history: 17 shipped, 3 rolled back by the guardian and
    // 5 by people (one after a guardian's hold; one is the demo's returns canary).
    act::select(c, &find::hook("figures-period"), "26").await?;
    check::page_shows(c, "8 rolled back (3 by the guardian, 5 by people)").await?;
    let url = c.current_url().await?;
    assert!(url.as_str().ends_with("/figures?weeks=26"), "{url}");
    let items = find::texts(c, &find::hook("doc-item")).await?;
    assert!(
        items.iter().any(|i| i.contains("17 reached Full")),
        "{items:?}"
    );
    assert!(
        items
            .iter()
            .any(|i| i.contains("guardian's hold to the rollback: 3.0 h")),
        "{items:?}"
    );
    let shipped_26 = bars(c, &find::hook("figures-shipped"), "#245BDB").await?;
    assert!(shipped_26 >= 12, "{shipped_26} weeks with shipped changes");
    assert_eq!(
        bars(c, &find::hook("figures-rollbacks"), "#D92D20").await?,
        3,
        "one bar per week with a guardian's rollback"
    );
    assert!(bars(c, &find::hook("figures-rollbacks"), "#E89A0C").await? >= 4);
    let label = find::one(
        c,
        &format!("{} [role=img]", find::hook("figures-rollbacks")),
    )
    .await?
    .attr("aria-label")
    .await?
    .unwrap_or_default();
    assert!(
        label.starts_with("3 rollbacks by the guardian and 5 by people"),
        "{label}"
    );

    // A table per grouping, and the weeks behind the charts.
    let rows = find::texts(c, &find::hook("doc-row")).await?;
    for group in [
        "Billing chat",
        "Onboarding",
        "prompt",
        "routing",
        "high",
        "low",
    ] {
        assert!(
            rows.iter().any(|r| r.starts_with(group)),
            "no {group} row in {rows:?}"
        );
    }
    assert!(
        axe::serious_violations(c).await?.is_empty(),
        "{:?}",
        axe::serious_violations(c).await?
    );
    browser.screenshot("figures-1400").await?;
    c.execute(
        "document.querySelector('[data-test=figures-document]').scrollIntoView();",
        vec![],
    )
    .await?;
    browser.screenshot("figures-document-1400").await?;

    // A phone opens the page at its own width: the charts are drawn that wide, so their
    // labels keep their size.
    c.set_window_size(390, 844).await?;
    c.refresh().await?;
    find::one(c, &format!("{} svg", find::hook("figures-rollbacks"))).await?;
    let drawn = c
        .execute(
            "return document.querySelector('[data-test=figures-shipped] svg').getAttribute('width');",
            vec![],
        )
        .await?;
    assert!(
        drawn
            .as_str()
            .and_then(|w| w.parse::<u32>().ok())
            .is_some_and(|w| w < 400),
        "the chart is drawn {drawn} wide at 390 px"
    );
    assert!(
        !check::scrolls_sideways(c).await?,
        "the figures scroll sideways at 390 px"
    );
    browser.screenshot("figures-390").await?;
    browser.close().await;
    Ok(())
}
