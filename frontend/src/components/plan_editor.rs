//! Editing a rollout plan. The form keeps every number as the text the user typed, so a
//! half-typed value is never rewritten under their cursor; [`PlanForm::read`] turns it into a
//! [`RolloutPlan`] and names the field at fault, using the same paths as `shared::validate`.

use leptos::prelude::*;
use shared::plan::{
    Audience, AudienceKind, BadDirection, CanaryStage, ChecklistItem, EvalGate, PlanTemplate,
    RampStep, RollbackCriterion, RolloutPlan, ThresholdKind,
};
use shared::validate::FieldError;

use super::field::FieldMsg;
use crate::format;

#[derive(Clone, Copy)]
pub struct RampRow {
    key: u32,
    percent: RwSignal<String>,
    hours: RwSignal<String>,
    samples: RwSignal<String>,
}

#[derive(Clone, Copy)]
pub struct AudienceRow {
    key: u32,
    kind: RwSignal<AudienceKind>,
    name: RwSignal<String>,
}

#[derive(Clone, Copy)]
pub struct CriterionRow {
    key: u32,
    metric: RwSignal<String>,
    direction: RwSignal<BadDirection>,
    threshold_kind: RwSignal<ThresholdKind>,
    threshold: RwSignal<String>,
}

#[derive(Clone, Copy)]
pub struct ChecklistRow {
    key: u32,
    text: RwSignal<String>,
    done: RwSignal<bool>,
}

/// The plan being edited, as signals.
#[derive(Clone, Copy)]
pub struct PlanForm {
    pub template: RwSignal<PlanTemplate>,
    min_pass_rate: RwSignal<String>,
    critical: RwSignal<String>,
    canary_percent: RwSignal<String>,
    canary_hours: RwSignal<String>,
    ramp: RwSignal<Vec<RampRow>>,
    audiences: RwSignal<Vec<AudienceRow>>,
    criteria: RwSignal<Vec<CriterionRow>>,
    checklist: RwSignal<Vec<ChecklistRow>>,
    next_key: StoredValue<u32>,
}

const AUDIENCE_KINDS: [AudienceKind; 4] = [
    AudienceKind::Internal,
    AudienceKind::PowerUsers,
    AudienceKind::Cohort,
    AudienceKind::OptedIn,
];

fn audience_value(k: AudienceKind) -> &'static str {
    match k {
        AudienceKind::Internal => "internal",
        AudienceKind::PowerUsers => "power_users",
        AudienceKind::Cohort => "cohort",
        AudienceKind::OptedIn => "opted_in",
    }
}

fn threshold_kind_value(k: ThresholdKind) -> &'static str {
    match k {
        ThresholdKind::Relative => "relative",
        ThresholdKind::Absolute => "absolute",
        ThresholdKind::Level => "level",
    }
}

fn direction_value(d: BadDirection) -> &'static str {
    match d {
        BadDirection::Increase => "increase",
        BadDirection::Decrease => "decrease",
    }
}

/// f64 as typed text: Rust's shortest round-trip form ("0.9", "5", "2500").
fn num_text(x: f64) -> String {
    x.to_string()
}

fn parse_num(field: &str, text: &str) -> Result<f64, FieldError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    format::parse_f64(t)
        .filter(|x| x.is_finite())
        .ok_or_else(|| FieldError::new(field, "must be a number"))
}

impl PlanForm {
    pub fn new(plan: &RolloutPlan) -> Self {
        let form = PlanForm {
            template: RwSignal::new(plan.template),
            min_pass_rate: RwSignal::new(String::new()),
            critical: RwSignal::new(String::new()),
            canary_percent: RwSignal::new(String::new()),
            canary_hours: RwSignal::new(String::new()),
            ramp: RwSignal::new(Vec::new()),
            audiences: RwSignal::new(Vec::new()),
            criteria: RwSignal::new(Vec::new()),
            checklist: RwSignal::new(Vec::new()),
            next_key: StoredValue::new(0),
        };
        form.fill(plan);
        form
    }

    fn key(&self) -> u32 {
        self.next_key.update_value(|k| *k += 1);
        self.next_key.get_value()
    }

    fn ramp_row(&self, s: &RampStep) -> RampRow {
        RampRow {
            key: self.key(),
            percent: RwSignal::new(num_text(s.percent)),
            hours: RwSignal::new(num_text(s.min_duration_hours)),
            samples: RwSignal::new(s.min_samples.to_string()),
        }
    }

    fn audience_row(&self, a: &Audience) -> AudienceRow {
        AudienceRow {
            key: self.key(),
            kind: RwSignal::new(a.kind),
            name: RwSignal::new(a.name.clone()),
        }
    }

    fn criterion_row(&self, c: &RollbackCriterion) -> CriterionRow {
        CriterionRow {
            key: self.key(),
            metric: RwSignal::new(c.metric.clone()),
            direction: RwSignal::new(c.bad_direction),
            threshold_kind: RwSignal::new(c.threshold_kind),
            threshold: RwSignal::new(num_text(c.threshold)),
        }
    }

    fn checklist_row(&self, c: &ChecklistItem) -> ChecklistRow {
        ChecklistRow {
            key: self.key(),
            text: RwSignal::new(c.text.clone()),
            done: RwSignal::new(c.done),
        }
    }

    /// Replaces everything in the form with `plan`.
    pub fn fill(&self, plan: &RolloutPlan) {
        self.template.set(plan.template);
        self.min_pass_rate
            .set(num_text(plan.eval_gate.min_pass_rate));
        self.critical
            .set(plan.eval_gate.critical_categories.join(", "));
        self.canary_percent.set(num_text(plan.canary.percent));
        self.canary_hours
            .set(num_text(plan.canary.min_duration_hours));
        self.ramp
            .set(plan.ramp.iter().map(|s| self.ramp_row(s)).collect());
        self.audiences.set(
            plan.audiences
                .iter()
                .map(|a| self.audience_row(a))
                .collect(),
        );
        self.criteria.set(
            plan.criteria
                .iter()
                .map(|c| self.criterion_row(c))
                .collect(),
        );
        self.checklist.set(
            plan.checklist
                .iter()
                .map(|c| self.checklist_row(c))
                .collect(),
        );
    }

    /// The plan as typed, or the first field that is not a number where one is needed.
    /// Range rules are `shared::validate::plan`'s job.
    pub fn read(&self) -> Result<RolloutPlan, FieldError> {
        let eval_gate = EvalGate {
            min_pass_rate: parse_num(
                "plan.eval_gate.min_pass_rate",
                &self.min_pass_rate.get_untracked(),
            )?,
            critical_categories: self
                .critical
                .get_untracked()
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
        };
        let canary = CanaryStage {
            percent: parse_num("plan.canary.percent", &self.canary_percent.get_untracked())?,
            min_duration_hours: parse_num(
                "plan.canary.min_duration_hours",
                &self.canary_hours.get_untracked(),
            )?,
        };
        let mut ramp = Vec::new();
        for (i, r) in self.ramp.get_untracked().iter().enumerate() {
            let samples_text = r.samples.get_untracked();
            let samples_text = samples_text.trim();
            let min_samples = if samples_text.is_empty() {
                0
            } else {
                samples_text.parse::<u64>().map_err(|_| {
                    FieldError::new(
                        format!("plan.ramp[{i}].min_samples"),
                        "must be a whole number of requests",
                    )
                })?
            };
            ramp.push(RampStep {
                percent: parse_num(
                    &format!("plan.ramp[{i}].percent"),
                    &r.percent.get_untracked(),
                )?,
                min_duration_hours: parse_num(
                    &format!("plan.ramp[{i}].min_duration_hours"),
                    &r.hours.get_untracked(),
                )?,
                min_samples,
            });
        }
        let audiences = self
            .audiences
            .get_untracked()
            .iter()
            .map(|a| Audience {
                kind: a.kind.get_untracked(),
                name: a.name.get_untracked().trim().to_string(),
            })
            .collect();
        let mut criteria = Vec::new();
        for (i, c) in self.criteria.get_untracked().iter().enumerate() {
            criteria.push(RollbackCriterion {
                metric: c.metric.get_untracked().trim().to_string(),
                bad_direction: c.direction.get_untracked(),
                threshold_kind: c.threshold_kind.get_untracked(),
                threshold: parse_num(
                    &format!("plan.criteria[{i}].threshold"),
                    &c.threshold.get_untracked(),
                )?,
            });
        }
        let checklist = self
            .checklist
            .get_untracked()
            .iter()
            .map(|c| ChecklistItem {
                text: c.text.get_untracked().trim().to_string(),
                done: c.done.get_untracked(),
            })
            .collect();
        Ok(RolloutPlan {
            template: self.template.get_untracked(),
            eval_gate,
            canary,
            ramp,
            audiences,
            criteria,
            checklist,
        })
    }
}

fn remove_key<T: Copy + Send + Sync + 'static>(
    list: RwSignal<Vec<T>>,
    key: u32,
    key_of: fn(&T) -> u32,
) {
    list.update(|v| v.retain(|x| key_of(x) != key));
}

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
pub fn PlanEditor(form: PlanForm, error: RwSignal<Option<FieldError>>) -> impl IntoView {
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
                            <FieldMsg field=format!("plan.ramp[{i}].percent") error=error />
                        </label>
                        <label class="field compact">
                            <span class="sr-only">"Minimum hours"</span>
                            <span class="input-suffix">
                                <input type="number" step="any" min="0" name=format!("plan.ramp[{i}].min_duration_hours") bind:value=r.hours />
                                <span>"h"</span>
                            </span>
                            <FieldMsg field=format!("plan.ramp[{i}].min_duration_hours") error=error />
                        </label>
                        <label class="field compact">
                            <span class="sr-only">"Minimum samples"</span>
                            <span class="input-suffix">
                                <input type="number" step="1" min="0" name=format!("plan.ramp[{i}].min_samples") bind:value=r.samples />
                                <span>"req"</span>
                            </span>
                            <FieldMsg field=format!("plan.ramp[{i}].min_samples") error=error />
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
                            <FieldMsg field=format!("plan.audiences[{i}].name") error=error />
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
                        <FieldMsg field=format!("plan.criteria[{i}].metric") error=error />
                        <FieldMsg field=format!("plan.criteria[{i}].threshold") error=error />
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
                            <FieldMsg field=format!("plan.checklist[{i}].text") error=error />
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
                        <FieldMsg field="plan.eval_gate.min_pass_rate" error=error />
                    </label>
                    <label class="field">
                        <span class="field-label">"Critical categories"</span>
                        <input type="text" name="plan.eval_gate.critical_categories" placeholder="safety, pii" bind:value=form.critical />
                        <span class="field-hint">"Comma-separated. No new failure allowed in these."</span>
                        <FieldMsg field="plan.eval_gate.critical_categories" error=error prefix=true />
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
                        <FieldMsg field="plan.canary.percent" error=error />
                    </label>
                    <label class="field">
                        <span class="field-label">"Minimum duration"</span>
                        <span class="input-suffix">
                            <input type="number" step="any" min="1" max="24" name="plan.canary.min_duration_hours" bind:value=form.canary_hours />
                            <span>"hours"</span>
                        </span>
                        <FieldMsg field="plan.canary.min_duration_hours" error=error />
                    </label>
                </div>
            </fieldset>

            <fieldset class="plan-block">
                <legend>"Ramp"</legend>
                <p class="block-help">"Steps in order, each above the last, ending at 100%. Each holds for a minimum time and sample."</p>
                <div class="row-head ramp-grid" aria-hidden="true">
                    <span>"#"</span><span>"Traffic"</span><span>"Min. time"</span><span>"Min. samples"</span><span></span>
                </div>
                {ramp_rows}
                <FieldMsg field="plan.ramp" error=error />
                <button type="button" class="btn btn-ghost btn-small add-row" data-test="add-ramp-step" on:click=add_ramp>"+ Add step"</button>
            </fieldset>

            <fieldset class="plan-block">
                <legend>"Audiences"</legend>
                <p class="block-help">"Who gets the candidate first. Earlier audiences are more diagnostic."</p>
                {audience_rows}
                <FieldMsg field="plan.audiences" error=error />
                <button type="button" class="btn btn-ghost btn-small add-row" on:click=add_audience>"+ Add audience"</button>
            </fieldset>

            <fieldset class="plan-block">
                <legend>"Rollback criteria"</legend>
                <p class="block-help">"Pre-registered and frozen when the rollout starts. When one fires: roll back first, investigate after."</p>
                <div class="row-head criterion-grid" aria-hidden="true">
                    <span>"Metric"</span><span>"Bad direction"</span><span>"Threshold kind"</span><span>"Threshold"</span><span></span>
                </div>
                {criterion_rows}
                <FieldMsg field="plan.criteria" error=error />
                <button type="button" class="btn btn-ghost btn-small add-row" on:click=add_criterion>"+ Add criterion"</button>
            </fieldset>

            <fieldset class="plan-block">
                <legend>"Checklist"</legend>
                <p class="block-help">"Steps to tick off along the way."</p>
                {checklist_rows}
                <FieldMsg field="plan.checklist" error=error />
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
