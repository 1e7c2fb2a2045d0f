//! Ingestion tokens: the bearer tokens production apps send metric windows with. The secret is
//! shown once, when the token is created; afterwards only its prefix identifies it.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// Every secret starts with this, so a leaked one is easy to recognise (and to scan for).
pub const SECRET_PREFIX: &str = "rg_ing_";
/// Longest token name.
pub const MAX_NAME: usize = 100;
/// Most changes one token may be limited to.
pub const MAX_CHANGES: usize = 100;

/// What a service token may do. A token holds one or more; each route asks for one.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum TokenScope {
    /// Send metric windows (`POST /api/v1/changes/{id}/metrics`).
    Ingest,
    /// Evaluate flags (OFREP).
    Evaluate,
    /// Drive rollouts from CI pipelines.
    Ci,
}

impl TokenScope {
    /// The serde name: the text in JSON and in storage.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Reads a serde name back; `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// Tokens made without naming scopes may send windows, as every token could before scopes.
pub fn default_scopes() -> Vec<TokenScope> {
    vec![TokenScope::Ingest]
}

/// Body of `POST /api/v1/tokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, e.g. "billing-api production"; 1–100 characters.
    pub name: String,
    /// The one change the token is limited to; absent or null for every change (or for the
    /// changes of `change_ids`).
    #[serde(default)]
    pub change_id: Option<String>,
    /// The changes the token is limited to: it sends windows for them only, and evaluates
    /// only their flags. Absent or null for every change; non-empty when given, each change
    /// once, at most [`MAX_CHANGES`]. Give this or `change_id`, not both.
    #[serde(default)]
    pub change_ids: Option<Vec<String>>,
    /// What the token may do; `["ingest"]` when absent. Non-empty, each scope once.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<TokenScope>,
}

/// A stored token, without its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    /// The first characters of the secret, e.g. `rg_ing_Ab3x`, to recognise it by.
    pub prefix: String,
    /// The change it is limited to when it is limited to exactly one; null otherwise.
    pub change_id: Option<String>,
    /// Every change it is limited to, in id order; empty for every change.
    #[serde(default)]
    pub change_ids: Vec<String>,
    /// What it may do.
    pub scopes: Vec<TokenScope>,
    /// Who created it.
    pub created_by: String,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC; null while the token is valid.
    pub revoked_at: Option<String>,
}

/// Answer of `POST /api/v1/tokens`: the token and, this once, its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenCreated {
    #[serde(flatten)]
    pub token: TokenInfo,
    /// The bearer token (`rg_ing_…`). It is not stored and cannot be shown again.
    pub secret: String,
}

impl NewToken {
    /// The changes the token is to be limited to, trimmed; empty for every change.
    pub fn limit(&self) -> Vec<String> {
        match (&self.change_ids, &self.change_id) {
            (Some(ids), _) => ids.iter().map(|id| id.trim().to_owned()).collect(),
            (None, Some(id)) => vec![id.trim().to_owned()],
            (None, None) => Vec::new(),
        }
    }
}

/// Checks a new token's fields; the server also checks that the changes exist.
pub fn validate_new(t: &NewToken) -> Result<(), FieldError> {
    let name = t.name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(FieldError::new(
            "name",
            format!("must be 1–{MAX_NAME} printable characters"),
        ));
    }
    if t.change_id.as_deref().is_some_and(|c| c.trim().is_empty()) {
        return Err(FieldError::new(
            "change_id",
            "must be a change id, or null for every change",
        ));
    }
    if let Some(ids) = &t.change_ids {
        if t.change_id.is_some() {
            return Err(FieldError::new(
                "change_ids",
                "give either `change_id` or `change_ids`, not both",
            ));
        }
        if ids.is_empty() || ids.len() > MAX_CHANGES {
            return Err(FieldError::new(
                "change_ids",
                format!("must list 1–{MAX_CHANGES} change ids, or be null for every change"),
            ));
        }
        for (i, id) in ids.iter().enumerate() {
            if id.trim().is_empty() {
                return Err(FieldError::new(
                    format!("change_ids[{i}]"),
                    "must be a change id",
                ));
            }
            if ids[..i].iter().any(|other| other.trim() == id.trim()) {
                return Err(FieldError::new(
                    format!("change_ids[{i}]"),
                    format!("`{}` is listed twice", id.trim()),
                ));
            }
        }
    }
    if t.scopes.is_empty() {
        return Err(FieldError::new("scopes", "must name at least one scope"));
    }
    for (i, scope) in t.scopes.iter().enumerate() {
        if t.scopes[..i].contains(scope) {
            return Err(FieldError::new(
                format!("scopes[{i}]"),
                format!("`{}` is listed twice", scope.as_str()),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_required() {
        let t = |name: &str, change: Option<&str>| NewToken {
            name: name.into(),
            change_id: change.map(Into::into),
            change_ids: None,
            scopes: default_scopes(),
        };
        assert!(validate_new(&t("billing-api prod", None)).is_ok());
        assert_eq!(validate_new(&t("  ", None)).unwrap_err().field, "name");
        assert_eq!(
            validate_new(&t(&"x".repeat(101), None)).unwrap_err().field,
            "name"
        );
        assert_eq!(
            validate_new(&t("ok", Some(""))).unwrap_err().field,
            "change_id"
        );
    }

    #[test]
    fn scopes_are_listed_once_and_default_to_ingest() {
        let t: NewToken = serde_json::from_str(r#"{"name":"ci"}"#).unwrap();
        assert_eq!(t.scopes, vec![TokenScope::Ingest]);
        let with = |scopes: Vec<TokenScope>| NewToken {
            scopes,
            ..t.clone()
        };
        assert!(validate_new(&with(vec![TokenScope::Evaluate, TokenScope::Ci])).is_ok());
        assert_eq!(validate_new(&with(vec![])).unwrap_err().field, "scopes");
        let twice = with(vec![TokenScope::Ci, TokenScope::Ingest, TokenScope::Ci]);
        assert_eq!(validate_new(&twice).unwrap_err().field, "scopes[2]");
    }

    #[test]
    fn a_token_may_be_limited_to_several_changes() {
        let t: NewToken =
            serde_json::from_str(r#"{"name":"ci","change_ids":[" a ","b"]}"#).unwrap();
        assert!(validate_new(&t).is_ok());
        assert_eq!(t.limit(), ["a", "b"]);
        let one: NewToken = serde_json::from_str(r#"{"name":"ci","change_id":"a"}"#).unwrap();
        assert_eq!(one.limit(), ["a"]);
        let all: NewToken = serde_json::from_str(r#"{"name":"ci"}"#).unwrap();
        assert!(all.limit().is_empty());
        let field = |json: &str| {
            let t: NewToken = serde_json::from_str(json).unwrap();
            validate_new(&t).unwrap_err().field
        };
        assert_eq!(field(r#"{"name":"n","change_ids":[]}"#), "change_ids");
        assert_eq!(
            field(r#"{"name":"n","change_ids":["a"," "]}"#),
            "change_ids[1]"
        );
        assert_eq!(
            field(r#"{"name":"n","change_ids":["a","b","a "]}"#),
            "change_ids[2]"
        );
        assert_eq!(
            field(r#"{"name":"n","change_id":"a","change_ids":["b"]}"#),
            "change_ids"
        );
    }

    #[test]
    fn created_tokens_serialize_flat() {
        let c = TokenCreated {
            token: TokenInfo {
                id: "t1".into(),
                name: "n".into(),
                prefix: "rg_ing_abcd".into(),
                change_id: None,
                change_ids: Vec::new(),
                scopes: vec![TokenScope::Ingest, TokenScope::Evaluate],
                created_by: "console".into(),
                created_at: "2025-01-01T00:00:00.000000Z".into(),
                revoked_at: None,
            },
            secret: "rg_ing_secret".into(),
        };
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["id"], "t1");
        assert_eq!(v["secret"], "rg_ing_secret");
        let back: TokenCreated = serde_json::from_value(v).unwrap();
        assert_eq!(back, c);
    }
}
