//! `/api/v1/changes/{id}/comments` (the discussion on a change) and `/api/v1/mentions` (the
//! comments that mention a team of the caller).

use axum::extract::State;
use axum::http::StatusCode;
use shared::access::AnyUser;
use shared::api::ErrorBody;
use shared::comments::{Comment, NewComment};
use utoipa_axum::router::OpenApiRouter;

use super::authz::Require;
use super::extract::{Json, Path};
use crate::AppState;
use crate::app::comments;
use crate::error::Result;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(crate::route!(list_comments))
        .routes(crate::route!(post_comment))
        .routes(crate::route!(my_mentions))
}

/// The discussion on the change, oldest first.
#[utoipa::path(
    get,
    path = "/changes/{id}/comments",
    tag = "comments",
    params(("id" = String, Path, description = "The change's id")),
    responses(
        (status = 200, description = "The comments", body = Vec<Comment>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such change", body = ErrorBody),
    )
)]
async fn list_comments(
    State(state): State<AppState>,
    Path(id): Path<String>,
    _caller: Require<AnyUser>,
) -> Result<Json<Vec<Comment>>> {
    Ok(Json(comments::list(&state.pool, &id).await?))
}

/// Adds a comment to the change's discussion; anyone signed in may. `@team` (the team's name
/// in lower case, other characters as `-`: `@support`, `@trust-safety`) mentions a team: its
/// members see the comment in their feed and its webhook receives it.
#[utoipa::path(
    post,
    path = "/changes/{id}/comments",
    tag = "comments",
    params(("id" = String, Path, description = "The change's id")),
    request_body = NewComment,
    responses(
        (status = 201, description = "The comment as stored", body = Comment),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "A service token, not a person", body = ErrorBody),
        (status = 404, description = "No such change", body = ErrorBody),
        (status = 422, description = "`text` is blank, longer than 4 000 characters, or \
                                       mentions a team that does not exist", body = ErrorBody),
    )
)]
async fn post_comment(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Require<AnyUser>,
    Json(input): Json<NewComment>,
) -> Result<(StatusCode, Json<Comment>)> {
    let c = comments::post(&state.pool, &caller.actor(), &id, &input).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// The comments of the last 14 days that mention a team the caller is in, newest first (at
/// most 50).
#[utoipa::path(
    get,
    path = "/mentions",
    tag = "comments",
    responses(
        (status = 200, description = "The comments", body = Vec<Comment>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
async fn my_mentions(
    State(state): State<AppState>,
    caller: Require<AnyUser>,
) -> Result<Json<Vec<Comment>>> {
    let actor = caller.actor();
    let Some(user_id) = actor.user_id() else {
        return Ok(Json(Vec::new()));
    };
    Ok(Json(comments::mentions(&state.pool, user_id).await?))
}
