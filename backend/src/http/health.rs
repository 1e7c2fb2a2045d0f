//! `GET /api/v1/health`: is the server up and can it reach its database.

use axum::extract::State;
use shared::api::{ErrorBody, Health};
use utoipa_axum::router::OpenApiRouter;

use super::extract::Json;
use crate::AppState;
use crate::error::Result;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(crate::route!(health))
}

/// Server status, version and database kind; runs `SELECT 1` so a lost database shows.
#[utoipa::path(
    get,
    path = "/health",
    tag = "health",
    responses(
        (status = 200, description = "The server and its database answer", body = Health),
        (status = 500, description = "The database does not answer", body = ErrorBody),
    )
)]
async fn health(State(state): State<AppState>) -> Result<Json<Health>> {
    sqlx::query("SELECT 1").execute(&state.pool).await?;
    Ok(Json(Health {
        status: "ok".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        database: state.backend.name().to_owned(),
    }))
}
