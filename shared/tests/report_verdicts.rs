//! The comparison report's criterion verdicts: one-sided rate and mean criteria are judged by
//! the planned-information design at `α/m`, the verdict names its method, and the guardian
//! acts on exactly the report's Breach.

use shared::comparison::{DEFAULT_PLANNED_UNITS, FIXED_HORIZON_METHOD, ReportOptions, report};
use shared::guardian::{Decision, decide};
use shared::metrics::{
    ALL_SEGMENTS, GoodDirection, MetricDef, MetricFamily, MetricKind, MetricSummary, MetricValue,
    SummaryCell, TrafficCell, Variant,
};
use shared::plan::{BadDirection, RollbackCriterion, ThresholdKind};
use shared::stats::{
    Criterion, DEFAULT_EARLY_SHARE, Direction, Information, MetricData, MonitorInput,
    MonitorMethod, Proportion, Threshold, Verdict, monitor_decision, obf_boundary,
};

fn quality_def() -> MetricDef {
    MetricDef {
        key: "quality".into(),
        name: "Quality".into(),
        kind: MetricKind::Rate,
        family: MetricFamily::Quality,
        good: GoodDirection::Up,
        unit: String::new(),
    }
}

/// One rate metric in the aggregate only.
fn summary(control: (u64, u64), candidate: (u64, u64)) -> MetricSummary {
    let cell = |variant, (n, successes): (u64, u64)| SummaryCell {
        metric: "quality".into(),
        segment: ALL_SEGMENTS.into(),
        variant,
        value: MetricValue::Rate { n, successes },
    };
    MetricSummary {
        catalogue: vec![quality_def()],
        segments: vec![],
        from: None,
        to: None,
        windows: 1,
        cells: vec![
            cell(Variant::Control, control),
            cell(Variant::Candidate, candidate),
        ],
        traffic: vec![
            TrafficCell {
                segment: ALL_SEGMENTS.into(),
                variant: Variant::Control,
                requests: control.0,
            },
            TrafficCell {
                segment: ALL_SEGMENTS.into(),
                variant: Variant::Candidate,
                requests: candidate.0,
            },
        ],
    }
}

fn must_not_drop(margin: f64) -> RollbackCriterion {
    RollbackCriterion {
        metric: "quality".into(),
        bad_direction: BadDirection::Decrease,
        threshold_kind: ThresholdKind::Absolute,
        threshold: margin,
    }
}

fn options() -> ReportOptions {
    ReportOptions {
        candidate_percent: 5.0,
        ..ReportOptions::default()
    }
}

#[test]
fn the_verdict_is_the_planned_design_and_names_it() {
    // Two hours of the simulation's canary: 19 000 control at 10 %, 1 000 candidate at 8 %.
    let s = summary((19_000, 1_900), (1_000, 80));
    let r = report(&s, &[must_not_drop(0.0)], &options());
    let row = r.cell("quality", ALL_SEGMENTS).unwrap();
    let direct = monitor_decision(&MonitorInput {
        criterion: Criterion {
            metric: "quality".into(),
            bad_direction: Direction::Decrease,
            threshold: Threshold::Absolute(0.0),
            alpha: 0.05,
        },
        data: MetricData::Proportions {
            control: Proportion::new(19_000, 1_900),
            candidate: Proportion::new(1_000, 80),
        },
        information: Information {
            planned_n: DEFAULT_PLANNED_UNITS,
            earlier_looks: vec![],
        },
        method: MonitorMethod::Planned {
            early_share: DEFAULT_EARLY_SHARE,
        },
    })
    .unwrap();
    // 20 000 units is the plan: the boundary is z_{0.0225} = 2.004654 (scipy).
    assert!((direct.boundary - 2.004_654_462).abs() < 1e-8, "{direct:?}");
    // Z = 0.02 / sqrt(p(1−p)(1/19000 + 1/1000)) at the pooled p = 1980/20000 = 0.099.
    let se = (0.099f64 * 0.901 * (1.0 / 19_000.0 + 1.0 / 1_000.0)).sqrt();
    assert!((direct.z - 0.02 / se).abs() < 1e-9, "{direct:?}");
    assert_eq!(direct.verdict, Verdict::Breach, "Z = {} > 2.0047", direct.z);
    assert_eq!(row.verdict, Some(direct.verdict));
    assert_eq!(row.method.as_deref(), Some(direct.method.as_str()));
    assert!(
        row.method
            .as_deref()
            .unwrap()
            .contains("O'Brien–Fleming-type")
    );
    let [lo, hi] = row.verdict_ci.unwrap();
    assert!((hi - (direct.estimate + direct.boundary * direct.std_error)).abs() < 1e-12);
    assert!((lo - (direct.estimate - direct.boundary * direct.std_error)).abs() < 1e-12);
    assert!(hi < 0.0, "the harmful end lies beyond the margin");
    assert_eq!(r.overall, Verdict::Breach);
    // The guardian acts on the report's Breach.
    assert!(rolls_back(&r));
}

#[test]
fn the_old_two_sided_interval_would_not_have_breached_there() {
    // The same look under the two-sided always-valid interval (N* = 5 000): inconclusive,
    // which is the time the planned design saves.
    let r = monitor_decision(&MonitorInput {
        criterion: Criterion {
            metric: "quality".into(),
            bad_direction: Direction::Decrease,
            threshold: Threshold::Absolute(0.0),
            alpha: 0.05,
        },
        data: MetricData::Proportions {
            control: Proportion::new(19_000, 1_900),
            candidate: Proportion::new(1_000, 80),
        },
        information: Information {
            planned_n: DEFAULT_PLANNED_UNITS,
            earlier_looks: vec![],
        },
        method: MonitorMethod::TwoSidedSequential { tuning: 5_000.0 },
    })
    .unwrap();
    assert_eq!(r.verdict, Verdict::Inconclusive, "{r:?}");
}

#[test]
fn segments_share_the_aggregates_information_time_and_alpha_is_split() {
    // Two segments of equal size, the drop in one: each of the 3 cells is judged at α/3, and
    // the segment's boundary is the aggregate's information time, not its own half of it.
    let mut s = summary((38_000, 3_800), (2_000, 180));
    s.segments = vec!["a".into(), "b".into()];
    for (seg, cand) in [("a", 80u64), ("b", 100u64)] {
        for (variant, n, k) in [
            (Variant::Control, 19_000u64, 1_900u64),
            (Variant::Candidate, 1_000, cand),
        ] {
            s.cells.push(SummaryCell {
                metric: "quality".into(),
                segment: seg.into(),
                variant,
                value: MetricValue::Rate { n, successes: k },
            });
        }
    }
    let r = report(&s, &[must_not_drop(0.0)], &options());
    let a = r.cell("quality", "a").unwrap();
    // 40 000 aggregate units: twice the plan, so only the confidence sequence (α/3 · 0.1).
    let seg_decision = monitor_decision(&MonitorInput {
        criterion: Criterion {
            metric: "quality".into(),
            bad_direction: Direction::Decrease,
            threshold: Threshold::Absolute(0.0),
            alpha: 0.05 / 3.0,
        },
        data: MetricData::Proportions {
            control: Proportion::new(19_000, 1_900),
            candidate: Proportion::new(1_000, 80),
        },
        information: Information {
            planned_n: DEFAULT_PLANNED_UNITS / 2.0,
            earlier_looks: vec![],
        },
        method: MonitorMethod::Planned {
            early_share: DEFAULT_EARLY_SHARE,
        },
    })
    .unwrap();
    assert_eq!(a.verdict, Some(seg_decision.verdict));
    let [lo, _] = a.verdict_ci.unwrap();
    assert!(
        (lo - (seg_decision.estimate - seg_decision.boundary * seg_decision.std_error)).abs()
            < 1e-12
    );
    // Past the plan the boundary is above the planned part's end value.
    assert!(seg_decision.boundary > obf_boundary(1.0, 0.05 / 3.0 * DEFAULT_EARLY_SHARE).unwrap());
}

#[test]
fn quantile_criteria_keep_the_fixed_horizon_interval_and_say_so() {
    let mut s = summary((1_000, 100), (1_000, 100));
    s.catalogue.push(MetricDef {
        key: "latency_ms".into(),
        name: "Latency".into(),
        kind: MetricKind::Latency,
        family: MetricFamily::Latency,
        good: GoodDirection::Down,
        unit: "ms".into(),
    });
    for variant in [Variant::Control, Variant::Candidate] {
        s.cells.push(SummaryCell {
            metric: "latency_ms".into(),
            segment: ALL_SEGMENTS.into(),
            variant,
            value: MetricValue::Latency {
                le: vec![100.0, 500.0, 1000.0, 5000.0],
                counts: vec![200, 700, 950, 1000],
            },
        });
    }
    let level = RollbackCriterion {
        metric: "latency_p95_ms".into(),
        bad_direction: BadDirection::Increase,
        threshold_kind: ThresholdKind::Level,
        threshold: 2500.0,
    };
    let r = report(&s, &[must_not_drop(0.02), level], &options());
    let lat = r.cell("latency_p95_ms", ALL_SEGMENTS).unwrap();
    assert!(lat.verdict.is_some(), "{lat:?}");
    assert_eq!(lat.method.as_deref(), Some(FIXED_HORIZON_METHOD));
}

/// 200 A/A canaries (canary 500/h, control 9 500/h, 10 %), looks every 15 minutes for 24 h
/// through the report and the guardian: false rollbacks stay near or under α.
#[test]
fn a_small_aa_run_through_the_report_rarely_rolls_back() {
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
            (0..n).filter(|_| self.uniform() < p).count() as u64
        }
    }
    let mut rng = Rng(11);
    let runs = 200;
    let mut rolled = 0;
    for _ in 0..runs {
        let (mut sa, mut sb) = (0, 0);
        for look in 1..=96u64 {
            sa += rng.binomial(2_375, 0.1);
            sb += rng.binomial(125, 0.1);
            let s = summary((2_375 * look, sa), (125 * look, sb));
            let r = report(&s, &[must_not_drop(0.0)], &options());
            if rolls_back(&r) {
                rolled += 1;
                break;
            }
        }
    }
    // α = 5 %: 10 expected at most; 21 is the binomial's 99.9 % quantile for 5 % of 200.
    assert!(rolled <= 21, "{rolled} of {runs} A/A canaries rolled back");
}

#[test]
fn a_mean_with_few_units_gets_the_students_t_boundary() {
    // Candidate's own mean against a level, 3 units: df = 2, where Student's two-sided tail
    // is P(|T| > t) = 1 − t/√(t² + 2) in closed form.
    let planned_n = 30.0;
    let d = monitor_decision(&MonitorInput {
        criterion: Criterion {
            metric: "cost".into(),
            bad_direction: Direction::Increase,
            threshold: Threshold::Level(1.0),
            alpha: 0.05,
        },
        data: MetricData::Means {
            control: shared::stats::Moments::from_values(&[1.0, 1.1, 0.9]),
            candidate: shared::stats::Moments::from_values(&[1.0, 1.2, 1.1]),
        },
        information: Information {
            planned_n,
            earlier_looks: vec![],
        },
        method: MonitorMethod::Planned {
            early_share: DEFAULT_EARLY_SHARE,
        },
    })
    .unwrap();
    let z = shared::stats::planned_boundary(3.0, planned_n, 0.05, DEFAULT_EARLY_SHARE).unwrap();
    let two_sided_tail = 2.0 * 0.5 * libm_erfc(z / std::f64::consts::SQRT_2);
    let t = d.boundary;
    // 1 − t/√(t² + 2) without cancellation.
    let r = (t * t + 2.0).sqrt();
    let closed = 2.0 / (r * (r + t));
    assert!(t > z, "{t} vs {z}");
    assert!(
        ((closed - two_sided_tail) / two_sided_tail).abs() < 1e-6,
        "{closed} vs {two_sided_tail}"
    );
}

/// erfc by its continued fraction (Abramowitz & Stegun 7.1.14), 200 terms: far better than
/// the 1e-6 asked above for x > 1.5, where the boundaries here lie.
fn libm_erfc(x: f64) -> f64 {
    assert!(x > 1.5, "{x}");
    let mut f = 0.0;
    for k in (1..=200).rev() {
        f = (k as f64 / 2.0) / (x + f);
    }
    (-x * x).exp() / std::f64::consts::PI.sqrt() / (x + f)
}

/// Whether the guardian rolls back on `r`: a standard-plan canary, running, never paused.
fn rolls_back(r: &shared::comparison::ComparisonReport) -> bool {
    let standing = shared::guardian::Standing {
        state: shared::rollout::RolloutState::Canary,
        paused: false,
        paused_by_guardian_in_stage: false,
        hours_in_stage: None,
    };
    let plan = shared::plan::PlanTemplate::Standard.plan();
    matches!(decide(r, &plan, &standing), Decision::RollBack { .. })
}
