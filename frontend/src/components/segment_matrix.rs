//! Every metric in every segment at a glance: a coloured cell per metric × segment (the
//! aggregate first), with a strong outline and a callout where a segment regresses while the
//! aggregate does not. Clicking a cell (`data-action="select-segment"`) shows that segment in
//! the table. Written as HTML text (see [`super::html`]).

use std::fmt::Write;

use shared::comparison::ComparisonReport;
use shared::metrics::{ALL_SEGMENTS, MetricDef};
use shared::stats::Verdict;

use super::html::esc;
use super::metric_text as text;

/// The hidden-regression callouts and the matrix; `segment` is the one shown in the table.
pub fn segment_matrix(report: &ComparisonReport, catalogue: &[MetricDef], segment: &str) -> String {
    let mut s = String::new();
    for (key, seg) in &report.hidden_regressions {
        let Some(cell) = report.cell(key, seg) else {
            continue;
        };
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
        let _ = write!(
            s,
            r#"<div class="callout callout-danger" data-test="hidden-regression" data-metric="{k}" data-segment="{sg}"><svg viewBox="0 0 20 20" aria-hidden="true"><path d="M10 2.5l8 14.5H2z" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linejoin="round"/><path d="M10 8v4M10 14.3v.8" stroke="currentColor" stroke-width="1.7" stroke-linecap="round"/></svg><p><strong>{name} {verb} in {sg}</strong> while {overall}. <span class="subtle">An average over segments can hide a regression confined to one audience.</span></p><button type="button" class="btn btn-small" data-action="select-segment" data-segment="{sg}">Show {sg}</button></div>"#,
            k = esc(key),
            sg = esc(seg),
            name = esc(&cell.name),
        );
    }
    s.push_str(r#"<div class="table-scroll"><table class="matrix" data-test="segment-matrix"><thead><tr><th class="matrix-corner">Metric</th>"#);
    for seg in &report.segments {
        let _ = write!(
            s,
            r#"<th scope="col" class="seg-head{}">{}</th>"#,
            if seg == segment { " is-active" } else { "" },
            esc(&text::segment_label(seg))
        );
    }
    s.push_str("</tr></thead><tbody>");
    for cells in report.matrix.chunks(report.segments.len().max(1)) {
        let _ = write!(
            s,
            r#"<tr><th scope="row" class="matrix-metric">{}</th>"#,
            esc(&cells[0].name)
        );
        for r in cells {
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
            let _ = write!(
                s,
                r#"<td class="matrix-td{active}"><button type="button" class="matrix-cell cell-{status}{hid}" data-test="matrix-cell" data-action="select-segment" data-metric="{k}" data-segment="{sg}" data-status="{status}" title="{name} · {sgl}: {label}{p}">{label}</button></td>"#,
                active = if r.segment == segment {
                    " is-active"
                } else {
                    ""
                },
                hid = if hidden { " is-hidden-regression" } else { "" },
                k = esc(&r.key),
                sg = esc(&r.segment),
                name = esc(&r.name),
                sgl = esc(&text::segment_label(&r.segment)),
                p = r
                    .adjusted_p
                    .map(|p| format!(" (adj. p {})", text::p_value(p)))
                    .unwrap_or_default(),
            );
        }
        s.push_str("</tr>");
    }
    s.push_str(r#"</tbody></table></div><div class="matrix-legend" aria-hidden="true"><span><i class="cell-breach"></i>Breach</span><span><i class="cell-worse"></i>Worse</span><span><i class="cell-better"></i>Better</span><span><i class="cell-pass"></i>Pass</span><span><i class="cell-neutral"></i>No significant difference</span><span><i class="cell-nodata"></i>No data</span></div>"#);
    s
}
