//! The rollout state machine:
//!
//! ```text
//! draft → eval → canary → ramp(0) → … → ramp(n-1) → full → reviewed
//!           ╰──────┴────────┴──────────────┴─────────┴──→ rolled_back
//! ```
//!
//! Advancing moves to the next stage. Skipping jumps over exactly one stage and needs a written
//! justification, which the caller stores. Rolling back is allowed from every started stage that
//! is not finished and needs a reason. Everything else is an [`TransitionError`].
//!
//! A started rollout can also be **paused** (held): the stage and its traffic stay as they are,
//! advancing and skipping are refused until someone resumes, and rolling back stays open. A
//! pause is not a stage of its own but a mark on the change (who, when, why), so the state
//! before and after a pause or a resume is the same stage.

use serde::{Deserialize, Serialize};

use crate::plan::RolloutPlan;

/// Where a rollout stands.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantNames,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "stage", rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RolloutState {
    Draft,
    /// Offline eval gate: no production traffic yet, but the plan is frozen.
    Eval,
    Canary,
    /// At ramp step `step` (0-based index into the plan's ramp).
    Ramp {
        step: u32,
    },
    Full,
    Reviewed,
    RolledBack,
}

/// The names used in storage and in list filters (the ramp's step is stored beside it): the
/// serde `stage` tags, in the order of the state machine.
pub const STATE_NAMES: [&str; 7] = {
    let names = <RolloutState as strum::VariantNames>::VARIANTS;
    // A new state needs its place in this array's length, or this fails to compile.
    assert!(names.len() == 7);
    match names.first_chunk() {
        Some(first) => *first,
        None => unreachable!(),
    }
};

impl RolloutState {
    /// The serde `stage` tag, without the ramp's step.
    pub fn name(self) -> &'static str {
        self.into()
    }

    /// Rebuilds a state from its stored name and ramp step.
    pub fn from_parts(name: &str, step: Option<u32>) -> Option<Self> {
        match name.parse().ok()? {
            RolloutState::Ramp { .. } => Some(RolloutState::Ramp { step: step? }),
            state => Some(state),
        }
    }

    pub fn ramp_step(self) -> Option<u32> {
        match self {
            RolloutState::Ramp { step } => Some(step),
            _ => None,
        }
    }

    /// Human label with the pause people need to see, e.g. "Canary 5% · paused".
    pub fn label_held(self, plan: &RolloutPlan, paused: bool) -> String {
        let label = self.label(plan);
        if paused {
            format!("{label} · paused")
        } else {
            label
        }
    }

    /// Human label, e.g. "Ramp 25%" ("A/B test 50%" for a step the plan marks `ab_test`).
    pub fn label(self, plan: &RolloutPlan) -> String {
        match self {
            RolloutState::Draft => "Draft".into(),
            RolloutState::Eval => "Eval gate".into(),
            RolloutState::Canary => format!("Canary {}%", pct(plan.canary.percent)),
            RolloutState::Ramp { step } => match plan.ramp.get(step as usize) {
                Some(s) if s.ab_test => format!("A/B test {}%", pct(s.percent)),
                Some(s) => format!("Ramp {}%", pct(s.percent)),
                None => format!("Ramp step {}", step + 1),
            },
            RolloutState::Full => "Full".into(),
            RolloutState::Reviewed => "Reviewed".into(),
            RolloutState::RolledBack => "Rolled back".into(),
        }
    }

    /// Share of traffic on the candidate in this state, 0–100 (before the flag's holdout).
    pub fn traffic_percent(self, plan: &RolloutPlan) -> f64 {
        match self {
            RolloutState::Draft | RolloutState::Eval | RolloutState::RolledBack => 0.0,
            RolloutState::Canary => plan.canary.percent,
            RolloutState::Ramp { step } => plan
                .ramp
                .get(step as usize)
                .map(|s| s.percent)
                .unwrap_or(0.0),
            RolloutState::Full | RolloutState::Reviewed => 100.0,
        }
    }

    /// The longest time in this state without a decision, in hours, if `plan` sets one.
    pub fn max_hours(self, plan: &RolloutPlan) -> Option<f64> {
        match self {
            RolloutState::Canary => plan.canary.max_hours,
            RolloutState::Ramp { step } => plan.ramp.get(step as usize)?.max_hours,
            _ => None,
        }
    }

    /// The plan and the rollback criteria may change only before the rollout starts.
    pub fn plan_is_editable(self) -> bool {
        self == RolloutState::Draft
    }

    /// Started and not finished: the states a rollback leaves.
    pub fn is_live(self) -> bool {
        matches!(
            self,
            RolloutState::Eval
                | RolloutState::Canary
                | RolloutState::Ramp { .. }
                | RolloutState::Full
        )
    }

    pub fn is_terminal(self) -> bool {
        matches!(self, RolloutState::Reviewed | RolloutState::RolledBack)
    }
}

fn pct(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

/// The ordered stages of a plan, as the states that visit them (draft and rolled-back excluded).
pub fn stages(plan: &RolloutPlan) -> Vec<RolloutState> {
    let mut out = vec![RolloutState::Eval, RolloutState::Canary];
    out.extend((0..plan.ramp.len() as u32).map(|step| RolloutState::Ramp { step }));
    out.push(RolloutState::Full);
    out.push(RolloutState::Reviewed);
    out
}

/// The stage after `state` in `plan`, if any.
pub fn next_stage(plan: &RolloutPlan, state: RolloutState) -> Option<RolloutState> {
    if state == RolloutState::Draft {
        return Some(RolloutState::Eval);
    }
    let all = stages(plan);
    let i = all.iter().position(|s| *s == state)?;
    all.get(i + 1).copied()
}

/// What someone asks the rollout to do.
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
    strum::VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum TransitionAction {
    Advance,
    Skip,
    RollBack,
    /// Hold the rollout where it is; needs a reason.
    Pause,
    /// Let a paused rollout move again; a note is optional.
    Resume,
}

impl TransitionAction {
    /// The serde name: the text in JSON, in storage and in query strings.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Reads a serde name back; `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("a {state} rollout cannot {action}: it has finished")]
    Finished {
        state: &'static str,
        action: &'static str,
    },
    #[error("a draft cannot be rolled back: nothing has been rolled out yet")]
    NotStarted,
    #[error("skipping a stage needs a written justification")]
    JustificationRequired,
    #[error("rolling back needs a reason")]
    ReasonRequired,
    #[error("pausing needs a reason")]
    PauseReasonRequired,
    #[error("the rollout is paused: resume or roll back")]
    Paused,
    #[error("the rollout is already paused")]
    AlreadyPaused,
    #[error("the rollout is not paused, so there is nothing to resume")]
    NotPaused,
    #[error("a {0} rollout cannot be paused: only a started rollout can")]
    NotPausable(&'static str),
    #[error("there is no stage to skip to after {0}")]
    NothingToSkipTo(&'static str),
    #[error("the {0} stage cannot be skipped")]
    NotSkippable(&'static str),
    #[error("the rollout is at {0}, which the plan does not have")]
    UnknownStage(&'static str),
}

impl TransitionError {
    /// The request field the error is about, for API error bodies.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            TransitionError::JustificationRequired
            | TransitionError::ReasonRequired
            | TransitionError::PauseReasonRequired => Some("reason"),
            _ => Some("action"),
        }
    }
}

/// Decides where `action` takes a rollout at `state` (held there when `paused`). `reason` is
/// the justification (skip) or the reason (rollback, pause); it is optional for advancing and
/// resuming. A pause and a resume leave the rollout at `state`.
pub fn transition(
    plan: &RolloutPlan,
    state: RolloutState,
    paused: bool,
    action: TransitionAction,
    reason: Option<&str>,
) -> Result<RolloutState, TransitionError> {
    let has_reason = reason.is_some_and(|r| !r.trim().is_empty());
    if state.is_terminal() {
        return Err(TransitionError::Finished {
            state: state.name(),
            action: action.as_str(),
        });
    }
    if paused && matches!(action, TransitionAction::Advance | TransitionAction::Skip) {
        return Err(TransitionError::Paused);
    }
    match action {
        TransitionAction::Pause => {
            if !state.is_live() {
                return Err(TransitionError::NotPausable(state.name()));
            }
            if paused {
                return Err(TransitionError::AlreadyPaused);
            }
            if !has_reason {
                return Err(TransitionError::PauseReasonRequired);
            }
            Ok(state)
        }
        TransitionAction::Resume => {
            if !paused {
                return Err(TransitionError::NotPaused);
            }
            Ok(state)
        }
        TransitionAction::Advance => {
            next_stage(plan, state).ok_or(TransitionError::UnknownStage(state.name()))
        }
        TransitionAction::Skip => {
            if !has_reason {
                return Err(TransitionError::JustificationRequired);
            }
            let skipped =
                next_stage(plan, state).ok_or(TransitionError::UnknownStage(state.name()))?;
            // Full and the review are what a rollout is for; jumping over them would end a
            // rollout without ever serving everyone or looking back at it.
            if matches!(skipped, RolloutState::Full | RolloutState::Reviewed) {
                return Err(TransitionError::NotSkippable(skipped.name()));
            }
            next_stage(plan, skipped).ok_or(TransitionError::NothingToSkipTo(skipped.name()))
        }
        TransitionAction::RollBack => {
            if state == RolloutState::Draft {
                return Err(TransitionError::NotStarted);
            }
            if !has_reason {
                return Err(TransitionError::ReasonRequired);
            }
            Ok(RolloutState::RolledBack)
        }
    }
}

/// Why an edit or a transition based on revision `sent` is refused when the change is at
/// `current`: someone else changed it since the caller read it.
pub fn stale_revision(sent: i64, current: i64) -> String {
    format!(
        "the change was modified since you loaded it: your revision is {sent}, the current \
         revision is {current}; reload and try again"
    )
}

/// Why a transition decided on revision `sent` was not stored: the change moved on in the
/// meantime (to `now`, or it was deleted when `None`).
pub fn moved_meanwhile(sent: i64, now: Option<i64>) -> String {
    let now = now.map_or_else(|| "deleted".to_owned(), |r| r.to_string());
    format!(
        "the change was modified by someone else (you sent revision {sent}, it is now at \
         {now}); reload and try again"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlanTemplate;

    fn plan() -> RolloutPlan {
        PlanTemplate::Standard.plan()
    }

    #[test]
    fn stale_revisions_are_explained() {
        assert_eq!(
            stale_revision(3, 4),
            "the change was modified since you loaded it: your revision is 3, the current \
             revision is 4; reload and try again"
        );
        assert!(moved_meanwhile(3, Some(5)).contains("you sent revision 3, it is now at 5)"));
        assert!(moved_meanwhile(3, None).contains("it is now at deleted)"));
    }

    #[test]
    fn advancing_walks_every_stage_in_order() {
        let p = plan();
        let mut s = RolloutState::Draft;
        let mut seen = vec![s];
        while !s.is_terminal() {
            s = transition(&p, s, false, TransitionAction::Advance, None).unwrap();
            seen.push(s);
        }
        let names: Vec<String> = seen.iter().map(|s| s.label(&p)).collect();
        assert_eq!(
            names,
            [
                "Draft",
                "Eval gate",
                "Canary 5%",
                "Ramp 10%",
                "Ramp 25%",
                "Ramp 50%",
                "Ramp 100%",
                "Full",
                "Reviewed"
            ]
        );
    }

    #[test]
    fn traffic_follows_the_plan() {
        let p = plan();
        assert_eq!(RolloutState::Draft.traffic_percent(&p), 0.0);
        assert_eq!(RolloutState::Canary.traffic_percent(&p), 5.0);
        assert_eq!(RolloutState::Ramp { step: 1 }.traffic_percent(&p), 25.0);
        assert_eq!(RolloutState::Full.traffic_percent(&p), 100.0);
        assert_eq!(RolloutState::RolledBack.traffic_percent(&p), 0.0);
    }

    #[test]
    fn skipping_needs_a_justification_and_jumps_one_stage() {
        let p = plan();
        assert_eq!(
            transition(&p, RolloutState::Draft, false, TransitionAction::Skip, None),
            Err(TransitionError::JustificationRequired)
        );
        assert_eq!(
            transition(
                &p,
                RolloutState::Draft,
                false,
                TransitionAction::Skip,
                Some("  ")
            ),
            Err(TransitionError::JustificationRequired)
        );
        assert_eq!(
            transition(
                &p,
                RolloutState::Draft,
                false,
                TransitionAction::Skip,
                Some("eval bench ran in CI")
            ),
            Ok(RolloutState::Canary)
        );
        assert_eq!(
            transition(
                &p,
                RolloutState::Canary,
                false,
                TransitionAction::Skip,
                Some("x")
            ),
            Ok(RolloutState::Ramp { step: 1 })
        );
    }

    #[test]
    fn full_and_review_cannot_be_skipped() {
        let p = plan();
        let last = RolloutState::Ramp { step: 3 };
        assert_eq!(
            transition(&p, last, false, TransitionAction::Skip, Some("x")),
            Err(TransitionError::NotSkippable("full"))
        );
        assert_eq!(
            transition(
                &p,
                RolloutState::Full,
                false,
                TransitionAction::Skip,
                Some("x")
            ),
            Err(TransitionError::NotSkippable("reviewed"))
        );
    }

    #[test]
    fn rollback_from_every_live_stage_only() {
        let p = plan();
        for s in stages(&p).into_iter().filter(|s| s.is_live()) {
            assert_eq!(
                transition(&p, s, false, TransitionAction::RollBack, Some("cost +22%")),
                Ok(RolloutState::RolledBack),
                "{s:?}"
            );
            assert_eq!(
                transition(&p, s, false, TransitionAction::RollBack, None),
                Err(TransitionError::ReasonRequired)
            );
        }
        assert_eq!(
            transition(
                &p,
                RolloutState::Draft,
                false,
                TransitionAction::RollBack,
                Some("x")
            ),
            Err(TransitionError::NotStarted)
        );
        for s in [RolloutState::Reviewed, RolloutState::RolledBack] {
            for a in [
                TransitionAction::Advance,
                TransitionAction::Skip,
                TransitionAction::RollBack,
            ] {
                assert!(matches!(
                    transition(&p, s, false, a, Some("x")),
                    Err(TransitionError::Finished { .. })
                ));
            }
        }
    }

    #[test]
    fn a_pause_holds_the_stage_and_refuses_moving_on_until_resumed() {
        use TransitionAction::{Advance, Pause, Resume, RollBack, Skip};
        let p = plan();
        let canary = RolloutState::Canary;
        assert_eq!(
            transition(&p, canary, false, Pause, Some("SRM")),
            Ok(canary)
        );
        assert_eq!(
            transition(&p, canary, false, Pause, Some(" ")),
            Err(TransitionError::PauseReasonRequired)
        );
        assert_eq!(
            transition(&p, canary, true, Pause, Some("again")),
            Err(TransitionError::AlreadyPaused)
        );
        for a in [Advance, Skip] {
            let refused = transition(&p, canary, true, a, Some("x"));
            assert_eq!(refused, Err(TransitionError::Paused));
            assert_eq!(
                refused.unwrap_err().to_string(),
                "the rollout is paused: resume or roll back"
            );
        }
        assert_eq!(
            transition(&p, canary, true, RollBack, Some("bad")),
            Ok(RolloutState::RolledBack)
        );
        assert_eq!(transition(&p, canary, true, Resume, None), Ok(canary));
        assert_eq!(
            transition(&p, canary, false, Resume, None),
            Err(TransitionError::NotPaused)
        );
        assert_eq!(
            transition(&p, RolloutState::Draft, false, Pause, Some("x")),
            Err(TransitionError::NotPausable("draft"))
        );
        assert!(matches!(
            transition(&p, RolloutState::RolledBack, true, Resume, None),
            Err(TransitionError::Finished { .. })
        ));
        assert_eq!(canary.label_held(&p, true), "Canary 5% · paused");
        assert_eq!(canary.label_held(&p, false), "Canary 5%");
    }

    #[test]
    fn a_ramp_step_beyond_the_plan_is_an_error() {
        let p = plan();
        assert_eq!(
            transition(
                &p,
                RolloutState::Ramp { step: 9 },
                false,
                TransitionAction::Advance,
                None
            ),
            Err(TransitionError::UnknownStage("ramp"))
        );
    }

    #[test]
    fn only_drafts_are_editable() {
        assert!(RolloutState::Draft.plan_is_editable());
        for s in stages(&plan()) {
            assert!(!s.plan_is_editable());
        }
    }

    #[test]
    fn stored_names_round_trip() {
        for s in stages(&plan()) {
            assert_eq!(RolloutState::from_parts(s.name(), s.ramp_step()), Some(s));
        }
        assert_eq!(RolloutState::from_parts("ramp", None), None);
        assert_eq!(RolloutState::from_parts("paused", None), None);
    }
}
