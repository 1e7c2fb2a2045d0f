//! Rollgate's build tasks, run as `cargo xtask <task>`:
//!
//! - `build [--dev]`: the browser bundle in `dist/` (Wasm, JS glue, HTML, CSS), no downloads.
//! - `serve [args…]`: build everything, then `rollgate serve --demo [args…]`.
//! - `test`: everything the project checks (format, lints, tests, Wasm build, browser tests).
//! - `bench`: the benchmarks whose figures go in BENCHMARKS.md.

mod bench;
mod build;
mod test;
mod util;

use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let task = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    let result = match task.as_str() {
        "build" => build::run(&rest).map(|_| ()),
        "serve" => build::serve(&rest),
        "test" => test::run(&rest),
        "bench" => bench::run(&rest),
        "" | "help" | "--help" | "-h" => {
            print!("{}", USAGE);
            return ExitCode::SUCCESS;
        }
        other => Err(format!("unknown task `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  build [--dev]     build the console into dist/ (Wasm + JS + HTML + CSS)
  serve [args...]   build, then run `rollgate serve --demo [args...]`
                    (honours ROLLGATE_ADDR, ROLLGATE_DATABASE_URL, ...)
  test              format check, clippy (native and wasm32), all tests, the Wasm
                    build and the browser tests; PostgreSQL too when
                    ROLLGATE_TEST_POSTGRES_URL is set
  bench             benchmarks recorded in BENCHMARKS.md
";
