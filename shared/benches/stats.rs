//! Benchmarks of the significance engine.
//!
//! * `analyse/30x12`: the full rollback analysis of 30 metrics × 12 segments (11 + "all")
//!   from sufficient statistics (target < 1 ms).
//! * `mann_whitney/1e6_vs_1e6`: Mann–Whitney U on two samples of 10⁶ lognormal values
//!   (target: faster than `bench/scipy_mannwhitney.py`, same recipe).
//!
//! `cargo bench -p rollgate-shared --bench stats -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion as Bench, criterion_group, criterion_main};
use shared::stats::{
    AnalysisOptions, Criterion, Direction, MetricData, MetricInput, Moments, Proportion,
    SegmentInput, Threshold, analyse, mann_whitney,
};

/// splitmix64: deterministic data without a `rand` dependency.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal by Box–Muller (one of the pair).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

fn analysis_input() -> Vec<MetricInput> {
    let mut rng = SplitMix64(1);
    (0..30)
        .map(|m| {
            let criterion = Criterion {
                metric: format!("metric_{m}"),
                bad_direction: if m % 2 == 0 {
                    Direction::Increase
                } else {
                    Direction::Decrease
                },
                threshold: match m % 3 {
                    0 => Threshold::Relative(0.15),
                    1 => Threshold::Absolute(0.02),
                    _ => Threshold::Level(0.5),
                },
                alpha: 0.05,
            };
            let segments = (0..12)
                .map(|s| {
                    let n = 5_000 + (rng.next_u64() % 200_000);
                    let data = if m % 2 == 0 {
                        let mean = 1.0 + rng.uniform();
                        let mk = |shift: f64| Moments {
                            n,
                            sum: (mean + shift) * n as f64,
                            sum_squares: ((mean + shift).powi(2) + 0.8) * n as f64,
                        };
                        MetricData::Means {
                            control: mk(0.0),
                            candidate: mk(0.01 * rng.normal()),
                        }
                    } else {
                        let rate = 0.2 + 0.6 * rng.uniform();
                        let k = |r: f64| Proportion {
                            n,
                            successes: (r * n as f64) as u64,
                        };
                        MetricData::Proportions {
                            control: k(rate),
                            candidate: k(rate + 0.01 * rng.normal()),
                        }
                    };
                    SegmentInput {
                        segment: if s == 0 {
                            "all".to_owned()
                        } else {
                            format!("segment_{s}")
                        },
                        data,
                    }
                })
                .collect();
            MetricInput {
                criterion,
                segments,
            }
        })
        .collect()
}

fn bench_analyse(c: &mut Bench) {
    let input = analysis_input();
    let opts = AnalysisOptions::default();
    c.bench_function("analyse/30x12", |b| {
        b.iter(|| analyse(black_box(&input), black_box(&opts)))
    });
}

fn bench_mann_whitney(c: &mut Bench) {
    let mut rng = SplitMix64(2);
    // Same recipe as bench/scipy_mannwhitney.py: lognormal(0, 1) vs lognormal(0.01, 1).
    let x: Vec<f64> = (0..1_000_000).map(|_| rng.normal().exp()).collect();
    let y: Vec<f64> = (0..1_000_000)
        .map(|_| (0.01 + rng.normal()).exp())
        .collect();
    let mut group = c.benchmark_group("mann_whitney");
    group.sample_size(10);
    group.bench_function("1e6_vs_1e6", |b| {
        b.iter(|| mann_whitney(black_box(&x), black_box(&y)))
    });
    group.finish();
}

criterion_group!(benches, bench_analyse, bench_mann_whitney);
criterion_main!(benches);
