//! The analysis below the comparison's toolbar: the SRM warning, the metrics table, the
//! charts of the chosen metric, the segment matrix and the error categories.

use std::collections::BTreeSet;

use leptos::prelude::*;
use shared::comparison::{ComparisonReport, ReportOptions, SrmCheck};
use shared::metrics::{ALL_SEGMENTS, MetricKind, MetricSeries, MetricSummary, Variant};
use shared::plan::RollbackCriterion;
use shared::series::{band, criterion_bound, latency_view};

use super::SeriesKey;
use crate::api::ApiError;
use crate::components::charts::{ChartBox, forest, latency, time_series};
use crate::components::error_banner::{ErrorBanner, Problem};
use crate::components::error_categories::error_categories;
use crate::components::metric_table::{TableActions, breaches, metric_table};
use crate::components::metric_text::{self as text, base_def};
use crate::components::segment_matrix::segment_matrix;
use crate::format;

/// The row to chart when the user has not picked one: the first breach, else the first
/// significantly worse row, else the first row that could be compared.
pub(super) fn default_metric(r: &ComparisonReport) -> Option<String> {
    r.rows
        .iter()
        .find(|x| breaches(x))
        .or_else(|| r.rows.iter().find(|x| x.worse))
        .or_else(|| r.rows.iter().find(|x| x.comparison.is_some()))
        .or_else(|| r.rows.first())
        .map(|x| x.key.clone())
}

/// Everything below the toolbar once there is data.
#[component]
pub(super) fn Analysis(
    report: Memo<Option<ComparisonReport>>,
    summary: RwSignal<Option<Result<MetricSummary, ApiError>>>,
    catalogue: Memo<Vec<shared::metrics::MetricDef>>,
    criteria: StoredValue<Vec<RollbackCriterion>>,
    segment: RwSignal<String>,
    picked: RwSignal<Option<String>>,
    metric: Memo<Option<String>>,
    open: RwSignal<BTreeSet<String>>,
    series: RwSignal<Option<(SeriesKey, Result<MetricSeries, ApiError>)>>,
    series_key: Memo<Option<SeriesKey>>,
) -> impl IntoView {
    let actions = TableActions {
        select: Callback::new(move |key: String| picked.set(Some(key))),
        toggle: Callback::new(move |key: String| {
            open.update(|o| {
                if !o.remove(&key) {
                    o.insert(key);
                }
            })
        }),
    };
    let select_segment = Callback::new(move |s: String| segment.set(s));

    let row_info = Memo::new(move |_| {
        let key = metric.get()?;
        report.with(|r| {
            let r = r.as_ref()?;
            let row = r.rows.iter().find(|x| x.key == key)?;
            Some((
                row.key.clone(),
                row.name.clone(),
                row.unit.clone(),
                row.relative,
            ))
        })
    });
    let threshold = Memo::new(move |_| {
        let (key, _, _, relative) = row_info.get()?;
        criteria.with_value(|cs| {
            cs.iter()
                .find(|c| c.metric == key)
                .and_then(|c| criterion_bound(c, relative))
        })
    });
    let scale_of = move |key: &str, unit: &str| catalogue.with(|c| text::scale(c, key, unit));

    let srm = Memo::new(move |_| {
        report.with(|r| {
            let s = r.as_ref()?.srm.as_ref().filter(|s| s.mismatch)?;
            Some(srm_problem(s))
        })
    });
    let table = move || {
        let selected = metric.get();
        report.with(|r| {
            let r = r.as_ref()?;
            let view = open.with(|o| {
                catalogue.with(|cat| {
                    criteria.with_value(|cs| {
                        metric_table(&r.rows, cat, cs, selected.as_deref(), o, actions)
                    })
                })
            });
            Some(view)
        })
    };
    let matrix = move || {
        let seg = segment.get();
        report.with(|r| {
            let r = r.as_ref()?;
            Some(catalogue.with(|cat| segment_matrix(r, cat, &seg, select_segment)))
        })
    };
    let categories = move || report.with(|r| r.as_ref().map(|r| error_categories(&r.categories)));

    let time_svg = Memo::new(move |_| {
        let (key, _, unit, relative) = row_info.get()?;
        let q = catalogue.with(|c| base_def(c, &key).and_then(|(_, q)| q));
        let want = series_key.get()?;
        let points = series.with(|s| match s {
            Some((k, Ok(series))) if *k == want => Some(band(
                series,
                q,
                relative,
                &ReportOptions {
                    segment: want.segment.clone(),
                    ..ReportOptions::default()
                },
            )),
            _ => None,
        })?;
        let points: Vec<time_series::Point> = points
            .into_iter()
            .filter_map(|p| {
                Some(time_series::Point {
                    at_ms: format::parse_ms(&p.at)?,
                    estimate: p.estimate,
                    lo: p.lo,
                    hi: p.hi,
                })
            })
            .collect();
        let scale = scale_of(&key, &unit);
        time_series::chart(
            &points,
            threshold.get(),
            &|y| text::axis(y, relative, scale),
            &text::axis_title(relative, scale, &unit),
            &format::clock,
        )
    });
    // None while the charted series is on its way, else the error message if it failed.
    let series_state = move || {
        let want = series_key.get();
        series.with(|s| match (s, want) {
            (Some((k, r)), Some(w)) if *k == w => Some(r.as_ref().err().map(|e| e.message())),
            _ => None,
        })
    };
    let time_empty = Signal::derive(move || match series_state() {
        None => "Loading the series…".to_string(),
        Some(Some(err)) => format!("The series could not be loaded: {err}"),
        Some(None) => "Not enough data over time to draw this metric yet.".to_string(),
    });

    let forest_svg = Memo::new(move |_| {
        let (key, _, unit, relative) = row_info.get()?;
        let seg = segment.get();
        let rows: Vec<forest::Row> = report.with(|r| {
            r.as_ref()
                .map(|r| {
                    r.matrix
                        .iter()
                        .filter(|x| x.key == key)
                        .filter_map(|x| {
                            let c = x.comparison?;
                            Some(forest::Row {
                                label: text::segment_label(&x.segment),
                                estimate: c.estimate,
                                lo: c.ci[0],
                                hi: c.ci[1],
                                breach: breaches(x),
                                aggregate: x.segment == ALL_SEGMENTS,
                                selected: x.segment == seg && seg != ALL_SEGMENTS,
                            })
                        })
                        .collect()
                })
                .unwrap_or_default()
        });
        let scale = scale_of(&key, &unit);
        forest::chart(
            &rows,
            threshold.get(),
            &|x| text::axis(x, relative, scale),
            &text::axis_title(relative, scale, &unit),
        )
    });
    let latency_data = Memo::new(move |_| {
        let seg = segment.get();
        summary.with(|s| {
            let s = s.as_ref()?.as_ref().ok()?;
            let def = s.catalogue.iter().find(|d| d.kind == MetricKind::Latency)?;
            let cell = |v: Variant| {
                s.cells
                    .iter()
                    .find(|c| c.metric == def.key && c.segment == seg && c.variant == v)
                    .map(|c| &c.value)
            };
            latency_view(cell(Variant::Control)?, cell(Variant::Candidate)?)
        })
    });
    let latency_svg =
        Memo::new(move |_| latency_data.with(|v| v.as_ref().and_then(latency::chart)));

    let chart_title = move || {
        row_info
            .get()
            .map(|(_, name, ..)| name)
            .unwrap_or_else(|| "Metric".into())
    };
    let seg_label = move || text::segment_label(&segment.get());
    let ready = move || {
        report.with(Option::is_some)
            && (series_key.with(Option::is_none) || series_state().is_some())
    };

    view! {
        <div class="analysis">
            <div>{move || srm.get().map(|p| view! { <ErrorBanner error=p hook="srm-banner" class="srm-banner" /> })}</div>
            <section class="card table-card compare-card">
                <div class="card-head card-head-pad">
                    <div>
                        <h2>{move || format!("Metrics · {}", seg_label())}</h2>
                        <p class="card-sub">"Candidate against control, with 95% intervals that stay valid however often you look. Click a row to chart it."</p>
                    </div>
                </div>
                <div>{table}</div>
            </section>

            <section class="card chart-card">
                <div class="card-head">
                    <div>
                        <h2>{move || format!("{} over time · {}", chart_title(), seg_label())}</h2>
                        <p class="card-sub">"Cumulative difference since the start of the window, with its 95% interval."</p>
                    </div>
                    <div class="legend">
                        <span><i class="lg-line lg-accent"></i>"Estimate"</span>
                        <span><i class="lg-band"></i>"95% interval"</span>
                        <span><i class="lg-line lg-faint"></i>"No difference"</span>
                        <span class:is-hidden=move || threshold.get().is_none()><i class="lg-dash lg-danger"></i>"Criterion margin"</span>
                    </div>
                </div>
                <ChartBox svg=time_svg.into() label="Cumulative difference of the chosen metric over time, candidate against control, with its interval; its current value is in the Metrics table above" empty=time_empty />
            </section>

            <div class="chart-grid">
                <section class="card chart-card">
                    <div class="card-head">
                        <div>
                            <h2>{move || format!("{} by segment", chart_title())}</h2>
                            <p class="card-sub">"Difference and interval per segment; red where the criterion is breached."</p>
                        </div>
                    </div>
                    <ChartBox svg=forest_svg.into() label="Difference of the chosen metric in each segment, with its interval; every segment's value is in the Segments table below" empty=Signal::stored("No segment could be compared yet.".to_string()) />
                </section>
                <section class="card chart-card">
                    <div class="card-head">
                        <div>
                            <h2>{move || format!("Latency distribution · {}", seg_label())}</h2>
                            <p class="card-sub">"Share of requests per latency bucket, with p50 and p95 of each arm."</p>
                        </div>
                        <div class="legend">
                            <span><i class="lg-box lg-control"></i>"Control"</span>
                            <span><i class="lg-line lg-accent"></i>"Candidate"</span>
                        </div>
                    </div>
                    <ChartBox svg=latency_svg.into() label="Share of requests per latency bucket for control and candidate; the p50 and p95 of each arm are written below the chart" empty=Signal::stored("No latency histograms from both arms in this segment.".to_string()) />
                    {move || latency_data.with(|v| v.as_ref().map(latency::caption))}
                </section>
            </div>

            <section class="card">
                <div class="card-head">
                    <div>
                        <h2>"Segments"</h2>
                        <p class="card-sub">"Every metric in every segment. Click a cell to show that segment above."</p>
                    </div>
                </div>
                <div>{matrix}</div>
            </section>

            <section class="card">
                <div class="card-head">
                    <div>
                        <h2>{move || format!("Error categories · {}", seg_label())}</h2>
                        <p class="card-sub">"Errors by kind: “new” ones never occur on the control; red ones are significantly more frequent on the candidate."</p>
                    </div>
                </div>
                <div>{categories}</div>
            </section>
            <span class="sr-only" data-test=move || if ready() { "comparison-ready" } else { "comparison-loading" }>"Comparison loaded"</span>
        </div>
    }
}

/// The sample-ratio mismatch warning: the traffic split is not what was planned.
fn srm_problem(s: &SrmCheck) -> Problem {
    let p = if s.p_value < 1e-6 {
        "< 0.000001".to_string()
    } else {
        format!("{:.6}", s.p_value)
    };
    Problem::new(
        "Sample-ratio mismatch",
        format!(
            "Planned {} of requests on the candidate, observed {} ({} of {} requests); χ² = {:.1}, p = {p}.",
            format::percent(s.expected_candidate_share * 100.0),
            format::percent(s.observed_candidate_share * 100.0),
            format::count(s.candidate_requests),
            format::count(s.control_requests + s.candidate_requests),
            s.statistic,
        ),
    )
    .hint("The traffic split is off; results may be biased — check the assignment before trusting them.")
}
