//! The one way failures are shown: a red banner with a heading, a sentence, an optional hint
//! and, where it helps, a retry button. Failed requests, rejected forms and warnings computed
//! in the browser (a sample-ratio mismatch) all go through [`ErrorBanner`].

use leptos::prelude::*;

use crate::api::ApiError;

/// What a banner says.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub title: String,
    pub message: String,
    /// A smaller sentence below the message: what to do about it.
    pub hint: Option<&'static str>,
}

impl Problem {
    /// A problem found in the browser (client-side validation, a warning about the data).
    pub fn new(title: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            title: title.into(),
            message: message.into(),
            hint: None,
        }
    }

    pub fn hint(self, hint: &'static str) -> Self {
        Problem {
            hint: Some(hint),
            ..self
        }
    }
}

impl From<ApiError> for Problem {
    fn from(e: ApiError) -> Self {
        let p = Problem::new(e.title(), e.message());
        match e {
            ApiError::Transport(_) => p.hint(
                "Check that the server is running and your connection works, then try again.",
            ),
            ApiError::Api { .. } => p,
        }
    }
}

#[component]
pub fn ErrorBanner(
    /// An [`ApiError`] or a [`Problem`].
    #[prop(into)]
    error: Problem,
    /// Offered as a "Try again" button when given.
    #[prop(optional, into)]
    retry: Option<Callback<()>>,
    /// The `data-test` hook; `error` unless a page needs to tell this banner apart.
    #[prop(default = "error")]
    hook: &'static str,
    /// Classes added to `banner banner-error`.
    #[prop(default = "")]
    class: &'static str,
) -> impl IntoView {
    let class = if class.is_empty() {
        "banner banner-error".to_string()
    } else {
        format!("banner banner-error {class}")
    };
    view! {
        <div class=class role="alert" data-test=hook>
            <svg class="banner-icon" viewBox="0 0 20 20" aria-hidden="true">
                <circle cx="10" cy="10" r="8.5" fill="none" stroke="currentColor" stroke-width="1.6"></circle>
                <path d="M10 5.5v5.5M10 13.6v.9" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"></path>
            </svg>
            <div class="banner-body">
                <strong>{error.title}</strong>
                <p>{error.message}</p>
                {error.hint.map(|d| view! { <p class="subtle">{d}</p> })}
            </div>
            {retry.map(|cb| view! {
                <button type="button" class="btn btn-small" on:click=move |_| cb.run(())>"Try again"</button>
            })}
        </div>
    }
}
