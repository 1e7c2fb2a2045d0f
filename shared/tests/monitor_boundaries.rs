//! Boundaries of the guardian's methods against values computed elsewhere.

use shared::stats::{Spending, SpendingBoundaries, spending_boundaries};

fn close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < tol, "got {got:?}, want {want:?}");
    }
}

fn equally_spaced(k: usize) -> Vec<f64> {
    (1..=k).map(|i| i as f64 / k as f64).collect()
}

/// Lan–DeMets O'Brien–Fleming-type spending, 5 equally spaced looks, one-sided α = 0.025
/// (two-sided 0.05): the classic table (Jennison & Turnbull 2000 §7.2; gsDesign `sfLDOF`).
#[test]
fn obrien_fleming_five_looks_match_the_published_table() {
    let b = spending_boundaries(&equally_spaced(5), 0.025, Spending::OBrienFleming).unwrap();
    close(&b, &[4.8769, 3.3569, 2.6803, 2.2898, 2.0310], 2e-4);
}

/// Lan–DeMets Pocock-type spending, 5 equally spaced looks, one-sided α = 0.025.
#[test]
fn pocock_five_looks_match_the_published_table() {
    let b = spending_boundaries(&equally_spaced(5), 0.025, Spending::Pocock).unwrap();
    close(&b, &[2.4380, 2.4268, 2.4101, 2.3966, 2.3859], 2e-4);
}

/// Two looks at t = ½ and 1, one-sided α = 0.05: the first boundary is the spending
/// function's quantile; the second solves P(Z₁ ≤ c₁, Z₂ > c₂) = α(1) − α(½) by direct
/// quadrature of the bivariate normal (corr √½), independently of the recursion.
#[test]
fn two_looks_match_direct_quadrature() {
    use statrs::function::erf::{erfc, erfc_inv};
    let sf = |z: f64| 0.5 * erfc(z / std::f64::consts::SQRT_2);
    let isf = |p: f64| std::f64::consts::SQRT_2 * erfc_inv(2.0 * p);
    let pdf = |z: f64| (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let r = 0.5f64.sqrt();
    for spending in [Spending::OBrienFleming, Spending::Pocock] {
        let (a1, a2) = (spending.spent(0.05, 0.5), spending.spent(0.05, 1.0));
        let c1 = isf(a1);
        // Simpson's rule on [−12, c₁] with 4 000 intervals.
        let cross = |c2: f64| {
            let (lo, m) = (-12.0, 4_000);
            let h = (c1 - lo) / m as f64;
            let f = |z: f64| pdf(z) * sf((c2 - r * z) / r);
            let inner: f64 = (1..m)
                .map(|i| f(lo + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 })
                .sum();
            (f(lo) + inner + f(c1)) * h / 3.0
        };
        let (mut lo, mut hi) = (0.0, 6.0);
        for _ in 0..50 {
            let mid = 0.5 * (lo + hi);
            if cross(mid) > a2 - a1 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let b = spending_boundaries(&[0.5, 1.0], 0.05, spending).unwrap();
        close(&b, &[c1, 0.5 * (lo + hi)], 1e-4);
    }
}

#[test]
fn one_look_at_the_end_is_the_fixed_horizon_test() {
    for spending in [
        Spending::OBrienFleming,
        Spending::Pocock,
        Spending::Power { rho: 0.25 },
    ] {
        let b = spending_boundaries(&[1.0], 0.05, spending).unwrap();
        close(&b, &[1.6448536269514729], 1e-9);
    }
}

#[test]
fn obrien_fleming_boundaries_fall_and_more_looks_raise_the_last() {
    let hourly: Vec<f64> = (1..=24).map(|i| i as f64 / 24.0).collect();
    let half_hourly: Vec<f64> = (1..=48).map(|i| i as f64 / 48.0).collect();
    let h = spending_boundaries(&hourly, 0.05, Spending::OBrienFleming).unwrap();
    assert!(h.windows(2).all(|w| w[1] < w[0]), "{h:?}");
    let f = spending_boundaries(&half_hourly, 0.05, Spending::OBrienFleming).unwrap();
    assert!(f[47] > h[23] && h[23] > 1.6449, "{} {}", f[47], h[23]);
    // Pocock-type boundaries stay within a narrow band.
    let p = spending_boundaries(&hourly, 0.05, Spending::Pocock).unwrap();
    let (min, max) = p
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    assert!(max - min < 0.7 && min > 1.6449, "{p:?}");
}

#[test]
fn a_kept_recursion_answers_earlier_looks_from_memory() {
    let looks = [0.1, 0.25, 0.5, 1.0];
    let all = spending_boundaries(&looks, 0.05, Spending::Pocock).unwrap();
    let mut state = SpendingBoundaries::new(0.05, Spending::Pocock).unwrap();
    for (&t, &b) in looks.iter().zip(&all) {
        assert_eq!(state.look(t).unwrap(), b);
    }
    assert_eq!(state.look(0.25).unwrap(), all[1]);
    assert!(state.look(0.3).is_err(), "a look between earlier looks");
    assert!(state.look(1.2).is_err(), "beyond the plan");
}
