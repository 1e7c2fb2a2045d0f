//! `/api/v1/policies`: which roles sign which gate, per risk tier.

use axum::extract::State;
use shared::access::{Admins, AnyUser};
use shared::api::ErrorBody;
use shared::approvals::ApprovalPolicies;
use utoipa_axum::router::OpenApiRouter;

use super::authz::Require;
use super::extract::Json;
use crate::AppState;
use crate::app::gates;
use crate::db;
use crate::error::Result;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(crate::route!(get_policies))
        .routes(crate::route!(put_policies))
}

/// The approval policy of every risk tier (the defaults until an admin changes them).
#[utoipa::path(
    get,
    path = "/policies",
    tag = "approvals",
    responses(
        (status = 200, description = "The policies", body = ApprovalPolicies),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
async fn get_policies(
    State(state): State<AppState>,
    _caller: Require<AnyUser>,
) -> Result<Json<ApprovalPolicies>> {
    Ok(Json(db::policies::current(&state.pool).await?))
}

/// Replaces the approval policies. Gates already signed keep their signatures; what counts is
/// checked against the policy in force when the rollout moves.
#[utoipa::path(
    put,
    path = "/policies",
    tag = "approvals",
    request_body = ApprovalPolicies,
    responses(
        (status = 200, description = "The stored policies", body = ApprovalPolicies),
        (status = 403, description = "Not an admin, or no CSRF token", body = ErrorBody),
        (status = 422, description = "A count out of range or a role twice in a gate", body = ErrorBody),
    )
)]
async fn put_policies(
    State(state): State<AppState>,
    admin: Require<Admins>,
    Json(policies): Json<ApprovalPolicies>,
) -> Result<Json<ApprovalPolicies>> {
    Ok(Json(
        gates::set_policies(&state.pool, &admin.actor(), &policies).await?,
    ))
}
