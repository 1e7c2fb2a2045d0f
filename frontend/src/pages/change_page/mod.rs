//! One page per AI change, read by everyone involved: what changes, the staged plan, where the
//! rollout stands, what happened so far, and the buttons that move it on or roll it back.
//!
//! This module holds the page and its layout; [`actions`] the buttons that move the rollout,
//! [`sections`] the parts that only show, [`comments`] the discussion.

pub(crate) mod actions;
pub mod comments;
mod sections;

use leptos::prelude::*;
use shared::access::ADMINS;
use shared::api::{ChangeDetail, TransitionRecord};
use shared::change::{AiChange, Pause};
use shared::plan::RolloutPlan;
use shared::rollout::{RolloutState, TransitionAction, next_stage};

use crate::api;
use crate::components::change_loader::ChangeLoader;
use crate::components::change_tabs::{ChangeTab, ChangeTabs, has_review};
use crate::components::gate_panel::{GatePanel, gate_title};
use crate::components::health::HealthChip;
use crate::components::notices_panel::NoticesPanel;
use crate::components::tags::{KindTag, RiskTag, StateBadge, TrafficBar};
use crate::components::timeline::Timeline;
use crate::format;
use crate::pages::change_tokens::TokensPanel;
use crate::session;
use actions::Actions;
use comments::Discussion;
use sections::{FlagPanel, History, PlanPanel, WhatChanges};

#[component]
pub fn ChangePage() -> impl IntoView {
    view! {
        <ChangeLoader page=|detail, reload| view! { <ChangeView detail=detail reload=reload /> }.into_any() />
    }
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
    let ChangeDetail {
        change,
        history,
        health,
        versions,
        ..
    } = detail;
    let c = change;
    let state = c.state;
    let plan = c.plan.clone();
    let rolled_back = state == RolloutState::RolledBack;
    // Bumped when a notice is saved, published or acknowledged: the gate may ask for notices.
    let gate_version = RwSignal::new(0_u32);
    let later_gates = later_gates(&plan, state);

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
                        <StateBadge state=state label=c.state_label() />
                        <span class="meta-item"><span class="subtle">"Health "</span><HealthChip health=health.clone() reason=true /></span>
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
            <ChangeTabs id=c.id.clone() at=ChangeTab::Overview review=has_review(state) />

            <GatePanel change_id=c.id.clone() version=gate_version later=later_gates health=health />

            <section class="card rollout-card">
                <div class="card-head">
                    <div>
                        <h2>"Rollout"</h2>
                        <p class="card-sub">{rollout_sentence(&c)}</p>
                    </div>
                    <Actions change=c.clone() reload=reload />
                </div>
                <StopBanners paused=c.paused.clone() history=history.clone() />
                <Timeline plan=plan.clone() state=state history=history.clone() />
            </section>

            <div class="change-grid">
                <div class="change-main">
                    <WhatChanges change=c.clone() />
                    <FlagPanel flag_key=c.flag_key.clone() id=c.id.clone() versions=versions />
                    <Discussion change_id=c.id.clone() />
                    <NoticesPanel change_id=c.id.clone() plan=plan.clone() expected=c.expected_changes.clone()
                        on_change=Callback::new(move |_| gate_version.update(|v| *v = v.wrapping_add(1))) />
                    <PlanPanel plan=plan.clone() frozen=!state.plan_is_editable() />
                    // Service tokens are an admin's business (the server refuses everyone else).
                    {session::has_any(ADMINS).then(|| view! { <TokensPanel change_id=c.id.clone() /> })}
                </div>
                <aside class="change-side">
                    <History history=history created_at=c.created_at.clone() />
                </aside>
            </div>
        </div>
    }
}

/// What holds or ended the rollout, in plain words: who paused it, when and why, or who
/// rolled it back and why ("Rolled back automatically at 14:02 because …" when the guardian
/// did). The comparison page shows the same banners.
#[component]
pub(crate) fn StopBanners(paused: Option<Pause>, history: Vec<TransitionRecord>) -> impl IntoView {
    let last_rollback = history
        .into_iter()
        .rev()
        .find(|r| r.action == TransitionAction::RollBack && r.to == RolloutState::RolledBack);
    view! {
        {paused.map(|p| view! {
            <div class="banner banner-paused" role="status" data-test="paused-banner">
                <strong title=format::date_time(&p.at)>{format!("Paused by {} at {}", p.by, at_clock(&p.at))}</strong>
                <p data-test="paused-reason">{p.reason.strip_prefix("Paused: ").unwrap_or(&p.reason).to_owned()}</p>
                "Traffic stays where it is and advancing waits: resume or roll back."
            </div>
        })}
        {last_rollback.map(|r| {
            let automatic = r.actor == GUARDIAN;
            let head = if automatic {
                format!("Rolled back automatically at {} from {}", at_clock(&r.at), r.from_label)
            } else {
                format!("Rolled back from {} by {}", r.from_label, r.actor)
            };
            let reason = r.reason.clone().map(|reason| {
                if automatic {
                    let why = reason.strip_prefix("Automatic rollback: ").unwrap_or(&reason);
                    format!("because {why}")
                } else {
                    reason
                }
            });
            view! {
                <div class="banner banner-rollback" role="status" data-test="rollback-banner">
                    <strong>{head}</strong>
                    <span class="subtle" title=format::date_time(&r.at)>{format!(" · {}", format::relative_time(&r.at))}</span>
                    {reason.map(|reason| view! { <p>{reason}</p> })}
                </div>
            }
        })}
    }
}

/// The guardian's name in the history (`rollgate::guardian::ACTOR` on the server).
const GUARDIAN: &str = "guardian";

/// "14:02" today, "12 Mar 14:02" on another day, in the viewer's time zone.
fn at_clock(rfc3339: &str) -> String {
    match format::parse_ms(rfc3339) {
        Some(ms) => {
            let today = format::date(rfc3339) == format::date(&format::iso(js_sys::Date::now()));
            format::clock(ms, !today)
        }
        None => rfc3339.to_owned(),
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
        _ => format!(
            "{} of traffic on the candidate ({}).",
            format::percent(c.traffic_percent),
            c.state_label()
        ),
    }
}
