//! How often the guardian would roll back a harmless canary, and how fast it catches a
//! harmful one, for each monitoring method: simulated canaries judged by the real
//! `monitor_decision` at the guardian's cadence.
//!
//! Canary 500 users/h, control 9 500/h, success rate 10 %, criterion "quality must not drop"
//! (bad direction decrease, margin 0, one-sided α = 0.05), a 24 h stage (240 000 planned
//! units). Users arrive at a steady rate; each 5-minute step adds their successes as binomial
//! draws, and the guardian looks either every hour or every 5 minutes (288 looks).
//!
//! `cargo run --release -p rollgate-shared --example guardian_sim [-- --runs N] [-- --quick]`
//! (`cargo xtask bench guardian`). Deterministic: the same seed gives the same table.

use std::time::Instant;

use shared::stats::{
    Criterion, Direction, Information, MetricData, MonitorDecision, MonitorInput, MonitorMethod,
    Proportion, Spending, SpendingBoundaries, Threshold, Verdict, monitor_decision_with,
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

    /// Binomial(n, p) by inversion (the counts here are at most a few hundred per step).
    fn binomial(&mut self, n: u64, p: f64) -> u64 {
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

/// One method under test, with its group-sequential recursion per cadence (shared by all
/// canaries: the looks fall at the same information times in every one of them).
struct Contender {
    method: MonitorMethod,
    hourly: Option<SpendingBoundaries>,
    five_min: Option<SpendingBoundaries>,
}

impl Contender {
    fn new(method: MonitorMethod, alpha: f64) -> Self {
        let state = match method {
            MonitorMethod::GroupSequential { spending } => {
                SpendingBoundaries::new(alpha, spending).ok()
            }
            _ => None,
        };
        Self {
            method,
            hourly: state.clone(),
            five_min: state,
        }
    }
}

fn decide(
    method: MonitorMethod,
    state: Option<&mut SpendingBoundaries>,
    alpha: f64,
    planned_n: f64,
    control: Proportion,
    candidate: Proportion,
) -> Option<MonitorDecision> {
    let input = MonitorInput {
        criterion: criterion(alpha),
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
            scratch = SpendingBoundaries::new(alpha, Spending::Pocock).expect("valid alpha");
            &mut scratch
        }
    };
    monitor_decision_with(&input, state).ok()
}

fn breaches(
    method: MonitorMethod,
    state: Option<&mut SpendingBoundaries>,
    alpha: f64,
    planned_n: f64,
    control: Proportion,
    candidate: Proportion,
) -> bool {
    // An undecidable look (no variance yet) decides nothing.
    decide(method, state, alpha, planned_n, control, candidate)
        .is_some_and(|d| d.verdict == Verdict::Breach)
}

/// The decision on the expected counts of the 10 % → 8 % canary after two hours.
fn at_two_hours(method: MonitorMethod, state: Option<&mut SpendingBoundaries>) -> MonitorDecision {
    let (na, nb) = units(2 * STEPS_PER_HOUR);
    let control = Proportion::new(na, na / 10);
    let candidate = Proportion::new(nb, nb * 8 / 100);
    decide(method, state, ALPHA, PLANNED_N, control, candidate).expect("a decidable look")
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
                let b = breaches(
                    c.method,
                    c.five_min.as_mut(),
                    ALPHA,
                    PLANNED_N,
                    control,
                    candidate,
                );
                now = Some(b);
                if b {
                    out.five_min[i] = Some(hour);
                }
            }
            if on_the_hour && out.hourly[i].is_none() {
                let b = match (c.hourly.as_mut(), now) {
                    // Without a recursion the decision does not depend on the cadence.
                    (None, Some(b)) => b,
                    (state, _) => breaches(c.method, state, ALPHA, PLANNED_N, control, candidate),
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

fn median_hour(times: &[Option<f64>]) -> String {
    let mut t: Vec<f64> = times.iter().map(|t| t.unwrap_or(f64::INFINITY)).collect();
    t.sort_by(f64::total_cmp);
    let m = t[(t.len() - 1) / 2];
    if m.is_finite() {
        format!("{m:.2}")
    } else {
        "> 24".to_owned()
    }
}

fn detected(times: &[Option<f64>]) -> String {
    let hits = times.iter().filter(|t| t.is_some()).count();
    format!("{:.1}", 100.0 * hits as f64 / times.len() as f64)
}

fn methods() -> Vec<MonitorMethod> {
    vec![
        MonitorMethod::default(),
        MonitorMethod::ConfidenceSequence { tuning: 5_000.0 },
        // Tuned to the traffic of the first two hours: tightest where a harm should be caught.
        MonitorMethod::ConfidenceSequence { tuning: 20_000.0 },
        MonitorMethod::GroupSequential {
            spending: Spending::OBrienFleming,
        },
        MonitorMethod::GroupSequential {
            spending: Spending::Pocock,
        },
        MonitorMethod::GroupSequential {
            spending: Spending::Power { rho: 0.25 },
        },
        // τ = 2 pp: the smallest drop worth a rollback in this scenario.
        MonitorMethod::MixtureSprt { tau: 0.02 },
        MonitorMethod::TwoSidedSequential { tuning: 5_000.0 },
        MonitorMethod::FixedHorizon,
    ]
}

struct Args {
    runs: usize,
    family_runs: usize,
}

fn args() -> Args {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut a = Args {
        runs: 2_000,
        family_runs: 400,
    };
    let mut it = argv.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--runs" => {
                if let Some(n) = it.next().and_then(|n| n.parse().ok()) {
                    a.runs = n;
                }
            }
            "--family-runs" => {
                if let Some(n) = it.next().and_then(|n| n.parse().ok()) {
                    a.family_runs = n;
                }
            }
            "--quick" => {
                a.runs = 300;
                a.family_runs = 50;
            }
            other => eprintln!("guardian_sim: ignoring argument `{other}`"),
        }
    }
    a
}

fn main() {
    let args = args();
    let started = Instant::now();
    let mut list: Vec<MonitorMethod> = Vec::new();
    for m in methods() {
        if !list.contains(&m) {
            list.push(m);
        }
    }
    let mut contenders: Vec<Contender> = list.iter().map(|&m| Contender::new(m, ALPHA)).collect();
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
         one-sided α = {ALPHA}, 24 h stage; default method: {}",
        args.runs,
        MonitorMethod::default().name()
    );
    println!();
    println!(
        "| method | A/A false rollbacks %, hourly looks [95 % Wilson] | A/A false rollbacks %, \
         5-min looks [95 % Wilson] | 10 % → 8 %: median hour of rollback, hourly / 5-min | \
         10 % → 8 %: detected within 24 h %, hourly / 5-min | boundary at 2 h, hourly / 5-min |"
    );
    println!("| --- | --- | --- | --- | --- | --- |");
    for (i, m) in list.iter().enumerate() {
        let c = &mut contenders[i];
        let b_hourly = at_two_hours(*m, c.hourly.as_mut()).boundary;
        let b_five = at_two_hours(*m, c.five_min.as_mut()).boundary;
        println!(
            "| {}{} | {} | {} | {} / {} | {} / {} | {b_hourly:.2} / {b_five:.2} |",
            m.name(),
            if i == 0 { " **(default)**" } else { "" },
            rate(&aa_hourly[i]),
            rate(&aa_five[i]),
            median_hour(&drop_hourly[i]),
            median_hour(&drop_five[i]),
            detected(&drop_hourly[i]),
            detected(&drop_five[i]),
        );
    }
    let expected = at_two_hours(MonitorMethod::FixedHorizon, None);
    println!();
    println!(
        "Expected harm statistic of the 10 % → 8 % canary at 2 h: Z = {:.2} (estimate {:+.4}, \
         standard error {:.4}); a method rolls back half of such canaries by 2 h only if its \
         boundary there is about that low.",
        expected.z, expected.estimate, expected.std_error
    );
    println!();
    family(&args);
    println!();
    println!("({:.0} s)", started.elapsed().as_secs_f64());
}

/// 30 metrics × 12 segments, every cell an A/A comparison judged by the default method at
/// `α/360` (Bonferroni): the share of canaries with at least one false rollback. Cells are
/// independent (each segment a twelfth of the traffic), which is the worst case for
/// Bonferroni.
fn family(args: &Args) {
    const CELLS: usize = 360;
    const SEGMENTS: u64 = 12;
    let method = MonitorMethod::default();
    let alpha = ALPHA / CELLS as f64;
    let mut c = Contender::new(method, alpha);
    let seg = |step: u64| {
        let (na, nb) = units(step);
        (na / SEGMENTS, nb / SEGMENTS)
    };
    let mut rng = Rng::new(3);
    let planned = {
        let (na, nb) = seg(STEPS);
        (na + nb) as f64
    };
    let (mut hourly_hits, mut five_hits) = (0, 0);
    for _ in 0..args.family_runs {
        let (mut any_hourly, mut any_five) = (false, false);
        for _ in 0..CELLS {
            let (mut sa, mut sb) = (0, 0);
            let (mut hit_hourly, mut hit_five) = (false, false);
            for step in 1..=STEPS {
                let (pa, pb) = seg(step - 1);
                let (na, nb) = seg(step);
                sa += rng.binomial(na - pa, BASE_RATE);
                sb += rng.binomial(nb - pb, BASE_RATE);
                if nb < 2 {
                    continue;
                }
                let control = Proportion::new(na, sa);
                let candidate = Proportion::new(nb, sb);
                if !hit_five {
                    hit_five = breaches(
                        method,
                        c.five_min.as_mut(),
                        alpha,
                        planned,
                        control,
                        candidate,
                    );
                }
                if step % STEPS_PER_HOUR == 0 && !hit_hourly {
                    hit_hourly = breaches(
                        method,
                        c.hourly.as_mut(),
                        alpha,
                        planned,
                        control,
                        candidate,
                    );
                }
                if hit_five && hit_hourly {
                    break;
                }
            }
            any_hourly |= hit_hourly;
            any_five |= hit_five;
        }
        hourly_hits += usize::from(any_hourly);
        five_hits += usize::from(any_five);
    }
    let n = args.family_runs;
    let (p, lo, hi) = wilson(hourly_hits, n);
    let (q, qlo, qhi) = wilson(five_hits, n);
    println!(
        "30 metrics × 12 segments A/A, {} at α/360 per cell, {n} simulated canaries: \
         family-wise false rollback {p:.2} % [{lo:.2}, {hi:.2}] with hourly looks, \
         {q:.2} % [{qlo:.2}, {qhi:.2}] with 5-minute looks",
        method.name()
    );
}
