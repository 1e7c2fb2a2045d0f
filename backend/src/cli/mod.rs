//! The client commands: a pipeline drives a change through a Rollgate server's public API
//! (`ROLLGATE_URL`, with a service token of scope `ci` in `ROLLGATE_TOKEN`): `change apply`,
//! `eval upload`, `advance`, `rollback`, `status [--wait]` and `push`. They share one HTTP
//! client ([`client`]); each prints one line a step on standard output and its errors, with
//! the server's message and field, on standard error, and exits with a code of [`Exit`].

mod change_file;
mod client;
mod push;
mod status;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use hyper::Method;
use shared::api::{ChangeDetail, ChangePage, TransitionRequest};
use shared::change::AiChange;
use shared::eval::{EvalResult, EvalUpload};
use shared::rollout::TransitionAction;

use change_file::ChangeFile;
use client::{Client, Failure, Result, encode};

/// What a client command's exit code says; `rollgate help` lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done; for `status --wait`, the stage's report passes.
    Ok = 0,
    /// `status --wait`: a rollback criterion breached (or the change was rolled back);
    /// `eval upload`: the result was stored but does not meet the eval gate.
    No = 1,
    /// `status --wait`: no verdict before the timeout.
    Inconclusive = 2,
    /// The command line or an input file is wrong; nothing was sent for it.
    Usage = 3,
    /// The server refused or failed (its message and field are printed).
    Server = 4,
    /// The server could not be reached.
    Network = 5,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> ExitCode {
        ExitCode::from(e as u8)
    }
}

/// Shown under `rollgate help`.
pub const EXIT_CODES: &str = "\
Client commands (change, eval, advance, rollback, status, push) talk to a server at
ROLLGATE_URL with the service token in ROLLGATE_TOKEN (scope `ci`; `push` needs `ingest`).
Their exit codes:
  0  done; `status --wait`: the stage's report passes
  1  `status --wait`: a rollback criterion breached, or the change was rolled back;
     `eval upload`: stored, but the result does not meet the eval gate
  2  `status --wait`: still inconclusive at the timeout
  3  bad command line or input file (each problem is printed with its path); nothing sent
  4  the server refused or failed (its message and field are printed)
  5  the server could not be reached";

/// Where the server is and the token to call it with; flags win over the variables.
#[derive(Debug, Args)]
pub struct Remote {
    /// The server's address, e.g. https://rollgate.example.com.
    #[arg(long, env = "ROLLGATE_URL", value_name = "URL")]
    url: Option<String>,
    /// A service token (`rg_ing_…`) of scope `ci` (`push` needs `ingest`).
    #[arg(
        long,
        env = "ROLLGATE_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    token: Option<String>,
}

impl Remote {
    fn client(&self) -> Result<Client> {
        let url = self.url.as_deref().ok_or_else(|| {
            Failure::Usage(
                "no server: set ROLLGATE_URL (or --url), e.g. https://rollgate.example.com"
                    .to_owned(),
            )
        })?;
        Client::new(url, self.token.as_deref().unwrap_or_default())
    }
}

/// The client commands, flattened into `rollgate`'s own.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Changes from files: `rollgate change apply change.toml`.
    #[command(subcommand)]
    Change(ChangeCommand),
    /// Offline eval results: `rollgate eval upload --change KEY results.json`.
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Move the change to its next stage (its gate must be signed by people first).
    Advance(AdvanceArgs),
    /// Roll the change back to the baseline everywhere.
    Rollback(RollbackArgs),
    /// Where the change stands, its gate and its stage's report; with --wait, block until
    /// the report has a verdict (exit 0 pass, 1 breach, 2 inconclusive at the timeout).
    Status(StatusArgs),
    /// Send metric windows (one JSON object a line) in batches; a rerun after an
    /// interruption skips the batches the server acknowledged.
    Push(PushArgs),
}

impl ClientCommand {
    /// Whether `name` is one of these commands (their usage errors exit 3, not clap's 2).
    pub fn is_client(name: &str) -> bool {
        <ClientCommand as Subcommand>::has_subcommand(name)
    }
}

#[derive(Debug, Subcommand)]
pub enum ChangeCommand {
    /// Create the change a file describes, or bring the change with its `flag_key` up to
    /// date, or, when that change is finished (reviewed or rolled back), create the flag's
    /// next version; prints its URL. Applying the same file again changes nothing
    /// ("unchanged").
    Apply(ApplyArgs),
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A TOML or JSON file: flag_key, title, kind, risk, owner, and optionally
    /// expected_changes, product_area, baseline, candidate, template or plan.
    file: PathBuf,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Upload an eval run's results (pass_rate, cases, failures by category, cost_usd,
    /// latency_ms_p50/p95, run_url) for a change in its eval stage.
    Upload(UploadArgs),
}

#[derive(Debug, Args)]
pub struct UploadArgs {
    /// The change's flag key (or id).
    #[arg(long, value_name = "KEY")]
    change: String,
    /// The results, as JSON.
    file: PathBuf,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Debug, Args)]
pub struct AdvanceArgs {
    /// The change's flag key (or id).
    key: String,
    /// A note kept with the transition.
    #[arg(long)]
    reason: Option<String>,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The change's flag key (or id).
    key: String,
    /// Why, for the people who read the change's history.
    #[arg(long, required = true)]
    reason: String,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// The change's flag key (or id).
    key: String,
    /// Block until the stage's report has a verdict.
    #[arg(long)]
    wait: bool,
    /// With --wait: give up after this long (e.g. 90s, 30m, 2h) and exit 2.
    #[arg(long, default_value = "30m", value_parser = status::parse_duration)]
    timeout: std::time::Duration,
    /// With --wait: time between two looks at the report.
    #[arg(long, default_value = "15s", value_parser = status::parse_duration)]
    interval: std::time::Duration,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// The change's flag key (or id).
    #[arg(long, value_name = "KEY")]
    change: String,
    /// Metric windows, one JSON object a line (the shape of `windows[]` in
    /// POST /api/v1/changes/{id}/metrics).
    file: PathBuf,
    /// Windows a request.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    batch: u32,
    #[command(flatten)]
    remote: Remote,
}

/// Runs a client command on its own runtime; the exit code says how it went.
pub fn run(command: ClientCommand) -> Exit {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return Exit::Usage;
        }
    };
    match runtime.block_on(dispatch(command)) {
        Ok(exit) => exit,
        Err(failure) => {
            failure.report();
            failure.exit()
        }
    }
}

async fn dispatch(command: ClientCommand) -> Result<Exit> {
    match command {
        ClientCommand::Change(ChangeCommand::Apply(a)) => apply(&a.remote.client()?, &a.file).await,
        ClientCommand::Eval(EvalCommand::Upload(a)) => {
            upload(&a.remote.client()?, &a.change, &a.file).await
        }
        ClientCommand::Advance(a) => {
            let request = (TransitionAction::Advance, a.reason);
            transition(&a.remote.client()?, &a.key, request).await
        }
        ClientCommand::Rollback(a) => {
            let request = (TransitionAction::RollBack, Some(a.reason));
            transition(&a.remote.client()?, &a.key, request).await
        }
        ClientCommand::Status(a) => {
            let client = a.remote.client()?;
            if a.wait {
                status::wait(&client, &a.key, a.timeout, a.interval).await
            } else {
                status::show(&client, &a.key).await
            }
        }
        ClientCommand::Push(a) => {
            push::push(&a.remote.client()?, &a.change, &a.file, a.batch as usize).await
        }
    }
}

/// The change with the flag key `key`, if any.
async fn by_flag_key(client: &Client, key: &str) -> Result<Option<AiChange>> {
    let page: ChangePage = client
        .get_json(&format!("/changes?flag_key={}", encode(key)))
        .await?;
    match page.items.first() {
        Some(summary) => Ok(Some(find(client, &summary.id).await?.change)),
        None => Ok(None),
    }
}

async fn find(client: &Client, id: &str) -> Result<ChangeDetail> {
    client.get_json(&format!("/changes/{}", encode(id))).await
}

/// The change a command names: by flag key, else by id.
async fn resolve(client: &Client, key: &str) -> Result<ChangeDetail> {
    if let Some(c) = by_flag_key(client, key).await? {
        return find(client, &c.id).await;
    }
    match find(client, key).await {
        Err(Failure::Server { status, .. }) if status == hyper::StatusCode::NOT_FOUND => {
            Err(Failure::Usage(format!(
                "no change has the flag key or id `{key}` at {}",
                client.base()
            )))
        }
        other => other,
    }
}

/// `rollgate change apply FILE`.
///
/// The flag's current version is brought up to the file, or created when the flag has none;
/// when the current version is finished (reviewed or rolled back) and the file differs from
/// it, the file becomes the flag's next version.
async fn apply(client: &Client, file: &std::path::Path) -> Result<Exit> {
    let wanted = ChangeFile::read(file)?;
    match by_flag_key(client, &wanted.flag_key).await? {
        Some(current) if wanted.matches(&current) => {
            println!("unchanged {}", client.change_page(&current.id));
        }
        Some(current) if !current.state.is_terminal() => {
            let edit = wanted.update_of(&current);
            let updated: ChangeDetail = client
                .send_json(
                    Method::PUT,
                    &format!("/changes/{}", encode(&current.id)),
                    &edit,
                )
                .await?
                .json()?;
            let revision = set_rules(client, &wanted, &updated.change).await?;
            println!(
                "updated {} (revision {revision})",
                client.change_page(&current.id),
            );
        }
        finished => {
            let created: ChangeDetail = client
                .send_json(Method::POST, "/changes", &wanted.new)
                .await?
                .json()?;
            set_rules(client, &wanted, &created.change).await?;
            match finished {
                Some(before) => println!(
                    "created {}, the next version of `{}` after {} ({})",
                    client.change_page(&created.change.id),
                    wanted.flag_key,
                    client.change_page(&before.id),
                    before.state.name()
                ),
                None => println!("created {}", client.change_page(&created.change.id)),
            }
        }
    }
    Ok(Exit::Ok)
}

/// Gives `change` the file's flag rules when it gives some that differ; the change's revision
/// after it.
async fn set_rules(client: &Client, wanted: &ChangeFile, change: &AiChange) -> Result<i64> {
    match &wanted.flag_rules {
        Some(rules) if !wanted.rules_match(change) => {
            let body = serde_json::json!({ "revision": change.revision, "rules": rules });
            let saved: ChangeDetail = client
                .send_json(
                    Method::PUT,
                    &format!("/changes/{}/flag-rules", encode(&change.id)),
                    &body,
                )
                .await?
                .json()?;
            Ok(saved.change.revision)
        }
        _ => Ok(change.revision),
    }
}

/// `rollgate eval upload --change KEY FILE`.
async fn upload(client: &Client, key: &str, file: &std::path::Path) -> Result<Exit> {
    let name = file.display().to_string();
    let bytes =
        std::fs::read(file).map_err(|e| Failure::Usage(format!("cannot read {name}: {e}")))?;
    let problem = |p: String| Failure::Problems {
        file: name.clone(),
        problems: vec![p],
    };
    let results: EvalUpload = rollgate::http::extract::parse_json(&bytes).map_err(|e| match e {
        rollgate::error::Error::Validation { message, .. } => problem(message),
        other => problem(other.to_string()),
    })?;
    results
        .validate()
        .map_err(|e| problem(format!("{}: {}", e.field, e.message)))?;
    let change = resolve(client, key).await?.change;
    let stored: EvalResult = client
        .send_json(
            Method::POST,
            &format!("/changes/{}/eval-results", encode(&change.id)),
            &results,
        )
        .await?
        .json()?;
    if stored.meets_gate {
        println!(
            "eval result stored for {}: it meets the eval gate",
            client.change_page(&change.id)
        );
        Ok(Exit::Ok)
    } else {
        println!(
            "eval result stored for {}: it does not meet the eval gate:",
            client.change_page(&change.id)
        );
        for p in &stored.problems {
            println!("  {p}");
        }
        Ok(Exit::No)
    }
}

/// `rollgate advance KEY` and `rollgate rollback KEY --reason …`.
async fn transition(
    client: &Client,
    key: &str,
    (action, reason): (TransitionAction, Option<String>),
) -> Result<Exit> {
    let change = resolve(client, key).await?.change;
    let request = TransitionRequest {
        action,
        reason,
        revision: Some(change.revision),
    };
    let moved: ChangeDetail = client
        .send_json(
            Method::POST,
            &format!("/changes/{}/transitions", encode(&change.id)),
            &request,
        )
        .await?
        .json()?;
    println!(
        "{}: {} → {} {}",
        moved.change.flag_key,
        change.state_label(),
        moved.change.state_label(),
        client.change_page(&change.id)
    );
    Ok(Exit::Ok)
}
