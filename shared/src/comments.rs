//! The discussion on a change: comments anyone signed in writes, and the teams they mention.
//!
//! A comment mentions a team by `@` and the team's slug: its name in lower case, every run of
//! other characters than ASCII letters and digits one `-` ("Support" is `@support`, "Trust &
//! Safety" is `@trust-safety`). A mention starts at the beginning of the text or after a
//! character that is not a letter, a digit, `.`, `_` or `-`, so an e-mail address
//! (`ana@example.com`) mentions nobody. Every mentioned team hears of the comment in its
//! members' console feed and on its webhook.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::notices::Audience;

/// Longest comment, in characters.
pub const MAX_COMMENT: usize = 4_000;

/// One comment on a change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Comment {
    pub id: String,
    pub change_id: String,
    pub change_title: String,
    /// Who wrote it: the account's name and e-mail address.
    pub author_name: String,
    pub author_email: String,
    /// RFC 3339.
    pub created_at: String,
    pub text: String,
    /// The teams it mentions, by name.
    pub mentions: Vec<Audience>,
}

/// Body of `POST /api/v1/changes/{id}/comments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// 1–4 000 characters; `@team` mentions a team (its name in lower case, spaces as `-`).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 4000))]
    pub text: String,
}

/// The text of a new comment: 1–[`MAX_COMMENT`] characters, not blank.
pub fn validate_text(text: &str) -> Result<(), FieldError> {
    let t = text.trim();
    if t.is_empty() || t.chars().count() > MAX_COMMENT {
        return Err(FieldError::new(
            "text",
            format!("must be 1–{MAX_COMMENT} characters"),
        ));
    }
    crate::validate::no_nul("text", t)
}

/// The slug a team is mentioned by: `Trust & Safety` → `trust-safety`.
pub fn team_slug(name: &str) -> String {
    let mut slug = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug
}

/// The slugs `text` mentions, lower-cased, each once, in the order they first appear.
pub fn mentioned_slugs(text: &str) -> Vec<String> {
    let word = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-');
    let mut out: Vec<String> = Vec::new();
    let mut previous = None::<char>;
    for (i, c) in text.char_indices() {
        if c == '@' && !previous.is_some_and(word) {
            let rest = &text[i + 1..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .unwrap_or(rest.len());
            let slug = rest[..end].trim_end_matches('-').to_ascii_lowercase();
            if !slug.is_empty() && !out.contains(&slug) {
                out.push(slug);
            }
        }
        previous = Some(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lower_case_names_with_dashes() {
        assert_eq!(team_slug("Support"), "support");
        assert_eq!(team_slug("Trust & Safety"), "trust-safety");
        assert_eq!(team_slug("  EU  billing 2 "), "eu-billing-2");
    }

    #[test]
    fn mentions_are_found_once_and_not_in_addresses() {
        assert_eq!(
            mentioned_slugs("@Support please check; cc @marketing, @support again."),
            ["support", "marketing"]
        );
        assert_eq!(mentioned_slugs("(@trust-safety-) ok"), ["trust-safety"]);
        assert!(mentioned_slugs("mail ana@example.com or @ alone").is_empty());
        assert!(mentioned_slugs("").is_empty());
    }

    #[test]
    fn text_is_one_to_four_thousand_characters() {
        assert!(validate_text("Why is cost up?").is_ok());
        assert_eq!(validate_text("  ").unwrap_err().field, "text");
        assert!(validate_text(&"é".repeat(MAX_COMMENT)).is_ok());
        assert_eq!(
            validate_text(&"x".repeat(MAX_COMMENT + 1))
                .unwrap_err()
                .field,
            "text"
        );
        assert_eq!(validate_text("a\0b").unwrap_err().field, "text");
    }
}
