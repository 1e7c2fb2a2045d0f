//! Canary-vs-control metrics: the catalogue of what is measured, the windows a production app
//! sends, and the aggregates the console analyses.
//!
//! A window is what one variant served in one segment over one time span, as sufficient
//! statistics: a rate is `{n, successes}`, a mean `{n, sum, sum_squares}`, latency a histogram
//! `{le, counts, cumulative}` and error categories `{category: count}`.
//!
//! - `catalogue`: what is measured, [`MetricDef`] and the default catalogue;
//! - `value`: a metric's value and how it is read and checked against its kind;
//! - `window`: the windows a production app sends and how a batch is read;
//! - `summary`: the aggregates the server answers with.
//!
//! Everything is re-exported here, so callers write `shared::metrics::MetricDef`.

mod catalogue;
mod summary;
mod value;
mod window;

pub use catalogue::*;
pub use summary::*;
pub use value::*;
pub use window::*;
