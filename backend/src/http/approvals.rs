//! Sign-off: the upcoming gate of a change (`GET /changes/{id}/gate`), signing it
//! (`POST /changes/{id}/approvals`) and the approvals inbox (`GET /approvals`).
//!
//! What a gate asks and how signing works is `app::gates`.

use axum::extract::State;
use serde::Deserialize;
use shared::access::AnyUser;
use shared::api::ErrorBody;
use shared::approvals::{ApprovalRequest, GateStatus, Inbox, InboxScope};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use super::authz::Require;
use super::extract::{Json, Path, Query};
use crate::AppState;
use crate::app::gates;
use crate::error::Result;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(crate::route!(get_gate))
        .routes(crate::route!(sign))
        .routes(crate::route!(inbox))
}

/// Which gate to show; the upcoming one by default.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct GateQuery {
    /// A later stage's gate, as stored: `canary`, `ramp:1`, `full` (e.g. to sign for a skip).
    stage: Option<String>,
}

/// The gate the rollout passes next: who must sign, who has, who is missing.
#[utoipa::path(
    get,
    path = "/changes/{id}/gate",
    tag = "approvals",
    params(("id" = String, Path, description = "The change's id"), GateQuery),
    responses(
        (status = 200, description = "The gate", body = GateStatus),
        (status = 404, description = "No such change", body = ErrorBody),
        (status = 422, description = "A stage the plan does not have", body = ErrorBody),
    )
)]
async fn get_gate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<GateQuery>,
    _caller: Require<AnyUser>,
) -> Result<Json<GateStatus>> {
    let gate = gates::status_of(&state.pool, &id, query.stage.as_deref()).await?;
    Ok(Json(gate))
}

/// Signs the upcoming gate (or the gate of `stage`) as one of the signer's roles. The author
/// of a change may sign only as its requesting engineer ("I ask to start the canary"); every
/// other role's sign-off must come from another person, which is the separation of duties. Signing twice the same way changes nothing; a rejecter
/// who approves (or an approver who rejects) replaces their signature. Stores what the signer
/// was shown: the plan revision and the metric verdicts since the canary started. Approving a
/// change whose health is Breach needs `seen_breach: true`, stored with the approval.
#[utoipa::path(
    post,
    path = "/changes/{id}/approvals",
    tag = "approvals",
    params(("id" = String, Path, description = "The change's id")),
    request_body = ApprovalRequest,
    responses(
        (status = 200, description = "The gate after signing", body = GateStatus),
        (status = 403, description = "The author signing, or a role the signer does not \
                                       hold or the gate does not ask for", body = ErrorBody),
        (status = 404, description = "No such change", body = ErrorBody),
        (status = 409, description = "`conflict`: the change moved on since `revision`; or \
                                       the rollout has finished", body = ErrorBody),
        (status = 422, description = "A bad field; or `seen_breach`: approving a change in \
                                       breach without confirming it", body = ErrorBody),
    )
)]
async fn sign(
    State(state): State<AppState>,
    Path(id): Path<String>,
    signer: Require<AnyUser>,
    Json(request): Json<ApprovalRequest>,
) -> Result<Json<GateStatus>> {
    let gate = gates::sign(&state.pool, &signer.actor(), &id, &request).await?;
    Ok(Json(gate))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct InboxQuery {
    /// `waiting_for_me` (default), `waiting_for_others` or `decided`.
    scope: Option<InboxScope>,
}

/// The approvals inbox of the signed-in user.
#[utoipa::path(
    get,
    path = "/approvals",
    tag = "approvals",
    params(InboxQuery),
    responses(
        (status = 200, description = "The inbox", body = Inbox),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "An unknown scope", body = ErrorBody),
    )
)]
async fn inbox(
    State(state): State<AppState>,
    me: Require<AnyUser>,
    Query(query): Query<InboxQuery>,
) -> Result<Json<Inbox>> {
    Ok(Json(
        gates::inbox(&state.pool, &me.user, query.scope).await?,
    ))
}
