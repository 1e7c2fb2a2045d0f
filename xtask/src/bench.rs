//! `cargo xtask bench [bundle|stats|console|guardian]`: the figures recorded in BENCHMARKS.md.

use crate::build;
use crate::util::{Result, cargo_cmd, exec, target_dir};

pub fn run(args: &[String]) -> Result {
    let only = args.first().map(String::as_str);
    if let Some(other) = only.filter(|o| !["bundle", "stats", "console", "guardian"].contains(o)) {
        return Err(format!(
            "bench: unknown benchmark `{other}` (bundle, stats, console or guardian)"
        ));
    }
    let wanted = |name: &str| only.is_none() || only == Some(name);
    let mut bundle = None;
    if wanted("bundle") || wanted("console") {
        let b = build::run(&[])?;
        let heaviest = b.pages().into_iter().next();
        println!(
            "bundle (Wasm + JS + HTML + CSS, gzipped): first screen {:.1} KB (budget {:.0} KB); \
             heaviest page opened directly {:.1} KB ({}); all files {:.1} KB (budget {:.0} KB)",
            build::kb(b.first_screen()),
            build::kb(build::FIRST_SCREEN_BUDGET),
            build::kb(heaviest.as_ref().map_or(b.first_screen(), |p| p.1)),
            heaviest.as_ref().map_or("none", |p| p.0.as_str()),
            build::kb(b.gzipped_total()),
            build::kb(build::WHOLE_BUDGET)
        );
        bundle = Some(b);
    }
    if wanted("stats") {
        exec(&mut cargo_cmd([
            "bench",
            "--package",
            "rollgate-shared",
            "--bench",
            "stats",
            "--",
            "--warm-up-time",
            "1",
            "--measurement-time",
            "3",
        ]))?;
    }
    if wanted("guardian") {
        // The simulated canaries of "Guardian decisions (simulation)": prints the table.
        exec(&mut cargo_cmd([
            "run",
            "--release",
            "--package",
            "rollgate-shared",
            "--example",
            "guardian_sim",
        ]))?;
    }
    if let (true, Some(bundle)) = (wanted("console"), bundle) {
        // The server is timed as it runs in production: a release build.
        exec(&mut cargo_cmd([
            "build",
            "--release",
            "--package",
            "rollgate-backend",
            "--bin",
            "rollgate",
        ]))?;
        let bin = target_dir()?.join("release").join("rollgate");
        let mut cmd = cargo_cmd([
            "run",
            "--quiet",
            "--package",
            "rollgate-e2e",
            "--bin",
            "console_bench",
        ]);
        cmd.env("ROLLGATE_E2E_BIN", &bin)
            .env("ROLLGATE_E2E_DIST", &bundle.dist);
        exec(&mut cmd)?;
    }
    Ok(())
}
