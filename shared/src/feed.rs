//! The support change feed: what is live, or changed lately, for which audience.

use serde::{Deserialize, Serialize};

use crate::change::ChangeKind;
use crate::notices::{Audience, Notice};
use crate::rollout::RolloutState;

/// Default look-back of the feed, in days.
pub const DEFAULT_DAYS: u32 = 14;
/// Longest look-back.
pub const MAX_DAYS: u32 = 365;

/// One change as support staff need to see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedItem {
    pub change_id: String,
    pub title: String,
    pub kind: ChangeKind,
    /// What users may notice, from the change itself.
    pub expected_changes: String,
    pub product_area: Option<String>,
    /// Teams its published notices went to.
    pub audiences: Vec<Audience>,
    /// Where the rollout stood at the feed's time, its label and traffic share.
    pub state: RolloutState,
    pub state_label: String,
    pub traffic_percent: f64,
    /// When it entered that stage (RFC 3339).
    pub since: String,
    /// The newest published notice at the feed's time.
    pub latest_notice: Option<Notice>,
}

/// Answer of `GET /api/v1/feed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Feed {
    /// The moment the feed describes (now, or the `at` asked for).
    pub at: String,
    pub days: u32,
    pub items: Vec<FeedItem>,
}

/// Whether `needle` (already lowercased) occurs in any of `texts`, ignoring case.
pub fn matches_query(needle: &str, texts: &[&str]) -> bool {
    needle.is_empty() || texts.iter().any(|t| t.to_lowercase().contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_ignore_case() {
        assert!(matches_query(
            "spanish",
            &["x", "Shorter answers in Spanish"]
        ));
        assert!(!matches_query("refusal", &["Shorter answers"]));
        assert!(matches_query("", &[]));
    }
}
