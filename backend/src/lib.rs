//! Rollgate's server: the JSON API under `/api/v1`, the database behind it and the built
//! console around it.
//!
//! [`app`] is the whole application as a `Router`, so tests drive it without a socket;
//! [`serve`] opens the database, seeds the demo if asked, and listens.

pub mod db;
pub mod demo;
pub mod demo_traffic;
pub mod error;
pub mod http;
mod server;

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use sqlx::AnyPool;

pub use server::{Config, DEFAULT_DATABASE_URL, DEMO_DATABASE_URL, ServeError, serve};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: AnyPool,
    pub backend: db::Backend,
    /// The built console (`dist/`), served for every non-API path.
    pub dist: Arc<PathBuf>,
}

impl AppState {
    pub fn new(pool: AnyPool, backend: db::Backend, dist: impl Into<PathBuf>) -> Self {
        AppState {
            pool,
            backend,
            dist: Arc::new(dist.into()),
        }
    }
}

/// The application: every route and layer, ready to serve or to test with `oneshot`.
pub fn app(state: AppState) -> Router {
    http::router(state)
}
