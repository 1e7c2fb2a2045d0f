//! `/api/v1/changes/{id}/review` (the post-deployment review, also as Markdown) and
//! `/api/v1/changes/{id}/complaints` (what support records against a change).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::access::{AnyUser, Editors};
use shared::api::ErrorBody;
use shared::review::{self, Complaint, ComplaintInput, Review, ReviewInput};
use utoipa_axum::router::OpenApiRouter;

use super::authz::Require;
use super::extract::{Json, Path};
use crate::AppState;
use crate::app::reviews;
use crate::error::Result;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(crate::route!(get_review))
        .routes(crate::route!(write_review))
        .routes(crate::route!(review_markdown))
        .routes(crate::route!(list_complaints))
        .routes(crate::route!(record_complaint))
}

/// The change's post-deployment review: the facts gathered from what is stored (expected
/// against measured, criteria outcomes, holds and rollbacks, time in each stage, notices and
/// acknowledgements, complaints) and, once written, what people added.
#[utoipa::path(
    get,
    path = "/changes/{id}/review",
    tag = "reviews",
    params(("id" = String, Path, description = "The change's id")),
    responses(
        (status = 200, description = "The review", body = Review),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such change", body = ErrorBody),
    )
)]
async fn get_review(
    State(state): State<AppState>,
    Path(id): Path<String>,
    _caller: Require<AnyUser>,
) -> Result<Json<Review>> {
    Ok(Json(reviews::get(&state.pool, &id).await?))
}

/// Writes or edits what people add to the review (what users noticed, lessons, follow-ups),
/// once the change is at Full or rolled back. The move to Reviewed needs it.
#[utoipa::path(
    put,
    path = "/changes/{id}/review",
    tag = "reviews",
    params(("id" = String, Path, description = "The change's id")),
    request_body = ReviewInput,
    responses(
        (status = 200, description = "The review as saved", body = Review),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an engineer, PM or admin", body = ErrorBody),
        (status = 404, description = "No such change", body = ErrorBody),
        (status = 409, description = "`conflict`: the change is not at Full or rolled back, or \
                                       the review moved on since `revision`", body = ErrorBody),
        (status = 422, description = "A field breaks a rule; `field` names it", body = ErrorBody),
    )
)]
async fn write_review(
    State(state): State<AppState>,
    Path(id): Path<String>,
    actor: Require<Editors>,
    Json(input): Json<ReviewInput>,
) -> Result<Json<Review>> {
    Ok(Json(
        reviews::write(&state.pool, &actor.actor(), &id, &input).await?,
    ))
}

/// The review as Markdown, for a wiki page or a ticket.
#[utoipa::path(
    get,
    path = "/changes/{id}/review.md",
    tag = "reviews",
    params(("id" = String, Path, description = "The change's id")),
    responses(
        (status = 200, description = "The review as Markdown", content_type = "text/markdown"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such change", body = ErrorBody),
    )
)]
async fn review_markdown(
    State(state): State<AppState>,
    Path(id): Path<String>,
    _caller: Require<AnyUser>,
) -> Result<Response> {
    let r = reviews::get(&state.pool, &id).await?;
    let file: String = r
        .flag_key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .collect();
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "text/markdown; charset=utf-8".to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"review-{file}.md\""),
            ),
        ],
        review::to_markdown(&r),
    )
        .into_response())
}

/// The complaints recorded against the change, oldest first.
#[utoipa::path(
    get,
    path = "/changes/{id}/complaints",
    tag = "reviews",
    params(("id" = String, Path, description = "The change's id")),
    responses(
        (status = 200, description = "The complaints", body = Vec<Complaint>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such change", body = ErrorBody),
    )
)]
async fn list_complaints(
    State(state): State<AppState>,
    Path(id): Path<String>,
    _caller: Require<AnyUser>,
) -> Result<Json<Vec<Complaint>>> {
    Ok(Json(reviews::complaints(&state.pool, &id).await?))
}

/// Records a user's complaint against the change (support does, from the feed or the user
/// lookup); the variant the user had at that moment is recomputed and stored with it.
#[utoipa::path(
    post,
    path = "/changes/{id}/complaints",
    tag = "reviews",
    params(("id" = String, Path, description = "The change's id")),
    request_body = ComplaintInput,
    responses(
        (status = 201, description = "The complaint as recorded", body = Complaint),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such change", body = ErrorBody),
        (status = 422, description = "A field breaks a rule; `field` names it", body = ErrorBody),
    )
)]
async fn record_complaint(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Require<AnyUser>,
    Json(input): Json<ComplaintInput>,
) -> Result<(StatusCode, Json<Complaint>)> {
    let c = reviews::complain(&state.pool, &caller.actor(), &id, &input).await?;
    Ok((StatusCode::CREATED, Json(c)))
}
