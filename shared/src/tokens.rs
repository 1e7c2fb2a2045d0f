//! Ingestion tokens: the bearer tokens production apps send metric windows with. The secret is
//! shown once, when the token is created; afterwards only its prefix identifies it.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// Every secret starts with this, so a leaked one is easy to recognise (and to scan for).
pub const SECRET_PREFIX: &str = "rg_ing_";
/// Longest token name.
pub const MAX_NAME: usize = 100;

/// Body of `POST /api/v1/tokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, e.g. "billing-api production"; 1–100 characters.
    pub name: String,
    /// The change the token may send windows for; absent or null for every change.
    #[serde(default)]
    pub change_id: Option<String>,
}

/// A stored token, without its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    /// The first characters of the secret, e.g. `rg_ing_Ab3x`, to recognise it by.
    pub prefix: String,
    /// The one change it may send windows for; null for every change.
    pub change_id: Option<String>,
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

/// Checks a new token's fields; the server also checks that the change exists.
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
    fn created_tokens_serialize_flat() {
        let c = TokenCreated {
            token: TokenInfo {
                id: "t1".into(),
                name: "n".into(),
                prefix: "rg_ing_abcd".into(),
                change_id: None,
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
