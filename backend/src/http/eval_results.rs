//! A change's offline eval results (`/changes/{id}/eval-results`): a CI pipeline uploads the
//! eval bench's run with a service token of scope `ci` (`rollgate eval upload`), or a person who
//! may edit the change uploads it from a session; anyone signed in reads them.
//!
//! The rules (only in `eval`, validation, the gate's judgement) are `app::eval_results`.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::access::{AnyUser, Editors};
use shared::api::ErrorBody;
use shared::eval::{EvalResult, EvalUpload};
use utoipa_axum::router::OpenApiRouter;

use super::authz::{AuthUser, Require};
use super::extract::{Json, Path};
use crate::AppState;
use crate::app::eval_results::{self, Uploader};
use crate::error::Result;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(crate::route!(upload_eval_result))
        .routes(crate::route!(list_eval_results))
}

/// Who the upload is by: a person, or the `ci` token `authz::authorize` let in (it checks the
/// scope, revocation and a limit to other changes before the handler runs).
fn uploader(caller: &AuthUser) -> Uploader {
    let who = caller.who();
    match &caller.token {
        Some(token) => Uploader {
            label: who.label.clone(),
            who,
            user_id: None,
            token_id: Some(token.id.clone()),
        },
        None => Uploader {
            who,
            label: caller.user.name.clone(),
            user_id: Some(caller.user.id.clone()),
            token_id: None,
        },
    }
}

/// Uploads the eval bench's run for a change in `eval`; the answer says whether it meets the
/// plan's eval gate, which the canary needs (the newest upload counts).
#[utoipa::path(
    post,
    path = "/changes/{id}/eval-results",
    tag = "eval",
    params(("id" = String, Path, description = "The change's id")),
    request_body = EvalUpload,
    responses(
        (status = 201, description = "The stored result, judged against the plan's eval gate",
         body = EvalResult,
         headers(("Location" = String, description = "The change's eval results"))),
        (status = 403, description = "Not an engineer, PM or admin; a token without the \
                                      scope `ci` or limited to other changes", body = ErrorBody),
        (status = 404, description = "No such change", body = ErrorBody),
        (status = 409, description = "The change is not in eval", body = ErrorBody),
        (status = 422, description = "A bad field, named", body = ErrorBody),
    )
)]
async fn upload_eval_result(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: Require<Editors>,
    Json(upload): Json<EvalUpload>,
) -> Result<Response> {
    let by = uploader(&caller);
    let result = eval_results::upload(&state.pool, &by, &id, &upload).await?;
    Ok((
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!(
                "{}{}",
                shared::paths::BASE,
                shared::paths::change_eval_results(&id)
            ),
        )],
        Json(result),
    )
        .into_response())
}

/// A change's uploaded eval results, newest first, each judged against the plan's eval gate.
#[utoipa::path(
    get,
    path = "/changes/{id}/eval-results",
    tag = "eval",
    params(("id" = String, Path, description = "The change's id")),
    responses(
        (status = 200, description = "The results, newest first", body = Vec<EvalResult>),
        (status = 404, description = "No such change", body = ErrorBody),
    )
)]
async fn list_eval_results(
    State(state): State<AppState>,
    Path(id): Path<String>,
    _caller: Require<AnyUser>,
) -> Result<Json<Vec<EvalResult>>> {
    Ok(Json(eval_results::list(&state.pool, &id).await?))
}
