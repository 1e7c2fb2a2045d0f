//! `GET /api/v1/health`: is the server up, can it reach its database, and how busy is its
//! connection pool.

use axum::extract::State;
use shared::api::{ErrorBody, Health};
use utoipa_axum::router::OpenApiRouter;

use super::extract::Json;
use crate::error::Result;
use crate::{AppState, app};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(crate::route!(health))
}

/// Server status, version, database kind and connection pool. Answers without waiting for a
/// connection, even when every one is in use: the status is then `busy`, still with 200, because
/// the server is up and will serve requests once connections free up (a 503 would have a load
/// balancer take every instance out at the busiest moment). When a connection is had, the
/// check runs `SELECT 1` on an idle one, so a lost database answers 500.
#[utoipa::path(
    get,
    path = "/health",
    tag = "health",
    responses(
        (status = 200, description = "The server is up: status `ok` when a connection was had \
         at once and the database answered, `busy` when every pool connection is in use", body = Health),
        (status = 500, description = "The database does not answer", body = ErrorBody),
    )
)]
async fn health(State(state): State<AppState>) -> Result<Json<Health>> {
    Ok(Json(
        app::health::check(&state.pool, state.backend, &state.flags).await?,
    ))
}
