//! Teams that are told about changes (support, marketing, downstream consumers): who is in
//! them and where their notices go. The server enforces these rules; the console can check
//! them before sending.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// Longest team name.
pub const MAX_TEAM_NAME: usize = 100;
/// Longest webhook URL.
pub const MAX_WEBHOOK_URL: usize = 2048;
/// The team whose acknowledgement gates standard- and high-risk rollouts.
pub const SUPPORT_TEAM: &str = "Support";
/// Webhook signing secrets and Atom feed tokens start with these, so that one is
/// recognisable in a leaked log.
pub const WEBHOOK_SECRET_PREFIX: &str = "rg_whs_";
pub const FEED_TOKEN_PREFIX: &str = "rg_feed_";

/// A member as the API shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TeamMember {
    pub user_id: String,
    pub name: String,
    pub email: String,
}

/// A team. Its webhook secret and feed token are never shown here: only once, when made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Team {
    pub id: String,
    pub name: String,
    pub members: Vec<TeamMember>,
    /// Where published notices are posted (http or https), if anywhere.
    pub webhook_url: Option<String>,
    /// Whether an Atom feed token exists (`POST /teams/{id}/feed-token` makes a new one).
    pub has_feed_token: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// Body of `POST /api/v1/teams` and `PUT /api/v1/teams/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TeamInput {
    pub name: String,
    /// User ids.
    #[serde(default)]
    pub members: Vec<String>,
    #[serde(default)]
    pub webhook_url: Option<String>,
}

/// Answer of `POST /api/v1/teams`: the team and its webhook signing secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatedTeam {
    pub team: Team,
    pub webhook_secret: String,
}

/// Answer of `POST /api/v1/teams/{id}/secret`: the new signing secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookSecret {
    pub webhook_secret: String,
}

/// Answer of `POST /api/v1/teams/{id}/feed-token`: the new token, shown this once, and the
/// feed's path with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FeedToken {
    pub feed_token: String,
    pub feed_path: String,
}

/// Checks a team's name and webhook URL; returns them trimmed.
pub fn validate_team(input: &TeamInput) -> Result<(String, Option<String>), FieldError> {
    let name = input.name.trim();
    if name.is_empty() {
        return Err(FieldError::new("name", "give the team a name"));
    }
    if name.chars().count() > MAX_TEAM_NAME {
        return Err(FieldError::new(
            "name",
            format!("keep the name to {MAX_TEAM_NAME} characters"),
        ));
    }
    let url = match input.webhook_url.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(u) => {
            let rest = u
                .strip_prefix("https://")
                .or_else(|| u.strip_prefix("http://"));
            let host_ok = rest.is_some_and(|r| {
                let host = r.split(['/', '?', '#']).next().unwrap_or("");
                !host.is_empty() && !host.contains(char::is_whitespace)
            });
            if !host_ok || u.contains(char::is_whitespace) {
                return Err(FieldError::new(
                    "webhook_url",
                    "give an http:// or https:// URL with a host",
                ));
            }
            if u.len() > MAX_WEBHOOK_URL {
                return Err(FieldError::new(
                    "webhook_url",
                    format!("keep the URL to {MAX_WEBHOOK_URL} characters"),
                ));
            }
            Some(u.to_owned())
        }
    };
    Ok((name.to_owned(), url))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, url: Option<&str>) -> TeamInput {
        TeamInput {
            name: name.to_owned(),
            members: vec![],
            webhook_url: url.map(str::to_owned),
        }
    }

    #[test]
    fn names_and_urls() {
        assert_eq!(
            validate_team(&input(" Support ", Some("https://chat.example/hook"))),
            Ok((
                "Support".to_owned(),
                Some("https://chat.example/hook".to_owned())
            ))
        );
        assert_eq!(
            validate_team(&input("X", Some(""))),
            Ok(("X".to_owned(), None))
        );
        assert_eq!(validate_team(&input("  ", None)).unwrap_err().field, "name");
        for bad in ["ftp://x", "https://", "chat.example", "http://a b"] {
            assert_eq!(
                validate_team(&input("X", Some(bad))).unwrap_err().field,
                "webhook_url",
                "{bad}"
            );
        }
    }
}
