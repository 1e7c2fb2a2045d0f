//! The comparison's verdict in plain words, one sentence per finding: "Cost per request rose
//! 19.7% (18.6% – 20.7%), above the 15% limit → roll back". Breaches come first: a criterion
//! breaching in the aggregate in one sentence naming the segments that breach too, then each
//! segment breach of a criterion that holds overall; then one short sentence for each other
//! criterion on the aggregate ("Shadow-eval pass rate held: −0.2 pp (−1.1 pp – 0.7 pp),
//! within the 2 pp margin"), and a criterion without data says so: it never reads as held.
//!
//! The numbers are those the verdict was decided on: the estimate and the interval of
//! [`MetricRow::verdict_ci`] (for a one-sided criterion, the estimate ± the method's boundary
//! × its standard error), the candidate's own value for a `Level` criterion. Written here once
//! so that the console and any other reader say the same words.

use crate::comparison::{ComparisonReport, MetricRow};
use crate::metrics::{ALL_SEGMENTS, MetricDef, MetricKind};
use crate::plan::{BadDirection, RollbackCriterion, ThresholdKind};
use crate::stats::Verdict;

/// One sentence of the verdict, with the cell it is about.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding<'a> {
    /// The criterion's metric key.
    pub metric: &'a str,
    /// The report's cell (aggregate or segment); `None` when the metric is not in the
    /// catalogue at all.
    pub row: Option<&'a MetricRow>,
    /// `None`: no data, so no verdict.
    pub verdict: Option<Verdict>,
    pub text: String,
    /// The decision's numbers, signed: "+19.7% (+18.6% – +20.7%)"; `None` without them.
    pub numbers: Option<String>,
}

/// The verdict of `report` on `criteria` as sentences, breaches first (module docs).
/// `catalogue` tells rates (differences in points) from the rest.
pub fn findings<'a>(
    report: &'a ComparisonReport,
    criteria: &'a [RollbackCriterion],
    catalogue: &[MetricDef],
) -> Vec<Finding<'a>> {
    let criterion = |key: &str| criteria.iter().find(|c| c.metric == key);
    let breaches = |aggregate: bool| {
        report.matrix.iter().filter(move |r| {
            r.verdict == Some(Verdict::Breach) && (r.segment == ALL_SEGMENTS) == aggregate
        })
    };
    // Breaches of the aggregate (everyone) first, each naming the segments that breach too;
    // then each segment breach of a criterion the aggregate does not breach.
    let mut out: Vec<Finding<'a>> = Vec::new();
    for r in breaches(true) {
        let Some(c) = criterion(&r.key) else { continue };
        let also: Vec<&str> = breaches(false)
            .filter(|s| s.key == r.key)
            .map(|s| s.segment.as_str())
            .collect();
        let also = match also.len() {
            0 => String::new(),
            1..=3 => format!(" (also in {})", also.join(", ")),
            n => format!(" (also in {n} of {} segments)", report.segments.len() - 1),
        };
        out.push(finding(r, c, catalogue, &also));
    }
    for r in breaches(false) {
        if !out.iter().any(|f| f.metric == r.key)
            && let Some(c) = criterion(&r.key)
        {
            out.push(finding(r, c, catalogue, ""));
        }
    }
    for c in criteria {
        if out.iter().any(|f| f.metric == c.metric) {
            continue;
        }
        out.push(match report.cell(&c.metric, ALL_SEGMENTS) {
            Some(r) => finding(r, c, catalogue, ""),
            None => Finding {
                metric: &c.metric,
                row: None,
                verdict: None,
                text: format!("{}: not among this change's metrics, so no data", c.metric),
                numbers: None,
            },
        });
    }
    out
}

/// How a criterion's numbers read.
#[derive(Clone, Copy, PartialEq)]
enum Scale {
    /// A relative change, in %.
    Percent,
    /// A difference of rates, in percentage points.
    Points,
    /// In the metric's own unit.
    Unit,
    /// A rate read per 1 000 users (`crate::metrics::PER_THOUSAND_USERS`).
    PerThousand,
}

/// The sentence on cell `r` of criterion `c`; `also` goes after a breach's limit (the other
/// segments that breach).
fn finding<'a>(
    r: &'a MetricRow,
    c: &RollbackCriterion,
    catalogue: &[MetricDef],
    also: &str,
) -> Finding<'a> {
    let level = c.threshold_kind == ThresholdKind::Level;
    let per_thousand = catalogue.iter().any(|d| {
        d.key == r.key && d.kind == MetricKind::Rate && d.unit == crate::metrics::PER_THOUSAND_USERS
    });
    let scale = if per_thousand && !r.relative {
        Scale::PerThousand
    } else if level {
        Scale::Unit
    } else if r.relative {
        Scale::Percent
    } else if catalogue
        .iter()
        .any(|d| d.key == r.key && d.kind == MetricKind::Rate)
    {
        Scale::Points
    } else {
        Scale::Unit
    };
    let unit = r.unit.as_str();
    let amount = |x: f64, sign: bool| amount(x, scale, unit, sign, false);
    let limit_amount = self::amount(c.threshold, scale, unit, false, true);
    let subject = if r.segment == ALL_SEGMENTS {
        r.name.clone()
    } else {
        format!("{} in {}", r.name, r.segment)
    };
    let limit = match c.threshold_kind {
        ThresholdKind::Absolute => format!("{} margin", limit_amount),
        _ => format!("{} limit", limit_amount),
    };
    let estimate = if level {
        r.candidate
    } else {
        r.comparison.map(|x| x.estimate)
    };
    let interval = r.verdict_ci.or(r.comparison.map(|x| x.ci));
    let (Some(verdict), Some(est), Some([lo, hi])) = (r.verdict, estimate, interval) else {
        let text = match (&r.error, r.verdict) {
            (Some(e), Some(_)) => format!("{subject} cannot be judged yet: {e}"),
            _ => format!("{subject}: no data yet, so it cannot pass"),
        };
        return Finding {
            metric: &r.key,
            row: Some(r),
            verdict: r.verdict,
            text,
            numbers: None,
        };
    };
    let sign = !level;
    let numbers = format!(
        "{} ({} – {})",
        amount(est, sign),
        amount(lo, sign),
        amount(hi, sign)
    );
    let up = c.bad_direction == BadDirection::Increase;
    let text = match verdict {
        Verdict::Breach if level => format!(
            "{subject} is {numbers}, {} the {limit}{also} → roll back",
            if up { "above" } else { "below" }
        ),
        // A harmful move, told as its size: "rose 19.7% (18.6% – 20.7%)".
        Verdict::Breach => {
            let (verb, a, b, m) = if up {
                ("rose", lo, hi, est)
            } else {
                ("fell", -hi, -lo, -est)
            };
            format!(
                "{subject} {verb} {} ({} – {}), {} the {limit}{also} → roll back",
                amount(m, false),
                amount(a, false),
                amount(b, false),
                if up { "above" } else { "beyond" }
            )
        }
        Verdict::Pass => format!("{subject} held: {numbers}, within the {limit}"),
        Verdict::Inconclusive => {
            format!(
                "{subject} not decided yet: {numbers} against the {limit}; keep collecting data"
            )
        }
    };
    Finding {
        metric: &r.key,
        row: Some(r),
        verdict: Some(verdict),
        text,
        numbers: Some(numbers),
    }
}

/// `x` on `scale`: "19.7%", "−0.2 pp", "$0.0120", "2710 ms"; `sign` adds "+" to a positive
/// value, `trim` drops trailing zeros (limits read "15%", "2 pp"). The minus is typographic,
/// and a value that rounds to zero has no sign.
fn amount(x: f64, scale: Scale, unit: &str, sign: bool, trim: bool) -> String {
    let (v, decimals, suffix) = match scale {
        Scale::Percent => (x * 100.0, 1, "%"),
        Scale::Points => (x * 100.0, 1, " pp"),
        Scale::PerThousand => (x * 1000.0, 2, " per 1 000 users"),
        Scale::Unit if unit == "USD" => (x, 4, ""),
        Scale::Unit if unit == "ms" => (x, 0, " ms"),
        Scale::Unit => (x, 2, ""),
    };
    let digits = format!("{:.*}", decimals, v.abs());
    let zero = digits.bytes().all(|b| b == b'0' || b == b'.');
    let lead = match (zero, v < 0.0, sign) {
        (true, ..) => "",
        (false, true, _) => "−",
        (false, false, true) => "+",
        _ => "",
    };
    let digits = if trim && decimals > 0 {
        digits
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
    } else {
        digits
    };
    match (scale, unit) {
        (Scale::Unit, "USD") => format!("{lead}${digits}"),
        (Scale::Unit, "" | "ms") | (Scale::Percent | Scale::Points | Scale::PerThousand, _) => {
            format!("{lead}{digits}{suffix}")
        }
        (Scale::Unit, u) => format!("{lead}{digits} {u}"),
    }
}

/// How the verdicts share their error rate, for the statistics detail: "one-sided, α = 5%
/// shared by 36 criterion cells (0.14% each)" (Bonferroni, as the report judges them).
pub fn level_note(report: &ComparisonReport, alpha: f64) -> String {
    let cells = report.matrix.iter().filter(|r| r.verdict.is_some()).count();
    let each = alpha / cells.max(1) as f64 * 100.0;
    format!(
        "one-sided, α = {}% shared by {cells} criterion cell{} ({each:.2}% each)",
        (alpha * 1e4).round() / 100.0,
        if cells == 1 { "" } else { "s" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comparison::{ReportOptions, report};
    use crate::metrics::{
        MetricSummary, MetricValue, SummaryCell, TrafficCell, Variant, default_catalogue,
    };
    use crate::plan::PlanTemplate;

    fn rate(segment: &str, v: Variant, n: u64, p: f64) -> SummaryCell {
        SummaryCell {
            metric: "shadow_eval_pass_rate".into(),
            segment: segment.into(),
            variant: v,
            value: MetricValue::Rate {
                n,
                successes: (n as f64 * p).round() as u64,
            },
        }
    }

    fn cost(segment: &str, v: Variant, n: u64, mean: f64) -> SummaryCell {
        let nf = n as f64;
        SummaryCell {
            metric: "cost_per_request".into(),
            segment: segment.into(),
            variant: v,
            value: MetricValue::Mean {
                n,
                sum: mean * nf,
                sum_squares: 0.004f64.powi(2) * (nf - 1.0) + mean * mean * nf,
            },
        }
    }

    /// The demo's story: cost up `lift` everywhere; quality down 6 points in one small segment
    /// ("free / es") while the aggregate stays within its 2-point margin.
    fn summary(lift: f64) -> MetricSummary {
        use Variant::*;
        let mut cells = Vec::new();
        for (seg, na, nb, pa, pb) in [
            ("paid / en", 200_000, 15_000, 0.90, 0.90),
            ("free / es", 40_000, 3_000, 0.85, 0.79),
        ] {
            cells.push(rate(seg, Control, na, pa));
            cells.push(rate(seg, Candidate, nb, pb));
            cells.push(cost(seg, Control, na, 0.010));
            cells.push(cost(seg, Candidate, nb, 0.010 * (1.0 + lift)));
        }
        let mut all: Vec<SummaryCell> = Vec::new();
        for c in &cells {
            match all
                .iter_mut()
                .find(|a| a.metric == c.metric && a.variant == c.variant)
            {
                Some(a) => a.value.merge(&c.value).unwrap(),
                None => all.push(SummaryCell {
                    segment: ALL_SEGMENTS.into(),
                    ..c.clone()
                }),
            }
        }
        cells.extend(all);
        let traffic = |variant, requests| TrafficCell {
            segment: ALL_SEGMENTS.into(),
            variant,
            requests,
        };
        MetricSummary {
            catalogue: default_catalogue(),
            segments: vec!["free / es".into(), "paid / en".into()],
            from: None,
            to: None,
            windows: 1,
            cells,
            traffic: vec![traffic(Control, 240_000), traffic(Candidate, 18_000)],
        }
    }

    fn texts(r: &ComparisonReport, criteria: &[RollbackCriterion]) -> Vec<String> {
        findings(r, criteria, &default_catalogue())
            .into_iter()
            .map(|f| f.text)
            .collect()
    }

    #[test]
    fn breaches_come_first_with_their_numbers_and_limits() {
        let plan = PlanTemplate::Standard.plan();
        let r = report(&summary(0.20), &plan.criteria, &ReportOptions::default());
        let found = findings(&r, &plan.criteria, &default_catalogue());
        let cost = r.cell("cost_per_request", ALL_SEGMENTS).unwrap();
        let [lo, hi] = cost.verdict_ci.unwrap();
        let est = cost.comparison.unwrap().estimate;
        let pct = |x: f64| format!("{:.1}%", x * 100.0);
        assert_eq!(
            found[0].text,
            format!(
                "Cost per request rose {} ({} – {}), above the 15% limit (also in free / es, \
                 paid / en) → roll back",
                pct(est),
                pct(lo),
                pct(hi)
            )
        );
        assert_eq!(found[0].verdict, Some(Verdict::Breach));
        // The hidden regression: quality breaches in one segment only, named with it.
        let es = r.cell("shadow_eval_pass_rate", "free / es").unwrap();
        assert_eq!(es.verdict, Some(Verdict::Breach));
        let [lo, hi] = es.verdict_ci.unwrap();
        let pp = |x: f64| format!("{:.1} pp", -x * 100.0);
        assert_eq!(
            found[1].text,
            format!(
                "Shadow-eval pass rate in free / es fell {} ({} – {}), beyond the 2 pp margin \
                 → roll back",
                pp(es.comparison.unwrap().estimate),
                pp(hi),
                pp(lo)
            )
        );
        // Quality breaches somewhere, so its aggregate is not said to hold.
        assert!(
            found
                .iter()
                .all(|f| !f.text.starts_with("Shadow-eval pass rate held")),
            "{found:?}"
        );
        // Latency and hard errors have no windows here: no data, said plainly.
        assert_eq!(found.len(), 4, "{found:?}");
        let rest: Vec<&str> = found[2..].iter().map(|f| f.text.as_str()).collect();
        assert_eq!(
            rest,
            [
                "End-to-end latency p95: no data yet, so it cannot pass",
                "Hard error rate: no data yet, so it cannot pass",
            ]
        );
        assert!(found[2..].iter().all(|f| f.verdict.is_none()));
    }

    #[test]
    fn a_healthy_criterion_holds_within_its_margin() {
        let plan = PlanTemplate::Standard.plan();
        let cost_only: Vec<RollbackCriterion> = plan
            .criteria
            .iter()
            .filter(|c| c.metric == "cost_per_request")
            .cloned()
            .collect();
        let r = report(&summary(0.0), &cost_only, &ReportOptions::default());
        let found = findings(&r, &cost_only, &default_catalogue());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].verdict, Some(Verdict::Pass), "{found:?}");
        let cost = r.cell("cost_per_request", ALL_SEGMENTS).unwrap();
        let [lo, hi] = cost.verdict_ci.unwrap();
        let numbers = found[0].numbers.clone().unwrap();
        assert_eq!(
            found[0].text,
            format!("Cost per request held: {numbers}, within the 15% limit")
        );
        // Signed, with a typographic minus below zero.
        let signed = |x: f64| {
            let s = format!("{:.1}%", (x * 100.0).abs());
            if s == "0.0%" {
                s
            } else if x < 0.0 {
                format!("−{s}")
            } else {
                format!("+{s}")
            }
        };
        assert!(
            numbers.ends_with(&format!("({} – {})", signed(lo), signed(hi))),
            "{numbers}"
        );
    }

    #[test]
    fn a_criterion_outside_the_catalogue_has_no_data() {
        let criteria = vec![RollbackCriterion {
            metric: "thumbs_down_rate".into(),
            bad_direction: BadDirection::Increase,
            threshold_kind: ThresholdKind::Absolute,
            threshold: 0.01,
        }];
        let r = report(&summary(0.0), &criteria, &ReportOptions::default());
        assert_eq!(
            texts(&r, &criteria),
            ["thumbs_down_rate: not among this change's metrics, so no data"]
        );
    }

    #[test]
    fn amounts_read_by_scale() {
        assert_eq!(amount(0.15, Scale::Percent, "", false, true), "15%");
        assert_eq!(amount(0.20, Scale::Percent, "", true, false), "+20.0%");
        assert_eq!(amount(0.197, Scale::Percent, "", true, false), "+19.7%");
        assert_eq!(amount(-0.002, Scale::Points, "", true, false), "−0.2 pp");
        assert_eq!(amount(-0.0001, Scale::Points, "", true, false), "0.0 pp");
        assert_eq!(amount(0.02, Scale::Points, "", false, true), "2 pp");
        assert_eq!(
            amount(0.0075, Scale::PerThousand, "", true, false),
            "+7.50 per 1 000 users"
        );
        assert_eq!(
            amount(0.002, Scale::PerThousand, "", false, true),
            "2 per 1 000 users"
        );
        assert_eq!(amount(0.012, Scale::Unit, "USD", false, false), "$0.0120");
        assert_eq!(amount(2500.0, Scale::Unit, "ms", false, true), "2500 ms");
        assert_eq!(
            amount(-1.5, Scale::Unit, "turns", true, false),
            "−1.50 turns"
        );
    }

    #[test]
    fn the_level_note_counts_the_criterion_cells() {
        let plan = PlanTemplate::Standard.plan();
        let r = report(&summary(0.20), &plan.criteria, &ReportOptions::default());
        // Two criteria with data × three segments (the aggregate and two).
        assert_eq!(
            level_note(&r, 0.05),
            "one-sided, α = 5% shared by 6 criterion cells (0.83% each)"
        );
    }
}
