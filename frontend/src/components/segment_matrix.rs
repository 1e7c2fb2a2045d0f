//! Every metric in every segment at a glance: a coloured cell per metric × segment (the
//! aggregate first), with a strong outline and a callout where a segment regresses while the
//! aggregate does not. Clicking a cell runs `select` with its segment, to show it in the table.

use leptos::prelude::*;
use shared::comparison::ComparisonReport;
use shared::metrics::{ALL_SEGMENTS, MetricDef};
use shared::stats::Verdict;

use super::metric_text as text;

/// The hidden-regression callouts and the matrix; `segment` is the one shown in the table.
pub fn segment_matrix(
    report: &ComparisonReport,
    catalogue: &[MetricDef],
    segment: &str,
    select: Callback<String>,
) -> impl IntoView + use<> {
    let callouts = report
        .hidden_regressions
        .iter()
        .filter_map(|(key, seg)| {
            let cell = report.cell(key, seg)?;
            let verb = if cell.verdict == Some(Verdict::Breach) {
                "breaches"
            } else {
                "is significantly worse"
            };
            let overall = match report.cell(key, ALL_SEGMENTS).and_then(|a| a.verdict) {
                Some(Verdict::Pass) => "the aggregate passes",
                Some(Verdict::Inconclusive) => "the aggregate is inconclusive",
                _ => "the aggregate shows no significant harm",
            };
            let seg = seg.clone();
            let shown = seg.clone();
            Some(view! {
                <div class="callout callout-danger" data-test="hidden-regression" data-metric=key.clone() data-segment=seg.clone()>
                    <svg viewBox="0 0 20 20" aria-hidden="true">
                        <path d="M10 2.5l8 14.5H2z" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round"></path>
                        <path d="M10 8v4M10 14.3v.8" stroke="currentColor" stroke-width="1.7" stroke-linecap="round"></path>
                    </svg>
                    <p>
                        <strong>{format!("{} {verb} in {seg}", cell.name)}</strong>
                        {format!(" while {overall}. ")}
                        <span class="subtle">"An average over segments can hide a regression confined to one audience."</span>
                    </p>
                    <button type="button" class="btn btn-small" on:click=move |_| select.run(shown.clone())>{format!("Show {seg}")}</button>
                </div>
            })
        })
        .collect_view();
    let heads = report
        .segments
        .iter()
        .map(|seg| {
            view! {
                <th scope="col" class=if seg == segment { "seg-head is-active" } else { "seg-head" }>{text::segment_label(seg)}</th>
            }
        })
        .collect_view();
    let rows = report
        .matrix
        .chunks(report.segments.len().max(1))
        .map(|cells| {
            let tds = cells
                .iter()
                .map(|r| {
                    let status = text::status(r);
                    let scale = text::scale(catalogue, &r.key, &r.unit);
                    let label = r
                        .comparison
                        .map(|c| text::diff(c.estimate, r.relative, scale, &r.unit))
                        .unwrap_or_else(|| "—".into());
                    let hidden = report
                        .hidden_regressions
                        .iter()
                        .any(|(k, sg)| *k == r.key && *sg == r.segment);
                    let title = format!(
                        "{} · {}: {label}{}",
                        r.name,
                        text::segment_label(&r.segment),
                        r.adjusted_p
                            .map(|p| format!(" (adj. p {})", text::p_value(p)))
                            .unwrap_or_default()
                    );
                    let class = format!(
                        "matrix-cell cell-{status}{}",
                        if hidden { " is-hidden-regression" } else { "" }
                    );
                    let seg = r.segment.clone();
                    view! {
                        <td class=if r.segment == segment { "matrix-td is-active" } else { "matrix-td" }>
                            <button type="button" class=class data-test="matrix-cell" data-metric=r.key.clone()
                                data-segment=r.segment.clone() data-status=status title=title
                                on:click=move |_| select.run(seg.clone())>{label}</button>
                        </td>
                    }
                })
                .collect_view();
            view! { <tr><th scope="row" class="matrix-metric">{cells[0].name.clone()}</th>{tds}</tr> }
        })
        .collect_view();
    view! {
        {callouts}
        <div class="table-scroll">
            <table class="matrix" data-test="segment-matrix">
                <thead><tr><th class="matrix-corner">"Metric"</th>{heads}</tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <div class="matrix-legend" aria-hidden="true">
            <span><i class="cell-breach"></i>"Breach"</span>
            <span><i class="cell-worse"></i>"Worse"</span>
            <span><i class="cell-better"></i>"Better"</span>
            <span><i class="cell-pass"></i>"Pass"</span>
            <span><i class="cell-neutral"></i>"No significant difference"</span>
            <span><i class="cell-nodata"></i>"No data"</span>
        </div>
    }
}
