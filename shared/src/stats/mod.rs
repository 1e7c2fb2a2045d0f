//! Rollgate's significance engine: pure functions from sufficient statistics (or raw samples,
//! or histograms) to estimates, intervals, p-values and rollback verdicts. Conventions follow
//! GrowthBook's gbstats; reference numbers come from gbstats, scipy and statsmodels.
//! Degenerate input returns a [`StatsError`]; no NaN or infinity leaves this module.
//!
//! | function | what | file |
//! |---|---|---|
//! | [`compare_proportions`], [`compare_means`] | Welch t-test, absolute or relative (delta method), optionally always-valid | `welch.rs`, `sequential.rs` |
//! | [`mann_whitney`] | Mann–Whitney U, scipy's `method="auto"` | `mann_whitney.rs` |
//! | [`srm`] | sample-ratio mismatch (χ² goodness of fit) | `srm.rs` |
//! | [`adjust_holm`], [`adjust_bh`], [`adjust`] | multiple-testing adjustment (statsmodels) | `adjust.rs` |
//! | [`Histogram`], [`quantile`], [`latency_percentiles`], [`compare_quantiles`] | quantiles from Prometheus histograms with intervals | `quantiles.rs` |
//! | [`error_categories`] | new / surging error categories, Holm-corrected | `categories.rs` |
//! | [`verdict`], [`analyse`] | rollback verdicts from pre-registered criteria; segments × metrics | `verdict.rs` |
//! | [`monitor_decision`] | the guardian's look-after-look decision on one criterion: one-sided confidence sequence, group-sequential spending, mixture SPRT | `monitor.rs`, `spending.rs` |
//! | [`planned_boundary`] | the planned-information design the report's criterion verdicts use: an O'Brien–Fleming-type boundary checked continuously up to the plan, with a confidence sequence for the rest | `planned.rs` |
//! | [`run_batch`], [`run_request`] | the JSON contract of `rollgate stats` | `contract.rs` |

mod adjust;
mod categories;
mod contract;
mod distributions;
mod mann_whitney;
mod monitor;
mod planned;
mod quantiles;
mod sequential;
mod spending;
mod srm;
mod types;
mod verdict;
mod welch;

pub use adjust::{AdjustMethod, adjust, adjust_bh, adjust_holm};
pub use categories::{CategoryCounts, CategoryResult, error_categories};
pub use contract::{ContractError, run_batch, run_request};
pub use mann_whitney::{MannWhitney, MannWhitneyMethod, mann_whitney};
pub use monitor::{
    Information, MonitorDecision, MonitorInput, MonitorMethod, monitor_decision,
    monitor_decision_with,
};
pub use planned::{DEFAULT_EARLY_SHARE, obf_boundary, obf_crossing, planned_boundary};
pub use quantiles::{
    Histogram, QuantileEstimate, compare_quantiles, latency_percentiles, quantile,
};
pub use spending::{Spending, SpendingBoundaries, spending_boundaries};
pub use srm::{ChiSquare, srm};
pub use types::{CompareOptions, Comparison, Moments, Proportion, SequentialOptions, StatsError};
pub use verdict::{
    Analysis, AnalysisOptions, CellResult, Criterion, Decision, Direction, Evidence, MetricData,
    MetricInput, SegmentInput, Threshold, Verdict, analyse, verdict,
};
pub use welch::{compare_means, compare_proportions};
