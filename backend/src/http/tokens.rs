//! `/api/v1/tokens`: service tokens for production apps and pipelines (scopes `ingest`:
//! sending metric windows, `evaluate`, `ci`). Admins only; every creation and revocation is in
//! the audit log.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shared::access::Admins;
use shared::api::ErrorBody;
use shared::tokens::{NewToken, TokenCreated, TokenInfo};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use super::authz::Require;
use super::extract::{Json, Path, Query};
use crate::AppState;
use crate::app::tokens;
use crate::db;
use crate::error::Result;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(crate::route!(list_tokens))
        .routes(crate::route!(create_token))
        .routes(crate::route!(revoke_token))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    /// Only the tokens limited to a set of changes holding this one (workspace-wide tokens
    /// are left out).
    change_id: Option<String>,
}

/// Tokens, newest first, without their secrets; revoked ones included (with `revoked_at`).
#[utoipa::path(
    get,
    path = "/tokens",
    tag = "tokens",
    params(ListQuery),
    responses(
        (status = 200, description = "The tokens", body = Vec<TokenInfo>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
async fn list_tokens(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
    _caller: Require<Admins>,
) -> Result<Json<Vec<TokenInfo>>> {
    Ok(Json(
        db::tokens::list(&state.pool, query.change_id.as_deref()).await?,
    ))
}

/// Creates a token with the scopes named in `scopes` (`["ingest"]` when absent), limited to
/// the change `change_id` or the changes `change_ids` (both absent: every change): it sends
/// windows for them only and evaluates only their flags (any other is `FLAG_NOT_FOUND`). The
/// answer holds the secret; it is stored only as a hash and cannot be shown again.
#[utoipa::path(
    post,
    path = "/tokens",
    tag = "tokens",
    request_body = NewToken,
    responses(
        (status = 201, description = "The token and its secret, shown this once", body = TokenCreated,
         headers(("Location" = String, description = "The token's URL"))),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 415, description = "The body is not declared as JSON", body = ErrorBody),
        (status = 422, description = "A bad name, no such change, a repeated change, or an empty, repeated or unknown scope (the field names it, e.g. `change_ids[0]` or `scopes[1]`)", body = ErrorBody),
    )
)]
async fn create_token(
    State(state): State<AppState>,
    actor: Require<Admins>,
    Json(new): Json<NewToken>,
) -> Result<Response> {
    let (token, secret) = tokens::create(&state.pool, &actor.actor(), &new).await?;
    let location = format!("/api/v1/tokens/{}", token.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(TokenCreated { token, secret }),
    )
        .into_response())
}

/// Revokes a token: it stops working at once. Revoking a revoked token changes nothing.
#[utoipa::path(
    delete,
    path = "/tokens/{id}",
    tag = "tokens",
    params(("id" = String, Path, description = "The token's id")),
    responses(
        (status = 200, description = "The revoked token", body = TokenInfo),
        (status = 404, description = "No such token", body = ErrorBody),
    )
)]
async fn revoke_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    actor: Require<Admins>,
) -> Result<Json<TokenInfo>> {
    Ok(Json(
        tokens::revoke(&state.pool, &actor.actor(), &id).await?,
    ))
}
