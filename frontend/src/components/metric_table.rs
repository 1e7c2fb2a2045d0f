//! The comparison table: one row per metric (latency per quantile) of the chosen segment,
//! grouped by family, with both arms' values, the difference and its interval, the adjusted
//! p-value and the criterion's verdict. Every number comes from `shared::comparison::report`;
//! the exact ones are on the row as `data-*` attributes for tests. Written as HTML text (see
//! [`super::html`]); clicks carry `data-action="select-metric"` / `"toggle-repro"`.

use std::collections::BTreeSet;
use std::fmt::Write;

use shared::comparison::MetricRow;
use shared::metrics::MetricDef;
use shared::plan::RollbackCriterion;
use shared::series::criterion_bound;
use shared::stats::Verdict;

use super::html::esc;
use super::interval_bar::interval_bar;
use super::metric_text::{self as text};

pub fn metric_table(
    rows: &[MetricRow],
    catalogue: &[MetricDef],
    criteria: &[RollbackCriterion],
    selected: Option<&str>,
    open: &BTreeSet<String>,
) -> String {
    let mut s = String::from(
        r#"<div class="table-scroll"><table class="table metric-table" data-test="metric-table"><thead><tr><th class="col-metric">Metric</th><th class="num">Control</th><th class="num">Candidate</th><th class="num">Difference</th><th class="col-interval" title="Always-valid 95% interval (latency quantiles: fixed-horizon). Red tick: the criterion's margin.">Interval</th><th class="num" title="p-value adjusted across every metric × segment (Holm)">Adj. p</th><th>Criterion</th><th><span class="sr-only">Reproduce</span></th></tr></thead><tbody>"#,
    );
    let mut family = None;
    for r in rows {
        if family != Some(r.family) {
            family = Some(r.family);
            let _ = write!(
                s,
                r#"<tr class="family-row"><th colspan="8" scope="rowgroup">{}</th></tr>"#,
                r.family.label()
            );
        }
        row(&mut s, r, catalogue, criteria, selected, open);
    }
    s.push_str("</tbody></table></div>");
    s
}

fn row(
    s: &mut String,
    r: &MetricRow,
    catalogue: &[MetricDef],
    criteria: &[RollbackCriterion],
    selected: Option<&str>,
    open: &BTreeSet<String>,
) {
    let scale = text::scale(catalogue, &r.key, &r.unit);
    let unit = r.unit.as_str();
    let threshold = criteria
        .iter()
        .find(|c| c.metric == r.key)
        .and_then(|c| criterion_bound(c, r.relative));
    let c = r.comparison;
    let num = |x: Option<f64>| x.map(|v| format!("{v}")).unwrap_or_default();
    let key = esc(&r.key);
    let request = r.stats_request.as_ref();
    let is_open = open.contains(&r.key);
    let value = |v: Option<f64>| {
        v.map(|x| text::value(x, scale, unit))
            .unwrap_or_else(|| "—".into())
    };
    let n_title = format!(
        "n = {} control, {} candidate",
        crate::format::count(r.control_n),
        crate::format::count(r.candidate_n)
    );
    let _ = write!(
        s,
        r#"<tr class="metric-row{sel}" data-test="metric-row" data-action="select-metric" data-metric="{key}" data-verdict="{verdict}" data-estimate="{est}" data-ci-lo="{lo}" data-ci-hi="{hi}" data-p="{p}" data-stats-request="{req}" title="Click to chart this metric"><td class="col-metric"><span class="metric-name">{name}</span><span class="metric-key mono">{key}</span></td><td class="num" title="{n_title}">{a}</td><td class="num" title="{n_title}">{b}</td>"#,
        sel = if selected == Some(r.key.as_str()) {
            " is-selected"
        } else {
            ""
        },
        verdict = text::verdict_name(r.verdict),
        est = num(c.map(|c| c.estimate)),
        lo = num(c.map(|c| c.ci[0])),
        hi = num(c.map(|c| c.ci[1])),
        p = num(c.map(|c| c.p_value)),
        req = request.map(|v| esc(&v.to_string())).unwrap_or_default(),
        name = esc(&r.name),
        a = value(r.control),
        b = value(r.candidate),
    );
    match c {
        Some(c) => {
            let tone = text::status(r);
            let class = if r.worse {
                " diff-bad"
            } else if r.better {
                " diff-good"
            } else {
                ""
            };
            let _ = write!(
                s,
                r#"<td class="num diff{class}">{d}<span class="diff-ci">{lo} to {hi}</span></td><td class="col-interval">{bar}</td><td class="num" title="raw p = {raw}">{adj}</td>"#,
                d = text::diff(c.estimate, r.relative, scale, unit),
                lo = text::diff(c.ci[0], r.relative, scale, unit),
                hi = text::diff(c.ci[1], r.relative, scale, unit),
                bar = interval_bar(c.estimate, c.ci[0], c.ci[1], threshold, tone),
                raw = text::p_value(c.p_value),
                adj = r.adjusted_p.map(text::p_value).unwrap_or_default(),
            );
        }
        None => {
            let _ = write!(
                s,
                r#"<td colspan="3" class="row-error">{}</td>"#,
                esc(r.error.as_deref().unwrap_or("not compared"))
            );
        }
    }
    let (chip, label) = match (r.verdict, r.worse, r.better) {
        (Some(v), ..) => (text::verdict_name(Some(v)), text::verdict_label(v)),
        (None, true, _) => ("worse", "Worse"),
        (None, _, true) => ("better", "Better"),
        _ => ("none", "No difference"),
    };
    let _ = write!(
        s,
        r#"<td class="col-criterion"><span class="verdict verdict-{chip}" title="{rule}">{label}</span>"#,
        rule = esc(r.rule.as_deref().unwrap_or("")),
    );
    if let Some(sentence) = &r.criterion {
        let _ = write!(
            s,
            r#"<span class="criterion-text">{}</span>"#,
            esc(sentence)
        );
    }
    s.push_str(r#"</td><td class="col-repro">"#);
    if request.is_some() {
        let _ = write!(
            s,
            r#"<button type="button" class="btn btn-ghost btn-small" data-test="reproduce" data-action="toggle-repro" data-metric="{key}" aria-expanded="{is_open}">Reproduce</button>"#
        );
    }
    s.push_str("</td></tr>");
    if let (true, Some(req)) = (is_open, request) {
        let _ = write!(
            s,
            r#"<tr class="repro-row"><td colspan="8"><div class="repro"><p class="subtle">The same numbers on the command line: put this request in a JSON array and pipe it to <code>rollgate stats</code>.</p><div class="copy-box"><pre class="code" data-test="stats-request">{}</pre><button type="button" class="btn btn-small copy-btn" data-action="copy">Copy</button></div></div></td></tr>"#,
            esc(&crate::format::pretty_json(req))
        );
    }
}

/// True when the row breaches its criterion.
pub fn breaches(r: &MetricRow) -> bool {
    r.verdict == Some(Verdict::Breach)
}
