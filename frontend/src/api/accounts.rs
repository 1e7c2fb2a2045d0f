//! Signing in and out, and the users an admin manages.

use gloo_net::http::Method;
use shared::auth::{DemoUsers, LoginRequest, NewUser, SessionInfo, User, UserUpdate};
use shared::paths;

use super::{ApiResult, send};

pub async fn session() -> ApiResult<SessionInfo> {
    send(Method::GET, paths::SESSION, None::<&()>).await
}

pub async fn login(body: &LoginRequest) -> ApiResult<SessionInfo> {
    send(Method::POST, paths::SESSION, Some(body)).await
}

pub async fn logout() -> ApiResult<()> {
    let _: serde::de::IgnoredAny = send(Method::DELETE, paths::SESSION, None::<&()>).await?;
    Ok(())
}

/// The demo accounts; 404 outside a demo workspace.
pub async fn demo_users() -> ApiResult<DemoUsers> {
    send(Method::GET, paths::DEMO_USERS, None::<&()>).await
}

pub async fn users() -> ApiResult<Vec<User>> {
    send(Method::GET, paths::USERS, None::<&()>).await
}

pub async fn create_user(body: &NewUser) -> ApiResult<User> {
    send(Method::POST, paths::USERS, Some(body)).await
}

pub async fn update_user(id: &str, body: &UserUpdate) -> ApiResult<User> {
    send(Method::PUT, &paths::user(id), Some(body)).await
}
