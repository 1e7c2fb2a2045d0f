//! The parts of a change's page that only show: what changes, the plan, and the history.

use std::collections::BTreeSet;

use leptos::prelude::*;
use serde_json::Value;
use shared::api::{FlagVersion, TransitionRecord};
use shared::change::AiChange;
use shared::plan::RolloutPlan;
use shared::rollout::TransitionAction;

use crate::components::copy_button::CopyButton;
use crate::components::plan_editor::template_blurb;
use crate::format;

/// Baseline and candidate configuration side by side, lines that differ highlighted.
#[component]
pub(super) fn WhatChanges(change: AiChange) -> impl IntoView {
    let base = format::pretty_json(&change.baseline);
    let cand = format::pretty_json(&change.candidate);
    let base_lines: BTreeSet<&str> = base.lines().map(str::trim_end).collect();
    let cand_lines: BTreeSet<&str> = cand.lines().map(str::trim_end).collect();
    let changed_keys = changed_keys(&change.baseline, &change.candidate);
    let render = |text: &str, other: &BTreeSet<&str>, class: &'static str| {
        text.lines()
            .map(|l| {
                let differs = !other.contains(l.trim_end());
                view! { <span class="code-line" class=(class, differs)>{l.to_string()}"\n"</span> }
            })
            .collect_view()
    };
    let base_view = render(&base, &cand_lines, "line-removed");
    let cand_view = render(&cand, &base_lines, "line-added");
    let expected = change.expected_changes.trim().to_string();

    view! {
        <section class="card" data-test="what-changes">
            <div class="card-head"><h2>"What changes"</h2></div>
            <div class="expected">
                <h3>"What users may notice"</h3>
                {if expected.is_empty() {
                    view! { <p class="subtle">"No behaviour changes were written down."</p> }.into_any()
                } else {
                    view! { <p class="prose">{expected}</p> }.into_any()
                }}
            </div>
            {(!changed_keys.is_empty()).then(|| view! {
                <div class="changed-keys">
                    <span class="subtle">"Changed settings "</span>
                    {changed_keys.into_iter().map(|k| view! { <code class="chip">{k}</code> }).collect_view()}
                </div>
            })}
            <div class="config-diff">
                <div class="config-col">
                    <div class="config-head"><span class="dot dot-baseline"></span>"Baseline"<span class="subtle">" · serving today"</span></div>
                    <pre class="code" data-test="baseline">{base_view}</pre>
                </div>
                <div class="config-col">
                    <div class="config-head"><span class="dot dot-candidate"></span>"Candidate"<span class="subtle">" · being rolled out"</span></div>
                    <pre class="code" data-test="candidate">{cand_view}</pre>
                </div>
            </div>
        </section>
    }
}

/// The change as a feature flag: its key and how an application asks for it through
/// OpenFeature's OFREP provider, in three languages. Plain text, no highlighting: the page is
/// near its size budget.
///
/// A flag with more than one version lists them, oldest first: each finished one was retired
/// by the next, which started from what it served.
#[component]
pub(super) fn FlagPanel(flag_key: String, id: String, versions: Vec<FlagVersion>) -> impl IntoView {
    let origin = window().location().origin().unwrap_or_default();
    let token = "Bearer rg_ing_…";
    let snippets = [
        (
            "Rust",
            format!(
                "// cargo add open-feature open-feature-ofrep reqwest\n\
                 let mut headers = reqwest::header::HeaderMap::new();\n\
                 headers.insert(\"Authorization\", \"{token}\".parse()?);\n\
                 let provider = OfrepProvider::new(OfrepOptions {{ base_url: \"{origin}\".into(), headers, ..Default::default() }}).await?;\n\
                 let ctx = EvaluationContext::default().with_targeting_key(user_id);\n\
                 let config = provider.resolve_struct_value(\"{flag_key}\", &ctx).await?.value;"
            ),
        ),
        (
            "Python",
            format!(
                "# pip install openfeature-sdk openfeature-provider-ofrep\n\
                 from openfeature import api\n\
                 from openfeature.evaluation_context import EvaluationContext\n\
                 from openfeature.contrib.provider.ofrep import OFREPProvider\n\
                 api.set_provider(OFREPProvider(\"{origin}\", headers_factory=lambda: {{\"Authorization\": \"{token}\"}}))\n\
                 config = api.get_client().get_object_value(\"{flag_key}\", {{}}, EvaluationContext(targeting_key=user_id))"
            ),
        ),
        (
            "TypeScript",
            format!(
                "// npm install @openfeature/server-sdk @openfeature/ofrep-provider\n\
                 import {{ OpenFeature }} from '@openfeature/server-sdk';\n\
                 import {{ OFREPProvider }} from '@openfeature/ofrep-provider';\n\
                 await OpenFeature.setProviderAndWait(new OFREPProvider({{ baseUrl: '{origin}', headers: [['Authorization', '{token}']] }}));\n\
                 const config = await OpenFeature.getClient().getObjectValue('{flag_key}', {{}}, {{ targetingKey: userId }});"
            ),
        ),
    ];
    view! {
        <section class="card" data-test="flag">
            <div class="card-head"><h2>"Flag"</h2></div>
            <p>
                <code class="chip" data-test="flag-key">{flag_key.clone()}</code>" "<CopyButton text=flag_key />
                <span class="subtle">" Variants: control (baseline), candidate. Needs a token with the scope evaluate."</span>
            </p>
            {(versions.len() > 1).then(|| view! {
                <h3>"Versions of this flag"</h3>
                <ol class="plain-list flag-versions" data-test="flag-versions">
                    {versions.into_iter().map(|v| {
                        let this = v.id == id;
                        let text = format!("v{} {} · {}", v.version, v.title, v.state.name().replace('_', " "));
                        view! {
                            <li data-test="flag-version">
                                {if this {
                                    view! { <strong aria-current="page">{text}" (this change)"</strong> }.into_any()
                                } else {
                                    view! { <a href=format!("/changes/{}", v.id)>{text}</a> }.into_any()
                                }}
                            </li>
                        }
                    }).collect_view()}
                </ol>
            })}
            <details>
                <summary>"OpenFeature snippets"</summary>
                {snippets.into_iter().map(|(lang, code)| view! {
                    <h3>{lang}</h3>
                    <pre class="code">{code}</pre>
                }).collect_view()}
            </details>
        </section>
    }
}

/// Top-level keys whose values differ between the two configurations.
fn changed_keys(a: &Value, b: &Value) -> Vec<String> {
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
        return Vec::new();
    };
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| k.to_string())
        .collect()
}

#[component]
pub(super) fn PlanPanel(plan: RolloutPlan, frozen: bool) -> impl IntoView {
    let gate = &plan.eval_gate;
    let critical = if gate.critical_categories.is_empty() {
        "No critical categories.".to_string()
    } else {
        format!(
            "No new failure in: {}.",
            gate.critical_categories.join(", ")
        )
    };
    let ramp_rows = plan
        .ramp
        .iter()
        .enumerate()
        .map(|(i, s)| {
            view! {
                <tr>
                    <td class="subtle">{i + 1}</td>
                    <td><strong>{format::percent(s.percent)}</strong>{s.ab_test.then_some(" · A/B test")}</td>
                    <td>{format::hours(s.min_duration_hours)}</td>
                    <td>{if s.min_samples > 0 { format::count(s.min_samples) } else { "—".into() }}</td>
                </tr>
            }
        })
        .collect_view();
    let audiences = plan.audiences.clone();
    let criteria = plan.criteria.clone();
    let checklist = plan.checklist.clone();
    let done = checklist.iter().filter(|c| c.done).count();

    view! {
        <section class="card" data-test="plan">
            <div class="card-head">
                <div>
                    <h2>"Plan"</h2>
                    <p class="card-sub">{format!("{} template · {}", plan.template.label(), template_blurb(plan.template))}</p>
                </div>
                {if frozen {
                    view! { <span class="tag tag-frozen" title="The plan froze when the rollout started.">"Frozen"</span> }.into_any()
                } else {
                    view! { <span class="tag">"Editable while draft"</span> }.into_any()
                }}
            </div>
            <div class="plan-grid">
                <div class="plan-item">
                    <h3>"Eval gate"</h3>
                    <p>{format!("Pass rate at least {} on the eval bench.", format::percent(gate.min_pass_rate * 100.0))}</p>
                    <p class="subtle">{critical}</p>
                </div>
                <div class="plan-item">
                    <h3>"Canary"</h3>
                    <p>{format!("{} of traffic for at least {}.", format::percent(plan.canary.percent), format::hours(plan.canary.min_duration_hours))}</p>
                    <p class="subtle">"Watched against control before any ramp."</p>
                </div>
            </div>
            <h3 class="section-title">"Ramp"</h3>
            <table class="table table-compact">
                <thead><tr><th>"Step"</th><th>"Traffic"</th><th>"Min. time"</th><th>"Min. samples"</th></tr></thead>
                <tbody>{ramp_rows}</tbody>
            </table>
            <div class="plan-grid">
                <div class="plan-item">
                    <h3>"Audiences, in order"</h3>
                    {if audiences.is_empty() {
                        view! { <p class="subtle">"All users at once."</p> }.into_any()
                    } else {
                        view! {
                            <ol class="audience-list">
                                {audiences.into_iter().map(|a| view! {
                                    <li><span class="tag">{a.kind.label()}</span>" "{a.name}</li>
                                }).collect_view()}
                            </ol>
                        }.into_any()
                    }}
                </div>
                <div class="plan-item">
                    <h3>"Rollback criteria"</h3>
                    {if criteria.is_empty() {
                        view! { <p class="subtle">"No rollback criteria registered."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="criteria-list" data-test="criteria">
                                {criteria.iter().map(|c| view! { <li>{c.describe()}</li> }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                </div>
            </div>
            {(!checklist.is_empty()).then(|| view! {
                <h3 class="section-title">{format!("Checklist · {done} of {} done", checklist.len())}</h3>
                <ul class="checklist">
                    {checklist.into_iter().map(|item| view! {
                        <li class:done=item.done>
                            <span class="check" aria-hidden="true">{if item.done { "✓" } else { "" }}</span>
                            <span>{item.text}</span>
                            <span class="sr-only">{if item.done { " (done)" } else { " (to do)" }}</span>
                        </li>
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
}

#[component]
pub(super) fn History(history: Vec<TransitionRecord>, created_at: String) -> impl IntoView {
    let count = history.len();
    let entries = history
        .into_iter()
        .rev()
        .map(|r| {
            let (verb, class) = match r.action {
                TransitionAction::Advance => ("Advanced", "act-advance"),
                TransitionAction::Skip => ("Skipped", "act-skip"),
                TransitionAction::RollBack => ("Rolled back", "act-rollback"),
                TransitionAction::Pause => ("Paused", "act-pause"),
                TransitionAction::Resume => ("Resumed", "act-resume"),
            };
            // A pause and a resume stay at the stage: one name, not "A → A".
            let moved = if r.from == r.to {
                format!("at {}", r.to_label)
            } else {
                format!("{} → {}", r.from_label, r.to_label)
            };

            view! {
                <li class=format!("history-entry {class}") data-test="history-entry" data-action=r.action.as_str()>
                    <span class="history-dot" aria-hidden="true"></span>
                    <div class="history-body">
                        <div class="history-line">
                            <span class="history-verb">{verb}</span>
                            <span class="history-move">{moved}</span>
                        </div>
                        <div class="history-meta">
                            <strong>{r.actor}</strong>
                            <span title=format::date_time(&r.at)>{format!(" · {}", format::relative_time(&r.at))}</span>
                        </div>
                        {r.reason.filter(|s| !s.trim().is_empty()).map(|reason| view! {
                            <blockquote class="history-reason">{reason}</blockquote>
                        })}
                    </div>
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="card history-card" data-test="history">
            <div class="card-head">
                <h2>"History"</h2>
                <span class="subtle">{format!("{count} transition{}", if count == 1 { "" } else { "s" })}</span>
            </div>
            <ol class="history">
                {entries}
                <li class="history-entry act-created">
                    <span class="history-dot" aria-hidden="true"></span>
                    <div class="history-body">
                        <div class="history-line"><span class="history-verb">"Created"</span><span class="history-move">"as a draft"</span></div>
                        <div class="history-meta"><span title=format::date_time(&created_at)>{format::relative_time(&created_at)}</span></div>
                    </div>
                </li>
            </ol>
        </section>
    }
}
