//! Notices: what a change will do to users, told to the teams who face them before a stage
//! starts, and their acknowledgements.

use serde::{Deserialize, Serialize};

use crate::rollout::RolloutState;
use crate::validate::FieldError;

/// Longest expected-changes or talking-points text.
pub const MAX_NOTICE_TEXT: usize = 10_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NoticeStatus {
    /// Being written; edited in place; nobody is told.
    Draft,
    /// Sent to its audience; may be acknowledged.
    Published,
    /// Replaced by a newer published revision.
    Superseded,
}

impl NoticeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeStatus::Draft => "draft",
            NoticeStatus::Published => "published",
            NoticeStatus::Superseded => "superseded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Draft, Self::Published, Self::Superseded]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// Who wrote the notice: a person, or the server after a rollback, full rollout or skip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Manual,
    Rollback,
    Full,
    Skipped,
}

impl NoticeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Manual => "manual",
            NoticeKind::Rollback => "rollback",
            NoticeKind::Full => "full",
            NoticeKind::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Manual, Self::Rollback, Self::Full, Self::Skipped]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A team a notice is addressed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Audience {
    pub team_id: String,
    pub team_name: String,
}

/// A team's acknowledgement: who read it for the team, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Acknowledgement {
    pub team_id: String,
    pub team_name: String,
    pub user_id: String,
    pub user_name: String,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Notice {
    pub id: String,
    pub change_id: String,
    /// The change's title, so that lists of notices read on their own.
    pub change_title: String,
    /// The notice this one replaced (an edit of a published notice), if any.
    pub previous_id: Option<String>,
    pub status: NoticeStatus,
    pub kind: NoticeKind,
    pub audience: Vec<Audience>,
    /// When the stage is planned to start (RFC 3339).
    pub planned_at: Option<String>,
    /// The stage the notice announces.
    pub planned_stage: Option<RolloutState>,
    /// What users may notice, in plain language.
    pub expected_changes: String,
    /// What customer-facing staff can say.
    pub talking_points: String,
    pub created_by: Option<String>,
    pub created_at: String,
    pub published_at: Option<String>,
    pub acknowledgements: Vec<Acknowledgement>,
}

/// Body of `POST /api/v1/changes/{id}/notices` and `PUT /api/v1/notices/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NoticeInput {
    /// Team ids; at least one.
    pub audience: Vec<String>,
    #[serde(default)]
    pub planned_at: Option<String>,
    #[serde(default)]
    pub planned_stage: Option<RolloutState>,
    pub expected_changes: String,
    #[serde(default)]
    pub talking_points: String,
}

/// Body of `POST /api/v1/notices/{id}/acknowledgements`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeBody {
    pub team_id: String,
}

/// Answer of `GET /api/v1/notices/unread`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnreadNotices {
    pub count: usize,
    pub items: Vec<Notice>,
}

/// Checks a notice's text fields (the server checks team ids and the date).
pub fn validate_notice(input: &NoticeInput) -> Result<(), FieldError> {
    if input.audience.is_empty() {
        return Err(FieldError::new(
            "audience",
            "address the notice to at least one team",
        ));
    }
    if input.expected_changes.trim().is_empty() {
        return Err(FieldError::new(
            "expected_changes",
            "say in plain words what users may notice",
        ));
    }
    for (field, text) in [
        ("expected_changes", &input.expected_changes),
        ("talking_points", &input.talking_points),
    ] {
        if text.chars().count() > MAX_NOTICE_TEXT {
            return Err(FieldError::new(
                field,
                format!("keep this to {MAX_NOTICE_TEXT} characters"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in [
            NoticeKind::Manual,
            NoticeKind::Rollback,
            NoticeKind::Full,
            NoticeKind::Skipped,
        ] {
            assert_eq!(NoticeKind::parse(k.as_str()), Some(k));
        }
        for s in [
            NoticeStatus::Draft,
            NoticeStatus::Published,
            NoticeStatus::Superseded,
        ] {
            assert_eq!(NoticeStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn a_notice_needs_an_audience_and_text() {
        let mut n = NoticeInput {
            audience: vec!["t".into()],
            planned_at: None,
            planned_stage: None,
            expected_changes: "Shorter answers in Spanish".into(),
            talking_points: String::new(),
        };
        assert_eq!(validate_notice(&n), Ok(()));
        n.expected_changes = " ".into();
        assert_eq!(validate_notice(&n).unwrap_err().field, "expected_changes");
        n.audience.clear();
        assert_eq!(validate_notice(&n).unwrap_err().field, "audience");
    }
}
