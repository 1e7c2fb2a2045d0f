//! The comparison table: one row per metric (latency per quantile) of the chosen segment,
//! grouped by family, with both arms' values, the difference and its interval, and the
//! criterion's verdict; the adjusted p-value is in the difference's tooltip, and the rule and
//! method of each verdict in the verdict's "Details". Every number comes from
//! `shared::comparison::report`; the exact ones are on the row as `data-*` attributes for
//! tests. Clicking a row runs `select` with its metric; "Reproduce" runs `toggle` with it.

use std::collections::BTreeSet;

use leptos::prelude::*;
use shared::comparison::MetricRow;
use shared::metrics::MetricDef;
use shared::plan::RollbackCriterion;
use shared::series::criterion_bound;
use shared::stats::Verdict;

use super::copy_button::CopyButton;
use super::interval_bar::interval_bar;
use super::metric_text::{self as text};
use crate::format;

/// What a click on the table does: `select` charts a metric, `toggle` opens or closes its
/// "Reproduce" box.
#[derive(Clone, Copy)]
pub struct TableActions {
    pub select: Callback<String>,
    pub toggle: Callback<String>,
}

pub fn metric_table(
    rows: &[MetricRow],
    catalogue: &[MetricDef],
    criteria: &[RollbackCriterion],
    selected: Option<&str>,
    open: &BTreeSet<String>,
    actions: TableActions,
) -> impl IntoView + use<> {
    let mut family = None;
    let body = rows
        .iter()
        .map(|r| {
            let head = (family != Some(r.family)).then(|| {
                family = Some(r.family);
                view! { <tr class="family-row"><th colspan="7" scope="rowgroup">{r.family.label()}</th></tr> }
            });
            view! { {head}{row(r, catalogue, criteria, selected, open, actions)} }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="table metric-table" data-test="metric-table">
                <thead>
                    <tr>
                        <th class="col-metric">"Metric"</th>
                        <th class="num">"Control"</th>
                        <th class="num">"Candidate"</th>
                        <th class="num">"Difference"</th>
                        <th class="col-interval" title="95% interval, valid however often you look (latency quantiles: at a fixed horizon). Red tick: the criterion's margin.">"Interval"</th>
                        <th>"Criterion"</th>
                        <th><span class="sr-only">"Reproduce"</span></th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

fn row(
    r: &MetricRow,
    catalogue: &[MetricDef],
    criteria: &[RollbackCriterion],
    selected: Option<&str>,
    open: &BTreeSet<String>,
    actions: TableActions,
) -> impl IntoView + use<> {
    let scale = text::scale(catalogue, &r.key, &r.unit);
    let unit = r.unit.as_str();
    let threshold = criteria
        .iter()
        .find(|c| c.metric == r.key)
        .and_then(|c| criterion_bound(c, r.relative));
    let c = r.comparison;
    // Exact, for tests: Rust's shortest round-trip form.
    let num = |x: Option<f64>| x.map(|v| format!("{v}")).unwrap_or_default();
    let request = r.stats_request.as_ref();
    let is_open = open.contains(&r.key);
    let value = |v: Option<f64>| {
        v.map(|x| text::value(x, scale, unit))
            .unwrap_or_else(|| "—".into())
    };
    let n_title = format!(
        "n = {} control, {} candidate",
        format::count(r.control_n),
        format::count(r.candidate_n)
    );
    let compared = match c {
        Some(c) => {
            let tone = text::status(r);
            let class = if r.worse {
                "num diff diff-bad"
            } else if r.better {
                "num diff diff-good"
            } else {
                "num diff"
            };
            let p = format!(
                "p = {} adjusted across every metric × segment (Holm); raw p = {}",
                r.adjusted_p.map(text::p_value).unwrap_or_default(),
                text::p_value(c.p_value)
            );
            view! {
                <td class=class title=p>
                    {text::diff(c.estimate, r.relative, scale, unit)}
                    <span class="diff-ci">{format!("{} to {}", text::diff(c.ci[0], r.relative, scale, unit), text::diff(c.ci[1], r.relative, scale, unit))}</span>
                </td>
                <td class="col-interval">{interval_bar(c.estimate, c.ci[0], c.ci[1], threshold, tone)}</td>
            }
            .into_any()
        }
        None => view! {
            <td colspan="2" class="row-error">{r.error.clone().unwrap_or_else(|| "not compared".into())}</td>
        }
        .into_any(),
    };
    let (chip, label) = match (r.verdict, r.worse, r.better) {
        (Some(v), ..) => (text::verdict_name(Some(v)), text::verdict_label(v)),
        (None, true, _) => ("worse", "Worse"),
        (None, _, true) => ("better", "Better"),
        _ => ("none", "No difference"),
    };
    let sentence = r
        .criterion
        .clone()
        .map(|s| view! { <span class="criterion-text">{s}</span> });
    let key = r.key.clone();
    let (repro_button, repro) = reproduce(request, key.clone(), is_open, actions.toggle, 7);
    let selected = selected == Some(r.key.as_str());
    view! {
        <tr class=if selected { "metric-row is-selected" } else { "metric-row" } data-test="metric-row" data-metric=r.key.clone()
            data-verdict=text::verdict_name(r.verdict) data-estimate=num(c.map(|c| c.estimate))
            data-ci-lo=num(c.map(|c| c.ci[0])) data-ci-hi=num(c.map(|c| c.ci[1])) data-p=num(c.map(|c| c.p_value))
            data-stats-request=request.map(|v| v.to_string()).unwrap_or_default() title="Click to chart this metric"
            on:click=move |_| actions.select.run(key.clone())>
            <td class="col-metric"><span class="metric-name">{r.name.clone()}</span><span class="metric-key mono">{r.key.clone()}</span></td>
            <td class="num" title=n_title.clone()>{value(r.control)}</td>
            <td class="num" title=n_title>{value(r.candidate)}</td>
            {compared}
            <td class="col-criterion">
                <span class=format!("verdict verdict-{chip}")>{label}</span>
                {sentence}
            </td>
            <td class="col-repro">{repro_button}</td>
        </tr>
        {repro}
    }
}

/// A row's "Reproduce" button (running `toggle` with `key`) and, when `open`, the row below
/// it (`columns` wide) with the `rollgate stats` request that gives the same numbers. Nothing
/// for a row without a request (latency quantiles).
pub fn reproduce(
    request: Option<&serde_json::Value>,
    key: String,
    open: bool,
    toggle: Callback<String>,
    columns: u8,
) -> (impl IntoView + use<>, impl IntoView + use<>) {
    let button = request.is_some().then(|| {
        view! {
            <button type="button" class="btn btn-ghost btn-small" data-test="reproduce" aria-expanded=open.to_string()
                on:click=move |ev| {
                    // A row's own click charts the metric; this one only opens the box.
                    ev.stop_propagation();
                    toggle.run(key.clone());
                }>"Reproduce"</button>
        }
    });
    let row = request.filter(|_| open).map(|req| {
        let text = format::pretty_json(req);
        view! {
            <tr class="repro-row">
                <td colspan=columns.to_string()>
                    <div class="repro">
                        <p class="subtle">"The same numbers on the command line: put this request in a JSON array and pipe it to "<code>"rollgate stats"</code>", or paste it into the "<a href="/stats" data-test="stats-link">"statistics calculator"</a>"."</p>
                        <div class="copy-box">
                            <pre class="code" data-test="stats-request">{text.clone()}</pre>
                            <CopyButton text=text />
                        </div>
                    </div>
                </td>
            </tr>
        }
    });
    (button, row)
}

/// True when the row breaches its criterion.
pub fn breaches(r: &MetricRow) -> bool {
    r.verdict == Some(Verdict::Breach)
}
