//! Rollgate's shared core: the domain of an AI change and its rollout, the API types the server
//! and the browser exchange, and the significance maths both of them run.
//!
//! Everything here is pure (no I/O, no clock, no framework types) so that the same code compiles
//! for the server and for `wasm32-unknown-unknown`.

pub mod access;
pub mod aggregate;
pub mod api;
pub mod approvals;
pub mod audit;
pub mod auth;
pub mod change;
pub mod comparison;
pub mod feed;
pub mod metrics;
pub mod notices;
pub mod plan;
pub mod rollout;
pub mod series;
pub mod stats;
pub mod synthetic;
pub mod teams;
pub mod tokens;
pub mod validate;
