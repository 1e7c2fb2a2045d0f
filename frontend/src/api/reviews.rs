//! The post-deployment review of a change: the parts of its answer the console's form needs,
//! and the whole review as the Markdown document it exports.
//!
//! The review page shows the facts as that document rather than decoding every one of the
//! review's types: the console then carries one small decoder instead of eleven, and the page
//! shows exactly what the export says.

use gloo_net::http::Method;
use serde::Deserialize;
use shared::ab::AbDecisionInput;
use shared::paths;
use shared::review::{ComplaintInput, ReviewInput, WrittenReview};

use super::{ApiResult, encode_json, exchange, send};

/// What the review form needs of `GET /api/v1/changes/{id}/review`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ReviewForm {
    pub title: String,
    pub state: String,
    pub written: Option<WrittenReview>,
    /// "What users noticed" drafted from the complaints, until someone writes it.
    #[serde(default)]
    pub users_noticed_draft: String,
}

pub async fn review_form(change_id: &str) -> ApiResult<ReviewForm> {
    send(Method::GET, &paths::change_review(change_id), None::<&()>).await
}

/// The whole review as Markdown (`GET /api/v1/changes/{id}/review.md`).
pub async fn review_markdown(change_id: &str) -> ApiResult<String> {
    exchange(Method::GET, &paths::change_review_markdown(change_id), None).await
}

/// Writes or edits the parts people write; what the form needs of the review as saved.
pub async fn write_review(change_id: &str, body: &ReviewInput) -> ApiResult<ReviewForm> {
    send(Method::PUT, &paths::change_review(change_id), Some(body)).await
}

/// Records a complaint against a change (`POST /api/v1/changes/{id}/complaints`); the server
/// adds the variant the user had at the time. Only success matters to the caller.
pub async fn record_complaint(change_id: &str, body: &ComplaintInput) -> ApiResult<()> {
    exchange(
        Method::POST,
        &paths::change_complaints(change_id),
        Some(encode_json(body)?),
    )
    .await
    .map(drop)
}

/// Records the decision that ends a change's A/B test (`POST /api/v1/changes/{id}/decision`);
/// the caller reloads the change to show it.
pub async fn record_decision(change_id: &str, body: &AbDecisionInput) -> ApiResult<()> {
    exchange(
        Method::POST,
        &paths::change_decision(change_id),
        Some(encode_json(body)?),
    )
    .await
    .map(drop)
}
