//! Registering a change and editing a draft. Both share one form: validated in the browser
//! with `shared::validate` (the rules the server applies), with the server's own refusals
//! mapped onto the same fields.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;
use serde_json::Value;
use shared::api::{ChangeDetail, ChangeUpdate, NewChange, TemplateInfo};
use shared::change::{AiChange, ChangeKind, RiskTier};
use shared::plan::PlanTemplate;
use shared::validate::{self, FieldError};

use crate::api::{self, ApiError};
use crate::components::change_loader::ChangeLoader;
use crate::components::error_banner::{ErrorBanner, Problem as BannerText};
use crate::components::field::{FieldMsg, focus_first_error};
use crate::components::load::Loaded;
use crate::components::plan_editor::{PlanEditor, PlanForm, plan_summary, template_blurb};

#[component]
pub fn NewChangePage() -> impl IntoView {
    if !crate::session::has_any(shared::access::EDITORS) {
        return view! {
            <div class="page">
                <div class="empty-state" data-test="error">
                    <div class="empty-code">"403"</div>
                    <h1>"Engineers, PMs and admins register changes"</h1>
                    <p class="subtle">"Your roles let you follow changes, not create them."</p>
                </div>
            </div>
        }
        .into_any();
    }
    view! { <ChangeForm existing=None /> }.into_any()
}

#[component]
pub fn EditChangePage() -> impl IntoView {
    view! { <ChangeLoader page=edit_page /> }
}

/// The form for a draft; for a change whose rollout has started, why it cannot be edited.
fn edit_page(d: ChangeDetail, _reload: Callback<()>) -> AnyView {
    if d.change.state.plan_is_editable() {
        return view! { <ChangeForm existing=Some(d.change) /> }.into_any();
    }
    view! {
        <div class="page">
            <div class="empty-state">
                <h1>"This change can no longer be edited"</h1>
                <p class="subtle">{format!(
                    "“{}” is at {}. Its plan and rollback criteria froze when the rollout started.",
                    d.change.title,
                    d.change.state.label(&d.change.plan)
                )}</p>
                <a class="btn btn-primary" href=format!("/changes/{}", d.change.id)>"Back to the change"</a>
            </div>
        </div>
    }
    .into_any()
}

/// What went wrong with the last submit, for the banner above the form.
#[derive(Debug, Clone)]
enum Problem {
    /// Every field the browser found at fault, in the form's order.
    Client(Vec<FieldError>),
    Server(ApiError),
}

/// Human names of the top-level fields, for the banner.
fn field_name(path: &str) -> String {
    let head = path.split(['.', '[']).next().unwrap_or(path);
    match head {
        "title" => "Title".into(),
        "owner" => "Owner".into(),
        "product_area" => "Product area".into(),
        "kind" => "Kind".into(),
        "risk" => "Risk".into(),
        "expected_changes" => "Expected behaviour changes".into(),
        "baseline" => "Baseline configuration".into(),
        "candidate" => "Candidate configuration".into(),
        "plan" => format!("Plan ({})", path.trim_start_matches("plan.")),
        _ => path.into(),
    }
}

/// A configuration box's text as a JSON value. Empty means `{}`; the object rule itself is
/// `shared::validate`'s.
fn parse_config(field: &str, text: &str) -> Result<Value, FieldError> {
    if text.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    let v: Value = serde_json::from_str(text)
        .map_err(|e| FieldError::new(field, format!("is not valid JSON: {e}")))?;
    if !v.is_object() {
        return Err(FieldError::new(
            field,
            "must be a JSON object, e.g. {\"model\": \"…\", \"temperature\": 0.2}",
        ));
    }
    Ok(v)
}

fn local_templates() -> Vec<TemplateInfo> {
    PlanTemplate::ALL
        .into_iter()
        .map(|t| TemplateInfo {
            template: t,
            label: t.label().into(),
            plan: t.plan(),
        })
        .collect()
}

#[component]
fn ChangeForm(existing: Option<AiChange>) -> impl IntoView {
    let editing = existing.clone();
    let initial_plan = existing
        .as_ref()
        .map(|c| c.plan.clone())
        .unwrap_or_else(|| PlanTemplate::Standard.plan());
    let title = RwSignal::new(
        existing
            .as_ref()
            .map(|c| c.title.clone())
            .unwrap_or_default(),
    );
    let kind = RwSignal::new(
        existing
            .as_ref()
            .map(|c| c.kind)
            .unwrap_or(ChangeKind::Prompt),
    );
    let risk = RwSignal::new(
        existing
            .as_ref()
            .map(|c| c.risk)
            .unwrap_or(RiskTier::Standard),
    );
    let owner = RwSignal::new(
        existing
            .as_ref()
            .map(|c| c.owner.clone())
            .or_else(|| crate::session::user().map(|u| u.email))
            .unwrap_or_default(),
    );
    let area = RwSignal::new(
        existing
            .as_ref()
            .and_then(|c| c.product_area.clone())
            .unwrap_or_default(),
    );
    let expected = RwSignal::new(
        existing
            .as_ref()
            .map(|c| c.expected_changes.clone())
            .unwrap_or_default(),
    );
    let config_text = |v: &Value| {
        if v.as_object().is_some_and(|o| o.is_empty()) {
            String::new()
        } else {
            crate::format::pretty_json(v)
        }
    };
    let baseline = RwSignal::new(
        existing
            .as_ref()
            .map(|c| config_text(&c.baseline))
            .unwrap_or_default(),
    );
    let candidate = RwSignal::new(
        existing
            .as_ref()
            .map(|c| config_text(&c.candidate))
            .unwrap_or_default(),
    );
    let plan = PlanForm::new(&initial_plan);
    // Every problem found, each shown beside its field.
    let error = RwSignal::new(Vec::<FieldError>::new());
    let problem = RwSignal::new(None::<Problem>);
    let pending = RwSignal::new(false);

    let templates = Loaded::new(|| (), |_| api::templates());
    // The server's list when it has answered, the built-in one until then (or if it fails):
    // they are the same plans, and the form should never wait for them.
    let template_list = move || match templates.get() {
        Some(Ok(v)) if !v.is_empty() => v,
        _ => local_templates(),
    };

    // Check a configuration box when the user leaves it, so a typo shows before submitting.
    let check_config = move |field: &'static str, text: String| {
        let found = parse_config(field, &text).err();
        error.update(|all| {
            all.retain(|e| e.field != field);
            all.extend(found);
        });
    };

    let navigate = use_navigate();
    let edit_id = editing.as_ref().map(|c| c.id.clone());
    let revision = editing.as_ref().map(|c| c.revision);
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        error.set(Vec::new());
        problem.set(None);
        // Every field is checked, so that one submit shows every problem.
        let mut unreadable = Vec::new();
        let mut config = |field: &str, text: String| {
            parse_config(field, &text).unwrap_or_else(|e| {
                unreadable.push(e);
                Value::Object(Default::default())
            })
        };
        let base = config("baseline", baseline.get_untracked());
        let cand = config("candidate", candidate.get_untracked());
        let (plan_value, plan_unreadable) = plan.read();
        let new = NewChange {
            title: title.get_untracked().trim().to_string(),
            kind: kind.get_untracked(),
            risk: risk.get_untracked(),
            baseline: base,
            candidate: cand,
            expected_changes: expected.get_untracked().trim().to_string(),
            owner: owner.get_untracked().trim().to_string(),
            product_area: validate::product_area(Some(&area.get_untracked())),
            template: None,
            plan: Some(plan_value.clone()),
            flag_key: None,
        };
        // The server's rules, with its words, in the form's order: a configuration that is
        // not JSON goes before the plan, and a plan field that is not a number says so rather
        // than the range it would have to be in.
        let mut problems = validate::new_change_problems(&new);
        for e in problems.iter_mut() {
            if let Some(u) = plan_unreadable.iter().find(|u| u.field == e.field) {
                e.message = u.message.clone();
            }
        }
        let plan_at = problems
            .iter()
            .position(|e| e.field.starts_with("plan"))
            .unwrap_or(problems.len());
        for e in unreadable.into_iter().rev() {
            problems.insert(plan_at, e);
        }
        problems.extend(
            plan_unreadable
                .into_iter()
                .filter(|u| !problems.iter().any(|e| e.field == u.field))
                .collect::<Vec<_>>(),
        );
        if !problems.is_empty() {
            error.set(problems.clone());
            problem.set(Some(Problem::Client(problems)));
            focus_first_error();
            return;
        }
        pending.set(true);
        let navigate = navigate.clone();
        let edit_id = edit_id.clone();
        spawn_local(async move {
            let result = match (edit_id, revision) {
                (Some(id), Some(revision)) => {
                    let update = ChangeUpdate {
                        revision,
                        title: new.title,
                        kind: new.kind,
                        risk: new.risk,
                        baseline: new.baseline,
                        candidate: new.candidate,
                        expected_changes: new.expected_changes,
                        owner: new.owner,
                        product_area: new.product_area,
                        plan: plan_value,
                        flag_key: None,
                    };
                    api::update_change(&id, &update).await
                }
                _ => api::create_change(&new).await,
            };
            pending.set(false);
            match result {
                Ok(d) => navigate(
                    &format!("/changes/{}", d.change.id),
                    NavigateOptions::default(),
                ),
                Err(e) => {
                    if let Some(field) = e.field() {
                        error.set(vec![FieldError::new(field, e.message())]);
                    }
                    problem.set(Some(Problem::Server(e)));
                    focus_first_error();
                }
            }
        });
    };

    let back = editing
        .as_ref()
        .map(|c| format!("/changes/{}", c.id))
        .unwrap_or_else(|| "/".into());
    let heading = if editing.is_some() {
        "Edit change"
    } else {
        "New AI change"
    };
    let lede = if editing.is_some() {
        "While the change is a draft, everything can still be edited. The plan freezes when the rollout starts."
    } else {
        "Describe what changes, who will notice, and how it rolls out. Nothing is served until you start the rollout."
    };
    let submit_label = if editing.is_some() {
        "Save changes"
    } else {
        "Create change"
    };
    let conflict_link = back.clone();

    let banner = move || {
        problem.get().map(|p| match p {
            Problem::Client(all) => {
                let (title, text) = match all.as_slice() {
                    [e] => (
                        "Check the highlighted field",
                        format!("{} {}", field_name(&e.field), e.message),
                    ),
                    _ => {
                        let names: Vec<String> = all.iter().map(|e| field_name(&e.field)).collect();
                        (
                            "Check the highlighted fields",
                            format!("{} fields need attention: {}.", all.len(), names.join(", ")),
                        )
                    }
                };
                view! {
                    <div class="form-banner">
                        <ErrorBanner error=BannerText::new(title, text) />
                    </div>
                }
                .into_any()
            }
            Problem::Server(e) => {
                let conflict = e.is_conflict();
                let link = conflict_link.clone();
                view! {
                    <div class="form-banner">
                        <ErrorBanner error=e />
                        {conflict.then(|| view! {
                            <p class="banner-after">
                                "Your edits are still here. "
                                <a href=link>"Open the latest version"</a>
                                " in this tab to see what changed, then edit again."
                            </p>
                        })}
                    </div>
                }
                .into_any()
            }
        })
    };

    let template_cards = move || {
        let current_kind = kind.get();
        template_list()
            .into_iter()
            .map(|info| {
                let t = info.template;
                let suggested = matches!(
                    (current_kind, t),
                    (ChangeKind::Model, PlanTemplate::ModelUpgrade)
                );
                let summary = plan_summary(&info.plan);
                let chosen_plan = info.plan.clone();
                view! {
                    <button
                        type="button"
                        class="template-card"
                        class:selected=move || plan.template.get() == t
                        aria-pressed=move || (plan.template.get() == t).to_string()
                        data-test=format!("template-{}", t.as_str())
                        on:click=move |_| {
                            plan.fill(&chosen_plan);
                            error.update(|all| all.retain(|e| !e.field.starts_with("plan")));
                        }
                    >
                        <span class="template-top">
                            <span class="template-label">{info.label.clone()}</span>
                            {suggested.then(|| view! { <span class="tag tag-accent">"Suggested"</span> })}
                            <span class="template-check" aria-hidden="true">
                                <svg viewBox="0 0 16 16"><path d="M4 8.5l2.5 2.5L12 5.5" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"></path></svg>
                            </span>
                        </span>
                        <span class="template-blurb">{template_blurb(t)}</span>
                        <span class="template-summary">{summary}</span>
                    </button>
                }
            })
            .collect_view()
    };

    view! {
        <div class="page form-page">
            <a class="back-link" href=back.clone()>{if editing.is_some() { "← Back to the change" } else { "← All changes" }}</a>
            <div class="page-head">
                <div>
                    <h1>{heading}</h1>
                    <p class="page-lede">{lede}</p>
                </div>
            </div>
            {banner}
            <form class="change-form" novalidate on:submit=submit>
                <section class="card form-section">
                    <div class="section-intro">
                        <h2>"Basics"</h2>
                        <p>"A title people will recognise in a list, what kind of change it is, who owns it and which part of the product it touches."</p>
                    </div>
                    <div class="section-fields">
                        <label class="field">
                            <span class="field-label">"Title"</span>
                            <input type="text" name="title" placeholder="e.g. Shorter system prompt for billing answers" bind:value=title />
                            <FieldMsg field="title" errors=error />
                        </label>
                        <div class="grid-3">
                            <label class="field">
                                <span class="field-label">"Kind"</span>
                                <select name="kind" on:change=move |e| {
                                    if let Some(k) = ChangeKind::parse(&event_target_value(&e)) { kind.set(k) }
                                }>
                                    {ChangeKind::ALL.into_iter().map(|k| view! {
                                        <option value=k.as_str() selected=move || kind.get() == k>{k.label()}</option>
                                    }).collect_view()}
                                </select>
                                <FieldMsg field="kind" errors=error />
                            </label>
                            <label class="field">
                                <span class="field-label">"Risk"</span>
                                <select name="risk" on:change=move |e| {
                                    if let Some(r) = RiskTier::parse(&event_target_value(&e)) { risk.set(r) }
                                }>
                                    {RiskTier::ALL.into_iter().map(|r| view! {
                                        <option value=r.as_str() selected=move || risk.get() == r>{r.label()}</option>
                                    }).collect_view()}
                                </select>
                                <FieldMsg field="risk" errors=error />
                            </label>
                            <label class="field">
                                <span class="field-label">"Owner"</span>
                                <input type="text" name="owner" placeholder="name or email" autocomplete="email" bind:value=owner />
                                <FieldMsg field="owner" errors=error />
                            </label>
                        </div>
                        <label class="field">
                            <span class="field-label">"Product area"</span>
                            <input type="text" name="product_area" placeholder="e.g. Billing chat" bind:value=area />
                            <span class="field-hint">"Optional. Support filters the change feed by it."</span>
                            <FieldMsg field="product_area" errors=error />
                        </label>
                    </div>
                </section>

                <section class="card form-section">
                    <div class="section-intro">
                        <h2>"What changes"</h2>
                        <p>"In plain words for support and PMs, then the exact configuration serving today and the one being rolled out, as JSON objects."</p>
                    </div>
                    <div class="section-fields">
                        <label class="field">
                            <span class="field-label">"Expected behaviour changes"</span>
                            <textarea name="expected_changes" rows="4" placeholder="e.g. Answers to billing questions get shorter; Spanish replies drop the formal register." bind:value=expected></textarea>
                            <span class="field-hint">"What users may notice. Support reads this when tickets come in."</span>
                            <FieldMsg field="expected_changes" errors=error />
                        </label>
                        <div class="grid-2">
                            <label class="field">
                                <span class="field-label">"Baseline configuration"</span>
                                <textarea
                                    class="mono"
                                    name="baseline"
                                    rows="8"
                                    spellcheck="false"
                                    placeholder="{\n  \"model\": \"gpt-4o-2024-08-06\",\n  \"prompt_version\": \"billing-v12\"\n}"
                                    bind:value=baseline
                                    on:blur=move |_| check_config("baseline", baseline.get_untracked())
                                ></textarea>
                                <FieldMsg field="baseline" errors=error />
                            </label>
                            <label class="field">
                                <span class="field-label">"Candidate configuration"</span>
                                <textarea
                                    class="mono"
                                    name="candidate"
                                    rows="8"
                                    spellcheck="false"
                                    placeholder="{\n  \"model\": \"gpt-4o-2024-08-06\",\n  \"prompt_version\": \"billing-v13\"\n}"
                                    bind:value=candidate
                                    on:blur=move |_| check_config("candidate", candidate.get_untracked())
                                ></textarea>
                                <FieldMsg field="candidate" errors=error />
                            </label>
                        </div>
                    </div>
                </section>

                <section class="card form-section">
                    <div class="section-intro">
                        <h2>"Rollout plan"</h2>
                        <p>"Start from a template, then adjust. Choosing a template replaces the plan below."</p>
                    </div>
                    <div class="section-fields">
                        <div class="template-grid" role="group" aria-label="Plan templates">{template_cards}</div>
                        <PlanEditor form=plan error=error />
                    </div>
                </section>

                <div class="form-actions">
                    <a class="btn" href=back>"Cancel"</a>
                    <button type="submit" class="btn btn-primary" data-test="submit" disabled=move || pending.get()>
                        {move || if pending.get() { "Saving…" } else { submit_label }}
                    </button>
                </div>
            </form>
        </div>
    }
}
