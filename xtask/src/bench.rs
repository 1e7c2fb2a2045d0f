//! `cargo xtask bench`: the figures recorded in BENCHMARKS.md.

use crate::build;
use crate::util::{Result, cargo_cmd, exec};

pub fn run(args: &[String]) -> Result {
    let only = args.first().map(String::as_str);
    if only.is_none() || only == Some("bundle") {
        let bundle = build::run(&[])?;
        println!(
            "bundle: {:.1} KB gzipped (Wasm + JS + HTML + CSS); target 400 KB",
            build::kb(bundle.gzipped_total())
        );
    }
    if only.is_none() || only == Some("stats") {
        exec(&mut cargo_cmd(["bench", "--package", "rollgate-shared"]))?;
    }
    Ok(())
}
