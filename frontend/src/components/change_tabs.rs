//! The tabs under a change's title: its overview, the canary-vs-control comparison and, once
//! the rollout has ended (at Full, rolled back or reviewed), the post-deployment review.

use leptos::prelude::*;
use shared::rollout::RolloutState;

/// Which of a change's views is open.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum ChangeTab {
    Overview,
    Compare,
    Review,
}

/// Whether a change in `state` has a review to write or read.
pub fn has_review(state: RolloutState) -> bool {
    matches!(
        state,
        RolloutState::Full | RolloutState::RolledBack | RolloutState::Reviewed
    )
}

#[component]
pub fn ChangeTabs(#[prop(into)] id: String, at: ChangeTab, review: bool) -> impl IntoView {
    let current = move |tab: ChangeTab| (at == tab).then_some("page");
    view! {
        <nav class="change-tabs" aria-label="Change views">
            <a href=format!("/changes/{id}") class:active=at == ChangeTab::Overview aria-current=current(ChangeTab::Overview)>"Overview"</a>
            <a href=format!("/changes/{id}/compare") class:active=at == ChangeTab::Compare aria-current=current(ChangeTab::Compare) data-test="compare-link">
                <svg viewBox="0 0 16 16" aria-hidden="true"><path d="M2.5 13.5h11M4.5 11V7.5M8 11V4M11.5 11V6" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"></path></svg>
                "Canary vs control"
            </a>
            {review.then(|| view! {
                <a href=format!("/changes/{id}/review") class:active=at == ChangeTab::Review aria-current=current(ChangeTab::Review) data-test="review-link">"Review"</a>
            })}
        </nav>
    }
}
