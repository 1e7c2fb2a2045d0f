//! A page about one change (`/changes/:id`, `/changes/:id/compare`): the change loaded by the
//! route's `id`, a skeleton until it arrives, "No such change" for an id that names none, and
//! the error with a retry for anything else. While a reload runs the page stays on screen.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use shared::api::ChangeDetail;

use super::error_banner::ErrorBanner;
use super::load::Loaded;
use super::skeleton::PageSkeleton;
use crate::api;

/// Loads the change and draws it with `page`, which is handed a callback that reloads it.
#[component]
pub fn ChangeLoader(page: fn(ChangeDetail, Callback<()>) -> AnyView) -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let detail = Loaded::new(
        move || id.get(),
        |id| async move { api::get_change(&id).await },
    );
    let reload = Callback::new(move |_| detail.refetch());
    move || {
        match detail.get() {
        None => view! { <PageSkeleton /> }.into_any(),
        Some(Ok(d)) => page(d, reload),
        Some(Err(e)) if e.is_not_found() => view! {
            <div class="page">
                <div class="empty-state" data-test="error">
                    <div class="empty-code">"404"</div>
                    <h1>"No such change"</h1>
                    <p class="subtle">{format!("There is no AI change with the id “{}”.", id.get_untracked())}</p>
                    <a class="btn btn-primary" href="/">"Go to all changes"</a>
                </div>
            </div>
        }
        .into_any(),
        Some(Err(e)) => view! {
            <div class="page">
                <a class="back-link" href="/">"← All changes"</a>
                <ErrorBanner error=e retry=reload />
            </div>
        }
        .into_any(),
    }
    }
}
