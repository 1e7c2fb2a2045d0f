//! The tabs under a change's title: its overview, and the canary-vs-control comparison.

use leptos::prelude::*;

#[component]
pub fn ChangeTabs(#[prop(into)] id: String, compare: bool) -> impl IntoView {
    view! {
        <nav class="change-tabs" aria-label="Change views">
            <a href=format!("/changes/{id}") class:active=!compare aria-current=(!compare).then_some("page")>"Overview"</a>
            <a href=format!("/changes/{id}/compare") class:active=compare aria-current=compare.then_some("page") data-test="compare-link">
                <svg viewBox="0 0 16 16" aria-hidden="true"><path d="M2.5 13.5h11M4.5 11V7.5M8 11V4M11.5 11V6" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round"></path></svg>
                "Canary vs control"
            </a>
        </nav>
    }
}
