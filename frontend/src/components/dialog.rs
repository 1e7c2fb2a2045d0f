//! A modal confirmation with an optional written reason. The caller owns what confirming does;
//! the dialog shows its progress and any error in place, so a refusal never loses the text.

use leptos::ev;
use leptos::html;
use leptos::prelude::*;

use super::error_banner::ErrorBanner;
use crate::api::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Primary,
    Danger,
}

#[component]
pub fn ConfirmDialog(
    #[prop(into)] title: String,
    /// One or two sentences on what confirming does.
    #[prop(into)]
    body: String,
    #[prop(into)] confirm_label: String,
    tone: Tone,
    /// Label of the text box, e.g. "Justification (required)".
    #[prop(into)]
    reason_label: String,
    #[prop(into)] reason_placeholder: String,
    /// Receives the text typed in the box.
    on_confirm: Callback<String>,
    on_cancel: Callback<()>,
    pending: RwSignal<bool>,
    error: RwSignal<Option<ApiError>>,
    /// Test hook of the text box.
    #[prop(default = "reason")]
    reason_test: &'static str,
    /// More inputs, shown above the text box (e.g. the role an approval is signed as).
    #[prop(optional)]
    children: Option<Children>,
    /// Keeps Confirm disabled while true (e.g. until a confirmation box is ticked).
    #[prop(optional)]
    hold: Option<Signal<bool>>,
) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let textarea = NodeRef::<html::Textarea>::new();
    Effect::new(move |_| {
        if let Some(el) = textarea.get() {
            let _ = el.focus();
        }
    });
    let cancel = move || {
        if !pending.get_untracked() {
            on_cancel.run(());
        }
    };
    let held = move || hold.is_some_and(|h| h.get());
    let confirm = move || {
        if !pending.get_untracked() && !held() {
            on_confirm.run(reason.get_untracked());
        }
    };
    let on_key = move |e: ev::KeyboardEvent| {
        if e.key() == "Escape" {
            cancel();
        } else if e.key() == "Enter" && (e.ctrl_key() || e.meta_key()) {
            e.prevent_default();
            confirm();
        }
    };
    let confirm_class = match tone {
        Tone::Primary => "btn btn-primary",
        Tone::Danger => "btn btn-danger",
    };
    view! {
        <div class="dialog-backdrop" on:click=move |_| cancel()>
            <div
                class="dialog"
                role="dialog"
                aria-modal="true"
                aria-labelledby="dialog-title"
                on:click=|e| e.stop_propagation()
                on:keydown=on_key
            >
                <h2 id="dialog-title" class="dialog-title">{title}</h2>
                <p class="dialog-body">{body}</p>
                {children.map(|c| c())}
                <label class="field">
                    <span class="field-label">{reason_label}</span>
                    <textarea
                        node_ref=textarea
                        data-test=reason_test
                        name="reason"
                        rows="4"
                        placeholder=reason_placeholder
                        bind:value=reason
                    ></textarea>
                </label>
                {move || error.get().map(|e| view! { <ErrorBanner error=e /> })}
                <div class="dialog-actions">
                    <span class="hint">"Ctrl+Enter to confirm · Esc to cancel"</span>
                    <button type="button" class="btn" on:click=move |_| cancel() disabled=move || pending.get()>
                        "Cancel"
                    </button>
                    <button
                        type="button"
                        class=confirm_class
                        data-test="confirm"
                        on:click=move |_| confirm()
                        disabled=move || pending.get() || held()
                    >
                        {move || if pending.get() { "Working…".to_string() } else { confirm_label.clone() }}
                    </button>
                </div>
            </div>
        </div>
    }
}
