//! Accounts: the roles people hold, the users and sessions the API exchanges, and the rules
//! their fields follow. The server enforces these; the console can check them before sending.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// Shortest password accepted. Length beats composition rules (NIST SP 800-63B §5.1.1.2).
pub const MIN_PASSWORD: usize = 12;
/// Longest password accepted: Argon2 takes any length, but a megabyte "password" is an attack
/// on the server's memory, not a secret.
pub const MAX_PASSWORD: usize = 1024;
/// Longest display name and e-mail address.
pub const MAX_NAME: usize = 100;
pub const MAX_EMAIL: usize = 254;

/// What someone may do in Rollgate. A user holds one or more.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Role {
    /// Manages users, roles, service tokens and approval policies; may skip a stage.
    Admin,
    /// Registers changes, runs rollouts, rolls back.
    Engineer,
    /// Edits changes, signs gates that ask for a product manager, reads the audit log.
    Pm,
    /// Reads everything; is told what changes.
    Support,
    /// Signs gates that ask for an approver; may roll back; reads the audit log.
    Approver,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Engineer,
        Role::Pm,
        Role::Support,
        Role::Approver,
    ];

    /// The serde name: the text in JSON, in storage and in query strings.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Reads a serde name back; `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Engineer => "Engineer",
            Role::Pm => "Product manager",
            Role::Support => "Support",
            Role::Approver => "Approver",
        }
    }
}

/// A user as the API shows it (never with a password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
    /// A disabled user cannot sign in; their sessions stop working.
    pub disabled: bool,
    /// RFC 3339, UTC.
    pub created_at: String,
}

impl User {
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub fn has_any(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| self.has_role(*r))
    }
}

/// Body of `POST /api/v1/session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// Answer of `POST` and `GET /api/v1/session`: who is signed in, and the token every
/// mutating request must echo in the `X-CSRF-Token` header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    pub user: User,
    pub csrf_token: String,
    /// When the session ends, RFC 3339 UTC.
    pub expires_at: String,
}

/// One demo account, for the login page of a demo workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DemoUser {
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
}

/// `GET /api/v1/session/demo-users` (demo mode only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DemoUsers {
    /// The one password of every demo account.
    pub password: String,
    pub users: Vec<DemoUser>,
}

/// Body of `POST /api/v1/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    pub roles: Vec<Role>,
    /// The initial password, at least 12 characters.
    pub password: String,
}

/// Body of `PUT /api/v1/users/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    pub name: String,
    pub roles: Vec<Role>,
    pub disabled: bool,
}

/// An e-mail address as compared: trimmed and lowercased, so `Ana@X.org` and `ana@x.org` are
/// one account.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A plausible address: one `@` with text on both sides, no spaces, at most 254 characters.
/// Deliverability is not checked; nobody is e-mailed.
pub fn validate_email(email: &str) -> Result<(), FieldError> {
    let e = email.trim();
    let ok = e.chars().count() <= MAX_EMAIL
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        });
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            "email",
            "must be an e-mail address such as ana@example.com",
        ))
    }
}

pub fn validate_name(name: &str) -> Result<(), FieldError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > MAX_NAME || n.chars().any(char::is_control) {
        return Err(FieldError::new(
            "name",
            format!("must be 1–{MAX_NAME} printable characters"),
        ));
    }
    Ok(())
}

pub fn validate_roles(roles: &[Role]) -> Result<(), FieldError> {
    if roles.is_empty() {
        return Err(FieldError::new("roles", "a user needs at least one role"));
    }
    for (i, r) in roles.iter().enumerate() {
        if roles[..i].contains(r) {
            return Err(FieldError::new(
                format!("roles[{i}]"),
                format!("`{}` is listed twice", r.as_str()),
            ));
        }
    }
    Ok(())
}

pub fn validate_password(password: &str) -> Result<(), FieldError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD {
        return Err(FieldError::new(
            "password",
            format!("must be at least {MIN_PASSWORD} characters"),
        ));
    }
    if password.len() > MAX_PASSWORD {
        return Err(FieldError::new(
            "password",
            format!("must be at most {MAX_PASSWORD} bytes"),
        ));
    }
    Ok(())
}

pub fn validate_new_user(u: &NewUser) -> Result<(), FieldError> {
    validate_email(&u.email)?;
    validate_name(&u.name)?;
    validate_roles(&u.roles)?;
    validate_password(&u.password)
}

pub fn validate_user_update(u: &UserUpdate) -> Result<(), FieldError> {
    validate_name(&u.name)?;
    validate_roles(&u.roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn emails_compare_case_insensitively() {
        assert_eq!(email_key("  Ana@Example.ORG "), "ana@example.org");
        assert!(validate_email("ana@example.org").is_ok());
        for bad in ["", "ana", "@x", "ana@", "a b@x.org", "a@b@c"] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn user_rules() {
        let u = NewUser {
            email: "ana@example.org".into(),
            name: "Ana".into(),
            roles: vec![Role::Engineer],
            password: "correct horse battery".into(),
        };
        assert!(validate_new_user(&u).is_ok());
        let short = NewUser {
            password: "short".into(),
            ..u.clone()
        };
        assert_eq!(validate_new_user(&short).unwrap_err().field, "password");
        let none = NewUser {
            roles: vec![],
            ..u.clone()
        };
        assert_eq!(validate_new_user(&none).unwrap_err().field, "roles");
        let twice = NewUser {
            roles: vec![Role::Pm, Role::Pm],
            ..u
        };
        assert_eq!(validate_new_user(&twice).unwrap_err().field, "roles[1]");
    }
}
