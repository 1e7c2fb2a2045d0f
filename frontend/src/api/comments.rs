//! The discussion on a change, and the comments that mention the user's teams.

use gloo_net::http::Method;
use shared::comments::{Comment, NewComment};
use shared::paths;

use super::{ApiResult, send};

pub async fn comments(change_id: &str) -> ApiResult<Vec<Comment>> {
    let path = paths::change_comments(change_id);
    send(Method::GET, &path, None::<&()>).await
}

/// Adds a comment; the discussion is read again after, so the answer is not decoded.
pub async fn post_comment(change_id: &str, body: &NewComment) -> ApiResult<()> {
    let path = paths::change_comments(change_id);
    let _: serde::de::IgnoredAny = send(Method::POST, &path, Some(body)).await?;
    Ok(())
}

/// Comments of the last 14 days that mention a team the user is in, newest first.
pub async fn mentions() -> ApiResult<Vec<Comment>> {
    send(Method::GET, paths::MENTIONS, None::<&()>).await
}
