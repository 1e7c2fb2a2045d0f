//! Quantiles (p50/p95/p99 latency) from Prometheus-style histograms, with intervals.
//!
//! **Point estimate** — Prometheus `histogram_quantile` (promql/quantile.go, `bucketQuantile`):
//! rank `r = q·n`, find the first bucket whose cumulative count reaches `r`, interpolate
//! linearly between its lower and upper bound. The first bucket's lower bound is 0 when its
//! upper bound is positive (latencies are non-negative); a rank that lands in the `+Inf`
//! bucket returns the highest finite bound, and the result is marked `censored`.
//!
//! **Interval** — distribution-free interval from order statistics: the rank of the sample
//! q-quantile is Binomial(n, q), so the `1 − α` interval spans the order statistics of ranks
//! `n·q ± z_{1−α/2}·sqrt(n·q·(1−q))` (normal approximation to the binomial; Conover,
//! *Practical Nonparametric Statistics*, 3rd ed., §3.2, eq. 3.2.5). Both ranks are mapped
//! through the same interpolated histogram CDF as the estimate. Bucket width adds a bias of at
//! most one bucket, so intervals are trustworthy when buckets are narrow around the quantile.
//!
//! **Difference** — each interval's half-width is turned into a standard error
//! (`se = (hi − lo)/(2z)`), the arms are independent, so the difference `q_b − q_a` gets
//! `se = sqrt(se_a² + se_b²)` and interval `± z·se` (a Wald interval on the asymptotically
//! normal sample quantiles, Serfling 1980 §2.3.3); the relative version uses the same delta
//! method as the means.

use serde::{Deserialize, Serialize};

use super::distributions::{norm_isf, norm_sf};
use super::types::{CompareOptions, Comparison, StatsError, check_alpha};

/// A histogram as Prometheus exposes it: bucket upper bounds (`le`) and per-bucket counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    /// Strictly increasing upper bounds; the last may be `+inf` (serialised as `null` by
    /// `serde_json`, so prefer a large finite bound in JSON).
    pub bounds: Vec<f64>,
    /// Cumulative counts, one per bound (`cumulative[i]` = values `≤ bounds[i]`).
    pub cumulative: Vec<u64>,
}

impl Histogram {
    /// From Prometheus' cumulative `_bucket{le=…}` series.
    pub fn from_cumulative(bounds: &[f64], cumulative: &[u64]) -> Result<Self, StatsError> {
        let hist = Self {
            bounds: bounds.to_vec(),
            cumulative: cumulative.to_vec(),
        };
        hist.validate()?;
        Ok(hist)
    }

    /// Checks the invariants (also for histograms that arrived through serde).
    pub fn validate(&self) -> Result<(), StatsError> {
        let (bounds, cumulative) = (&self.bounds, &self.cumulative);
        if bounds.len() != cumulative.len() {
            return Err(StatsError::LengthMismatch(format!(
                "{} bounds but {} counts",
                bounds.len(),
                cumulative.len()
            )));
        }
        if bounds.is_empty() {
            return Err(StatsError::InvalidHistogram("no buckets".to_owned()));
        }
        if bounds.iter().any(|b| b.is_nan() || *b == f64::NEG_INFINITY) {
            return Err(StatsError::InvalidHistogram(
                "bounds must be numbers".to_owned(),
            ));
        }
        if bounds.windows(2).any(|w| w[0] >= w[1]) {
            return Err(StatsError::InvalidHistogram(
                "bounds must be strictly increasing".to_owned(),
            ));
        }
        if bounds[..bounds.len() - 1].iter().any(|b| b.is_infinite()) {
            return Err(StatsError::InvalidHistogram(
                "only the last bound may be infinite".to_owned(),
            ));
        }
        if cumulative.windows(2).any(|w| w[0] > w[1]) {
            return Err(StatsError::InvalidHistogram(
                "cumulative counts must not decrease".to_owned(),
            ));
        }
        Ok(())
    }

    /// From per-bucket counts (`counts[i]` = values in `(bounds[i−1], bounds[i]]`).
    pub fn from_counts(bounds: &[f64], counts: &[u64]) -> Result<Self, StatsError> {
        let mut running = 0u64;
        let mut cumulative = Vec::with_capacity(counts.len());
        for &c in counts {
            running = running
                .checked_add(c)
                .ok_or_else(|| StatsError::InvalidHistogram("counts overflow".to_owned()))?;
            cumulative.push(running);
        }
        Self::from_cumulative(bounds, &cumulative)
    }

    /// Total number of observations.
    pub fn total(&self) -> u64 {
        self.cumulative.last().copied().unwrap_or(0)
    }

    /// Value at (fractional) rank `r ∈ [0, n]`, Prometheus' interpolation; `true` when
    /// censored by the `+Inf` bucket.
    fn value_at_rank(&self, r: f64) -> (f64, bool) {
        let b = if r <= 0.0 {
            self.cumulative.iter().position(|&c| c > 0).unwrap_or(0)
        } else {
            self.cumulative
                .iter()
                .position(|&c| c as f64 >= r)
                .unwrap_or(self.cumulative.len() - 1)
        };
        let last = self.bounds.len() - 1;
        if self.bounds[b].is_infinite() {
            return (if last > 0 { self.bounds[last - 1] } else { 0.0 }, true);
        }
        let end = self.bounds[b];
        let start = if b == 0 {
            0.0f64.min(end)
        } else {
            self.bounds[b - 1]
        };
        let before = if b == 0 { 0 } else { self.cumulative[b - 1] };
        let count = (self.cumulative[b] - before) as f64;
        if count <= 0.0 {
            return (start, false);
        }
        let frac = ((r - before as f64) / count).clamp(0.0, 1.0);
        (start + (end - start) * frac, false)
    }
}

/// A quantile estimate with its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QuantileEstimate {
    /// Quantile level, e.g. 0.95.
    pub q: f64,
    pub estimate: f64,
    pub ci: [f64; 2],
    /// Number of observations behind it.
    pub n: u64,
    /// The estimate or interval reached into the `+Inf` bucket and was cut at the highest
    /// finite bound: the true value may be larger.
    pub censored: bool,
}

/// Estimates the `q`-quantile of `hist` with a `1 − alpha` interval (see the module docs).
pub fn quantile(hist: &Histogram, q: f64, alpha: f64) -> Result<QuantileEstimate, StatsError> {
    check_alpha(alpha)?;
    hist.validate()?;
    if q.is_nan() || q <= 0.0 || q >= 1.0 {
        return Err(StatsError::InvalidParameter(format!(
            "quantile level must be in (0, 1), got {q}"
        )));
    }
    let n = hist.total();
    if n == 0 {
        return Err(StatsError::TooFewObservations {
            what: "histogram".to_owned(),
            min: 1,
            got: 0,
        });
    }
    let nf = n as f64;
    let z = norm_isf(alpha / 2.0);
    let centre = nf * q;
    let spread = z * (nf * q * (1.0 - q)).sqrt();
    let (estimate, c0) = hist.value_at_rank(centre);
    let (lo, c1) = hist.value_at_rank((centre - spread).max(0.0));
    let (hi, c2) = hist.value_at_rank((centre + spread).min(nf));
    Ok(QuantileEstimate {
        q,
        estimate,
        ci: [lo, hi],
        n,
        censored: c0 || c1 || c2,
    })
}

/// p50, p95 and p99 of a latency histogram, each with a `1 − alpha` interval.
pub fn latency_percentiles(
    hist: &Histogram,
    alpha: f64,
) -> Result<[QuantileEstimate; 3], StatsError> {
    Ok([
        quantile(hist, 0.50, alpha)?,
        quantile(hist, 0.95, alpha)?,
        quantile(hist, 0.99, alpha)?,
    ])
}

/// Compares the `q`-quantile of candidate against control: absolute difference `q_b − q_a`,
/// or relative `q_b/q_a − 1` (delta method), with a `1 − alpha` Wald interval built from the
/// two order-statistic intervals (module docs). Always-valid inference is not available for
/// quantiles, so `opts.sequential` must be `None`.
pub fn compare_quantiles(
    control: &Histogram,
    candidate: &Histogram,
    q: f64,
    opts: &CompareOptions,
) -> Result<Comparison, StatsError> {
    if opts.sequential.is_some() {
        return Err(StatsError::InvalidParameter(
            "sequential intervals are not available for quantiles".to_owned(),
        ));
    }
    let a = quantile(control, q, opts.alpha)?;
    let b = quantile(candidate, q, opts.alpha)?;
    let z = norm_isf(opts.alpha / 2.0);
    let se_a = (a.ci[1] - a.ci[0]) / (2.0 * z);
    let se_b = (b.ci[1] - b.ci[0]) / (2.0 * z);
    let (estimate, variance) = if opts.relative {
        if a.estimate == 0.0 {
            return Err(StatsError::ZeroBaseline);
        }
        let qa2 = a.estimate * a.estimate;
        (
            b.estimate / a.estimate - 1.0,
            se_b * se_b / qa2 + b.estimate * b.estimate * se_a * se_a / (qa2 * qa2),
        )
    } else {
        (b.estimate - a.estimate, se_a * se_a + se_b * se_b)
    };
    if variance.is_nan() || variance <= 0.0 {
        return Err(StatsError::ZeroVariance);
    }
    let se = variance.sqrt();
    Comparison {
        estimate,
        ci: [estimate - z * se, estimate + z * se],
        p_value: 2.0 * norm_sf((estimate / se).abs()),
        std_error: se,
    }
    .checked("quantile comparison")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prometheus' documented example shape: uniform counts interpolate linearly.
    #[test]
    fn interpolates_within_bucket() {
        let h = Histogram::from_counts(&[100.0, 200.0, 400.0, f64::INFINITY], &[50, 30, 20, 0])
            .unwrap();
        let e = quantile(&h, 0.5, 0.05).unwrap();
        assert!((e.estimate - 100.0).abs() < 1e-12);
        let e = quantile(&h, 0.9, 0.05).unwrap();
        assert!((e.estimate - 300.0).abs() < 1e-12);
        assert!(!e.censored);
        let bad = Histogram::from_cumulative(&[1.0, 2.0], &[5, 3]);
        assert!(bad.is_err());
    }
}
