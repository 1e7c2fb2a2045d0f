//! Who may call what: the role sets of the API's routes, declared once here so that the
//! server's authorization (the `Require<…>` extractor in each handler's signature, the table
//! derived from it, the OpenAPI document) and the console's checks read the same sets.
//!
//! A route names its audience by a marker type ([`Editors`], [`Admins`], …) implementing
//! [`Audience`]; the marker's [`Rule`] is the one declaration the rest derives from.

use crate::auth::Role;
use crate::rollout::TransitionAction;

use Role::{Admin, Approver, Engineer, Pm};

/// What a route asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user.
    AnyUser,
    /// A signed-in user holding at least one of these roles.
    Roles(&'static [Role]),
    /// A service token of this scope (`Authorization: Bearer rg_ing_…`), checked by the
    /// route's extractor; session cookies do not count.
    ServiceToken(&'static str),
}

/// Create and edit a change, its metric catalogue and its notices.
pub const EDITORS: &[Role] = &[Engineer, Pm, Admin];
/// Users, roles, service tokens, approval policies, teams, deliveries.
pub const ADMINS: &[Role] = &[Admin];
/// Read and export the audit log.
pub const AUDITORS: &[Role] = &[Admin, Approver, Pm];
/// Anyone who may make at least one transition; [`transition_roles`] decides per action.
pub const MOVERS: &[Role] = &[Engineer, Approver, Admin];

/// Every role set a route may ask for, so that a set read back from the OpenAPI document
/// finds its declaration.
pub const ROLE_SETS: &[&[Role]] = &[EDITORS, ADMINS, AUDITORS, MOVERS];

/// Who may make a transition. Rolling back is open to approvers too and never waits for a
/// gate; skipping needs an admin (and the written justification the state machine asks for).
/// Pausing and resuming are open to whoever may advance or roll back.
pub fn transition_roles(action: TransitionAction) -> &'static [Role] {
    match action {
        TransitionAction::Advance => &[Engineer, Admin],
        TransitionAction::Skip => &[Admin],
        TransitionAction::RollBack | TransitionAction::Pause | TransitionAction::Resume => {
            &[Engineer, Approver, Admin]
        }
    }
}

/// The audience of a route, as a type: the server's `Require<A>` extractor enforces
/// `A::RULE`, and the authorization table is read from the same parameter.
pub trait Audience {
    const RULE: Rule;
}

/// Role sets as types, for `Require<…>`.
pub trait RoleSet {
    const ROLES: &'static [Role];
}

macro_rules! role_set {
    ($(#[$doc:meta])* $name:ident = $roles:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name;
        impl RoleSet for $name {
            const ROLES: &'static [Role] = $roles;
        }
        impl Audience for $name {
            const RULE: Rule = Rule::Roles($roles);
        }
    };
}

/// Any signed-in user, whatever their roles.
#[derive(Debug, Clone, Copy)]
pub struct AnyUser;

impl Audience for AnyUser {
    const RULE: Rule = Rule::AnyUser;
}

role_set!(
    /// [`EDITORS`].
    Editors = EDITORS
);
role_set!(
    /// [`ADMINS`].
    Admins = ADMINS
);
role_set!(
    /// [`AUDITORS`].
    Auditors = AUDITORS
);
role_set!(
    /// [`MOVERS`].
    Movers = MOVERS
);

/// Role names joined for a sentence: `admin`, `engineer or admin`, `engineer, pm or admin`.
pub fn role_names(roles: &[Role]) -> String {
    let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
    match names.len() {
        0 => "(none)".to_owned(),
        1 => names[0].to_owned(),
        n => format!("{} or {}", names[..n - 1].join(", "), names[n - 1]),
    }
}

/// Why `what` is refused to a user who holds none of `roles`.
pub fn refusal(what: &str, roles: &[Role], email: &str, held: &[Role]) -> String {
    format!(
        "{what} needs the role {}; you are signed in as {email} ({})",
        role_names(roles),
        role_names(held)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_carry_their_sets() {
        assert_eq!(Editors::ROLES, [Engineer, Pm, Admin]);
        assert_eq!(<Admins as Audience>::RULE, Rule::Roles(&[Admin]));
        assert_eq!(AnyUser::RULE, Rule::AnyUser);
        assert!(MOVERS.iter().all(|r| {
            [
                TransitionAction::Advance,
                TransitionAction::Skip,
                TransitionAction::RollBack,
            ]
            .iter()
            .any(|a| transition_roles(*a).contains(r))
        }));
    }

    #[test]
    fn refusals_name_the_roles() {
        assert_eq!(role_names(&[]), "(none)");
        assert_eq!(role_names(&[Admin]), "admin");
        assert_eq!(role_names(EDITORS), "engineer, pm or admin");
        assert_eq!(
            refusal("the transition `skip`", &[Admin], "e@x.org", &[Engineer]),
            "the transition `skip` needs the role admin; you are signed in as e@x.org (engineer)"
        );
    }
}
