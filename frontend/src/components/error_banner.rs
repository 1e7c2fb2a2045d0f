//! The one way failures are shown: a red banner with a heading, the server's sentence and,
//! where it helps, a retry button.

use leptos::prelude::*;

use crate::api::ApiError;

#[component]
pub fn ErrorBanner(
    error: ApiError,
    /// Offered as a "Try again" button when given.
    #[prop(optional, into)]
    retry: Option<Callback<()>>,
) -> impl IntoView {
    let detail = match &error {
        ApiError::Transport(_) => {
            Some("Check that the server is running and your connection works, then try again.")
        }
        _ => None,
    };
    view! {
        <div class="banner banner-error" role="alert" data-test="error">
            <svg class="banner-icon" viewBox="0 0 20 20" aria-hidden="true">
                <circle cx="10" cy="10" r="8.5" fill="none" stroke="currentColor" stroke-width="1.6"></circle>
                <path d="M10 5.5v5.5M10 13.6v.9" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"></path>
            </svg>
            <div class="banner-body">
                <strong>{error.title()}</strong>
                <p>{error.message()}</p>
                {detail.map(|d| view! { <p class="subtle">{d}</p> })}
            </div>
            {retry.map(|cb| view! {
                <button type="button" class="btn btn-small" on:click=move |_| cb.run(())>"Try again"</button>
            })}
        </div>
    }
}

/// A banner for a message produced in the browser (client-side validation).
#[component]
pub fn MessageBanner(#[prop(into)] title: String, #[prop(into)] message: String) -> impl IntoView {
    view! {
        <div class="banner banner-error" role="alert" data-test="error">
            <svg class="banner-icon" viewBox="0 0 20 20" aria-hidden="true">
                <circle cx="10" cy="10" r="8.5" fill="none" stroke="currentColor" stroke-width="1.6"></circle>
                <path d="M10 5.5v5.5M10 13.6v.9" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"></path>
            </svg>
            <div class="banner-body">
                <strong>{title}</strong>
                <p>{message}</p>
            </div>
        </div>
    }
}
