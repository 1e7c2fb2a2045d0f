//! A "Copy" button that puts a text on the clipboard and says so for a moment.

use leptos::prelude::*;

#[component]
pub fn CopyButton(#[prop(into)] text: String) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |e: leptos::ev::MouseEvent| {
        e.stop_propagation();
        copy_text(&text);
        copied.set(true);
        set_timeout(
            move || copied.set(false),
            std::time::Duration::from_millis(1500),
        );
    };
    view! {
        <button type="button" class="btn btn-small copy-btn" data-test="copy" on:click=copy>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}

/// Puts `text` on the clipboard. The promise is not awaited: a refusal (no permission,
/// insecure context) leaves the text selectable in its box, which is the fallback.
pub fn copy_text(text: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
}
