//! Pages other than the change list are modules of their own, fetched when first opened. When
//! one cannot be fetched (here: the console was redeployed while the tab was open, so the old
//! build's directory is gone), the console says to reload instead of freezing.

use std::fs;
use std::path::Path;

use rollgate_e2e::{Browser, DEMO_PM, Result, Server, act, check, find};

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

#[tokio::test]
async fn pages_load_on_demand() -> Result {
    let built = std::env::var_os("ROLLGATE_E2E_DIST").expect("ROLLGATE_E2E_DIST is set");
    let dist = tempfile::tempdir()?;
    copy_dir(Path::new(&built), dist.path());
    let server = Server::start_demo_serving(dist.path());

    let browser = Browser::start().await;
    let c = &browser.client;
    act::login(c, &server, DEMO_PM).await?;
    c.goto(&server.page("/")).await?;
    find::one(c, &find::hook("change-row")).await?;

    // A page module arrives when its page is first opened.
    act::click(c, &find::hook("nav-feed")).await?;
    find::one(c, &find::hook("feed-item")).await?;
    check::page_shows(c, "Shorter billing answers").await?;

    // Redeploy: the build this tab runs disappears from the server.
    let pkg = dist.path().join("pkg");
    for build in fs::read_dir(&pkg)? {
        fs::remove_dir_all(build?.path())?;
    }
    act::click(c, &find::hook("nav-stats")).await?;
    let stopped = find::text(c, &find::hook("stopped")).await?;
    assert!(stopped.contains("Reload the page"), "{stopped}");
    browser.screenshot("module-missing").await?;
    browser.close().await;
    Ok(())
}
