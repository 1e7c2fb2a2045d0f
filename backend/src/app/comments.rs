//! The discussion on a change: anyone signed in reads it and writes to it, so a PM can ask or
//! decide in writing where the change is. A comment that mentions a team (`@support`, see
//! `shared::comments`) reaches that team twice: in its members' console feed ([`mentions`])
//! and on its webhook, through a queue the delivery worker also works ([`deliver_one`]).

use serde_json::{Value, json};
use shared::comments::{self, Comment, NewComment};
use shared::notices::{Audience, chat_text};
use sqlx::AnyPool;
use time::OffsetDateTime;

use super::{Actor, changes};
use crate::db::{self, audit::Record};
use crate::delivery::{self, Config, HttpClient};
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

/// The webhook body of a mention, in the shape of the notices' ([`delivery::body`]): every
/// text people wrote goes through [`chat_text`], and the title links to the change page only
/// under a public address.
pub fn body(c: &Comment, public_url: Option<&str>) -> Value {
    let title = chat_text(&c.change_title);
    let teams: Vec<String> = c.mentions.iter().map(|m| chat_text(&m.team_name)).collect();
    let mut attachment = json!({
        "title": title,
        "fields": [
            {"title": "Comment", "value": chat_text(&c.text), "short": false},
            {"title": "Mentions", "value": teams.join(", "), "short": true},
        ],
    });
    if let Some(base) = public_url {
        attachment["title_link"] = json!(format!("{base}/changes/{}", c.change_id));
    }
    json!({
        "text": format!("{} mentioned your team on {title}", chat_text(&c.author_name)),
        "attachments": [attachment],
        "rollgate": {"comment_id": c.id, "change_id": c.change_id, "kind": "mention"},
    })
}

/// Sends the most overdue mention delivery, if one is due; whether one was. Retried and
/// given up like a notice's delivery (`crate::delivery`).
pub(crate) async fn deliver_one(
    pool: &AnyPool,
    client: &HttpClient,
    config: &Config,
) -> Result<bool> {
    let now = OffsetDateTime::now_utc();
    let until = now + config.timeout + std::time::Duration::from_secs(30);
    let Some(d) =
        db::comments::claim_delivery(pool, &db::timestamp(now), &db::timestamp(until)).await?
    else {
        return Ok(false);
    };
    let comment = {
        let mut conn = pool.acquire().await?;
        db::comments::find(&mut conn, &d.comment_id).await?
    };
    let outcome = match comment {
        None => Err("the comment no longer exists".to_owned()),
        Some(c) => {
            let body = body(&c, config.public_url.as_deref());
            delivery::send(client, config, &d.url, d.secret.as_deref(), &body).await
        }
    };
    let at = db::now();
    match outcome {
        Ok(()) => {
            db::comments::delivery_outcome(pool, &d.id, None, None, &at).await?;
            tracing::info!(delivery = %d.id, team = %d.team_id, "mention webhook delivered");
        }
        Err(error) => {
            let next = (d.attempt < config.max_attempts).then(|| {
                db::timestamp(OffsetDateTime::now_utc() + delivery::backoff(config, d.attempt))
            });
            tracing::warn!(delivery = %d.id, attempt = d.attempt, %error, "mention webhook attempt failed");
            db::comments::delivery_outcome(pool, &d.id, Some(&error), next.as_deref(), &at).await?;
        }
    }
    Ok(true)
}
