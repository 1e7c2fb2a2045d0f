//! One page per AI change, read by everyone involved: what changes, the staged plan, where the
//! rollout stands, what happened so far, and the buttons that move it on or roll it back.

use std::collections::BTreeSet;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;
use serde_json::Value;
use shared::api::{ChangeDetail, TransitionRecord, TransitionRequest};
use shared::change::AiChange;
use shared::plan::RolloutPlan;
use shared::rollout::{RolloutState, TransitionAction, next_stage, transition};

use crate::api::{self, ApiError};
use crate::components::change_tabs::ChangeTabs;
use crate::components::dialog::{ConfirmDialog, Tone};
use crate::components::error_banner::ErrorBanner;
use crate::components::gate_panel::{GatePanel, gate_title};
use crate::components::notices_panel::NoticesPanel;
use crate::components::plan_editor::template_blurb;
use crate::components::skeleton::PageSkeleton;
use crate::components::tags::{KindTag, RiskTag, StateBadge, TrafficBar};
use crate::components::timeline::{Timeline, stage_name};
use crate::format;
use crate::pages::change_tokens::TokensPanel;
use crate::session::{self, EDITORS};
use shared::auth::Role;

#[component]
pub fn ChangePage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let detail = LocalResource::new(move || {
        let id = id.get();
        async move { api::get_change(&id).await }
    });
    let reload = Callback::new(move |_| detail.refetch());

    view! {
        <Transition fallback=|| view! { <PageSkeleton /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <ChangeView detail=d reload=reload /> }.into_any(),
                    Err(e) if e.is_not_found() => view! {
                        <div class="page">
                            <div class="empty-state" data-test="error">
                                <div class="empty-code">"404"</div>
                                <h1>"No such change"</h1>
                                <p class="subtle">{format!("There is no AI change with the id “{}”.", id.get_untracked())}</p>
                                <a class="btn btn-primary" href="/">"Go to all changes"</a>
                            </div>
                        </div>
                    }.into_any(),
                    Err(e) => view! {
                        <div class="page">
                            <a class="back-link" href="/">"← All changes"</a>
                            <ErrorBanner error=e retry=reload />
                        </div>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Which dialog is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    Advance,
    Skip,
    RollBack,
}

/// The stages after the next one that have traffic, so their gates can be signed ahead: what an
/// admin's skip to them needs. Empty once the rollout is over.
fn later_gates(plan: &RolloutPlan, state: RolloutState) -> Vec<(RolloutState, String)> {
    let Some(next) = next_stage(plan, state).filter(|_| !state.is_terminal()) else {
        return Vec::new();
    };
    shared::rollout::stages(plan)
        .into_iter()
        .skip_while(|s| *s != next)
        .skip(1)
        .filter(|s| s.traffic_percent(plan) > 0.0)
        .map(|s| (s, gate_title(Some(s), Some(&s.label(plan)))))
        .collect()
}

#[component]
fn ChangeView(detail: ChangeDetail, reload: Callback<()>) -> impl IntoView {
    let ChangeDetail { change, history } = detail;
    let c = change;
    let state = c.state;
    let plan = c.plan.clone();
    let rolled_back = state == RolloutState::RolledBack;
    // Bumped when a notice is saved, published or acknowledged: the gate may ask for notices.
    let gate_version = RwSignal::new(0_u32);
    let later_gates = later_gates(&plan, state);
    let last_rollback = history
        .iter()
        .rev()
        .find(|r| r.action == TransitionAction::RollBack)
        .cloned();

    view! {
        <div class="page change-page">
            <a class="back-link" href="/">"← All changes"</a>
            <header class="change-head">
                <div class="change-head-main">
                    <div class="eyebrow">
                        <KindTag kind=c.kind />
                        <RiskTag risk=c.risk />
                        <span class="mono subtle" title="Change id">{c.id.clone()}</span>
                    </div>
                    <h1 class="change-title">{c.title.clone()}</h1>
                    <div class="meta-row">
                        <StateBadge state=state label=state.label(&plan) />
                        <span class="meta-item"><span class="subtle">"Owner "</span><strong>{c.owner.clone()}</strong></span>
                        {c.product_area.clone().map(|area| {
                            let href = format!("/feed?area={}", api::encode(&area));
                            view! {
                                <span class="meta-item" data-test="product-area">
                                    <span class="subtle">"Area "</span>
                                    <a href=href title="Changes in this area, as support sees them">{area}</a>
                                </span>
                            }
                        })}
                        <span class="meta-item" title=format::date_time(&c.updated_at)>
                            <span class="subtle">"Updated "</span>{format::relative_time(&c.updated_at)}
                        </span>
                        <span class="meta-item subtle" title=format::date_time(&c.created_at)>
                            {format!("Created {}", format::date(&c.created_at))}
                        </span>
                    </div>
                </div>
                <div class="traffic-callout" class:is-rolled-back=rolled_back>
                    <span class="callout-label">"Candidate traffic"</span>
                    <span class="callout-value" data-test="traffic">{format::percent(c.traffic_percent)}</span>
                    <TrafficBar percent=c.traffic_percent rolled_back=rolled_back />
                </div>
            </header>
            <ChangeTabs id=c.id.clone() compare=false />

            <GatePanel change_id=c.id.clone() version=gate_version later=later_gates />

            <section class="card rollout-card">
                <div class="card-head">
                    <div>
                        <h2>"Rollout"</h2>
                        <p class="card-sub">{rollout_sentence(&c)}</p>
                    </div>
                    <Actions change=c.clone() reload=reload />
                </div>
                {last_rollback.filter(|_| rolled_back).map(|r| view! {
                    <div class="banner banner-rollback" role="status">
                        <strong>{format!("Rolled back from {} by {}", r.from_label, r.actor)}</strong>
                        <span class="subtle" title=format::date_time(&r.at)>{format!(" · {}", format::relative_time(&r.at))}</span>
                        {r.reason.clone().map(|reason| view! { <p>{reason}</p> })}
                    </div>
                })}
                <Timeline plan=plan.clone() state=state history=history.clone() />
            </section>

            <div class="change-grid">
                <div class="change-main">
                    <WhatChanges change=c.clone() />
                    <NoticesPanel change_id=c.id.clone() plan=plan.clone() expected=c.expected_changes.clone()
                        on_change=Callback::new(move |_| gate_version.update(|v| *v = v.wrapping_add(1))) />
                    <PlanPanel plan=plan.clone() frozen=!state.plan_is_editable() />
                    // Service tokens are an admin's business (the server refuses everyone else).
                    {session::has_any(&[Role::Admin]).then(|| view! { <TokensPanel change_id=c.id.clone() /> })}
                </div>
                <aside class="change-side">
                    <History history=history created_at=c.created_at.clone() />
                </aside>
            </div>
        </div>
    }
}

fn rollout_sentence(c: &AiChange) -> String {
    match c.state {
        RolloutState::Draft => {
            "Draft: nothing is served yet. The plan can still be edited; it freezes when the rollout starts.".into()
        }
        RolloutState::Eval => "At the offline eval gate: no production traffic yet.".into(),
        RolloutState::RolledBack => "Rolled back: all traffic is on the baseline again.".into(),
        RolloutState::Reviewed => "Finished and reviewed.".into(),
        s => format!(
            "{} of traffic on the candidate ({}).",
            format::percent(c.traffic_percent),
            s.label(&c.plan)
        ),
    }
}

/// The buttons that move the rollout, each behind a confirmation. Which ones appear follows
/// the shared state machine, so the console never offers a move the server would refuse.
#[component]
fn Actions(change: AiChange, reload: Callback<()>) -> impl IntoView {
    let ask = RwSignal::new(None::<Ask>);
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let state = change.state;
    let plan = change.plan.clone();
    let next = next_stage(&plan, state).filter(|_| !state.is_terminal());
    // Skip is offered only where the state machine allows it (never over full or the review).
    let skip_target =
        next.filter(|_| transition(&plan, state, TransitionAction::Skip, Some("check")).is_ok());
    // Who may make which move is the server's rule (`http::authz::transition_roles`); buttons
    // the user could only get a 403 from are not shown.
    let may = |roles: &[Role]| session::has_any(roles);
    let next = next.filter(|_| may(&[Role::Engineer, Role::Admin]));
    let skip_target = skip_target.filter(|_| may(&[Role::Admin]));
    let can_roll_back = state.is_live() && may(&[Role::Engineer, Role::Approver, Role::Admin]);
    let editable = state.plan_is_editable() && may(EDITORS);
    let id = StoredValue::new(change.id.clone());
    let revision = change.revision;
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
        let verdict = plan_s.with_value(|p| transition(p, state, action, reason.as_deref()));
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

    let dialog = {
        let next_name = next_name.clone();
        let skip_name = skip_name.clone();
        move || {
            let a = ask.get()?;
            let cancel = Callback::new(move |_| ask.set(None));
            Some(match a {
                Ask::Advance => {
                    let to = next_name.clone().unwrap_or_default();
                    view! {
                        <ConfirmDialog
                            title=format!("Advance to {to}?")
                            body=advance_body(state, &to)
                            confirm_label=format!("Advance to {to}")
                            tone=Tone::Primary
                            reason_label="Note (optional)"
                            reason_placeholder="e.g. eval bench passed at 94%, no new safety failures"
                            on_confirm=Callback::new(move |r| run.run((TransitionAction::Advance, r)))
                            on_cancel=cancel
                            pending=pending
                            error=error
                        />
                    }
                }
                Ask::Skip => {
                    let skipped = skip_name.clone().unwrap_or_default();
                    let to = after_skip.clone().unwrap_or_default();
                    view! {
                        <ConfirmDialog
                            title=format!("Skip {skipped}?")
                            body=format!("The rollout jumps over {skipped} straight to {to}. Skipping a stage needs a written justification; it is recorded in the history for everyone to read.")
                            confirm_label=format!("Skip {skipped}")
                            tone=Tone::Primary
                            reason_label="Justification (required)"
                            reason_placeholder="Why is it safe to skip this stage?"
                            on_confirm=Callback::new(move |r| run.run((TransitionAction::Skip, r)))
                            on_cancel=cancel
                            pending=pending
                            error=error
                        />
                    }
                }
                Ask::RollBack => view! {
                    <ConfirmDialog
                        title="Roll back this change?"
                        body=format!("All traffic returns to the baseline configuration immediately. The rollout ends at {current_name}; this cannot be undone.")
                        confirm_label="Roll back now"
                        tone=Tone::Danger
                        reason_label="Reason (required)"
                        reason_placeholder="e.g. cost_per_request +22% on canary; hard errors up in es"
                        on_confirm=Callback::new(move |r| run.run((TransitionAction::RollBack, r)))
                        on_cancel=cancel
                        pending=pending
                        error=error
                    />
                },
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
            {can_roll_back.then(|| view! {
                <button type="button" class="btn btn-danger" data-test="rollback" on:click=move |_| open(Ask::RollBack)>
                    <svg viewBox="0 0 16 16" aria-hidden="true"><path d="M5.5 4L3 6.5 5.5 9M3.5 6.5h6a3.5 3.5 0 010 7H7" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"></path></svg>
                    "Roll back"
                </button>
            })}
            {next_name.clone().map(|n| view! {
                <button type="button" class="btn btn-primary" data-test="advance" on:click=move |_| open(Ask::Advance)>
                    {format!("Advance to {n}")}
                    <svg viewBox="0 0 16 16" aria-hidden="true"><path d="M3 8h9M8.5 4.5L12 8l-3.5 3.5" fill="none" stroke="currentColor" stroke-width="1.7" stroke-linecap="round" stroke-linejoin="round"></path></svg>
                </button>
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
            "Record that the post-deployment review is done. This finishes the rollout.".into()
        }
        _ => format!(
            "The candidate moves to {to}. Check the evidence for the current stage before you go on."
        ),
    }
}

/// Baseline and candidate configuration side by side, lines that differ highlighted.
#[component]
fn WhatChanges(change: AiChange) -> impl IntoView {
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
fn PlanPanel(plan: RolloutPlan, frozen: bool) -> impl IntoView {
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
                    <td><strong>{format::percent(s.percent)}</strong></td>
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
fn History(history: Vec<TransitionRecord>, created_at: String) -> impl IntoView {
    let count = history.len();
    let entries = history
        .into_iter()
        .rev()
        .map(|r| {
            let (verb, class) = match r.action {
                TransitionAction::Advance => ("Advanced", "act-advance"),
                TransitionAction::Skip => ("Skipped", "act-skip"),
                TransitionAction::RollBack => ("Rolled back", "act-rollback"),
            };
            view! {
                <li class=format!("history-entry {class}") data-test="history-entry" data-action=r.action.as_str()>
                    <span class="history-dot" aria-hidden="true"></span>
                    <div class="history-body">
                        <div class="history-line">
                            <span class="history-verb">{verb}</span>
                            <span class="history-move">{r.from_label}" → "{r.to_label}</span>
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
