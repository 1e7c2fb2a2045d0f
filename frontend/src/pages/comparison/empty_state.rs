//! What the comparison shows before any metrics arrived: how to send them.

use leptos::prelude::*;
use shared::paths::{self, BASE};

use crate::components::copy_button::CopyButton;
use crate::format;

/// The steps to send metrics, with a `curl` example for this change.
#[component]
pub(super) fn EmptyState(id: String, change_href: String) -> impl IntoView {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let now = js_sys::Date::now();
    let path = paths::change_metrics(&id);
    let example = format!(
        r#"curl -X POST {origin}{BASE}{path} \
  -H "Authorization: Bearer $ROLLGATE_TOKEN" \
  -H "Content-Type: application/json" \
  -d '{{"windows": [{{
        "variant": "candidate", "segment": "all",
        "window_start": "{}", "window_end": "{}",
        "requests": 120,
        "metrics": {{
          "shadow_eval_pass_rate": {{"n": 120, "successes": 104}},
          "cost_per_request": {{"n": 120, "sum": 1.44, "sum_squares": 0.0192}}
        }}
      }}]}}'"#,
        format::iso(now - 360_000.0).replace(".000Z", "Z"),
        format::iso(now - 60_000.0).replace(".000Z", "Z"),
    );
    view! {
        <div class="card empty-data" data-test="comparison-empty">
            <div class="empty-data-head">
                <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 19h16M6 16V10M11 16V6M16 16v-4" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"></path></svg>
                <div>
                    <h2>"No metrics yet"</h2>
                    <p class="subtle">"The comparison appears as soon as your application sends windows for both the control and the candidate."</p>
                </div>
            </div>
            <ol class="steps">
                // Only an admin creates tokens: anyone else is told whom to ask.
                <li>
                    {if crate::session::has_any(shared::access::ADMINS) {
                        view! {
                            <strong>"Create an ingestion token"</strong>
                            " on the "<a href=format!("{change_href}#tokens")>"change page"</a>
                        }.into_any()
                    } else {
                        view! { <strong>"Ask an admin for an ingestion token"</strong>" for this change" }.into_any()
                    }}
                    ". Its secret is shown once; keep it in your application's secrets."
                </li>
                <li>
                    <strong>"Send one window per variant and segment"</strong>
                    " every few minutes: rates as "<code>"{n, successes}"</code>", means as "
                    <code>"{n, sum, sum_squares}"</code>", latency as a histogram."
                </li>
            </ol>
            <div class="copy-box">
                <pre class="code" data-test="curl-example">{example.clone()}</pre>
                <CopyButton text=example />
            </div>
        </div>
    }
}
