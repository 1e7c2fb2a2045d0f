//! Long-running A/B tests and holdouts: where an effect is too subtle for a canary, a change
//! holds a fixed split for a declared duration and ends with a recorded decision; once at
//! 100 %, a holdout can stay on the old version for some days to measure what the change did
//! in the long run.
//!
//! * An **A/B step** is a ramp step the plan marks `ab_test`: it runs at its split for at
//!   least its `min_duration_hours` (its declared duration, 1–90 days) and the rollout leaves
//!   it only on a [`AbDecision`]: *keep* opens its gate to the next stage; *revert* and
//!   *iterate* roll the change back, with the report frozen in the decision (an iteration is
//!   the flag's next version). A decision before the declared duration is peeking, refused.
//! * A **holdout** (`FlagRules::holdout_percent`, the top buckets) stays on control while the
//!   rollout is at Full; `FlagRules::holdout_days` is how long at least, which the Reviewed
//!   gate checks. Once reviewed, the old version is retired and the holdout gets the
//!   candidate like everyone else.

use serde::{Deserialize, Serialize};

use crate::comparison::ComparisonReport;
use crate::error::FieldError;
use crate::plan::{RampStep, RolloutPlan};

/// Shortest declared duration of an A/B step, hours: a day, so every hour of the day is in it.
pub const MIN_HOURS: f64 = 24.0;
/// Longest declared duration of an A/B step, hours (90 days).
pub const MAX_HOURS: f64 = 24.0 * 90.0;
/// Longest decision note, characters.
pub const MAX_NOTE: usize = 4000;

/// What an A/B test decided.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AbOutcome {
    /// The candidate stays: the rollout may go on to the next stage.
    Keep,
    /// The candidate goes: the change rolls back.
    Revert,
    /// Not this candidate as it is: the change rolls back and a next version on the flag
    /// tries again.
    Iterate,
}

impl AbOutcome {
    pub const ALL: [AbOutcome; 3] = [AbOutcome::Keep, AbOutcome::Revert, AbOutcome::Iterate];

    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }

    pub fn label(self) -> &'static str {
        match self {
            AbOutcome::Keep => "Keep",
            AbOutcome::Revert => "Revert",
            AbOutcome::Iterate => "Iterate",
        }
    }

    /// Whether the decision rolls the change back.
    pub fn rolls_back(self) -> bool {
        self != AbOutcome::Keep
    }
}

/// A decision someone records (`POST /api/v1/changes/{id}/decision`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AbDecisionInput {
    pub outcome: AbOutcome,
    /// Why: what the report showed and what it means for the product (1–4000 characters).
    pub note: String,
}

/// A recorded decision, with the report it was made on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AbDecision {
    pub change_id: String,
    /// The A/B step decided on, e.g. "A/B test 50%".
    pub stage: String,
    pub outcome: AbOutcome,
    pub note: String,
    /// Who decided (their name).
    pub decided_by: String,
    /// When (RFC 3339, UTC).
    pub decided_at: String,
    /// The comparison report at the moment of the decision, frozen with it. Left out where
    /// only the decision is listed (a change's detail).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(target_arch = "wasm32", serde(skip_deserializing))]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub report: Option<ComparisonReport>,
}

/// A flag's holdout as the console reads it (the console does not decode the flag's rules).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Holdout {
    /// Share kept on control, percent.
    pub percent: f64,
    /// Days it stays at Full before the review (0: no minimum).
    pub days: u32,
}

impl Holdout {
    /// The holdout `rules` declare, if any.
    pub fn of(rules: &crate::assignment::FlagRules) -> Option<Holdout> {
        (rules.holdout_percent > 0.0).then_some(Holdout {
            percent: rules.holdout_percent,
            days: rules.holdout_days,
        })
    }
}

/// The candidate's share of traffic at `percent` for the stage, in `state`, once the holdout
/// is kept out of it: what a comparison expects of the split (the sample-ratio check). The
/// holdout is released once the change is reviewed.
pub fn below_holdout(
    percent: f64,
    state: crate::rollout::RolloutState,
    holdout: Option<Holdout>,
) -> f64 {
    match holdout {
        Some(h) if state != crate::rollout::RolloutState::Reviewed => {
            percent.min(100.0 - h.percent)
        }
        _ => percent,
    }
}

/// The candidate's share of traffic when `change` is in `state`: the stage's share, with the
/// flag's holdout kept out (what the change list, the change page and the comparison show).
pub fn candidate_share(
    change: &crate::change::AiChange,
    state: crate::rollout::RolloutState,
) -> f64 {
    below_holdout(
        state.traffic_percent(&change.plan),
        state,
        Holdout::of(&change.flag_rules),
    )
}

/// The plan's A/B step, with its index, if it has one.
pub fn ab_step(plan: &RolloutPlan) -> Option<(u32, &RampStep)> {
    plan.ramp
        .iter()
        .enumerate()
        .find(|(_, s)| s.ab_test)
        .map(|(i, s)| (i as u32, s))
}

/// The A/B rules of a plan beyond each step's own ranges (`crate::validate::plan` checks the
/// duration): one A/B step at most, and one with a control arm.
pub fn plan_problems(plan: &RolloutPlan) -> Vec<FieldError> {
    let mut out = Vec::new();
    let mut seen = false;
    for (i, step) in plan.ramp.iter().enumerate() {
        if !step.ab_test {
            continue;
        }
        let field = format!("plan.ramp[{i}].ab_test");
        if seen {
            out.push(FieldError::new(
                field,
                "a plan has at most one A/B test step",
            ));
        } else if step.percent >= 100.0 {
            out.push(FieldError::new(
                field,
                "an A/B test needs a control arm: its step must be below 100%",
            ));
        }
        seen = true;
    }
    out
}

/// Checks a decision's own fields.
pub fn validate_decision(input: &AbDecisionInput) -> Result<(), FieldError> {
    let note = input.note.trim();
    if note.is_empty() || note.chars().count() > MAX_NOTE {
        return Err(FieldError::new(
            "note",
            format!("must be 1–{MAX_NOTE} characters: say what the report showed and why"),
        ));
    }
    Ok(())
}

/// The rollback reason a revert or an iteration records.
pub fn rollback_reason(outcome: AbOutcome, note: &str) -> String {
    format!("A/B test decided: {}. {}", outcome.as_str(), note.trim())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlanTemplate;

    fn with_ab(percent: f64, hours: f64) -> RolloutPlan {
        let mut p = PlanTemplate::Standard.plan();
        p.ramp[2].percent = percent;
        p.ramp[2].min_duration_hours = hours;
        p.ramp[2].max_hours = None;
        p.ramp[2].ab_test = true;
        p
    }

    #[test]
    fn an_ab_step_is_labelled_and_found() {
        let p = with_ab(50.0, 14.0 * 24.0);
        assert!(plan_problems(&p).is_empty());
        let (i, step) = ab_step(&p).expect("an A/B step");
        assert_eq!(i, 2);
        assert_eq!(step.percent, 50.0);
        assert_eq!(
            crate::rollout::RolloutState::Ramp { step: 2 }.label(&p),
            "A/B test 50%"
        );
        assert!(ab_step(&PlanTemplate::Standard.plan()).is_none());
    }

    #[test]
    fn an_ab_step_is_below_100_percent_and_only_once() {
        let field = |p: &RolloutPlan| plan_problems(p)[0].field.clone();
        let mut full = PlanTemplate::Standard.plan();
        full.ramp[3].ab_test = true;
        assert_eq!(field(&full), "plan.ramp[3].ab_test");
        let mut twice = with_ab(50.0, 48.0);
        twice.ramp[1].ab_test = true;
        assert_eq!(field(&twice), "plan.ramp[2].ab_test");
    }

    #[test]
    fn the_holdout_is_kept_out_of_the_split_until_reviewed() {
        use crate::rollout::RolloutState::{Full, Ramp, Reviewed};
        let h = Some(Holdout {
            percent: 5.0,
            days: 14,
        });
        assert_eq!(below_holdout(100.0, Full, h), 95.0);
        assert_eq!(below_holdout(25.0, Ramp { step: 1 }, h), 25.0);
        assert_eq!(below_holdout(100.0, Reviewed, h), 100.0);
        assert_eq!(below_holdout(100.0, Full, None), 100.0);
    }

    #[test]
    fn a_decision_needs_a_note_and_a_revert_says_so_in_its_reason() {
        let ok = AbDecisionInput {
            outcome: AbOutcome::Revert,
            note: " Retention fell 2 points. ".into(),
        };
        assert!(validate_decision(&ok).is_ok());
        let empty = AbDecisionInput {
            outcome: AbOutcome::Keep,
            note: "  ".into(),
        };
        assert_eq!(validate_decision(&empty).unwrap_err().field, "note");
        assert_eq!(
            rollback_reason(ok.outcome, &ok.note),
            "A/B test decided: revert. Retention fell 2 points."
        );
        assert!(!AbOutcome::Keep.rolls_back());
        assert!(AbOutcome::Iterate.rolls_back());
        assert_eq!(AbOutcome::parse("iterate"), Some(AbOutcome::Iterate));
    }
}
