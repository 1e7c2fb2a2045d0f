//! `GET /api/v1/assignments`: which variant one user got from every change live at a moment,
//! recomputed from the stored history (`app::assignments`). Support reads it when a complaint
//! arrives, so every signed-in role may.

use axum::extract::State;
use serde::Deserialize;
use shared::access::AnyUser;
use shared::api::{ErrorBody, UserAssignments};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use super::authz::Require;
use super::extract::{Json, Query};
use crate::AppState;
use crate::app::assignments::{self, Lookup};
use crate::error::Result;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(crate::route!(get_assignments))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct AssignmentsQuery {
    /// The user's targeting key, as the application sends it to OpenFeature; 1–256
    /// characters.
    #[param(required = true, min_length = 1, max_length = 256)]
    targeting_key: Option<String>,
    /// RFC 3339, not in the future: the moment to describe (default now).
    at: Option<String>,
    /// A JSON object of the user's context attributes (`{"plan":"free","locale":"es"}`),
    /// URL-encoded, so that audiences and segments match as they did in the application.
    context: Option<String>,
}

/// What one user got from every change live at a moment, with the changes' notices.
#[utoipa::path(
    get,
    path = "/assignments",
    tag = "changes",
    params(AssignmentsQuery),
    responses(
        (status = 200, description = "One row per change live at `at`, newest change first", body = UserAssignments),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "A missing or too long `targeting_key`, a bad or future `at`, or a `context` that is not a JSON object", body = ErrorBody),
    )
)]
async fn get_assignments(
    State(state): State<AppState>,
    Query(query): Query<AssignmentsQuery>,
    _caller: Require<AnyUser>,
) -> Result<Json<UserAssignments>> {
    let lookup = Lookup {
        targeting_key: query.targeting_key,
        at: query.at,
        context: query.context,
    };
    Ok(Json(assignments::lookup(&state.pool, &lookup).await?))
}
