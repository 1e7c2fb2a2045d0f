//! Functions exported to page scripts (`window.rollgate.*`, see `index.html`): the stats
//! contract for browser tests, and a timing of the comparison report for the page-load
//! benchmark. The statistics engine lives in the pages module (see `page_view` in the crate
//! root), which the comparison page and the calculator need anyway: the exports return promises
//! that fetch it first when this tab has not yet, and the first screen does not carry it.

use shared::comparison::{ReportOptions, report};
use shared::stats::run_batch;
use wasm_bindgen::prelude::wasm_bindgen;

/// The answers of `rollgate stats` to `input`, or the reason the batch could not be read.
pub fn answer(input: &str) -> Result<String, String> {
    run_batch(input).map_err(|e| e.to_string())
}

/// `rollgate stats` in the browser: a promise of the JSON array of answers, or of
/// `{"error": "…"}` when the input is not a JSON array.
#[wasm_bindgen]
pub async fn run_stats(input: String) -> String {
    match crate::page_view(crate::Call::RunStats(input)).await {
        crate::Answer::Text(text) => text,
        crate::Answer::View(_) | crate::Answer::Millis(_) => String::new(),
    }
}

/// A promise of the mean milliseconds per `shared::comparison::report` call on the benchmark
/// workload (30 metrics × 11 segments plus the aggregate), over `iterations` calls. The timing
/// starts once the pages module is here.
#[wasm_bindgen]
pub async fn bench_report(iterations: u32) -> f64 {
    match crate::page_view(crate::Call::BenchReport(iterations)).await {
        crate::Answer::Millis(ms) => ms,
        crate::Answer::View(_) | crate::Answer::Text(_) => f64::NAN,
    }
}

/// [`run_stats`] once the pages module is here.
pub(crate) fn run_stats_now(input: &str) -> String {
    answer(input).unwrap_or_else(|e| serde_json::json!({ "error": e }).to_string())
}

/// [`bench_report`] once the pages module is here.
pub(crate) fn bench_report_now(iterations: u32) -> f64 {
    let (summary, criteria) = shared::synthetic::summary(30, 11, 7);
    let opts = ReportOptions::default();
    let runs = iterations.max(1);
    let start = now();
    let mut rows = 0usize;
    for _ in 0..runs {
        // Keep the result alive so the call cannot be optimised away.
        rows += report(&summary, &criteria, &opts).matrix.len();
    }
    let elapsed = now() - start;
    std::hint::black_box(rows);
    elapsed / f64::from(runs)
}

/// Milliseconds from the high-resolution clock when there is one.
fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or_else(js_sys::Date::now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_arrays_are_reported_as_errors() {
        let out: serde_json::Value = serde_json::from_str(&run_stats_now("{}")).unwrap();
        assert!(out["error"].as_str().unwrap().contains("array"));
        let ok = run_stats_now(r#"[{"test":"srm","observed":[10,10],"weights":[1,1]}]"#);
        assert!(ok.starts_with('['));
    }
}
