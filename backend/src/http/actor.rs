//! Who is calling. Accounts come later; until then the console (or a script) names the person
//! in the `X-Rollgate-Actor` header and the history stores that name. Handlers take an
//! [`Actor`] and never read the header themselves, so swapping in real authentication later
//! changes this file only.

use std::fmt;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::error::{Error, Result};

pub const HEADER: &str = "X-Rollgate-Actor";
/// The actor when the header is absent: someone using the console without an account.
pub const DEFAULT: &str = "console";
pub const MAX_LEN: usize = 100;

/// The person (or tool) making the request, trimmed, 1–100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(String);

impl Actor {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The actor a header value names. `None` is the header being absent.
    pub fn from_header(value: Option<&[u8]>) -> Result<Self> {
        let Some(bytes) = value else {
            return Ok(Actor(DEFAULT.to_owned()));
        };
        // Header values are bytes; accept UTF-8 so that names like "José" work.
        let text = std::str::from_utf8(bytes)
            .map_err(|_| Error::validation(HEADER, format!("{HEADER} must be UTF-8 text")))?;
        let name = text.trim();
        if name.is_empty() {
            return Err(Error::validation(
                HEADER,
                format!("{HEADER} must not be empty; leave it out to act as \"{DEFAULT}\""),
            ));
        }
        if name.chars().count() > MAX_LEN || name.chars().any(char::is_control) {
            return Err(Error::validation(
                HEADER,
                format!("{HEADER} must be at most {MAX_LEN} printable characters"),
            ));
        }
        Ok(Actor(name.to_owned()))
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self> {
        Actor::from_header(parts.headers.get(HEADER).map(|v| v.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_rules() {
        assert_eq!(Actor::from_header(None).unwrap().as_str(), "console");
        assert_eq!(
            Actor::from_header(Some(b"  ana@example.com "))
                .unwrap()
                .as_str(),
            "ana@example.com"
        );
        assert_eq!(
            Actor::from_header(Some("José".as_bytes()))
                .unwrap()
                .as_str(),
            "José"
        );
        assert!(Actor::from_header(Some(b"   ")).is_err());
        assert!(Actor::from_header(Some("x".repeat(101).as_bytes())).is_err());
        assert!(Actor::from_header(Some(&[0xff, 0xfe])).is_err());
    }
}
