//! Editing a rollout plan. The form keeps every number as the text the user typed, so a
//! half-typed value is never rewritten under their cursor; [`PlanForm::read`] turns it into a
//! [`RolloutPlan`] and names the field at fault, using the same paths as `shared::validate`.
//!
//! [`form`] holds the plan as signals and reads it back; this module draws it.

mod form;

use leptos::prelude::*;
use shared::plan::{
    Audience, AudienceKind, BadDirection, ChecklistItem, PlanTemplate, RampStep, RollbackCriterion,
    RolloutPlan, ThresholdKind,
};
use shared::validate::FieldError;

use super::field::FieldMsg;
use crate::format;
pub use form::PlanForm;
use form::{AUDIENCE_KINDS, audience_value, direction_value, remove_key, threshold_kind_value};

#[component]
fn RemoveButton(#[prop(into)] label: String, on_click: Callback<()>) -> impl IntoView {
    view! {
        <button type="button" class="icon-btn" title=label.clone() aria-label=label on:click=move |_| on_click.run(())>
            <svg viewBox="0 0 16 16" aria-hidden="true"><path d="M4.5 4.5l7 7M11.5 4.5l-7 7" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"></path></svg>
        </button>
    }
}

/// The plan editor: eval gate, canary, ramp steps, audiences, rollback criteria, checklist.
#[component]
pub fn PlanEditor(form: PlanForm, error: RwSignal<Vec<FieldError>>) -> impl IntoView {
    let pass_rate_hint = move || {
        form.min_pass_rate
            .with(|t| format::parse_f64(t.trim()))
            .filter(|x| x.is_finite())
            .map(|x| format!("= {}% of the bench", crate::format::number(x * 100.0)))
            .unwrap_or_else(|| "a rate from 0 to 1, e.g. 0.9".into())
    };

    let ramp_rows = move || {
        let rows = form.ramp.get();
        let n = rows.len();
        rows.into_iter()
            .enumerate()
            .map(|(i, r)| {
                let key = r.key;
                view! {
                    <div class="row-grid ramp-grid" data-test="ramp-row">
                        <span class="row-index">{i + 1}</span>
                        <label class="field compact">
                            <span class="sr-only">"Traffic %"</span>
                            <span class="input-suffix">
                                <input type="number" step="any" min="0" max="100" name=format!("plan.ramp[{i}].percent") bind:value=r.percent />
                                <span>"%"</span>
                            </span>
                            <FieldMsg field=format!("plan.ramp[{i}].percent") errors=error />
                        </label>
                        <label class="field compact">
                            <span class="sr-only">"Minimum hours"</span>
                            <span class="input-suffix">
                                <input type="number" step="any" min="0" name=format!("plan.ramp[{i}].min_duration_hours") bind:value=r.hours />
                                <span>"h"</span>
                            </span>
                            <FieldMsg field=format!("plan.ramp[{i}].min_duration_hours") errors=error />
                        </label>
                        <label class="field compact">
                            <span class="sr-only">"Minimum samples"</span>
                            <span class="input-suffix">
                                <input type="number" step="1" min="0" name=format!("plan.ramp[{i}].min_samples") bind:value=r.samples />
                                <span>"req"</span>
                            </span>
                            <FieldMsg field=format!("plan.ramp[{i}].min_samples") errors=error />
                        </label>
                        <label class="ab-toggle" title="A/B test: hold this split for its minimum time, then decide keep, revert or iterate">
                            <input type="checkbox" name=format!("plan.ramp[{i}].ab_test") bind:checked=r.ab />
                            <span>"A/B"</span>
                            <FieldMsg field=format!("plan.ramp[{i}].ab_test") errors=error />
                        </label>
                        {(n > 1).then(|| view! {
                            <RemoveButton label=format!("Remove ramp step {}", i + 1) on_click=Callback::new(move |_| remove_key(form.ramp, key, |r| r.key)) />
                        })}
                    </div>
                }
            })
            .collect_view()
    };

    let audience_rows = move || {
        let rows = form.audiences.get();
        let n = rows.len();
        rows.into_iter()
            .enumerate()
            .map(|(i, a)| {
                let key = a.key;
                let swap = move |delta: isize| {
                    form.audiences.update(|v| {
                        let j = i as isize + delta;
                        if j >= 0 && (j as usize) < v.len() {
                            v.swap(i, j as usize);
                        }
                    })
                };
                view! {
                    <div class="row-grid audience-grid" data-test="audience-row">
                        <span class="row-index">{i + 1}</span>
                        <select
                            name=format!("plan.audiences[{i}].kind")
                            aria-label="Audience kind"
                            on:change=move |e| {
                                let v = event_target_value(&e);
                                if let Some(k) = AUDIENCE_KINDS.into_iter().find(|k| audience_value(*k) == v) {
                                    a.kind.set(k);
                                }
                            }
                        >
                            {AUDIENCE_KINDS
                                .into_iter()
                                .map(|k| view! { <option value=audience_value(k) selected=move || a.kind.get() == k>{k.label()}</option> })
                                .collect_view()}
                        </select>
                        <label class="field compact">
                            <span class="sr-only">"Audience name"</span>
                            <input type="text" name=format!("plan.audiences[{i}].name") placeholder="e.g. staff, paid / es" bind:value=a.name />
                            <FieldMsg field=format!("plan.audiences[{i}].name") errors=error />
                        </label>
                        <span class="row-tools">
                            <button type="button" class="icon-btn" title="Move up" aria-label="Move up" disabled=i == 0 on:click=move |_| swap(-1)>
                                <svg viewBox="0 0 16 16" aria-hidden="true"><path d="M4 10l4-4 4 4" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"></path></svg>
                            </button>
                            <button type="button" class="icon-btn" title="Move down" aria-label="Move down" disabled=i + 1 == n on:click=move |_| swap(1)>
                                <svg viewBox="0 0 16 16" aria-hidden="true"><path d="M4 6l4 4 4-4" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"></path></svg>
                            </button>
                            <RemoveButton label="Remove audience" on_click=Callback::new(move |_| remove_key(form.audiences, key, |r| r.key)) />
                        </span>
                    </div>
                }
            })
            .collect_view()
    };

    let criterion_rows = move || {
        form.criteria
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let key = c.key;
                let sentence = move || {
                    let threshold = c.threshold.with(|t| format::parse_f64(t.trim()));
                    let metric = c.metric.get();
                    match threshold {
                        Some(t) if !metric.trim().is_empty() => RollbackCriterion {
                            metric: metric.trim().to_string(),
                            bad_direction: c.direction.get(),
                            threshold_kind: c.threshold_kind.get(),
                            threshold: t,
                        }
                        .describe(),
                        _ => "Fill in a metric and a threshold.".into(),
                    }
                };
                let unit_hint = move || match c.threshold_kind.get() {
                    ThresholdKind::Relative => "share, 0.15 = 15%",
                    ThresholdKind::Absolute => "in the metric's unit",
                    ThresholdKind::Level => "the level itself",
                };
                view! {
                    <div class="criterion" data-test="criterion-row">
                        <div class="row-grid criterion-grid">
                            <label class="field compact">
                                <span class="sr-only">"Metric key"</span>
                                <input type="text" class="mono" name=format!("plan.criteria[{i}].metric") placeholder="cost_per_request" bind:value=c.metric />
                            </label>
                            <select
                                name=format!("plan.criteria[{i}].bad_direction")
                                aria-label="Bad direction"
                                on:change=move |e| {
                                    c.direction.set(if event_target_value(&e) == "decrease" { BadDirection::Decrease } else { BadDirection::Increase })
                                }
                            >
                                {[BadDirection::Increase, BadDirection::Decrease]
                                    .into_iter()
                                    .map(|d| view! {
                                        <option value=direction_value(d) selected=move || c.direction.get() == d>
                                            {match d { BadDirection::Increase => "Bad if it rises", BadDirection::Decrease => "Bad if it falls" }}
                                        </option>
                                    })
                                    .collect_view()}
                            </select>
                            <select
                                name=format!("plan.criteria[{i}].threshold_kind")
                                aria-label="Threshold kind"
                                on:change=move |e| {
                                    let v = event_target_value(&e);
                                    c.threshold_kind.set(match v.as_str() {
                                        "absolute" => ThresholdKind::Absolute,
                                        "level" => ThresholdKind::Level,
                                        _ => ThresholdKind::Relative,
                                    })
                                }
                            >
                                {[ThresholdKind::Relative, ThresholdKind::Absolute, ThresholdKind::Level]
                                    .into_iter()
                                    .map(|k| view! {
                                        <option value=threshold_kind_value(k) selected=move || c.threshold_kind.get() == k>
                                            {match k { ThresholdKind::Relative => "Relative", ThresholdKind::Absolute => "Absolute", ThresholdKind::Level => "Level" }}
                                        </option>
                                    })
                                    .collect_view()}
                            </select>
                            <label class="field compact">
                                <span class="sr-only">"Threshold"</span>
                                <input type="number" step="any" name=format!("plan.criteria[{i}].threshold") bind:value=c.threshold title=unit_hint />
                            </label>
                            <RemoveButton label="Remove criterion" on_click=Callback::new(move |_| remove_key(form.criteria, key, |r| r.key)) />
                        </div>
                        <p class="criterion-sentence">
                            <svg viewBox="0 0 16 16" aria-hidden="true"><path d="M3 8h8M8 4.5L11.5 8 8 11.5" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linecap="round" stroke-linejoin="round"></path></svg>
                            {sentence}
                            <span class="subtle">" · threshold is " {unit_hint}</span>
                        </p>
                        <FieldMsg field=format!("plan.criteria[{i}].metric") errors=error />
                        <FieldMsg field=format!("plan.criteria[{i}].threshold") errors=error />
                    </div>
                }
            })
            .collect_view()
    };

    let checklist_rows = move || {
        form.checklist
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let key = c.key;
                view! {
                    <div class="row-grid checklist-grid" data-test="checklist-row">
                        <input type="checkbox" aria-label="Done" bind:checked=c.done />
                        <label class="field compact">
                            <span class="sr-only">"Checklist item"</span>
                            <input type="text" name=format!("plan.checklist[{i}].text") bind:value=c.text />
                            <FieldMsg field=format!("plan.checklist[{i}].text") errors=error />
                        </label>
                        <RemoveButton label="Remove item" on_click=Callback::new(move |_| remove_key(form.checklist, key, |r| r.key)) />
                    </div>
                }
            })
            .collect_view()
    };

    let add_ramp = move |_| {
        let last = form.ramp.with_untracked(|v| v.last().copied());
        let step = RampStep {
            percent: 100.0,
            min_duration_hours: last
                .and_then(|r| format::parse_f64(r.hours.get_untracked().trim()))
                .unwrap_or(4.0),
            min_samples: last
                .and_then(|r| r.samples.get_untracked().trim().parse().ok())
                .unwrap_or(0),
            max_hours: None,
            ab_test: false,
        };
        let row = form.ramp_row(&step);
        form.ramp.update(|v| v.push(row));
    };
    let add_audience = move |_| {
        let row = form.audience_row(&Audience {
            kind: AudienceKind::Cohort,
            name: String::new(),
        });
        form.audiences.update(|v| v.push(row));
    };
    let add_criterion = move |_| {
        let row = form.criterion_row(&RollbackCriterion {
            metric: String::new(),
            bad_direction: BadDirection::Increase,
            threshold_kind: ThresholdKind::Relative,
            threshold: 0.1,
        });
        form.criteria.update(|v| v.push(row));
    };
    let add_check = move |_| {
        let row = form.checklist_row(&ChecklistItem {
            text: String::new(),
            done: false,
        });
        form.checklist.update(|v| v.push(row));
    };

    view! {
        <div class="plan-editor">
            <fieldset class="plan-block">
                <legend>"Eval gate"</legend>
                <p class="block-help">"The offline bench the candidate must pass before any production traffic."</p>
                <div class="grid-2">
                    <label class="field">
                        <span class="field-label">"Minimum pass rate"</span>
                        <input type="number" step="0.01" min="0" max="1" name="plan.eval_gate.min_pass_rate" bind:value=form.min_pass_rate />
                        <span class="field-hint">{pass_rate_hint}</span>
                        <FieldMsg field="plan.eval_gate.min_pass_rate" errors=error />
                    </label>
                    <label class="field">
                        <span class="field-label">"Critical categories"</span>
                        <input type="text" name="plan.eval_gate.critical_categories" placeholder="safety, pii" bind:value=form.critical />
                        <span class="field-hint">"Comma-separated. No new failure allowed in these."</span>
                        <FieldMsg field="plan.eval_gate.critical_categories" errors=error prefix=true />
                    </label>
                </div>
            </fieldset>

            <fieldset class="plan-block">
                <legend>"Canary"</legend>
                <p class="block-help">"A small slice of traffic, watched against control: 1–5% for 1–24 hours."</p>
                <div class="grid-2">
                    <label class="field">
                        <span class="field-label">"Traffic"</span>
                        <span class="input-suffix">
                            <input type="number" step="any" min="1" max="5" name="plan.canary.percent" bind:value=form.canary_percent />
                            <span>"%"</span>
                        </span>
                        <FieldMsg field="plan.canary.percent" errors=error />
                    </label>
                    <label class="field">
                        <span class="field-label">"Minimum duration"</span>
                        <span class="input-suffix">
                            <input type="number" step="any" min="1" max="24" name="plan.canary.min_duration_hours" bind:value=form.canary_hours />
                            <span>"hours"</span>
                        </span>
                        <FieldMsg field="plan.canary.min_duration_hours" errors=error />
                    </label>
                </div>
            </fieldset>

            <fieldset class="plan-block">
                <legend>"Ramp"</legend>
                <p class="block-help">"Steps in order, each above the last, ending at 100%. Each holds for a minimum time and sample. An A/B step holds its split for its time (1–90 days) and ends on a decision."</p>
                <div class="row-head ramp-grid" aria-hidden="true">
                    <span>"#"</span><span>"Traffic"</span><span>"Min. time"</span><span>"Min. samples"</span><span>"Test"</span><span></span>
                </div>
                {ramp_rows}
                <FieldMsg field="plan.ramp" errors=error />
                <button type="button" class="btn btn-ghost btn-small add-row" data-test="add-ramp-step" on:click=add_ramp>"+ Add step"</button>
            </fieldset>

            <fieldset class="plan-block">
                <legend>"Audiences"</legend>
                <p class="block-help">"Who gets the candidate first. Earlier audiences are more diagnostic."</p>
                {audience_rows}
                <FieldMsg field="plan.audiences" errors=error />
                <button type="button" class="btn btn-ghost btn-small add-row" on:click=add_audience>"+ Add audience"</button>
            </fieldset>

            <fieldset class="plan-block">
                <legend>"Rollback criteria"</legend>
                <p class="block-help">"Pre-registered and frozen when the rollout starts. When one fires: roll back first, investigate after."</p>
                <div class="row-head criterion-grid" aria-hidden="true">
                    <span>"Metric"</span><span>"Bad direction"</span><span>"Threshold kind"</span><span>"Threshold"</span><span></span>
                </div>
                {criterion_rows}
                <FieldMsg field="plan.criteria" errors=error />
                <button type="button" class="btn btn-ghost btn-small add-row" on:click=add_criterion>"+ Add criterion"</button>
            </fieldset>

            <fieldset class="plan-block">
                <legend>"Checklist"</legend>
                <p class="block-help">"Steps to tick off along the way."</p>
                {checklist_rows}
                <FieldMsg field="plan.checklist" errors=error />
                <button type="button" class="btn btn-ghost btn-small add-row" on:click=add_check>"+ Add item"</button>
            </fieldset>
        </div>
    }
}

/// One sentence on what a template is for.
pub fn template_blurb(t: PlanTemplate) -> &'static str {
    match t {
        PlanTemplate::Standard => "The default: eval gate, a day of canary, then a steady ramp.",
        PlanTemplate::ModelUpgrade => {
            "The seven-step model-upgrade discipline: stricter gate, 1% canary, slower ramp."
        }
        PlanTemplate::LowStakes => "For low-stakes changes: a short canary and two ramp steps.",
    }
}

/// "Canary 5% · 24 h → 10 / 25 / 50 / 100%".
pub fn plan_summary(p: &RolloutPlan) -> String {
    let ramp = p
        .ramp
        .iter()
        .map(|s| crate::format::number(s.percent))
        .collect::<Vec<_>>()
        .join(" / ");
    format!(
        "Canary {} · {} → ramp {}%",
        crate::format::percent(p.canary.percent),
        crate::format::hours(p.canary.min_duration_hours),
        ramp
    )
}
