//! Rollgate's browser console: a Leptos app rendered in the browser, talking to the API under
//! `/api/v1`. Pages live in [`pages`], reusable pieces in [`components`], and every request
//! goes through [`api`].

pub mod actor;
pub mod api;
pub mod bench;
pub mod components;
pub mod format;
pub mod pages;

use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use wasm_bindgen::prelude::wasm_bindgen;

use components::top_bar::TopBar;
use pages::change_form::{EditChangePage, NewChangePage};
use pages::change_list::ChangeList;
use pages::change_page::ChangePage;
use pages::comparison::ComparisonPage;
use pages::not_found::NotFound;
use pages::stats_calculator::StatsCalculator;

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <TopBar />
            <main class="main">
                // `/changes/new` before `/changes/:id`, so "new" is never read as an id.
                <Routes fallback=|| view! { <NotFound /> }>
                    <Route path=path!("/") view=ChangeList />
                    <Route path=path!("/changes/new") view=NewChangePage />
                    <Route path=path!("/changes/:id") view=ChangePage />
                    <Route path=path!("/changes/:id/edit") view=EditChangePage />
                    <Route path=path!("/changes/:id/compare") view=ComparisonPage />
                    <Route path=path!("/stats") view=StatsCalculator />
                </Routes>
            </main>
        </Router>
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
