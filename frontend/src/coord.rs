//! Wire types of team coordination (teams, notices, the support feed, webhook deliveries), as
//! the console reads them.
//!
//! Why here and not in `shared`: the server's types were being written at the same time as
//! this console. These mirror the planned API and read leniently (every field defaults, unknown
//! fields are ignored), so a field the server adds or leaves out degrades a view instead of
//! failing it. Replace them with `shared::notices` / `shared::teams` once those exist.

use serde::{Deserialize, Serialize};

/// Someone as the API names them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub email: String,
}

impl Person {
    /// The name, or the e-mail when there is no name.
    pub fn label(&self) -> &str {
        if self.name.is_empty() {
            &self.email
        } else {
            &self.name
        }
    }
}

/// `GET /api/v1/teams`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Team {
    pub id: String,
    pub name: String,
    pub members: Vec<Person>,
    pub webhook_url: Option<String>,
    pub has_feed_token: bool,
    pub has_secret: bool,
}

/// Body of `POST /api/v1/teams` and `PUT /api/v1/teams/{id}`: members by user id.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TeamWrite {
    pub name: String,
    pub members: Vec<String>,
    pub webhook_url: Option<String>,
}

/// A secret or feed URL shown once.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct OneTime {
    pub secret: Option<String>,
    pub url: Option<String>,
    pub token: Option<String>,
}

impl OneTime {
    pub fn value(&self) -> String {
        self.url
            .clone()
            .or_else(|| self.secret.clone())
            .or_else(|| self.token.clone())
            .unwrap_or_default()
    }
}

/// One team's acknowledgement of a notice revision.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ack {
    pub team_id: String,
    pub team_name: String,
    pub user: Option<Person>,
    pub at: Option<String>,
}

/// A team a notice is addressed to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Audience {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Notice {
    pub id: String,
    pub change_id: String,
    pub change_title: String,
    /// `manual`, `rollback`, `full` or `skipped`.
    pub kind: String,
    /// `draft` or `published`.
    pub status: String,
    pub revision: i64,
    pub audience: Vec<Audience>,
    /// RFC 3339.
    pub planned_at: Option<String>,
    pub stage: Option<String>,
    pub behaviour_changes: String,
    pub talking_points: String,
    pub author: Option<Person>,
    pub published_at: Option<String>,
    pub created_at: String,
    pub acknowledgements: Vec<Ack>,
    pub read: bool,
}

impl Notice {
    pub fn ack_of(&self, team_id: &str) -> Option<&Ack> {
        self.acknowledgements
            .iter()
            .find(|a| a.team_id == team_id && a.at.is_some())
    }
}

/// Body of `POST /api/v1/changes/{id}/notices` and `PUT /api/v1/notices/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NoticeDraft {
    pub audience: Vec<String>,
    pub planned_at: Option<String>,
    pub stage: Option<String>,
    pub behaviour_changes: String,
    pub talking_points: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Unread {
    pub count: u32,
    pub items: Vec<Notice>,
}

/// One change in the support feed.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct FeedItem {
    pub change_id: String,
    pub title: String,
    pub state: String,
    pub state_label: String,
    pub traffic_percent: f64,
    pub since: Option<String>,
    pub what_changed: String,
    pub expected_changes: String,
    pub product_area: Option<String>,
    pub audiences: Vec<Audience>,
    pub notice: Option<Notice>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Feed {
    pub items: Vec<FeedItem>,
    pub at: Option<String>,
}

/// An outgoing webhook call.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct Delivery {
    pub id: String,
    pub team_id: String,
    pub team_name: String,
    pub notice_id: String,
    pub url: String,
    /// `pending`, `delivered`, `failed`.
    pub status: String,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub created_at: String,
    pub updated_at: Option<String>,
}

/// Filters of the support feed, as kept in the URL query; empty strings are left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedQuery {
    pub q: String,
    pub area: String,
    pub audience: String,
    pub days: String,
    /// RFC 3339: what was live then.
    pub at: String,
}

impl FeedQuery {
    pub fn params(&self) -> Vec<(&'static str, String)> {
        [
            ("q", &self.q),
            ("area", &self.area),
            ("audience", &self.audience),
            ("days", &self.days),
            ("at", &self.at),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k, v.trim().to_string()))
        .collect()
    }
}
