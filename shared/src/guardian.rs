//! What the guardian does about a live change, decided from the same comparison report the
//! console draws:
//!
//! - **roll back** when a pre-registered criterion breaches in the aggregate or in any segment
//!   and the plan rolls back automatically (`RolloutPlan::rolls_back_automatically`); when it
//!   does not, **pause** instead and leave the rollback to a person;
//! - **pause** on a sample-ratio mismatch: the split itself is broken, so no comparison can be
//!   trusted and no verdict is acted on, a breach included;
//! - **pause** on a new error category (one the control never shows) whose candidate rate
//!   is above the plan's limit (`new_category_limit_per_1000`, per 1 000 candidate requests)
//!   once it has occurred at least [`MIN_NEW_CATEGORY_COUNT`] times: one stray error in a
//!   young canary is far above any rate and says nothing yet;
//! - **pause** on unexpected drift: a metric that no pre-registered criterion covers moves
//!   significantly the way its catalogue entry (`GoodDirection`) calls bad (see [`drift`]);
//! - **pause** when the stage's longest time without a decision (`max_hours` in the plan, `RolloutState::max_hours`) has
//!   passed while the verdict is still inconclusive;
//! - otherwise leave it alone.
//!
//! A paused change is held for a person: the guardian never pauses it again and acts on it only
//! to roll it back on a breach (a pre-registered criterion says "roll back first, investigate
//! after", and a hold must not delay that). Once a person resumes a stage the guardian paused,
//! the guardian does not pause that stage again: the person has looked and decided.
//!
//! Pure; the server runs it. [`hold_message`] is what the teams the change affects are told
//! when it holds.

use crate::comparison::{ComparisonReport, MetricRow};
use crate::metrics::{ALL_SEGMENTS, GoodDirection};
use crate::plan::{MIN_NEW_CATEGORY_COUNT, RolloutPlan};
use crate::rollout::RolloutState;
use crate::stats::{self, AdjustMethod, Verdict};

/// Family-wise error rate of the drift check across the metrics it watches, over the whole
/// stage however often the guardian looks (the p-values are always-valid).
pub const DRIFT_ALPHA: f64 = 0.05;

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
    if let Some(reason) = new_category(report, plan) {
        return pause(reason);
    }
    let drifting = drift(report);
    if let Some(d) = drifting.first() {
        let more = match drifting.len() {
            1 => String::new(),
            n => format!(
                " (and {} more metric{})",
                n - 1,
                if n == 2 { "" } else { "s" }
            ),
        };
        let number = |x: f64| value(d.row, x);
        let [lo, hi] = d.ci;
        return pause(format!(
            "Paused: unexpected drift: {} in {} moved {} [{}, {}], the way the catalogue calls \
             worse (always-valid interval; p = {:.1e} after Holm across {} metrics without a \
             criterion){more}. No criterion covers it: find out why, then resume or roll back.",
            d.row.key,
            d.row.segment,
            number(d.estimate),
            number(lo),
            number(hi),
            d.adjusted_p,
            d.watched
        ));
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

/// The pause reason for the first new error category above the plan's limit, if any.
fn new_category(report: &ComparisonReport, plan: &RolloutPlan) -> Option<String> {
    let limit = plan.new_category_limit();
    let over: Vec<_> = report
        .categories
        .iter()
        .filter(|c| {
            c.is_new
                && c.candidate_count >= MIN_NEW_CATEGORY_COUNT
                && c.candidate_rate * 1000.0 > limit
        })
        .collect();
    let first = over.first()?;
    let requests = if first.candidate_rate > 0.0 {
        (first.candidate_count as f64 / first.candidate_rate).round() as u64
    } else {
        0
    };
    let more = match over.len() {
        1 => String::new(),
        n => format!(
            " (and {} more new categor{})",
            n - 1,
            if n == 2 { "y" } else { "ies" }
        ),
    };
    Some(format!(
        "Paused: a new error category, {}: {} of {} candidate requests ({:.2} per 1 000), \
         none in control; the plan's limit is {} per 1 000{more}. Find out what fails, then \
         resume or roll back.",
        first.category,
        first.candidate_count,
        requests,
        first.candidate_rate * 1000.0,
        trim(limit)
    ))
}

/// A metric drifting the bad way.
#[derive(Debug, Clone, PartialEq)]
pub struct Drift<'a> {
    pub row: &'a MetricRow,
    pub estimate: f64,
    /// The always-valid two-sided interval of the difference.
    pub ci: [f64; 2],
    /// Holm-adjusted across the `watched` metrics.
    pub adjusted_p: f64,
    /// How many metrics the check watched.
    pub watched: usize,
}

/// Unexpected drift in `report`: the aggregate rows with an always-valid comparison and no
/// pre-registered criterion, Holm-adjusted together, that are significant at
/// [`DRIFT_ALPHA`] and move the way their `GoodDirection` calls bad; most significant first.
///
/// Why it holds its error rate under continuous looks: each row's p-value comes from the
/// confidence sequence of `stats::sequential` (Waudby-Smith et al. 2023), so a metric with no
/// real change crosses any level `a` at some look with probability at most `a`, and Holm's
/// procedure on such p-values keeps the chance that any unchanged metric is ever flagged at
/// most `DRIFT_ALPHA`. Latency quantiles have only fixed-horizon intervals here, which would
/// not hold that rate when looked at after every batch, so they are left to their criteria;
/// so are segment cells, which the criteria's segment verdicts cover. A metric with a
/// criterion is the criterion's: its margin says how much movement is acceptable.
pub fn drift(report: &ComparisonReport) -> Vec<Drift<'_>> {
    let watched: Vec<&MetricRow> = report
        .matrix
        .iter()
        .filter(|r| r.segment == ALL_SEGMENTS && r.sequential && r.criterion.is_none())
        .filter(|r| r.comparison.is_some_and(|c| c.p_value.is_finite()))
        .collect();
    let raw: Vec<f64> = watched
        .iter()
        .filter_map(|r| r.comparison.map(|c| c.p_value))
        .collect();
    let Ok(adjusted) = stats::adjust(&raw, AdjustMethod::Holm) else {
        return Vec::new();
    };
    let mut out: Vec<Drift<'_>> = watched
        .iter()
        .zip(adjusted)
        .filter_map(|(r, p)| {
            let c = r.comparison?;
            let bad = match r.good {
                GoodDirection::Up => c.ci[1] < 0.0,
                GoodDirection::Down => c.ci[0] > 0.0,
            };
            (p < DRIFT_ALPHA && bad).then_some(Drift {
                row: r,
                estimate: c.estimate,
                ci: c.ci,
                adjusted_p: p,
                watched: watched.len(),
            })
        })
        .collect();
    out.sort_by(|a, b| a.adjusted_p.total_cmp(&b.adjusted_p));
    out
}

/// What the teams a change affects are told when the guardian holds it: the headline, and
/// what a person can do. `reason` is the guardian's; `stage` the stage's label.
pub fn hold_message(title: &str, stage: &str, percent: f64) -> (String, String) {
    (
        format!("Held by the guardian: {title}"),
        format!(
            "\"{title}\" stays at {stage} ({} % of users) and does not advance until a person \
             decides. Nothing changes for users meanwhile. On the change page, resume the \
             rollout once the cause is understood, or roll it back.",
            trim(percent)
        ),
    )
}

/// `x` without trailing zeros: 1, 0.5, 2.25.
fn trim(x: f64) -> String {
    let s = format!("{x:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// `x` as `row` shows its comparison: a relative lift in %, else the difference itself.
fn value(row: &MetricRow, x: f64) -> String {
    if row.relative {
        format!("{:+.1}%", x * 100.0)
    } else {
        format!("{x:+.4}")
    }
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
    let number = |x: f64| value(row, x);
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

    /// Mean cells for each `(metric, control mean, candidate mean)` with a spread of 10 % of
    /// the control's mean, and the error categories of each arm, on 95 000 control and 5 000
    /// candidate requests.
    fn many(means: &[(&str, f64, f64)], categories: [&[(&str, u64)]; 2]) -> MetricSummary {
        let (na, nb) = (95_000u64, 5_000u64);
        let mut cells = Vec::new();
        for (metric, a, b) in means {
            let sd = 0.1 * a;
            for (variant, n, mean) in [(Variant::Control, na, *a), (Variant::Candidate, nb, *b)] {
                let nf = n as f64;
                cells.push(SummaryCell {
                    metric: (*metric).into(),
                    segment: ALL_SEGMENTS.into(),
                    variant,
                    value: MetricValue::Mean {
                        n,
                        sum: mean * nf,
                        sum_squares: sd * sd * (nf - 1.0) + mean * mean * nf,
                    },
                });
            }
        }
        for (variant, counts) in [Variant::Control, Variant::Candidate]
            .into_iter()
            .zip(categories)
        {
            cells.push(SummaryCell {
                metric: "error_categories".into(),
                segment: ALL_SEGMENTS.into(),
                variant,
                value: MetricValue::Categories {
                    counts: counts.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
                },
            });
        }
        MetricSummary {
            catalogue: default_catalogue(),
            segments: vec![],
            from: None,
            to: None,
            windows: 10,
            cells,
            traffic: vec![
                TrafficCell {
                    segment: ALL_SEGMENTS.into(),
                    variant: Variant::Control,
                    requests: na,
                },
                TrafficCell {
                    segment: ALL_SEGMENTS.into(),
                    variant: Variant::Candidate,
                    requests: nb,
                },
            ],
        }
    }

    fn decide_on(s: &MetricSummary, plan: &RolloutPlan) -> Decision {
        let opts = ReportOptions {
            candidate_percent: 5.0,
            ..Default::default()
        };
        decide(&report(s, &plan.criteria, &opts), plan, &CANARY)
    }

    /// Cost, tokens and conversation length as in an A/A test, with `tokens` lifted.
    fn three(tokens: f64) -> Vec<(&'static str, f64, f64)> {
        vec![
            ("cost_per_request", 0.004, 0.004),
            ("tokens_per_request", 900.0, 900.0 * (1.0 + tokens)),
            ("conversation_length", 4.0, 4.0),
        ]
    }

    #[test]
    fn a_new_error_category_above_the_limit_is_paused_naming_it() {
        let plan = PlanTemplate::Standard.plan();
        let control: &[(&str, u64)] = &[("timeout", 40)];
        // 12 of 5 000 candidate requests: 2.4 per 1 000, above the default 1.
        let s = many(
            &three(0.0),
            [control, &[("timeout", 2), ("schema_error", 12)]],
        );
        let Decision::Pause { reason } = decide_on(&s, &plan) else {
            panic!("{:?}", decide_on(&s, &plan));
        };
        assert_eq!(
            reason,
            "Paused: a new error category, schema_error: 12 of 5000 candidate requests (2.40 \
             per 1 000), none in control; the plan's limit is 1 per 1 000. Find out what \
             fails, then resume or roll back."
        );
        assert!(crate::validate::reason(Some(&reason)).is_ok());
        // A looser plan tolerates it.
        let mut loose = plan.clone();
        loose.new_category_limit_per_1000 = Some(5.0);
        assert_eq!(decide_on(&s, &loose), Decision::Nothing);
        // A few stray errors are above any rate in a young canary, and hold nothing.
        let stray = many(&three(0.0), [control, &[("schema_error", 3)]]);
        assert_eq!(decide_on(&stray, &plan), Decision::Nothing);
        // A category the control has too is no new category (surges are the criteria's).
        let known = many(&three(0.0), [control, &[("timeout", 30)]]);
        assert_eq!(decide_on(&known, &plan), Decision::Nothing);
    }

    #[test]
    fn unexpected_drift_is_paused_and_an_aa_report_is_left_alone() {
        let plan = PlanTemplate::Standard.plan();
        let none: &[(&str, u64)] = &[];
        assert_eq!(
            decide_on(&many(&three(0.0), [none, none]), &plan),
            Decision::Nothing
        );
        // Tokens per request up 5 % (Down is good), with no criterion on it.
        let s = many(&three(0.05), [none, none]);
        let r = report(&s, &plan.criteria, &ReportOptions::default());
        let found = drift(&r);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].row.key, "tokens_per_request");
        // Tokens and conversation length: cost has a criterion, the other metrics no data.
        assert_eq!(found[0].watched, 2);
        let Decision::Pause { reason } = decide_on(&s, &plan) else {
            panic!("{:?}", decide_on(&s, &plan));
        };
        assert!(
            reason.starts_with("Paused: unexpected drift: tokens_per_request in all moved +5.0% ["),
            "{reason}"
        );
        assert!(reason.ends_with("then resume or roll back."), "{reason}");
        assert!(crate::validate::reason(Some(&reason)).is_ok());
        // Moving the good way is no drift.
        assert_eq!(
            decide_on(&many(&three(-0.05), [none, none]), &plan),
            Decision::Nothing
        );
    }

    #[test]
    fn a_metric_with_a_criterion_is_left_to_its_criterion() {
        let plan = PlanTemplate::Standard.plan();
        let none: &[(&str, u64)] = &[];
        // Cost up 5 %: clearly significant, but within the criterion's 15 % margin.
        let s = many(&[("cost_per_request", 0.004, 0.0042)], [none, none]);
        let r = report(&s, &plan.criteria, &ReportOptions::default());
        let cost = r.cell("cost_per_request", ALL_SEGMENTS).unwrap();
        assert!(cost.worse, "{cost:?}");
        assert_ne!(cost.verdict, Some(Verdict::Breach));
        assert!(drift(&r).is_empty());
        assert_eq!(decide_on(&s, &plan), Decision::Nothing);
        // Without the criterion the same move is drift.
        let mut bare = plan.clone();
        bare.criteria.retain(|c| c.metric != "cost_per_request");
        assert!(matches!(decide_on(&s, &bare), Decision::Pause { .. }));
    }
}
