//! Sample-ratio mismatch: Pearson's chi-square goodness-of-fit test of the observed units per
//! arm against the planned traffic split (as gbstats `utils.check_srm`).
//!
//! `χ² = Σ (oᵢ − eᵢ)²/eᵢ` with `eᵢ = wᵢ/Σw · Σo`, `p = P(χ²_{k−1} > χ²)`. A small p means the
//! assignment itself is broken, so no comparison of the arms can be trusted.

use serde::{Deserialize, Serialize};

use super::distributions::chi2_sf;
use super::types::{StatsError, finite};

/// Result of [`srm`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChiSquare {
    /// Pearson's χ² statistic.
    pub statistic: f64,
    /// Degrees of freedom, `k − 1`.
    pub df: u64,
    pub p_value: f64,
}

/// Chi-square test of `observed` counts against `weights` (normalised here, so `[1, 1]` and
/// `[0.5, 0.5]` mean the same). Every weight must be positive: an arm planned at zero traffic
/// should not be listed.
pub fn srm(observed: &[u64], weights: &[f64]) -> Result<ChiSquare, StatsError> {
    if observed.len() != weights.len() {
        return Err(StatsError::LengthMismatch(format!(
            "{} observed counts but {} weights",
            observed.len(),
            weights.len()
        )));
    }
    if observed.len() < 2 {
        return Err(StatsError::InvalidParameter(
            "a sample-ratio check needs at least two arms".to_owned(),
        ));
    }
    if let Some(w) = weights.iter().find(|w| !(w.is_finite() && **w > 0.0)) {
        return Err(StatsError::InvalidParameter(format!(
            "weights must be positive and finite, got {w}"
        )));
    }
    let total: f64 = observed.iter().map(|&o| o as f64).sum();
    if total <= 0.0 {
        return Err(StatsError::TooFewObservations {
            what: "sample-ratio check".to_owned(),
            min: 1,
            got: 0,
        });
    }
    let weight_sum: f64 = weights.iter().sum();
    let statistic = observed
        .iter()
        .zip(weights)
        .map(|(&o, &w)| {
            let e = w / weight_sum * total;
            let d = o as f64 - e;
            d * d / e
        })
        .sum::<f64>();
    let statistic = finite(statistic, "chi-square statistic")?;
    let df = observed.len() as u64 - 1;
    Ok(ChiSquare {
        statistic,
        df,
        p_value: chi2_sf(statistic, df as f64),
    })
}
