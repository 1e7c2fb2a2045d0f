//! `PUT /api/v1/changes/{id}/flag-rules`: a draft's flag rules (how its audiences and segments
//! are read from an evaluation context, per-segment caps, the holdout). Read with the change:
//! `GET /api/v1/changes/{id}` carries them as `change.flag_rules`.

use axum::extract::State;
use shared::access::Editors;
use shared::api::{ChangeDetail, ErrorBody, FlagRulesUpdate};
use utoipa_axum::router::OpenApiRouter;

use super::authz::Require;
use super::extract::{Json, Path};
use crate::AppState;
use crate::app::flags;
use crate::error::Result;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(crate::route!(set_flag_rules))
}

/// Replaces a draft's flag rules. Like the plan, they are frozen once the rollout starts, so
/// that every answer of the rollout was given by the same rules (the assignment lookup
/// recomputes past answers with them). The edit names the revision it is based on, and
/// resets sign-off: the rules decide who gets the candidate.
#[utoipa::path(
    put,
    path = "/changes/{id}/flag-rules",
    tag = "changes",
    params(("id" = String, Path, description = "The change's id")),
    request_body = FlagRulesUpdate,
    responses(
        (status = 200, description = "The change with its new rules", body = ChangeDetail),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 404, description = "No such change", body = ErrorBody),
        (status = 409, description = "`frozen`: the rollout has started; `conflict`: the change \
                                       moved on since `revision`", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not declared as JSON", body = ErrorBody),
        (status = 422, description = "A rule breaks a limit or names no audience of the plan; \
                                       the field names it, e.g. `rules.audiences[0].any_of`", body = ErrorBody),
    )
)]
async fn set_flag_rules(
    State(state): State<AppState>,
    Path(id): Path<String>,
    actor: Require<Editors>,
    Json(edit): Json<FlagRulesUpdate>,
) -> Result<Json<ChangeDetail>> {
    Ok(Json(
        flags::set_rules(&state.pool, &actor.actor(), &id, &edit).await?,
    ))
}
