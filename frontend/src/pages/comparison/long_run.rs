//! What runs long on a change (`shared::ab`): its A/B test (the split, how long it runs, the
//! decision that ends it, or the form to record one) and its holdout at Full (who stays on
//! the old version, until when). Each links to the comparison over its own data, the window
//! `longrun`.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::ab::{self, AbDecision, AbDecisionInput, AbOutcome, Holdout};
use shared::api::TransitionRecord;
use shared::change::AiChange;
use shared::rollout::RolloutState;
use shared::validate::FieldError;

use crate::api::{self, ApiError};
use crate::components::error_banner::ErrorBanner;
use crate::components::field::{FieldMsg, show_refusal};
use crate::components::form_read::{event_form, value_in};
use crate::{format, session};

/// What the page has to say about a long-running part of the change, and when its own data
/// starts (the window `longrun`'s start).
pub(super) struct LongRun {
    pub(super) label: &'static str,
    pub(super) start: String,
}

/// When the change last entered `state`, from its history.
pub(super) fn entered(history: &[TransitionRecord], state: RolloutState) -> Option<String> {
    history
        .iter()
        .rev()
        .find(|r| r.to == state)
        .map(|r| r.at.clone())
}

/// The change's A/B test or, at Full and after, its holdout, once the rollout reached it.
pub(super) fn long_run(
    change: &AiChange,
    holdout: Option<Holdout>,
    history: &[TransitionRecord],
) -> Option<LongRun> {
    if let Some((step, _)) = ab::ab_step(&change.plan)
        && let Some(start) = entered(history, RolloutState::Ramp { step })
    {
        return Some(LongRun {
            label: "A/B test",
            start,
        });
    }
    if holdout.is_some()
        && let Some(start) = entered(history, RolloutState::Full)
    {
        return Some(LongRun {
            label: "Holdout",
            start,
        });
    }
    None
}

/// `start` plus `hours`, as RFC 3339.
fn after(start: &str, hours: f64) -> String {
    format::iso(format::parse_ms(start).unwrap_or(0.0) + hours * 3_600_000.0)
}

#[component]
pub(super) fn LongRunPanel(
    change: AiChange,
    start: String,
    decision: Option<AbDecision>,
    holdout: Option<Holdout>,
    reload: Callback<()>,
) -> impl IntoView {
    let href = format!("/changes/{}/compare?window=longrun", change.id);
    let link = view! {
        <a class="btn btn-small" href=href data-test="long-run-window">"Compare over its own data"</a>
    };
    if let Some((step, s)) = ab::ab_step(&change.plan) {
        let ends = after(&start, s.min_duration_hours);
        let running = change.state == RolloutState::Ramp { step };
        let due = format::parse_ms(&ends).is_some_and(|t| t <= js_sys::Date::now());
        let body = match decision {
            Some(d) => view! {
                <p data-test="decision">
                    <strong>{format!("Decided: {}", d.outcome.label())}</strong>
                    {format!(" · by {}, {} — {}", d.decided_by, format::date_time(&d.decided_at), d.note)}
                </p>
            }
            .into_any(),
            None if running && !due => view! {
                <p class="subtle">{format!("The decision opens {}: deciding earlier is peeking at a result that is not in yet.", format::date_time(&ends))}</p>
            }
            .into_any(),
            None if running && session::has_any(shared::access::EDITORS) => {
                view! { <DecisionForm id=change.id.clone() reload=reload /> }.into_any()
            }
            None if running => view! {
                <p class="subtle">"Waiting for an engineer, PM or admin to decide: keep, revert or iterate."</p>
            }
            .into_any(),
            None => ().into_any(),
        };
        return view! {
            <section class="card long-run" data-test="long-run" aria-label="A/B test">
                <div class="long-run-head">
                    <div>
                        <h2 class="long-run-title">{format!("A/B test at {}", format::percent(s.percent))}</h2>
                        <p class="subtle">{format!("Fixed split for {} days: from {} until {}.", format::number(s.min_duration_hours / 24.0), format::date_time(&start), format::date_time(&ends))}</p>
                    </div>
                    {link}
                </div>
                {body}
            </section>
        }
        .into_any();
    }
    let Some(holdout) = holdout else {
        return ().into_any();
    };
    let days = holdout.days;
    let until = (days > 0).then(|| {
        let end = after(&start, f64::from(days) * 24.0);
        let over = format::parse_ms(&end).is_some_and(|t| t <= js_sys::Date::now());
        (format::date_time(&end), over)
    });
    let since = format::date_time(&start);
    let status = if change.state == RolloutState::Reviewed {
        "Released once the change was reviewed: everyone has the new version.".to_owned()
    } else {
        match until {
            Some((until, true)) => format!(
                "On the old version since Full ({since}): its {days} days ran until {until}, so the review may close it."
            ),
            Some((until, false)) => format!(
                "On the old version since Full ({since}), for {days} days: until {until}; the review waits for them."
            ),
            None => {
                format!("On the old version since Full ({since}), until the change is reviewed.")
            }
        }
    };
    view! {
        <section class="card long-run" data-test="long-run" aria-label="Holdout">
            <div class="long-run-head">
                <div>
                    <h2 class="long-run-title">{format!("Holdout of {}", format::percent(holdout.percent))}</h2>
                    <p class="subtle">{status}</p>
                </div>
                {link}
            </div>
        </section>
    }
    .into_any()
}

#[component]
fn DecisionForm(id: String, reload: Callback<()>) -> impl IntoView {
    let busy = RwSignal::new(false);
    let problem = RwSignal::new(None::<ApiError>);
    let field_error = RwSignal::new(None::<FieldError>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(form) = event_form(&ev) else {
            return;
        };
        problem.set(None);
        field_error.set(None);
        let input = AbDecisionInput {
            outcome: AbOutcome::parse(&value_in(&form, "[name=outcome]"))
                .unwrap_or(AbOutcome::Keep),
            note: value_in(&form, "[name=note]").trim().to_owned(),
        };
        if let Err(e) = ab::validate_decision(&input) {
            field_error.set(Some(e));
            return;
        }
        let id = id.clone();
        busy.set(true);
        spawn_local(async move {
            let r = api::record_decision(&id, &input).await;
            busy.try_set(false);
            match r {
                Ok(()) => reload.run(()),
                Err(e) => show_refusal(e, field_error, problem),
            }
        });
    };
    view! {
        <form class="decision-form" on:submit=submit novalidate=true data-test="decision-form">
            <label class="field">
                <span class="field-label">"Decision"</span>
                <select name="outcome" data-test="decision-outcome">
                    <option value="keep">"Keep: go on to the next stage"</option>
                    <option value="revert">"Revert: roll back"</option>
                    <option value="iterate">"Iterate: roll back, try a next version"</option>
                </select>
            </label>
            <label class="field decision-note">
                <span class="field-label">"Why"</span>
                <textarea name="note" rows="2" data-test="decision-note"
                    placeholder="What the report shows and what it means for the product"></textarea>
                <FieldMsg field="note" error=field_error />
            </label>
            <button type="submit" class="btn btn-primary" data-test="decision-submit"
                disabled=move || busy.get()>"Record decision"</button>
        </form>
        {move || problem.get().map(|e| view! { <ErrorBanner error=e /> })}
    }
}
