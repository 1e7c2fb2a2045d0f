//! The approvals inbox: gates waiting for the user's signature, gates waiting for someone else,
//! and gates the user has signed. The tab lives in the URL so it can be linked to.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use shared::approvals::{InboxItem, InboxScope};

use crate::api;
use crate::components::error_banner::ErrorBanner;
use crate::components::gate_panel::gate_title;
use crate::components::skeleton::TableSkeleton;
use crate::components::tags::RiskTag;
use crate::{format, session};

const TABS: [(InboxScope, &str, &str, &str); 3] = [
    (
        InboxScope::WaitingForMe,
        "Waiting for me",
        "tab-waiting-for-me",
        "Nothing waits for your signature.",
    ),
    (
        InboxScope::WaitingForOthers,
        "Waiting for others",
        "tab-waiting-for-others",
        "No gate is waiting for someone else.",
    ),
    (
        InboxScope::Decided,
        "Decided",
        "tab-decided",
        "You have not signed any gate yet.",
    ),
];

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    let query = use_query_map();
    let scope = Memo::new(move |_| {
        let tab = query.read().get("tab");
        TABS.iter()
            .map(|t| t.0)
            .find(|s| Some(api::scope_name(*s)) == tab.as_deref())
            .unwrap_or(InboxScope::WaitingForMe)
    });
    let data = LocalResource::new(move || {
        let s = scope.get();
        async move { api::inbox(s).await }
    });
    let reload = Callback::new(move |_| data.refetch());
    let me = session::user().map(|u| u.id).unwrap_or_default();
    let me = StoredValue::new(me);

    view! {
        <div class="page">
            <div class="page-head">
                <div>
                    <h1>"Approvals"</h1>
                    <p class="page-lede">"Every stage of a rollout can ask named roles to sign before it starts. These are the gates waiting now, and the ones you signed."</p>
                </div>
            </div>
            <nav class="change-tabs" aria-label="Inbox">
                {TABS.iter().map(|&(s, label, test, _)| view! {
                    <a href=format!("/approvals?tab={}", api::scope_name(s)) data-test=test
                        class:active=move || scope.get() == s
                        aria-current=move || (scope.get() == s).then_some("page")>{label}</a>
                }).collect_view()}
            </nav>
            <Transition fallback=|| view! { <TableSkeleton rows=3 /> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(inbox) if inbox.items.is_empty() => {
                            let empty = TABS.iter().find(|t| t.0 == inbox.scope).map(|t| t.3).unwrap_or("Nothing here.");
                            view! {
                                <div class="card empty-state empty-inline" data-test="inbox-empty">
                                    <h2>"All clear"</h2>
                                    <p class="subtle">{empty}</p>
                                </div>
                            }.into_any()
                        }
                        Ok(inbox) => view! {
                            <ul class="inbox">
                                {inbox.items.into_iter().map(|i| entry(i, &me.get_value())).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(e) => view! { <ErrorBanner error=e retry=reload /> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

fn entry(item: InboxItem, me: &str) -> impl IntoView + use<> {
    let g = &item.gate;
    let title = gate_title(g.stage, g.stage_label.as_deref());
    let signatures: Vec<_> = g.approvals.iter().chain(&g.rejections).collect();
    let mine = signatures.iter().find(|s| s.user.id == me).map(|s| {
        format!(
            "You {} as {}",
            if s.decision == shared::approvals::Decision::Approve {
                "approved"
            } else {
                "rejected"
            },
            s.role.as_str()
        )
    });
    // The most recent signature dates the entry; a gate nobody signed yet has none.
    let latest = signatures.iter().map(|s| s.at.clone()).max();
    let status = if g.satisfied {
        "Approved".to_string()
    } else if !g.rejections.is_empty() {
        "Rejected".to_string()
    } else {
        let missing = g
            .missing
            .iter()
            .map(|m| {
                if m.missing > 1 {
                    format!("{} ×{}", m.role.as_str(), m.missing)
                } else {
                    m.role.as_str().to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        format!("Missing {missing}")
    };
    let status_class = if g.satisfied {
        "gate-ok"
    } else if !g.rejections.is_empty() {
        "gate-blocked"
    } else {
        "gate-waiting"
    };
    view! {
        <li class="inbox-entry card" data-test="inbox-entry" data-change-id=item.change_id.clone()>
            <a class="inbox-link" href=format!("/changes/{}", item.change_id)>
                <div class="inbox-main">
                    <strong class="inbox-title">{item.title.clone()}</strong>
                    <div class="inbox-meta">
                        <span class="gate-name" data-test="inbox-gate">{title}</span>
                        <RiskTag risk=item.risk short=true />
                        <span class="subtle">{format!("Now at {}", item.state_label)}</span>
                    </div>
                </div>
                <div class="inbox-side">
                    <span class=format!("gate-status {status_class}") data-test="inbox-missing">{status}</span>
                    <span class="subtle inbox-age">
                        {match (mine, latest) {
                            (Some(m), Some(at)) => format!("{m} · {}", format::relative_time(&at)),
                            (None, Some(at)) => format!("Last signed {}", format::relative_time(&at)),
                            (_, None) => "No signatures yet".to_string(),
                        }}
                    </span>
                </div>
            </a>
        </li>
    }
}
