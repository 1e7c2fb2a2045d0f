//! Rollgate's browser console: a Leptos app rendered in the browser, talking to the API under
//! `/api/v1`. Pages live in [`pages`], reusable pieces in [`components`], and every request
//! goes through [`api`].

pub mod api;
pub mod bench;
pub mod components;
pub mod coord;
pub mod format;
pub mod pages;
pub mod session;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::{use_location, use_navigate};
use leptos_router::path;
use wasm_bindgen::prelude::wasm_bindgen;

use components::top_bar::TopBar;
use pages::admin::AdminPage;
use pages::approvals::ApprovalsPage;
use pages::audit::AuditPage;
use pages::change_form::{EditChangePage, NewChangePage};
use pages::change_list::ChangeList;
use pages::change_page::ChangePage;
use pages::comparison::ComparisonPage;
use pages::feed::FeedPage;
use pages::login::LoginPage;
use pages::not_found::NotFound;
use pages::stats_calculator::StatsCalculator;
use session::Auth;

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <Shell />
        </Router>
    }
}

/// Asks the server who is signed in, then shows either the sign-in page or the console. Pages
/// mount only once a session is known, so none of them fires requests that would all fail.
#[component]
fn Shell() -> impl IntoView {
    let auth = session::auth();
    let location = use_location();
    let navigate = use_navigate();
    spawn_local(async {
        // A 401 has already set `SignedOut` inside the client; any other failure (server
        // down) also shows the sign-in page, which says what went wrong when it is used.
        match api::session().await {
            Ok(s) => session::set(Auth::SignedIn(s)),
            Err(_) => session::set(Auth::SignedOut),
        }
    });
    let on_login = Memo::new(move |_| location.pathname.get() == "/login");
    // Only the user's identity matters to the layout; a refreshed CSRF token must not remount
    // the pages.
    let signed_in = {
        let auth = auth.clone();
        Memo::new(move |_| match &*auth.read() {
            Auth::SignedIn(s) => Some(s.user.clone()),
            Auth::Checking => None,
            Auth::SignedOut => None,
        })
    };
    let signed_out = Memo::new(move |_| *auth.read() == Auth::SignedOut);
    Effect::new(move |_| {
        if signed_out.get() && !on_login.get() {
            let here = format!(
                "{}{}",
                location.pathname.get_untracked(),
                location.search.get_untracked()
            );
            navigate(
                &session::login_href(&here),
                NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
        }
    });
    // Two levels, so that signing in on the login page does not remount it before it navigates.
    let console = move || {
        match signed_in.get() {
            Some(user) => view! {
                <TopBar user=user />
                <main class="main">
                    // `/changes/new` before `/changes/:id`, so "new" is never read as an id.
                    <Routes fallback=|| view! { <NotFound /> }>
                        <Route path=path!("/") view=ChangeList />
                        <Route path=path!("/changes/new") view=NewChangePage />
                        <Route path=path!("/changes/:id") view=ChangePage />
                        <Route path=path!("/changes/:id/edit") view=EditChangePage />
                        <Route path=path!("/changes/:id/compare") view=ComparisonPage />
                        <Route path=path!("/approvals") view=ApprovalsPage />
                        <Route path=path!("/audit") view=AuditPage />
                        <Route path=path!("/feed") view=FeedPage />
                        <Route path=path!("/admin") view=AdminPage />
                        <Route path=path!("/stats") view=StatsCalculator />
                    </Routes>
                </main>
            }
            .into_any(),
            None => view! { <div class="boot">"Loading Rollgate…"</div> }.into_any(),
        }
    };
    move || {
        if on_login.get() {
            view! { <LoginPage /> }.into_any()
        } else {
            console.into_any()
        }
    }
}

/// Entry point, run by wasm-bindgen when the module loads: replaces the "Loading…" placeholder
/// of `index.html` with the app.
#[wasm_bindgen(start)]
pub fn start() {
    console_error_panic_hook::set_once();
    if let Some(boot) = document().get_element_by_id("boot") {
        boot.remove();
    }
    leptos::mount::mount_to_body(App);
}
