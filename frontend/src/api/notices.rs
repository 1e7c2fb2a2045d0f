//! Telling teams: teams and their webhooks and feeds, notices, the change feed and the
//! webhook deliveries.

use gloo_net::http::Method;
use serde::Deserialize;
use shared::feed::Feed;
use shared::notices::{AcknowledgeBody, Delivery, Notice, NoticeInput, UnreadNotices};
use shared::paths;
use shared::teams::{CreatedTeam, FeedToken, Team, TeamInput, WebhookSecret};

use super::{ApiResult, query, send};
use crate::coord::FeedQuery;

pub async fn teams() -> ApiResult<Vec<Team>> {
    send(Method::GET, paths::TEAMS, None::<&()>).await
}

/// Creates a team; the answer carries its webhook signing secret, shown this once.
pub async fn create_team(body: &TeamInput) -> ApiResult<CreatedTeam> {
    send(Method::POST, paths::TEAMS, Some(body)).await
}

pub async fn update_team(id: &str, body: &TeamInput) -> ApiResult<Team> {
    send(Method::PUT, &paths::team(id), Some(body)).await
}

/// Rotates the team's webhook signing secret; the answer is the only time it is shown.
pub async fn rotate_team_secret(id: &str) -> ApiResult<WebhookSecret> {
    let path = paths::team_secret(id);
    send(Method::POST, &path, None::<&()>).await
}

/// A new Atom feed URL (with its token) for the team; shown once.
pub async fn create_feed_token(id: &str) -> ApiResult<FeedToken> {
    let path = paths::team_feed_token(id);
    send(Method::POST, &path, None::<&()>).await
}

pub async fn notices(change_id: &str) -> ApiResult<Vec<Notice>> {
    let path = paths::change_notices(change_id);
    send(Method::GET, &path, None::<&()>).await
}

pub async fn create_notice(change_id: &str, body: &NoticeInput) -> ApiResult<Notice> {
    let path = paths::change_notices(change_id);
    send(Method::POST, &path, Some(body)).await
}

/// Edits a notice; a published one becomes a new revision that needs fresh acknowledgements.
pub async fn update_notice(id: &str, body: &NoticeInput) -> ApiResult<Notice> {
    send(Method::PUT, &paths::notice(id), Some(body)).await
}

pub async fn publish_notice(id: &str) -> ApiResult<Notice> {
    let path = paths::notice_publish(id);
    send(Method::POST, &path, None::<&()>).await
}

/// Acknowledges the notice for `team_id`, a team the user belongs to.
/// Answers the notice with its acknowledgements.
pub async fn acknowledge(id: &str, team_id: &str) -> ApiResult<Notice> {
    let path = paths::notice_acknowledgements(id);
    let body = AcknowledgeBody {
        team_id: team_id.to_string(),
    };
    let notice = send(Method::POST, &path, Some(&body)).await?;
    // Acknowledging is reading: it leaves the user's unread list too.
    mark_read(id).await?;
    Ok(notice)
}

pub async fn mark_read(id: &str) -> ApiResult<()> {
    let path = paths::notice_read(id);
    let _: serde::de::IgnoredAny = send(Method::POST, &path, None::<&()>).await?;
    Ok(())
}

pub async fn unread() -> ApiResult<UnreadNotices> {
    send(Method::GET, paths::UNREAD_NOTICES, None::<&()>).await
}

/// How many notices the user has not read: the count of [`unread`] without decoding the
/// notices, for the top bar's badge.
pub async fn unread_count() -> ApiResult<usize> {
    #[derive(Deserialize)]
    struct Count {
        count: usize,
    }
    let unread: Count = send(Method::GET, paths::UNREAD_NOTICES, None::<&()>).await?;
    Ok(unread.count)
}

pub async fn feed(q: &FeedQuery) -> ApiResult<Feed> {
    let path = format!("{}{}", paths::FEED, query(&q.params()));
    send(Method::GET, &path, None::<&()>).await
}

pub async fn deliveries() -> ApiResult<Vec<Delivery>> {
    send(Method::GET, paths::DELIVERIES, None::<&()>).await
}

pub async fn resend_delivery(id: &str) -> ApiResult<()> {
    let path = paths::delivery_resend(id);
    let _: serde::de::IgnoredAny = send(Method::POST, &path, None::<&()>).await?;
    Ok(())
}
