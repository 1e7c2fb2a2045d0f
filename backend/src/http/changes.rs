//! `/api/v1/changes`: list, create, read and edit AI changes.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shared::access::{AnyUser, Editors};
use shared::api::{ChangeDetail, ChangePage, ChangeUpdate, ErrorBody, NewChange};
use shared::change::ChangeKind;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use super::authz::Require;
use super::extract::{Json, Path, Query};
use crate::AppState;
use crate::app::changes;
use crate::error::Result;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(crate::route!(list_changes))
        .routes(crate::route!(create_change))
        .routes(crate::route!(get_change))
        .routes(crate::route!(update_change))
}

/// Filters and paging of the change list. Empty values count as absent.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only changes in this state: draft, eval, canary, ramp, full, reviewed or rolled_back.
    state: Option<String>,
    /// Only changes of this kind.
    kind: Option<ChangeKind>,
    /// Only the change with this flag key (flag keys are unique, so at most one).
    flag_key: Option<String>,
    /// Words searched in titles, flag keys and product areas, ignoring case; at most 200
    /// characters.
    q: Option<String>,
    /// `newest` (default), `title`, or `health` (Breach and Held first, Pass last).
    #[param(inline)]
    sort: Option<changes::ListSort>,
    /// 1-based page number, at most 10 000; default 1.
    #[param(minimum = 1, maximum = 10_000)]
    page: Option<u32>,
    /// Changes per page, 1–200; default 20.
    #[param(minimum = 1, maximum = 200)]
    per_page: Option<u32>,
}

/// Changes, newest first (or by title or health), filtered by state, kind, flag key and
/// search words, a page at a time, each with its health (`shared::health`).
#[utoipa::path(
    get,
    path = "/changes",
    tag = "changes",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of changes", body = ChangePage),
        (status = 422, description = "Unknown state, kind or sort, a page out of range, or a \
                                       search text too long", body = ErrorBody),
    )
)]
async fn list_changes(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
    _caller: Require<AnyUser>,
) -> Result<Json<ChangePage>> {
    let request = changes::ListRequest {
        state: query.state,
        kind: query.kind,
        flag_key: query.flag_key,
        q: query.q,
        sort: query.sort,
        page: query.page,
        per_page: query.per_page,
    };
    Ok(Json(changes::list(&state.pool, request).await?))
}

/// Creates a draft change. The plan comes from `plan`, else from `template` (standard by
/// default).
#[utoipa::path(
    post,
    path = "/changes",
    tag = "changes",
    request_body = NewChange,
    responses(
        (status = 201, description = "The new draft", body = ChangeDetail,
         headers(("Location" = String, description = "The new change's URL"))),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an engineer, PM or admin; or no CSRF token", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not declared as JSON", body = ErrorBody),
        (status = 422, description = "A field is missing, unknown or breaks a rule", body = ErrorBody),
    )
)]
async fn create_change(
    State(state): State<AppState>,
    actor: Require<Editors>,
    Json(new): Json<NewChange>,
) -> Result<Response> {
    let change = changes::create(&state.pool, &actor.actor(), &new).await?;
    let location = format!("/api/v1/changes/{}", change.id);
    let versions = crate::db::changes::versions(&state.pool, &change.flag_key).await?;
    let detail = ChangeDetail {
        health: shared::health::health(&change, None, None, None),
        holdout: shared::ab::Holdout::of(&change.flag_rules),
        change,
        history: Vec::new(),
        versions,
        decision: None,
    };
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(detail),
    )
        .into_response())
}

/// A change and its whole history, oldest first.
#[utoipa::path(
    get,
    path = "/changes/{id}",
    tag = "changes",
    params(("id" = String, Path, description = "The change's id")),
    responses(
        (status = 200, description = "The change", body = ChangeDetail),
        (status = 404, description = "No such change", body = ErrorBody),
    )
)]
async fn get_change(
    State(state): State<AppState>,
    Path(id): Path<String>,
    _caller: Require<AnyUser>,
) -> Result<Json<ChangeDetail>> {
    Ok(Json(changes::get(&state.pool, &id).await?))
}

/// Replaces a draft's content. Only drafts can be edited: once the rollout starts, the plan
/// and its rollback criteria are frozen. The edit names the revision it is based on, and
/// resets sign-off: approvals given on the previous content no longer count.
#[utoipa::path(
    put,
    path = "/changes/{id}",
    tag = "changes",
    params(("id" = String, Path, description = "The change's id")),
    request_body = ChangeUpdate,
    responses(
        (status = 200, description = "The edited change", body = ChangeDetail),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 404, description = "No such change", body = ErrorBody),
        (status = 409, description = "`frozen`: the rollout has started; `conflict`: the change \
                                       moved on since `revision`", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
        (status = 415, description = "The body is not declared as JSON", body = ErrorBody),
        (status = 422, description = "A field is missing, unknown or breaks a rule", body = ErrorBody),
    )
)]
async fn update_change(
    State(state): State<AppState>,
    Path(id): Path<String>,
    actor: Require<Editors>,
    Json(edit): Json<ChangeUpdate>,
) -> Result<Json<ChangeDetail>> {
    Ok(Json(
        changes::update(&state.pool, &actor.actor(), &id, &edit).await?,
    ))
}
