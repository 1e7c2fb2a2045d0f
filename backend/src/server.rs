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
    /// The built console.
    pub dist: PathBuf,
    /// Mark the session cookie `Secure`: set when Rollgate is reached over HTTPS.
    pub secure_cookies: bool,
}

impl Config {
    /// `database` is the URL given explicitly (flag or environment), if any.
    pub fn new(addr: SocketAddr, database: Option<String>, demo: bool, dist: PathBuf) -> Self {
        let database_url = database_url(database, demo);
        Config {
            addr,
            database_url,
            demo,
            dist,
            secure_cookies: false,
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

    let (pool, backend) = db::connect(&config.database_url).await?;
    tracing::info!(database = %db::redact(&config.database_url), "database ready");
    let passwords = crate::accounts::Passwords::production();
    if config.demo {
        let real = db::users::count_outside_demo(&pool)
            .await
            .map_err(ServeError::Demo)?;
        if real > 0 {
            return Err(ServeError::DemoOnRealData(real));
        }
        if demo::seed(&pool, &passwords)
            .await
            .map_err(ServeError::Demo)?
        {
            tracing::info!("demo workspace seeded with four sample changes");
        } else {
            tracing::info!("demo workspace already has changes; not seeding again");
        }
        tracing::info!(
            password = crate::accounts::DEMO_PASSWORD,
            "demo accounts: admin@demo.rollgate, erin.engineer@demo.rollgate, \
             pat.pm@demo.rollgate, sam.support@demo.rollgate, alex.approver@demo.rollgate, \
             jordan.approver@demo.rollgate"
        );
    } else if db::users::count(&pool).await.map_err(ServeError::Demo)? == 0 {
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
        .with_demo(config.demo);
    let router = app(state);
    let (stop, stopped) = watch::channel(false);
    // The demo's simulated production app sends its windows through this very router.
    let traffic = config
        .demo
        .then(|| demo_traffic::spawn(router.clone(), pool.clone(), stopped.clone()));
    let housekeeping = crate::accounts::spawn_housekeeping(pool.clone(), stopped.clone());
    let deliveries =
        crate::delivery::spawn(pool.clone(), crate::delivery::Config::default(), stopped);
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
