//! The bar across the top: product name, navigation and who the user is acting as.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::actor;

#[component]
pub fn TopBar() -> impl IntoView {
    let location = use_location();
    let on_changes = move || {
        let p = location.pathname.get();
        p == "/" || p.starts_with("/changes")
    };
    let name = RwSignal::new(actor::get().unwrap_or_default());
    let saved = RwSignal::new(false);
    let save = move |value: String| {
        actor::set(&value);
        name.set(value.trim().to_string());
        saved.set(true);
        set_timeout(
            move || saved.set(false),
            std::time::Duration::from_millis(1500),
        );
    };
    view! {
        <header class="topbar">
            <div class="topbar-inner">
                <a class="brand" href="/">
                    <svg class="brand-mark" viewBox="0 0 16 16" aria-hidden="true">
                        <rect width="16" height="16" rx="4" fill="currentColor"></rect>
                        <path d="M4 11 L8 5 L12 11" stroke="white" stroke-width="2" fill="none" stroke-linecap="round" stroke-linejoin="round"></path>
                    </svg>
                    "Rollgate"
                </a>
                <nav class="topnav" aria-label="Main">
                    <a href="/" class:active=on_changes>"Changes"</a>
                    <a href="/stats" class:active=move || location.pathname.get() == "/stats" data-test="nav-stats">"Stats calculator"</a>
                </nav>
                <div class="topbar-spacer"></div>
                <label class="acting-as" title="Recorded as the actor on every change you make. Stored in this browser only.">
                    <span>"Acting as"</span>
                    <input
                        type="text"
                        name="actor"
                        data-test="actor"
                        placeholder="console"
                        autocomplete="name"
                        prop:value=move || name.get()
                        on:change=move |e| save(event_target_value(&e))
                    />
                    <span class="saved" class:show=move || saved.get() aria-live="polite">
                        {move || if saved.get() { "Saved" } else { "" }}
                    </span>
                </label>
            </div>
        </header>
    }
}
