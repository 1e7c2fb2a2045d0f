//! The sign-off of the next stage, on the change page: which roles must sign, who has, who is
//! missing, each signature with the evidence it was given, and the Approve / Reject buttons.
//! A later stage's gate can be chosen too, to sign ahead (what an admin's skip to that stage
//! needs).
//! The gate rules are the server's (`shared::approvals`); this only shows and asks. Approving a
//! change in breach asks the signer to tick "I have seen the breach" first (the server refuses
//! the approval without it).
//!
//! This module holds the panel and its buttons; [`details`] what the gate shows.

mod details;

use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::approvals::{self as approvals, ApprovalRequest, Decision, GateStatus, Missing};
use shared::auth::Role;
use shared::health::{ChangeHealth, HealthKind};
use shared::notices::NoticeRequirement;
use shared::rollout::RolloutState;

use crate::api::{self, ApiError};
use crate::components::dialog::{ConfirmDialog, Tone};
use crate::components::error_banner::ErrorBanner;
use crate::components::load::Loaded;
use crate::components::skeleton::SkeletonLine;
use crate::{format, session};
use details::GateDetails;

/// "Start canary 5%", "Ramp to 25%", "Go to full traffic": what entering `stage` means.
pub fn gate_title(stage: Option<RolloutState>, label: Option<&str>) -> String {
    let label = label.unwrap_or("the next stage");
    match stage {
        Some(RolloutState::Canary) => format!("Start {}", label.to_ascii_lowercase()),
        Some(RolloutState::Ramp { .. }) => match label.strip_prefix("Ramp ") {
            Some(p) => format!("Ramp to {p}"),
            None => label.to_string(),
        },
        Some(RolloutState::Full) => "Go to full traffic".into(),
        Some(RolloutState::Reviewed) => "Finish with the review".into(),
        _ => format!("Enter {label}"),
    }
}

/// The gate's status pill: its class and text ("Missing pm, approver ×2" when waiting;
/// "Waiting for evidence" when signed but some evidence check does not hold yet).
pub fn gate_state(g: &GateStatus) -> (&'static str, String) {
    // The console does not decode the evidence checks; the message ends so only when nothing
    // is missing (`app::gates::status`), the same test as the Advance button's.
    if g.satisfied && g.message.ends_with(" is approved") {
        ("gate-ok", "Approved".into())
    } else if g.satisfied {
        ("gate-waiting", "Waiting for evidence".into())
    } else if !g.rejections.is_empty() {
        ("gate-blocked", "Rejected".into())
    } else {
        let mut missing: Vec<String> = g.missing.iter().map(missing_text).collect();
        missing.extend(
            g.notices
                .iter()
                .filter(|n| !n.satisfied)
                .map(|n| notice_short(n.requirement, &n.team)),
        );
        ("gate-waiting", format!("Missing {}", missing.join(", ")))
    }
}

/// "notice to Support", "Support acknowledgement".
fn notice_short(r: NoticeRequirement, team: &str) -> String {
    match r {
        NoticeRequirement::PublishedBeforeCanary => format!("notice to {team}"),
        NoticeRequirement::AcknowledgedBeforeWideRamp => format!("{team} acknowledgement"),
    }
}

/// "pm", or "approver ×2".
fn missing_text(m: &Missing) -> String {
    if m.missing > 1 {
        format!("{} ×{}", m.role.as_str(), m.missing)
    } else {
        m.role.as_str().to_string()
    }
}

/// The panel; fetches the gate itself so that signing refreshes only this part of the page.
#[component]
pub fn GatePanel(
    #[prop(into)] change_id: String,
    /// Refetches the gate when it changes (a notice was published or acknowledged).
    #[prop(optional, into)]
    version: Option<Signal<u32>>,
    /// The stages after the next one whose gates may be signed ahead, with their titles.
    #[prop(optional)]
    later: Vec<(RolloutState, String)>,
    /// The change's health: the Approve dialog asks to confirm a breach.
    #[prop(optional)]
    health: Option<ChangeHealth>,
) -> impl IntoView {
    let id = StoredValue::new(change_id);
    let breach = StoredValue::new(
        health
            .filter(|h| h.kind == HealthKind::Breach)
            .map(|h| h.reason),
    );
    // `None`: the next stage's gate.
    let stage = RwSignal::new(None::<RolloutState>);
    let gate = Loaded::new(
        move || {
            if let Some(v) = version {
                v.track();
            }
            (id.get_value(), stage.get())
        },
        |(id, stage)| async move { api::gate(&id, stage).await },
    );
    let later = StoredValue::new(later);
    let picker = move || {
        let later = later.get_value();
        (!later.is_empty()).then(|| {
            let chosen = stage.get_untracked();
            view! {
                <label class="gate-picker">
                    <span class="subtle">"Gate"</span>
                    <select data-test="gate-stage" on:change=move |e| {
                        stage.set(approvals::parse_stage_key(&event_target_value(&e)));
                    }>
                        <option value="" selected=chosen.is_none()>"Next stage"</option>
                        {later.into_iter().map(|(s, title)| view! {
                            <option value=approvals::stage_key(s) selected=chosen == Some(s)>{title}</option>
                        }).collect_view()}
                    </select>
                </label>
            }
        })
    };
    let reload = Callback::new(move |_| gate.refetch());
    move || {
        match gate.get() {
        None => view! {
            <section class="card gate-card" aria-busy="true"><SkeletonLine width="30%" /><SkeletonLine width="60%" /></section>
        }
        .into_any(),
        // A finished rollout has no gate ahead: nothing to sign.
        Some(Ok(g)) if g.stage.is_none() => ().into_any(),
        Some(Ok(g)) => {
            let (class, status) = gate_state(&g);
            let status = if g.satisfied || !g.rejections.is_empty() {
                status
            } else {
                "Waiting for sign-off".into()
            };
            view! {
                <section class="card gate-card" data-test="gate" data-satisfied=g.satisfied.to_string()>
                    <div class="card-head">
                        <div>
                            <h2>{format!("Sign-off · {}", gate_title(g.stage, g.stage_label.as_deref()))}</h2>
                            <p class="card-sub" data-test="gate-message">{format!("{}.", format::capitalise(&g.message))}</p>
                            {stage.get_untracked().is_some().then(|| view! {
                                <p class="card-sub">"Signing ahead: it counts when the rollout enters this stage, by advancing or by a skip."</p>
                            })}
                        </div>
                        <div class="gate-head-side">
                            {picker()}
                            <span class=format!("gate-status {class}")>{status}</span>
                        </div>
                    </div>
                    <div><GateDetails gate=g.clone() /></div>
                    {(!g.required.is_empty()).then(|| view! { <SignButtons gate=g.clone() id=id.get_value() reload=reload breach=breach.get_value() /> })}
                </section>
            }
            .into_any()
        }
        Some(Err(e)) => view! {
            <section class="card gate-card" data-test="gate"><ErrorBanner error=e retry=reload /></section>
        }
        .into_any(),
    }
    }
}

/// Approve and Reject, or why the user cannot sign.
#[component]
fn SignButtons(
    gate: GateStatus,
    id: String,
    reload: Callback<()>,
    /// The breach's reason when the change is in breach.
    breach: Option<String>,
) -> impl IntoView {
    let Some(me) = session::user() else {
        return ().into_any();
    };
    let authored = gate.shaped_by(&me.id);
    // The roles the user could sign as: those the gate asks for, still-missing ones first. The
    // author signs only as the requesting engineer; every other role must be someone else
    // (separation of duties, enforced by the server).
    let mut roles: Vec<Role> = gate
        .required
        .iter()
        .map(|r| r.role)
        .filter(|r| me.has_role(*r) && (!authored || *r == Role::Engineer))
        .collect();
    roles.sort_by_key(|r| !gate.missing.iter().any(|m| m.role == *r));
    let signed = gate
        .approvals
        .iter()
        .chain(&gate.rejections)
        .find(|s| s.user.id == me.id);
    // What the user already decided is not offered again; the other decision stays, as the
    // server lets a signer change their mind.
    let decided = signed.map(|s| s.decision);
    let mine = signed.map(|s| {
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
    let did = if gate.authored_by(&me.id) {
        "created"
    } else {
        "edited"
    };
    if authored && roles.is_empty() {
        let text = format!("You {did} this change; someone else must approve it.");
        return view! { <p class="gate-note" data-test="gate-note">{text}</p> }.into_any();
    }
    let note = authored.then(|| {
        format!(
            "You {did} this change: you may sign only as its requesting engineer; the other roles must come from someone else."
        )
    });
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
    // Asked when the page showed a breach, or when the server found one since.
    let breach = RwSignal::new(breach);
    let seen = RwSignal::new(false);
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
            seen_breach: decision == Decision::Approve && seen.get_untracked(),
        };
        pending.set(true);
        error.set(None);
        spawn_local(async move {
            match api::sign(&id.get_value(), &body).await {
                Ok(_) => {
                    ask.set(None);
                    session::inbox_changed();
                    reload.run(());
                }
                Err(e) => {
                    if e.field() == Some("seen_breach") && breach.get_untracked().is_none() {
                        breach.set(Some(e.message()));
                    }
                    error.set(Some(e));
                }
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
        let confirm = breach.get().filter(|_| d == Decision::Approve);
        let need = confirm.is_some();
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
                hold=Signal::derive(move || need && !seen.get())
            >
                {confirm.map(|why| view! {
                    <div class="banner banner-rollback" role="alert" data-test="breach-warning">
                        <strong>"This change is in breach"</strong>
                        <p>{why}</p>
                    </div>
                    <label class="seen-breach">
                        <input type="checkbox" data-test="seen-breach" bind:checked=seen />
                        " I have seen the breach"
                    </label>
                })}
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
        {note.map(|n| view! { <p class="gate-note" data-test="gate-note">{n}</p> })}
        <div class="gate-actions">
            <span class="subtle">{mine}</span>
            <button type="button" class="btn btn-danger" data-test="reject" disabled=decided == Some(Decision::Reject) on:click=move |_| open(Decision::Reject)>"Reject"</button>
            <button type="button" class="btn btn-primary" data-test="approve" disabled=decided == Some(Decision::Approve) on:click=move |_| open(Decision::Approve)>"Approve"</button>
        </div>
        {dialog}
    }
    .into_any()
}
