//! Rollback verdicts: a pre-registered criterion judged on an interval, and the segment ×
//! metric analysis that applies them all with a multiplicity correction.
//!
//! # Rules (decided on the interval, never on the point estimate)
//!
//! Non-inferiority against a margin (Piaggio et al. 2012, CONSORT extension for
//! non-inferiority trials, fig. 1): the change is *safe* only when the whole interval lies
//! on the good side of the margin, *harmful* only when the whole interval lies beyond it.
//!
//! | threshold | bad direction | compared interval | Pass | Breach |
//! |---|---|---|---|---|
//! | `Relative(m)` | `Increase` | relative lift `b/a − 1` | `hi < +m` | `lo > +m` |
//! | `Relative(m)` | `Decrease` | relative lift | `lo > −m` | `hi < −m` |
//! | `Absolute(m)` | `Increase` | difference `b − a` | `hi < +m` | `lo > +m` |
//! | `Absolute(m)` | `Decrease` | difference `b − a` | `lo > −m` | `hi < −m` |
//! | `Level(L)` | `Increase` | candidate's own value | `hi < L` | `lo > L` |
//! | `Level(L)` | `Decrease` | candidate's own value | `lo > L` | `hi < L` |
//!
//! Anything else is `Inconclusive`: keep collecting data. Examples: "cost must not rise more
//! than 15%" is `Increase` + `Relative(0.15)`; "quality must not drop more than 2 pp" is
//! `Decrease` + `Absolute(0.02)`; "p95 latency must stay below 2500 ms" is `Increase` +
//! `Level(2500.0)` judged on the candidate's p95 interval.
//!
//! # Multiplicity in [`analyse`]
//!
//! With `m` cells (metrics × segments, the aggregate `"all"` included) every interval is
//! computed at level `1 − α/m` (Bonferroni). Intervals that hold simultaneously make every
//! Pass and every Breach trustworthy at family-wise level `α`, whichever cells a reader looks
//! at, and the rule stays the one in the table above. Each cell also reports its raw p-value
//! ("no change", or "equals the level" for `Level`) and its Holm- or BH-adjusted value across
//! all cells, as supporting evidence; the verdict does not depend on them.
//!
//! A regression confined to one segment is therefore reported even when the aggregate passes,
//! and the `overall` verdict is `Breach` as soon as any cell breaches.

use serde::{Deserialize, Serialize};

use super::adjust::{AdjustMethod, adjust};
use super::distributions::{norm_isf, norm_sf, t_isf_two_sided, t_sf_two_sided};
use super::quantiles::{Histogram, compare_quantiles, quantile};
use super::types::{
    CompareOptions, Comparison, Moments, Proportion, SequentialOptions, StatsError, check_alpha,
};
use super::welch::{Arm, compare_arms};

/// Which direction of change is harmful.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Increase,
    Decrease,
}

/// The pre-registered tolerance.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Threshold {
    /// Margin on the absolute difference `candidate − control` (non-negative).
    Absolute(f64),
    /// Margin on the relative lift `candidate/control − 1` (non-negative, 0.15 = 15%).
    Relative(f64),
    /// Bound on the candidate's own value (e.g. p95 latency in ms).
    Level(f64),
}

/// A pre-registered rollback criterion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Criterion {
    pub metric: String,
    pub bad_direction: Direction,
    pub threshold: Threshold,
    /// Family-wise error rate for this criterion (before any multiplicity correction).
    pub alpha: f64,
}

/// Outcome of a criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Breach,
    Inconclusive,
}

/// What a verdict rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub estimate: f64,
    pub ci: [f64; 2],
    /// Raw two-sided p-value of the comparison.
    pub p_value: f64,
    /// The p-value after the multiplicity adjustment (equal to `p_value` when judged alone).
    pub adjusted_p: f64,
    /// Confidence level of `ci` (e.g. 0.95, or `1 − α/m` inside [`analyse`]).
    pub level: f64,
    /// The rule that decided, as a sentence.
    pub rule: String,
}

/// A verdict with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    pub verdict: Verdict,
    pub evidence: Evidence,
}

/// Judges `result` against `criterion` by the rules in the module docs.
///
/// `result` must be the matching comparison: the relative lift for `Relative`, the absolute
/// difference for `Absolute`, and the candidate's own estimate and interval for `Level`.
/// `level` is the confidence level of `result.ci`; `adjusted_p` defaults to the raw p.
pub fn verdict(
    criterion: &Criterion,
    result: &Comparison,
    level: f64,
    adjusted_p: Option<f64>,
) -> Result<Decision, StatsError> {
    check_alpha(criterion.alpha)?;
    let [lo, hi] = result.ci;
    let (bound, what) = match criterion.threshold {
        Threshold::Absolute(m) | Threshold::Relative(m) if !(m.is_finite() && m >= 0.0) => {
            return Err(StatsError::InvalidParameter(format!(
                "margin must be a non-negative number, got {m}"
            )));
        }
        Threshold::Level(l) if !l.is_finite() => {
            return Err(StatsError::InvalidParameter(format!(
                "level must be a number, got {l}"
            )));
        }
        Threshold::Absolute(m) => (
            signed(criterion.bad_direction, m),
            "the difference candidate − control",
        ),
        Threshold::Relative(m) => (
            signed(criterion.bad_direction, m),
            "the relative change candidate/control − 1",
        ),
        Threshold::Level(l) => (l, "the candidate's value"),
    };
    let pct = format!("{:.4}", level * 100.0);
    let pct = pct.trim_end_matches('0').trim_end_matches('.');
    let interval = format!("{pct}% interval [{}, {}]", fmt(lo), fmt(hi));
    let limit = match criterion.threshold {
        Threshold::Relative(_) => format!("{:+}%", fmt(bound * 100.0)),
        Threshold::Absolute(_) => format!("{:+}", fmt(bound)),
        Threshold::Level(_) => fmt(bound),
    };
    let (verdict, rule) = match criterion.bad_direction {
        Direction::Increase if hi < bound => (
            Verdict::Pass,
            format!(
                "{}: whole {interval} of {what} lies below {limit}",
                criterion.metric
            ),
        ),
        Direction::Increase if lo > bound => (
            Verdict::Breach,
            format!(
                "{}: whole {interval} of {what} lies above {limit}",
                criterion.metric
            ),
        ),
        Direction::Decrease if lo > bound => (
            Verdict::Pass,
            format!(
                "{}: whole {interval} of {what} lies above {limit}",
                criterion.metric
            ),
        ),
        Direction::Decrease if hi < bound => (
            Verdict::Breach,
            format!(
                "{}: whole {interval} of {what} lies below {limit}",
                criterion.metric
            ),
        ),
        _ => (
            Verdict::Inconclusive,
            format!(
                "{}: {interval} of {what} contains {limit}; more data needed",
                criterion.metric
            ),
        ),
    };
    Ok(Decision {
        verdict,
        evidence: Evidence {
            estimate: result.estimate,
            ci: result.ci,
            p_value: result.p_value,
            adjusted_p: adjusted_p.unwrap_or(result.p_value),
            level,
            rule,
        },
    })
}

fn signed(direction: Direction, margin: f64) -> f64 {
    match direction {
        Direction::Increase => margin,
        Direction::Decrease => -margin,
    }
}

/// Short human formatting: up to 6 significant digits, no trailing zeros.
fn fmt(x: f64) -> String {
    if x == 0.0 {
        return "0".to_owned();
    }
    let digits = (5 - x.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let s = format!("{x:.digits$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// The data of one metric in one segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum MetricData {
    Proportions {
        control: Proportion,
        candidate: Proportion,
    },
    Means {
        control: Moments,
        candidate: Moments,
    },
    Quantile {
        control: Histogram,
        candidate: Histogram,
        q: f64,
    },
}

/// One segment (e.g. `"all"`, `"locale=fr"`) of a metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentInput {
    pub segment: String,
    pub data: MetricData,
}

/// A metric's criterion and its data in every segment (include the aggregate `"all"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricInput {
    pub criterion: Criterion,
    pub segments: Vec<SegmentInput>,
}

/// Options of [`analyse`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AnalysisOptions {
    /// Adjustment of the reported p-values across all cells.
    pub correction: AdjustMethod,
    /// Always-valid intervals for differences of proportions and means. Quantile cells and
    /// `Level` criteria have no always-valid form here; they keep their fixed-horizon interval
    /// (still Bonferroni-corrected), so a console that mixes them can ask for one analysis.
    pub sequential: Option<SequentialOptions>,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        Self {
            correction: AdjustMethod::Holm,
            sequential: None,
        }
    }
}

/// The verdict of one metric in one segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellResult {
    pub metric: String,
    pub segment: String,
    pub verdict: Verdict,
    /// Absent when the cell could not be analysed (see `error`).
    pub evidence: Option<Evidence>,
    /// Why the cell could not be analysed; its verdict is then `Inconclusive`.
    pub error: Option<String>,
}

/// Result of [`analyse`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// In input order: metric by metric, segment by segment.
    pub cells: Vec<CellResult>,
    /// `Breach` if any cell breaches, `Pass` if every cell passes, else `Inconclusive`.
    pub overall: Verdict,
    /// Number of cells `m` in the Bonferroni correction.
    pub cells_tested: usize,
}

/// Judges every metric in every segment with a multiplicity correction (module docs).
pub fn analyse(metrics: &[MetricInput], opts: &AnalysisOptions) -> Analysis {
    let m = metrics
        .iter()
        .map(|x| x.segments.len())
        .sum::<usize>()
        .max(1);
    let mut computed: Vec<Result<(Comparison, f64), StatsError>> = Vec::with_capacity(m);
    for metric in metrics {
        let alpha = metric.criterion.alpha / m as f64;
        for seg in &metric.segments {
            let r = check_alpha(metric.criterion.alpha)
                .and_then(|_| cell_comparison(&metric.criterion, &seg.data, alpha, opts))
                .map(|c| (c, 1.0 - alpha));
            computed.push(r);
        }
    }
    let raw: Vec<f64> = computed
        .iter()
        .filter_map(|r| r.as_ref().ok().map(|(c, _)| c.p_value))
        .collect();
    // p-values leaving `Comparison::checked` are in [0, 1], so this cannot fail.
    let mut adjusted = adjust(&raw, opts.correction).unwrap_or(raw).into_iter();

    let mut cells = Vec::with_capacity(m);
    let mut results = computed.into_iter();
    for metric in metrics {
        for seg in &metric.segments {
            let outcome = results
                .next()
                .unwrap_or_else(|| Err(StatsError::InvalidParameter("internal".to_owned())));
            let decided = outcome.and_then(|(c, level)| {
                let adj = adjusted.next();
                verdict(&metric.criterion, &c, level, adj)
            });
            cells.push(match decided {
                Ok(d) => CellResult {
                    metric: metric.criterion.metric.clone(),
                    segment: seg.segment.clone(),
                    verdict: d.verdict,
                    evidence: Some(d.evidence),
                    error: None,
                },
                Err(e) => CellResult {
                    metric: metric.criterion.metric.clone(),
                    segment: seg.segment.clone(),
                    verdict: Verdict::Inconclusive,
                    evidence: None,
                    error: Some(e.to_string()),
                },
            });
        }
    }
    let overall = if cells.iter().any(|c| c.verdict == Verdict::Breach) {
        Verdict::Breach
    } else if !cells.is_empty() && cells.iter().all(|c| c.verdict == Verdict::Pass) {
        Verdict::Pass
    } else {
        Verdict::Inconclusive
    };
    Analysis {
        cells_tested: cells.len(),
        cells,
        overall,
    }
}

/// The comparison a criterion is judged on, at level `1 − alpha`.
fn cell_comparison(
    criterion: &Criterion,
    data: &MetricData,
    alpha: f64,
    opts: &AnalysisOptions,
) -> Result<Comparison, StatsError> {
    let relative = matches!(criterion.threshold, Threshold::Relative(_));
    let compare = CompareOptions {
        relative,
        alpha,
        sequential: opts.sequential,
    };
    if let Threshold::Level(level) = criterion.threshold {
        return level_comparison(data, level, alpha);
    }
    match data {
        MetricData::Proportions { control, candidate } => compare_arms(
            &Arm::from_proportion(control, "control")?,
            &Arm::from_proportion(candidate, "candidate")?,
            &compare,
        ),
        MetricData::Means { control, candidate } => compare_arms(
            &Arm::from_moments(control, "control")?,
            &Arm::from_moments(candidate, "candidate")?,
            &compare,
        ),
        MetricData::Quantile {
            control,
            candidate,
            q,
        } => compare_quantiles(
            control,
            candidate,
            *q,
            &CompareOptions {
                sequential: None,
                ..compare
            },
        ),
    }
}

/// The candidate's own value with a `1 − alpha` interval, and the two-sided p-value of
/// "it equals `level`": t-interval for a mean, Wald interval for a rate, order-statistic
/// interval for a quantile.
fn level_comparison(data: &MetricData, level: f64, alpha: f64) -> Result<Comparison, StatsError> {
    let (estimate, ci, se, p_value) = match data {
        MetricData::Quantile { candidate, q, .. } => {
            let e = quantile(candidate, *q, alpha)?;
            let se = (e.ci[1] - e.ci[0]) / (2.0 * norm_isf(alpha / 2.0));
            let p = if se > 0.0 {
                2.0 * norm_sf(((e.estimate - level) / se).abs())
            } else if e.estimate == level {
                1.0
            } else {
                0.0
            };
            (e.estimate, e.ci, se, p)
        }
        MetricData::Means { candidate, .. } => {
            let arm = Arm::from_moments(candidate, "candidate")?;
            one_arm(arm, level, alpha, Some(arm.n - 1.0))?
        }
        MetricData::Proportions { candidate, .. } => {
            let arm = Arm::from_proportion(candidate, "candidate")?;
            one_arm(arm, level, alpha, None)?
        }
    };
    Comparison {
        estimate,
        ci,
        p_value,
        std_error: se,
    }
    .checked("level interval")
}

type OneArm = (f64, [f64; 2], f64, f64);

fn one_arm(arm: Arm, level: f64, alpha: f64, df: Option<f64>) -> Result<OneArm, StatsError> {
    let se = (arm.variance / arm.n).sqrt();
    if se.is_nan() || se <= 0.0 {
        return Err(StatsError::ZeroVariance);
    }
    let t = (arm.mean - level) / se;
    let (crit, p) = match df {
        Some(df) => (t_isf_two_sided(alpha, df), t_sf_two_sided(t, df)),
        None => (norm_isf(alpha / 2.0), 2.0 * norm_sf(t.abs())),
    };
    Ok((
        arm.mean,
        [arm.mean - crit * se, arm.mean + crit * se],
        se,
        p,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmp(lo: f64, hi: f64) -> Comparison {
        Comparison {
            estimate: (lo + hi) / 2.0,
            ci: [lo, hi],
            p_value: 0.5,
            std_error: (hi - lo) / 3.92,
        }
    }

    fn crit(direction: Direction, threshold: Threshold) -> Criterion {
        Criterion {
            metric: "m".to_owned(),
            bad_direction: direction,
            threshold,
            alpha: 0.05,
        }
    }

    #[test]
    fn cost_must_not_rise_more_than_15_percent() {
        let c = crit(Direction::Increase, Threshold::Relative(0.15));
        let v = |lo, hi| verdict(&c, &cmp(lo, hi), 0.95, None).unwrap().verdict;
        assert_eq!(v(-0.05, 0.10), Verdict::Pass);
        assert_eq!(v(0.16, 0.30), Verdict::Breach);
        assert_eq!(v(0.05, 0.20), Verdict::Inconclusive);
    }

    #[test]
    fn quality_must_not_drop_more_than_2pp() {
        let c = crit(Direction::Decrease, Threshold::Absolute(0.02));
        let v = |lo, hi| verdict(&c, &cmp(lo, hi), 0.95, None).unwrap().verdict;
        assert_eq!(v(-0.01, 0.01), Verdict::Pass);
        assert_eq!(v(-0.05, -0.03), Verdict::Breach);
        assert_eq!(v(-0.03, 0.0), Verdict::Inconclusive);
    }

    #[test]
    fn p95_must_stay_below_2500ms() {
        let c = crit(Direction::Increase, Threshold::Level(2500.0));
        let d = verdict(&c, &cmp(2100.0, 2400.0), 0.95, None).unwrap();
        assert_eq!(d.verdict, Verdict::Pass);
        assert!(
            d.evidence.rule.contains("below 2500"),
            "{}",
            d.evidence.rule
        );
        let v = |lo, hi| verdict(&c, &cmp(lo, hi), 0.95, None).unwrap().verdict;
        assert_eq!(v(2600.0, 2700.0), Verdict::Breach);
        assert_eq!(v(2400.0, 2600.0), Verdict::Inconclusive);
    }

    #[test]
    fn a_segment_regression_is_reported_when_the_aggregate_passes() {
        let criterion = crit(Direction::Decrease, Threshold::Absolute(0.02));
        let seg = |name: &str, a: u64, b: u64, n: u64| SegmentInput {
            segment: name.to_owned(),
            data: MetricData::Proportions {
                control: Proportion::new(n, a),
                candidate: Proportion::new(n, b),
            },
        };
        let metrics = [MetricInput {
            criterion,
            segments: vec![
                seg("all", 160_000, 159_000, 200_000),
                seg("locale=fr", 8_000, 6_000, 10_000),
                seg("locale=en", 152_000, 153_000, 190_000),
            ],
        }];
        let a = analyse(&metrics, &AnalysisOptions::default());
        assert_eq!(a.cells[0].verdict, Verdict::Pass);
        assert_eq!(a.cells[1].verdict, Verdict::Breach);
        assert_eq!(a.overall, Verdict::Breach);
        let ev = a.cells[1].evidence.as_ref().unwrap();
        assert!(ev.adjusted_p >= ev.p_value);
        assert!((ev.level - (1.0 - 0.05 / 3.0)).abs() < 1e-12);
    }
}
