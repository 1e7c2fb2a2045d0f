//! The guardian's decision on one criterion cell: boundaries against hand-computed values,
//! the rule, the errors, and a small A/A simulation.

use shared::stats::{
    CompareOptions, Criterion, Direction, Histogram, Information, MetricData, MonitorInput,
    MonitorMethod, Proportion, SequentialOptions, Spending, SpendingBoundaries, Threshold, Verdict,
    compare_proportions, monitor_decision, monitor_decision_with, verdict,
};

fn quality(alpha: f64) -> Criterion {
    Criterion {
        metric: "quality".to_owned(),
        bad_direction: Direction::Decrease,
        threshold: Threshold::Absolute(0.0),
        alpha,
    }
}

fn input(control: (u64, u64), candidate: (u64, u64), method: MonitorMethod) -> MonitorInput {
    MonitorInput {
        criterion: quality(0.05),
        data: MetricData::Proportions {
            control: Proportion::new(control.0, control.1),
            candidate: Proportion::new(candidate.0, candidate.1),
        },
        information: Information {
            planned_n: 40_000.0,
            earlier_looks: vec![0.1, 0.2],
        },
        method,
    }
}

const METHODS: [MonitorMethod; 6] = [
    MonitorMethod::ConfidenceSequence { tuning: 5_000.0 },
    MonitorMethod::GroupSequential {
        spending: Spending::OBrienFleming,
    },
    MonitorMethod::GroupSequential {
        spending: Spending::Pocock,
    },
    MonitorMethod::MixtureSprt { tau: 0.02 },
    MonitorMethod::TwoSidedSequential { tuning: 5_000.0 },
    MonitorMethod::FixedHorizon,
];

/// gbstats' one-sided half-width formula by hand (python `math`): N = 10 000 units,
/// N* = 5 000, α = 0.05 → z = 2.801330723847372.
#[test]
fn confidence_sequence_boundary_matches_the_hand_computed_value() {
    let d = monitor_decision(&input(
        (5_000, 500),
        (5_000, 480),
        MonitorMethod::ConfidenceSequence { tuning: 5_000.0 },
    ))
    .unwrap();
    assert!((d.boundary - 2.801330723847372).abs() < 1e-9, "{d:?}");
    assert!((d.bound - (d.estimate + d.boundary * d.std_error)).abs() < 1e-12);
}

/// At its boundary the one-sided mixture likelihood ratio equals 1/α.
#[test]
fn mixture_sprt_boundary_is_where_the_likelihood_ratio_reaches_one_over_alpha() {
    let tau = 0.02;
    let d = monitor_decision(&input(
        (5_000, 500),
        (5_000, 480),
        MonitorMethod::MixtureSprt { tau },
    ))
    .unwrap();
    let x = tau * tau / (d.std_error * d.std_error);
    let z = d.boundary;
    let phi = 0.5 * statrs::function::erf::erfc(-z * (x / (1.0 + x)).sqrt() / 2f64.sqrt());
    let ln_lambda = (2.0 * phi).ln() + x * z * z / (2.0 * (1.0 + x)) - 0.5 * (1.0 + x).ln();
    assert!(
        (ln_lambda - (1.0f64 / 0.05).ln()).abs() < 1e-9,
        "{ln_lambda}"
    );
    // A mixture much wider than the data's standard error spends its evidence on effects
    // the data cannot show yet: a higher boundary.
    let wide = monitor_decision(&input(
        (5_000, 500),
        (5_000, 480),
        MonitorMethod::MixtureSprt { tau: 1.0 },
    ))
    .unwrap();
    assert!(wide.boundary > d.boundary);
}

#[test]
fn fixed_horizon_boundary_is_the_one_sided_quantile() {
    let d = monitor_decision(&input(
        (5_000, 500),
        (5_000, 480),
        MonitorMethod::FixedHorizon,
    ))
    .unwrap();
    assert!((d.boundary - 1.6448536269514729).abs() < 1e-9);
}

#[test]
fn a_clear_drop_breaches_a_clear_gain_passes_and_noise_waits_for_every_method() {
    for method in METHODS {
        let drop = monitor_decision(&input((10_000, 1_000), (10_000, 800), method)).unwrap();
        assert_eq!(drop.verdict, Verdict::Breach, "{drop:?}");
        assert!(drop.bound < drop.limit, "{drop:?}");
        assert!(drop.z > drop.boundary);
        let gain = monitor_decision(&input((10_000, 1_000), (10_000, 1_200), method)).unwrap();
        assert_eq!(gain.verdict, Verdict::Pass, "{gain:?}");
        let noise = monitor_decision(&input((10_000, 1_000), (10_000, 995), method)).unwrap();
        assert_eq!(noise.verdict, Verdict::Inconclusive, "{noise:?}");
        assert!(noise.bound >= noise.limit, "{noise:?}");
        assert_eq!(noise.method, method.name());
    }
}

#[test]
fn an_increase_criterion_mirrors_a_decrease_one() {
    let mut i = input(
        (10_000, 1_000),
        (10_000, 1_200),
        MonitorMethod::ConfidenceSequence { tuning: 5_000.0 },
    );
    i.criterion.bad_direction = Direction::Increase;
    i.criterion.threshold = Threshold::Relative(0.05);
    let d = monitor_decision(&i).unwrap();
    assert_eq!(d.verdict, Verdict::Breach, "{d:?}");
    assert!((d.limit - 0.05).abs() < 1e-15 && d.bound > d.limit);
    assert!((d.estimate - 0.2).abs() < 1e-12);
}

#[test]
fn a_kept_recursion_gives_the_same_decision_as_the_look_history() {
    let method = MonitorMethod::GroupSequential {
        spending: Spending::Pocock,
    };
    let mut state = SpendingBoundaries::new(0.05, Spending::Pocock).unwrap();
    state.look(0.1).unwrap();
    state.look(0.2).unwrap();
    let i = input((10_000, 1_000), (2_000, 180), method);
    let fresh = monitor_decision(&i).unwrap();
    let kept = monitor_decision_with(&i, &mut state).unwrap();
    assert_eq!(fresh, kept);
    assert!((fresh.fraction - 0.3).abs() < 1e-12);
    let mut other = SpendingBoundaries::new(0.01, Spending::Pocock).unwrap();
    assert!(
        monitor_decision_with(&i, &mut other).is_err(),
        "another alpha"
    );
}

#[test]
fn an_early_look_that_spent_nothing_does_not_block_later_ones() {
    let method = MonitorMethod::GroupSequential {
        spending: Spending::OBrienFleming,
    };
    let mut i = input((10_000, 1_000), (2_000, 180), method);
    i.information.earlier_looks = vec![1e-4, 0.1, 0.2];
    let with_early = monitor_decision(&i).unwrap();
    i.information.earlier_looks = vec![0.1, 0.2];
    assert_eq!(with_early, monitor_decision(&i).unwrap());
    i.information.earlier_looks = vec![0.2, 0.1];
    assert!(monitor_decision(&i).is_err(), "looks out of order");
}

#[test]
fn the_two_sided_reference_is_todays_verdict() {
    let i = input(
        (10_000, 1_000),
        (10_000, 950),
        MonitorMethod::TwoSidedSequential { tuning: 5_000.0 },
    );
    let d = monitor_decision(&i).unwrap();
    let opts = CompareOptions {
        relative: false,
        alpha: 0.05,
        sequential: Some(SequentialOptions { tuning: 5_000.0 }),
    };
    let c = compare_proportions(
        &Proportion::new(10_000, 1_000),
        &Proportion::new(10_000, 950),
        &opts,
    )
    .unwrap();
    let v = verdict(&i.criterion, &c, 0.95, None).unwrap();
    assert_eq!(d.verdict, v.verdict);
    assert_eq!(d.bound, c.ci[1]);
    assert_eq!(d.rule, v.evidence.rule);
}

#[test]
fn what_cannot_be_monitored_is_an_error() {
    let method = MonitorMethod::ConfidenceSequence { tuning: 5_000.0 };
    let mut i = input((10_000, 1_000), (10_000, 990), method);
    i.criterion.alpha = 0.6;
    assert!(monitor_decision(&i).is_err(), "one-sided alpha ≥ 0.5");
    let mut i = input((10_000, 1_000), (10_000, 990), method);
    let h = Histogram {
        bounds: vec![1.0, 2.0],
        cumulative: vec![5, 10],
    };
    i.data = MetricData::Quantile {
        control: h.clone(),
        candidate: h,
        q: 0.5,
    };
    assert!(monitor_decision(&i).is_err(), "quantiles");
    let mut i = input(
        (30_000, 3_000),
        (30_000, 2_990),
        MonitorMethod::GroupSequential {
            spending: Spending::OBrienFleming,
        },
    );
    assert!(monitor_decision(&i).is_err(), "beyond the plan");
    i.information.planned_n = 0.0;
    assert!(monitor_decision(&i).is_err(), "no plan");
    let i = input((10, 0), (10, 0), method);
    assert!(monitor_decision(&i).is_err(), "no variance");
}

/// splitmix64: enough randomness for a small check.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn binomial(&mut self, n: u64, p: f64) -> u64 {
        let u = self.uniform();
        let mut prob = (1.0 - p).powi(n as i32);
        let (mut cdf, mut k) = (prob, 0);
        while u > cdf && k < n {
            prob *= p / (1.0 - p) * (n - k) as f64 / (k + 1) as f64;
            k += 1;
            cdf += prob;
        }
        k
    }
}

/// 300 A/A canaries (canary 50/h, control 950/h, 10 %), hourly looks for 24 h: the valid
/// methods roll back rarely, the peeked fixed-horizon test often.
#[test]
fn a_small_aa_simulation_keeps_false_rollbacks_rare() {
    let methods = [
        MonitorMethod::default(),
        MonitorMethod::GroupSequential {
            spending: Spending::Pocock,
        },
        MonitorMethod::MixtureSprt { tau: 0.02 },
        MonitorMethod::FixedHorizon,
    ];
    let mut states: Vec<SpendingBoundaries> = methods
        .iter()
        .map(|_| SpendingBoundaries::new(0.05, Spending::Pocock).unwrap())
        .collect();
    let mut rng = Rng(7);
    let mut false_rollbacks = [0usize; 4];
    let runs = 300;
    for _ in 0..runs {
        let mut rolled = [false; 4];
        let (mut sa, mut sb) = (0, 0);
        for hour in 1..=24u64 {
            sa += rng.binomial(950, 0.1);
            sb += rng.binomial(50, 0.1);
            for (m, method) in methods.iter().enumerate() {
                if rolled[m] {
                    continue;
                }
                let mut i = input((950 * hour, sa), (50 * hour, sb), *method);
                i.information.planned_n = 24_000.0;
                let d = monitor_decision_with(&i, &mut states[m]);
                rolled[m] = d.is_ok_and(|d| d.verdict == Verdict::Breach);
            }
        }
        for (m, r) in rolled.iter().enumerate() {
            false_rollbacks[m] += usize::from(*r);
        }
    }
    let share = |m: usize| false_rollbacks[m] as f64 / runs as f64;
    for (m, method) in methods.iter().enumerate().take(3) {
        assert!(share(m) < 0.10, "{}: {}", method.name(), share(m));
    }
    assert!(share(3) > 0.10, "peeking inflates: {}", share(3));
}
