//! How the server is doing, for `GET /api/v1/health`: load balancers and monitors call it
//! often, and it must answer quickly even when the server is overloaded, which is exactly when
//! it is asked.

use shared::api::{Health, HealthStatus, PoolHealth};
use sqlx::AnyPool;

use super::flags::FlagStore;
use crate::db::Backend;
use crate::error::Result;

/// The pool's state and, when a connection is idle at that moment, whether the database
/// answers `SELECT 1` (an error when it does not, so a lost database shows). It never waits
/// for a connection: a pool with none idle is what a monitor should hear about (`busy`), and
/// the requests queued for one must not make the monitor wait too.
pub async fn check(pool: &AnyPool, backend: Backend, flags: &FlagStore) -> Result<Health> {
    let available = match pool.try_acquire() {
        Some(mut conn) => {
            sqlx::query("SELECT 1").execute(&mut *conn).await?;
            true
        }
        None => false,
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
