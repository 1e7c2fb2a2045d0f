//! `rollgate`: parses the command line and boots the server, or runs a client command
//! ([`cli`]) against one. Everything else lives in the library.

mod cli;

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::builder::FalseyValueParser;
use clap::{Args, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Roll out AI changes (prompts, models, tools, routing) safely, in stages.
#[derive(Debug, Parser)]
#[command(name = "rollgate", version, after_help = cli::EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// One variant per subcommand.
#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web console and its JSON API.
    Serve(ServeArgs),
    /// Manage accounts: `rollgate user add`, `rollgate user list`.
    #[command(subcommand)]
    User(UserCommand),
    /// Read a JSON array of significance requests on stdin; write the results, in the same
    /// order, on stdout. An item that cannot be analysed gets {"error": "..."} in its place.
    Stats,
    #[command(flatten)]
    Client(cli::ClientCommand),
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

    /// With --demo, also seed four months of finished changes before the four in flight, so
    /// the delivery figures have history to count.
    #[arg(long, env = "ROLLGATE_DEMO_HISTORY", value_parser = FalseyValueParser::new())]
    demo_history: bool,

    /// Directory of the built console (`cargo xtask build`).
    #[arg(
        long,
        env = "ROLLGATE_DIST",
        value_name = "DIR",
        default_value = "dist"
    )]
    dist: PathBuf,

    /// Mark the session cookie `Secure` (browsers then send it over HTTPS only). Set it when
    /// Rollgate is reached over HTTPS; a proxy's `X-Forwarded-Proto: https` also sets it.
    #[arg(long, env = "ROLLGATE_SECURE_COOKIES", value_parser = FalseyValueParser::new())]
    secure_cookies: bool,

    /// The address people reach the console at, e.g. https://rollgate.example.com: webhook
    /// messages and team feeds link to change pages under it.
    #[arg(long, env = "ROLLGATE_PUBLIC_URL", value_name = "URL", value_parser = rollgate::public_url)]
    public_url: Option<String>,

    /// A proxy (address or range, e.g. 10.0.0.0/8) whose X-Forwarded-For header names the
    /// client, for the per-address sign-in limit and the audit log. Repeat, or separate with
    /// commas. Without it the socket's peer is the client.
    #[arg(
        long = "trusted-proxy",
        env = "ROLLGATE_TRUSTED_PROXIES",
        value_name = "CIDR",
        value_delimiter = ','
    )]
    trusted_proxies: Vec<rollgate::http::client_ip::Cidr>,

    /// Most database connections this instance holds open.
    /// [default: 8 on SQLite, 16 on PostgreSQL]
    #[arg(
        long,
        env = "ROLLGATE_DB_POOL_SIZE",
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..=10_000)
    )]
    db_pool_size: Option<u32>,

    /// Requests a second each session may make on the expensive reads (the metric
    /// aggregates), with bursts of twice as many; above it they are answered 429.
    /// [default: 10]
    #[arg(
        long,
        env = "ROLLGATE_READ_RATE_LIMIT",
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..=1_000_000)
    )]
    read_rate_limit: Option<u32>,

    /// Whether the guardian rolls back live changes whose pre-registered criteria breach
    /// (on or off).
    #[arg(long, env = "ROLLGATE_GUARDIAN", value_name = "on|off", default_value = "on",
          action = clap::ArgAction::Set, value_parser = parse_on_off)]
    guardian: bool,

    /// Length of the demo traffic's metric windows, in seconds (2 to 300), with --demo: short
    /// windows show a rollback's effect within seconds (browser tests).
    #[arg(long, env = "ROLLGATE_DEMO_WINDOW_SECONDS", value_name = "N", hide = true,
          default_value_t = rollgate::demo_traffic::WINDOW,
          value_parser = clap::value_parser!(i64).range(2..=300))]
    demo_window_seconds: i64,
}

fn parse_on_off(s: &str) -> Result<bool, String> {
    match s {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(format!("`{other}` is neither on nor off")),
    }
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create an account. The password comes from ROLLGATE_PASSWORD, else from a prompt
    /// (not echoed); at least 12 characters.
    Add(UserAddArgs),
    /// List the accounts.
    List(DatabaseArg),
}

#[derive(Debug, Args)]
struct DatabaseArg {
    /// Database URL, as for `rollgate serve`. [default: sqlite://rollgate.db]
    #[arg(
        long,
        env = "ROLLGATE_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    database: Option<String>,
}

#[derive(Debug, Args)]
struct UserAddArgs {
    #[arg(long)]
    email: String,
    /// Display name.
    #[arg(long)]
    name: String,
    /// A role: admin, engineer, pm, support or approver. Repeat for several.
    #[arg(long = "role", required = true, value_parser = parse_role)]
    roles: Vec<shared::auth::Role>,
    #[command(flatten)]
    database: DatabaseArg,
}

fn parse_role(s: &str) -> Result<shared::auth::Role, String> {
    shared::auth::Role::parse(s).ok_or_else(|| {
        let all: Vec<&str> = shared::auth::Role::ALL.iter().map(|r| r.as_str()).collect();
        format!("unknown role `{s}`; use one of {}", all.join(", "))
    })
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // A pipeline reads the client commands' exit codes: 2 is "inconclusive" there, so
        // their usage errors are 3. The server's keep clap's 2.
        Err(e)
            if e.use_stderr()
                && std::env::args()
                    .nth(1)
                    .is_some_and(|c| cli::ClientCommand::is_client(&c)) =>
        {
            let _ = e.print();
            return cli::Exit::Usage.into();
        }
        Err(e) => e.exit(),
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("rollgate=info,tower_http=info,warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<ExitCode, Box<dyn std::error::Error>> {
    match command {
        Command::Serve(args) => {
            let mut config = rollgate::Config::new(args.addr, args.database, args.demo, args.dist);
            config.secure_cookies = args.secure_cookies;
            config.public_url = args.public_url;
            config.trusted_proxies = args.trusted_proxies;
            config.db_pool_size = args.db_pool_size;
            config.read_rate_limit = args.read_rate_limit;
            config.guardian = args.guardian;
            config.demo_window_seconds = args.demo_window_seconds;
            config.demo_history = args.demo_history;
            let runtime = tokio::runtime::Runtime::new()
                .map_err(|e| format!("cannot start the async runtime: {e}"))?;
            runtime.block_on(rollgate::serve(config))?;
        }
        Command::Stats => stats()?,
        Command::Client(command) => return Ok(cli::run(command).into()),
        Command::User(command) => {
            let runtime = tokio::runtime::Runtime::new()
                .map_err(|e| format!("cannot start the async runtime: {e}"))?;
            runtime.block_on(user(command))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `rollgate user add|list`, on the same database `serve` would open.
async fn user(command: UserCommand) -> Result<(), Box<dyn std::error::Error>> {
    let database = match &command {
        UserCommand::Add(a) => a.database.database.clone(),
        UserCommand::List(d) => d.database.clone(),
    };
    let url = rollgate::server_database_url(database, false);
    let (pool, _) = rollgate::db::connect(&url).await?;
    match command {
        UserCommand::Add(args) => {
            let password = match std::env::var("ROLLGATE_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let p = rpassword::prompt_password(format!("Password for {}: ", args.email))
                        .map_err(|e| {
                            format!("cannot read the password: {e}; or set ROLLGATE_PASSWORD")
                        })?;
                    let again = rpassword::prompt_password("Repeat it: ")
                        .map_err(|e| format!("cannot read the password: {e}"))?;
                    if p != again {
                        return Err("the two passwords differ".into());
                    }
                    p
                }
            };
            let new = shared::auth::NewUser {
                email: args.email,
                name: args.name,
                roles: args.roles,
                password,
            };
            let user = rollgate::accounts::create_user(
                &pool,
                &rollgate::accounts::Passwords::production(),
                &new,
                &rollgate::db::audit::Who {
                    id: None,
                    label: "cli".to_owned(),
                    address: None,
                },
            )
            .await
            .map_err(|e| match e.body_message() {
                Some(m) => m,
                None => e.to_string(),
            })?;
            let roles: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
            println!(
                "created {} <{}> ({}) id {}",
                user.name,
                user.email,
                roles.join(", "),
                user.id
            );
        }
        UserCommand::List(_) => {
            for u in rollgate::db::users::list(&pool).await? {
                let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
                println!(
                    "{}\t{}\t{}\t{}{}",
                    u.id,
                    u.email,
                    u.name,
                    roles.join(","),
                    if u.disabled { "\tdisabled" } else { "" }
                );
            }
        }
    }
    pool.close().await;
    Ok(())
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
