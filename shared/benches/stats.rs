//! Benchmarks of the significance engine.
//!
//! * `analyse/30x12`: the full rollback analysis of 30 metrics × 12 segments (11 + "all")
//!   from sufficient statistics (target < 1 ms).
//! * `report/30x12`: the console's whole comparison report for the same shape (rows with
//!   always-valid intervals, adjusted p-values, verdicts, segment matrix).
//! * `mann_whitney/1e6_vs_1e6`: Mann–Whitney U on two samples of 10⁶ lognormal values
//!   (target: faster than `bench/scipy_mannwhitney.py`, same recipe).
//!
//! `cargo bench -p rollgate-shared --bench stats -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion as Bench, criterion_group, criterion_main};
use shared::comparison::{ReportOptions, report};
use shared::stats::{
    AnalysisOptions, Criterion, Direction, MetricData, MetricInput, Moments, Proportion,
    SegmentInput, Threshold, analyse, mann_whitney,
};
use shared::synthetic::{self, SplitMix64};

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

/// What the console computes on every refresh: rows, adjusted p-values, verdicts and the
/// segment matrix for 30 metrics × 12 segments (11 + the aggregate).
fn bench_report(c: &mut Bench) {
    let (summary, criteria) = synthetic::summary(30, 11, 7);
    let opts = ReportOptions::default();
    c.bench_function("report/30x12", |b| {
        b.iter(|| report(black_box(&summary), black_box(&criteria), black_box(&opts)))
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

criterion_group!(benches, bench_analyse, bench_report, bench_mann_whitney);
criterion_main!(benches);
