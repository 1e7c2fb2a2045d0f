//! The API under a client someone else wrote: Schemathesis (PyPI) generates requests from the
//! served OpenAPI document and sends them to the real server, signed in as the demo admin, on a
//! fresh PostgreSQL database. Any 5xx answer fails the step; what the document promises beyond
//! that (status codes, schemas) is the server tests' business.
//!
//! The server, the database and the session are made here and undone in every case: the
//! [`Fuzzing`] guard stops the server and drops the database when it goes out of scope, on
//! success, failure or panic alike.

use std::fs;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::build;
use crate::util::{Result, exec, target_dir};

/// The release installed into the virtual environment. Pinned: a new release generates other
/// inputs, and what it finds should arrive as a change of this line, not as a red CI run on
/// an unrelated change.
const SCHEMATHESIS: &str = "4.32.5";
/// The fuzzing's time budget, in seconds; with the server's start and the sign-in the step
/// takes about three minutes.
const MAX_TIME_SECONDS: u32 = 150;
/// How long the server may take to migrate, seed the demo and listen (a debug build hashes
/// the six demo passwords with the production Argon2 cost).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs the step against the PostgreSQL server of `admin_url` (a URL whose user may create
/// databases; the one the server tests use).
pub fn run(admin_url: &str) -> Result {
    let schemathesis = ensure_schemathesis()?;
    let bin = build::server_binary()?;
    let work = target_dir()?.join("schemathesis");
    if work.exists() {
        fs::remove_dir_all(&work)
            .map_err(|e| format!("could not clear {}: {e}", work.display()))?;
    }
    // An empty console directory: the fuzzer only calls the API.
    fs::create_dir_all(work.join("dist"))
        .map_err(|e| format!("could not create {}: {e}", work.display()))?;

    let mut run = Fuzzing::create_database(admin_url)?;
    let addr = free_loopback_port()?;
    let log = work.join("server.log");
    let database_url = run.database_url();
    run.start_server(&bin, &database_url, addr, &work.join("dist"), &log)?;
    wait_until_ready(&mut run, addr, &log)?;
    let session = sign_in_as_demo_admin(addr)?;
    let config = work.join("schemathesis.toml");
    fs::write(&config, session.config(addr)?)
        .map_err(|e| format!("could not write {}: {e}", config.display()))?;

    let seed = std::env::var("ROLLGATE_SCHEMATHESIS_SEED").ok();
    let mut cmd = Command::new(&schemathesis);
    cmd.current_dir(&work)
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(format!("http://{addr}/api/v1/openapi.json"))
        .args(["--checks", "not_a_server_error"])
        .arg(format!("--max-time={MAX_TIME_SECONDS}"))
        .args(["--workers", "2"])
        .args(["--request-timeout", "30"])
        .args(["--generation-database", "none"])
        // Signing out ends the session every other request is sent with; the rest of the run
        // would only see 401s. Signing out is covered by tests/session.rs.
        .args(["--exclude-operation-id", "logout"])
        .args(["--output-sanitize", "false"])
        .arg("--no-color");
    if let Some(seed) = &seed {
        cmd.args(["--seed", seed]);
    }
    let fuzzed = exec(&mut cmd);

    // A run that lost its session (an account disabled, a role removed) only saw 401 and 403
    // after that point: it tested far less than it claims.
    let still_admin = session.is_admin(addr);
    let stopped = run.finish();
    fuzzed.map_err(|e| {
        format!(
            "{e}: Schemathesis found server errors (the server's log: {}; \
             ROLLGATE_SCHEMATHESIS_SEED=<seed it printed> repeats the run)",
            log.display()
        )
    })?;
    still_admin?;
    stopped
}

/// `~/.cache/rollgate/venv/bin/schemathesis` at [`SCHEMATHESIS`], installed from PyPI when
/// missing. Outside the clone, so every clone and CI run reuses it.
fn ensure_schemathesis() -> Result<PathBuf> {
    let home = std::env::var_os("HOME").ok_or("HOME is not set")?;
    let venv = Path::new(&home).join(".cache/rollgate/venv");
    let bin = venv.join("bin/schemathesis");
    let installed = Command::new(&bin)
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains(SCHEMATHESIS));
    if installed {
        return Ok(bin);
    }
    if !venv.join("bin/pip").exists() {
        exec(Command::new("python3").args(["-m", "venv"]).arg(&venv)).map_err(|e| {
            format!(
                "{e}: Schemathesis runs in a Python virtual environment; on Debian install \
                 python3-venv (apt-get install -y python3-venv)"
            )
        })?;
    }
    exec(
        Command::new(venv.join("bin/pip"))
            .args(["install", "--quiet", "--disable-pip-version-check"])
            .arg(format!("schemathesis=={SCHEMATHESIS}")),
    )?;
    Ok(bin)
}

/// A port nobody listens on now. The server binds it a moment later; another process taking
/// it in between makes the server fail to start, with a clear message.
fn free_loopback_port() -> Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| format!("could not find a free port on 127.0.0.1: {e}"))?;
    listener
        .local_addr()
        .map_err(|e| format!("could not read the free port: {e}"))
}

/// The fuzzed server and its database, undone on drop.
struct Fuzzing {
    admin_url: String,
    database: String,
    server: Option<Child>,
}

impl Fuzzing {
    /// A new, empty database `rollgate_fuzz_<pid>_<time>` next to the admin URL's.
    fn create_database(admin_url: &str) -> Result<Self> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or_default();
        let database = format!("rollgate_fuzz_{}_{stamp}", std::process::id());
        psql(admin_url, &format!("CREATE DATABASE {database}"))?;
        Ok(Fuzzing {
            admin_url: admin_url.to_owned(),
            database,
            server: None,
        })
    }

    fn database_url(&self) -> String {
        with_database(&self.admin_url, &self.database)
    }

    fn start_server(
        &mut self,
        bin: &Path,
        database_url: &str,
        addr: SocketAddr,
        dist: &Path,
        log: &Path,
    ) -> Result {
        let out = fs::File::create(log)
            .map_err(|e| format!("could not create {}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("could not share {}: {e}", log.display()))?;
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .arg("--demo")
            .arg("--database")
            .arg(database_url)
            .arg("--addr")
            .arg(addr.to_string())
            .arg("--dist")
            .arg(dist)
            // The per-session read limit would answer most metric reads 429, and those
            // requests would test nothing; 429 itself is covered by tests/metrics_read_limit.rs.
            .args(["--read-rate-limit", "1000000"])
            // Settings from the caller's shell must not change what is tested.
            .env_remove("ROLLGATE_PUBLIC_URL")
            .env_remove("ROLLGATE_TRUSTED_PROXIES")
            .env_remove("ROLLGATE_DB_POOL_SIZE")
            .env_remove("ROLLGATE_SECURE_COOKIES")
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        eprintln!(
            "$ {} serve --demo --addr {addr} (log: {})",
            bin.display(),
            log.display()
        );
        let child = cmd
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", bin.display()))?;
        self.server = Some(child);
        Ok(())
    }

    /// Whether the server has exited, with its status.
    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.server
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// Stops the server (SIGTERM, then SIGKILL after 10 s) and drops the database; the first
    /// thing that went wrong is the answer.
    fn finish(mut self) -> Result {
        self.undo()
    }

    fn undo(&mut self) -> Result {
        let mut outcome = Ok(());
        if let Some(mut child) = self.server.take()
            && let Err(e) = stop(&mut child)
        {
            outcome = Err(e);
        }
        if !self.database.is_empty() {
            let dropped = psql(
                &self.admin_url,
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database),
            );
            self.database.clear();
            outcome = outcome.and(dropped);
        }
        outcome
    }
}

impl Drop for Fuzzing {
    fn drop(&mut self) {
        if let Err(e) = self.undo() {
            eprintln!("xtask: cleaning up after Schemathesis: {e}");
        }
    }
}

fn stop(child: &mut Child) -> Result {
    if child.try_wait().ok().flatten().is_some() {
        return Ok(());
    }
    // SIGTERM lets the server finish its requests and revoke its demo tokens.
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if child.try_wait().ok().flatten().is_some() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child
        .kill()
        .and_then(|()| child.wait().map(drop))
        .map_err(|e| format!("could not stop the server (pid {}): {e}", child.id()))?;
    Err("the server did not stop within 10 s of SIGTERM and was killed".into())
}

/// One SQL statement through `psql` on `url`.
fn psql(url: &str, sql: &str) -> Result {
    exec(
        Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
            .stdout(Stdio::null()),
    )
    .map_err(|e| format!("{e} (psql, from Debian's postgresql-client, runs the SQL)"))
}

/// `postgres://u@h:5432/admin?x=y` with another database name.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_start..].find('/') {
        Some(slash) => &base[..authority_start + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

fn wait_until_ready(run: &mut Fuzzing, addr: SocketAddr, log: &Path) -> Result {
    let started = Instant::now();
    loop {
        if let Some(status) = run.exited() {
            return Err(format!(
                "the server exited ({status}) before it answered; its log: {}",
                log.display()
            ));
        }
        if request(addr, "GET", "/api/v1/health", &[], None).is_ok_and(|a| a.status == 200) {
            eprintln!("server ready in {:.1}s", started.elapsed().as_secs_f64());
            return Ok(());
        }
        if started.elapsed() > START_TIMEOUT {
            return Err(format!(
                "the server did not answer /api/v1/health within {}s; its log: {}",
                START_TIMEOUT.as_secs(),
                log.display()
            ));
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The cookie and CSRF token of a signed-in session.
struct Session {
    token: String,
    csrf: String,
}

impl Session {
    fn headers(&self) -> [(&str, String); 2] {
        [
            ("Cookie", format!("rollgate_session={}", self.token)),
            ("X-CSRF-Token", self.csrf.clone()),
        ]
    }

    /// A request with this session's cookie and CSRF token.
    fn send(
        &self,
        addr: SocketAddr,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> Result<Answer> {
        let headers = self.headers();
        let mut headers: Vec<(&str, &str)> =
            headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        request(addr, method, path, &headers, body)
    }

    /// The ids in the list `path` answers (an array, or a page with `items`).
    fn ids(&self, addr: SocketAddr, path: &str) -> Result<Vec<String>> {
        let list = self.send(addr, "GET", path, None)?.json(200)?;
        let items = list["items"].as_array().or(list.as_array());
        Ok(items
            .into_iter()
            .flatten()
            .filter_map(|item| item["id"].as_str().map(str::to_owned))
            .collect())
    }

    /// Schemathesis's configuration: this session on every request, a workspace-wide
    /// ingestion token where the document asks for one, and the demo's own changes, teams and
    /// notices as ids most of the time, so that the operations on one of them get past the 404
    /// of an id that does not exist (which they still get the rest of the time).
    fn config(&self, addr: SocketAddr) -> Result<String> {
        let token = self
            .send(
                addr,
                "POST",
                "/api/v1/tokens",
                Some(r#"{"name": "Schemathesis", "scopes": ["ingest"]}"#),
            )?
            .json(201)?;
        let secret = token["secret"]
            .as_str()
            .ok_or("the new token's answer has no secret")?;
        let changes = self.ids(addr, "/api/v1/changes?per_page=100")?;
        let teams = self.ids(addr, "/api/v1/teams")?;
        let mut notices = Vec::new();
        for change in &changes {
            notices.extend(self.ids(addr, &format!("/api/v1/changes/{change}/notices"))?);
        }
        // TOML basic strings and arrays of them are JSON strings and arrays of them.
        let quoted = |s: &str| serde_json::Value::from(s).to_string();
        let mut toml = String::from("# Written by `cargo xtask test` (xtask/src/fuzz.rs).\n");
        toml.push_str(&format!(
            "headers = {{ Cookie = {}, X-CSRF-Token = {} }}\n\n",
            quoted(&format!("rollgate_session={}", self.token)),
            quoted(&self.csrf)
        ));
        toml.push_str(&format!(
            "[auth.openapi.ingest_token]\nbearer = {}\n",
            quoted(secret)
        ));
        for (name, ids, prefix) in [
            ("changes", &changes, "/api/v1/changes/"),
            ("teams", &teams, "/api/v1/teams/"),
            ("notices", &notices, "/api/v1/notices/"),
        ] {
            if ids.is_empty() {
                continue;
            }
            let values = serde_json::Value::from(ids.clone()).to_string();
            toml.push_str(&format!(
                "\n[dictionaries.{name}]\nvalues = {values}\n\n[[operations]]\n\
                 include-path-regex = '^{prefix}\\{{id\\}}'\n\
                 parameters = {{ \"path.id\" = {{ dictionary = \"{name}\", probability = 0.8 }} }}\n"
            ));
        }
        Ok(toml)
    }

    /// Ok when the session still belongs to a signed-in admin.
    fn is_admin(&self, addr: SocketAddr) -> Result {
        let headers = self.headers();
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let answer = request(addr, "GET", "/api/v1/session", &headers, None)?;
        let body: serde_json::Value = serde_json::from_slice(&answer.body).unwrap_or_default();
        let admin = body["user"]["roles"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r == "admin"));
        if answer.status == 200 && admin {
            Ok(())
        } else {
            Err(format!(
                "the demo admin's session ended or lost the admin role during the run \
                 (GET /api/v1/session answered {}): the requests after that tested little; \
                 exclude the operation that did it, with the reason",
                answer.status
            ))
        }
    }
}

/// Signs in as the demo workspace's admin, with the account and password the demo's login
/// page is given.
fn sign_in_as_demo_admin(addr: SocketAddr) -> Result<Session> {
    let demo = request(addr, "GET", "/api/v1/session/demo-users", &[], None)?.json(200)?;
    let password = demo["password"].as_str().ok_or("no demo password")?;
    let email = demo["users"]
        .as_array()
        .and_then(|users| {
            users.iter().find(|u| {
                u["roles"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|r| r == "admin"))
            })
        })
        .and_then(|u| u["email"].as_str())
        .ok_or("the demo workspace has no admin account")?;
    let body = serde_json::json!({ "email": email, "password": password }).to_string();
    let answer = request(
        addr,
        "POST",
        "/api/v1/session",
        &[("Content-Type", "application/json")],
        Some(&body),
    )?;
    let token = answer
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .find_map(|(_, value)| {
            value
                .strip_prefix("rollgate_session=")
                .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        })
        .ok_or_else(|| format!("signing in as {email} set no session cookie"))?;
    let info = answer.json(200)?;
    let csrf = info["csrf_token"]
        .as_str()
        .ok_or("the sign-in answer has no csrf_token")?
        .to_owned();
    Ok(Session { token, csrf })
}

/// An HTTP answer, read whole.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn json(self, expected: u16) -> Result<serde_json::Value> {
        if self.status != expected {
            return Err(format!(
                "expected {expected}, got {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            ));
        }
        serde_json::from_slice(&self.body).map_err(|e| format!("an answer is not JSON: {e}"))
    }
}

/// One HTTP/1.1 request on its own connection (`Connection: close`). Enough for the few calls
/// this step makes itself; the fuzzing is Schemathesis's.
fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<Answer> {
    let failed = |e: std::io::Error| format!("{method} {path} on {addr}: {e}");
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(failed)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(failed)?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = body.unwrap_or_default();
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body.as_bytes()))
        .map_err(failed)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(failed)?;
    parse_answer(&raw).ok_or_else(|| format!("{method} {path}: not an HTTP/1.1 answer"))
}

fn parse_answer(raw: &[u8]) -> Option<Answer> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let rest = &raw[end + 4..];
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        dechunk(rest)?
    } else {
        rest.to_vec()
    };
    Some(Answer {
        status,
        headers,
        body,
    })
}

/// A chunked body (RFC 9112 §7.1) without trailers.
fn dechunk(mut rest: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n")?;
        let size = std::str::from_utf8(&rest[..line_end]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(rest.get(..size)?);
        rest = rest.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_plain_and_chunked() {
        let a = parse_answer(b"HTTP/1.1 200 OK\r\nSet-Cookie: a=b; Path=/\r\n\r\n{}").unwrap();
        assert_eq!((a.status, a.body.as_slice()), (200, b"{}".as_slice()));
        assert_eq!(a.headers, [("Set-Cookie".into(), "a=b; Path=/".into())]);
        let a = parse_answer(
            b"HTTP/1.1 401 Unauthorized\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;x\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!((a.status, a.body.as_slice()), (401, b"abcde".as_slice()));
        assert!(
            parse_answer(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n9\r\nab").is_none()
        );
        assert!(parse_answer(b"garbage").is_none());
    }

    #[test]
    fn the_database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
