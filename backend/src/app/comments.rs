//! The discussion on a change: anyone signed in reads it and writes to it, so a PM can ask or
//! decide in writing where the change is. A comment that mentions a team (`@support`, see
//! `shared::comments`) reaches that team twice: in its members' console feed ([`mentions`])
//! and on its webhook (a delivery of event `mention`, `delivery::Message::mention`, sent by
//! the delivery worker like every other).

use shared::comments::{self, Comment, NewComment};
use shared::notices::Audience;
use sqlx::AnyPool;
use time::OffsetDateTime;

use super::{Actor, changes};
use crate::db::{self, audit::Record, deliveries::NewMessage};
use crate::delivery;
use crate::error::{Error, Result};

/// How far back a user's mentions reach in the feed.
pub const MENTION_DAYS: i64 = 14;
/// Most mentions the feed lists.
pub const MAX_MENTIONS: i64 = 50;

/// The discussion on the change `id`, oldest first; 404 for an unknown change.
pub async fn list(pool: &AnyPool, id: &str) -> Result<Vec<Comment>> {
    changes::find(pool, id).await?;
    let mut conn = pool.acquire().await?;
    Ok(db::comments::for_change(&mut conn, id).await?)
}

/// Adds `actor`'s comment to the change `id`. Each `@slug` must name a team (422 on `text`
/// otherwise); the comment, its mentions, their webhook deliveries and the audit row are
/// written together.
pub async fn post(pool: &AnyPool, actor: &Actor, id: &str, input: &NewComment) -> Result<Comment> {
    let change = changes::find(pool, id).await?;
    comments::validate_text(&input.text)?;
    let author_id = actor
        .user_id()
        .ok_or_else(|| Error::forbidden("only people sign comments"))?
        .to_owned();
    let text = input.text.trim().to_owned();
    let mut tx = db::begin(pool).await?;
    let teams = db::comments::teams(&mut tx).await?;
    let mut mentioned: Vec<db::comments::MentionTarget> = Vec::new();
    for slug in comments::mentioned_slugs(&text) {
        let found: Vec<_> = teams
            .iter()
            .filter(|t| comments::team_slug(&t.name) == slug)
            .collect();
        if found.is_empty() {
            let known: Vec<String> = teams
                .iter()
                .map(|t| format!("@{}", comments::team_slug(&t.name)))
                .collect();
            return Err(Error::validation(
                "text",
                format!(
                    "mentions @{slug}, which is no team; the teams are {}",
                    known.join(", ")
                ),
            ));
        }
        for t in found {
            if !mentioned.iter().any(|m| m.id == t.id) {
                mentioned.push(t.clone());
            }
        }
    }
    let comment = Comment {
        id: db::new_id(),
        change_id: change.id.clone(),
        change_title: change.title.clone(),
        author_name: actor.user.name.clone(),
        author_email: actor.user.email.clone(),
        created_at: db::now(),
        text,
        mentions: mentioned
            .iter()
            .map(|t| Audience {
                team_id: t.id.clone(),
                team_name: t.name.clone(),
            })
            .collect(),
    };
    db::comments::insert(&mut tx, &comment, &author_id, &mentioned).await?;
    let hooked: Vec<String> = mentioned
        .iter()
        .filter(|t| t.webhook_url.is_some())
        .map(|t| t.id.clone())
        .collect();
    if !hooked.is_empty() {
        let message = serde_json::to_string(&delivery::Message::mention(&comment))
            .map_err(|e| Error::internal(format!("cannot serialize a mention: {e}")))?;
        let once = format!("mention:{}", comment.id);
        db::deliveries::enqueue_message(
            &mut tx,
            &hooked,
            &NewMessage {
                event: "mention",
                change_id: &change.id,
                message: &message,
                once_key: Some(&once),
                at: &comment.created_at,
            },
        )
        .await?;
    }
    db::audit::append(
        &mut tx,
        &Record::new(
            &actor.who(),
            "comment.create",
            "change",
            Some(&change.id),
            &comment.created_at,
        )
        .after(&comment),
    )
    .await?;
    tx.commit().await?;
    Ok(comment)
}

/// The comments of the last [`MENTION_DAYS`] days that mention a team `user_id` is in, newest
/// first: what the console's feed lists under "Mentions of your teams".
pub async fn mentions(pool: &AnyPool, user_id: &str) -> Result<Vec<Comment>> {
    let since = db::timestamp(OffsetDateTime::now_utc() - time::Duration::days(MENTION_DAYS));
    let mut conn = pool.acquire().await?;
    Ok(db::comments::mentioning_teams_of(&mut conn, user_id, &since, MAX_MENTIONS).await?)
}
