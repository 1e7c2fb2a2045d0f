//! `/api/v1/users`: accounts, for admins.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::access::Admins;
use shared::api::ErrorBody;
use shared::auth::{NewUser, User, UserUpdate};
use utoipa_axum::router::OpenApiRouter;

use super::authz::Require;
use super::extract::{Json, Path};
use crate::AppState;
use crate::accounts;
use crate::db;
use crate::error::Result;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(crate::route!(list_users))
        .routes(crate::route!(create_user))
        .routes(crate::route!(update_user))
}

/// Every account, by e-mail.
#[utoipa::path(
    get,
    path = "/users",
    tag = "users",
    responses(
        (status = 200, description = "The users", body = Vec<User>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an admin", body = ErrorBody),
    )
)]
async fn list_users(
    State(state): State<AppState>,
    _caller: Require<Admins>,
) -> Result<Json<Vec<User>>> {
    Ok(Json(db::users::list(&state.pool).await?))
}

/// Creates an account with an initial password (at least 12 characters).
#[utoipa::path(
    post,
    path = "/users",
    tag = "users",
    request_body = NewUser,
    responses(
        (status = 201, description = "The new user", body = User,
         headers(("Location" = String, description = "The user's URL"))),
        (status = 403, description = "Not an admin, or no CSRF token", body = ErrorBody),
        (status = 409, description = "The e-mail is taken", body = ErrorBody),
        (status = 422, description = "A bad e-mail, name, role list or password", body = ErrorBody),
    )
)]
async fn create_user(
    State(state): State<AppState>,
    admin: Require<Admins>,
    Json(new): Json<NewUser>,
) -> Result<Response> {
    let user = accounts::create_user(&state.pool, &state.passwords, &new, &admin.who()).await?;
    tracing::info!(by = %admin.user.email, user = %user.email, "user created");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/users/{}", user.id))],
        Json(user),
    )
        .into_response())
}

/// Changes a user's name, roles, or disables them (their sessions stop at once). Admins
/// cannot take their own admin role away or disable themselves, so that a workspace always
/// keeps someone who can manage it.
#[utoipa::path(
    put,
    path = "/users/{id}",
    tag = "users",
    params(("id" = String, Path, description = "The user's id")),
    request_body = UserUpdate,
    responses(
        (status = 200, description = "The user", body = User),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "An admin locking themselves out", body = ErrorBody),
        (status = 422, description = "A bad name or role list", body = ErrorBody),
    )
)]
async fn update_user(
    State(state): State<AppState>,
    Path(id): Path<String>,
    admin: Require<Admins>,
    Json(edit): Json<UserUpdate>,
) -> Result<Json<User>> {
    Ok(Json(
        accounts::update_user(&state.pool, &admin.actor(), &id, &edit).await?,
    ))
}
