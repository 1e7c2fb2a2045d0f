//! `POST /api/v1/changes/{id}/transitions`: advance, skip, roll back, pause or resume a rollout.

use axum::extract::State;
use shared::access::Movers;
use shared::api::{ChangeDetail, ErrorBody, TransitionRequest};
use utoipa_axum::router::OpenApiRouter;

use super::authz::Require;
use super::extract::{Json, Path};
use crate::AppState;
use crate::app::rollout;
use crate::error::Result;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(crate::route!(create_transition))
}

/// Moves the rollout as the state machine allows and records who did it and why. Skipping
/// needs a justification, rolling back and pausing a reason, all in `reason`.
///
/// Pausing holds the rollout at its stage with its traffic as it is: advancing and skipping
/// are refused (409 `illegal_transition`) until someone resumes; rolling back stays open.
///
/// Advancing needs an engineer or admin, skipping an admin, rolling back, pausing and resuming
/// an engineer, approver or admin. Advancing and skipping also need the gate of the stage
/// entered to be signed off (see `GET /changes/{id}/gate`); rolling back never waits for
/// anyone.
#[utoipa::path(
    post,
    path = "/changes/{id}/transitions",
    tag = "changes",
    params(("id" = String, Path, description = "The change's id")),
    request_body = TransitionRequest,
    responses(
        (status = 200, description = "The change after the transition, with its history", body = ChangeDetail),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The action needs another role; or no CSRF token", body = ErrorBody),
        (status = 404, description = "No such change", body = ErrorBody),
        (status = 409, description = "`illegal_transition`: not allowed from this state \
                                       (or paused: resume or roll back); \
                                       `conflict`: the change moved on since `revision`; \
                                       `gate_not_satisfied`: approvals are missing (named in \
                                       the message) or someone rejected", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not declared as JSON", body = ErrorBody),
        (status = 422, description = "Missing justification or reason, or a bad field", body = ErrorBody),
    )
)]
async fn create_transition(
    State(state): State<AppState>,
    Path(id): Path<String>,
    actor: Require<Movers>,
    Json(request): Json<TransitionRequest>,
) -> Result<Json<ChangeDetail>> {
    let moved = rollout::transition(&state.pool, &actor.actor(), &id, &request).await?;
    Ok(Json(moved))
}
