//! Rollgate's shared core: the domain of an AI change and its rollout, the API types the server
//! and the browser exchange, and the significance maths both of them run.
//!
//! Everything here is pure (no I/O, no clock, no framework types) so that the same code compiles
//! for the server and for `wasm32-unknown-unknown`.
//!
//! # What lives where
//!
//! | module | holds |
//! |---|---|
//! | [`calendar`] | dates from day counts and back, without a date library |
//! | [`error`] | [`FieldError`](error::FieldError), the rejected field every rule reports, and reading JSON by serde into it |
//! | [`change`] | an AI change: its kind, risk tier and configurations |
//! | [`plan`] | the rollout plan, its rollback criteria and the plan templates |
//! | [`eval`] | offline eval results a pipeline uploads, and the eval gate's rule |
//! | [`rollout`] | the state machine: stages, transitions and why one is refused |
//! | [`approvals`] | approval policies and gates: who must sign before a stage |
//! | [`notices`] | notices to the teams a change affects, their acknowledgements and deliveries |
//! | [`auth`], [`teams`], [`tokens`] | accounts and roles, teams, ingestion tokens, with their field rules |
//! | [`metrics`] | the metric catalogue, the windows apps send, and the aggregates the server answers |
//! | [`stats`] | the significance maths and the `rollgate stats` JSON contract |
//! | [`comparison`], [`series`] | the canary report and the charts' data, computed from [`metrics`] by [`stats`] |
//! | [`health`] | one health summary per change (Pass, Breach, Held…) read from its report and its hold |
//! | [`plain`] | the report's verdict in plain sentences, breaches first |
//! | [`api`] | request and answer bodies under `/api/v1` that belong to no single domain module |
//! | [`ofrep`] | the OpenFeature Remote Evaluation Protocol's answers under `/ofrep/v1` |
//! | [`paths`] | the API's paths under `/api/v1`, as the console builds them and the OpenAPI document lists them |
//! | [`validate`] | the rules a new change and an edit follow (text limits, plan checks) |
//! | [`figures`] | delivery figures: shipping and rollback rates, lead times, by group |
//! | [`review`] | the post-deployment review and the complaints support records |
//! | [`comments`] | the discussion on a change and the teams a comment mentions |
//! | [`audit`], [`feed`] | the audit log and the support change feed as the API shows them |
//! | [`synthetic`] | deterministic synthetic data for benchmarks, browser checks and the demo |
//!
//! # Where a new rule goes
//!
//! - Next to the type it is about: a rule on a plan in [`plan`] or [`validate`], on a metric
//!   window in [`metrics`], on a team in [`teams`]. Rules report a [`FieldError`](error::FieldError)
//!   naming the field by its path (`plan.ramp[2].percent`), and the wording people read is
//!   written here, once, for the server and the console alike.
//! - An enum's text is serde's `rename_all`; `as_str`/`parse` are derived with strum set to the
//!   same case (`shared/tests/enum_names.rs` holds them equal), never a hand-written match.
//! - Modules import each other without cycles (`shared/tests/module_graph.rs`): [`error`] and
//!   [`plan`] import nothing from the crate; [`api`] and [`validate`] sit near the top. A type
//!   two modules both need, and that would close a cycle, goes into a small module of its own,
//!   as [`FieldError`](error::FieldError) did.
//! - JSON is read by serde into typed structs (`deny_unknown_fields`), not by walking
//!   `serde_json::Value`, with [`FieldError::read`](error::FieldError::read) to name the field.
//!   The one exception is the `rollgate stats` contract, which the console compiles to Wasm;
//!   its module doc gives the size figure that keeps it hand-read.

pub mod ab;
pub mod access;
pub mod aggregate;
pub mod api;
pub mod approvals;
pub mod assignment;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod change;
pub mod comments;
pub mod comparison;
pub mod error;
pub mod eval;
pub mod feed;
pub mod figures;
pub mod guardian;
pub mod health;
pub mod metrics;
pub mod notices;
pub mod ofrep;
pub mod paths;
pub mod plain;
pub mod plan;
pub mod review;
pub mod rollout;
pub mod series;
pub mod stats;
pub mod synthetic;
pub mod teams;
pub mod tokens;
pub mod validate;
