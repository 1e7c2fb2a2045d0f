//! Properties of the significance engine that must hold for every valid input.

use proptest::prelude::*;
use shared::stats::{
    AdjustMethod, AnalysisOptions, CompareOptions, Comparison, Criterion, Direction, Histogram,
    MetricData, MetricInput, Moments, Proportion, SegmentInput, SequentialOptions, Threshold,
    adjust_bh, adjust_holm, analyse, compare_means, compare_proportions, mann_whitney, quantile,
    srm,
};

fn proportion() -> impl Strategy<Value = Proportion> {
    prop_oneof![
        (2u64..1_000).prop_flat_map(|n| (Just(n), 0..=n)),
        (2u64..10_000_000_000_000).prop_flat_map(|n| (Just(n), 0..=n)),
        // Rates pinned near 0 and 1.
        (2u64..u64::MAX / 4)
            .prop_flat_map(|n| (Just(n), prop_oneof![0..=3u64, n.saturating_sub(3)..=n])),
    ]
    .prop_map(|(n, successes)| Proportion { n, successes })
}

fn moments() -> impl Strategy<Value = Moments> {
    (
        2u64..1_000_000_000_000,
        -1e6f64..1e6,
        0.0f64..1e6,
        prop_oneof![Just(1.0f64), Just(1e-9), Just(1e9)],
    )
        .prop_map(|(n, mean, sd, scale)| {
            let nf = n as f64;
            let (mean, sd) = (mean * scale, sd * scale);
            Moments {
                n,
                sum: mean * nf,
                sum_squares: (sd * sd * (nf - 1.0)) + mean * mean * nf,
            }
        })
}

fn options() -> impl Strategy<Value = CompareOptions> {
    (
        any::<bool>(),
        prop_oneof![Just(0.05), 1e-12f64..0.999_999],
        prop::option::of(1.0f64..1e9),
    )
        .prop_map(|(relative, alpha, tuning)| CompareOptions {
            relative,
            alpha,
            sequential: tuning.map(|tuning| SequentialOptions { tuning }),
        })
}

fn all_finite(c: &Comparison) -> bool {
    c.estimate.is_finite()
        && c.ci.iter().all(|v| v.is_finite())
        && c.std_error.is_finite()
        && (0.0..=1.0).contains(&c.p_value)
}

proptest! {
    #[test]
    fn proportions_are_finite_and_ci_contains_estimate(a in proportion(), b in proportion(), opts in options()) {
        if let Ok(c) = compare_proportions(&a, &b, &opts) {
            prop_assert!(all_finite(&c), "{c:?}");
            prop_assert!(c.ci[0] <= c.estimate && c.estimate <= c.ci[1], "{c:?}");
        }
    }

    #[test]
    fn means_are_finite_and_ci_contains_estimate(a in moments(), b in moments(), opts in options()) {
        if let Ok(c) = compare_means(&a, &b, &opts) {
            prop_assert!(all_finite(&c), "{c:?}");
            prop_assert!(c.ci[0] <= c.estimate && c.estimate <= c.ci[1], "{c:?}");
        }
    }

    #[test]
    fn swapping_arms_negates_the_absolute_estimate(a in proportion(), b in proportion(), m in moments(), k in moments(), alpha in 1e-6f64..0.5) {
        let opts = CompareOptions { relative: false, alpha, sequential: None };
        if let (Ok(x), Ok(y)) = (compare_proportions(&a, &b, &opts), compare_proportions(&b, &a, &opts)) {
            prop_assert_eq!(x.estimate, -y.estimate);
            prop_assert!((x.p_value - y.p_value).abs() <= 1e-12);
        }
        if let (Ok(x), Ok(y)) = (compare_means(&m, &k, &opts), compare_means(&k, &m, &opts)) {
            prop_assert_eq!(x.estimate, -y.estimate);
            let tol = 1e-9 * (x.ci[1] - x.ci[0]).abs().max(1e-300);
            prop_assert!((x.ci[0] + y.ci[1]).abs() <= tol.max(1e-12 * x.ci[0].abs()));
        }
    }

    #[test]
    fn adjusted_p_values_are_monotone_and_not_below_raw(p in prop::collection::vec(prop_oneof![0.0f64..=1.0, Just(0.0), Just(1.0), 0.0f64..1e-10], 0..40)) {
        let mut order: Vec<usize> = (0..p.len()).collect();
        order.sort_by(|&i, &j| p[i].total_cmp(&p[j]));
        for adjusted in [adjust_holm(&p).unwrap(), adjust_bh(&p).unwrap()] {
            prop_assert_eq!(adjusted.len(), p.len());
            for (raw, adj) in p.iter().zip(&adjusted) {
                prop_assert!(adj >= raw && *adj <= 1.0, "{raw} -> {adj}");
            }
            for w in order.windows(2) {
                prop_assert!(adjusted[w[0]] <= adjusted[w[1]]);
            }
        }
    }

    #[test]
    fn mann_whitney_is_finite(x in prop::collection::vec(prop_oneof![-1e300f64..1e300, 0.0f64..5.0, Just(1.0)], 1..40),
                              y in prop::collection::vec(prop_oneof![-1e300f64..1e300, 0.0f64..5.0, Just(1.0)], 1..40)) {
        let r = mann_whitney(&x, &y).unwrap();
        prop_assert!((0.0..=1.0).contains(&r.p_value));
        prop_assert!(r.statistic >= 0.0 && r.statistic <= (x.len() * y.len()) as f64);
    }

    #[test]
    fn srm_is_finite(obs in prop::collection::vec(0u64..u64::MAX / 64, 2..6), w in prop::collection::vec(1e-9f64..1e9, 6)) {
        let w = &w[..obs.len()];
        if let Ok(r) = srm(&obs, w) {
            prop_assert!(r.statistic.is_finite() && r.statistic >= 0.0);
            prop_assert!((0.0..=1.0).contains(&r.p_value));
        }
    }

    #[test]
    fn quantiles_are_finite_and_ordered(counts in prop::collection::vec(0u64..1_000_000, 1..30), q in 0.001f64..0.999, alpha in 1e-9f64..0.5, inf in any::<bool>()) {
        let mut bounds: Vec<f64> = (1..=counts.len()).map(|i| (i * i) as f64 * 10.0).collect();
        if inf {
            *bounds.last_mut().unwrap() = f64::INFINITY;
        }
        let h = Histogram::from_counts(&bounds, &counts).unwrap();
        if let Ok(e) = quantile(&h, q, alpha) {
            prop_assert!(e.estimate.is_finite() && e.ci.iter().all(|v| v.is_finite()));
            prop_assert!(e.ci[0] <= e.estimate && e.estimate <= e.ci[1], "{e:?}");
        }
    }

    #[test]
    fn analysis_evidence_is_finite(cells in prop::collection::vec((proportion(), proportion(), moments(), moments(), 0u8..6, any::<bool>()), 1..12),
                                   bh in any::<bool>(), sequential in any::<bool>()) {
        let metrics: Vec<MetricInput> = cells.iter().enumerate().map(|(i, (a, b, m, k, kind, means))| MetricInput {
            criterion: Criterion {
                metric: format!("m{i}"),
                bad_direction: if kind % 2 == 0 { Direction::Increase } else { Direction::Decrease },
                threshold: match kind / 2 { 0 => Threshold::Absolute(0.02), 1 => Threshold::Relative(0.15), _ => Threshold::Level(0.5) },
                alpha: 0.05,
            },
            segments: vec![SegmentInput {
                segment: "all".to_owned(),
                data: if *means {
                    MetricData::Means { control: *m, candidate: *k }
                } else {
                    MetricData::Proportions { control: *a, candidate: *b }
                },
            }],
        }).collect();
        let opts = AnalysisOptions {
            correction: if bh { AdjustMethod::Bh } else { AdjustMethod::Holm },
            sequential: sequential.then(SequentialOptions::default),
        };
        let result = analyse(&metrics, &opts);
        prop_assert_eq!(result.cells.len(), cells.len());
        for cell in &result.cells {
            prop_assert!(cell.evidence.is_some() != cell.error.is_some());
            if let Some(e) = &cell.evidence {
                prop_assert!(e.estimate.is_finite() && e.ci.iter().all(|v| v.is_finite()));
                prop_assert!((0.0..=1.0).contains(&e.p_value) && e.adjusted_p >= e.p_value && e.adjusted_p <= 1.0);
            }
        }
    }
}
