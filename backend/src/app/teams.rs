//! Teams told about changes: creating and editing them, their webhook signing secret and their
//! Atom feed token, and reading the feed with that token.

use shared::notices::Notice;
use shared::teams::{self, CreatedTeam, FeedToken, Team, TeamInput, WebhookSecret};
use sqlx::AnyPool;

use super::Actor;
use crate::db::{self, audit::Record};
use crate::error::{Error, Result};

/// Creates a team; answers it with its webhook signing secret, shown this once.
pub async fn create(pool: &AnyPool, actor: &Actor, input: &TeamInput) -> Result<CreatedTeam> {
    let (name, url) = teams::validate_team(input)?;
    let secret = db::teams::new_secret(shared::teams::WEBHOOK_SECRET_PREFIX)?;
    let at = db::now();
    let mut tx = db::begin(pool).await?;
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
        &Record::new(&actor.who(), "team.create", "team", Some(&id), &at).after(&team),
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedTeam {
        team,
        webhook_secret: secret,
    })
}

/// Renames a team, sets its webhook address and its members.
pub async fn update(pool: &AnyPool, actor: &Actor, id: &str, input: &TeamInput) -> Result<Team> {
    let at = db::now();
    let mut tx = db::begin(pool).await?;
    let before = db::teams::find(&mut tx, id)
        .await?
        .ok_or_else(|| Error::not_found("team"))?;
    let (name, url) = teams::validate_team(input)?;
    let members = check_members(&mut tx, &input.members).await?;
    if let Some(other) = db::teams::id_by_name(&mut tx, &name).await?
        && other != id
    {
        return Err(Error::conflict(format!(
            "a team is already called `{name}`"
        )));
    }
    db::teams::update(&mut tx, id, &name, url.as_deref(), &at).await?;
    db::teams::set_members(&mut tx, id, &members).await?;
    let after = db::teams::find(&mut tx, id)
        .await?
        .ok_or_else(|| Error::internal("a team vanished in its own transaction"))?;
    db::audit::append(
        &mut tx,
        &Record::new(&actor.who(), "team.update", "team", Some(id), &at)
            .before(&before)
            .after(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}

/// Replaces the team's webhook signing secret; answers the new one, shown this once.
pub async fn rotate_secret(pool: &AnyPool, actor: &Actor, id: &str) -> Result<WebhookSecret> {
    let secret = db::teams::new_secret(shared::teams::WEBHOOK_SECRET_PREFIX)?;
    let at = db::now();
    let mut tx = db::begin(pool).await?;
    if !db::teams::set_webhook_secret(&mut tx, id, &secret, &at).await? {
        return Err(Error::not_found("team"));
    }
    audit_plain(&mut tx, actor, "team.rotate_secret", id, &at).await?;
    tx.commit().await?;
    Ok(WebhookSecret {
        webhook_secret: secret,
    })
}

/// Replaces the team's Atom feed token; answers the new one, shown this once.
pub async fn new_feed_token(pool: &AnyPool, actor: &Actor, id: &str) -> Result<FeedToken> {
    let token = db::teams::new_secret(teams::FEED_TOKEN_PREFIX)?;
    let at = db::now();
    let mut tx = db::begin(pool).await?;
    if !db::teams::set_feed_token(&mut tx, id, &db::tokens::hash(&token), &at).await? {
        return Err(Error::not_found("team"));
    }
    audit_plain(&mut tx, actor, "team.feed_token", id, &at).await?;
    tx.commit().await?;
    Ok(FeedToken {
        feed_path: format!("/api/v1/teams/{id}/feed.atom?token={token}"),
        feed_token: token,
    })
}

/// The team `id` and its newest published notices, if `token` is the team's feed token.
pub async fn feed(pool: &AnyPool, id: &str, token: Option<String>) -> Result<(Team, Vec<Notice>)> {
    let mut conn = pool.acquire().await?;
    let team = db::teams::find(&mut conn, id)
        .await?
        .ok_or_else(|| Error::not_found("team"))?;
    let token = token
        .filter(|t| t.starts_with(teams::FEED_TOKEN_PREFIX))
        .ok_or_else(|| Error::unauthorized("give the team's feed token as ?token="))?;
    let owner = db::teams::id_by_feed_token(&mut conn, &db::tokens::hash(&token)).await?;
    if owner.as_deref() != Some(id) {
        return Err(Error::unauthorized("this is not the team's feed token"));
    }
    let notices = db::notices::published_to(&mut conn, id, 50).await?;
    Ok((team, notices))
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

/// An audit row that records that something happened to a team, without the secret.
async fn audit_plain(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    action: &str,
    id: &str,
    at: &str,
) -> Result<()> {
    Ok(db::audit::append(
        conn,
        &Record::new(&actor.who(), action, "team", Some(id), at),
    )
    .await?)
}
