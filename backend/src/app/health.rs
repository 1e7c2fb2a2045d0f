//! How the server is doing, for `GET /api/v1/health`: load balancers and monitors call it
//! often, and it must answer quickly even when the server is overloaded, which is exactly when
//! it is asked.

use std::time::Duration;

use shared::api::{Health, HealthStatus, PoolHealth};
use sqlx::AnyPool;

use super::flags::FlagStore;
use crate::db::Backend;
use crate::error::Result;

/// How long health waits for a new connection when the pool has room for one: opening a
/// connection takes milliseconds; longer means the database is in trouble, which `busy` says.
const OPEN_WITHIN: Duration = Duration::from_secs(1);

/// The pool's state and, when a connection can be had at once, whether the database answers
/// `SELECT 1` (an error when it does not, so a lost database shows). It never queues for a
/// connection: a pool whose every connection is in use is what a monitor should hear about
/// (`busy`), and the requests queued for one must not make the monitor wait too. A pool with
/// room to grow is not busy: health opens a connection then, as any request would (a pool
/// that has just started, or whose last connection is still on its way back, has none idle).
pub async fn check(pool: &AnyPool, backend: Backend, flags: &FlagStore) -> Result<Health> {
    let conn = match pool.try_acquire() {
        Some(conn) => Some(conn),
        None if pool.size() < pool.options().get_max_connections() => {
            tokio::time::timeout(OPEN_WITHIN, pool.acquire())
                .await
                .ok()
                .transpose()?
        }
        None => None,
    };
    let available = match conn {
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
