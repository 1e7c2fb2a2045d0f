//! The overall verdict in plain words (`shared::plain`): each breaching criterion and segment
//! first, then the others briefly, and behind "Details" the statistics each sentence was
//! decided on (interval, adjusted p, rule and method; the Metrics table reproduces each).
//!
//! The callout itself is drawn once and only its contents follow the report, so an open
//! "Details" stays open while the page refreshes every few seconds.

use leptos::prelude::*;
use shared::comparison::{ComparisonReport, ReportOptions};
use shared::metrics::MetricDef;
use shared::plain::{findings, level_note};
use shared::plan::RollbackCriterion;

use crate::components::metric_text::{self as text};

#[component]
pub(super) fn VerdictCallout(
    report: Memo<Option<ComparisonReport>>,
    criteria: StoredValue<Vec<RollbackCriterion>>,
    catalogue: Memo<Vec<MetricDef>>,
) -> impl IntoView {
    let name = move || report.with(|r| text::verdict_name(r.as_ref().map(|r| r.overall)));
    // `findings` borrows the report: each part is drawn inside the borrow.
    let with_findings =
        move |draw: &dyn Fn(&ComparisonReport, &[shared::plain::Finding]) -> AnyView| {
            report.with(|r| {
                let r = r.as_ref()?;
                Some(criteria.with_value(|cs| catalogue.with(|cat| draw(r, &findings(r, cs, cat)))))
            })
        };
    let sentences = move || {
        with_findings(&|_, found| {
            if found.is_empty() {
                return view! { <li class="verdict-callout-text">"This plan has no rollback criteria to judge."</li> }.into_any();
            }
            found
                .iter()
                .map(|f| {
                    let status = f.verdict.map_or("nodata", |v| text::verdict_name(Some(v)));
                    view! {
                        <li class=format!("verdict-callout-text finding finding-{status}") data-test="finding"
                            data-verdict=status data-metric=f.metric.to_owned()
                            data-segment=f.row.map(|r| r.segment.clone()).unwrap_or_default()>{f.text.clone()}</li>
                    }
                })
                .collect_view()
                .into_any()
        })
    };
    let details = move || {
        with_findings(&|r, found| {
            let rows = found
                .iter()
                .filter_map(|f| {
                    let row = f.row?;
                    let adjusted = row.adjusted_p.map(text::p_value).unwrap_or_else(|| "—".into());
                    let raw = row.comparison.map(|c| format!("raw p = {}", text::p_value(c.p_value)));
                    let rule = row.rule.clone().or_else(|| row.error.clone());
                    // A sequential rule already names its method; a fixed-horizon one does not.
                    let method = row.method.clone().filter(|m| !rule.as_deref().is_some_and(|r| r.contains(m.as_str())));
                    Some(view! {
                        <tr data-test="detail-row" data-metric=row.key.clone() data-segment=row.segment.clone()>
                            <td>{row.name.clone()}<span class="metric-key">{text::segment_label(&row.segment)}</span></td>
                            <td class="num">{f.numbers.clone().unwrap_or_else(|| "no data".into())}</td>
                            <td class="num" data-test="detail-adjusted-p" title=raw.unwrap_or_default()>{adjusted}</td>
                            <td>
                                <span class="criterion-text" data-test="verdict-rule">{rule}</span>
                                {method.map(|m| view! { <span class="criterion-text subtle" data-test="verdict-method">{m}</span> })}
                            </td>
                        </tr>
                    })
                })
                .collect_view();
            let alpha = ReportOptions::default().alpha;
            view! {
                <p class="card-sub">{format!(
                    "Each sentence's interval is the one its verdict was decided on: the estimate ± the method's boundary × its standard error, {}. The Metrics table below shows 95% intervals, valid however often you look, and reproduces each. Adjusted p: Holm across every metric × segment.",
                    level_note(r, alpha)
                )}</p>
                <div class="table-scroll">
                    <table class="table details-table">
                        <thead><tr><th>"Criterion"</th><th class="num">"Estimate (interval)"</th><th class="num">"Adjusted p"</th><th>"How it was decided"</th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            }
            .into_any()
        })
    };
    let label = move || report.with(|r| r.as_ref().map(|r| text::verdict_label(r.overall)));
    view! {
        <section class=move || format!("verdict-callout verdict-callout-{}{}", name(), if report.with(Option::is_none) { " is-hidden" } else { "" })
            data-test=move || report.with(|r| r.as_ref().map(|_| "overall-verdict")) data-verdict=name>
            <div class="verdict-callout-head">
                <span class="callout-label">"Overall verdict"</span>
                <span class="verdict-callout-value">{label}</span>
            </div>
            <ul class="verdict-findings">{sentences}</ul>
            <details class="verdict-details" data-test="verdict-details">
                <summary>"Details"</summary>
                {details}
            </details>
        </section>
    }
}
