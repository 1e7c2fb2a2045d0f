//! What the guardian does about a live change, decided from the same comparison report the
//! console draws:
//!
//! - **roll back** when a pre-registered criterion breaches in the aggregate or in any segment
//!   and the plan rolls back automatically (`RolloutPlan::rolls_back_automatically`); when it
//!   does not, **pause** instead and leave the rollback to a person;
//! - **pause** on a sample-ratio mismatch: the split itself is broken, so no comparison can be
//!   trusted and no verdict is acted on, a breach included;
//! - **pause** when the stage's longest time without a decision (`max_hours` in the plan, `RolloutState::max_hours`) has
//!   passed while the verdict is still inconclusive;
//! - otherwise leave it alone.
//!
//! A paused change is held for a person: the guardian never pauses it again and acts on it only
//! to roll it back on a breach (a pre-registered criterion says "roll back first, investigate
//! after", and a hold must not delay that). Once a person resumes a stage the guardian paused,
//! the guardian does not pause that stage again: the person has looked and decided. A new
//! error category above a plan limit is not a reason to pause: plans have no production limit
//! on error categories (the eval gate's critical categories are checked offline).
//!
//! Pure; the server runs it.

use crate::comparison::{ComparisonReport, MetricRow};
use crate::plan::RolloutPlan;
use crate::rollout::RolloutState;
use crate::stats::Verdict;

/// Longest reason the guardian writes: a rollback reason must fit `validate::MAX_REASON`.
const MAX_REASON_CHARS: usize = 480;

/// The guardian's decision on one change.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// No criterion breaches (or there is no data yet), or the change is already held.
    Nothing,
    /// A criterion breaches: roll back, giving this reason.
    RollBack { reason: String },
    /// Hold the rollout where it is for a person to decide, giving this reason.
    Pause { reason: String },
}

/// Where the change stands besides its data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Standing {
    pub state: RolloutState,
    /// Held now.
    pub paused: bool,
    /// The guardian already paused the current stage once (and someone resumed it since, or
    /// it is still paused).
    pub paused_by_guardian_in_stage: bool,
    /// Hours since the rollout entered its current stage, when known.
    pub hours_in_stage: Option<f64>,
}

/// Decides from `report` (a report over the stage's data with `plan`'s criteria) for a change
/// standing as `standing`.
pub fn decide(report: &ComparisonReport, plan: &RolloutPlan, standing: &Standing) -> Decision {
    let may_pause = !standing.paused && !standing.paused_by_guardian_in_stage;
    let pause = |reason: String| {
        if may_pause {
            Decision::Pause {
                reason: fit(reason),
            }
        } else {
            Decision::Nothing
        }
    };
    if let Some(srm) = report.srm.as_ref().filter(|s| s.mismatch) {
        let total = srm.control_requests + srm.candidate_requests;
        return pause(format!(
            "Paused: sample-ratio mismatch: the candidate has {} of {} requests ({:.2}%, control \
             {}) where the plan sends {:.2}% (p = {:.1e}); the split is broken, so no verdict \
             is trusted. Fix the assignment, then resume or roll back.",
            srm.candidate_requests,
            total,
            srm.observed_candidate_share * 100.0,
            srm.control_requests,
            srm.expected_candidate_share * 100.0,
            srm.p_value
        ));
    }
    // The aggregate's rows first, then the segments', as the matrix lists them.
    let breaches: Vec<&MetricRow> = report
        .matrix
        .iter()
        .filter(|r| r.verdict == Some(Verdict::Breach))
        .collect();
    if let Some(first) = breaches.first() {
        let mut what = describe(first);
        if breaches.len() > 1 {
            what.push_str(&format!(
                " (and {} more breach{})",
                breaches.len() - 1,
                if breaches.len() == 2 { "" } else { "es" }
            ));
        }
        return if plan.rolls_back_automatically() {
            Decision::RollBack {
                reason: fit(format!("Automatic rollback: {what}")),
            }
        } else {
            pause(format!(
                "Paused: {what}. The plan leaves the rollback to a person: roll back or resume."
            ))
        };
    }
    if report.overall == Verdict::Inconclusive
        && let (Some(max), Some(hours)) = (standing.state.max_hours(plan), standing.hours_in_stage)
        && hours > max
    {
        return pause(format!(
            "Paused: {} has run {} h, beyond the plan's {} h without a decision, and the \
             verdict is still inconclusive. Resume to wait for more data, or roll back.",
            standing.state.label(plan),
            hours.floor(),
            max
        ));
    }
    Decision::Nothing
}

/// `reason` cut to [`MAX_REASON_CHARS`].
fn fit(reason: String) -> String {
    if reason.chars().count() > MAX_REASON_CHARS {
        reason
            .chars()
            .take(MAX_REASON_CHARS - 1)
            .collect::<String>()
            + "…"
    } else {
        reason
    }
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
    use crate::stats::Verdict;

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

    const CANARY: Standing = Standing {
        state: RolloutState::Canary,
        paused: false,
        paused_by_guardian_in_stage: false,
        hours_in_stage: Some(2.0),
    };

    fn decision_for(lift: f64, share: f64, plan: &RolloutPlan, standing: &Standing) -> Decision {
        let opts = ReportOptions {
            candidate_percent: 5.0,
            ..Default::default()
        };
        let r = report(&summary(lift, share), &plan.criteria, &opts);
        decide(&r, plan, standing)
    }

    fn decision(lift: f64, share: f64) -> Decision {
        decision_for(lift, share, &PlanTemplate::Standard.plan(), &CANARY)
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
    fn no_breach_no_action_and_a_broken_split_is_paused_not_rolled_back() {
        assert_eq!(decision(0.0, 0.05), Decision::Nothing);
        let Decision::Pause { reason } = decision(0.30, 0.20) else {
            panic!("{:?}", decision(0.30, 0.20));
        };
        assert!(
            reason.starts_with(
                "Paused: sample-ratio mismatch: the candidate has 20000 of 100000 requests \
                 (20.00%, control 80000) where the plan sends 5.00% (p = "
            ),
            "{reason}"
        );
        assert!(crate::validate::reason(Some(&reason)).is_ok());
    }

    #[test]
    fn a_held_change_is_not_paused_again_but_is_still_rolled_back_on_a_breach() {
        let plan = PlanTemplate::Standard.plan();
        let held = Standing {
            paused: true,
            ..CANARY
        };
        assert_eq!(decision_for(0.30, 0.20, &plan, &held), Decision::Nothing);
        assert!(matches!(
            decision_for(0.30, 0.05, &plan, &held),
            Decision::RollBack { .. }
        ));
        // Resumed by a person after the guardian's pause: not paused again in this stage.
        let resumed = Standing {
            paused_by_guardian_in_stage: true,
            ..CANARY
        };
        assert_eq!(decision_for(0.30, 0.20, &plan, &resumed), Decision::Nothing);
    }

    #[test]
    fn without_automatic_rollback_a_breach_pauses() {
        let mut plan = PlanTemplate::Standard.plan();
        plan.automatic_rollback = Some(false);
        let Decision::Pause { reason } = decision_for(0.30, 0.05, &plan, &CANARY) else {
            panic!("{:?}", decision_for(0.30, 0.05, &plan, &CANARY));
        };
        assert!(
            reason.starts_with("Paused: cost_per_request in all: +30.0% ["),
            "{reason}"
        );
        assert!(reason.ends_with("roll back or resume."), "{reason}");
    }

    #[test]
    fn an_inconclusive_stage_past_its_longest_time_is_paused() {
        let plan = PlanTemplate::Standard.plan();
        let long = |hours| Standing {
            hours_in_stage: Some(hours),
            ..CANARY
        };
        // Few requests and no lift: no criterion decides either way.
        let opts = ReportOptions {
            candidate_percent: 5.0,
            ..Default::default()
        };
        let mut s = summary(0.0, 0.05);
        for c in &mut s.cells {
            if let MetricValue::Mean {
                n,
                sum,
                sum_squares,
            } = &mut c.value
            {
                let k = 20.0 / *n as f64;
                *n = (*n as f64 * k) as u64;
                *sum *= k;
                *sum_squares *= k;
            }
        }
        for t in &mut s.traffic {
            t.requests = (t.requests as f64 * 20.0 / 100_000.0).ceil() as u64;
        }
        let r = report(&s, &plan.criteria, &opts);
        assert_eq!(r.overall, Verdict::Inconclusive);
        assert_eq!(decide(&r, &plan, &long(71.0)), Decision::Nothing);
        let Decision::Pause { reason } = decide(&r, &plan, &long(73.5)) else {
            panic!("{:?}", decide(&r, &plan, &long(73.5)));
        };
        assert_eq!(
            reason,
            "Paused: Canary 5% has run 73 h, beyond the plan's 72 h without a decision, and \
             the verdict is still inconclusive. Resume to wait for more data, or roll back."
        );
        let mut unlimited = plan.clone();
        unlimited.canary.max_hours = None;
        assert_eq!(decide(&r, &unlimited, &long(500.0)), Decision::Nothing);
    }
}
