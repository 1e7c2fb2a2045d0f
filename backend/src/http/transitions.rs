//! `POST /api/v1/changes/{id}/transitions`: advance, skip or roll back a rollout.

use axum::extract::State;
use shared::api::{ChangeDetail, ErrorBody, TransitionRequest};
use shared::{rollout, validate};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::actor::Actor;
use super::changes::{ActorHeader, detail, find, stale};
use super::extract::{Json, Path};
use crate::AppState;
use crate::db;
use crate::db::transitions::NewTransition;
use crate::error::Result;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_transition))
}

/// Moves the rollout as the state machine allows and records who did it and why. Skipping
/// needs a justification and rolling back a reason, both in `reason`.
#[utoipa::path(
    post,
    path = "/changes/{id}/transitions",
    tag = "changes",
    params(("id" = String, Path, description = "The change's id"), ActorHeader),
    request_body = TransitionRequest,
    responses(
        (status = 200, description = "The change after the transition, with its history", body = ChangeDetail),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 404, description = "No such change", body = ErrorBody),
        (status = 409, description = "`illegal_transition`: not allowed from this state; \
                                       `conflict`: the change moved on since `revision`", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not declared as JSON", body = ErrorBody),
        (status = 422, description = "Missing justification or reason, or a bad field", body = ErrorBody),
    )
)]
async fn create_transition(
    State(state): State<AppState>,
    Path(id): Path<String>,
    actor: Actor,
    Json(request): Json<TransitionRequest>,
) -> Result<Json<ChangeDetail>> {
    let change = find(&state.pool, &id).await?;
    validate::reason(request.reason.as_deref())?;
    if let Some(sent) = request.revision
        && sent != change.revision
    {
        return Err(stale(sent, change.revision));
    }
    let to = rollout::transition(
        &change.plan,
        change.state,
        request.action,
        request.reason.as_deref(),
    )?;
    let reason = request
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    let at = db::now();
    let moved = db::transitions::record(
        &state.pool,
        &change,
        change.revision,
        &NewTransition {
            action: request.action,
            to,
            actor: actor.as_str(),
            reason,
            at: &at,
        },
    )
    .await?;
    tracing::info!(%actor, %id, from = change.state.name(), to = to.name(), "rollout moved");
    Ok(Json(detail(&state.pool, moved).await?))
}
