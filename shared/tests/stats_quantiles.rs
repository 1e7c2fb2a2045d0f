//! Coverage of the histogram quantile intervals on synthetic data whose true quantiles are
//! known: 400 simulated samples, bucketed like a Prometheus histogram; the 95% intervals must
//! cover the truth between 90% and 99% of the time.

use shared::stats::{CompareOptions, Histogram, compare_quantiles, quantile};
use shared::synthetic::SplitMix64;

/// Buckets of width `width` up to `top`, then `+Inf`, like a Prometheus histogram.
fn bucket(values: &[f64], width: f64, top: f64) -> Histogram {
    let finite = (top / width).round() as usize;
    let mut bounds: Vec<f64> = (1..=finite).map(|i| i as f64 * width).collect();
    bounds.push(f64::INFINITY);
    let mut counts = vec![0u64; bounds.len()];
    for &v in values {
        let i = ((v / width).ceil() as usize).saturating_sub(1).min(finite);
        counts[i] += 1;
    }
    Histogram::from_counts(&bounds, &counts).expect("valid histogram")
}

fn coverage(
    q: f64,
    truth: f64,
    draw: impl Fn(&mut SplitMix64) -> f64,
    width: f64,
    top: f64,
) -> f64 {
    let mut rng = SplitMix64(0x5EED + (q * 1000.0) as u64);
    let sims = 400;
    let mut covered = 0;
    for _ in 0..sims {
        let values: Vec<f64> = (0..2000).map(|_| draw(&mut rng)).collect();
        let e = quantile(&bucket(&values, width, top), q, 0.05).expect("estimate");
        if e.ci[0] <= truth && truth <= e.ci[1] {
            covered += 1;
        }
    }
    covered as f64 / sims as f64
}

#[test]
fn exponential_p50_p95_p99_cover_the_truth() {
    for q in [0.5, 0.95, 0.99] {
        let truth = -(1.0f64 - q).ln();
        let c = coverage(q, truth, SplitMix64::exponential, 0.02, 12.0);
        println!("exponential q={q}: coverage {c}");
        assert!((0.90..=0.99).contains(&c), "q={q}: coverage {c}");
    }
}

#[test]
fn uniform_median_covers_the_truth() {
    let c = coverage(0.5, 500.0, |r| 1000.0 * r.uniform(), 10.0, 1000.0);
    println!("uniform q=0.5: coverage {c}");
    assert!((0.90..=0.99).contains(&c), "coverage {c}");
}

#[test]
fn difference_interval_covers_zero_for_equal_distributions() {
    let mut rng = SplitMix64(42);
    let sims = 400;
    let mut covered = 0;
    for _ in 0..sims {
        let a: Vec<f64> = (0..3000).map(|_| 100.0 * rng.exponential()).collect();
        let b: Vec<f64> = (0..2000).map(|_| 100.0 * rng.exponential()).collect();
        let c = compare_quantiles(
            &bucket(&a, 2.0, 1500.0),
            &bucket(&b, 2.0, 1500.0),
            0.95,
            &CompareOptions::default(),
        )
        .expect("comparison");
        if c.ci[0] <= 0.0 && 0.0 <= c.ci[1] {
            covered += 1;
        }
    }
    let c = covered as f64 / sims as f64;
    println!("difference of p95: coverage {c}");
    assert!((0.90..=0.99).contains(&c), "coverage {c}");
}
