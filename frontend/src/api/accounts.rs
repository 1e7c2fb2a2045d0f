//! Signing in and out, and the users an admin manages.

use gloo_net::http::Method;
use shared::auth::{DemoUsers, LoginRequest, NewUser, SessionInfo, User, UserUpdate};

use super::{ApiResult, encode, send};

pub async fn session() -> ApiResult<SessionInfo> {
    send(Method::GET, "/session", None::<&()>).await
}

pub async fn login(body: &LoginRequest) -> ApiResult<SessionInfo> {
    send(Method::POST, "/session", Some(body)).await
}

pub async fn logout() -> ApiResult<()> {
    let _: serde::de::IgnoredAny = send(Method::DELETE, "/session", None::<&()>).await?;
    Ok(())
}

/// The demo accounts; 404 outside a demo workspace.
pub async fn demo_users() -> ApiResult<DemoUsers> {
    send(Method::GET, "/session/demo-users", None::<&()>).await
}

pub async fn users() -> ApiResult<Vec<User>> {
    send(Method::GET, "/users", None::<&()>).await
}

pub async fn create_user(body: &NewUser) -> ApiResult<User> {
    send(Method::POST, "/users", Some(body)).await
}

pub async fn update_user(id: &str, body: &UserUpdate) -> ApiResult<User> {
    send(Method::PUT, &format!("/users/{}", encode(id)), Some(body)).await
}
