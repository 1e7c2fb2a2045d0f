//! Rollgate's server: the JSON API under `/api/v1`, the database behind it and the built
//! console around it.
//!
//! [`app()`] is the whole application as a `Router`, so tests drive it without a socket;
//! [`serve`] opens the database, seeds the demo if asked, and listens.
//!
//! Layers: [`http`] extracts and answers, [`app`](mod@app) holds the use cases (what the
//! handlers, the background tasks and the command line call), [`db`] reads and writes rows;
//! pure rules, wording and types are in the `shared` crate.

pub mod accounts;
pub mod app;
pub mod atom;
pub mod db;
pub mod delivery;
pub mod demo;
pub mod demo_traffic;
pub mod error;
pub mod guardian;
pub mod http;
mod server;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use sqlx::AnyPool;

pub use server::{
    Config, DEFAULT_DATABASE_URL, DEMO_DATABASE_URL, ServeError,
    database_url as server_database_url, public_url, serve,
};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: AnyPool,
    pub backend: db::Backend,
    /// The built console (`dist/`), served for every non-API path.
    pub dist: Arc<PathBuf>,
    pub passwords: Arc<accounts::Passwords>,
    /// Mark the session cookie `Secure` (served over TLS, perhaps behind a proxy).
    pub secure_cookies: bool,
    /// Demo mode: the demo accounts and their password are shown on the login page.
    pub demo: bool,
    /// The console's public address (`https://rollgate.example.com`), for absolute links in
    /// feeds and webhook messages.
    pub public_url: Option<Arc<str>>,
    /// Proxies whose `X-Forwarded-For` names the client (see `http::client_ip`).
    pub trusted_proxies: Arc<[http::client_ip::Cidr]>,
    /// Per-session rate limit of the metric aggregate reads (per instance).
    pub read_limit: Arc<http::read_limit::ReadLimit>,
    /// Wakes this instance's guardian after an ingestion batch is stored.
    pub guardian: Arc<tokio::sync::Notify>,
    /// The metric aggregates this instance answered, by version (`http::etag::Answers`).
    pub answers: Arc<http::etag::Answers>,
    /// The flags this instance evaluates from memory (OFREP).
    pub flags: Arc<app::flags::FlagStore>,
}

impl AppState {
    pub fn new(pool: AnyPool, backend: db::Backend, dist: impl Into<PathBuf>) -> Self {
        AppState {
            flags: app::flags::FlagStore::new(&pool),
            pool,
            backend,
            dist: Arc::new(dist.into()),
            passwords: Arc::new(accounts::Passwords::production()),
            secure_cookies: false,
            demo: false,
            public_url: None,
            trusted_proxies: Arc::from([]),
            read_limit: Arc::default(),
            guardian: Arc::default(),
            answers: Arc::default(),
        }
    }

    pub fn with_passwords(mut self, passwords: accounts::Passwords) -> Self {
        self.passwords = Arc::new(passwords);
        self
    }

    pub fn with_secure_cookies(mut self, secure: bool) -> Self {
        self.secure_cookies = secure;
        self
    }

    pub fn with_public_url(mut self, url: Option<String>) -> Self {
        self.public_url = url.map(Into::into);
        self
    }

    pub fn with_trusted_proxies(mut self, proxies: Vec<http::client_ip::Cidr>) -> Self {
        self.trusted_proxies = proxies.into();
        self
    }

    /// Another read limit than 10 requests a second, 20 at once (tests lower it).
    pub fn with_read_limit(mut self, per_second: f64, burst: f64) -> Self {
        self.read_limit = Arc::new(http::read_limit::ReadLimit::new(per_second, burst));
        self
    }

    pub fn with_demo(mut self, demo: bool) -> Self {
        self.demo = demo;
        self
    }
}

/// The application: every route and layer, ready to serve or to test with `oneshot`.
pub fn app(state: AppState) -> Router {
    http::router(state)
}
