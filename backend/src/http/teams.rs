//! `/api/v1/teams`: the teams told about changes, their members, webhook and Atom feed.
//!
//! The webhook signing secret and the feed token are answered once, when made; the team
//! itself never carries them.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::access::{Admins, AnyUser};
use shared::api::ErrorBody;
use shared::teams::{CreatedTeam, FeedToken, Team, TeamInput, WebhookSecret};
use utoipa_axum::router::OpenApiRouter;

use super::authz::Require;
use super::extract::{Json, Path};
use crate::AppState;
use crate::app;
use crate::db;
use crate::error::Result;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(crate::route!(list_teams))
        .routes(crate::route!(create_team))
        .routes(crate::route!(update_team))
        .routes(crate::route!(rotate_secret))
        .routes(crate::route!(new_feed_token))
        .routes(crate::route!(atom_feed))
}

/// Every team with its members, by name.
#[utoipa::path(
    get,
    path = "/teams",
    tag = "teams",
    responses(
        (status = 200, description = "The teams", body = Vec<Team>),
        (status = 401, description = "Not signed in", body = ErrorBody),
    )
)]
async fn list_teams(
    State(state): State<AppState>,
    _caller: Require<AnyUser>,
) -> Result<Json<Vec<Team>>> {
    let mut conn = state.pool.acquire().await?;
    Ok(Json(db::teams::list(&mut conn).await?))
}

/// Creates a team. The answer carries its webhook signing secret, shown this once.
#[utoipa::path(
    post,
    path = "/teams",
    tag = "teams",
    request_body = TeamInput,
    responses(
        (status = 201, description = "The team and its webhook secret", body = CreatedTeam,
         headers(("Location" = String, description = "The team's URL"))),
        (status = 403, description = "Not an admin, or no CSRF token", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 422, description = "A bad name, member or URL", body = ErrorBody),
    )
)]
async fn create_team(
    State(state): State<AppState>,
    admin: Require<Admins>,
    Json(input): Json<TeamInput>,
) -> Result<Response> {
    let created = app::teams::create(&state.pool, &admin.actor(), &input).await?;
    Ok((
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!("/api/v1/teams/{}", created.team.id),
        )],
        Json(created),
    )
        .into_response())
}

/// Renames a team, sets its members (the whole list) and its webhook URL.
#[utoipa::path(
    put,
    path = "/teams/{id}",
    tag = "teams",
    params(("id" = String, Path, description = "The team's id")),
    request_body = TeamInput,
    responses(
        (status = 200, description = "The team", body = Team),
        (status = 404, description = "No such team", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 422, description = "A bad name, member or URL", body = ErrorBody),
    )
)]
async fn update_team(
    State(state): State<AppState>,
    Path(id): Path<String>,
    admin: Require<Admins>,
    Json(input): Json<TeamInput>,
) -> Result<Json<Team>> {
    Ok(Json(
        app::teams::update(&state.pool, &admin.actor(), &id, &input).await?,
    ))
}

/// Replaces the team's webhook signing secret; the new one is shown this once. Receivers
/// verifying with the old one fail from now on.
#[utoipa::path(
    post,
    path = "/teams/{id}/secret",
    tag = "teams",
    params(("id" = String, Path, description = "The team's id")),
    responses(
        (status = 200, description = "The new secret", body = WebhookSecret),
        (status = 404, description = "No such team", body = ErrorBody),
    )
)]
async fn rotate_secret(
    State(state): State<AppState>,
    Path(id): Path<String>,
    admin: Require<Admins>,
) -> Result<Json<WebhookSecret>> {
    Ok(Json(
        app::teams::rotate_secret(&state.pool, &admin.actor(), &id).await?,
    ))
}

/// Makes a new Atom feed token for the team (the old one stops working); shown this once.
#[utoipa::path(
    post,
    path = "/teams/{id}/feed-token",
    tag = "teams",
    params(("id" = String, Path, description = "The team's id")),
    responses(
        (status = 200, description = "The new token and the feed's path", body = FeedToken),
        (status = 404, description = "No such team", body = ErrorBody),
    )
)]
async fn new_feed_token(
    State(state): State<AppState>,
    Path(id): Path<String>,
    admin: Require<Admins>,
) -> Result<Json<FeedToken>> {
    Ok(Json(
        app::teams::new_feed_token(&state.pool, &admin.actor(), &id).await?,
    ))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct FeedQuery {
    /// The team's feed token (`POST /teams/{id}/feed-token`).
    token: Option<String>,
}

/// The team's notices as an Atom 1.0 feed, for feed readers and chat tools that follow
/// feeds. Authenticated by the team's feed token in the query string (feed readers cannot
/// send cookies or headers); 401 without a valid one.
#[utoipa::path(
    get,
    path = "/teams/{id}/feed.atom",
    tag = "teams",
    params(("id" = String, Path, description = "The team's id"), FeedQuery),
    responses(
        (status = 200, description = "The Atom feed", content_type = "application/atom+xml", body = String),
        (status = 401, description = "No or wrong token", body = ErrorBody),
        (status = 404, description = "No such team", body = ErrorBody),
    )
)]
async fn atom_feed(
    State(state): State<AppState>,
    Path(id): Path<String>,
    super::extract::Query(query): super::extract::Query<FeedQuery>,
) -> Result<Response> {
    let (team, notices) = app::teams::feed(&state.pool, &id, query.token).await?;
    let xml = crate::atom::feed(&team, &notices, state.public_url.as_deref());
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        xml,
    )
        .into_response())
}
