//! `/api/v1/deliveries`: the webhook delivery log, for admins, and resending one.

use axum::extract::State;
use shared::access::Admins;
use shared::api::ErrorBody;
use shared::notices::Delivery;
use utoipa_axum::router::OpenApiRouter;

use super::authz::Require;
use super::extract::{Json, Path};
use crate::AppState;
use crate::app::notices;
use crate::db;
use crate::error::Result;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(crate::route!(list_deliveries))
        .routes(crate::route!(resend))
}

/// The newest 500 webhook deliveries: status, attempts, last error, next attempt.
#[utoipa::path(
    get,
    path = "/deliveries",
    tag = "notices",
    responses(
        (status = 200, description = "The deliveries, newest first", body = Vec<Delivery>),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
async fn list_deliveries(
    State(state): State<AppState>,
    _caller: Require<Admins>,
) -> Result<Json<Vec<Delivery>>> {
    Ok(Json(db::deliveries::list(&state.pool, 500).await?))
}

/// Queues a delivery again from its first attempt (e.g. after fixing the receiver).
#[utoipa::path(
    post,
    path = "/deliveries/{id}/resend",
    tag = "notices",
    params(("id" = String, Path, description = "The delivery's id")),
    responses(
        (status = 200, description = "The delivery, pending again", body = Delivery),
        (status = 404, description = "No such delivery", body = ErrorBody),
    )
)]
async fn resend(
    State(state): State<AppState>,
    Path(id): Path<String>,
    admin: Require<Admins>,
) -> Result<Json<Delivery>> {
    Ok(Json(
        notices::resend_delivery(&state.pool, &admin.actor(), &id).await?,
    ))
}
