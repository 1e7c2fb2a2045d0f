//! Value types shared by the test families: sufficient statistics in, a comparison out, and the
//! one error type every function returns instead of a NaN.

use serde::{Deserialize, Serialize};

/// A conversion rate's sufficient statistics: `successes` out of `n` units.
///
/// Its variance is the population form `p(1 − p)` (not `p(1 − p)·n/(n − 1)`), as gbstats'
/// `ProportionStatistic` uses, so results agree with GrowthBook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proportion {
    pub n: u64,
    pub successes: u64,
}

impl Proportion {
    pub fn new(n: u64, successes: u64) -> Self {
        Self { n, successes }
    }
}

/// A mean's sufficient statistics: count, sum and sum of squares of the unit values.
///
/// Sample variance `(sum_squares − sum²/n)/(n − 1)`, as gbstats' `SampleMeanStatistic`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    pub n: u64,
    pub sum: f64,
    pub sum_squares: f64,
}

impl Moments {
    pub fn new(n: u64, sum: f64, sum_squares: f64) -> Self {
        Self {
            n,
            sum,
            sum_squares,
        }
    }

    /// Sufficient statistics of raw values (convenience for tests and small data).
    pub fn from_values(values: &[f64]) -> Self {
        let (sum, sum_squares) = values
            .iter()
            .fold((0.0, 0.0), |(s, q), v| (s + v, q + v * v));
        Self {
            n: values.len() as u64,
            sum,
            sum_squares,
        }
    }
}

/// Options of a two-arm comparison.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CompareOptions {
    /// `false`: absolute difference `candidate − control`; `true`: relative lift
    /// `candidate/control − 1`.
    pub relative: bool,
    /// Two-sided significance level; the interval has coverage `1 − alpha`.
    pub alpha: f64,
    /// Always-valid (sequential) inference instead of the fixed-horizon t-test.
    pub sequential: Option<SequentialOptions>,
}

impl Default for CompareOptions {
    fn default() -> Self {
        Self {
            relative: false,
            alpha: 0.05,
            sequential: None,
        }
    }
}

/// Tuning of the always-valid intervals (Waudby-Smith et al. 2023).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SequentialOptions {
    /// Total sample size around which the confidence sequence is tightest (gbstats default 5000).
    pub tuning: f64,
}

impl Default for SequentialOptions {
    fn default() -> Self {
        Self { tuning: 5000.0 }
    }
}

/// Result of comparing candidate against control.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Point estimate (absolute difference or relative lift, per the options).
    pub estimate: f64,
    /// Two-sided interval `[low, high]` at the requested level.
    pub ci: [f64; 2],
    /// Two-sided p-value of "no difference".
    pub p_value: f64,
    /// Standard error of the estimate.
    pub std_error: f64,
}

/// Why a statistic could not be computed. Degenerate input is an error, never a NaN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum StatsError {
    /// A sample or arm has too few units for the statistic (e.g. `n < 2` for a variance).
    #[error("{what} needs at least {min} observations, got {got}")]
    TooFewObservations { what: String, min: u64, got: u64 },
    /// Counts that contradict each other (e.g. `successes > n`).
    #[error("inconsistent counts: {0}")]
    InconsistentCounts(String),
    /// Sums that imply a negative variance.
    #[error("inconsistent sums for {0}: sum_squares − sum²/n is negative")]
    NegativeVariance(String),
    /// Both arms have zero variance, so there is no sampling error to test against.
    #[error("zero variance in both arms: the difference cannot be tested")]
    ZeroVariance,
    /// A relative lift over a control whose mean is zero.
    #[error("control mean is zero: a relative lift is undefined")]
    ZeroBaseline,
    /// A parameter outside its domain (alpha, tuning, quantile level, weights, p-values…).
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// An input value that is NaN or infinite.
    #[error("non-finite input: {0}")]
    NonFinite(String),
    /// Inputs whose lengths must agree do not.
    #[error("length mismatch: {0}")]
    LengthMismatch(String),
    /// A histogram that is not valid (bounds not increasing, counts decreasing…).
    #[error("invalid histogram: {0}")]
    InvalidHistogram(String),
    /// The computation overflowed `f64` (inputs of extreme magnitude).
    #[error("numeric overflow while computing {0}")]
    Overflow(String),
}

pub(crate) fn check_alpha(alpha: f64) -> Result<(), StatsError> {
    if alpha.is_finite() && alpha > 0.0 && alpha < 1.0 {
        Ok(())
    } else {
        Err(StatsError::InvalidParameter(format!(
            "alpha must be in (0, 1), got {alpha}"
        )))
    }
}

/// Last line of defence: every number leaving the crate is finite.
pub(crate) fn finite(value: f64, what: &str) -> Result<f64, StatsError> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(StatsError::Overflow(what.to_owned()))
    }
}

impl Comparison {
    /// Checks every field is finite (and the p-value within `[0, 1]`).
    pub(crate) fn checked(self, what: &str) -> Result<Self, StatsError> {
        finite(self.estimate, what)?;
        finite(self.ci[0], what)?;
        finite(self.ci[1], what)?;
        finite(self.std_error, what)?;
        let p = finite(self.p_value, what)?;
        Ok(Self {
            p_value: p.clamp(0.0, 1.0),
            ..self
        })
    }
}
