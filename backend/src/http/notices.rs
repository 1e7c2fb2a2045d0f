//! Notices to teams about a change (`/changes/{id}/notices`, `/notices/…`): drafting,
//! publishing, revising a published notice, acknowledgements by a team and read marks per
//! user.
//!
//! A published notice is never rewritten: an edit publishes a new revision and supersedes the
//! old one, so an acknowledgement always stays with the text that was acknowledged and the
//! audience is asked again.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::access::{AnyUser, Editors};
use shared::api::ErrorBody;
use shared::notices::{
    self, AcknowledgeBody, Notice, NoticeInput, NoticeKind, NoticeStatus, UnreadNotices,
};
use sqlx::AnyConnection;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa_axum::router::OpenApiRouter;

use super::authz::{AuthUser, Require};
use super::extract::{Json, Path};
use crate::AppState;
use crate::app::changes::find as find_change;
use crate::db::{self, audit::Record, notices::NewNotice};
use crate::error::{Error, Result};

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
    find_change(&state.pool, &id).await?;
    let mut conn = state.pool.acquire().await?;
    Ok(Json(db::notices::for_change(&mut conn, &id).await?))
}

/// Checks a notice's input against the rules and the stored teams; the stage as stored.
async fn checked(conn: &mut AnyConnection, input: &NoticeInput) -> Result<Option<String>> {
    notices::validate_notice(input)?;
    if let Some(at) = &input.planned_at
        && OffsetDateTime::parse(at, &Rfc3339).is_err()
    {
        return Err(Error::validation(
            "planned_at",
            "give the date as RFC 3339, e.g. 2026-12-01T09:00:00Z",
        ));
    }
    for (i, team) in input.audience.iter().enumerate() {
        if db::teams::find(conn, team).await?.is_none() {
            return Err(Error::validation(
                format!("audience[{i}]"),
                format!("no team has the id `{team}`"),
            ));
        }
    }
    Ok(input
        .planned_stage
        .map(|s| serde_json::to_string(&s).unwrap_or_default()))
}

fn unique(ids: &[String]) -> Vec<String> {
    let mut v = ids.to_vec();
    v.sort();
    v.dedup();
    v
}

async fn audit(
    conn: &mut AnyConnection,
    user: &AuthUser,
    action: &str,
    before: Option<&Notice>,
    after: &Notice,
    at: &str,
) -> Result<()> {
    Ok(db::audit::append(
        conn,
        &Record {
            who: &user.who(),
            action,
            object_type: "notice",
            object_id: Some(&after.id),
            before: before.map(|b| serde_json::to_value(b).unwrap_or_default()),
            after: Some(serde_json::to_value(after).unwrap_or_default()),
            at,
        },
    )
    .await?)
}

async fn reload(conn: &mut AnyConnection, id: &str) -> Result<Notice> {
    db::notices::find(conn, id)
        .await?
        .ok_or_else(|| Error::internal("a notice vanished in its own transaction"))
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
    find_change(&state.pool, &id).await?;
    let at = db::now();
    let mut tx = db::begin(&state.pool).await?;
    let stage = checked(&mut tx, &input).await?;
    let audience = unique(&input.audience);
    let notice_id = db::notices::insert(
        &mut tx,
        &NewNotice {
            change_id: &id,
            previous_id: None,
            status: NoticeStatus::Draft,
            kind: NoticeKind::Manual,
            audience: &audience,
            planned_at: input.planned_at.as_deref(),
            planned_stage: stage,
            expected_changes: input.expected_changes.trim(),
            talking_points: input.talking_points.trim(),
            created_by: Some(&user.user.id),
            at: &at,
        },
    )
    .await?;
    let notice = reload(&mut tx, &notice_id).await?;
    audit(&mut tx, &user, "notice.create", None, &notice, &at).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/notices/{notice_id}"))],
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
    let at = db::now();
    let mut tx = db::begin(&state.pool).await?;
    let before = db::notices::find(&mut tx, &id)
        .await?
        .ok_or_else(|| Error::not_found("notice"))?;
    let stage = checked(&mut tx, &input).await?;
    let audience = unique(&input.audience);
    let new = NewNotice {
        change_id: &before.change_id,
        previous_id: Some(&id),
        status: NoticeStatus::Published,
        kind: before.kind,
        audience: &audience,
        planned_at: input.planned_at.as_deref(),
        planned_stage: stage,
        expected_changes: input.expected_changes.trim(),
        talking_points: input.talking_points.trim(),
        created_by: Some(&user.user.id),
        at: &at,
    };
    let after_id = match before.status {
        NoticeStatus::Draft => {
            if !db::notices::update_draft(&mut tx, &id, &new).await? {
                return Err(Error::conflict(
                    "the notice was published meanwhile; reload",
                ));
            }
            id.clone()
        }
        NoticeStatus::Published => {
            if !db::notices::set_status(
                &mut tx,
                &id,
                NoticeStatus::Published,
                NoticeStatus::Superseded,
                &at,
            )
            .await?
            {
                return Err(Error::conflict("the notice was revised meanwhile; reload"));
            }
            let revision = db::notices::insert(&mut tx, &new).await?;
            db::deliveries::enqueue(&mut tx, &revision, &at).await?;
            revision
        }
        NoticeStatus::Superseded => {
            return Err(Error::conflict(
                "this notice was replaced by a newer revision; edit that one",
            ));
        }
    };
    let after = reload(&mut tx, &after_id).await?;
    audit(&mut tx, &user, "notice.update", Some(&before), &after, &at).await?;
    tx.commit().await?;
    Ok(Json(after))
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
    let at = db::now();
    let mut tx = db::begin(&state.pool).await?;
    let before = db::notices::find(&mut tx, &id)
        .await?
        .ok_or_else(|| Error::not_found("notice"))?;
    if !db::notices::set_status(
        &mut tx,
        &id,
        NoticeStatus::Draft,
        NoticeStatus::Published,
        &at,
    )
    .await?
    {
        return Err(Error::conflict(format!(
            "only a draft can be published; this notice is {}",
            before.status.as_str()
        )));
    }
    let after = reload(&mut tx, &id).await?;
    db::deliveries::enqueue(&mut tx, &id, &at).await?;
    audit(&mut tx, &user, "notice.publish", Some(&before), &after, &at).await?;
    tx.commit().await?;
    Ok(Json(after))
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
    let at = db::now();
    let mut tx = db::begin(&state.pool).await?;
    let before = db::notices::find(&mut tx, &id)
        .await?
        .ok_or_else(|| Error::not_found("notice"))?;
    if before.status != NoticeStatus::Published {
        return Err(Error::conflict(format!(
            "only a published notice can be acknowledged; this one is {}",
            before.status.as_str()
        )));
    }
    let Some(team) = before.audience.iter().find(|a| a.team_id == body.team_id) else {
        return Err(Error::validation(
            "team_id",
            "this team is not in the notice's audience",
        ));
    };
    if !db::teams::is_member(&mut tx, &body.team_id, &user.user.id).await? {
        return Err(Error::forbidden(format!(
            "only a member of {} can acknowledge for it",
            team.team_name
        )));
    }
    if db::notices::acknowledge(&mut tx, &id, &body.team_id, &user.user.id, &at).await? {
        let after = reload(&mut tx, &id).await?;
        audit(
            &mut tx,
            &user,
            "notice.acknowledge",
            Some(&before),
            &after,
            &at,
        )
        .await?;
        tx.commit().await?;
        return Ok(Json(after));
    }
    tx.commit().await?;
    Ok(Json(before))
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
    let mut conn = state.pool.acquire().await?;
    if db::notices::find(&mut conn, &id).await?.is_none() {
        return Err(Error::not_found("notice"));
    }
    db::notices::mark_read(&mut conn, &id, &user.user.id, &db::now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Published notices to the signed-in user's teams that they have not read, newest first.
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
    let mut conn = state.pool.acquire().await?;
    let items = db::notices::unread(&mut conn, &user.user.id).await?;
    Ok(Json(UnreadNotices {
        count: items.len(),
        items,
    }))
}
