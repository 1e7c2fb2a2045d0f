//! The statistics calculator: the `rollgate stats` contract in the browser. Paste an array of
//! requests, get the array of answers — computed by the same `shared::stats::run_batch` the
//! command line runs, so both give identical numbers.

use leptos::prelude::*;

use crate::bench;

const EXAMPLE: &str = r#"[
  {
    "test": "proportions",
    "control": { "n": 20000, "successes": 17000 },
    "candidate": { "n": 1000, "successes": 790 },
    "alpha": 0.05,
    "sequential": { "tuning": 5000 }
  },
  {
    "test": "means",
    "control": { "n": 20000, "sum": 200.0, "sum_squares": 2.32 },
    "candidate": { "n": 1000, "sum": 12.0, "sum_squares": 0.16 },
    "relative": true
  },
  {
    "test": "srm",
    "observed": [19000, 1100],
    "weights": [0.95, 0.05]
  },
  {
    "test": "adjust",
    "method": "holm",
    "p_values": [0.01, 0.04, 0.03, 0.2]
  }
]"#;

#[component]
pub fn StatsCalculator() -> impl IntoView {
    let input = RwSignal::new(EXAMPLE.to_string());
    let output = RwSignal::new(None::<Result<String, String>>);
    let run = move || output.set(Some(bench::answer(&input.get_untracked())));
    let on_key = move |e: leptos::ev::KeyboardEvent| {
        if e.key() == "Enter" && (e.ctrl_key() || e.meta_key()) {
            e.prevent_default();
            run();
        }
    };
    view! {
        <div class="page stats-page">
            <div class="page-head">
                <div>
                    <h1>"Statistics calculator"</h1>
                    <p class="page-lede">
                        "The significance engine behind every comparison, on numbers you give it. "
                        <code>"rollgate stats"</code>
                        " on the command line reads the same JSON and gives identical numbers."
                    </p>
                </div>
            </div>
            <div class="stats-grid">
                <section class="card stats-io">
                    <label class="field">
                        <span class="field-label">"Requests (a JSON array)"</span>
                        <textarea
                            class="code-input"
                            data-test="stats-input"
                            rows="24"
                            spellcheck="false"
                            bind:value=input
                            on:keydown=on_key
                        ></textarea>
                    </label>
                    <div class="stats-actions">
                        <span class="hint">"Ctrl+Enter to run"</span>
                        <button type="button" class="btn" on:click=move |_| input.set(EXAMPLE.to_string())>"Reset example"</button>
                        <button type="button" class="btn btn-primary" data-test="stats-run" on:click=move |_| run()>"Run"</button>
                    </div>
                    <div class="field">
                        <span class="field-label">"Answers (same order)"</span>
                        {move || {
                            let (text, failed) = match output.get() {
                                None => ("Press Run to compute.".to_string(), false),
                                Some(Ok(s)) => (s, false),
                                Some(Err(e)) => (e, true),
                            };
                            view! { <pre class="code stats-output" class:is-error=failed data-test="stats-output">{text}</pre> }
                        }}
                    </div>
                </section>
                <aside class="card stats-help">
                    <h2>"Request types"</h2>
                    <dl>
                        <dt><code>"proportions"</code></dt>
                        <dd>"Two rates from "<code>"{n, successes}"</code>" per arm: Welch test of the difference (or the relative lift with "<code>"\"relative\": true"</code>"). Add "<code>"\"sequential\": {\"tuning\": 5000}"</code>" for an always-valid interval, safe to look at repeatedly."</dd>
                        <dt><code>"means"</code></dt>
                        <dd>"Two means from "<code>"{n, sum, sum_squares}"</code>" per arm, same options. The answer is "<code>"{estimate, ci, p_value, std_error}"</code>"."</dd>
                        <dt><code>"srm"</code></dt>
                        <dd>"Sample-ratio mismatch: requests per arm ("<code>"observed"</code>") against the planned split ("<code>"weights"</code>"), χ² test. A tiny p-value means the assignment is broken."</dd>
                        <dt><code>"adjust"</code></dt>
                        <dd>"Multiple-comparison correction of a list of p-values: "<code>"\"holm\""</code>" (family-wise) or "<code>"\"bh\""</code>" (false discovery rate)."</dd>
                        <dt><code>"mann_whitney"</code></dt>
                        <dd>"Rank test of two raw samples ("<code>"control"</code>", "<code>"candidate"</code>" as arrays of numbers)."</dd>
                    </dl>
                    <p class="subtle">"Each request is answered on its own: one that cannot be analysed becomes "<code>"{\"error\": …}"</code>" and the others still run. "<code>"alpha"</code>" defaults to 0.05."</p>
                    <pre class="code">"echo '[{\"test\":\"srm\",\"observed\":[1000,1200],\"weights\":[0.5,0.5]}]' | rollgate stats"</pre>
                </aside>
            </div>
        </div>
    }
}
