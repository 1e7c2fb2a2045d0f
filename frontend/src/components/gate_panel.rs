//! The sign-off of the next stage, on the change page: which roles must sign, who has, who is
//! missing, each signature with the evidence it was given, and the Approve / Reject buttons.
//! The gate rules are the server's (`shared::approvals`); this only shows and asks.

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::approvals::{
    ApprovalRecord, ApprovalRequest, Decision, EvidenceSnapshot, GateStatus, Requirement,
};
use shared::auth::{Role, User};
use shared::rollout::RolloutState;

use crate::api::{self, ApiError};
use crate::components::dialog::{ConfirmDialog, Tone};
use crate::components::error_banner::ErrorBanner;
use crate::components::skeleton::SkeletonLine;
use crate::{format, session};

/// "Start canary 5%", "Ramp to 25%", "Go to full traffic": what entering `stage` means.
pub fn gate_title(stage: Option<RolloutState>, label: Option<&str>) -> String {
    let label = label.unwrap_or("the next stage");
    match stage {
        Some(RolloutState::Canary) => format!("Start {}", label.to_lowercase()),
        Some(RolloutState::Ramp { .. }) => match label.strip_prefix("Ramp ") {
            Some(p) => format!("Ramp to {p}"),
            None => label.to_string(),
        },
        Some(RolloutState::Full) => "Go to full traffic".into(),
        Some(RolloutState::Reviewed) => "Finish with the review".into(),
        _ => format!("Enter {label}"),
    }
}

/// The panel; fetches the gate itself so that signing refreshes only this part of the page.
#[component]
pub fn GatePanel(#[prop(into)] change_id: String) -> impl IntoView {
    let id = StoredValue::new(change_id);
    let gate = LocalResource::new(move || {
        let id = id.get_value();
        async move { api::gate(&id).await }
    });
    let reload = Callback::new(move |_| gate.refetch());
    view! {
        <Transition fallback=|| view! {
            <section class="card gate-card" aria-busy="true"><SkeletonLine width="30%" /><SkeletonLine width="60%" /></section>
        }>
            {move || Suspend::new(async move {
                match gate.await {
                    // A finished rollout has no gate ahead: nothing to sign.
                    Ok(g) if g.stage.is_none() => ().into_any(),
                    Ok(g) => view! { <GateView gate=g id=id.get_value() reload=reload /> }.into_any(),
                    Err(e) => view! {
                        <section class="card gate-card" data-test="gate"><ErrorBanner error=e retry=reload /></section>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn GateView(gate: GateStatus, id: String, reload: Callback<()>) -> impl IntoView {
    let me = session::user();
    let title = gate_title(gate.stage, gate.stage_label.as_deref());
    let blocked = !gate.rejections.is_empty();
    let (status_class, status_text) = if gate.satisfied {
        ("gate-ok", "Approved")
    } else if blocked {
        ("gate-blocked", "Rejected")
    } else {
        ("gate-waiting", "Waiting for sign-off")
    };
    let roles = gate
        .required
        .iter()
        .map(|r| role_row(r, &gate.approvals))
        .collect_view();
    let missing = (!gate.missing.is_empty()).then(|| {
        let tags = gate
            .missing
            .iter()
            .map(|m| {
                let n = if m.missing > 1 {
                    format!(" ×{}", m.missing)
                } else {
                    String::new()
                };
                view! { <span class="tag tag-missing" data-role=m.role.as_str()>{format!("{}{n}", m.role.as_str())}</span> }
            })
            .collect_view();
        view! { <p class="gate-missing" data-test="gate-missing"><span class="subtle">"Missing: "</span>{tags}</p> }
    });
    let signatures: Vec<ApprovalRecord> = gate
        .rejections
        .iter()
        .chain(&gate.approvals)
        .cloned()
        .collect();
    let sigs = (!signatures.is_empty()).then(|| {
        view! { <ul class="signatures">{signatures.into_iter().map(signature).collect_view()}</ul> }
    });
    let needs_nobody = gate.required.is_empty();

    view! {
        <section class="card gate-card" data-test="gate" data-satisfied=gate.satisfied.to_string()>
            <div class="card-head">
                <div>
                    <h2>{format!("Sign-off · {title}")}</h2>
                    <p class="card-sub" data-test="gate-message">{format::capitalise(&gate.message)}"."</p>
                </div>
                <span class=format!("gate-status {status_class}")>{status_text}</span>
            </div>
            {if needs_nobody {
                view! { <p class="subtle">"The approval policy asks nobody to sign this stage for this risk tier."</p> }.into_any()
            } else {
                view! {
                    <div class="gate-roles">{roles}</div>
                    {missing}
                    {sigs}
                    <SignButtons gate=gate.clone() me=me id=id reload=reload />
                }.into_any()
            }}
        </section>
    }
}

/// One required role: how many signed of how many, and who.
fn role_row(r: &Requirement, approvals: &[ApprovalRecord]) -> impl IntoView + use<> {
    let signers: Vec<String> = approvals
        .iter()
        .filter(|a| a.role == r.role)
        .map(|a| a.user.name.clone())
        .collect();
    let done = signers.len() as u32 >= r.count;
    let who = if signers.is_empty() {
        "nobody yet".to_string()
    } else {
        signers.join(", ")
    };
    view! {
        <div class="gate-role" class:done=done data-role=r.role.as_str()>
            <span class="gate-check" aria-hidden="true">{if done { "✓" } else { "" }}</span>
            <span class="gate-role-name">{r.role.label()}</span>
            <span class="gate-count">{format!("{} of {}", signers.len().min(r.count as usize), r.count)}</span>
            <span class="subtle gate-who">{who}</span>
        </div>
    }
}

fn signature(s: ApprovalRecord) -> impl IntoView {
    let (verb, class) = match s.decision {
        Decision::Approve => ("approved", "sig-approve"),
        Decision::Reject => ("rejected", "sig-reject"),
    };
    view! {
        <li class=format!("signature {class}") data-test="signature" data-decision=s.decision.as_str()>
            <div class="signature-line">
                <strong>{s.user.name.clone()}</strong>
                {format!(" {verb} as ")}
                <span class="tag">{s.role.as_str()}</span>
                <span class="subtle" title=format::date_time(&s.at)>{format!(" · {}", format::relative_time(&s.at))}</span>
            </div>
            {s.comment.filter(|c| !c.trim().is_empty()).map(|c| view! { <blockquote class="history-reason">{c}</blockquote> })}
            <details class="evidence" data-test="evidence">
                <summary>"View evidence"</summary>
                <Evidence e=s.evidence />
            </details>
        </li>
    }
}

#[component]
pub fn Evidence(e: EvidenceSnapshot) -> impl IntoView {
    let overall = e.overall.clone().unwrap_or_else(|| "no metrics yet".into());
    let rows = e
        .verdicts
        .into_iter()
        .map(|v| {
            let num = |x: Option<f64>| x.map(format::number).unwrap_or_else(|| "—".into());
            let verdict = v.verdict.unwrap_or_else(|| "—".into());
            view! {
                <tr>
                    <td class="mono">{v.metric}</td>
                    <td>{v.criterion.unwrap_or_default()}</td>
                    <td class="num">{num(v.control)}</td>
                    <td class="num">{num(v.candidate)}</td>
                    <td><span class=format!("verdict verdict-{verdict}")>{verdict.clone()}</span></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="evidence-body">
            <p class="subtle">{format!("Plan revision {} · overall verdict: {overall}", e.plan_revision)}</p>
            <table class="table table-compact">
                <thead><tr><th>"Metric"</th><th>"Criterion"</th><th>"Control"</th><th>"Candidate"</th><th>"Verdict"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// Approve and Reject, or why the user cannot sign.
#[component]
fn SignButtons(
    gate: GateStatus,
    me: Option<User>,
    id: String,
    reload: Callback<()>,
) -> impl IntoView {
    let Some(me) = me else { return ().into_any() };
    let authored = gate.author.as_ref().is_some_and(|a| a.id == me.id);
    // The roles the user could sign as: those the gate asks for, still-missing ones first.
    let mut roles: Vec<Role> = gate
        .required
        .iter()
        .map(|r| r.role)
        .filter(|r| me.has_role(*r))
        .collect();
    roles.sort_by_key(|r| !gate.missing.iter().any(|m| m.role == *r));
    let mine = gate
        .approvals
        .iter()
        .chain(&gate.rejections)
        .find(|s| s.user.id == me.id)
        .map(|s| {
            format!(
                "You {} as {}.",
                if s.decision == Decision::Approve {
                    "approved"
                } else {
                    "rejected"
                },
                s.role.as_str()
            )
        });
    if authored {
        return view! { <p class="gate-note" data-test="gate-note">"You authored this change; someone else must approve it."</p> }.into_any();
    }
    if roles.is_empty() {
        let needed = gate
            .required
            .iter()
            .map(|r| r.role.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        return view! {
            <p class="gate-note" data-test="gate-note">{format!("This gate needs {needed}; you hold none of these roles, so you cannot sign it.")}</p>
        }
        .into_any();
    }

    let ask = RwSignal::new(None::<Decision>);
    let role = RwSignal::new(roles[0]);
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let id = StoredValue::new(id);
    let (revision, stage) = (gate.revision, gate.stage);
    let title = gate_title(gate.stage, gate.stage_label.as_deref());
    let roles = StoredValue::new(roles);
    let open = move |d: Decision| {
        error.set(None);
        ask.set(Some(d));
    };
    let sign = Callback::new(move |comment: String| {
        let Some(decision) = ask.get_untracked() else {
            return;
        };
        let comment = comment.trim().to_string();
        let body = ApprovalRequest {
            decision,
            role: role.get_untracked(),
            comment: (!comment.is_empty()).then_some(comment),
            revision,
            stage,
        };
        pending.set(true);
        error.set(None);
        spawn_local(async move {
            match api::sign(&id.get_value(), &body).await {
                Ok(_) => {
                    ask.set(None);
                    reload.run(());
                }
                Err(e) => error.set(Some(e)),
            }
            pending.set(false);
        });
    });
    let dialog = move || {
        let d = ask.get()?;
        let (verb, tone, body) = match d {
            Decision::Approve => (
                "Approve",
                Tone::Primary,
                "Your approval records the evidence shown now (plan revision and metric verdicts). Editing the plan afterwards resets it.",
            ),
            Decision::Reject => (
                "Reject",
                Tone::Danger,
                "A rejection blocks the gate until the plan changes or you approve. Say what must change.",
            ),
        };
        let choices = roles.get_value();
        let single = choices.len() == 1;
        Some(view! {
            <ConfirmDialog
                title=format!("{verb}: {}?", title)
                body=body
                confirm_label=verb
                tone=tone
                reason_label=if d == Decision::Reject { "Comment (what must change)" } else { "Comment (optional)" }
                reason_placeholder="e.g. canary numbers look fine; es latency within margin"
                reason_test="approval-comment"
                on_confirm=sign
                on_cancel=Callback::new(move |_| ask.set(None))
                pending=pending
                error=error
            >
                <label class="field">
                    <span class="field-label">"Sign as"</span>
                    <select name="role" data-test="approval-role" disabled=single
                        on:change=move |e| if let Some(r) = Role::parse(&event_target_value(&e)) { role.set(r) }>
                        {choices.into_iter().map(|r| view! {
                            <option value=r.as_str() selected=move || role.get() == r>{r.label()}</option>
                        }).collect_view()}
                    </select>
                </label>
            </ConfirmDialog>
        })
    };
    view! {
        <div class="gate-actions">
            <span class="subtle">{mine}</span>
            <button type="button" class="btn btn-danger" data-test="reject" on:click=move |_| open(Decision::Reject)>"Reject"</button>
            <button type="button" class="btn btn-primary" data-test="approve" on:click=move |_| open(Decision::Approve)>"Approve"</button>
        </div>
        {dialog}
    }
    .into_any()
}
