//! What the guardian does about a live change, decided from the same comparison report the
//! console draws: roll back when a pre-registered criterion breaches in the aggregate or in any
//! segment, leave it alone otherwise, and never act on data that fails the sample-ratio check
//! (the split itself is broken, so no comparison can be trusted). Pure; the server runs it.

use crate::comparison::{ComparisonReport, MetricRow};
use crate::stats::Verdict;

/// Longest reason the guardian writes: a rollback reason must fit `validate::MAX_REASON`.
const MAX_REASON_CHARS: usize = 480;

/// The guardian's decision on one change.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// No criterion breaches (or there is no data yet).
    Nothing,
    /// A criterion breaches: roll back, giving this reason.
    RollBack { reason: String },
    /// The data fails the sample-ratio check: do not act on it; say why.
    Distrust { reason: String },
}

/// Decides from `report` (a report over the stage's data with the plan's criteria).
pub fn decide(report: &ComparisonReport) -> Decision {
    if let Some(srm) = report.srm.as_ref().filter(|s| s.mismatch) {
        return Decision::Distrust {
            reason: format!(
                "sample-ratio mismatch: the candidate has {:.2}% of the requests where the plan \
                 sends {:.2}% (p = {:.1e}); the split is broken, so no verdict is trusted",
                srm.observed_candidate_share * 100.0,
                srm.expected_candidate_share * 100.0,
                srm.p_value
            ),
        };
    }
    // The aggregate's rows first, then the segments', as the matrix lists them.
    let breaches: Vec<&MetricRow> = report
        .matrix
        .iter()
        .filter(|r| r.verdict == Some(Verdict::Breach))
        .collect();
    let Some(first) = breaches.first() else {
        return Decision::Nothing;
    };
    let mut reason = format!("Automatic rollback: {}", describe(first));
    if breaches.len() > 1 {
        reason.push_str(&format!(
            " (and {} more breach{})",
            breaches.len() - 1,
            if breaches.len() == 2 { "" } else { "es" }
        ));
    }
    if reason.chars().count() > MAX_REASON_CHARS {
        reason = reason
            .chars()
            .take(MAX_REASON_CHARS - 1)
            .collect::<String>()
            + "…";
    }
    Decision::RollBack { reason }
}

/// "cost_per_request in all: +30.2% [+27.9%, +32.5%], breaching cost_per_request must not rise
/// more than 15%".
fn describe(row: &MetricRow) -> String {
    let number = |x: f64| {
        if row.relative {
            format!("{:+.1}%", x * 100.0)
        } else {
            format!("{x:+.4}")
        }
    };
    let evidence = match (row.verdict_ci, row.comparison.as_ref()) {
        (Some([lo, hi]), Some(c)) => {
            format!(": {} [{}, {}]", number(c.estimate), number(lo), number(hi))
        }
        (None, Some(c)) => format!(": {}", number(c.estimate)),
        _ => String::new(),
    };
    let criterion = row
        .criterion
        .as_deref()
        .map(|c| format!(", breaching {c}"))
        .unwrap_or_default();
    format!("{} in {}{evidence}{criterion}", row.key, row.segment)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comparison::{ReportOptions, report};
    use crate::metrics::{
        ALL_SEGMENTS, MetricSummary, MetricValue, SummaryCell, TrafficCell, Variant,
        default_catalogue,
    };
    use crate::plan::PlanTemplate;

    /// A summary of cost per request (mean) with the candidate's mean `lift` above control's,
    /// and `share` of the requests on the candidate.
    fn summary(lift: f64, share: f64) -> MetricSummary {
        let total = 100_000u64;
        let cand = (total as f64 * share) as u64;
        let control = total - cand;
        let cell = |variant, n: u64, mean: f64| SummaryCell {
            metric: "cost_per_request".into(),
            segment: ALL_SEGMENTS.into(),
            variant,
            value: MetricValue::Mean {
                n,
                sum: mean * n as f64,
                sum_squares: (mean * mean + 0.002 * 0.002) * n as f64,
            },
        };
        MetricSummary {
            catalogue: default_catalogue(),
            segments: vec![],
            from: None,
            to: None,
            windows: 10,
            cells: vec![
                cell(Variant::Control, control, 0.004),
                cell(Variant::Candidate, cand, 0.004 * (1.0 + lift)),
            ],
            traffic: vec![
                TrafficCell {
                    segment: ALL_SEGMENTS.into(),
                    variant: Variant::Control,
                    requests: control,
                },
                TrafficCell {
                    segment: ALL_SEGMENTS.into(),
                    variant: Variant::Candidate,
                    requests: cand,
                },
            ],
        }
    }

    fn decision(lift: f64, share: f64) -> Decision {
        let opts = ReportOptions {
            candidate_percent: 5.0,
            ..Default::default()
        };
        let r = report(
            &summary(lift, share),
            &PlanTemplate::Standard.plan().criteria,
            &opts,
        );
        decide(&r)
    }

    #[test]
    fn a_breach_rolls_back_naming_the_metric_the_estimate_and_the_criterion() {
        let Decision::RollBack { reason } = decision(0.30, 0.05) else {
            panic!("{:?}", decision(0.30, 0.05));
        };
        assert!(
            reason.starts_with("Automatic rollback: cost_per_request in all: +30.0% ["),
            "{reason}"
        );
        assert!(
            reason.contains("breaching cost_per_request must not rise more than"),
            "{reason}"
        );
        assert!(crate::validate::reason(Some(&reason)).is_ok());
    }

    #[test]
    fn no_breach_no_action_and_a_broken_split_is_not_trusted() {
        assert_eq!(decision(0.0, 0.05), Decision::Nothing);
        assert!(matches!(decision(0.30, 0.20), Decision::Distrust { .. }));
    }
}
