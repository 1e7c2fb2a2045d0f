//! Small labels: the state badge, kind and risk tags, and the traffic bar.

use leptos::prelude::*;
use shared::change::{ChangeKind, RiskTier};
use shared::rollout::RolloutState;

use crate::format;

/// The coloured pill naming where a rollout stands, e.g. "Canary 5%".
#[component]
pub fn StateBadge(state: RolloutState, #[prop(into)] label: String) -> impl IntoView {
    view! {
        <span class=format!("badge state-{}", state.name()) data-test="state-badge" data-state=state.name()>
            <span class="badge-dot" aria-hidden="true"></span>
            {label}
        </span>
    }
}

#[component]
pub fn KindTag(kind: ChangeKind) -> impl IntoView {
    view! { <span class=format!("tag kind-{}", kind.as_str())>{kind.label()}</span> }
}

/// Risk as a coloured dot and word; the dot keeps it apart from the state badge.
#[component]
pub fn RiskTag(risk: RiskTier, #[prop(optional)] short: bool) -> impl IntoView {
    let text = if short {
        match risk {
            RiskTier::Low => "Low",
            RiskTier::Standard => "Standard",
            RiskTier::High => "High",
        }
    } else {
        risk.label()
    };
    view! {
        <span class=format!("risk risk-{}", risk.as_str()) title=risk.label()>
            <span class="risk-dot" aria-hidden="true"></span>
            {text}
        </span>
    }
}

/// Share of traffic on the candidate as a thin bar with the number beside it.
#[component]
pub fn TrafficBar(percent: f64, #[prop(optional)] rolled_back: bool) -> impl IntoView {
    let clamped = percent.clamp(0.0, 100.0);
    // A tiny canary would vanish at 1 px; keep a sliver visible so "some traffic" reads at a glance.
    let width = if clamped > 0.0 { clamped.max(2.0) } else { 0.0 };
    view! {
        <span class="traffic" class:traffic-rolled-back=rolled_back title=format!("{} of traffic on the candidate", format::percent(clamped))>
            <span class="traffic-track" aria-hidden="true">
                <span class="traffic-fill" style=format!("width: {width}%")></span>
            </span>
            <span class="traffic-num">{format::percent(clamped)}</span>
        </span>
    }
}
