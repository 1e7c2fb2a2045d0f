//! Welch's unequal-variance t-test on sufficient statistics, as GrowthBook's gbstats
//! (`gbstats/frequentist/tests.py`, `TwoSidedTTest`) computes it.
//!
//! * Absolute difference `Δ = μ_b − μ_a`, `Var = s_b²/n_b + s_a²/n_a`.
//! * Relative lift `Δ = μ_b/μ_a − 1` with the delta-method variance
//!   `Var = s_b²/(μ_a²·n_b) + s_a²·μ_b²/(μ_a⁴·n_a)` (gbstats `frequentist_variance`).
//! * Degrees of freedom by Welch–Satterthwaite on the *arm* variances, also for the relative
//!   lift (Welch 1947, eq. 9; gbstats `TTest.dof`):
//!   `ν = (s_b²/n_b + s_a²/n_a)² / (s_b⁴/(n_b²(n_b−1)) + s_a⁴/(n_a²(n_a−1)))`.
//! * `p = 2·P(T_ν > |Δ/SE|)`, `CI = Δ ± t_{1−α/2,ν}·SE`.
//!
//! `a` is the control, `b` the candidate throughout.

use super::distributions::{t_isf_two_sided, t_sf_two_sided};
use super::sequential;
use super::types::{
    CompareOptions, Comparison, Moments, Proportion, StatsError, check_alpha, finite,
};

/// One arm reduced to what the tests need.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Arm {
    pub n: f64,
    pub mean: f64,
    pub variance: f64,
}

impl Arm {
    pub(crate) fn from_proportion(p: &Proportion, what: &str) -> Result<Self, StatsError> {
        if p.n < 2 {
            return Err(StatsError::TooFewObservations {
                what: what.to_owned(),
                min: 2,
                got: p.n,
            });
        }
        if p.successes > p.n {
            return Err(StatsError::InconsistentCounts(format!(
                "{what}: successes ({}) > n ({})",
                p.successes, p.n
            )));
        }
        let n = p.n as f64;
        let mean = p.successes as f64 / n;
        Ok(Self {
            n,
            mean,
            variance: mean * (1.0 - mean),
        })
    }

    pub(crate) fn from_moments(m: &Moments, what: &str) -> Result<Self, StatsError> {
        if !m.sum.is_finite() || !m.sum_squares.is_finite() {
            return Err(StatsError::NonFinite(format!("{what}: sum or sum_squares")));
        }
        if m.n < 2 {
            return Err(StatsError::TooFewObservations {
                what: what.to_owned(),
                min: 2,
                got: m.n,
            });
        }
        if m.sum_squares < 0.0 {
            return Err(StatsError::NegativeVariance(what.to_owned()));
        }
        let n = m.n as f64;
        let mean = m.sum / n;
        let centred = m.sum_squares - m.sum * (m.sum / n);
        // Rounding can leave a tiny negative remainder for constant data; anything beyond
        // rounding means the sums cannot come from real values.
        let tolerance = 1e-9 * m.sum_squares;
        if centred < -tolerance {
            return Err(StatsError::NegativeVariance(what.to_owned()));
        }
        let variance = finite(centred.max(0.0) / (n - 1.0), "variance")?;
        Ok(Self {
            n,
            mean: finite(mean, "mean")?,
            variance,
        })
    }
}

/// Compares two conversion rates (Welch's t-test, or always-valid if `opts.sequential`).
pub fn compare_proportions(
    control: &Proportion,
    candidate: &Proportion,
    opts: &CompareOptions,
) -> Result<Comparison, StatsError> {
    let a = Arm::from_proportion(control, "control")?;
    let b = Arm::from_proportion(candidate, "candidate")?;
    compare_arms(&a, &b, opts)
}

/// Compares two means from their sufficient statistics (Welch's t-test, or always-valid).
pub fn compare_means(
    control: &Moments,
    candidate: &Moments,
    opts: &CompareOptions,
) -> Result<Comparison, StatsError> {
    let a = Arm::from_moments(control, "control")?;
    let b = Arm::from_moments(candidate, "candidate")?;
    compare_arms(&a, &b, opts)
}

/// Point estimate and its variance, per gbstats `frequentist_diff` / `frequentist_variance`.
pub(crate) fn estimate_and_variance(
    a: &Arm,
    b: &Arm,
    relative: bool,
) -> Result<(f64, f64), StatsError> {
    if a.variance <= 0.0 && b.variance <= 0.0 {
        return Err(StatsError::ZeroVariance);
    }
    let (estimate, variance) = if relative {
        if a.mean == 0.0 {
            return Err(StatsError::ZeroBaseline);
        }
        let ma2 = a.mean * a.mean;
        (
            (b.mean - a.mean) / a.mean,
            b.variance / (ma2 * b.n) + a.variance * (b.mean * b.mean) / (ma2 * ma2 * a.n),
        )
    } else {
        (b.mean - a.mean, b.variance / b.n + a.variance / a.n)
    };
    let estimate = finite(estimate, "estimate")?;
    let variance = finite(variance, "variance")?;
    if variance <= 0.0 {
        return Err(StatsError::ZeroVariance);
    }
    Ok((estimate, variance))
}

pub(crate) fn compare_arms(
    a: &Arm,
    b: &Arm,
    opts: &CompareOptions,
) -> Result<Comparison, StatsError> {
    check_alpha(opts.alpha)?;
    let (estimate, variance) = estimate_and_variance(a, b, opts.relative)?;
    if let Some(seq) = &opts.sequential {
        return sequential::always_valid(estimate, variance, a.n + b.n, opts.alpha, seq);
    }
    let df = welch_df(a, b)?;
    let se = variance.sqrt();
    let t = estimate / se;
    let p_value = t_sf_two_sided(t, df);
    let half = t_isf_two_sided(opts.alpha, df) * se;
    Comparison {
        estimate,
        ci: [estimate - half, estimate + half],
        p_value,
        std_error: se,
    }
    .checked("Welch t-test")
}

/// Welch–Satterthwaite degrees of freedom of the arm variances (gbstats `TTest.dof`).
pub(crate) fn welch_df(a: &Arm, b: &Arm) -> Result<f64, StatsError> {
    let va = a.variance / a.n;
    let vb = b.variance / b.n;
    // Written as (v/n)²/(n−1) rather than v²/(n²(n−1)) to stay inside f64 for huge n.
    let denom = vb * vb / (b.n - 1.0) + va * va / (a.n - 1.0);
    let df = (va + vb) * (va + vb) / denom;
    if df.is_finite() && df > 0.0 {
        Ok(df)
    } else if (va + vb).is_finite() && va + vb > 0.0 {
        // Underflow of the fourth powers: the variances are tiny but the ratio is fine.
        let scale = va.max(vb);
        let (sa, sb) = (va / scale, vb / scale);
        let df = (sa + sb).powi(2) / (sb * sb / (b.n - 1.0) + sa * sa / (a.n - 1.0));
        finite(df, "degrees of freedom")
    } else {
        Err(StatsError::ZeroVariance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// gbstats `test_tests.py::TestTwoSidedTTest` absolute case, numbers from gbstats 0.8.0.
    #[test]
    fn means_absolute_matches_gbstats() {
        let r = compare_means(
            &Moments::new(3407, 1396.87, 52377.9767),
            &Moments::new(3461, 2422.7, 134698.29),
            &CompareOptions::default(),
        )
        .unwrap();
        assert!((r.estimate - 0.29).abs() < 1e-12);
        assert!((r.p_value - 0.020158402643587037).abs() < 1e-9);
    }

    #[test]
    fn zero_variance_in_both_arms_is_an_error() {
        let r = compare_proportions(
            &Proportion::new(10, 0),
            &Proportion::new(10, 0),
            &CompareOptions::default(),
        );
        assert_eq!(r, Err(StatsError::ZeroVariance));
    }

    #[test]
    fn relative_with_zero_control_is_an_error() {
        let r = compare_proportions(
            &Proportion::new(10, 0),
            &Proportion::new(10, 3),
            &CompareOptions {
                relative: true,
                ..CompareOptions::default()
            },
        );
        assert_eq!(r, Err(StatsError::ZeroBaseline));
    }
}
