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
