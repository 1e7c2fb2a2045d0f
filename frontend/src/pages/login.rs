//! Sign-in: e-mail and password, and in a demo workspace the demo accounts with a button each.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use shared::auth::{DemoUsers, LoginRequest};

use crate::api::{self, ApiError};
use crate::components::error_banner::ErrorBanner;
use crate::components::load::Loaded;
use crate::session::{self, Auth};

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<ApiError>);
    let demo = Loaded::new(|| (), |_| api::demo_users());

    let sign_in = Callback::new(move |(e, p): (String, String)| {
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        error.set(None);
        let next = session::safe_next(query.read_untracked().get("next"));
        let navigate = navigate.clone();
        spawn_local(async move {
            match api::login(&LoginRequest {
                email: e.trim().to_string(),
                password: p,
            })
            .await
            {
                Ok(s) => {
                    session::set(Auth::SignedIn(s));
                    navigate(&next, NavigateOptions::default());
                }
                Err(e) => {
                    password.set(String::new());
                    error.set(Some(e));
                }
            }
            pending.set(false);
        });
    });

    view! {
        <main class="login-page">
            <div class="login-card card">
                <div class="login-brand">
                    <svg class="brand-mark" viewBox="0 0 16 16" aria-hidden="true">
                        <rect width="16" height="16" rx="4" fill="currentColor"></rect>
                        <path d="M4 11 L8 5 L12 11" stroke="white" stroke-width="2" fill="none" stroke-linecap="round" stroke-linejoin="round"></path>
                    </svg>
                    "Rollgate"
                </div>
                <h1>"Sign in"</h1>
                <p class="subtle login-lede">"Ship AI changes safely: staged rollouts, canary statistics, sign-off and rollback."</p>
                <form class="login-form" on:submit=move |ev| {
                    ev.prevent_default();
                    sign_in.run((email.get_untracked(), password.get_untracked()));
                }>
                    <label class="field">
                        <span class="field-label">"E-mail"</span>
                        <input type="email" name="email" data-test="login-email" autocomplete="username" required bind:value=email />
                    </label>
                    <label class="field">
                        <span class="field-label">"Password"</span>
                        <input type="password" name="password" data-test="login-password" autocomplete="current-password" required bind:value=password />
                    </label>
                    {move || error.get().map(|e| view! { <ErrorBanner error=e /> })}
                    <button type="submit" class="btn btn-primary login-submit" data-test="login-submit" disabled=move || pending.get()>
                        {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </form>
            </div>
            // Outside a demo workspace the list answers 404: nothing to show.
            {move || demo.get().and_then(Result::ok).map(|d| view! { <DemoAccounts demo=d sign_in=sign_in pending=pending /> })}
        </main>
    }
}

/// The demo accounts, each with a "Sign in as" button.
#[component]
fn DemoAccounts(
    demo: DemoUsers,
    sign_in: Callback<(String, String)>,
    pending: RwSignal<bool>,
) -> impl IntoView {
    let password = demo.password.clone();
    let rows = demo
        .users
        .into_iter()
        .map(|u| {
            let roles = u
                .roles
                .iter()
                .map(|r| view! { <span class="tag">{r.as_str()}</span> })
                .collect_view();
            let (email, shown) = (u.email.clone(), u.email.clone());
            let password = password.clone();
            let password_shown = password.clone();
            let go = move |_| {
                if !pending.get_untracked() {
                    sign_in.run((email.clone(), password.clone()));
                }
            };
            view! {
                <tr>
                    <td><strong>{u.name}</strong></td>
                    <td><div class="role-tags">{roles}</div></td>
                    <td class="mono">{shown}</td>
                    <td class="mono nowrap">{password_shown}</td>
                    <td class="login-demo-action">
                        <button type="button" class="btn btn-small" data-test="demo-login" on:click=go>"Sign in as"</button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="login-demo card" data-test="demo-users">
            <div class="card-head">
                <div>
                    <h2>"Demo accounts"</h2>
                    <p class="card-sub">"This is a demo workspace. Every account's password is "<code class="chip">{demo.password}</code>"."</p>
                </div>
            </div>
            <table class="table table-compact">
                <thead><tr><th>"Name"</th><th>"Roles"</th><th>"E-mail"</th><th>"Password"</th><th><span class="sr-only">"Sign in"</span></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
}
