//! The approvals inbox: gates waiting for the user's signature, gates waiting for someone else,
//! and gates the user has signed. The tab lives in the URL so it can be linked to.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use shared::approvals::{Decision, Inbox, InboxItem, InboxScope};

use crate::api;
use crate::components::gate_panel::{gate_state, gate_title};
use crate::components::health::HealthChip;
use crate::components::load::Loaded;
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
    let data = Loaded::new(move || scope.get(), api::inbox);
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
            {data.view(|| view! { <TableSkeleton rows=3 /> }.into_any(), move |inbox: Inbox| {
                if inbox.items.is_empty() {
                    let empty = TABS.iter().find(|t| t.0 == inbox.scope).map(|t| t.3).unwrap_or("Nothing here.");
                    view! {
                        <div class="card empty-state empty-inline" data-test="inbox-empty">
                            <h2>"All clear"</h2>
                            <p class="subtle">{empty}</p>
                        </div>
                    }.into_any()
                } else {
                    let me = me.get_value();
                    view! {
                        <ul class="inbox">
                            {inbox.items.into_iter().map(|i| view! { <InboxEntry item=i me=me.clone() /> }).collect_view()}
                        </ul>
                    }.into_any()
                }
            })}
        </div>
    }
}

/// One gate in the inbox, linking to its change.
#[component]
fn InboxEntry(item: InboxItem, #[prop(into)] me: String) -> impl IntoView {
    let g = &item.gate;
    let title = gate_title(g.stage, g.stage_label.as_deref());
    let signatures: Vec<_> = g.approvals.iter().chain(&g.rejections).collect();
    let mine = signatures.iter().find(|s| s.user.id == me).map(|s| {
        format!(
            "You {} as {}",
            if s.decision == Decision::Approve {
                "approved"
            } else {
                "rejected"
            },
            s.role.as_str()
        )
    });
    // The most recent signature dates the entry; a gate nobody signed yet has none.
    let latest = signatures.iter().map(|s| s.at.clone()).max();
    let opened = format!("opened {}", format::relative_time(&item.waiting_since));
    let age = match (mine, latest) {
        (Some(m), Some(at)) => format!("{m} · {}", format::relative_time(&at)),
        (None, Some(at)) => format!("Last signed {} · {opened}", format::relative_time(&at)),
        (_, None) => format!("No signatures yet · {opened}"),
    };
    let (class, status) = gate_state(g);
    view! {
        <li class="inbox-entry card" data-test="inbox-entry" data-change-id=item.change_id.clone()>
            <a class="inbox-link" href=format!("/changes/{}", item.change_id)>
                <div class="inbox-main">
                    <strong class="inbox-title">{item.title.clone()}</strong>
                    <div class="inbox-meta">
                        <span class="gate-name" data-test="inbox-gate">{title}</span>
                        <HealthChip health=item.health.clone() />
                        <RiskTag risk=item.risk short=true />
                        <span class="subtle">{format!("Now at {}", item.state_label)}</span>
                    </div>
                </div>
                <div class="inbox-side">
                    <span class=format!("gate-status {class}") data-test="inbox-missing">{status}</span>
                    <span class="subtle inbox-age">{age}</span>
                </div>
            </a>
        </li>
    }
}
