//! Always-valid ("sequential") inference: asymptotic confidence sequences of Waudby-Smith,
//! Wu, Ramdas, Karampatziakis & Mineiro (2023), "Time-uniform central limit theory and
//! asymptotic confidence sequences", arXiv:2103.06476v7, exactly as gbstats'
//! `SequentialTwoSidedTTest` applies them. Peeking at these intervals every day does not
//! inflate the error rate, which is why a rollout that is watched continuously uses them.
//!
//! With `N = n_a + n_b` total units, `σ̂² = Var(Δ)·N` and tuning `N*` (the sample size around
//! which the sequence is tightest, gbstats default 5000):
//! * `ρ = sqrt((−2 ln α + ln(−2 ln α + 1)) / N*)` (eq. 161),
//! * half-width `σ̂·sqrt(2(Nρ² + 1)/(N²ρ²) · ln(sqrt(Nρ² + 1)/α))` (eq. 9),
//! * always-valid p-value `min(1, 1/E)` with
//!   `E = exp(ρ²·S/(2(Nρ² + 1))) / sqrt(Nρ² + 1)`, `S = Δ²·N/Var(Δ)` (eq. 155).

use super::types::{Comparison, SequentialOptions, StatsError};

pub(crate) fn always_valid(
    estimate: f64,
    variance: f64,
    total_n: f64,
    alpha: f64,
    opts: &SequentialOptions,
) -> Result<Comparison, StatsError> {
    if !(opts.tuning.is_finite() && opts.tuning > 0.0) {
        return Err(StatsError::InvalidParameter(format!(
            "sequential tuning must be a positive number, got {}",
            opts.tuning
        )));
    }
    let ln_alpha = alpha.ln();
    let rho2 = (-2.0 * ln_alpha + (-2.0 * ln_alpha + 1.0).ln()) / opts.tuning;
    let n_rho2 = total_n * rho2;
    let tr2p1 = n_rho2 + 1.0;
    // σ̂²/(Nρ)² = Var(Δ)·N/(N·Nρ²) = Var(Δ)/(Nρ²): simplified so N² never appears.
    let half_width = (variance * 2.0 * tr2p1 * (0.5 * tr2p1.ln() - ln_alpha) / n_rho2).sqrt();
    let st2 = estimate * estimate * total_n / variance;
    // 1/E computed in log space: exp(−ρ²S/(2(Nρ²+1)))·sqrt(Nρ²+1), never overflowing.
    let ln_inv_e = -rho2 * st2 / (2.0 * tr2p1) + 0.5 * tr2p1.ln();
    let p_value = ln_inv_e.exp().min(1.0);
    Comparison {
        estimate,
        ci: [estimate - half_width, estimate + half_width],
        p_value,
        std_error: variance.sqrt(),
    }
    .checked("always-valid interval")
}

/// The one-sided always-valid boundary on the z scale: the harmful side's bound is
/// `estimate ± z·SE` and spends the whole `α` on that side. As gbstats'
/// `sequential_interval_halfwidth_one_sided` (GrowthBook Safe Rollouts): `ρ` is tuned with
/// `2α` and `z² = 2(Nρ² + 1)/(Nρ²) · ln(1 + sqrt(Nρ² + 1)/(2α))`, the one-sided
/// normal-mixture boundary of Waudby-Smith et al. (2023).
pub(crate) fn one_sided_z(
    total_n: f64,
    alpha: f64,
    opts: &SequentialOptions,
) -> Result<f64, StatsError> {
    if !(opts.tuning.is_finite() && opts.tuning > 0.0) {
        return Err(StatsError::InvalidParameter(format!(
            "sequential tuning must be a positive number, got {}",
            opts.tuning
        )));
    }
    let ln_2alpha = (2.0 * alpha).ln();
    let rho2 = (-2.0 * ln_2alpha + (-2.0 * ln_2alpha + 1.0).ln()) / opts.tuning;
    let n_rho2 = total_n * rho2;
    let tr2p1 = n_rho2 + 1.0;
    let z2 = 2.0 * tr2p1 / n_rho2 * (1.0 + tr2p1.sqrt() / (2.0 * alpha)).ln();
    super::types::finite(z2.sqrt(), "one-sided always-valid boundary")
}
