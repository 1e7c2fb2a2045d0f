//! Rollgate's build tasks, run as `cargo xtask <task>`:
//!
//! - `build [--dev]`: the browser bundle in `dist/` (Wasm, JS glue, HTML, CSS), no downloads.
//! - `serve [args…]`: build everything, then `rollgate serve --demo --demo-history [args…]`.
//! - `test`: everything the project checks (format, lints, tests, Schemathesis, Wasm build,
//!   browser tests).
//! - `schemathesis`: the Schemathesis run of `test` alone.
//! - `bench`: the benchmarks whose figures go in BENCHMARKS.md.

mod bench;
mod build;
mod fuzz;
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
        "schemathesis" => match std::env::var(test::POSTGRES_ENV) {
            Ok(url) if !url.is_empty() => fuzz::run(&url),
            _ => Err(format!(
                "schemathesis runs the server on PostgreSQL: set {}",
                test::POSTGRES_ENV
            )),
        },
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
  serve [args...]   build, then run `rollgate serve --demo --demo-history [args...]`
                    (honours ROLLGATE_ADDR, ROLLGATE_DATABASE_URL, ...)
  test              format check, clippy (native and wasm32), all tests, the Wasm
                    build and the browser tests; PostgreSQL and Schemathesis
                    against the running server too when
                    ROLLGATE_TEST_POSTGRES_URL is set
  schemathesis      only the Schemathesis run of `test` (needs
                    ROLLGATE_TEST_POSTGRES_URL)
  bench             benchmarks recorded in BENCHMARKS.md
";
