//! How the server is doing, for `GET /api/v1/health`: load balancers and monitors call it
//! often, and it must answer quickly even when the server is overloaded, which is exactly when
//! it is asked.

use std::time::Duration;

use shared::api::{Health, HealthStatus, PoolHealth};
use sqlx::AnyPool;

use super::flags::FlagStore;
use crate::db::Backend;
use crate::error::Result;

/// How long the check waits for a connection. The pool's own acquire timeout (seconds) is
/// for requests that must get one; a monitor wants an answer, and a pool with no connection
/// free within this is what it should hear about.
pub const POOL_WAIT: Duration = Duration::from_millis(100);

/// The pool's state and, when a connection is had within [`POOL_WAIT`], whether the database
/// answers `SELECT 1` (an error when it does not, so a lost database shows).
pub async fn check(pool: &AnyPool, backend: Backend, flags: &FlagStore) -> Result<Health> {
    let available = match tokio::time::timeout(POOL_WAIT, pool.acquire()).await {
        Ok(conn) => {
            let mut conn = conn?;
            sqlx::query("SELECT 1").execute(&mut *conn).await?;
            true
        }
        Err(_elapsed) => false,
    };
    Ok(Health {
        status: if available {
            HealthStatus::Ok
        } else {
            HealthStatus::Busy
        },
        version: env!("CARGO_PKG_VERSION").to_owned(),
        database: backend.name().to_owned(),
        pool: PoolHealth {
            size: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            max: pool.options().get_max_connections(),
            available,
        },
        flags: flags.health(),
    })
}
