//! `cargo xtask test`: everything the project checks, in the order that fails fastest.

use std::process::Command;

use crate::util::{Result, Step, cargo_cmd, exec, on_path, step, target_dir};
use crate::{build, fuzz};

/// Where the server tests find PostgreSQL. `.ci/run` sets it to the machine's local server.
pub const POSTGRES_ENV: &str = "ROLLGATE_TEST_POSTGRES_URL";

pub fn run(_args: &[String]) -> Result {
    let mut steps: Vec<Step> = Vec::new();
    let mut notes: Vec<String> = Vec::new();

    steps.push(step("format", || {
        exec(&mut cargo_cmd(["fmt", "--all", "--check"]))
    }));
    steps.push(step("clippy (native)", || {
        exec(&mut cargo_cmd([
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]))
    }));
    steps.push(step("clippy (wasm32: shared, frontend)", || {
        build::ensure_wasm_target()?;
        exec(&mut cargo_cmd([
            "clippy",
            "--package",
            "rollgate-shared",
            "--package",
            "rollgate-frontend",
            "--target",
            "wasm32-unknown-unknown",
            "--",
            "-D",
            "warnings",
        ]))
    }));

    let postgres = std::env::var(POSTGRES_ENV).ok().filter(|s| !s.is_empty());
    if postgres.is_none() {
        notes.push(format!(
            "SKIPPED: server tests against PostgreSQL ({POSTGRES_ENV} is not set; \
             e.g. {POSTGRES_ENV}=postgres://postgres@127.0.0.1:5432/test)"
        ));
    }
    steps.push(step("unit and integration tests", || {
        exec(&mut cargo_cmd([
            "test",
            "--workspace",
            "--exclude",
            "rollgate-e2e",
        ]))
    }));
    match &postgres {
        Some(url) => steps.push(step("Schemathesis against the API (PostgreSQL)", || {
            fuzz::run(url)
        })),
        None => notes.push(format!(
            "SKIPPED: Schemathesis against the API (it runs on PostgreSQL; {POSTGRES_ENV} is \
             not set)"
        )),
    }

    let mut bundle = None;
    steps.push(step("console bundle (wasm32, release)", || {
        ensure_binaryen()?;
        let built = build::run(&[])?;
        let (first, whole) = (built.first_screen(), built.gzipped_total());
        bundle = Some(built);
        if first > build::FIRST_SCREEN_BUDGET || whole > build::WHOLE_BUDGET {
            return Err(format!(
                "the console is over its budget: first screen {:.1} KB (at most {:.1}), whole \
                 console {:.1} KB (at most {:.1}), gzipped",
                build::kb(first),
                build::kb(build::FIRST_SCREEN_BUDGET),
                build::kb(whole),
                build::kb(build::WHOLE_BUDGET)
            ));
        }
        Ok(())
    }));

    steps.push(step("browser tests (headless Chromium)", || {
        let Some(bundle) = &bundle else {
            return Err("the console bundle did not build".into());
        };
        ensure_chromium()?;
        let bin = build::server_binary()?;
        let mut cmd = cargo_cmd(["test", "--package", "rollgate-e2e"]);
        cmd.env("ROLLGATE_E2E_BIN", &bin)
            .env("ROLLGATE_E2E_DIST", &bundle.dist);
        // The screenshots the browser tests save, for people to look at (see the README).
        if std::env::var_os("ROLLGATE_E2E_SCREENSHOTS").is_none() {
            cmd.env(
                "ROLLGATE_E2E_SCREENSHOTS",
                target_dir()?.join("e2e-screenshots"),
            );
        }
        exec(&mut cmd)
    }));

    eprintln!("\n==> summary");
    let mut failed = 0;
    for s in &steps {
        match &s.outcome {
            Ok(()) => eprintln!("  ok      {:<40} {:>6.1}s", s.name, s.seconds),
            Err(e) => {
                failed += 1;
                eprintln!("  FAILED  {:<40} {:>6.1}s  {e}", s.name, s.seconds);
            }
        }
    }
    for n in &notes {
        eprintln!("  {n}");
    }
    if failed > 0 {
        Err(format!("{failed} of {} steps failed", steps.len()))
    } else {
        Ok(())
    }
}

/// Debian's Chromium and ChromeDriver: installed with apt when missing and running as root,
/// else an error with the exact command to run.
fn ensure_chromium() -> Result {
    ensure_debian(
        &["chromium", "chromedriver"],
        "chromium chromium-driver",
        "the browser tests need Chromium and ChromeDriver",
    )
}

/// Binaryen's `wasm-opt`, which brings the release console under its size budget.
fn ensure_binaryen() -> Result {
    ensure_debian(
        &["wasm-opt"],
        "binaryen",
        "the console's size budget needs Binaryen's wasm-opt",
    )
}

/// Installs Debian `packages` when one of `commands` is missing (as root; else says how).
fn ensure_debian(commands: &[&str], packages: &str, why: &str) -> Result {
    if commands.iter().all(|c| on_path(c)) {
        return Ok(());
    }
    let install = format!("apt-get update && apt-get install -y {packages}");
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !is_root {
        return Err(format!("{why}; run as root: {install}"));
    }
    exec(Command::new("sh").args(["-c", &format!("DEBIAN_FRONTEND=noninteractive {install}")]))
}
