//! `/api/v1/changes/{id}/decision`: the decision that ends a change's A/B test.

use axum::extract::State;
use axum::http::StatusCode;
use shared::ab::{AbDecision, AbDecisionInput};
use shared::access::{AnyUser, Editors};
use shared::api::ErrorBody;
use utoipa_axum::router::OpenApiRouter;

use super::authz::Require;
use super::extract::{Json, Path};
use crate::AppState;
use crate::app::decisions;
use crate::error::Result;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(crate::route!(get_decision))
        .routes(crate::route!(record_decision))
}

/// The decision recorded on the change's A/B test, with the comparison report frozen with it;
/// `null` while none is.
#[utoipa::path(
    get,
    path = "/changes/{id}/decision",
    tag = "changes",
    params(("id" = String, Path, description = "The change's id")),
    responses(
        (status = 200, description = "The decision, or null", body = Option<AbDecision>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such change", body = ErrorBody),
    )
)]
async fn get_decision(
    State(state): State<AppState>,
    Path(id): Path<String>,
    _caller: Require<AnyUser>,
) -> Result<Json<Option<AbDecision>>> {
    Ok(Json(decisions::get(&state.pool, &id).await?))
}

/// Ends the change's A/B test once it has run its declared duration: `keep` opens the gate
/// to the next stage, `revert` and `iterate` roll the change back. The report over the A/B
/// step's data is frozen with the decision, who made it and why.
#[utoipa::path(
    post,
    path = "/changes/{id}/decision",
    tag = "changes",
    params(("id" = String, Path, description = "The change's id")),
    request_body = AbDecisionInput,
    responses(
        (status = 201, description = "The decision as recorded", body = AbDecision),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an engineer, PM or admin", body = ErrorBody),
        (status = 404, description = "No such change", body = ErrorBody),
        (status = 409, description = "`conflict`: the change is not in its A/B test, the test \
                                       has not run its declared duration, or it is decided", body = ErrorBody),
        (status = 415, description = "The body is not declared as JSON", body = ErrorBody),
        (status = 422, description = "A field breaks a rule; `field` names it", body = ErrorBody),
    )
)]
async fn record_decision(
    State(state): State<AppState>,
    Path(id): Path<String>,
    actor: Require<Editors>,
    Json(input): Json<AbDecisionInput>,
) -> Result<(StatusCode, Json<AbDecision>)> {
    let d = decisions::decide(&state.pool, &actor.actor(), &id, &input).await?;
    Ok((StatusCode::CREATED, Json(d)))
}
