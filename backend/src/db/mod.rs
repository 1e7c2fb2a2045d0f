//! Storage: one connection pool over SQLite or PostgreSQL (sqlx's `Any` driver), the embedded
//! migrations, and the queries, one module per table.
//!
//! The SQL is written once for both databases: `$1` placeholders, TEXT/BIGINT/DOUBLE PRECISION
//! columns and no vendor functions (see `migrations/0001_changes.sql`).
//!
//! This layer does I/O only: it reads and writes rows and says what went wrong as an [`Error`],
//! never as a sentence for people or an HTTP status (those are `shared`'s wording and
//! `crate::error`'s mapping). A new query goes into the module of its table, as a named
//! function (`changes::find(&pool, id)`); the checks around it go to `crate::app`.

pub mod approvals;
pub mod audit;
pub mod changes;
pub mod comments;
pub mod decisions;
pub mod deliveries;
pub mod eval_results;
pub mod figures;
pub mod metrics;
pub mod notices;
pub mod policies;
pub mod reviews;
pub mod rollups;
pub mod teams;
pub mod tokens;
pub mod transitions;
pub mod users;

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};
use time::OffsetDateTime;

/// Which database is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// From a database URL; `None` for schemes we do not support.
    pub fn from_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }

    /// Connections per pool when `--db-pool-size` is not given. SQLite in WAL mode reads on
    /// every connection at once but writes on one at a time (the others wait the busy
    /// timeout), so more connections only help reads, and 8 covers the console's parallel
    /// polls with room for ingestion and the background tasks. PostgreSQL serves reads and
    /// writes alike in parallel; 16 per instance keeps several instances well under its
    /// default `max_connections` of 100.
    pub fn default_pool_size(self) -> u32 {
        match self {
            Backend::Sqlite => 8,
            Backend::Postgres => 16,
        }
    }

    /// The name `GET /api/v1/health` reports.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// What a storage call fails with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A write based on revision `sent` found the row at another revision (`current`), or
    /// gone (`None`): someone else wrote first, and nothing was written.
    #[error("stale revision: sent {sent}, stored {current:?}")]
    Stale { sent: i64, current: Option<i64> },
    /// Something the storage layer cannot go on with: a stored value that does not parse, a
    /// value that does not serialize, the OS random generator failing. For the log only.
    #[error("{0}")]
    Internal(String),
    /// The database failed, or refused a write (a constraint).
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
}

impl Error {
    pub fn internal(context: impl Into<String>) -> Self {
        Error::Internal(context.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("unsupported database URL `{0}`: use sqlite://FILE or postgres://USER@HOST:PORT/DB")]
    UnsupportedUrl(String),
    #[error("cannot open the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot build the metric rollups of stored windows: {0}")]
    Rollups(String),
}

/// Starts a transaction that writes. On SQLite it takes the write lock at once
/// (`BEGIN IMMEDIATE`): a deferred transaction that reads and then writes fails with
/// `SQLITE_BUSY_SNAPSHOT` when another connection committed in between (the busy timeout
/// cannot help it, the snapshot is stale), so a publish racing the delivery worker, or an edit
/// racing metrics ingestion, would end in a 500. PostgreSQL's default transaction is fine.
pub async fn begin(pool: &AnyPool) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Any>> {
    if pool.connect_options().database_url.scheme() == "sqlite" {
        pool.begin_with("BEGIN IMMEDIATE").await
    } else {
        pool.begin().await
    }
}

/// Advisory lock keys, one per piece of work that must happen once across instances.
pub const DEMO_SEED_LOCK: i64 = 7_423_011;
/// Held (session-level) by the instance that runs the guardian's sweeps.
pub const GUARDIAN_LOCK: i64 = 7_423_012;

/// On PostgreSQL, a transaction holding the transaction-level advisory lock `key`: whoever
/// else asks for the same key waits until this transaction ends (commit, rollback or drop), so
/// instances sharing the database take turns. On SQLite there is one instance per file and
/// `None` is answered: an open write transaction there would block the very writes it guards.
pub async fn advisory_xact_lock(
    pool: &AnyPool,
    key: i64,
) -> sqlx::Result<Option<sqlx::Transaction<'static, sqlx::Any>>> {
    if pool.connect_options().database_url.scheme() == "sqlite" {
        return Ok(None);
    }
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(key)
        .execute(&mut *tx)
        .await?;
    Ok(Some(tx))
}

/// Makes the audit log append-only in the database itself, not only in the API: updates and
/// deletes (and, on PostgreSQL, truncation) fail. Trigger syntax differs between the two
/// databases, so this runs after the portable migrations; it is idempotent, and on PostgreSQL
/// it holds an advisory lock so that instances starting together do not race.
async fn protect_audit_log(pool: &AnyPool, backend: Backend) -> sqlx::Result<()> {
    let mut conn = pool.acquire().await?;
    match backend {
        Backend::Sqlite => {
            for op in ["UPDATE", "DELETE"] {
                conn.execute(
                    format!(
                        "CREATE TRIGGER IF NOT EXISTS audit_log_no_{} BEFORE {op} ON audit_log \
                         BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
                        op.to_lowercase()
                    )
                    .as_str(),
                )
                .await?;
            }
        }
        Backend::Postgres => {
            conn.execute("SELECT pg_advisory_lock(7423010)").await?;
            let created = async {
                conn.execute(
                    "CREATE OR REPLACE FUNCTION rollgate_audit_log_append_only() RETURNS trigger \
                     LANGUAGE plpgsql AS $$ BEGIN \
                     RAISE EXCEPTION 'the audit log is append-only'; END $$",
                )
                .await?;
                conn.execute(
                    "CREATE OR REPLACE TRIGGER audit_log_append_only \
                     BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log \
                     FOR EACH STATEMENT EXECUTE FUNCTION rollgate_audit_log_append_only()",
                )
                .await
            }
            .await;
            conn.execute("SELECT pg_advisory_unlock(7423010)").await?;
            created?;
        }
    }
    Ok(())
}

/// Opens a pool on `url` and brings the schema up to date.
///
/// A SQLite file is created when missing (`mode=rwc`) and every SQLite connection gets WAL
/// (readers do not block the writer), enforced foreign keys (off by default in SQLite) and a
/// busy timeout (a second writer waits instead of failing with `SQLITE_BUSY`). The pool holds
/// [`Backend::default_pool_size`] connections at most.
pub async fn connect(url: &str) -> Result<(AnyPool, Backend), ConnectError> {
    connect_with(url, None).await
}

/// [`connect`] with at most `pool_size` connections instead of the backend's default.
pub async fn connect_with(
    url: &str,
    pool_size: Option<u32>,
) -> Result<(AnyPool, Backend), ConnectError> {
    install_default_drivers();
    let backend =
        Backend::from_url(url).ok_or_else(|| ConnectError::UnsupportedUrl(redact(url)))?;
    let url = match backend {
        Backend::Sqlite if !url.contains("mode=") => {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}mode=rwc")
        }
        _ => url.to_owned(),
    };
    let pool = AnyPoolOptions::new()
        .max_connections(pool_size.unwrap_or(backend.default_pool_size()).max(1))
        .acquire_timeout(Duration::from_secs(10))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    for pragma in [
                        "PRAGMA journal_mode = WAL",
                        "PRAGMA foreign_keys = ON",
                        "PRAGMA busy_timeout = 5000",
                    ] {
                        conn.execute(pragma).await?;
                    }
                }
                Ok(())
            })
        })
        .connect(&url)
        .await
        .map_err(ConnectError::Connect)?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    protect_audit_log(&pool, backend)
        .await
        .map_err(ConnectError::Connect)?;
    rollups::backfill(&pool)
        .await
        .map_err(|e| ConnectError::Rollups(e.to_string()))?;
    Ok((pool, backend))
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// A new row id: a UUIDv7, so ids sort by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Now, as stored: RFC 3339 UTC with microseconds and a `Z`.
pub fn now() -> String {
    timestamp(OffsetDateTime::now_utc())
}

/// A fixed-width RFC 3339 UTC timestamp, so that text order is time order in both databases.
pub fn timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_fixed_width_rfc3339() {
        let t = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        assert_eq!(timestamp(t), "2023-11-14T22:13:20.000000Z");
        let parsed = OffsetDateTime::parse(
            &timestamp(t),
            &time::format_description::well_known::Rfc3339,
        )
        .unwrap();
        assert_eq!(parsed, t);
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/rollgate"),
            "postgres://app:***@db:5432/rollgate"
        );
        assert_eq!(redact("sqlite://rollgate.db"), "sqlite://rollgate.db");
    }

    #[test]
    fn backends_from_urls() {
        assert_eq!(Backend::from_url("sqlite://x.db"), Some(Backend::Sqlite));
        assert_eq!(
            Backend::from_url("postgresql://localhost/x"),
            Some(Backend::Postgres)
        );
        assert_eq!(Backend::from_url("mysql://localhost/x"), None);
    }
}
