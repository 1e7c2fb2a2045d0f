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
use leptos_router::hooks::{use_location, use_navigate, use_params_map};
use leptos_router::{Lazy, LazyRoute, path};
use wasm_bindgen::prelude::wasm_bindgen;

use components::skeleton::PageSkeleton;
use components::top_bar::TopBar;
use pages::admin::AdminPage;
use pages::approvals::ApprovalsPage;
use pages::audit::AuditPage;
use pages::change_form::{EditChangePage, NewChangePage};
use pages::change_list::ChangeList;
use pages::change_page::ChangePage;
use pages::comparison::ComparisonPage;
use pages::feed::FeedPage;
use pages::figures::FiguresPage;
use pages::login::LoginPage;
use pages::not_found::NotFound;
use pages::review::ReviewPage;
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
    // Once someone is signed in, the other pages' module is fetched in the background, so
    // opening a change from the list does not wait for it. Once per page load.
    let preloading = StoredValue::new(false);
    Effect::new(move |_| {
        if signed_in.with(Option::is_some) && !preloading.get_value() {
            preloading.set_value(true);
            spawn_local(async {
                __preload_page_view().await;
                pages_arrived();
            });
        }
    });
    // A page opened before the pages module arrived has nothing to draw yet: a skeleton stands
    // in for it, and the page being left is hidden rather than shown under it.
    let waiting = Memo::new(move |_| {
        pages_state().get() == Pages::Waiting && location.pathname.with(|p| p != "/")
    });
    // Two levels, so that signing in on the login page does not remount it before it navigates.
    let console = move || {
        match signed_in.get() {
            Some(user) => view! {
                <TopBar user=user />
                <main class="main">
                    <Show when=move || waiting.get()>
                        <div data-test="pages-loading"><PageSkeleton /></div>
                    </Show>
                    <div hidden=move || waiting.get()>
                    // `/changes/new` before `/changes/:id`, so "new" is never read as an id.
                    <Routes fallback=|| view! { <NotFound /> }>
                        <Route path=path!("/") view=ChangeList />
                        <Route path=path!("/changes/new") view={Lazy::<ChangeFormRoute>::new()} />
                        <Route path=path!("/changes/:id") view={Lazy::<ChangeRoute>::new()} />
                        <Route path=path!("/changes/:id/edit") view={Lazy::<ChangeFormRoute>::new()} />
                        <Route path=path!("/changes/:id/compare") view={Lazy::<ComparisonRoute>::new()} />
                        <Route path=path!("/changes/:id/review") view={Lazy::<ReviewRoute>::new()} />
                        <Route path=path!("/approvals") view={Lazy::<ApprovalsRoute>::new()} />
                        <Route path=path!("/audit") view={Lazy::<AuditRoute>::new()} />
                        <Route path=path!("/feed") view={Lazy::<FeedRoute>::new()} />
                        <Route path=path!("/figures") view={Lazy::<FiguresRoute>::new()} />
                        <Route path=path!("/admin") view={Lazy::<AdminRoute>::new()} />
                        <Route path=path!("/stats") view={Lazy::<StatsRoute>::new()} />
                    </Routes>
                    </div>
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

/// The pages other than the change list, compiled into one Wasm module of their own
/// (`cargo xtask build` splits it off), fetched in the background once someone is signed in or
/// when one of them is opened first. The change list, the top bar and sign-in stay in the main
/// module, so the console's first screen needs nothing more. One module rather than one per
/// page: pages share most of their code, and every combination of pages sharing a function
/// would otherwise become a module of its own.
#[derive(Clone, Copy)]
enum Page {
    ChangeForm,
    Change,
    Comparison,
    Review,
    Approvals,
    Audit,
    Feed,
    Figures,
    Admin,
    Stats,
}

/// What the pages module is asked for: a page to draw, or one of the statistics functions page
/// scripts call ([`bench`]). The statistics engine is then compiled into the pages module only,
/// where the comparison page and the calculator use it, rather than into the first screen.
enum Call {
    Page(Page),
    RunStats(String),
    BenchReport(u32),
}

/// The pages module's answer to a [`Call`], of the matching kind.
enum Answer {
    View(AnyView),
    Text(String),
    Millis(f64),
}

/// The pages module's one entry point: every call into it goes through here, so that all it
/// holds is one module (each set of lazy functions sharing code would be a module of its own).
#[lazy]
fn page_view(call: Call) -> Answer {
    match call {
        Call::Page(page) => Answer::View(match page {
            Page::ChangeForm => view! { <ChangeFormPage /> }.into_any(),
            Page::Change => view! { <ChangePage /> }.into_any(),
            Page::Comparison => view! { <ComparisonPage /> }.into_any(),
            Page::Review => view! { <ReviewPage /> }.into_any(),
            Page::Approvals => view! { <ApprovalsPage /> }.into_any(),
            Page::Audit => view! { <AuditPage /> }.into_any(),
            Page::Feed => view! { <FeedPage /> }.into_any(),
            Page::Figures => view! { <FiguresPage /> }.into_any(),
            Page::Admin => view! { <AdminPage /> }.into_any(),
            Page::Stats => view! { <StatsCalculator /> }.into_any(),
        }),
        Call::RunStats(input) => Answer::Text(bench::run_stats_now(&input)),
        Call::BenchReport(iterations) => Answer::Millis(bench::bench_report_now(iterations)),
    }
}

/// Where the pages module stands in this tab.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pages {
    /// Not here, and no page has asked for it.
    NotNeeded,
    /// A page that needs it is open and waits.
    Waiting,
    Ready,
}

thread_local! {
    // Reference-counted rather than owned by whichever view first asks for it, so that no
    // view's disposal takes it away.
    static PAGES: ArcRwSignal<Pages> = ArcRwSignal::new(Pages::NotNeeded);
}

fn pages_state() -> ArcRwSignal<Pages> {
    PAGES.with(Clone::clone)
}

/// A page needing the pages module was opened.
fn pages_wanted() {
    let state = pages_state();
    if state.get_untracked() == Pages::NotNeeded {
        state.set(Pages::Waiting);
    }
}

fn pages_arrived() {
    let state = pages_state();
    if state.get_untracked() != Pages::Ready {
        state.set(Pages::Ready);
    }
}

/// A route showing one of the [`Page`]s.
macro_rules! lazy_page {
    ($($route:ident => $page:ident),* $(,)?) => {$(
        struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                pages_wanted();
                $route
            }

            async fn view(_this: Self) -> AnyView {
                let answer = page_view(Call::Page(Page::$page)).await;
                pages_arrived();
                match answer {
                    Answer::View(view) => view,
                    // A page call is answered with its view.
                    Answer::Text(_) | Answer::Millis(_) => ().into_any(),
                }
            }

            async fn preload() {
                __preload_page_view().await
            }
        }
    )*};
}

lazy_page! {
    ChangeFormRoute => ChangeForm,
    ChangeRoute => Change,
    ComparisonRoute => Comparison,
    ReviewRoute => Review,
    ApprovalsRoute => Approvals,
    AuditRoute => Audit,
    FeedRoute => Feed,
    FiguresRoute => Figures,
    AdminRoute => Admin,
    StatsRoute => Stats,
}

/// The change form: empty at `/changes/new`, filled at `/changes/:id/edit`.
#[component]
fn ChangeFormPage() -> impl IntoView {
    if use_params_map().read_untracked().get("id").is_some() {
        view! { <EditChangePage /> }.into_any()
    } else {
        view! { <NewChangePage /> }.into_any()
    }
}

/// Entry point, run by wasm-bindgen when the module loads: replaces the "Loading…" placeholder
/// of `index.html` with the app.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        show_stopped();
    }));
    session::connect_api();
    if let Some(boot) = document().get_element_by_id("boot") {
        boot.remove();
    }
    leptos::mount::mount_to_body(App);
}

/// After a panic the Wasm cannot run again, so the page would sit frozen: say so, and how to
/// go on. The usual cause is a page module that could not be fetched (a new version of the
/// console was deployed while the tab was open, or the network dropped).
fn show_stopped() {
    let document = document();
    // One failed load can panic in every view waiting for it: one banner says it.
    if document
        .query_selector("[data-test=stopped]")
        .ok()
        .flatten()
        .is_some()
    {
        return;
    }
    let (Ok(banner), Some(body)) = (document.create_element("div"), document.body()) else {
        return;
    };
    banner.set_class_name("banner banner-error fatal");
    banner.set_attribute("role", "alert").ok();
    banner.set_attribute("data-test", "stopped").ok();
    banner.set_text_content(Some(
        "Rollgate's console stopped after an error: a part of it could not be loaded (a \
         newer version may have been deployed) or failed. Reload the page to continue.",
    ));
    body.prepend_with_node_1(&banner).ok();
}
