//! "Look up a user", on the change feed: support types the id a complaint came with (the
//! targeting key the application sends when it asks for a flag) and a moment, and sees, for
//! every change that was live then, which variant that user got and why, with the change's
//! notices to read out. Audiences and segments match on the user's attributes, which support
//! may add as the application sends them (`{"internal": true}`). The server recomputes the answer from the stored rollout history
//! (`GET /api/v1/assignments`); nothing per user is stored.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::{UserAssignment, UserAssignments};
use shared::assignment::Reason;
use shared::metrics::Variant;
use shared::review::{ComplaintCategory, ComplaintInput, validate_complaint};
use shared::rollout::RolloutState;
use shared::validate::FieldError;

use crate::api::{self, ApiError};
use crate::components::error_banner::ErrorBanner;
use crate::components::field::{FieldMsg, show_refusal};
use crate::components::form_read::{event_form, value_in};
use crate::components::tags::StateBadge;
use crate::format;

/// Quick choices for the moment besides now: (label, hours before now).
const MOMENTS: [(&str, f64); 2] = [("An hour ago", 1.0), ("A day ago", 24.0)];

/// The `datetime-local` value `hours` before now, in the viewer's time zone.
fn moment_value(hours: f64) -> String {
    format::utc_to_local(&format::iso(js_sys::Date::now() - hours * 3_600_000.0))
}

/// Why a user got their variant, as support would say it to the user's team.
pub fn reason_text(a: &UserAssignment) -> String {
    let stage = match a.state {
        RolloutState::Canary => "canary ",
        RolloutState::Ramp { .. } => "ramp ",
        _ => "",
    };
    let split = format!("{} % {stage}split", format::number(a.candidate_percent));
    let bucket = format::count(u64::from(a.bucket));
    match (a.reason, a.variant) {
        (Reason::Split, Variant::Candidate) => format!("In the {split} (bucket {bucket})"),
        (Reason::Split, Variant::Control) => format!("Outside the {split} (bucket {bucket})"),
        (Reason::TargetingMatch, _) => {
            "Not in this stage's audiences, so the current behaviour".into()
        }
        (Reason::Disabled, _) if a.paused => {
            "Rollout paused with no traffic on the candidate".into()
        }
        (Reason::Disabled, _) => match a.state {
            RolloutState::RolledBack => "Rollout off: the change was rolled back".into(),
            _ => "Rollout off: no user gets the candidate at this stage".into(),
        },
        (Reason::Static, Variant::Candidate) => "Fully rolled out: every user gets it".into(),
        (Reason::Static, Variant::Control) => "Every user gets the current behaviour".into(),
        (Reason::Default, _) => "No user id to place them, so the current behaviour".into(),
        (Reason::Error, _) => {
            "The plan has no step for this state, so the current behaviour was served".into()
        }
    }
}

/// The lookup form and its answer.
#[component]
pub fn UserLookup() -> impl IntoView {
    // The moment is a signal so that the quick choices can set it; the form's controls are read
    // back when it is submitted, as the other forms of the console are.
    let at = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let answer = RwSignal::new(None::<UserAssignments>);
    let problem = RwSignal::new(None::<ApiError>);
    let field_error = RwSignal::new(None::<FieldError>);
    // Only the newest lookup may show its answer.
    let latest = StoredValue::new(0_u32);

    let look_up = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(form) = event_form(&ev) else {
            return;
        };
        problem.set(None);
        field_error.set(None);
        let targeting_key = value_in(&form, "[name=targeting_key]").trim().to_string();
        if targeting_key.is_empty() {
            field_error.set(Some(FieldError::new(
                "targeting_key",
                "Enter the user's id: the targeting key the application sends for them.",
            )));
            return;
        }
        let local = value_in(&form, "[name=at]");
        let utc = format::local_to_utc(&local);
        if !local.trim().is_empty() && utc.is_empty() {
            field_error.set(Some(FieldError::new(
                "at",
                "Enter a date and time, or leave it empty for now.",
            )));
            return;
        }
        let context = value_in(&form, "[name=context]");
        let ticket = latest.get_value().wrapping_add(1);
        latest.set_value(ticket);
        busy.set(true);
        spawn_local(async move {
            let r = api::assignments(&targeting_key, &utc, &context).await;
            if latest.try_get_value() != Some(ticket) {
                return;
            }
            busy.try_set(false);
            match r {
                Ok(a) => {
                    answer.try_set(Some(a));
                }
                Err(e) => {
                    answer.try_set(None);
                    match e.field() {
                        Some(f) => {
                            field_error.try_set(Some(FieldError::new(f, e.message())));
                        }
                        None => {
                            problem.try_set(Some(e));
                        }
                    }
                }
            }
        });
    };

    let moments = MOMENTS
        .iter()
        .map(|&(label, hours)| {
            view! {
                <button type="button" class="btn btn-small" data-test="lookup-moment" data-hours=hours.to_string()
                    on:click=move |_| at.set(moment_value(hours))>{label}</button>
            }
        })
        .collect_view();

    view! {
        <section class="card lookup" data-test="user-lookup" aria-labelledby="lookup-title">
            <h2 class="lookup-title" id="lookup-title">"Look up a user"</h2>
            <p class="subtle lookup-lede">"Which variant of each live change a user got, and why. Use the id the complaint came with."</p>
            <form class="lookup-form" on:submit=look_up novalidate=true>
                <label class="field lookup-key">
                    <span class="field-label">"User id (targeting key)"</span>
                    <input type="text" name="targeting_key" data-test="lookup-key" autocomplete="off"
                        placeholder="e.g. user-1042" />
                    <FieldMsg field="targeting_key" error=field_error />
                </label>
                <div class="field lookup-at">
                    <label class="field-label" for="lookup-at">"At"</label>
                    <input type="datetime-local" id="lookup-at" name="at" data-test="lookup-at"
                        prop:value=move || at.get() on:input=move |ev| at.set(event_target_value(&ev)) />
                    <div class="lookup-moments">
                        <button type="button" class="btn btn-small" data-test="lookup-now"
                            on:click=move |_| at.set(String::new())>"Now"</button>
                        {moments}
                    </div>
                    <FieldMsg field="at" error=field_error />
                </div>
                <label class="field lookup-context">
                    <span class="field-label">"Attributes "<span class="subtle">"(optional)"</span></span>
                    <input type="text" name="context" data-test="lookup-context" autocomplete="off" spellcheck="false"
                        placeholder=r#"{"internal": true, "plan": "free"}"# />
                    <FieldMsg field="context" error=field_error />
                </label>
                <div class="lookup-actions">
                    <button type="submit" class="btn btn-primary" data-test="lookup-submit" disabled=move || busy.get()>
                        {move || if busy.get() { "Looking up…" } else { "Look up" }}
                    </button>
                </div>
            </form>
            {move || problem.get().map(|e| view! { <ErrorBanner error=e hook="lookup-error" /> })}
            {move || answer.get().map(|a| lookup_answer(&a))}
        </section>
    }
}

/// The answer: one row per change live at the moment, or the empty state.
fn lookup_answer(a: &UserAssignments) -> impl IntoView + use<> {
    let moment = format::date_time(&a.at);
    let heading = format!("What {} got on {moment}", a.targeting_key);
    let body = if a.assignments.is_empty() {
        view! {
            <p class="lookup-empty" data-test="lookup-empty">"No change was live at that moment."</p>
        }
        .into_any()
    } else {
        view! {
            <ul class="lookup-list">{a.assignments.iter().map(|row| assignment_row(row, &a.targeting_key, &a.at)).collect_view()}</ul>
        }
        .into_any()
    };
    view! {
        <div class="lookup-answer" data-test="lookup-answer" data-key=a.targeting_key.clone()>
            <h3 class="lookup-answer-title">{heading}</h3>
            {body}
        </div>
    }
}

/// One change: what it is, where it stood, the variant as a tag, why, its notices, and a form
/// to record the user's complaint against it at the moment looked up.
fn assignment_row(a: &UserAssignment, user_key: &str, at: &str) -> impl IntoView + use<> {
    let (variant, label) = match a.variant {
        Variant::Candidate => ("candidate", "Candidate"),
        Variant::Control => ("control", "Control"),
    };
    let paused = a
        .paused
        .then(|| view! { <span class="tag" data-test="lookup-paused">"Paused"</span> });
    let notices = if a.notices.is_empty() {
        view! { <span class="subtle">"No notice was sent for this change."</span> }.into_any()
    } else {
        let change = a.change_id.clone();
        a.notices
            .iter()
            .map(|n| {
                view! {
                    <a class="lookup-notice" data-test="lookup-notice"
                        href=format!("/changes/{change}#notices") title=format::date_time(&n.sent_at)>
                        {n.subject.clone()}
                    </a>
                }
            })
            .collect_view()
            .into_any()
    };
    view! {
        <li class="lookup-item" data-test="lookup-item" data-change-id=a.change_id.clone()
            data-variant=variant>
            <div class="lookup-head">
                <a class="feed-title" href=format!("/changes/{}", a.change_id)>{a.title.clone()}</a>
                <span class=format!("variant-tag variant-{variant}") data-test="lookup-variant">{label}</span>
            </div>
            <div class="feed-meta">
                <code class="lookup-flag" data-test="lookup-flag">{a.flag_key.clone()}</code>
                <StateBadge state=a.state label=a.state_label.clone() />
                {paused}
                <span class="subtle" title=format::date_time(&a.state_since)>
                    {format!("since {}", format::date_time(&a.state_since))}
                </span>
            </div>
            <p class="lookup-reason" data-test="lookup-reason">{reason_text(a)}</p>
            <div class="lookup-notices"><span class="subtle">"Notices "</span>{notices}</div>
            <ComplaintForm change_id=a.change_id.clone() user_key=user_key.to_owned() at=at.to_owned() />
        </li>
    }
}

/// "Record a complaint": what the user said and its category, recorded against the change at
/// the moment looked up; the server adds the variant the user had then. The complaints draft
/// the review's "What users noticed".
#[component]
fn ComplaintForm(change_id: String, user_key: String, at: String) -> impl IntoView {
    let busy = RwSignal::new(false);
    let recorded = RwSignal::new(false);
    let problem = RwSignal::new(None::<ApiError>);
    let field_error = RwSignal::new(None::<FieldError>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(form) = event_form(&ev) else {
            return;
        };
        recorded.set(false);
        problem.set(None);
        field_error.set(None);
        let input = ComplaintInput {
            user_key: user_key.clone(),
            at: at.clone(),
            text: value_in(&form, "[name=text]").trim().to_owned(),
            category: ComplaintCategory::parse(&value_in(&form, "[name=category]"))
                .unwrap_or(ComplaintCategory::Other),
        };
        if let Err(e) = validate_complaint(&input) {
            field_error.set(Some(e));
            return;
        }
        let id = change_id.clone();
        busy.set(true);
        spawn_local(async move {
            let r = api::record_complaint(&id, &input).await;
            busy.try_set(false);
            match r {
                Ok(()) => {
                    recorded.try_set(true);
                    if let Some(text) = form.query_selector("[name=text]").ok().flatten() {
                        use wasm_bindgen::JsCast;
                        if let Ok(text) = text.dyn_into::<web_sys::HtmlTextAreaElement>() {
                            text.set_value("");
                        }
                    }
                }
                Err(e) => show_refusal(e, field_error, problem),
            }
        });
    };
    view! {
        <details class="complaint" data-test="complaint">
            <summary>"Record a complaint"</summary>
            <form class="complaint-form" on:submit=submit novalidate=true>
                <label class="field complaint-text">
                    <span class="field-label">"What the user said"</span>
                    <textarea name="text" rows="2" data-test="complaint-text"
                        placeholder="e.g. The answer left out the refund deadline."></textarea>
                    <FieldMsg field="text" error=field_error />
                </label>
                <label class="field">
                    <span class="field-label">"About"</span>
                    <select name="category" data-test="complaint-category">
                        {ComplaintCategory::ALL.iter().map(|c| view! {
                            <option value=c.as_str()>{format::capitalise(&c.as_str().replace('_', " "))}</option>
                        }).collect_view()}
                    </select>
                </label>
                <button type="submit" class="btn btn-small btn-primary" data-test="complaint-submit"
                    disabled=move || busy.get()>"Record"</button>
            </form>
            <Show when=move || recorded.get()>
                <p class="subtle" role="status" data-test="complaint-recorded">
                    "Recorded against this change, with the variant the user had. It drafts the review's “What users noticed”."
                </p>
            </Show>
            {move || problem.get().map(|e| view! { <ErrorBanner error=e /> })}
        </details>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(state: RolloutState, variant: Variant, reason: Reason, bucket: u16) -> UserAssignment {
        UserAssignment {
            change_id: "c1".into(),
            flag_key: "shorter-billing-answers".into(),
            title: "Shorter billing answers".into(),
            state,
            state_label: "Canary 5%".into(),
            state_since: "2026-01-01T00:00:00Z".into(),
            paused: false,
            variant,
            reason,
            bucket,
            candidate_percent: 5.0,
            notices: vec![],
        }
    }

    #[test]
    fn reasons_read_as_support_would_say_them() {
        let canary = RolloutState::Canary;
        assert_eq!(
            reason_text(&row(canary, Variant::Candidate, Reason::Split, 312)),
            "In the 5 % canary split (bucket 312)"
        );
        assert_eq!(
            reason_text(&row(canary, Variant::Control, Reason::Split, 8412)),
            "Outside the 5 % canary split (bucket 8\u{202f}412)"
        );
        assert_eq!(
            reason_text(&row(
                RolloutState::Ramp { step: 1 },
                Variant::Candidate,
                Reason::Split,
                40
            )),
            "In the 5 % ramp split (bucket 40)"
        );
        assert_eq!(
            reason_text(&row(canary, Variant::Control, Reason::TargetingMatch, 12)),
            "Not in this stage's audiences, so the current behaviour"
        );
        assert_eq!(
            reason_text(&row(
                RolloutState::RolledBack,
                Variant::Control,
                Reason::Disabled,
                12
            )),
            "Rollout off: the change was rolled back"
        );
        let paused = UserAssignment {
            paused: true,
            ..row(canary, Variant::Control, Reason::Disabled, 12)
        };
        assert_eq!(
            reason_text(&paused),
            "Rollout paused with no traffic on the candidate"
        );
    }
}
