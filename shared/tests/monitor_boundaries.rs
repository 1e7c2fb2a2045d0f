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
    close(&b, &[4.8769, 3.3569, 2.6803, 2.2898, 2.0310], 1e-3);
}

/// Lan–DeMets Pocock-type spending, 5 equally spaced looks, one-sided α = 0.025.
#[test]
fn pocock_five_looks_match_the_published_table() {
    let b = spending_boundaries(&equally_spaced(5), 0.025, Spending::Pocock).unwrap();
    close(&b, &[2.4380, 2.4268, 2.4101, 2.3966, 2.3859], 1e-3);
}

#[test]
fn print() {
    for s in [Spending::OBrienFleming, Spending::Pocock] {
        println!(
            "{:?}",
            spending_boundaries(&equally_spaced(2), 0.05, s).unwrap()
        );
        println!(
            "{:?}",
            spending_boundaries(&equally_spaced(5), 0.025, s).unwrap()
        );
    }
    let t = std::time::Instant::now();
    let b = spending_boundaries(
        &(1..=288).map(|i| i as f64 / 288.0).collect::<Vec<_>>(),
        0.05,
        Spending::Pocock,
    )
    .unwrap();
    println!("{:?} {:?}", t.elapsed(), &b[..30]);
    println!("{:?}", &b[280..]);
    let _ = SpendingBoundaries::new(0.05, Spending::Pocock);
}
