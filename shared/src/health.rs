//! One health summary per change, the same wherever a decision is made (the change list, the
//! change page, the approvals inbox, the Approve dialog): Pass, Breach, Inconclusive, No data,
//! Held, or Rolled back by the guardian, with a short reason.
//!
//! It is read from the comparison report the gates and the guardian judge (the data since the
//! canary started, with the plan's criteria), the hold on the rollout and who rolled it back.
//! In order, the first that applies:
//!
//! 1. **Rolled back by the guardian**: the change was rolled back and the rollback's actor is
//!    the guardian. A rollback by a person is a decision already taken, not a state of health:
//!    such a change, like a draft or a reviewed one, is no longer (or not yet) live and reads
//!    **No data**.
//! 2. **Breach**: a criterion breaches, in the aggregate or in a segment. A breach outranks a
//!    hold: a held change whose criterion breaches still needs someone to roll it back.
//! 3. **Held**: the rollout is paused, by a person or by the guardian.
//! 4. **No data**: no report yet (no canary, or no metric windows since it started), or a
//!    criterion's metric without data in the aggregate. "No data" is never a Pass.
//! 5. **Pass** when the report's overall verdict is Pass (every criterion has data and passes
//!    in every segment), else **Inconclusive**; a plan without criteria is Inconclusive, since
//!    nothing says what healthy means.

use serde::{Deserialize, Serialize};

use crate::change::AiChange;
use crate::comparison::{ComparisonReport, MetricRow};
use crate::metrics::ALL_SEGMENTS;
use crate::rollout::RolloutState;
use crate::stats::Verdict;

/// The guardian's name as the actor of its transitions.
pub const GUARDIAN: &str = "guardian";

/// The health of a change. Declared from what needs a person first to what needs nobody: the
/// order the change list sorts by.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum HealthKind {
    Breach,
    Held,
    RolledBack,
    Inconclusive,
    NoData,
    Pass,
}

impl HealthKind {
    /// The serde name.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn label(self) -> &'static str {
        match self {
            HealthKind::Breach => "Breach",
            HealthKind::Held => "Held",
            HealthKind::RolledBack => "Rolled back by the guardian",
            HealthKind::Inconclusive => "Inconclusive",
            HealthKind::NoData => "No data",
            HealthKind::Pass => "Pass",
        }
    }
}

/// A change's health and why, e.g. Breach, "Cost per request breaches its limit".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeHealth {
    pub kind: HealthKind,
    /// A short sentence for people: the first breaching criterion's metric, the hold's
    /// reason, the metric without data.
    pub reason: String,
}

impl ChangeHealth {
    fn new(kind: HealthKind, reason: impl Into<String>) -> Self {
        ChangeHealth {
            kind,
            reason: reason.into(),
        }
    }
}

/// The health of `change`. `rolled_back_by` is the actor of the rollback when the change was
/// rolled back; `report` the comparison report over the data since the canary started with the
/// plan's criteria (`None` before the canary or without data; not read for a change that is
/// not live).
pub fn health(
    change: &AiChange,
    rolled_back_by: Option<&str>,
    rollback_reason: Option<&str>,
    report: Option<&ComparisonReport>,
) -> ChangeHealth {
    use HealthKind::*;
    let not_live = match change.state {
        RolloutState::Draft => Some("not started".to_owned()),
        RolloutState::Reviewed => Some("finished and reviewed".to_owned()),
        RolloutState::RolledBack => match rolled_back_by {
            Some(GUARDIAN) => {
                let why = rollback_reason.unwrap_or("a criterion breached");
                let why = why.strip_prefix("Automatic rollback: ").unwrap_or(why);
                return ChangeHealth::new(RolledBack, why);
            }
            Some(who) => Some(format!("rolled back by {who}")),
            None => Some("rolled back".to_owned()),
        },
        _ => None,
    };
    if let Some(why) = not_live {
        return ChangeHealth::new(NoData, why);
    }
    if let Some(r) = report
        && let Some(cell) = first(r, |c| c.verdict == Some(Verdict::Breach))
    {
        return ChangeHealth::new(Breach, format!("{} breaches its limit", named(cell)));
    }
    if let Some(p) = &change.paused {
        let why = p.reason.strip_prefix("Paused: ").unwrap_or(&p.reason);
        return ChangeHealth::new(Held, format!("paused by {}: {why}", p.by));
    }
    let Some(r) = report else {
        let why = if change.state == RolloutState::Eval {
            "no canary traffic yet"
        } else {
            "no metric windows since the canary started"
        };
        return ChangeHealth::new(NoData, why);
    };
    let criteria = &change.plan.criteria;
    for c in criteria {
        let cell = r.cell(&c.metric, ALL_SEGMENTS);
        if cell.and_then(|r| r.verdict).is_none() {
            let name = cell.map_or(c.metric.as_str(), |r| r.name.as_str());
            return ChangeHealth::new(NoData, format!("no data yet for {name}"));
        }
    }
    if criteria.is_empty() {
        return ChangeHealth::new(Inconclusive, "the plan has no rollback criteria");
    }
    if r.overall == Verdict::Pass {
        return ChangeHealth::new(Pass, "every criterion passes");
    }
    let why = match first(r, |c| c.verdict == Some(Verdict::Inconclusive)) {
        Some(cell) => format!("{} is not decided yet", named(cell)),
        None => "not decided yet".to_owned(),
    };
    ChangeHealth::new(Inconclusive, why)
}

/// The first criterion cell matching `f`, the aggregate's before any segment's.
fn first(r: &ComparisonReport, f: impl Fn(&MetricRow) -> bool) -> Option<&MetricRow> {
    let criterion = |c: &&MetricRow| c.criterion.is_some() && f(c);
    r.matrix
        .iter()
        .filter(|c| c.segment == ALL_SEGMENTS)
        .find(criterion)
        .or_else(|| r.matrix.iter().find(criterion))
}

/// "Cost per request", or "Quality in free / es" for a segment's cell.
fn named(cell: &MetricRow) -> String {
    if cell.segment == ALL_SEGMENTS {
        cell.name.clone()
    } else {
        format!("{} in {}", cell.name, cell.segment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::change::{ChangeKind, Pause, RiskTier};
    use crate::comparison::{ReportOptions, report};
    use crate::metrics::{
        MetricSummary, MetricValue, SummaryCell, TrafficCell, Variant, default_catalogue,
    };
    use crate::plan::{BadDirection, PlanTemplate, RollbackCriterion, ThresholdKind};

    fn change(state: RolloutState, criteria: Vec<RollbackCriterion>) -> AiChange {
        let mut plan = PlanTemplate::Standard.plan();
        plan.criteria = criteria;
        AiChange {
            id: "c1".into(),
            flag_key: "c1".into(),
            title: "Shorter answers".into(),
            kind: ChangeKind::Prompt,
            risk: RiskTier::Standard,
            baseline: serde_json::json!({}),
            candidate: serde_json::json!({}),
            expected_changes: String::new(),
            owner: "erin@example.com".into(),
            product_area: None,
            plan,
            flag_rules: Default::default(),
            state,
            traffic_percent: 5.0,
            paused: None,
            revision: 3,
            created_at: "2026-12-01T10:00:00Z".into(),
            updated_at: "2026-12-01T10:00:00Z".into(),
        }
    }

    fn cost() -> RollbackCriterion {
        RollbackCriterion {
            metric: "cost_per_request".into(),
            bad_direction: BadDirection::Increase,
            threshold_kind: ThresholdKind::Relative,
            threshold: 0.15,
        }
    }

    fn quality() -> RollbackCriterion {
        RollbackCriterion {
            metric: "shadow_eval_pass_rate".into(),
            bad_direction: BadDirection::Decrease,
            threshold_kind: ThresholdKind::Absolute,
            threshold: 0.02,
        }
    }

    /// Segments' quality (a rate) and cost (a mean) on both arms, plus the aggregate:
    /// `(segment, control n, candidate n, quality control, quality candidate, cost control,
    /// cost candidate)`.
    type Segment<'a> = (&'a str, u64, u64, f64, f64, f64, f64);

    fn summary(segments: &[Segment<'_>]) -> MetricSummary {
        let mut cells = Vec::new();
        let rate = |seg: &str, v, n: u64, p: f64| SummaryCell {
            metric: "shadow_eval_pass_rate".into(),
            segment: seg.into(),
            variant: v,
            value: MetricValue::Rate {
                n,
                successes: (n as f64 * p).round() as u64,
            },
        };
        let mean = |seg: &str, v, n: u64, m: f64| {
            let nf = n as f64;
            SummaryCell {
                metric: "cost_per_request".into(),
                segment: seg.into(),
                variant: v,
                value: MetricValue::Mean {
                    n,
                    sum: m * nf,
                    sum_squares: 0.004 * 0.004 * (nf - 1.0) + m * m * nf,
                },
            }
        };
        for &(seg, na, nb, qa, qb, ca, cb) in segments {
            cells.push(rate(seg, Variant::Control, na, qa));
            cells.push(rate(seg, Variant::Candidate, nb, qb));
            cells.push(mean(seg, Variant::Control, na, ca));
            cells.push(mean(seg, Variant::Candidate, nb, cb));
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
        let control: u64 = segments.iter().map(|s| s.1).sum();
        let candidate: u64 = segments.iter().map(|s| s.2).sum();
        MetricSummary {
            catalogue: default_catalogue(),
            segments: segments.iter().map(|s| s.0.to_owned()).collect(),
            from: None,
            to: None,
            windows: 1,
            cells,
            traffic: vec![
                TrafficCell {
                    segment: ALL_SEGMENTS.into(),
                    variant: Variant::Control,
                    requests: control,
                },
                TrafficCell {
                    segment: ALL_SEGMENTS.into(),
                    variant: Variant::Candidate,
                    requests: candidate,
                },
            ],
        }
    }

    fn judged(c: &AiChange, s: &MetricSummary) -> ChangeHealth {
        let r = report(s, &c.plan.criteria, &ReportOptions::default());
        health(c, None, None, Some(&r))
    }

    const FLAT: [Segment<'static>; 2] = [
        ("paid / en", 200_000, 15_000, 0.90, 0.90, 0.010, 0.010),
        ("free / es", 200_000, 15_000, 0.85, 0.85, 0.010, 0.010),
    ];

    #[test]
    fn equal_arms_with_enough_data_pass() {
        let c = change(RolloutState::Canary, vec![quality(), cost()]);
        let h = judged(&c, &summary(&FLAT));
        assert_eq!(
            h,
            ChangeHealth::new(HealthKind::Pass, "every criterion passes")
        );
    }

    #[test]
    fn a_cost_breach_names_the_metric() {
        let c = change(RolloutState::Canary, vec![quality(), cost()]);
        let s = summary(&[
            ("paid / en", 200_000, 15_000, 0.90, 0.90, 0.010, 0.012),
            ("free / es", 200_000, 15_000, 0.85, 0.85, 0.010, 0.012),
        ]);
        let h = judged(&c, &s);
        assert_eq!(h.kind, HealthKind::Breach);
        assert_eq!(h.reason, "Cost per request breaches its limit");
    }

    #[test]
    fn a_breach_in_one_segment_names_the_segment() {
        let c = change(RolloutState::Ramp { step: 0 }, vec![quality(), cost()]);
        // Quality drops 6 points in the small free / es segment, within the margin overall.
        let s = summary(&[
            ("paid / en", 200_000, 15_000, 0.90, 0.90, 0.010, 0.010),
            ("free / es", 40_000, 3_000, 0.85, 0.79, 0.010, 0.010),
        ]);
        let h = judged(&c, &s);
        assert_eq!(h.kind, HealthKind::Breach, "{h:?}");
        assert!(
            h.reason.ends_with(" in free / es breaches its limit"),
            "{h:?}"
        );
    }

    #[test]
    fn a_criterion_without_data_is_no_data_not_pass() {
        // Latency p95 has no windows at all; the other two pass.
        let latency = RollbackCriterion {
            metric: "latency_p95_ms".into(),
            bad_direction: BadDirection::Increase,
            threshold_kind: ThresholdKind::Level,
            threshold: 2500.0,
        };
        let c = change(RolloutState::Canary, vec![quality(), cost(), latency]);
        let h = judged(&c, &summary(&FLAT));
        assert_eq!(h.kind, HealthKind::NoData, "{h:?}");
        assert!(h.reason.starts_with("no data yet for "), "{h:?}");
        // A criterion on a metric the catalogue lacks has no row: no data too.
        let odd = RollbackCriterion {
            metric: "refund_rate".into(),
            ..cost()
        };
        let c = change(RolloutState::Canary, vec![quality(), odd]);
        let h = judged(&c, &summary(&FLAT));
        assert_eq!(
            h,
            ChangeHealth::new(HealthKind::NoData, "no data yet for refund_rate")
        );
    }

    #[test]
    fn little_data_is_inconclusive() {
        let c = change(RolloutState::Canary, vec![cost()]);
        let mut s = summary(&FLAT);
        for cell in &mut s.cells {
            if let MetricValue::Mean {
                n,
                sum,
                sum_squares,
            } = &mut cell.value
            {
                // 40 requests an arm: nothing can be told apart yet.
                let scale = 40.0 / *n as f64;
                *n = 40;
                *sum *= scale;
                *sum_squares *= scale;
            }
        }
        let h = judged(&c, &s);
        assert_eq!(h.kind, HealthKind::Inconclusive, "{h:?}");
        assert_eq!(h.reason, "Cost per request is not decided yet");
    }

    #[test]
    fn no_report_is_no_data_and_no_criteria_is_inconclusive() {
        let c = change(RolloutState::Canary, vec![cost()]);
        assert_eq!(health(&c, None, None, None).kind, HealthKind::NoData);
        let eval = change(RolloutState::Eval, vec![cost()]);
        assert_eq!(
            health(&eval, None, None, None),
            ChangeHealth::new(HealthKind::NoData, "no canary traffic yet")
        );
        let bare = change(RolloutState::Canary, vec![]);
        assert_eq!(
            judged(&bare, &summary(&FLAT)).kind,
            HealthKind::Inconclusive
        );
    }

    #[test]
    fn a_hold_shows_unless_a_criterion_breaches() {
        let mut c = change(RolloutState::Canary, vec![quality(), cost()]);
        c.paused = Some(Pause {
            at: "2026-12-01T12:00:00Z".into(),
            by: GUARDIAN.into(),
            reason: "Paused: sample-ratio mismatch".into(),
        });
        assert_eq!(
            judged(&c, &summary(&FLAT)),
            ChangeHealth::new(
                HealthKind::Held,
                "paused by guardian: sample-ratio mismatch"
            )
        );
        assert_eq!(health(&c, None, None, None).kind, HealthKind::Held);
        let breach = summary(&[("paid / en", 200_000, 15_000, 0.90, 0.90, 0.010, 0.013)]);
        assert_eq!(judged(&c, &breach).kind, HealthKind::Breach);
    }

    #[test]
    fn only_the_guardians_rollback_is_its_own_health() {
        let c = change(RolloutState::RolledBack, vec![cost()]);
        let breach = report(
            &summary(&[("paid / en", 200_000, 15_000, 0.90, 0.90, 0.010, 0.013)]),
            &c.plan.criteria,
            &ReportOptions::default(),
        );
        assert_eq!(
            health(
                &c,
                Some(GUARDIAN),
                Some("Automatic rollback: cost_per_request in all: +30.0%"),
                Some(&breach)
            ),
            ChangeHealth::new(HealthKind::RolledBack, "cost_per_request in all: +30.0%")
        );
        // A person's rollback is a decision taken: the change is no longer live.
        assert_eq!(
            health(
                &c,
                Some("alex@example.com"),
                Some("timeouts"),
                Some(&breach)
            ),
            ChangeHealth::new(HealthKind::NoData, "rolled back by alex@example.com")
        );
        let draft = change(RolloutState::Draft, vec![cost()]);
        assert_eq!(
            health(&draft, None, None, Some(&breach)).kind,
            HealthKind::NoData
        );
    }

    #[test]
    fn kinds_sort_from_what_needs_a_person_first() {
        let mut kinds = <HealthKind as strum::VariantArray>::VARIANTS.to_vec();
        kinds.sort_unstable();
        assert_eq!(kinds[0], HealthKind::Breach);
        assert_eq!(kinds[kinds.len() - 1], HealthKind::Pass);
        assert_eq!(HealthKind::NoData.as_str(), "no_data");
        assert_eq!(HealthKind::RolledBack.as_str(), "rolled_back");
    }
}
