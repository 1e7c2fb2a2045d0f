//! Booting the server: open the database, seed the demo if asked, listen, and stop cleanly on
//! SIGINT or SIGTERM.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::db::{self, ConnectError};
use crate::{AppState, app, demo, demo_traffic};

/// Where data lives unless told otherwise: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://rollgate.db";
/// The demo's own file, so trying the demo never mixes sample changes into real ones.
pub const DEMO_DATABASE_URL: &str = "sqlite://rollgate-demo.db";

/// The database URL when none is given: the demo's own file in demo mode.
pub fn database_url(database: Option<String>, demo: bool) -> String {
    database.unwrap_or_else(|| {
        if demo {
            DEMO_DATABASE_URL
        } else {
            DEFAULT_DATABASE_URL
        }
        .to_owned()
    })
}

/// How `rollgate serve` runs.
#[derive(Debug, Clone)]
pub struct Config {
    pub addr: SocketAddr,
    pub database_url: String,
    pub demo: bool,
    /// With `demo`, also seed four months of finished changes (the figures' history).
    pub demo_history: bool,
    /// The built console.
    pub dist: PathBuf,
    /// Mark the session cookie `Secure`: set when Rollgate is reached over HTTPS.
    pub secure_cookies: bool,
    /// The console's public address, checked by [`public_url`].
    pub public_url: Option<String>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<crate::http::client_ip::Cidr>,
    /// Connections in the pool; `None` for the database's default
    /// ([`db::Backend::default_pool_size`]).
    pub db_pool_size: Option<u32>,
    /// Requests a second per session on the expensive reads (bursts of twice as many);
    /// `None` for [`crate::http::read_limit::DEFAULT_RATE`] and its burst.
    pub read_rate_limit: Option<u32>,
    /// Run the guardian (automatic rollback on a breached criterion).
    pub guardian: bool,
    /// Length of the demo traffic's windows, seconds ([`demo_traffic::WINDOW`] by default).
    pub demo_window_seconds: i64,
}

/// A public address as `--public-url` takes it: `http(s)://host[:port][/path]`, without a
/// query or fragment; a trailing slash is dropped.
pub fn public_url(s: &str) -> Result<String, String> {
    let s = s.trim().trim_end_matches('/');
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or_else(|| format!("`{s}` is not an http:// or https:// address"))?;
    let host = rest.split('/').next().unwrap_or("");
    if host.is_empty() || host.contains('@') {
        return Err(format!("`{s}` names no host"));
    }
    if s.contains(['?', '#']) || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "`{s}` must be a plain address, without spaces, query or fragment"
        ));
    }
    Ok(s.to_owned())
}

impl Config {
    /// `database` is the URL given explicitly (flag or environment), if any.
    pub fn new(addr: SocketAddr, database: Option<String>, demo: bool, dist: PathBuf) -> Self {
        let database_url = database_url(database, demo);
        Config {
            addr,
            database_url,
            demo,
            demo_history: false,
            dist,
            secure_cookies: false,
            public_url: None,
            trusted_proxies: Vec::new(),
            db_pool_size: None,
            read_rate_limit: None,
            guardian: true,
            demo_window_seconds: demo_traffic::WINDOW,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "cannot listen on {addr}: {source}{}",
        if source.kind() == io::ErrorKind::AddrInUse {
            " (is another Rollgate running? pick a free address with --addr or ROLLGATE_ADDR)"
        } else {
            ""
        }
    )]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Database(#[from] ConnectError),
    #[error("cannot seed the demo workspace: {0}")]
    Demo(#[source] crate::error::Error),
    #[error(
        "refusing --demo: this database has {0} real account(s), and demo mode adds accounts \
         whose password is published on the login page; use the demo's own database \
         (leave out --database) or a new one"
    )]
    DemoOnRealData(i64),
    #[error("the server stopped with an error: {0}")]
    Serve(#[source] io::Error),
}

/// Runs the server until SIGINT or SIGTERM, then lets in-flight requests finish.
pub async fn serve(config: Config) -> Result<(), ServeError> {
    // Bind first: a taken port should fail at once, before any database work.
    let listener = TcpListener::bind(config.addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: config.addr,
            source,
        })?;
    let addr = listener.local_addr().unwrap_or(config.addr);

    let (pool, backend) = db::connect_with(&config.database_url, config.db_pool_size).await?;
    tracing::info!(database = %db::redact(&config.database_url), "database ready");
    let passwords = crate::accounts::Passwords::production();
    if config.demo {
        let real = db::users::count_outside_demo(&pool)
            .await
            .map_err(|e| ServeError::Demo(e.into()))?;
        if real > 0 {
            return Err(ServeError::DemoOnRealData(real));
        }
        if demo::seed(&pool, &passwords, config.demo_history)
            .await
            .map_err(ServeError::Demo)?
        {
            tracing::info!(
                history = config.demo_history,
                "demo workspace seeded with four sample changes"
            );
        } else {
            tracing::info!("demo workspace already has changes; not seeding again");
        }
        tracing::info!(
            password = crate::accounts::DEMO_PASSWORD,
            "demo accounts: admin@demo.rollgate, erin.engineer@demo.rollgate, \
             pat.pm@demo.rollgate, sam.support@demo.rollgate, alex.approver@demo.rollgate, \
             jordan.approver@demo.rollgate"
        );
    } else if db::users::count(&pool)
        .await
        .map_err(|e| ServeError::Demo(e.into()))?
        == 0
    {
        tracing::warn!(
            "no accounts yet: create an admin with `rollgate user add --email … --name … \
             --role admin`"
        );
    }
    if !config.dist.join("index.html").is_file() {
        tracing::warn!(
            dist = %config.dist.display(),
            "the console is not built (no index.html); run `cargo xtask build`"
        );
    }

    let state = AppState::new(pool.clone(), backend, config.dist)
        .with_passwords(passwords)
        .with_secure_cookies(config.secure_cookies)
        .with_public_url(config.public_url.clone())
        .with_trusted_proxies(config.trusted_proxies.clone())
        .with_demo(config.demo);
    let state = match config.read_rate_limit {
        Some(rate) => state.with_read_limit(f64::from(rate), 2.0 * f64::from(rate)),
        None => state,
    };
    // Read the flags before serving, so that the first evaluation is answered from memory.
    if let Err(e) = state.flags.rebuild(&pool).await {
        tracing::warn!(error = %e, "could not read the flags yet; the background sync retries");
    }
    let flags = state.flags.clone();
    let wake_guardian = state.guardian.clone();
    let router = app(state);
    let (stop, stopped) = watch::channel(false);
    let flag_sync = crate::app::flags::spawn_sync(
        flags,
        pool.clone(),
        config.database_url.clone(),
        stopped.clone(),
    );
    let guardian = config
        .guardian
        .then(|| crate::guardian::spawn(pool.clone(), wake_guardian, stopped.clone()));
    if !config.guardian {
        tracing::warn!("the guardian is off: breached criteria are not rolled back automatically");
    }
    // The demo's simulated production app sends its windows through this very router.
    let traffic = config.demo.then(|| {
        demo_traffic::spawn(
            router.clone(),
            pool.clone(),
            config.demo_window_seconds,
            stopped.clone(),
        )
    });
    let housekeeping = crate::accounts::spawn_housekeeping(pool.clone(), stopped.clone());
    if config.public_url.is_none() {
        tracing::info!(
            "no --public-url: webhook messages carry no link to the change, feed links are relative"
        );
    }
    let delivery_config = crate::delivery::Config {
        public_url: config.public_url.clone(),
        ..Default::default()
    };
    let deliveries = crate::delivery::spawn(pool.clone(), delivery_config, stopped);
    println!("Rollgate console on http://{addr}");
    // The peer address feeds the per-address sign-in limit and the audit log.
    let served = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        let _ = stop.send(true);
    })
    .await;
    if let Some(task) = traffic
        && let Err(e) = task.await
    {
        tracing::error!(error = %e, "the demo traffic task failed");
    }
    if let Some(task) = guardian
        && let Err(e) = task.await
    {
        tracing::error!(error = %e, "the guardian task failed");
    }
    if let Err(e) = flag_sync.await {
        tracing::error!(error = %e, "the flag sync task failed");
    }
    if let Err(e) = housekeeping.await {
        tracing::error!(error = %e, "the housekeeping task failed");
    }
    if let Err(e) = deliveries.await {
        tracing::error!(error = %e, "the webhook delivery worker failed");
    }
    served.map_err(ServeError::Serve)?;
    pool.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let interrupt = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_are_plain_http_addresses() {
        assert_eq!(
            public_url("https://rollgate.example.com/").unwrap(),
            "https://rollgate.example.com"
        );
        assert_eq!(
            public_url("http://10.0.0.5:8080/rollgate").unwrap(),
            "http://10.0.0.5:8080/rollgate"
        );
        for bad in [
            "rollgate.example.com",
            "ftp://x",
            "https://",
            "https://a b",
            "https://x/?q=1",
            "https://user@x",
        ] {
            assert!(public_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn demo_gets_its_own_database_unless_one_is_given() {
        let addr: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let c = Config::new(addr, None, false, "dist".into());
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        let c = Config::new(addr, None, true, "dist".into());
        assert_eq!(c.database_url, DEMO_DATABASE_URL);
        let c = Config::new(addr, Some("postgres://x/y".into()), true, "dist".into());
        assert_eq!(c.database_url, "postgres://x/y");
    }
}
