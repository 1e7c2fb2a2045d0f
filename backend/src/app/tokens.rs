//! Service tokens (scopes `ingest`, `evaluate`, `ci`): creating and revoking them.

use shared::tokens::{self, NewToken, TokenInfo};
use sqlx::AnyPool;

use super::Actor;
use crate::db;
use crate::error::{Error, Result};

/// Creates a token, for some changes or every change; answers it with its secret, which is
/// shown this once.
pub async fn create(pool: &AnyPool, actor: &Actor, new: &NewToken) -> Result<(TokenInfo, String)> {
    tokens::validate_new(new)?;
    let limit = new.limit();
    for (i, id) in limit.iter().enumerate() {
        if db::changes::find(pool, id).await?.is_none() {
            let field = if new.change_ids.is_some() {
                format!("change_ids[{i}]")
            } else {
                "change_id".to_owned()
            };
            return Err(Error::validation(field, format!("no change has id `{id}`")));
        }
    }
    let secret = db::tokens::new_secret()?;
    let token = db::tokens::create(
        pool,
        new.name.trim(),
        &limit,
        &new.scopes,
        &secret,
        &actor.who(),
        &db::now(),
    )
    .await?;
    tracing::info!(actor = %actor.user.email, id = %token.id, prefix = %token.prefix, changes = ?token.change_ids,
                   scopes = ?token.scopes, "service token created");
    Ok((token, secret))
}

/// Revokes the token `id`; 404 when there is none.
pub async fn revoke(pool: &AnyPool, actor: &Actor, id: &str) -> Result<TokenInfo> {
    let token = db::tokens::revoke(pool, id, &actor.who(), &db::now())
        .await?
        .ok_or_else(|| Error::not_found("token"))?;
    // Instances cache tokens for evaluation: have them read this one again.
    super::flags::changed(pool).await;
    tracing::info!(actor = %actor.user.email, %id, prefix = %token.prefix, "ingestion token revoked");
    Ok(token)
}

/// The name a service token acts under in transitions and the audit log: `token:<name>`.
pub fn actor_name(token_name: &str) -> String {
    format!("token:{token_name}")
}

/// A service token of scope `ci` acting on the API: a pipeline, not an account. It acts with
/// an engineer's rights (create and edit changes, advance, pause, resume, roll back), but it
/// holds no account, so it cannot sign a gate or sign in; the routes it may call at all are
/// `http::authz::CI_ROUTES`. Its transitions and audit rows carry [`actor_name`] and no user id.
pub fn ci_actor(token_name: &str, address: Option<String>) -> Actor {
    let name = actor_name(token_name);
    Actor {
        user: shared::auth::User {
            id: String::new(),
            email: name.clone(),
            name,
            roles: vec![shared::auth::Role::Engineer],
            disabled: false,
            created_at: String::new(),
        },
        address,
        account: false,
    }
}
