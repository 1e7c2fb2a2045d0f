//! The one way HTML text enters the page. The console draws with `view!`; the exception is a
//! chart, which plotters writes as SVG text (see `charts`). [`Markup`] is that text: only
//! `charts::render` makes one, so nothing else can reach `inner_html`, and [`markup`] inserts
//! it.
//!
//! Why the charts and nothing else: the comparison page's tables, matrix and error categories
//! were HTML text too, but as views they cost 5.7 KB of gzipped Wasm and keep the console within
//! its budget (BENCHMARKS.md, "Console bundle").

use leptos::prelude::*;

/// HTML text made by a chart: SVG from plotters' SVG backend, which escapes the labels it
/// draws (segment and metric names come from ingestion).
#[derive(Debug, Clone, PartialEq)]
pub struct Markup(String);

impl Markup {
    /// SVG that plotters wrote.
    pub(super) fn svg(svg: String) -> Self {
        Markup(svg)
    }
}

/// A `<div>` with `class` and an accessible `label` holding `markup`.
pub fn markup(class: &'static str, label: String, markup: Markup) -> impl IntoView {
    view! { <div class=class role="img" aria-label=label inner_html=markup.0></div> }
}
