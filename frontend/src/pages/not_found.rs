//! The answers for an address that shows nothing: no such page, no such change.

use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <div class="page">
            <div class="empty-state">
                <div class="empty-code">"404"</div>
                <h1>"Page not found"</h1>
                <p class="subtle">"There is no page at this address. It may have moved, or the link is mistyped."</p>
                <a class="btn btn-primary" href="/">"Go to all changes"</a>
            </div>
        </div>
    }
}

/// A change page (overview, comparison) opened with an id that names no change.
#[component]
pub fn NoSuchChange(id: String) -> impl IntoView {
    view! {
        <div class="page">
            <div class="empty-state" data-test="error">
                <div class="empty-code">"404"</div>
                <h1>"No such change"</h1>
                <p class="subtle">{format!("There is no AI change with the id “{id}”.")}</p>
                <a class="btn btn-primary" href="/">"Go to all changes"</a>
            </div>
        </div>
    }
}
