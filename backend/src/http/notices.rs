//! Notices to teams about a change (`/changes/{id}/notices`, `/notices/…`): drafting,
//! publishing, revising a published notice, acknowledgements by a team and read marks per
//! user.
//!
//! The rules (revisions, who may acknowledge) are `app::notices`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::access::{AnyUser, Editors};
use shared::api::ErrorBody;
use shared::notices::{AcknowledgeBody, Notice, NoticeInput, UnreadNotices};
use utoipa_axum::router::OpenApiRouter;

use super::authz::Require;
use super::extract::{Json, Path};
use crate::AppState;
use crate::app::notices;
use crate::error::Result;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(crate::route!(list_notices))
        .routes(crate::route!(create_notice))
        .routes(crate::route!(update_notice))
        .routes(crate::route!(publish_notice))
        .routes(crate::route!(acknowledge))
        .routes(crate::route!(mark_read))
        .routes(crate::route!(unread))
}

/// A change's notices, newest first, with audiences and acknowledgements.
#[utoipa::path(
    get,
    path = "/changes/{id}/notices",
    tag = "notices",
    params(("id" = String, Path, description = "The change's id")),
    responses(
        (status = 200, description = "The notices", body = Vec<Notice>),
        (status = 404, description = "No such change", body = ErrorBody),
    )
)]
async fn list_notices(
    State(state): State<AppState>,
    Path(id): Path<String>,
    _caller: Require<AnyUser>,
) -> Result<Json<Vec<Notice>>> {
    Ok(Json(notices::list(&state.pool, &id).await?))
}

/// Drafts a notice about the change; nobody is told until it is published.
#[utoipa::path(
    post,
    path = "/changes/{id}/notices",
    tag = "notices",
    params(("id" = String, Path, description = "The change's id")),
    request_body = NoticeInput,
    responses(
        (status = 201, description = "The draft", body = Notice,
         headers(("Location" = String, description = "The notice's URL"))),
        (status = 403, description = "Not an engineer, PM or admin", body = ErrorBody),
        (status = 404, description = "No such change", body = ErrorBody),
        (status = 422, description = "No audience, no text, an unknown team or a bad date", body = ErrorBody),
    )
)]
async fn create_notice(
    State(state): State<AppState>,
    Path(id): Path<String>,
    user: Require<Editors>,
    Json(input): Json<NoticeInput>,
) -> Result<Response> {
    let notice = notices::create(&state.pool, &user.actor(), &id, &input).await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/notices/{}", notice.id))],
        Json(notice),
    )
        .into_response())
}

/// Edits a notice. A draft is rewritten in place. A published notice gets a new published
/// revision (answered here, with its own id) and becomes `superseded`; its acknowledgements
/// stay with it, so every audience team is asked to acknowledge again. A superseded notice
/// cannot be edited (409): edit its newest revision.
#[utoipa::path(
    put,
    path = "/notices/{id}",
    tag = "notices",
    params(("id" = String, Path, description = "The notice's id")),
    request_body = NoticeInput,
    responses(
        (status = 200, description = "The draft, or the new published revision", body = Notice),
        (status = 404, description = "No such notice", body = ErrorBody),
        (status = 409, description = "A superseded notice, or a concurrent edit", body = ErrorBody),
        (status = 422, description = "No audience, no text, an unknown team or a bad date", body = ErrorBody),
    )
)]
async fn update_notice(
    State(state): State<AppState>,
    Path(id): Path<String>,
    user: Require<Editors>,
    Json(input): Json<NoticeInput>,
) -> Result<Json<Notice>> {
    Ok(Json(
        notices::update(&state.pool, &user.actor(), &id, &input).await?,
    ))
}

/// Publishes a draft: its audience teams see it (unread counts, Atom feeds) and are asked
/// to acknowledge it.
#[utoipa::path(
    post,
    path = "/notices/{id}/publish",
    tag = "notices",
    params(("id" = String, Path, description = "The notice's id")),
    responses(
        (status = 200, description = "The published notice", body = Notice),
        (status = 404, description = "No such notice", body = ErrorBody),
        (status = 409, description = "Not a draft", body = ErrorBody),
    )
)]
async fn publish_notice(
    State(state): State<AppState>,
    Path(id): Path<String>,
    user: Require<Editors>,
) -> Result<Json<Notice>> {
    Ok(Json(
        notices::publish(&state.pool, &user.actor(), &id).await?,
    ))
}

/// Acknowledges a published notice for a team of its audience; the caller must be a member
/// of that team. A team acknowledges once: a repeat answers the notice unchanged.
#[utoipa::path(
    post,
    path = "/notices/{id}/acknowledgements",
    tag = "notices",
    params(("id" = String, Path, description = "The notice's id")),
    request_body = AcknowledgeBody,
    responses(
        (status = 200, description = "The notice with its acknowledgements", body = Notice),
        (status = 403, description = "Not a member of that team", body = ErrorBody),
        (status = 404, description = "No such notice", body = ErrorBody),
        (status = 409, description = "Not published (a draft, or superseded)", body = ErrorBody),
        (status = 422, description = "The team is not in the notice's audience", body = ErrorBody),
    )
)]
async fn acknowledge(
    State(state): State<AppState>,
    Path(id): Path<String>,
    user: Require<AnyUser>,
    Json(body): Json<AcknowledgeBody>,
) -> Result<Json<Notice>> {
    let notice = notices::acknowledge(&state.pool, &user.actor(), &id, &body.team_id).await?;
    Ok(Json(notice))
}

/// Marks a notice read by the signed-in user (it leaves their unread list). Repeats are
/// harmless.
#[utoipa::path(
    post,
    path = "/notices/{id}/read",
    tag = "notices",
    params(("id" = String, Path, description = "The notice's id")),
    responses(
        (status = 204, description = "Marked read"),
        (status = 404, description = "No such notice", body = ErrorBody),
    )
)]
async fn mark_read(
    State(state): State<AppState>,
    Path(id): Path<String>,
    user: Require<AnyUser>,
) -> Result<StatusCode> {
    notices::mark_read(&state.pool, &user.user.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Published notices to the signed-in user's teams that they have not read, or that one of
/// their teams has still to acknowledge (reading does not end that), newest first.
#[utoipa::path(
    get,
    path = "/notices/unread",
    tag = "notices",
    responses(
        (status = 200, description = "The unread notices", body = UnreadNotices),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
async fn unread(
    State(state): State<AppState>,
    user: Require<AnyUser>,
) -> Result<Json<UnreadNotices>> {
    Ok(Json(notices::unread(&state.pool, &user.user.id).await?))
}
