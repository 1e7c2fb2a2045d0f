//! The `rollgate` binary: flags and environment, a taken port, start and graceful stop.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn rollgate(cwd: &std::path::Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rollgate"));
    cmd.current_dir(cwd);
    for var in [
        "ROLLGATE_ADDR",
        "ROLLGATE_DATABASE_URL",
        "ROLLGATE_DB_POOL_SIZE",
        "ROLLGATE_DEMO",
        "ROLLGATE_DIST",
        "ROLLGATE_PASSWORD",
        "ROLLGATE_SECURE_COOKIES",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_taken_port_is_a_clear_error() {
    let cwd = tempfile::tempdir().expect("tempdir");
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();

    let out = rollgate(cwd.path())
        .args(["serve", "--addr", &addr])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    assert!(err.contains("--addr"), "{err}");
    // Nothing was created before failing.
    assert!(!cwd.path().join("rollgate.db").exists());

    // From the environment too; a flag wins over the variable.
    let other = TcpListener::bind("127.0.0.1:0").expect("bind");
    let other_addr = other.local_addr().expect("addr").to_string();
    let out = rollgate(cwd.path())
        .args(["serve"])
        .env("ROLLGATE_ADDR", &addr)
        .output()
        .expect("run");
    assert!(
        stderr(&out).contains(&format!("cannot listen on {addr}")),
        "{}",
        stderr(&out)
    );
    let out = rollgate(cwd.path())
        .args(["serve", "--addr", &other_addr])
        .env("ROLLGATE_ADDR", &addr)
        .output()
        .expect("run");
    assert!(
        stderr(&out).contains(&format!("cannot listen on {other_addr}")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_guardian_flag_takes_on_or_off() {
    let cwd = tempfile::tempdir().expect("tempdir");
    let out = rollgate(cwd.path())
        .args(["serve", "--addr", "127.0.0.1:0", "--guardian", "maybe"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("--guardian"), "{err}");
    assert!(err.contains("`maybe` is neither on nor off"), "{err}");
    // `off` is taken: the server then fails on the taken port, not on the flag.
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = taken.local_addr().expect("addr").to_string();
    let out = rollgate(cwd.path())
        .args(["serve", "--addr", &addr, "--guardian", "off"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(!err.contains("--guardian"), "{err}");
    assert!(err.contains("cannot listen on"), "{err}");
}

#[test]
fn a_bad_public_url_is_a_clear_error() {
    let cwd = tempfile::tempdir().expect("tempdir");
    let out = rollgate(cwd.path())
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--public-url",
            "rollgate.example.com",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("--public-url"), "{err}");
    assert!(err.contains("not an http:// or https:// address"), "{err}");
}

#[test]
fn a_bad_trusted_proxy_is_a_clear_error() {
    let cwd = tempfile::tempdir().expect("tempdir");
    let out = rollgate(cwd.path())
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("ROLLGATE_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal")
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("`proxy.internal` is not an IP address or range"),
        "{err}"
    );
}

#[test]
fn an_unsupported_database_is_a_clear_error() {
    let cwd = tempfile::tempdir().expect("tempdir");
    let out = rollgate(cwd.path())
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--database",
            "mysql://root:pw@localhost/x",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("unsupported database URL"), "{err}");
    assert!(!err.contains(":pw@"), "password leaked: {err}");
}

#[cfg(unix)]
#[test]
fn serves_the_demo_and_stops_on_sigterm() {
    let cwd = tempfile::tempdir().expect("tempdir");
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut child = rollgate(cwd.path())
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("ROLLGATE_DEMO", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read");
    assert_eq!(
        line.trim(),
        format!("Rollgate console on http://127.0.0.1:{port}")
    );

    // Sign in as the demo engineer, then read the changes with the session cookie.
    let login = r#"{"email":"erin.engineer@demo.rollgate","password":"rollgate-demo-password"}"#;
    let answer = http(
        port,
        &format!(
            "POST /api/v1/session HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{login}",
            login.len()
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let cookie = answer
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .and_then(|c| c.split(';').next())
        .expect("session cookie")
        .to_owned();
    let answer = http(
        port,
        &format!(
            "GET /api/v1/changes HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\
             Cookie: {cookie}\r\n\r\n"
        ),
    );
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"total\":5"), "{answer}");
    assert!(cwd.path().join("rollgate-demo.db").exists());

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{:?}: {}", out.status, stderr(&out));
}

/// `--db-pool-size` (or its variable) sizes the pool, as health reports it; a flag wins.
#[cfg(unix)]
#[test]
fn the_pool_size_flag_reaches_the_pool() {
    for (flag, env, expected) in [
        (Some("3"), None, "3"),
        (None, Some("5"), "5"),
        (Some("6"), Some("5"), "6"),
    ] {
        let cwd = tempfile::tempdir().expect("tempdir");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let mut cmd = rollgate(cwd.path());
        cmd.args(["serve", "--addr", &format!("127.0.0.1:{port}")]);
        if let Some(size) = flag {
            cmd.args(["--db-pool-size", size]);
        }
        if let Some(size) = env {
            cmd.env("ROLLGATE_DB_POOL_SIZE", size);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read");
        let answer = http(
            port,
            "GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        );
        let killed = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(killed.success());
        let out = child.wait_with_output().expect("wait");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            answer.contains(&format!("\"max\":{expected}")),
            "{flag:?} {env:?}: {answer}"
        );
        assert!(out.status.success(), "{:?}: {}", out.status, stderr(&out));
    }
}

#[test]
fn a_zero_pool_size_is_refused() {
    let cwd = tempfile::tempdir().expect("tempdir");
    let out = rollgate(cwd.path())
        .args(["serve", "--addr", "127.0.0.1:0", "--db-pool-size", "0"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--db-pool-size"), "{}", stderr(&out));
    assert!(!cwd.path().join("rollgate.db").exists());
}

/// One HTTP/1.1 exchange over a fresh connection; the whole answer as text.
fn http(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("write");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read");
    answer
}

/// `rollgate user add` and `rollgate user list` on the database `serve` would use.
#[test]
fn user_add_and_list() {
    let cwd = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}", cwd.path().join("accounts.db").display());
    let add = |email: &str, roles: &[&str], password: &str| {
        let mut cmd = rollgate(cwd.path());
        cmd.args(["user", "add", "--email", email, "--name", "Ana Admin"]);
        for r in roles {
            cmd.args(["--role", r]);
        }
        cmd.env("ROLLGATE_DATABASE_URL", &db)
            .env("ROLLGATE_PASSWORD", password)
            .stdin(Stdio::null())
            .output()
            .expect("run")
    };
    let out = add("ana@example.com", &["admin", "approver"], "a long password");
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("ana@example.com") && stdout.contains("admin, approver"),
        "{stdout}"
    );

    let out = add("ANA@example.com", &["pm"], "a long password");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    let out = add("bo@example.com", &["root"], "a long password");
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("unknown role `root`"),
        "{}",
        stderr(&out)
    );
    let out = add("bo@example.com", &["pm"], "short");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("at least 12"), "{}", stderr(&out));
    // No password in the environment and no terminal: a clear error, nothing created.
    let out = rollgate(cwd.path())
        .args([
            "user",
            "add",
            "--email",
            "cy@example.com",
            "--name",
            "Cy",
            "--role",
            "pm",
        ])
        .args(["--database", &db])
        .env_remove("ROLLGATE_PASSWORD")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("password"), "{}", stderr(&out));

    let out = rollgate(cwd.path())
        .args(["user", "list", "--database", &db])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let list = String::from_utf8_lossy(&out.stdout);
    assert_eq!(list.lines().count(), 1, "{list}");
    assert!(
        list.contains("ana@example.com\tAna Admin\tadmin,approver"),
        "{list}"
    );
}

#[test]
fn demo_mode_refuses_a_database_with_real_accounts() {
    let cwd = tempfile::tempdir().expect("tempdir");
    let db = format!("sqlite://{}?mode=rwc", cwd.path().join("real.db").display());
    let out = rollgate(cwd.path())
        .args([
            "user",
            "add",
            "--email",
            "real@corp.example",
            "--name",
            "Real",
        ])
        .args(["--role", "admin", "--database", &db])
        .env("ROLLGATE_PASSWORD", "a long enough password")
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", stderr(&out));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let out = rollgate(cwd.path())
        .args(["serve", "--demo", "--database", &db])
        .args(["--addr", &format!("127.0.0.1:{port}")])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("refusing --demo"), "{err}");
    assert!(err.contains("1 real account"), "{err}");
}
