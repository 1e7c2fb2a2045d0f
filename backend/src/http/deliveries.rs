//! `/api/v1/deliveries`: the webhook delivery log, for admins, and resending one.

use axum::extract::State;
use shared::access::Admins;
use shared::api::ErrorBody;
use shared::notices::Delivery;
use utoipa_axum::router::OpenApiRouter;

use super::authz::Require;
use super::extract::{Json, Path};
use crate::AppState;
use crate::db::{self, audit::Record};
use crate::error::{Error, Result};

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
    let at = db::now();
    let mut tx = db::begin(&state.pool).await?;
    if !db::deliveries::resend(&mut tx, &id, &at).await? {
        return Err(Error::not_found("delivery"));
    }
    let after = db::deliveries::find(&mut tx, &id)
        .await?
        .ok_or_else(|| Error::internal("a delivery vanished in its own transaction"))?;
    db::audit::append(
        &mut tx,
        &Record {
            who: &admin.who(),
            action: "delivery.resend",
            object_type: "delivery",
            object_id: Some(&id),
            before: None,
            after: Some(serde_json::to_value(&after).unwrap_or_default()),
            at: &at,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(after))
}
