//! `/api/v1/changes`: list, create, read and edit AI changes.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shared::api::{ChangeDetail, ChangePage, ChangeSummary, ChangeUpdate, ErrorBody, NewChange};
use shared::change::{AiChange, ChangeKind};
use shared::rollout::STATE_NAMES;
use shared::validate;
use sqlx::AnyPool;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::authz::AuthUser;
use super::extract::{Json, Path, Query};
use crate::AppState;
use crate::db::{self, audit::Record};
use crate::error::{Error, Result};

pub const DEFAULT_PER_PAGE: u32 = 20;
pub const MAX_PER_PAGE: u32 = 100;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_changes, create_change))
        .routes(routes!(get_change, update_change))
}

/// Filters and paging of the change list. Empty values count as absent.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only changes in this state: draft, eval, canary, ramp, full, reviewed or rolled_back.
    state: Option<String>,
    /// Only changes of this kind.
    kind: Option<ChangeKind>,
    /// 1-based page number; default 1.
    #[param(minimum = 1)]
    page: Option<u32>,
    /// Changes per page, 1–100; default 20.
    #[param(minimum = 1, maximum = 100)]
    per_page: Option<u32>,
}

/// Changes, newest first, filtered by state and kind, a page at a time.
#[utoipa::path(
    get,
    path = "/changes",
    tag = "changes",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of changes", body = ChangePage),
        (status = 422, description = "Unknown state or kind, or a page out of range", body = ErrorBody),
    )
)]
async fn list_changes(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<ChangePage>> {
    if let Some(s) = &query.state
        && !STATE_NAMES.contains(&s.as_str())
    {
        return Err(Error::validation(
            "state",
            format!("unknown state `{s}`; use one of {}", STATE_NAMES.join(", ")),
        ));
    }
    let page = query.page.unwrap_or(1);
    if page == 0 {
        return Err(Error::validation("page", "pages are numbered from 1"));
    }
    let per_page = query.per_page.unwrap_or(DEFAULT_PER_PAGE);
    if !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(Error::validation(
            "per_page",
            format!("must be between 1 and {MAX_PER_PAGE}"),
        ));
    }
    let filter = db::changes::Filter {
        state: query.state,
        kind: query.kind,
    };
    let offset = (i64::from(page) - 1) * i64::from(per_page);
    let (items, total) =
        db::changes::list(&state.pool, &filter, i64::from(per_page), offset).await?;
    Ok(Json(ChangePage {
        items: items.iter().map(ChangeSummary::from).collect(),
        total,
        page,
        per_page,
    }))
}

/// Creates a draft change. The plan comes from `plan`, else from `template` (standard by
/// default).
#[utoipa::path(
    post,
    path = "/changes",
    tag = "changes",
    security(("session_cookie" = [])),
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
    actor: AuthUser,
    Json(new): Json<NewChange>,
) -> Result<Response> {
    validate::new_change(&new)?;
    let at = db::now();
    let mut tx = db::begin(&state.pool).await?;
    let change = db::changes::create_recorded(&mut tx, &new, &actor.who(), &at).await?;
    tx.commit().await?;
    tracing::info!(actor = %actor.user.email, id = %change.id, "change created");
    let location = format!("/api/v1/changes/{}", change.id);
    let detail = ChangeDetail {
        change,
        history: Vec::new(),
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
) -> Result<Json<ChangeDetail>> {
    let change = find(&state.pool, &id).await?;
    Ok(Json(detail(&state.pool, change).await?))
}

/// Replaces a draft's content. Only drafts can be edited: once the rollout starts, the plan
/// and its rollback criteria are frozen. The edit names the revision it is based on, and
/// resets sign-off: approvals given on the previous content no longer count.
#[utoipa::path(
    put,
    path = "/changes/{id}",
    tag = "changes",
    security(("session_cookie" = [])),
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
    actor: AuthUser,
    Json(edit): Json<ChangeUpdate>,
) -> Result<Json<ChangeDetail>> {
    let current = find(&state.pool, &id).await?;
    check_editable(&state.pool, &current, edit.revision).await?;
    validate::change_update(&edit)?;
    let at = db::now();
    let mut tx = db::begin(&state.pool).await?;
    let updated = db::changes::update_draft(&mut tx, &id, &edit, &at).await?;
    if updated {
        db::audit::append(
            &mut tx,
            &Record {
                who: &actor.who(),
                action: "change.update",
                object_type: "change",
                object_id: Some(&id),
                before: Some(serde_json::to_value(&current).unwrap_or_default()),
                after: Some(serde_json::to_value(&edit).unwrap_or_default()),
                at: &at,
            },
        )
        .await?;
        tx.commit().await?;
    } else {
        tx.rollback().await?;
    }
    if !updated {
        // Someone moved or edited it between our read and our write: explain with a re-read.
        let now = find(&state.pool, &id).await?;
        check_editable(&state.pool, &now, edit.revision).await?;
        return Err(stale(edit.revision, now.revision));
    }
    tracing::info!(actor = %actor.user.email, %id, revision = edit.revision + 1, "change edited");
    let change = find(&state.pool, &id).await?;
    Ok(Json(detail(&state.pool, change).await?))
}

/// 409 `frozen` once the rollout started, 409 `conflict` when `revision` is stale.
async fn check_editable(pool: &AnyPool, change: &AiChange, revision: i64) -> Result<()> {
    if !change.state.plan_is_editable() {
        let since = match db::transitions::started_at(pool, &change.id).await? {
            Some(at) => format!("the rollout started at {at}"),
            None => "the rollout has started".to_owned(),
        };
        return Err(Error::frozen(format!(
            "the plan is frozen: {since} and the change is now {}; roll it back and create a \
             new change to try different settings",
            change.state.label(&change.plan)
        )));
    }
    if revision != change.revision {
        return Err(stale(revision, change.revision));
    }
    Ok(())
}

pub(super) fn stale(sent: i64, current: i64) -> Error {
    Error::conflict(format!(
        "the change was modified since you loaded it: your revision is {sent}, the current \
         revision is {current}; reload and try again"
    ))
}

/// The change with this id, or 404.
pub(super) async fn find(pool: &AnyPool, id: &str) -> Result<AiChange> {
    db::changes::find(pool, id)
        .await?
        .ok_or_else(|| Error::not_found("change"))
}

/// The change with its history.
pub(super) async fn detail(pool: &AnyPool, change: AiChange) -> Result<ChangeDetail> {
    let history = db::transitions::history(pool, &change.id, &change.plan).await?;
    Ok(ChangeDetail { change, history })
}
