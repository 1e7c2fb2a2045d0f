//! The stage timeline: the plan's stages left to right, each marked done, current, paused,
//! upcoming, skipped or rolled back, worked out from the rollout state machine and the history.

use leptos::prelude::*;
use shared::api::TransitionRecord;
use shared::plan::RolloutPlan;
use shared::rollout::{RolloutState, TransitionAction, next_stage, stages};

use crate::format;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageStatus {
    Done,
    Current,
    /// Current, and held there (paused) until someone resumes or rolls back.
    Paused,
    Upcoming,
    Skipped,
    RolledBack,
}

impl StageStatus {
    /// The `data-status` value browser tests read.
    pub fn as_str(self) -> &'static str {
        match self {
            StageStatus::Done => "done",
            StageStatus::Current => "current",
            StageStatus::Paused => "paused",
            StageStatus::Upcoming => "upcoming",
            StageStatus::Skipped => "skipped",
            StageStatus::RolledBack => "rolled-back",
        }
    }

    fn word(self) -> &'static str {
        match self {
            StageStatus::Done => "Done",
            StageStatus::Current => "Current",
            StageStatus::Paused => "Paused here",
            StageStatus::Upcoming => "Upcoming",
            StageStatus::Skipped => "Skipped",
            StageStatus::RolledBack => "Rolled back here",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StageView {
    pub state: RolloutState,
    pub status: StageStatus,
    pub title: String,
    /// Traffic on the candidate in this stage, e.g. "5%", or "Offline".
    pub traffic: String,
    /// The stage's bar to clear, e.g. "≥ 24 h".
    pub detail: Option<String>,
}

/// A stage's name in the stepper ("Review" rather than the state's "Reviewed").
pub fn stage_title(plan: &RolloutPlan, s: RolloutState) -> String {
    match s {
        RolloutState::Canary => "Canary".into(),
        RolloutState::Ramp { step } if plan.ramp.get(step as usize).is_some_and(|s| s.ab_test) => {
            "A/B test".into()
        }
        RolloutState::Ramp { .. } => "Ramp".into(),
        RolloutState::Reviewed => "Review".into(),
        other => other.label(plan),
    }
}

/// A stage's name in buttons and sentences: "Canary 5%", "Ramp 25%", "Review".
pub fn stage_name(plan: &RolloutPlan, s: RolloutState) -> String {
    match s {
        RolloutState::Reviewed => "Review".into(),
        other => other.label(plan),
    }
}

/// Where each stage of `plan` stands, given the rollout's `state` and its `history`.
///
/// The position comes from the state (for a rollback, from the stage the last rollback left);
/// which stages were jumped over comes from the skip records, since a skip moves two stages.
/// The current stage is paused when the last record is a pause (a resume or any move after it
/// lifts the hold).
pub fn stage_views(
    plan: &RolloutPlan,
    state: RolloutState,
    history: &[TransitionRecord],
) -> Vec<StageView> {
    let all = stages(plan);
    let skipped: Vec<RolloutState> = history
        .iter()
        .filter(|r| r.action == TransitionAction::Skip)
        .filter_map(|r| next_stage(plan, r.from))
        .collect();
    let (stop, stop_status) = match state {
        RolloutState::Draft => (None, StageStatus::Upcoming),
        RolloutState::RolledBack => (
            history
                .iter()
                .rev()
                .find(|r| {
                    r.action == TransitionAction::RollBack || r.to == RolloutState::RolledBack
                })
                .and_then(|r| all.iter().position(|s| *s == r.from)),
            StageStatus::RolledBack,
        ),
        // The review is the last stage; once recorded, the whole rollout is done.
        RolloutState::Reviewed => (all.iter().position(|s| *s == state), StageStatus::Done),
        s => {
            let paused = history
                .last()
                .is_some_and(|r| r.action == TransitionAction::Pause);
            let status = if paused {
                StageStatus::Paused
            } else {
                StageStatus::Current
            };
            (all.iter().position(|x| *x == s), status)
        }
    };

    all.iter()
        .enumerate()
        .map(|(i, &s)| {
            let status = match stop {
                Some(at) if i == at => stop_status,
                Some(at) if i < at => {
                    if skipped.contains(&s) {
                        StageStatus::Skipped
                    } else {
                        StageStatus::Done
                    }
                }
                _ => StageStatus::Upcoming,
            };
            StageView {
                state: s,
                status,
                title: stage_title(plan, s),
                traffic: traffic(plan, s),
                detail: detail(plan, s),
            }
        })
        .collect()
}

fn traffic(plan: &RolloutPlan, s: RolloutState) -> String {
    match s {
        RolloutState::Eval => "Offline".into(),
        RolloutState::Reviewed => "Look back".into(),
        other => format::percent(other.traffic_percent(plan)),
    }
}

fn detail(plan: &RolloutPlan, s: RolloutState) -> Option<String> {
    match s {
        RolloutState::Eval => Some(format!(
            "pass ≥ {}",
            format::percent(plan.eval_gate.min_pass_rate * 100.0)
        )),
        RolloutState::Canary => Some(format!(
            "≥ {}",
            format::hours(plan.canary.min_duration_hours)
        )),
        RolloutState::Ramp { step } => plan.ramp.get(step as usize).map(|r| {
            if r.min_samples > 0 {
                format!(
                    "≥ {} · {} req",
                    format::hours(r.min_duration_hours),
                    format::count(r.min_samples)
                )
            } else {
                format!("≥ {}", format::hours(r.min_duration_hours))
            }
        }),
        RolloutState::Full => Some("everyone".into()),
        _ => None,
    }
}

#[component]
pub fn Timeline(
    plan: RolloutPlan,
    state: RolloutState,
    history: Vec<TransitionRecord>,
) -> impl IntoView {
    let views = stage_views(&plan, state, &history);
    view! {
        <ol class="timeline" data-test="timeline" aria-label="Rollout stages">
            {views
                .into_iter()
                .map(|v| {
                    let status = v.status.as_str();
                    let tooltip = format!("{} {} — {}", v.title, v.traffic, v.status.word());
                    view! {
                        <li
                            class=format!("stage stage-{status}")
                            data-test="stage"
                            data-status=status
                            data-stage=v.state.name()
                            aria-current=matches!(v.status, StageStatus::Current | StageStatus::Paused).then_some("step")
                            title=tooltip
                        >
                            <span class="stage-rail" aria-hidden="true">
                                <span class="stage-marker">{marker(v.status)}</span>
                            </span>
                            <span class="stage-title">{v.title}</span>
                            <span class="stage-traffic">{v.traffic}</span>
                            {v.detail.map(|d| view! { <span class="stage-detail">{d}</span> })}
                            <span class="stage-status">{v.status.word()}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ol>
    }
}

fn marker(status: StageStatus) -> AnyView {
    match status {
        StageStatus::Done => view! {
            <svg viewBox="0 0 16 16"><path d="M4 8.5l2.5 2.5L12 5.5" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"></path></svg>
        }
        .into_any(),
        // A held stage is told apart by its colours (`.stage-paused`) and its word.
        StageStatus::Current | StageStatus::Paused => {
            view! { <span class="marker-pulse"></span> }.into_any()
        }
        StageStatus::Skipped => view! {
            <svg viewBox="0 0 16 16"><path d="M4 4.5l4 3.5-4 3.5M8.5 4.5l4 3.5-4 3.5" fill="none" stroke="currentColor" stroke-width="1.7" stroke-linecap="round" stroke-linejoin="round"></path></svg>
        }
        .into_any(),
        StageStatus::RolledBack => view! {
            <svg viewBox="0 0 16 16"><path d="M5 5l6 6M11 5l-6 6" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round"></path></svg>
        }
        .into_any(),
        StageStatus::Upcoming => view! { <span class="marker-empty"></span> }.into_any(),
    }
}
