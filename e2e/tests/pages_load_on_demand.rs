//! Sign-in, the top bar and the change list are the main module; the other pages are one module
//! of their own, fetched in the background once someone is signed in. When it cannot be fetched
//! (here: the console was redeployed while a tab showed the sign-in page, so the old build's
//! directory is gone), the console says to reload instead of freezing.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use fantoccini::Client;
use rollgate_e2e::{Browser, DEMO_PM, PATIENCE, Result, Server, act, check, find};

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("create the copy's directory");
    for entry in fs::read_dir(from).expect("read the built console") {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("a file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy a file of the console");
        }
    }
}

/// Whether this page has fetched the module of the pages other than the change list.
async fn fetched_pages(c: &Client) -> Result<bool> {
    let found = c
        .execute(
            "return performance.getEntriesByType('resource')\
             .some((e) => e.name.includes('/split_page_view'));",
            vec![],
        )
        .await?;
    Ok(found.as_bool() == Some(true))
}

#[tokio::test]
async fn pages_load_on_demand() -> Result {
    let built = std::env::var_os("ROLLGATE_E2E_DIST").expect("ROLLGATE_E2E_DIST is set");
    let dist = tempfile::tempdir()?;
    copy_dir(Path::new(&built), dist.path());
    let server = Server::start_demo_serving(dist.path());

    let browser = Browser::start().await;
    let c = &browser.client;

    // The sign-in page needs only the main module.
    c.goto(&server.page("/login")).await?;
    find::one(c, &find::hook("login-email")).await?;
    assert!(
        !fetched_pages(c).await?,
        "the sign-in page fetched the other pages"
    );

    // Once signed in, the list shows and the other pages arrive in the background.
    act::login(c, &server, DEMO_PM).await?;
    find::one(c, &find::hook("change-row")).await?;
    let start = Instant::now();
    while !fetched_pages(c).await? {
        assert!(
            start.elapsed() < PATIENCE,
            "the other pages were never fetched after signing in"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    act::click(c, &find::hook("nav-feed")).await?;
    find::one(c, &find::hook("feed-item")).await?;
    check::page_shows(c, "Shorter billing answers").await?;

    browser.close().await;

    // Another browser (nothing cached) opens the sign-in page, which needs only the main
    // module; then the console is redeployed and the build that tab runs disappears.
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&server.page("/login")).await?;
    find::one(c, &find::hook("login-email")).await?;
    let pkg = dist.path().join("pkg");
    for build in fs::read_dir(&pkg)? {
        fs::remove_dir_all(build?.path())?;
    }
    act::submit_login(c, &server, DEMO_PM).await?;
    let stopped = find::text(c, &find::hook("stopped")).await?;
    assert!(stopped.contains("Reload the page"), "{stopped}");
    check::count(c, &find::hook("stopped"), 1).await?;
    browser.screenshot("module-missing").await?;
    browser.close().await;
    Ok(())
}

/// On a slow connection a page opened from the list before the pages module has arrived shows a
/// skeleton in its place (not the list it left, not an empty screen), then the page.
#[tokio::test]
async fn a_page_opened_before_its_module_arrives_shows_a_skeleton() -> Result {
    let server = Server::start_demo();
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&server.page("/login")).await?;
    find::one(c, &find::hook("login-email")).await?;

    // About seven seconds for the pages module; the sign-in and the list are a few KB.
    act::slow_network(c, Duration::from_millis(50), 50_000).await?;
    act::submit_login(c, &server, DEMO_PM).await?;
    find::one(c, &find::hook("change-row")).await?;
    assert!(
        !fetched_pages(c).await?,
        "the pages module arrived before the test could open a page"
    );

    act::click(c, &format!("{} a", find::hook("change-row"))).await?;
    find::one(c, &find::hook("pages-loading")).await?;
    let list_shown = c
        .execute(
            "return [...document.querySelectorAll('[data-test=change-row]')]\
             .some((e) => e.offsetParent !== null);",
            vec![],
        )
        .await?;
    assert_eq!(list_shown.as_bool(), Some(false), "the list stayed visible");
    browser.screenshot("page-waiting-for-module").await?;

    find::one(c, &find::hook("timeline")).await?;
    check::count(c, &find::hook("pages-loading"), 0).await?;
    browser.close().await;
    Ok(())
}
