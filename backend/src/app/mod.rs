//! The use cases: what Rollgate does, called the same way by the HTTP handlers, the background
//! tasks (delivery, demo traffic), the demo seeding and the command line.
//!
//! Each module is one use case, named by what it does: [`rollout`] moves a change through its
//! stages, [`gates`] says and checks who must sign (and keeps the policies), [`metrics`]
//! ingests and aggregates metric windows, [`changes`], [`notices`], [`teams`] and [`tokens`]
//! keep their records, [`session`] signs people in and out, [`flags`] evaluates changes as feature flags (OFREP) from memory, [`assignments`] recomputes what a user got at a moment, [`reviews`] keeps the post-deployment review and support's complaints, [`comments`] the discussion on a change and its mentions, [`health`] says how the server is doing. Accounts (passwords, users) are
//! `crate::accounts`, which the command line shares. A function here takes plain arguments
//! (the pool, the [`Actor`], the request as a `shared` type) and returns `shared` types or
//! [`crate::error::Error`]; it never sees a header, a cookie or a status code.
//!
//! Where things go: a new route's handler in `http/<resource>.rs` extracts and calls one
//! function here; the orchestration (reads, rule checks, the transaction) goes here; the
//! rule itself and its wording, when pure, go to `shared`; the SQL goes to `db/`.

pub mod assignments;
pub mod changes;
pub mod comments;
pub mod decisions;
pub mod eval_results;
pub mod figures;
pub mod flags;
pub mod gates;
pub mod health;
pub mod metrics;
pub mod notices;
pub mod reviews;
pub mod rollout;
pub mod session;
pub mod teams;
pub mod tokens;

use shared::auth::{Role, User};

use crate::db::audit::Who;
use crate::error::{Error, Result};

/// Who acts: a signed-in user, a demo user, a person at the command line, or the guardian.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: User,
    /// Where the request came from, for the audit log; `None` outside a request.
    pub address: Option<String>,
    /// Whether `user` is an account (`false` for the guardian, which has none).
    account: bool,
}

impl Actor {
    pub fn new(user: User, address: Option<String>) -> Self {
        Actor {
            user,
            address,
            account: true,
        }
    }

    /// The guardian (`crate::guardian`): Rollgate itself, acting on a change's metrics. It is no
    /// account, so it cannot sign in or sign a gate; its transitions and audit rows carry the
    /// name [`crate::guardian::ACTOR`] and no user id. It may roll back, as an engineer may.
    pub fn guardian() -> Self {
        Actor {
            user: User {
                id: String::new(),
                email: crate::guardian::ACTOR.to_owned(),
                name: "Guardian".to_owned(),
                roles: vec![Role::Engineer],
                disabled: false,
                created_at: String::new(),
            },
            address: None,
            account: false,
        }
    }

    /// The account's id; `None` for the guardian.
    pub fn user_id(&self) -> Option<&str> {
        self.account.then_some(self.user.id.as_str())
    }

    /// The audit log's name for this actor.
    pub fn who(&self) -> Who {
        Who {
            id: self.user_id().map(str::to_owned),
            label: self.user.email.clone(),
            address: self.address.clone(),
        }
    }

    /// 403 unless the actor holds one of `roles`; `what` names the action refused.
    pub fn require(&self, roles: &[Role], what: &str) -> Result<()> {
        if self.user.has_any(roles) {
            return Ok(());
        }
        Err(Error::forbidden(shared::access::refusal(
            what,
            roles,
            &self.user.email,
            &self.user.roles,
        )))
    }
}
