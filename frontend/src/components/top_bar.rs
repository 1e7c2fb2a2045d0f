//! The bar across the top: product name, navigation for what the user may open, and who is
//! signed in, with a way out.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_location;
use shared::access::{ADMINS, AUDITORS};
use shared::approvals::InboxScope;
use shared::auth::User;

use crate::api;
use crate::components::load::Loaded;
use crate::format;
use crate::session::{self, Auth};

#[component]
pub fn TopBar(user: User) -> impl IntoView {
    let location = use_location();
    let path = move || location.pathname.get();
    let on_changes = move || {
        let p = path();
        p == "/" || p.starts_with("/changes")
    };
    // Refreshed on every navigation: signing a gate on a change page and coming back to the
    // list shows the new count without a timer polling the server.
    let waiting = Loaded::new(
        move || {
            location.pathname.track();
            session::inbox_version().track();
        },
        |_| api::inbox_count(InboxScope::WaitingForMe),
    );
    let badge = move || {
        waiting
            .get()
            .and_then(Result::ok)
            .filter(|n| *n > 0)
            .map(|n| {
                view! {
                    <span class="nav-badge" data-test="inbox-badge" title=format!("{n} waiting for you")>{n}</span>
                }
            })
    };
    // Notices that need the user, refreshed the same way: unread ones and those their team has
    // still to acknowledge (reading does not clear those). The badge links to the feed.
    let unread = Loaded::new(
        move || {
            location.pathname.track();
            session::inbox_version().track();
        },
        |_| api::unread_count(),
    );
    let unread_badge = move || {
        unread
            .get()
            .and_then(Result::ok)
            .filter(|n| *n > 0)
            .map(|n| {
                view! {
                    <span class="nav-badge nav-badge-notice" data-test="notices-badge" title=format!("{n} notice{} to read or acknowledge", if n == 1 { "" } else { "s" })>{n}</span>
                }
            })
    };
    let auditor = user.has_any(AUDITORS);
    let admin = user.has_any(ADMINS);
    let roles = user
        .roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let roles_attr = roles.clone();
    let signing_out = RwSignal::new(false);
    let sign_out = move |_| {
        signing_out.set(true);
        spawn_local(async move {
            // Whatever the answer, the console forgets the session; a failed DELETE leaves a
            // cookie that expires on its own.
            let _ = api::logout().await;
            session::set(Auth::SignedOut);
            signing_out.set(false);
        });
    };
    // The skip link is followed by the browser (`rel="external"` keeps the router out), which
    // moves the keyboard's starting point to the target at the end of the bar, just before the
    // page. The statistics calculator is not in the navigation: engineers reach it from a
    // metric's "Reproduce" box on the comparison.
    view! {
        <header class="topbar" data-roles=roles_attr>
            <a class="skip-link" href="#content" rel="external">"Skip to content"</a>
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
                    <a href="/approvals" class:active=move || path() == "/approvals" data-test="nav-approvals">
                        "Approvals"{badge}
                    </a>
                    <a href="/feed" class:active=move || path() == "/feed" data-test="nav-feed">
                        "Change feed"{unread_badge}
                    </a>
                    <a href="/figures" class:active=move || path() == "/figures" data-test="nav-figures">"Figures"</a>
                    {auditor.then(|| view! {
                        <a href="/audit" class:active=move || path() == "/audit" data-test="nav-audit">"Audit log"</a>
                    })}
                    {admin.then(|| view! {
                        <a href="/admin" class:active=move || path() == "/admin" data-test="nav-admin">"Admin"</a>
                    })}
                </nav>
                <div class="topbar-spacer"></div>
                <div class="whoami" data-test="whoami">
                    <span class="avatar" aria-hidden="true">{initials(&user.name)}</span>
                    <span class="whoami-text">
                        <strong data-test="user-name" title=user.email.clone()>{user.name.clone()}</strong>
                        <span class="whoami-roles" data-test="user-roles">{roles}</span>
                    </span>
                    <button type="button" class="btn btn-small btn-ghost" data-test="logout" on:click=sign_out disabled=move || signing_out.get()>
                        "Sign out"
                    </button>
                </div>
            </div>
            <span id="content" class="skip-target" tabindex="-1"></span>
        </header>
    }
}

/// "Ana Lima" → "AL"; one letter for one word.
pub fn initials(name: &str) -> String {
    let first: String = name
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .take(2)
        .collect();
    format::upper(&first)
}
