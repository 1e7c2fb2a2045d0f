//! How often the guardian would roll back a harmless canary, and how fast it catches a
//! harmful one: simulated canaries judged look after look.
//!
//! Canary 500 users/h, control 9 500/h, success rate 10 %, criterion "quality must not drop"
//! (bad direction decrease, margin 0, one-sided α = 0.05), a 24 h stage. Users arrive at a
//! steady rate; each 5-minute step adds their successes as binomial draws, and the guardian
//! looks either every hour or every 5 minutes (288 looks).
//!
//! The first row is the guardian itself: each look builds the stage's `MetricSummary` and runs
//! `comparison::report` and `guardian::decide`, the functions the server's guardian and the
//! console run. The other rows judge the same data with `stats::monitor_decision` and one
//! method each (the references, and the planned-information design at other plans). Then
//! the demo's regressions (cost +20 %, quality −6 points in one segment of 12) and an A/A
//! canary with 30 metrics × 12 segments, both through `report` and `decide`; and how often
//! an A/A canary of the demo's catalogue is held for unexpected drift (`guardian::drift`).
//!
//! `cargo run --release -p rollgate-shared --example guardian_sim [-- --runs N] [--quick]
//! [--parts main,demo,family,drift]`
//! (`cargo xtask bench guardian`). Deterministic: the same seed gives the same table.

use std::time::Instant;

use shared::comparison::ComparisonReport;
use shared::comparison::{DEFAULT_PLANNED_UNITS, ReportOptions, report};
use shared::guardian::{Decision, Standing, decide, drift};
use shared::metrics::{
    ALL_SEGMENTS, GoodDirection, MetricDef, MetricFamily, MetricKind, MetricSummary, MetricValue,
    SummaryCell, TrafficCell, Variant, default_catalogue,
};
use shared::plan::PlanTemplate;
use shared::plan::{BadDirection, RollbackCriterion, ThresholdKind};
use shared::rollout::RolloutState;
use shared::stats::{
    Criterion, DEFAULT_EARLY_SHARE, Direction, Information, MetricData, MonitorDecision,
    MonitorInput, MonitorMethod, Proportion, Spending, SpendingBoundaries, Threshold, Verdict,
    monitor_decision_with,
};

const CANARY_PER_HOUR: u64 = 500;
const CONTROL_PER_HOUR: u64 = 9_500;
const STEPS_PER_HOUR: u64 = 12;
const HOURS: u64 = 24;
const STEPS: u64 = HOURS * STEPS_PER_HOUR;
const ALPHA: f64 = 0.05;
const BASE_RATE: f64 = 0.10;
const PLANNED_N: f64 = ((CANARY_PER_HOUR + CONTROL_PER_HOUR) * HOURS) as f64;

/// xoshiro256** (Blackman & Vigna 2018) seeded by splitmix64: small, fast, reproducible.
struct Rng([u64; 4]);

impl Rng {
    fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Self([next(), next(), next(), next()])
    }

    fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Standard normal (Box–Muller, one of the pair).
    fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    /// Binomial(n, p) by inversion from the rarer outcome (the counts here are at most a few
    /// hundred per step, so `(1 − p)^n` stays far from underflow).
    fn binomial(&mut self, n: u64, p: f64) -> u64 {
        if p > 0.5 {
            return n - self.binomial(n, 1.0 - p);
        }
        let u = self.uniform();
        let odds = p / (1.0 - p);
        let mut prob = (1.0 - p).powi(n as i32);
        let mut cdf = prob;
        let mut k = 0;
        while u > cdf && k < n {
            prob *= odds * (n - k) as f64 / (k + 1) as f64;
            k += 1;
            cdf += prob;
        }
        k
    }
}

/// Units of each arm after `step` 5-minute steps.
fn units(step: u64) -> (u64, u64) {
    (
        CONTROL_PER_HOUR * step / STEPS_PER_HOUR,
        CANARY_PER_HOUR * step / STEPS_PER_HOUR,
    )
}

fn criterion(alpha: f64) -> Criterion {
    Criterion {
        metric: "quality".to_owned(),
        bad_direction: Direction::Decrease,
        threshold: Threshold::Absolute(0.0),
        alpha,
    }
}

/// Who judges a look.
#[derive(Clone, Copy)]
enum Judge {
    /// The guardian: `report` with the plan's criterion, then `guardian::decide`.
    Guardian,
    /// `monitor_decision` with one method and its planned units.
    Monitor {
        method: MonitorMethod,
        planned_n: f64,
    },
}

impl Judge {
    fn name(&self) -> String {
        match self {
            Judge::Guardian => format!(
                "**Rollgate guardian** (report + decide): {}, plan {} units (2 h)",
                MonitorMethod::Planned {
                    early_share: DEFAULT_EARLY_SHARE
                }
                .name(),
                DEFAULT_PLANNED_UNITS
            ),
            Judge::Monitor {
                method: MonitorMethod::Planned { .. },
                planned_n,
            } => format!("same design, plan {planned_n} units"),
            Judge::Monitor {
                method: m @ MonitorMethod::GroupSequential { .. },
                ..
            } => format!("{} over the 24 h stage", m.name()),
            Judge::Monitor {
                method: m @ MonitorMethod::ConfidenceSequence { tuning },
                ..
            } if *tuning == 5_000.0 => format!("GrowthBook Safe Rollouts: {}", m.name()),
            Judge::Monitor {
                method: m @ MonitorMethod::TwoSidedSequential { .. },
                ..
            } => format!(
                "Rollgate's verdict before this design (GrowthBook's two-sided interval): {}",
                m.name()
            ),
            Judge::Monitor { method, .. } => method.name(),
        }
    }
}

/// One judge, with its group-sequential recursion per cadence (shared by all canaries: the
/// looks fall at the same information times in every one of them).
struct Contender {
    judge: Judge,
    hourly: Option<SpendingBoundaries>,
    five_min: Option<SpendingBoundaries>,
}

impl Contender {
    fn new(judge: Judge) -> Self {
        let state = match judge {
            Judge::Monitor {
                method: MonitorMethod::GroupSequential { spending },
                ..
            } => SpendingBoundaries::new(ALPHA, spending).ok(),
            _ => None,
        };
        Self {
            judge,
            hourly: state.clone(),
            five_min: state,
        }
    }
}

fn monitor(
    method: MonitorMethod,
    state: Option<&mut SpendingBoundaries>,
    planned_n: f64,
    control: Proportion,
    candidate: Proportion,
) -> Option<MonitorDecision> {
    let input = MonitorInput {
        criterion: criterion(ALPHA),
        data: MetricData::Proportions { control, candidate },
        information: Information {
            planned_n,
            earlier_looks: Vec::new(),
        },
        method,
    };
    let mut scratch;
    let state = match state {
        Some(s) => s,
        None => {
            // Not group-sequential: the recursion is not read.
            scratch = SpendingBoundaries::new(ALPHA, Spending::Pocock).expect("valid alpha");
            &mut scratch
        }
    };
    monitor_decision_with(&input, state).ok()
}

/// The stage's summary of the one-metric scenario, as the server would aggregate it.
fn quality_summary(control: Proportion, candidate: Proportion) -> MetricSummary {
    let cell = |variant, p: Proportion| SummaryCell {
        metric: "quality".into(),
        segment: ALL_SEGMENTS.into(),
        variant,
        value: MetricValue::Rate {
            n: p.n,
            successes: p.successes,
        },
    };
    MetricSummary {
        catalogue: vec![MetricDef {
            key: "quality".into(),
            name: "Quality".into(),
            kind: MetricKind::Rate,
            family: MetricFamily::Quality,
            good: GoodDirection::Up,
            unit: String::new(),
        }],
        segments: Vec::new(),
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
                requests: control.n,
            },
            TrafficCell {
                segment: ALL_SEGMENTS.into(),
                variant: Variant::Candidate,
                requests: candidate.n,
            },
        ],
    }
}

fn options() -> ReportOptions {
    ReportOptions {
        alpha: ALPHA,
        candidate_percent: 100.0 * CANARY_PER_HOUR as f64
            / (CANARY_PER_HOUR + CONTROL_PER_HOUR) as f64,
        ..ReportOptions::default()
    }
}

fn breaches(
    judge: Judge,
    state: Option<&mut SpendingBoundaries>,
    control: Proportion,
    candidate: Proportion,
) -> bool {
    match judge {
        Judge::Guardian => {
            let criteria = [RollbackCriterion {
                metric: "quality".into(),
                bad_direction: BadDirection::Decrease,
                threshold_kind: ThresholdKind::Absolute,
                threshold: 0.0,
            }];
            let r = report(&quality_summary(control, candidate), &criteria, &options());
            rolls_back(&r)
        }
        // An undecidable look (no variance yet) decides nothing.
        Judge::Monitor { method, planned_n } => {
            monitor(method, state, planned_n, control, candidate)
                .is_some_and(|d| d.verdict == Verdict::Breach)
        }
    }
}

/// The boundary at 2 h on the expected counts of the 10 % → 8 % canary.
fn at_two_hours(judge: Judge, state: Option<&mut SpendingBoundaries>) -> MonitorDecision {
    let (na, nb) = units(2 * STEPS_PER_HOUR);
    let control = Proportion::new(na, na / 10);
    let candidate = Proportion::new(nb, nb * 8 / 100);
    let (method, planned_n) = match judge {
        Judge::Guardian => (
            MonitorMethod::Planned {
                early_share: DEFAULT_EARLY_SHARE,
            },
            DEFAULT_PLANNED_UNITS,
        ),
        Judge::Monitor { method, planned_n } => (method, planned_n),
    };
    monitor(method, state, planned_n, control, candidate).expect("a decidable look")
}

/// First rollback hour of each contender at each cadence in one simulated canary.
struct Outcome {
    hourly: Vec<Option<f64>>,
    five_min: Vec<Option<f64>>,
}

fn simulate(rng: &mut Rng, candidate_rate: f64, contenders: &mut [Contender]) -> Outcome {
    let mut out = Outcome {
        hourly: vec![None; contenders.len()],
        five_min: vec![None; contenders.len()],
    };
    let (mut sa, mut sb) = (0, 0);
    for step in 1..=STEPS {
        let (prev_a, prev_b) = units(step - 1);
        let (na, nb) = units(step);
        sa += rng.binomial(na - prev_a, BASE_RATE);
        sb += rng.binomial(nb - prev_b, candidate_rate);
        let control = Proportion::new(na, sa);
        let candidate = Proportion::new(nb, sb);
        let hour = step as f64 / STEPS_PER_HOUR as f64;
        let on_the_hour = step % STEPS_PER_HOUR == 0;
        for (i, c) in contenders.iter_mut().enumerate() {
            let mut now = None;
            if out.five_min[i].is_none() {
                let b = breaches(c.judge, c.five_min.as_mut(), control, candidate);
                now = Some(b);
                if b {
                    out.five_min[i] = Some(hour);
                }
            }
            if on_the_hour && out.hourly[i].is_none() {
                let b = match (c.hourly.as_mut(), now) {
                    // Without a recursion the decision does not depend on the cadence.
                    (None, Some(b)) => b,
                    (state, _) => breaches(c.judge, state, control, candidate),
                };
                if b {
                    out.hourly[i] = Some(hour);
                }
            }
        }
    }
    out
}

/// Wilson score interval (95 %) of a proportion, in percent.
fn wilson(hits: usize, n: usize) -> (f64, f64, f64) {
    let (k, n) = (hits as f64, n as f64);
    let z = 1.959_963_984_540_054_f64;
    let p = k / n;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denom;
    (100.0 * p, 100.0 * (centre - half), 100.0 * (centre + half))
}

fn rate(times: &[Option<f64>]) -> String {
    let hits = times.iter().filter(|t| t.is_some()).count();
    let (p, lo, hi) = wilson(hits, times.len());
    format!("{p:.2} [{lo:.2}, {hi:.2}]")
}

/// The `q` quantile (lower) of the rollback hours, never-rolled-back counted as infinite.
fn hour_quantile(times: &[Option<f64>], q: f64) -> String {
    let mut t: Vec<f64> = times.iter().map(|t| t.unwrap_or(f64::INFINITY)).collect();
    t.sort_by(f64::total_cmp);
    let m = t[((t.len() as f64 * q).ceil() as usize).clamp(1, t.len()) - 1];
    if m.is_finite() {
        format!("{m:.2}")
    } else {
        "> 24".to_owned()
    }
}

fn judges() -> Vec<Judge> {
    let m = |method, planned_n| Judge::Monitor { method, planned_n };
    let planned = MonitorMethod::Planned {
        early_share: DEFAULT_EARLY_SHARE,
    };
    vec![
        Judge::Guardian,
        // The same design planned for more units than the harm needs: how much the plan matters.
        m(planned, 30_000.0),
        m(planned, 60_000.0),
        m(planned, PLANNED_N),
        // GrowthBook Safe Rollouts: one-sided confidence sequence, tuning 5 000.
        m(
            MonitorMethod::ConfidenceSequence { tuning: 5_000.0 },
            PLANNED_N,
        ),
        // Tuned to the traffic of the first two hours.
        m(
            MonitorMethod::ConfidenceSequence { tuning: 20_000.0 },
            PLANNED_N,
        ),
        // Rollgate's verdict before this design (and GrowthBook's two-sided interval).
        m(
            MonitorMethod::TwoSidedSequential { tuning: 5_000.0 },
            PLANNED_N,
        ),
        m(
            MonitorMethod::GroupSequential {
                spending: Spending::OBrienFleming,
            },
            PLANNED_N,
        ),
        m(
            MonitorMethod::GroupSequential {
                spending: Spending::Pocock,
            },
            PLANNED_N,
        ),
        // τ = 2 pp: the smallest drop worth a rollback in this scenario.
        m(MonitorMethod::MixtureSprt { tau: 0.02 }, PLANNED_N),
        m(MonitorMethod::FixedHorizon, PLANNED_N),
    ]
}

struct Args {
    /// Which parts to run: `main`, `demo`, `family`, `drift` (all by default).
    parts: Vec<String>,
    runs: usize,
    demo_runs: usize,
    family_runs: usize,
    drift_runs: usize,
}

fn args() -> Args {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut a = Args {
        parts: vec![
            "main".into(),
            "demo".into(),
            "family".into(),
            "drift".into(),
        ],
        runs: 2_000,
        demo_runs: 400,
        family_runs: 200,
        drift_runs: 400,
    };
    let mut it = argv.iter();
    while let Some(arg) = it.next() {
        let mut number = |into: &mut usize| {
            if let Some(n) = it.next().and_then(|n| n.parse().ok()) {
                *into = n;
            }
        };
        match arg.as_str() {
            "--parts" => {
                if let Some(p) = it.next() {
                    a.parts = p.split(',').map(str::to_owned).collect();
                }
            }
            "--runs" => number(&mut a.runs),
            "--demo-runs" => number(&mut a.demo_runs),
            "--family-runs" => number(&mut a.family_runs),
            "--drift-runs" => number(&mut a.drift_runs),
            "--quick" => {
                a.runs = 300;
                a.demo_runs = 60;
                a.family_runs = 30;
                a.drift_runs = 60;
            }
            other => eprintln!("guardian_sim: ignoring argument `{other}`"),
        }
    }
    a
}

fn main() {
    let args = args();
    let started = Instant::now();
    if args.parts.iter().any(|p| p == "main") {
        methods(&args);
    }
    if args.parts.iter().any(|p| p == "demo") {
        demo(&args);
        println!();
    }
    if args.parts.iter().any(|p| p == "family") {
        family(&args);
        println!();
    }
    if args.parts.iter().any(|p| p == "drift") {
        drift_aa(&args);
        println!();
    }
    println!("({:.0} s)", started.elapsed().as_secs_f64());
}

/// The scenario's table, every method side by side.
fn methods(args: &Args) {
    let list = judges();
    let mut contenders: Vec<Contender> = list.iter().map(|&j| Contender::new(j)).collect();
    let mut run = |candidate_rate: f64, seed: u64| {
        let mut rng = Rng::new(seed);
        let mut hourly = vec![Vec::with_capacity(args.runs); contenders.len()];
        let mut five = vec![Vec::with_capacity(args.runs); contenders.len()];
        for _ in 0..args.runs {
            let o = simulate(&mut rng, candidate_rate, &mut contenders);
            for i in 0..contenders.len() {
                hourly[i].push(o.hourly[i]);
                five[i].push(o.five_min[i]);
            }
        }
        (hourly, five)
    };
    let (aa_hourly, aa_five) = run(BASE_RATE, 1);
    let (drop_hourly, drop_five) = run(0.08, 2);
    println!(
        "Guardian decisions: {} simulated canaries per scenario, canary {CANARY_PER_HOUR}/h, \
         control {CONTROL_PER_HOUR}/h, success rate 10 %, quality must not drop (margin 0), \
         one-sided α = {ALPHA}, 24 h stage",
        args.runs,
    );
    println!();
    println!(
        "| method | A/A false rollbacks %, hourly looks [95 % Wilson] | A/A false rollbacks %, \
         5-min looks [95 % Wilson] | 10 % → 8 %: median hour of rollback, hourly / 5-min | \
         10 % → 8 %: p90 hour, hourly / 5-min | boundary at 2 h, hourly / 5-min |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for (i, j) in list.iter().enumerate() {
        let c = &mut contenders[i];
        let b_hourly = at_two_hours(*j, c.hourly.as_mut()).boundary;
        let b_five = at_two_hours(*j, c.five_min.as_mut()).boundary;
        println!(
            "| {} | {} | {} | {} / {} | {} / {} | {b_hourly:.2} / {b_five:.2} |",
            j.name(),
            rate(&aa_hourly[i]),
            rate(&aa_five[i]),
            hour_quantile(&drop_hourly[i], 0.5),
            hour_quantile(&drop_five[i], 0.5),
            hour_quantile(&drop_hourly[i], 0.9),
            hour_quantile(&drop_five[i], 0.9),
        );
    }
    let expected = at_two_hours(
        Judge::Monitor {
            method: MonitorMethod::FixedHorizon,
            planned_n: PLANNED_N,
        },
        None,
    );
    println!();
    println!(
        "Expected harm statistic of the 10 % → 8 % canary at 2 h: Z = {:.2} (estimate {:+.4}, \
         standard error {:.4}); a method rolls back half of such canaries by 2 h only if its \
         boundary there is about that low.",
        expected.z, expected.estimate, expected.std_error
    );
    println!();
}

/// A stage of many segments and metrics, kept as cumulative sufficient statistics per
/// (metric, segment, arm) and turned into the `MetricSummary` the server would build.
struct Stage {
    catalogue: Vec<MetricDef>,
    segments: Vec<String>,
    /// `[metric][segment][arm]`, arm 0 control, 1 candidate.
    cells: Vec<Vec<[MetricValue; 2]>>,
    requests: [u64; 2],
}

/// What one metric does in one segment of one arm: a rate, or a mean with its sd.
#[derive(Clone, Copy)]
enum Draw {
    Rate(f64),
    Mean { mean: f64, sd: f64 },
}

impl Stage {
    fn new(catalogue: Vec<MetricDef>, segments: usize) -> Self {
        let empty = |d: &MetricDef| match d.kind {
            MetricKind::Rate => MetricValue::Rate { n: 0, successes: 0 },
            _ => MetricValue::Mean {
                n: 0,
                sum: 0.0,
                sum_squares: 0.0,
            },
        };
        let cells = catalogue
            .iter()
            .map(|d| vec![[empty(d), empty(d)]; segments])
            .collect();
        Self {
            catalogue,
            segments: (0..segments).map(|s| format!("segment {s:02}")).collect(),
            cells,
            requests: [0, 0],
        }
    }

    /// Adds `n` users of `arm` in every segment, drawing each metric with `draw`.
    fn add(&mut self, rng: &mut Rng, arm: usize, n: u64, draw: impl Fn(usize, usize) -> Draw) {
        if n == 0 {
            return;
        }
        for (m, metric) in self.cells.iter_mut().enumerate() {
            for (s, cell) in metric.iter_mut().enumerate() {
                let value = match draw(m, s) {
                    Draw::Rate(p) => MetricValue::Rate {
                        n,
                        successes: rng.binomial(n, p),
                    },
                    Draw::Mean { mean, sd } => {
                        // A batch's mean and sample variance, as the demo's traffic draws them.
                        let nf = n as f64;
                        let m = mean + sd / nf.sqrt() * rng.normal();
                        let var = if n > 1 {
                            sd * sd * (1.0 + (2.0 / (nf - 1.0)).sqrt() * rng.normal()).max(0.05)
                        } else {
                            0.0
                        };
                        MetricValue::Mean {
                            n,
                            sum: m * nf,
                            sum_squares: (nf - 1.0) * var + nf * m * m,
                        }
                    }
                };
                // Same kind by construction.
                let _ = cell[arm].merge(&value);
            }
        }
        self.requests[arm] += n * self.segments.len() as u64;
    }

    fn summary(&self) -> MetricSummary {
        let variants = [Variant::Control, Variant::Candidate];
        let mut cells = Vec::new();
        for (def, metric) in self.catalogue.iter().zip(&self.cells) {
            for arm in 0..2 {
                let mut total: Option<MetricValue> = None;
                for (seg, cell) in self.segments.iter().zip(metric) {
                    match &mut total {
                        Some(t) => {
                            let _ = t.merge(&cell[arm]);
                        }
                        None => total = Some(cell[arm].clone()),
                    }
                    cells.push(SummaryCell {
                        metric: def.key.clone(),
                        segment: seg.clone(),
                        variant: variants[arm],
                        value: cell[arm].clone(),
                    });
                }
                if let Some(value) = total {
                    cells.push(SummaryCell {
                        metric: def.key.clone(),
                        segment: ALL_SEGMENTS.into(),
                        variant: variants[arm],
                        value,
                    });
                }
            }
        }
        MetricSummary {
            catalogue: self.catalogue.clone(),
            segments: self.segments.clone(),
            from: None,
            to: None,
            windows: 1,
            cells,
            traffic: variants
                .iter()
                .zip(self.requests)
                .map(|(&variant, requests)| TrafficCell {
                    segment: ALL_SEGMENTS.into(),
                    variant,
                    requests,
                })
                .collect(),
        }
    }
}

/// First rollback hour with looks every 5 minutes and every hour (`None`: not in 24 h).
/// `per_hour` is the traffic of each arm in each segment.
fn first_rollback(
    rng: &mut Rng,
    stage: &mut Stage,
    criteria: &[RollbackCriterion],
    per_hour: [u64; 2],
    draw: impl Fn(usize, usize, usize) -> Draw,
) -> (Option<f64>, Option<f64>) {
    let opts = options();
    let (mut five, mut hourly) = (None, None);
    for step in 1..=STEPS {
        for (arm, &rate) in per_hour.iter().enumerate() {
            let n = rate * step / STEPS_PER_HOUR - rate * (step - 1) / STEPS_PER_HOUR;
            stage.add(rng, arm, n, |m, s| draw(m, s, arm));
        }
        if stage.requests[1] == 0 {
            continue;
        }
        let on_the_hour = step % STEPS_PER_HOUR == 0;
        if five.is_some() && !on_the_hour {
            continue;
        }
        let hour = step as f64 / STEPS_PER_HOUR as f64;
        let r = report(&stage.summary(), criteria, &opts);
        if rolls_back(&r) {
            five.get_or_insert(hour);
            if on_the_hour {
                hourly = Some(hour);
                break;
            }
        }
    }
    (five, hourly)
}

/// The demo's regressions, through `report` and `guardian::decide` with the standard plan's
/// criteria on quality (must not drop more than 2 points), cost (must not rise more than 15 %)
/// and hard errors (must not rise more than 0.5 points): 12 segments of equal traffic, quality
/// 90 %, cost per request $0.0042 with a standard deviation of 60 % of it, hard errors 0.4 %.
fn demo(args: &Args) {
    const SEGMENTS: usize = 12;
    let keys = [
        "shadow_eval_pass_rate",
        "cost_per_request",
        "hard_error_rate",
    ];
    let catalogue: Vec<MetricDef> = default_catalogue()
        .into_iter()
        .filter(|d| keys.contains(&d.key.as_str()))
        .collect();
    let criteria: Vec<RollbackCriterion> = shared::plan::PlanTemplate::Standard
        .plan()
        .criteria
        .into_iter()
        .filter(|c| keys.contains(&c.metric.as_str()))
        .collect();
    // (name, cost factor, quality change in segment 0)
    let cases = [
        ("cost +20 % everywhere", 1.20, 0.0),
        ("quality −6 points in one segment of 12", 1.0, -0.06),
        ("both (the demo's canary)", 1.20, -0.06),
    ];
    // (name, users per hour on both arms)
    let traffics = [
        ("scenario traffic, 10 000 users/h", 10_000u64),
        ("demo traffic, 60 000 requests/h", 60_000u64),
    ];
    println!(
        "The demo's regressions ({} simulated canaries each, 5 % canary, 12 segments, the \
         report's default plan of {} units): median [p90] hour of the automatic rollback, \
         5-minute / hourly looks",
        args.demo_runs, DEFAULT_PLANNED_UNITS
    );
    println!();
    println!("| regression | {} | {} |", traffics[0].0, traffics[1].0);
    println!("| --- | --- | --- |");
    for (ci, (name, cost_factor, quality_delta)) in cases.iter().enumerate() {
        let mut cols = Vec::new();
        for (ti, (_, total)) in traffics.iter().enumerate() {
            let per_hour = [
                total * 95 / 100 / SEGMENTS as u64,
                total * 5 / 100 / SEGMENTS as u64,
            ];
            let mut rng = Rng::new(100 + (ci * 10 + ti) as u64);
            let (mut five, mut hourly) = (Vec::new(), Vec::new());
            for _ in 0..args.demo_runs {
                let mut stage = Stage::new(catalogue.clone(), SEGMENTS);
                let (f, h) =
                    first_rollback(&mut rng, &mut stage, &criteria, per_hour, |m, s, arm| {
                        let cand = arm == 1;
                        match catalogue[m].key.as_str() {
                            "shadow_eval_pass_rate" => {
                                Draw::Rate(0.90 + if cand && s == 0 { *quality_delta } else { 0.0 })
                            }
                            "cost_per_request" => {
                                let mean = 0.0042 * if cand { *cost_factor } else { 1.0 };
                                Draw::Mean {
                                    mean,
                                    sd: 0.6 * mean,
                                }
                            }
                            _ => Draw::Rate(0.004),
                        }
                    });
                five.push(f);
                hourly.push(h);
            }
            cols.push(format!(
                "{} [{}] / {} [{}]",
                hour_quantile(&five, 0.5),
                hour_quantile(&five, 0.9),
                hour_quantile(&hourly, 0.5),
                hour_quantile(&hourly, 0.9)
            ));
        }
        println!("| {name} | {} | {} |", cols[0], cols[1]);
    }
}

/// 30 metrics (15 rates, 15 means) × 12 segments, one criterion each (margin 0), all A/A, through
/// `report` and `guardian::decide`: the share of canaries rolled back at least once.
fn family(args: &Args) {
    const METRICS: usize = 30;
    const SEGMENTS: usize = 12;
    let (summary, criteria) = shared::synthetic::summary(METRICS, 1, 0);
    let catalogue = summary.catalogue;
    // Margin 0, the strictest A/A case: any significant difference on the harmful side counts.
    let criteria: Vec<RollbackCriterion> = criteria
        .into_iter()
        .map(|c| RollbackCriterion {
            threshold: 0.0,
            ..c
        })
        .collect();
    let per_hour = [
        CONTROL_PER_HOUR / SEGMENTS as u64,
        CANARY_PER_HOUR / SEGMENTS as u64,
    ];
    let mut rng = Rng::new(3);
    let (mut five, mut hourly) = (Vec::new(), Vec::new());
    for _ in 0..args.family_runs {
        let mut stage = Stage::new(catalogue.clone(), SEGMENTS);
        let (f, h) =
            first_rollback(
                &mut rng,
                &mut stage,
                &criteria,
                per_hour,
                |m, _, _| match catalogue[m].kind {
                    MetricKind::Rate => Draw::Rate(0.75),
                    _ => Draw::Mean { mean: 1.0, sd: 0.9 },
                },
            );
        five.push(f);
        hourly.push(h);
    }
    let cells = criteria.len() * (SEGMENTS + 1);
    println!(
        "30 metrics × 12 segments A/A ({} criterion cells with the aggregate, each judged at \
         α/{cells}: Bonferroni), {} simulated canaries at the scenario's traffic: family-wise \
         false rollback {} % with hourly looks, {} % with 5-minute looks",
        cells,
        args.family_runs,
        rate(&hourly),
        rate(&five)
    );
}

/// The demo catalogue's rates and means (its traffic's rates, means and spreads), A/A at the
/// scenario's traffic with the standard plan's criteria, through `report` and
/// `guardian::drift`: the share of canaries held at least once for unexpected drift in 24 h.
fn drift_aa(args: &Args) {
    let catalogue: Vec<MetricDef> = default_catalogue()
        .into_iter()
        .filter(|d| matches!(d.kind, MetricKind::Rate | MetricKind::Mean))
        .collect();
    let criteria = PlanTemplate::Standard.plan().criteria;
    let watched = catalogue
        .iter()
        .filter(|d| !criteria.iter().any(|c| c.metric == d.key))
        .count();
    let draws: Vec<Draw> = catalogue
        .iter()
        .map(|d| match d.key.as_str() {
            "shadow_eval_pass_rate" => Draw::Rate(0.90),
            "suggestion_click_through" => Draw::Rate(0.22),
            "retry_rate" => Draw::Rate(0.06),
            "conversation_length" => Draw::Mean { mean: 3.2, sd: 2.0 },
            "cost_per_request" => Draw::Mean {
                mean: 0.0042,
                sd: 0.6 * 0.0042,
            },
            "tokens_per_request" => Draw::Mean {
                mean: 1100.0,
                sd: 450.0,
            },
            "hard_error_rate" => Draw::Rate(0.004),
            "soft_error_rate" => Draw::Rate(0.02),
            "refusal_rate" => Draw::Rate(0.008),
            _ => Draw::Rate(0.001),
        })
        .collect();
    let opts = options();
    let tokens = catalogue.iter().position(|d| d.key == "tokens_per_request");
    // First hour held with 5-minute and hourly looks, tokens per request lifted by `lift` on
    // the candidate.
    let run = |rng: &mut Rng, lift: f64| {
        let mut stage = Stage::new(catalogue.clone(), 1);
        let (mut f, mut h) = (None, None);
        for step in 1..=STEPS {
            for (arm, rate) in [CONTROL_PER_HOUR, CANARY_PER_HOUR].into_iter().enumerate() {
                let n = rate * step / STEPS_PER_HOUR - rate * (step - 1) / STEPS_PER_HOUR;
                stage.add(rng, arm, n, |m, _| match draws[m] {
                    Draw::Mean { mean, sd } if arm == 1 && Some(m) == tokens => Draw::Mean {
                        mean: mean * (1.0 + lift),
                        sd,
                    },
                    d => d,
                });
            }
            let on_the_hour = step % STEPS_PER_HOUR == 0;
            if f.is_some() && !on_the_hour {
                continue;
            }
            let hour = step as f64 / STEPS_PER_HOUR as f64;
            if !drift(&report(&stage.summary(), &criteria, &opts)).is_empty() {
                f.get_or_insert(hour);
                if on_the_hour {
                    h = Some(hour);
                    break;
                }
            }
        }
        (f, h)
    };
    let mut rng = Rng::new(11);
    let (mut five, mut hourly) = (Vec::new(), Vec::new());
    for _ in 0..args.drift_runs {
        let (f, h) = run(&mut rng, 0.0);
        five.push(f);
        hourly.push(h);
    }
    println!(
        "Unexpected drift, A/A: the demo catalogue's {} rates and means ({watched} without a \
         criterion, watched together at α = {}), {} simulated canaries at the scenario's \
         traffic for 24 h: held at least once {} % with hourly looks, {} % with 5-minute looks",
        catalogue.len(),
        shared::guardian::DRIFT_ALPHA,
        args.drift_runs,
        rate(&hourly),
        rate(&five)
    );
    let (mut five, mut hourly) = (Vec::new(), Vec::new());
    for _ in 0..args.drift_runs {
        let (f, h) = run(&mut rng, 0.10);
        five.push(f);
        hourly.push(h);
    }
    println!(
        "Tokens per request +10 % on the candidate (sd 41 % of the mean), the same canaries: \
         median [p90] hour of the hold {} [{}] with 5-minute looks, {} [{}] hourly",
        hour_quantile(&five, 0.5),
        hour_quantile(&five, 0.9),
        hour_quantile(&hourly, 0.5),
        hour_quantile(&hourly, 0.9)
    );
}

/// Whether the guardian rolls back on `r`: a standard-plan canary, running, never paused.
fn rolls_back(r: &ComparisonReport) -> bool {
    let standing = Standing {
        state: RolloutState::Canary,
        paused: false,
        paused_by_guardian_in_stage: false,
        hours_in_stage: None,
    };
    let plan = PlanTemplate::Standard.plan();
    matches!(decide(r, &plan, &standing), Decision::RollBack { .. })
}
