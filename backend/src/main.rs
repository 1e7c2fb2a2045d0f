//! `rollgate`: parses the command line and boots. Everything else lives in the library.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::FalseyValueParser;
use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Roll out AI changes (prompts, models, tools, routing) safely, in stages.
#[derive(Debug, Parser)]
#[command(name = "rollgate", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// One variant per subcommand.
#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web console and its JSON API.
    Serve(ServeArgs),
    /// Read a JSON array of significance requests on stdin; write the results, in the same
    /// order, on stdout. An item that cannot be analysed gets {"error": "..."} in its place.
    Stats,
}

/// Every flag can also come from the environment; a flag wins over its variable.
#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ROLLGATE_ADDR", default_value = "127.0.0.1:8080")]
    addr: SocketAddr,

    /// Database URL: sqlite://FILE (created if missing) or postgres://USER@HOST:PORT/DB.
    /// [default: sqlite://rollgate.db, or sqlite://rollgate-demo.db with --demo]
    #[arg(
        long,
        env = "ROLLGATE_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    database: Option<String>,

    /// Seed four sample changes into an empty database.
    #[arg(long, env = "ROLLGATE_DEMO", value_parser = FalseyValueParser::new())]
    demo: bool,

    /// Directory of the built console (`cargo xtask build`).
    #[arg(
        long,
        env = "ROLLGATE_DIST",
        value_name = "DIR",
        default_value = "dist"
    )]
    dist: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("rollgate=info,tower_http=info,warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<(), Box<dyn std::error::Error>> {
    match command {
        Command::Serve(args) => {
            let config = rollgate::Config::new(args.addr, args.database, args.demo, args.dist);
            let runtime = tokio::runtime::Runtime::new()
                .map_err(|e| format!("cannot start the async runtime: {e}"))?;
            Ok(runtime.block_on(rollgate::serve(config))?)
        }
        Command::Stats => stats(),
    }
}

/// `rollgate stats`: the console's significance maths for pipelines and notebooks. Input that
/// is not a JSON array is a usage error (exit 2); bad items are answered in place.
fn stats() -> Result<(), Box<dyn std::error::Error>> {
    use std::io::{Read, Write};
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("error: cannot read standard input: {e}");
        std::process::exit(2);
    }
    match shared::stats::run_batch(&input) {
        Ok(output) => {
            let mut out = std::io::stdout().lock();
            out.write_all(output.as_bytes())?;
            out.write_all(b"\n")?;
            Ok(())
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
