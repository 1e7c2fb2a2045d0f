//! What moves a rollout: advance to the next stage, skip ahead, roll back, pause or resume,
//! each confirmed in a dialog that says what will happen. Advance waits, disabled and saying
//! why, while the next stage's gate would refuse it or the rollout is paused.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::access::{EDITORS, transition_roles};
use shared::api::TransitionRequest;
use shared::auth::Role;
use shared::change::AiChange;
use shared::rollout::{RolloutState, TransitionAction, next_stage, transition};

use crate::api::{self, ApiError};
use crate::components::dialog::{ConfirmDialog, Tone};
use crate::components::load::Loaded;
use crate::components::timeline::stage_name;
use crate::{format, session};

/// Which dialog is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    Advance,
    Skip,
    RollBack,
    Pause,
    Resume,
}

/// The buttons that move the rollout, each behind a confirmation. Which ones appear follows
/// the shared state machine, so the console never offers a move the server would refuse.
/// `stop_only` keeps roll back, pause and resume (the comparison page's moves) and leaves out
/// edit, skip and advance.
#[component]
pub(crate) fn Actions(
    change: AiChange,
    reload: Callback<()>,
    #[prop(optional)] stop_only: bool,
) -> impl IntoView {
    let ask = RwSignal::new(None::<Ask>);
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let state = change.state;
    let paused = change.paused.is_some();
    let plan = change.plan.clone();
    let allowed = |action| transition(&plan, state, paused, action, Some("check")).is_ok();
    // Nothing moves on while the rollout is paused: Advance stays in sight, disabled.
    let next = next_stage(&plan, state)
        .filter(|_| !state.is_terminal() && (paused || allowed(TransitionAction::Advance)));
    // Skip is offered only where the state machine allows it (never over full or the review).
    let skip_target = next.filter(|_| allowed(TransitionAction::Skip));
    // Who may make which move is the server's rule (`shared::access::transition_roles`);
    // buttons the user could only get a 403 from are not shown.
    let may = |roles: &[Role]| session::has_any(roles);
    let next = next.filter(|_| may(transition_roles(TransitionAction::Advance)));
    let skip_target = skip_target.filter(|_| may(transition_roles(TransitionAction::Skip)));
    let can_roll_back = state.is_live() && may(transition_roles(TransitionAction::RollBack));
    let can_pause =
        allowed(TransitionAction::Pause) && may(transition_roles(TransitionAction::Pause));
    let can_resume =
        allowed(TransitionAction::Resume) && may(transition_roles(TransitionAction::Resume));
    let hold = if can_pause {
        Some((Ask::Pause, "pause", "Pause"))
    } else if can_resume {
        Some((Ask::Resume, "resume", "Resume"))
    } else {
        None
    };
    let editable = state.plan_is_editable() && may(EDITORS);
    let (next, skip_target, editable) = if stop_only {
        (None, None, false)
    } else {
        (next, skip_target, editable)
    };
    let id = StoredValue::new(change.id.clone());
    let revision = change.revision;
    // The next stage's gate says whether an advance would pass (sign-off, notices and their
    // lead time, evidence) and, when not, what is missing. Signing on this page bumps the
    // inbox version, which reads it again.
    let gate = next.map(|_| {
        Loaded::new(
            move || {
                session::inbox_version().track();
                id.get_value()
            },
            // Asked by stage: from a draft, the gate the server calls upcoming is the canary's.
            move |id| async move { api::gate(&id, next).await },
        )
    });
    let blocked = move || -> Option<String> {
        if paused {
            return Some("Paused: resume the rollout before advancing.".into());
        }
        match gate?.get()? {
            // The message ends so only when nothing is missing (`app::gates::status`).
            Ok(g) if !(g.satisfied && g.message.ends_with(" is approved")) => {
                Some(format!("{}.", format::capitalise(&g.message)))
            }
            _ => None,
        }
    };
    let plan_s = StoredValue::new(plan.clone());

    let open = move |a: Ask| {
        error.set(None);
        pending.set(false);
        ask.set(Some(a));
    };
    let run = Callback::new(move |(action, reason): (TransitionAction, String)| {
        let reason = reason.trim().to_string();
        let reason = (!reason.is_empty()).then_some(reason);
        // The same rule the server applies, for an instant answer; the server still decides.
        let verdict =
            plan_s.with_value(|p| transition(p, state, paused, action, reason.as_deref()));
        if let Err(e) = verdict {
            error.set(Some(ApiError::Api {
                status: 422,
                code: "validation".into(),
                message: e.to_string(),
                field: e.field().map(str::to_string),
            }));
            return;
        }
        let req = TransitionRequest {
            action,
            reason,
            revision: Some(revision),
        };
        pending.set(true);
        error.set(None);
        let id = id.get_value();
        spawn_local(async move {
            match api::transition(&id, &req).await {
                Ok(_) => {
                    ask.set(None);
                    reload.run(());
                }
                Err(e) => error.set(Some(e)),
            }
            pending.set(false);
        });
    });

    let next_name = next.map(|n| stage_name(&plan, n));
    let skip_name = skip_target.map(|n| stage_name(&plan, n));
    let after_skip = skip_target
        .and_then(|s| next_stage(&plan, s))
        .map(|n| stage_name(&plan, n));
    let current_name = state.label(&plan);

    // One dialog, worded per move: each `view!` of it would be code of its own in the Wasm.
    let dialog = {
        let next_name = next_name.clone();
        let skip_name = skip_name.clone();
        move || {
            let a = ask.get()?;
            let cancel = Callback::new(move |_| ask.set(None));
            let (action, title, body, confirm, tone, label, placeholder) = match a {
                Ask::Advance => {
                    let to = next_name.clone().unwrap_or_default();
                    (
                        TransitionAction::Advance,
                        format!("Advance to {to}?"),
                        advance_body(state, &to),
                        format!("Advance to {to}"),
                        Tone::Primary,
                        "Note (optional)",
                        "e.g. eval bench passed at 94%, no new safety failures",
                    )
                }
                Ask::Skip => {
                    let skipped = skip_name.clone().unwrap_or_default();
                    let to = after_skip.clone().unwrap_or_default();
                    (
                        TransitionAction::Skip,
                        format!("Skip {skipped}?"),
                        format!(
                            "The rollout jumps over {skipped} straight to {to}. Skipping a stage needs a written justification; it is recorded in the history for everyone to read."
                        ),
                        format!("Skip {skipped}"),
                        Tone::Primary,
                        "Justification (required)",
                        "Why is it safe to skip this stage?",
                    )
                }
                Ask::Pause => (
                    TransitionAction::Pause,
                    "Pause this rollout?".to_owned(),
                    format!(
                        "The rollout stays at {current_name} with its traffic as it is; advancing waits until someone resumes. Rolling back stays possible."
                    ),
                    "Pause".to_owned(),
                    Tone::Primary,
                    "Reason (required)",
                    "e.g. support tickets about tone are up; reading them first",
                ),
                Ask::Resume => (
                    TransitionAction::Resume,
                    "Resume this rollout?".to_owned(),
                    format!(
                        "The rollout can move on from {current_name} again; the guardian keeps watching it."
                    ),
                    "Resume".to_owned(),
                    Tone::Primary,
                    "Note (optional)",
                    "e.g. assignment fixed; the split is back to 5%",
                ),
                Ask::RollBack => (
                    TransitionAction::RollBack,
                    "Roll back this change?".to_owned(),
                    format!(
                        "All traffic returns to the baseline configuration immediately. The rollout ends at {current_name}; this cannot be undone."
                    ),
                    "Roll back now".to_owned(),
                    Tone::Danger,
                    "Reason (required)",
                    "e.g. cost_per_request +22% on canary; hard errors up in es",
                ),
            };
            Some(view! {
                <ConfirmDialog
                    title=title
                    body=body
                    confirm_label=confirm
                    tone=tone
                    reason_label=label
                    reason_placeholder=placeholder
                    on_confirm=Callback::new(move |r| run.run((action, r)))
                    on_cancel=cancel
                    pending=pending
                    error=error
                />
            })
        }
    };

    view! {
        <div class="actions">
            {editable.then(|| view! {
                <a class="btn" href=format!("/changes/{}/edit", change.id) data-test="edit">
                    <svg viewBox="0 0 16 16" aria-hidden="true"><path d="M10.5 3.5l2 2L6 12H4v-2z" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round"></path></svg>
                    "Edit"
                </a>
            })}
            {skip_name.clone().map(|s| view! {
                <button type="button" class="btn" data-test="skip" on:click=move |_| open(Ask::Skip)>
                    {format!("Skip {s}")}
                </button>
            })}
            // Pause or Resume, never both: one button.
            {hold.map(|(a, hook, label)| view! {
                <button type="button" class="btn" data-test=hook on:click=move |_| open(a)>
                    {label}
                </button>
            })}
            {can_roll_back.then(|| view! {
                <button type="button" class="btn btn-danger" data-test="rollback" on:click=move |_| open(Ask::RollBack)>
                    <svg viewBox="0 0 16 16" aria-hidden="true"><path d="M5.5 4L3 6.5 5.5 9M3.5 6.5h6a3.5 3.5 0 010 7H7" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"></path></svg>
                    "Roll back"
                </button>
            })}
            {next_name.clone().map(|n| view! {
                <button type="button" class="btn btn-primary" data-test="advance"
                    aria-describedby=move || blocked().map(|_| "advance-reason")
                    disabled=move || blocked().is_some() on:click=move |_| open(Ask::Advance)>
                    {format!("Advance to {n}")}
                    <svg viewBox="0 0 16 16" aria-hidden="true"><path d="M3 8h9M8.5 4.5L12 8l-3.5 3.5" fill="none" stroke="currentColor" stroke-width="1.7" stroke-linecap="round" stroke-linejoin="round"></path></svg>
                </button>
                {move || blocked().map(|r| view! { <p class="action-reason" id="advance-reason" data-test="advance-reason">{r}</p> })}
            })}
        </div>
        {dialog}
    }
}

fn advance_body(state: RolloutState, to: &str) -> String {
    match state {
        RolloutState::Draft => format!(
            "The rollout starts at the {to}. The plan and its rollback criteria freeze from now on."
        ),
        RolloutState::Full => {
            "Record that the post-deployment review is done (written on the Review tab). This finishes the rollout.".into()
        }
        _ => format!(
            "The candidate moves to {to}. Check the evidence for the current stage before you go on."
        ),
    }
}
