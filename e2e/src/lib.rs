//! Harness for Rollgate's browser tests: the real `rollgate` binary on a free loopback port,
//! Debian's headless Chromium driven through chromedriver, and small helpers split into
//! *find* (locate elements), *act* (click, type) and *check* (wait for what the user sees).
//!
//! `cargo xtask test` builds the console and the server and passes them in through
//! `ROLLGATE_E2E_BIN` and `ROLLGATE_E2E_DIST`.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};

pub type Result<T = (), E = Box<dyn std::error::Error + Send + Sync>> = std::result::Result<T, E>;

/// How long a check waits for the page to show something.
pub const PATIENCE: Duration = Duration::from_secs(15);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("the loopback interface has a free port")
}

fn required_path(var: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(p) => PathBuf::from(p),
        None => panic!(
            "{var} is not set: run the browser tests with `cargo xtask test`, which builds \
             the server and the console first"
        ),
    }
}

fn wait_for_port(addr: SocketAddr, child: &mut Child, what: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited before it listened on {addr}: {status}");
        }
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} did not listen on {addr} within 30 s");
}

/// The accounts of an empty test workspace, created with `rollgate user add` before the server
/// starts: (email, display name, roles).
pub const PEOPLE: [(&str, &str, &[&str]); 5] = [
    ("ada@e2e.test", "Ada Admin", &["admin"]),
    ("erin@e2e.test", "Erin Engineer", &["engineer"]),
    ("pat@e2e.test", "Pat PM", &["pm"]),
    ("alex@e2e.test", "Alex Approver", &["approver"]),
    ("sam@e2e.test", "Sam Support", &["support"]),
];
pub const ADMIN: &str = "ada@e2e.test";
pub const ENGINEER: &str = "erin@e2e.test";
pub const PM: &str = "pat@e2e.test";
pub const SUPPORT: &str = "sam@e2e.test";
pub const APPROVER: &str = "alex@e2e.test";
/// Password of every account of an empty test workspace.
pub const PASSWORD: &str = "e2e-password-of-some-length";
/// Password of the demo workspace's accounts (shown on its login page).
pub const DEMO_PASSWORD: &str = "rollgate-demo-password";
pub const DEMO_ENGINEER: &str = "erin.engineer@demo.rollgate";
pub const DEMO_PM: &str = "pat.pm@demo.rollgate";

/// A running `rollgate serve` with its own database file, stopped when dropped.
pub struct Server {
    child: Child,
    pub url: String,
    demo: bool,
    _dir: tempfile::TempDir,
}

impl Server {
    /// An empty workspace.
    pub fn start() -> Server {
        Server::launch(false, required_path("ROLLGATE_E2E_DIST"))
    }

    /// An empty workspace with the guardian running, for tests of what it does.
    pub fn start_with_guardian() -> Server {
        Server::launch_with(false, required_path("ROLLGATE_E2E_DIST"), true)
    }

    /// The demo workspace (`--demo`), as `cargo xtask serve` starts it.
    pub fn start_demo() -> Server {
        Server::launch(true, required_path("ROLLGATE_E2E_DIST"))
    }

    /// The demo workspace serving the console from `dist` instead of the built one.
    pub fn start_demo_serving(dist: &Path) -> Server {
        Server::launch(true, dist.to_path_buf())
    }

    /// The demo workspace whose simulated application reports windows of `seconds` (hidden
    /// `--demo-window-seconds`), so that a rollback shows in its traffic within seconds.
    pub fn start_demo_with_windows(seconds: u32) -> Server {
        Server::launch_with_args(
            true,
            required_path("ROLLGATE_E2E_DIST"),
            false,
            &["--demo-window-seconds".to_string(), seconds.to_string()],
        )
    }

    /// The demo workspace with four months of finished changes before the four in flight
    /// (`--demo-history`, as `cargo xtask serve` runs it), for the delivery figures.
    pub fn start_demo_with_history() -> Server {
        Server::launch_with_args(
            true,
            required_path("ROLLGATE_E2E_DIST"),
            false,
            &["--demo-history".to_string()],
        )
    }

    /// The demo workspace with the guardian on, as `cargo xtask serve` runs it: the guardian
    /// rolls back the breaching canary once the simulator's first data arrive.
    pub fn start_demo_with_guardian() -> Server {
        Server::launch_with(true, required_path("ROLLGATE_E2E_DIST"), true)
    }

    fn launch(demo: bool, dist: PathBuf) -> Server {
        Server::launch_with(demo, dist, false)
    }

    fn launch_with(demo: bool, dist: PathBuf, guardian: bool) -> Server {
        Server::launch_with_args(demo, dist, guardian, &[])
    }

    fn launch_with_args(demo: bool, dist: PathBuf, guardian: bool, extra: &[String]) -> Server {
        let bin = required_path("ROLLGATE_E2E_BIN");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let port = free_port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let db = format!("sqlite://{}?mode=rwc", dir.path().join("e2e.db").display());
        if !demo {
            for (email, name, roles) in PEOPLE {
                let mut add = Command::new(&bin);
                add.args([
                    "user",
                    "add",
                    "--email",
                    email,
                    "--name",
                    name,
                    "--database",
                    &db,
                ])
                .env("ROLLGATE_PASSWORD", PASSWORD)
                .env_remove("ROLLGATE_DATABASE_URL")
                .current_dir(dir.path())
                .stdout(Stdio::null());
                for role in roles {
                    add.args(["--role", role]);
                }
                let status = add.status().expect("rollgate user add runs");
                assert!(status.success(), "rollgate user add {email} failed");
            }
        }
        let mut cmd = Command::new(&bin);
        cmd.arg("serve")
            .arg("--addr")
            .arg(addr.to_string())
            .arg("--database")
            .arg(&db)
            .arg("--dist")
            .arg(&dist)
            .current_dir(dir.path())
            .env_remove("ROLLGATE_DATABASE_URL")
            .env_remove("ROLLGATE_ADDR")
            // The browser tests walk people's own decisions on the demo's breaching canary
            // (rolling it back by hand among them); the guardian would take them first.
            .args(["--guardian", if guardian { "on" } else { "off" }])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if demo {
            cmd.arg("--demo");
        }
        cmd.args(extra);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {}: {e}", bin.display()));
        wait_for_port(addr, &mut child, "rollgate serve");
        let server = Server {
            child,
            url: format!("http://{addr}"),
            demo,
            _dir: dir,
        };
        if !demo {
            server.prepare_workspace();
        }
        server
    }

    /// What an admin does on day one: Sam joins the Support team, and notices may go out
    /// right before a canary (no lead time) so tests need not wait a day.
    fn prepare_workspace(&self) {
        let admin = http::login(self, ADMIN);
        let (_, policies) = admin.request(self, "GET", "/api/v1/policies", None);
        let mut policies: serde_json::Value =
            serde_json::from_str(&policies).expect("policies are JSON");
        for tier in ["low", "standard", "high"] {
            policies[tier]["notice_lead_hours"] = 0.into();
        }
        let (status, text) =
            admin.request(self, "PUT", "/api/v1/policies", Some(&policies.to_string()));
        assert_eq!(status, 200, "policies: {text}");
        let (_, users) = admin.request(self, "GET", "/api/v1/users", None);
        let users: serde_json::Value = serde_json::from_str(&users).expect("users are JSON");
        let sam = users
            .as_array()
            .and_then(|u| u.iter().find(|u| u["email"] == SUPPORT))
            .and_then(|u| u["id"].as_str())
            .expect("Sam has an account")
            .to_string();
        let support = http::team_id(self, &admin, "Support");
        let body = serde_json::json!({ "name": "Support", "members": [sam] });
        let (status, text) = admin.request(
            self,
            "PUT",
            &format!("/api/v1/teams/{support}"),
            Some(&body.to_string()),
        );
        assert_eq!(status, 200, "support team: {text}");
    }

    pub fn page(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// The password of `email` in this workspace.
    pub fn password(&self) -> &'static str {
        if self.demo { DEMO_PASSWORD } else { PASSWORD }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Headless Chromium behind its own chromedriver, closed when dropped.
pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn start() -> Browser {
        let port = free_port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (apt-get install -y chromium chromium-driver)");
        wait_for_port(addr, &mut driver, "chromedriver");

        let profile = tempfile::tempdir().expect("a temporary directory");
        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--window-size=1400,1000".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": "/usr/bin/chromium", "args": args }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://{addr}"))
            .await
            .expect("a Chromium session through chromedriver");
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    /// Ends the session and stops chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }

    /// Saves a screenshot under the target directory for people to look at.
    pub async fn screenshot(&self, name: &str) -> Result<PathBuf> {
        let png = self.client.screenshot().await?;
        let dir = std::env::var_os("ROLLGATE_E2E_SCREENSHOTS")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Locating what the user looks at.
pub mod find {
    use super::*;

    /// A CSS selector for a `data-test` hook.
    pub fn hook(name: &str) -> String {
        format!("[data-test=\"{name}\"]")
    }

    /// Waits until an element matching `css` exists.
    pub async fn one(c: &Client, css: &str) -> Result<Element> {
        Ok(c.wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(css))
            .await
            .map_err(|e| format!("no element `{css}` appeared: {e}"))?)
    }

    pub async fn all(c: &Client, css: &str) -> Result<Vec<Element>> {
        Ok(c.find_all(Locator::Css(css)).await?)
    }

    /// The visible text of the element matching `css`, found again if it goes stale.
    pub async fn text(c: &Client, css: &str) -> Result<String> {
        let start = Instant::now();
        loop {
            let attempt = async { one(c, css).await?.text().await.map_err(Into::into) };
            match attempt.await {
                Ok(t) => return Ok(t),
                Err(e) if start.elapsed() > PATIENCE => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// The visible texts of every element matching `css`.
    pub async fn texts(c: &Client, css: &str) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for e in all(c, css).await? {
            out.push(e.text().await?);
        }
        Ok(out)
    }
}

/// What the user does.
pub mod act {
    use super::*;

    /// Clicks the element matching `css`. The console re-renders parts of a page when data
    /// refreshes, so a found element can go stale before the click: find it again and retry.
    pub async fn click(c: &Client, css: &str) -> Result {
        let start = Instant::now();
        loop {
            let attempt = async { find::one(c, css).await?.click().await.map_err(Into::into) };
            match attempt.await {
                Ok(_) => return Ok(()),
                Err(e) if start.elapsed() > PATIENCE => return Err(e),
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    /// Replaces the value of a field and fires the events a person's typing would.
    pub async fn fill(c: &Client, css: &str, text: &str) -> Result {
        let field = find::one(c, css).await?;
        field.clear().await?;
        field.send_keys(text).await?;
        Ok(())
    }

    /// Signs in through the login page and waits for the console.
    pub async fn login(c: &Client, server: &Server, email: &str) -> Result {
        c.goto(&server.page("/login")).await?;
        submit_login(c, server, email).await?;
        find::one(c, &find::hook("logout")).await?;
        Ok(())
    }

    /// Fills in and sends the sign-in form already on screen, without waiting for the result.
    pub async fn submit_login(c: &Client, server: &Server, email: &str) -> Result {
        fill(c, &find::hook("login-email"), email).await?;
        fill(c, &find::hook("login-password"), server.password()).await?;
        click(c, &find::hook("login-submit")).await
    }

    /// Signs out and waits for the login page.
    pub async fn logout(c: &Client) -> Result {
        click(c, &find::hook("logout")).await?;
        find::one(c, &find::hook("login-email")).await?;
        Ok(())
    }

    /// Slows this browser's network from now on, as on a poor connection: `latency` before each
    /// response and `bytes_per_second` both ways (chromedriver's network conditions).
    pub async fn slow_network(c: &Client, latency: Duration, bytes_per_second: u32) -> Result {
        c.issue_cmd(NetworkConditions {
            latency_ms: latency.as_millis(),
            bytes_per_second,
        })
        .await
        .map_err(|e| format!("chromedriver refused the network conditions: {e}"))?;
        Ok(())
    }

    #[derive(Debug)]
    struct NetworkConditions {
        latency_ms: u128,
        bytes_per_second: u32,
    }

    impl WebDriverCompatibleCommand for NetworkConditions {
        fn endpoint(
            &self,
            base: &url::Url,
            session: Option<&str>,
        ) -> std::result::Result<url::Url, url::ParseError> {
            base.join(&format!(
                "session/{}/chromium/network_conditions",
                session.unwrap_or_default()
            ))
        }

        fn method_and_body(&self, _: &url::Url) -> (::http::Method, Option<String>) {
            let body = serde_json::json!({ "network_conditions": {
                "offline": false,
                "latency": self.latency_ms,
                "download_throughput": self.bytes_per_second,
                "upload_throughput": self.bytes_per_second,
            }});
            (::http::Method::POST, Some(body.to_string()))
        }
    }

    /// Sends one Chrome DevTools Protocol command through chromedriver (`goog/cdp/execute`),
    /// for what WebDriver has no command for (a script run before any of a page's own); its
    /// answer.
    pub async fn cdp(
        c: &Client,
        cmd: &str,
        params: serde_json::Value,
    ) -> Result<serde_json::Value> {
        Ok(c.issue_cmd(Cdp {
            cmd: cmd.to_string(),
            params,
        })
        .await
        .map_err(|e| format!("chromedriver refused {cmd}: {e}"))?)
    }

    #[derive(Debug)]
    struct Cdp {
        cmd: String,
        params: serde_json::Value,
    }

    impl WebDriverCompatibleCommand for Cdp {
        fn endpoint(
            &self,
            base: &url::Url,
            session: Option<&str>,
        ) -> std::result::Result<url::Url, url::ParseError> {
            base.join(&format!(
                "session/{}/goog/cdp/execute",
                session.unwrap_or_default()
            ))
        }

        fn method_and_body(&self, _: &url::Url) -> (::http::Method, Option<String>) {
            let body = serde_json::json!({ "cmd": self.cmd, "params": self.params });
            (::http::Method::POST, Some(body.to_string()))
        }
    }

    /// Picks an `<option>` by its value.
    pub async fn select(c: &Client, css: &str, value: &str) -> Result {
        find::one(c, css)
            .await?
            .select_by_value(value)
            .await
            .map_err(|e| format!("could not pick `{value}` in `{css}`: {e}"))?;
        Ok(())
    }
}

/// What the user should see, waited for with [`PATIENCE`].
pub mod check {
    use super::*;

    /// Waits until the page's visible text contains `needle`.
    pub async fn page_shows(c: &Client, needle: &str) -> Result {
        let start = Instant::now();
        loop {
            let body = c.find(Locator::Css("body")).await?.text().await?;
            if body.contains(needle) {
                return Ok(());
            }
            if start.elapsed() > PATIENCE {
                return Err(format!("the page never showed {needle:?}; it shows:\n{body}").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the element matching `css` has `attr` equal to `value`.
    pub async fn attr_is(c: &Client, css: &str, attr: &str, value: &str) -> Result {
        let start = Instant::now();
        loop {
            let got = match c.find(Locator::Css(css)).await {
                // A re-render can make the element stale between find and read: retry.
                Ok(e) => e.attr(attr).await.ok().flatten(),
                Err(_) => None,
            };
            if got.as_deref() == Some(value) {
                return Ok(());
            }
            if start.elapsed() > PATIENCE {
                return Err(format!("`{css}` has {attr}={got:?}, expected {value:?}").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Whether the page scrolls sideways (wider than the window).
    pub async fn scrolls_sideways(c: &Client) -> Result<bool> {
        let wide = c
            .execute(
                "return document.documentElement.scrollWidth > document.documentElement.clientWidth;",
                vec![],
            )
            .await?;
        Ok(wide.as_bool().unwrap_or(true))
    }

    /// Waits until exactly `n` elements match `css`.
    pub async fn count(c: &Client, css: &str, n: usize) -> Result {
        let start = Instant::now();
        loop {
            let got = find::all(c, css).await?.len();
            if got == n {
                return Ok(());
            }
            if start.elapsed() > PATIENCE {
                return Err(format!("{got} elements match `{css}`, expected {n}").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The `data-status` of each stage of the timeline, in order.
    pub async fn timeline(c: &Client) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for s in find::all(
            c,
            &format!("{} {}", find::hook("timeline"), find::hook("stage")),
        )
        .await?
        {
            out.push(s.attr("data-status").await?.unwrap_or_default());
        }
        Ok(out)
    }
}

/// axe-core, the accessibility checker from npm, run inside the page. Someone else's rules
/// rather than ours, so our own misreadings of WCAG do not pass unnoticed.
pub mod axe {
    use super::*;
    use std::sync::OnceLock;

    /// The major version the tests are written against; npm picks its newest release.
    const PACKAGE: &str = "axe-core@4";

    /// Where the package is installed: a cache shared by every run on this machine.
    fn home() -> PathBuf {
        let home = std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from);
        home.join(".cache/rollgate/axe")
    }

    /// The script, installed with npm the first time (`npm` is Debian's package of it).
    pub fn source() -> &'static str {
        static SOURCE: OnceLock<String> = OnceLock::new();
        SOURCE.get_or_init(|| {
            let dir = home();
            let script = dir.join("node_modules/axe-core/axe.min.js");
            if !script.exists() {
                std::fs::create_dir_all(&dir).expect("a cache directory for axe-core");
                let status = Command::new("npm")
                    .args(["install", "--no-audit", "--no-fund", "--prefix"])
                    .arg(&dir)
                    .arg(PACKAGE)
                    .stdout(Stdio::null())
                    .status()
                    .expect("npm is installed (apt-get install -y npm)");
                assert!(status.success(), "npm install {PACKAGE} failed");
            }
            std::fs::read_to_string(&script)
                .unwrap_or_else(|e| panic!("could not read {}: {e}", script.display()))
        })
    }

    /// Runs the WCAG 2.0, 2.1 and 2.2 level A and AA rules on the page as it stands and
    /// returns the serious and critical violations, one line per element: rule, impact,
    /// where (a CSS path) and axe's summary of what is wrong.
    pub async fn serious_violations(c: &Client) -> Result<Vec<String>> {
        c.execute(
            "if (!window.axe) { const s = document.createElement('script'); \
             s.textContent = arguments[0]; document.head.appendChild(s); } return !!window.axe;",
            vec![source().into()],
        )
        .await?;
        let found = c
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                axe.run(document, {
                  runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
                  resultTypes: ['violations'],
                }).then((r) => done(r.violations
                  .filter((v) => v.impact === 'serious' || v.impact === 'critical')
                  .flatMap((v) => v.nodes.map((n) => v.id + ' (' + v.impact + ') at ' + n.target.join(' ')
                    + ': ' + (n.failureSummary || v.help).replace(/\s+/g, ' ')))))
                  .catch((e) => done(['axe failed: ' + e]));"#,
                vec![],
            )
            .await?;
        Ok(found
            .as_array()
            .map(|v| {
                v.iter()
                    .filter_map(|s| s.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default())
    }
}

/// Plain HTTP against the server, for setting the scene faster than the UI would.
pub mod http {
    use super::*;
    use std::io::{Read, Write};

    /// Sends one request with `Connection: close` and returns (status, body).
    pub fn request(server: &Server, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        request_with(server, method, path, body, &[])
    }

    /// [`request`] with extra headers, e.g. `("Authorization", "Bearer …")`.
    pub fn request_with(
        server: &Server,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> (u16, String) {
        let (status, _, body) = exchange(server, method, path, body, headers);
        (status, body)
    }

    /// One request; returns (status, response head, body).
    fn exchange(
        server: &Server,
        method: &str,
        path: &str,
        body: Option<&str>,
        headers: &[(&str, &str)],
    ) -> (u16, String, String) {
        let host = server.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(host).expect("the server accepts connections");
        let body = body.unwrap_or("");
        let extra: String = headers
            .iter()
            .map(|(k, v)| format!("{k}: {v}\r\n"))
            .collect();
        let req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra}\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(req.as_bytes()).expect("request written");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("response read");
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let chunked = head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked");
        let body = if chunked {
            dechunk(rest)
        } else {
            rest.to_string()
        };
        (status, head.to_string(), body)
    }

    /// A signed-in API client: the session cookie and the CSRF token every write carries.
    pub struct Session {
        cookie: String,
        csrf: String,
    }

    /// Signs in as `email` through `POST /api/v1/session`.
    pub fn login(server: &Server, email: &str) -> Session {
        let body = serde_json::json!({ "email": email, "password": server.password() });
        let (status, head, text) = exchange(
            server,
            "POST",
            "/api/v1/session",
            Some(&body.to_string()),
            &[],
        );
        assert_eq!(status, 200, "signing in as {email} failed: {text}");
        let cookie = head
            .lines()
            .find_map(|l| {
                let (name, value) = l.split_once(':')?;
                name.eq_ignore_ascii_case("set-cookie")
                    .then(|| value.trim().split(';').next().unwrap_or("").to_string())
            })
            .expect("a session cookie");
        let v: serde_json::Value = serde_json::from_str(&text).expect("a JSON body");
        Session {
            cookie,
            csrf: v["csrf_token"].as_str().expect("a CSRF token").to_string(),
        }
    }

    impl Session {
        pub fn request(
            &self,
            server: &Server,
            method: &str,
            path: &str,
            body: Option<&str>,
        ) -> (u16, String) {
            request_with(
                server,
                method,
                path,
                body,
                &[("Cookie", &self.cookie), ("X-CSRF-Token", &self.csrf)],
            )
        }

        /// Creates a change from the standard template and returns its id.
        pub fn create_change(&self, server: &Server, title: &str) -> String {
            let body = serde_json::json!({
                "title": title,
                "kind": "prompt",
                "risk": "standard",
                "owner": "e2e@example.com",
                "baseline": {"prompt_version": "v1"},
                "candidate": {"prompt_version": "v2"},
                "expected_changes": "Shorter answers.",
                "template": "standard"
            });
            let (status, text) =
                self.request(server, "POST", "/api/v1/changes", Some(&body.to_string()));
            assert_eq!(status, 201, "creating a change failed: {text}");
            let v: serde_json::Value = serde_json::from_str(&text).expect("a JSON body");
            v["change"]["id"]
                .as_str()
                .expect("the change has an id")
                .to_string()
        }

        /// Moves the change as the console does: based on the revision it last read.
        pub fn transition(&self, server: &Server, id: &str, action: &str, reason: Option<&str>) {
            let (status, text) =
                self.request(server, "GET", &format!("/api/v1/changes/{id}"), None);
            assert_eq!(status, 200, "reading the change failed: {text}");
            let detail: serde_json::Value = serde_json::from_str(&text).expect("a JSON body");
            let revision = &detail["change"]["revision"];
            let body =
                serde_json::json!({ "action": action, "reason": reason, "revision": revision });
            let (status, text) = self.request(
                server,
                "POST",
                &format!("/api/v1/changes/{id}/transitions"),
                Some(&body.to_string()),
            );
            assert_eq!(status, 200, "{action} failed: {text}");
        }

        /// Drafts and publishes a notice to Support about the change; returns the notice id.
        pub fn notify_support(&self, server: &Server, id: &str, what: &str) -> String {
            let support = team_id(server, self, "Support");
            let body = serde_json::json!({
                "audience": [support],
                "expected_changes": what,
                "talking_points": "Nothing to do unless users ask.",
            });
            let (status, text) = self.request(
                server,
                "POST",
                &format!("/api/v1/changes/{id}/notices"),
                Some(&body.to_string()),
            );
            assert_eq!(status, 201, "drafting a notice failed: {text}");
            let v: serde_json::Value = serde_json::from_str(&text).expect("a JSON body");
            let notice = v["id"].as_str().expect("the notice has an id").to_string();
            let (status, text) = self.request(
                server,
                "POST",
                &format!("/api/v1/notices/{notice}/publish"),
                None,
            );
            assert_eq!(status, 200, "publishing the notice failed: {text}");
            notice
        }

        /// Uploads the eval bench's run, as CI does, passing the standard template's gate: the
        /// evidence the canary's gate reads.
        pub fn upload_passing_eval(&self, server: &Server, id: &str) {
            let (status, text) = self.request(
                server,
                "POST",
                &format!("/api/v1/changes/{id}/eval-results"),
                Some(r#"{"pass_rate": 0.96, "cases": 300, "failures": {"format": 5}}"#),
            );
            assert_eq!(status, 201, "uploading the eval result failed: {text}");
        }

        /// Readies a change in eval for its canary: the passing eval run, a notice to Support
        /// saying `what` changes, and the canary gate signed by this engineer and a PM (what a
        /// standard-risk change needs).
        pub fn ready_for_canary(&self, server: &Server, id: &str, what: &str) {
            self.upload_passing_eval(server, id);
            self.notify_support(server, id, what);
            self.approve(server, id, "engineer");
            login(server, PM).approve(server, id, "pm");
        }

        /// A new standard change titled `title` at its 5 % canary, readied as
        /// [`Session::ready_for_canary`] says; returns its id.
        pub fn change_at_canary(&self, server: &Server, title: &str, what: &str) -> String {
            let id = self.create_change(server, title);
            self.transition(server, &id, "advance", None);
            self.ready_for_canary(server, &id, what);
            self.transition(server, &id, "advance", None);
            id
        }

        /// Approves the change's upcoming gate as `role`.
        pub fn approve(&self, server: &Server, id: &str, role: &str) {
            let (status, gate) =
                self.request(server, "GET", &format!("/api/v1/changes/{id}/gate"), None);
            assert_eq!(status, 200, "{gate}");
            let gate: serde_json::Value = serde_json::from_str(&gate).expect("a JSON body");
            let body = serde_json::json!({
                "decision": "approve",
                "role": role,
                "comment": "Looks right.",
                "revision": gate["revision"],
            });
            let (status, text) = self.request(
                server,
                "POST",
                &format!("/api/v1/changes/{id}/approvals"),
                Some(&body.to_string()),
            );
            assert_eq!(status, 200, "approving as {role} failed: {text}");
        }
    }

    /// The id of the team called `name`.
    pub fn team_id(server: &Server, session: &Session, name: &str) -> String {
        let (status, text) = session.request(server, "GET", "/api/v1/teams", None);
        assert_eq!(status, 200, "teams: {text}");
        let teams: serde_json::Value = serde_json::from_str(&text).expect("teams are JSON");
        teams
            .as_array()
            .and_then(|t| t.iter().find(|t| t["name"] == name))
            .and_then(|t| t["id"].as_str())
            .unwrap_or_else(|| panic!("no team called {name}: {text}"))
            .to_string()
    }

    fn dechunk(mut s: &str) -> String {
        let mut out = String::new();
        while let Some((size, rest)) = s.split_once("\r\n") {
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            if n == 0 || rest.len() < n {
                break;
            }
            out.push_str(&rest[..n]);
            s = rest[n..].trim_start_matches("\r\n");
        }
        out
    }
}
