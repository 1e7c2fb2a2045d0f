//! `/api/v1/teams`: the teams told about changes, their members, webhook and Atom feed.
//!
//! The webhook signing secret and the feed token are answered once, when made; the team
//! itself never carries them.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::access::{Admins, AnyUser};
use shared::api::ErrorBody;
use shared::teams::{self, CreatedTeam, FeedToken, Team, TeamInput, WebhookSecret};
use utoipa_axum::router::OpenApiRouter;

use super::authz::{AuthUser, Require};
use super::extract::{Json, Path};
use crate::AppState;
use crate::db::{self, audit::Record};
use crate::error::{Error, Result};

/// Atom feed tokens, recognisable in a leaked log (webhook secrets: `shared::teams`).
pub const FEED_TOKEN_PREFIX: &str = "rg_feed_";

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

async fn check_members(conn: &mut sqlx::AnyConnection, members: &[String]) -> Result<Vec<String>> {
    let mut unique = members.to_vec();
    unique.sort();
    unique.dedup();
    if let Some(id) = db::teams::unknown_users(conn, &unique).await?.first() {
        return Err(Error::validation(
            "members",
            format!("no user has the id `{id}`"),
        ));
    }
    Ok(unique)
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
    let (name, url) = teams::validate_team(&input)?;
    let secret = db::teams::new_secret(shared::teams::WEBHOOK_SECRET_PREFIX)?;
    let at = db::now();
    let mut tx = db::begin(&state.pool).await?;
    let members = check_members(&mut tx, &input.members).await?;
    if db::teams::id_by_name(&mut tx, &name).await?.is_some() {
        return Err(Error::conflict(format!(
            "a team is already called `{name}`"
        )));
    }
    let id = db::teams::create(&mut tx, &name, url.as_deref(), &secret, &at).await?;
    db::teams::set_members(&mut tx, &id, &members).await?;
    let team = db::teams::find(&mut tx, &id)
        .await?
        .ok_or_else(|| Error::internal("a team vanished in its own transaction"))?;
    db::audit::append(
        &mut tx,
        &Record {
            who: &admin.who(),
            action: "team.create",
            object_type: "team",
            object_id: Some(&id),
            before: None,
            after: Some(serde_json::to_value(&team).unwrap_or_default()),
            at: &at,
        },
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/api/v1/teams/{id}"))],
        Json(CreatedTeam {
            team,
            webhook_secret: secret,
        }),
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
    let at = db::now();
    let mut tx = db::begin(&state.pool).await?;
    let before = db::teams::find(&mut tx, &id)
        .await?
        .ok_or_else(|| Error::not_found("team"))?;
    let (name, url) = teams::validate_team(&input)?;
    let members = check_members(&mut tx, &input.members).await?;
    if let Some(other) = db::teams::id_by_name(&mut tx, &name).await?
        && other != id
    {
        return Err(Error::conflict(format!(
            "a team is already called `{name}`"
        )));
    }
    db::teams::update(&mut tx, &id, &name, url.as_deref(), &at).await?;
    db::teams::set_members(&mut tx, &id, &members).await?;
    let after = db::teams::find(&mut tx, &id)
        .await?
        .ok_or_else(|| Error::internal("a team vanished in its own transaction"))?;
    db::audit::append(
        &mut tx,
        &Record {
            who: &admin.who(),
            action: "team.update",
            object_type: "team",
            object_id: Some(&id),
            before: Some(serde_json::to_value(&before).unwrap_or_default()),
            after: Some(serde_json::to_value(&after).unwrap_or_default()),
            at: &at,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Json(after))
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
    let secret = db::teams::new_secret(shared::teams::WEBHOOK_SECRET_PREFIX)?;
    let at = db::now();
    let mut tx = db::begin(&state.pool).await?;
    if !db::teams::set_webhook_secret(&mut tx, &id, &secret, &at).await? {
        return Err(Error::not_found("team"));
    }
    audit_plain(&mut tx, &admin, "team.rotate_secret", &id, &at).await?;
    tx.commit().await?;
    Ok(Json(WebhookSecret {
        webhook_secret: secret,
    }))
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
    let token = db::teams::new_secret(FEED_TOKEN_PREFIX)?;
    let at = db::now();
    let mut tx = db::begin(&state.pool).await?;
    if !db::teams::set_feed_token(&mut tx, &id, &db::tokens::hash(&token), &at).await? {
        return Err(Error::not_found("team"));
    }
    audit_plain(&mut tx, &admin, "team.feed_token", &id, &at).await?;
    tx.commit().await?;
    Ok(Json(FeedToken {
        feed_path: format!("/api/v1/teams/{id}/feed.atom?token={token}"),
        feed_token: token,
    }))
}

/// An audit row that records that something happened to a team, without the secret.
async fn audit_plain(
    conn: &mut sqlx::AnyConnection,
    admin: &AuthUser,
    action: &str,
    id: &str,
    at: &str,
) -> Result<()> {
    Ok(db::audit::append(
        conn,
        &Record {
            who: &admin.who(),
            action,
            object_type: "team",
            object_id: Some(id),
            before: None,
            after: None,
            at,
        },
    )
    .await?)
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
    let mut conn = state.pool.acquire().await?;
    let team = db::teams::find(&mut conn, &id)
        .await?
        .ok_or_else(|| Error::not_found("team"))?;
    let token = query
        .token
        .filter(|t| t.starts_with(FEED_TOKEN_PREFIX))
        .ok_or_else(|| Error::unauthorized("give the team's feed token as ?token="))?;
    let owner = db::teams::id_by_feed_token(&mut conn, &db::tokens::hash(&token)).await?;
    if owner.as_deref() != Some(id.as_str()) {
        return Err(Error::unauthorized("this is not the team's feed token"));
    }
    let notices = db::notices::published_to(&mut conn, &id, 50).await?;
    let xml = crate::atom::feed(&team, &notices, state.public_url.as_deref());
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        xml,
    )
        .into_response())
}
