//! A one-sided boundary built for the stage's planned information, valid at any cadence and
//! needing no look history: the guardian looks after every ingestion batch and the console
//! whenever someone opens the page, and both must reach the same verdict from the data alone.
//!
//! # The boundary
//!
//! Information time `t = n/n_plan` is the share of the planned units seen (`n_plan`: the units
//! by which a harm should have shown). With the harm statistic `Z` (see `monitor.rs`), the
//! criterion breaches when either
//!
//! * `t ≤ 1` and `Z > z_{α_e/2}/√t` — the O'Brien–Fleming-type boundary, constant on the
//!   score scale `S = Z·√t`. Under "no harm" `S` is a standard Brownian motion in `t`, and by
//!   the reflection principle `P(sup_{s≤t} S(s) > c) = 2(1 − Φ(c/√t))`: this is exactly the
//!   spending function Lan & DeMets (1983, Biometrika 70(3), eq. 3) derived from it. Checked
//!   continuously the boundary spends `α_e` by `t = 1`; any set of looks crosses less often,
//!   so no recursion over the looks taken is needed, and looks every second are as valid as
//!   looks every hour;
//! * or, at any `t`, `Z` exceeds the one-sided confidence sequence at `α_l = α − α_e` tuned
//!   to `n_plan` (`sequential.rs`): Ville's inequality covers every look over an unbounded
//!   horizon, so a stage that outlasts its plan is still watched.
//!
//! The union of the two rejection regions has level at most `α_e + α_l = α` (Bonferroni over
//! the two parts). Most of `α` goes to the planned part: at `t = 1` its boundary is
//! `z_{α_e/2}` (2.005 at `α_e` = 0.045), against 2.4–2.9 for boundaries that must hold over
//! a whole day of looks or forever (the confidence sequences and the mixture SPRT can never go
//! below `√(2 ln(1/α))` = 2.45). That is what buys speed: a harm large enough to show by the
//! planned information is caught around then, and the price is a wider boundary for late or
//! small harms, which only the confidence sequence's `α_l` watches after `t = 1`.

use super::distributions::{norm_isf, norm_sf};
use super::sequential;
use super::types::{SequentialOptions, StatsError, check_alpha, finite};

/// Share of `α` the planned part spends by the planned information; the rest watches the
/// stage with a confidence sequence for as long as it runs.
pub const DEFAULT_EARLY_SHARE: f64 = 0.9;

/// The O'Brien–Fleming-type boundary at information time `t ∈ (0, 1]` checked continuously
/// with level `alpha` by `t = 1`: `z_{α/2}/√t` on the z scale.
pub fn obf_boundary(t: f64, alpha: f64) -> Result<f64, StatsError> {
    check_alpha(alpha)?;
    if !(t.is_finite() && t > 0.0 && t <= 1.0) {
        return Err(StatsError::InvalidParameter(format!(
            "information fraction must be in (0, 1], got {t}"
        )));
    }
    finite(
        norm_isf(alpha / 2.0) / t.sqrt(),
        "O'Brien–Fleming-type boundary",
    )
}

/// The probability that a standard Brownian motion crosses the constant score boundary
/// `z_{α/2}` before information time `t` (reflection principle): `2(1 − Φ(z_{α/2}/√t))`,
/// which is the Lan–DeMets O'Brien–Fleming-type spending function.
pub fn obf_crossing(t: f64, alpha: f64) -> Result<f64, StatsError> {
    check_alpha(alpha)?;
    if !(t.is_finite() && t > 0.0) {
        return Err(StatsError::InvalidParameter(format!(
            "information fraction must be positive, got {t}"
        )));
    }
    Ok(2.0 * norm_sf(norm_isf(alpha / 2.0) / t.min(1.0).sqrt()))
}

/// The boundary of the planned design on the z scale after `units` of `planned_units`, at
/// one-sided level `alpha` with `early_share` of it spent by the planned information (module
/// docs): the smaller of the two parts' boundaries, the O'Brien–Fleming-type part only up to
/// the plan.
pub fn planned_boundary(
    units: f64,
    planned_units: f64,
    alpha: f64,
    early_share: f64,
) -> Result<f64, StatsError> {
    check_alpha(alpha)?;
    if !(planned_units.is_finite() && planned_units > 0.0) {
        return Err(StatsError::InvalidParameter(format!(
            "planned units must be positive, got {planned_units}"
        )));
    }
    if !(units.is_finite() && units > 0.0) {
        return Err(StatsError::InvalidParameter(format!(
            "units seen must be positive, got {units}"
        )));
    }
    if !(early_share.is_finite() && early_share > 0.0 && early_share < 1.0) {
        return Err(StatsError::InvalidParameter(format!(
            "early share of alpha must be in (0, 1), got {early_share}"
        )));
    }
    let late = sequential::one_sided_z(
        units,
        alpha * (1.0 - early_share),
        &SequentialOptions {
            tuning: planned_units,
        },
    )?;
    let t = units / planned_units;
    if t > 1.0 {
        return Ok(late);
    }
    Ok(obf_boundary(t, alpha * early_share)?.min(late))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Spending, spending_boundaries};

    #[test]
    fn the_planned_boundary_at_the_plan_is_the_two_sided_quantile_of_its_share() {
        // z_{0.025} = 1.959963984540054 and z_{0.0225} = 2.004654462 (scipy.stats.norm.isf).
        assert!((obf_boundary(1.0, 0.05).unwrap() - 1.959_963_984_540_054).abs() < 1e-9);
        assert!((obf_boundary(1.0, 0.045).unwrap() - 2.004_654_462).abs() < 1e-8);
        // Constant on the score scale: z·√t is the same at every t.
        for t in [0.01, 0.25, 0.5, 0.9] {
            let z = obf_boundary(t, 0.045).unwrap();
            assert!((z * t.sqrt() - 2.004_654_462).abs() < 1e-8, "t = {t}");
        }
    }

    #[test]
    fn continuous_crossing_is_the_lan_demets_spending_function() {
        for t in [0.05, 0.2, 0.5, 1.0] {
            let a = obf_crossing(t, 0.05).unwrap();
            let b = Spending::OBrienFleming.spent(0.05, t);
            assert!((a - b).abs() < 1e-15, "t = {t}: {a} vs {b}");
        }
        // 2(1 − Φ(1.959964·2)) = 2·norm.sf(3.919928) = 8.8574e-5 at a quarter of the plan.
        assert!((obf_crossing(0.25, 0.05).unwrap() - 8.857_4e-5).abs() < 1e-8);
        assert!((obf_crossing(1.0, 0.05).unwrap() - 0.05).abs() < 1e-9);
    }

    #[test]
    fn discrete_looks_need_lower_boundaries_than_continuous_checking() {
        // Lan–DeMets boundaries for the looks taken spend exactly α(t) at those looks; the
        // continuous boundary spends α(t) over all times in between too, so it must lie above
        // them at every look: checking it at the looks only is conservative.
        for looks in [
            vec![0.25, 0.5, 0.75, 1.0],
            (1..=24).map(|k| k as f64 / 24.0).collect::<Vec<_>>(),
        ] {
            let discrete = spending_boundaries(&looks, 0.045, Spending::OBrienFleming).unwrap();
            for (&t, &d) in looks.iter().zip(&discrete) {
                let c = obf_boundary(t, 0.045).unwrap();
                assert!(c > d, "t = {t}: continuous {c} not above discrete {d}");
            }
        }
        // Four equally spaced looks at one-sided 0.025 with the O'Brien–Fleming-type function
        // (gsDesign `sfLDOF`, k = 4): 4.3326, 2.9631, 2.3590, 2.0141, all below the
        // continuous boundary (the last against z_{0.0125} = 2.2414).
        let b =
            spending_boundaries(&[0.25, 0.5, 0.75, 1.0], 0.025, Spending::OBrienFleming).unwrap();
        for (got, want) in b.iter().zip([4.3326, 2.9631, 2.3590, 2.0141]) {
            assert!((got - want).abs() < 1e-3, "{b:?}");
        }
        assert!((obf_boundary(1.0, 0.025).unwrap() - 2.241_402_727).abs() < 1e-8);
    }

    #[test]
    fn the_design_takes_the_lower_part_and_only_the_sequence_after_the_plan() {
        let (alpha, share) = (0.05, DEFAULT_EARLY_SHARE);
        let tail = |n: f64| {
            sequential::one_sided_z(n, alpha * (1.0 - share), &SequentialOptions { tuning: 2e4 })
                .unwrap()
        };
        // At the plan the O'Brien–Fleming-type part decides.
        let at_plan = planned_boundary(2e4, 2e4, alpha, share).unwrap();
        assert!((at_plan - 2.004_654_462).abs() < 1e-8);
        assert!(tail(2e4) > at_plan);
        // Very early the sequence is the lower one (the O'Brien–Fleming-type part is huge).
        let early = planned_boundary(200.0, 2e4, alpha, share).unwrap();
        assert_eq!(early, tail(200.0));
        assert!(obf_boundary(0.01, alpha * share).unwrap() > early);
        // After the plan only the sequence watches.
        assert_eq!(planned_boundary(3e4, 2e4, alpha, share).unwrap(), tail(3e4));
    }

    #[test]
    fn bad_parameters_are_errors() {
        assert!(planned_boundary(0.0, 1e4, 0.05, 0.9).is_err());
        assert!(planned_boundary(10.0, 0.0, 0.05, 0.9).is_err());
        assert!(planned_boundary(10.0, 1e4, 0.05, 1.0).is_err());
        assert!(planned_boundary(10.0, 1e4, 1.5, 0.9).is_err());
        assert!(obf_boundary(1.5, 0.05).is_err());
    }
}
