//! Canary vs control: the live comparison of a change's candidate against its control. The
//! page fetches the server's aggregates, hands them to `shared::comparison::report` (run here
//! in Wasm) and renders the result: verdicts, the metrics table, the segment matrix, error
//! categories and three charts. It polls every five seconds and re-renders in place, keeping
//! the scroll position, the chosen segment and metric, and open "Reproduce" boxes.
//!
//! The time window lives in the URL query (`?window=hour|canary|all|custom&from=&to=`), so a
//! view can be shared and reloaded.
//!
//! This module holds the page, its polling and its header with the moves a verdict calls for
//! (roll back, pause, resume: the change page's own buttons and dialogs) and what the guardian
//! or a person did about it; [`verdict`] the verdict in plain words, [`window`] the time
//! window, [`long_run`] the change's A/B test or holdout, [`analysis`] what is drawn once
//! there is data, [`empty_state`] what is drawn before.

mod analysis;
mod empty_state;
mod long_run;
mod verdict;
mod window;

use std::collections::BTreeSet;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_query_map;
use shared::api::ChangeDetail;
use shared::comparison::{ReportOptions, report};
use shared::metrics::{ALL_SEGMENTS, MetricSeries, MetricSummary};
use shared::rollout::RolloutState;

use crate::api::{self, ApiError};
use crate::components::change_loader::ChangeLoader;
use crate::components::change_tabs::{ChangeTab, ChangeTabs, has_review};
use crate::components::error_banner::ErrorBanner;
use crate::components::metric_text::{self as text, base_def};
use crate::components::skeleton::{SkeletonLine, TableSkeleton};
use crate::components::tags::StateBadge;
use crate::format;
use crate::pages::change_page::StopBanners;
use crate::pages::change_page::actions::Actions;
use analysis::{Analysis, default_metric};
use empty_state::EmptyState;
use long_run::LongRunPanel;
use verdict::VerdictCallout;
use window::{Window, WindowPicker, resolution};

/// How often the page asks for fresh aggregates.
const POLL: Duration = Duration::from_secs(5);

fn has_data(s: &MetricSummary) -> bool {
    s.windows > 0 && !s.cells.is_empty()
}

/// Which series the charts need: base metric key, segment, window, and the row's quantile.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct SeriesKey {
    metric: String,
    segment: String,
    window: Window,
}

#[component]
pub fn ComparisonPage() -> impl IntoView {
    view! {
        <ChangeLoader page=|detail, reload| view! { <Compare detail=detail reload=reload /> }.into_any() />
    }
}

#[component]
fn Compare(detail: ChangeDetail, reload: Callback<()>) -> impl IntoView {
    let ChangeDetail {
        change,
        history,
        decision,
        holdout,
        ..
    } = detail;
    let long_run = long_run::long_run(&change, holdout, &history);
    let long_run_start = StoredValue::new(long_run.as_ref().map(|l| l.start.clone()));
    let stops = view! { <StopBanners paused=change.paused.clone() history=history.clone() /> };
    let id = StoredValue::new(change.id.clone());
    let criteria = StoredValue::new(change.plan.criteria.clone());
    let candidate_percent =
        shared::ab::below_holdout(change.traffic_percent, change.state, holdout);
    let canary_start = StoredValue::new(long_run::entered(&history, RolloutState::Canary));

    let query = use_query_map();
    let window = Memo::new(move |_| Window::from_query(&query.read()));

    let summary = RwSignal::new(None::<Result<MetricSummary, ApiError>>);
    // The last refresh failed while older data is on screen.
    let stale = RwSignal::new(None::<ApiError>);
    let loading = RwSignal::new(false);
    let updated = RwSignal::new(None::<f64>);
    let segment = RwSignal::new(ALL_SEGMENTS.to_string());
    let picked = RwSignal::new(None::<String>);
    let open = RwSignal::new(BTreeSet::<String>::new());
    let series = RwSignal::new(None::<(SeriesKey, Result<MetricSeries, ApiError>)>);
    // Answers to an older window are dropped; a poll does not start while one is running.
    let generation = StoredValue::new(0u64);
    let busy = StoredValue::new(false);

    let report = Memo::new(move |_| {
        summary.with(|s| match s {
            Some(Ok(s)) if has_data(s) => {
                let opts = ReportOptions {
                    segment: segment.get(),
                    candidate_percent,
                    ..ReportOptions::default()
                };
                Some(criteria.with_value(|c| report(s, c, &opts)))
            }
            _ => None,
        })
    });
    let catalogue = Memo::new(move |_| {
        summary.with(|s| match s {
            Some(Ok(s)) => s.catalogue.clone(),
            _ => Vec::new(),
        })
    });
    // The charted row: the user's pick while it exists, else the most alarming one.
    let metric = Memo::new(move |_| {
        report.with(|r| {
            let r = r.as_ref()?;
            picked
                .get()
                .filter(|k| r.rows.iter().any(|x| &x.key == k))
                .or_else(|| default_metric(r))
        })
    });
    let series_key = Memo::new(move |_| {
        let key = metric.get()?;
        let base = catalogue.with(|c| base_def(c, &key).map(|(d, _)| d.key.clone()))?;
        Some(SeriesKey {
            metric: base,
            segment: segment.get(),
            window: window.get(),
        })
    });

    let fetch_series = move |key: SeriesKey| {
        let res = summary.with_untracked(|s| match s {
            Some(Ok(s)) => resolution(s),
            _ => 3600,
        });
        let span = key.window.span(
            canary_start.get_value().as_deref(),
            long_run_start.get_value().as_deref(),
        );
        let id = id.get_value();
        spawn_local(async move {
            let r = api::metrics_series(&id, &key.metric, &key.segment, res, &span).await;
            if series_key.get_untracked().as_ref() == Some(&key) {
                // A failed refresh keeps the chart that is already drawn.
                let keep = r.is_err()
                    && series.with_untracked(|s| matches!(s, Some((k, Ok(_))) if *k == key));
                if !keep {
                    series.set(Some((key, r)));
                }
            }
        });
    };

    let load = move |poll: bool| {
        if poll && busy.get_value() {
            return;
        }
        busy.set_value(true);
        let gen_now = generation.get_value();
        let w = window.get_untracked();
        let span = w.span(
            canary_start.get_value().as_deref(),
            long_run_start.get_value().as_deref(),
        );
        let id = id.get_value();
        spawn_local(async move {
            let r = api::metrics_summary(&id, &span).await;
            busy.set_value(false);
            if generation.get_value() != gen_now {
                return;
            }
            loading.set(false);
            match r {
                Ok(s) => {
                    stale.set(None);
                    updated.set(Some(js_sys::Date::now()));
                    summary.set(Some(Ok(s)));
                    if poll && let Some(k) = series_key.get_untracked() {
                        fetch_series(k);
                    }
                }
                Err(e) => {
                    let showing = summary.with_untracked(|s| matches!(s, Some(Ok(_))));
                    if showing {
                        stale.set(Some(e));
                    } else {
                        summary.set(Some(Err(e)));
                    }
                }
            }
        });
    };

    // A new window: drop answers to the old one, keep the old numbers dimmed until the new
    // ones arrive.
    Effect::new(move |_| {
        window.track();
        generation.update_value(|g| *g += 1);
        loading.set(true);
        load(false);
    });
    // A new metric, segment or window: fetch its series (the chart waits in place).
    Effect::new(move |_| {
        if let Some(k) = series_key.get() {
            let fresh = series.with_untracked(|s| s.as_ref().map(|(sk, _)| sk) != Some(&k));
            if fresh {
                fetch_series(k);
            }
        }
    });
    if let Ok(handle) = set_interval_with_handle(move || load(true), POLL) {
        on_cleanup(move || handle.clear());
    }

    // Which of skeleton, error, empty state or analysis shows. A memo, so that a refresh with
    // new numbers re-renders the analysis in place instead of replacing it.
    let phase = Memo::new(move |_| {
        summary.with(|s| {
            s.as_ref()
                .map(|r| r.as_ref().map(has_data).map_err(Clone::clone))
        })
    });
    let retry = Callback::new(move |_| {
        summary.set(None);
        load(false);
    });

    let title = change.title.clone();
    let state = change.state;
    let state_label = state.label(&change.plan);
    let traffic = candidate_percent;
    let change_href = format!("/changes/{}", change.id);

    view! {
        <div class="page compare-page">
            <a class="back-link" href=change_href.clone()>{format!("← {title}")}</a>
            <header class="compare-head">
                <div class="change-head-main">
                    <div class="eyebrow">
                        <span class="tag tag-accent">"Canary vs control"</span>
                        <span class="mono subtle" title="Change id">{change.id.clone()}</span>
                    </div>
                    <h1 class="change-title">{title.clone()}</h1>
                    <div class="meta-row">
                        <StateBadge state=state label=state_label />
                        <span class="meta-item"><span class="subtle">"Candidate traffic "</span><strong data-test="traffic">{format::percent(traffic)}</strong></span>
                        {move || summary.with(|s| match s {
                            Some(Ok(s)) if has_data(s) => Some(view! {
                                <span class="meta-item" data-test="data-span">
                                    <span class="subtle">"Data "</span>
                                    {span_text(s)}
                                </span>
                            }),
                            _ => None,
                        })}
                        <LiveBadge updated=updated stale=stale />
                    </div>
                </div>
                <Actions change=change.clone() reload=reload stop_only=true />
            </header>
            <ChangeTabs id=change.id.clone() at=ChangeTab::Compare review=has_review(change.state) />
            {stops}
            {long_run.as_ref().map(|l| view! {
                <LongRunPanel change=change.clone() start=l.start.clone() decision=decision.clone() holdout=holdout reload=reload />
            })}
            <VerdictCallout report=report criteria=criteria catalogue=catalogue />

            <div class="toolbar compare-toolbar">
                <WindowPicker id=change.id.clone() window=window has_canary=canary_start.with_value(Option::is_some) long_run=long_run.as_ref().map(|l| l.label) />
                <label class="select-label">
                    <span>"Segment"</span>
                    <select data-test="segment-select" on:change=move |e| segment.set(event_target_value(&e))>
                        {move || {
                            let segs = report.with(|r| r.as_ref().map(|r| r.segments.clone()).unwrap_or_else(|| vec![ALL_SEGMENTS.to_string()]));
                            segs.into_iter().map(|s| {
                                let s2 = s.clone();
                                view! { <option value=s.clone() selected=move || segment.with(|x| *x == s2)>{text::segment_label(&s)}</option> }
                            }).collect_view()
                        }}
                    </select>
                </label>
            </div>

            <div>{move || stale.with(|e| e.as_ref().map(|e| view! {
                <div class="banner banner-warn" role="status">
                    <div class="banner-body">
                        <strong>"Showing the last numbers received"</strong>
                        <p>{format!("The latest refresh failed: {}", e.message())}</p>
                    </div>
                </div>
            }))}</div>

            <div class="compare-body" class:is-loading=move || loading.get() aria-busy=move || loading.get().to_string()>
                {move || match phase.get() {
                    None => view! { <CompareSkeleton /> }.into_any(),
                    Some(Err(e)) => view! { <ErrorBanner error=e retry=retry /> }.into_any(),
                    Some(Ok(false)) => view! { <EmptyState id=id.get_value() change_href=change_href.clone() /> }.into_any(),
                    Some(Ok(true)) => view! {
                        <Analysis
                            report=report
                            summary=summary
                            catalogue=catalogue
                            criteria=criteria
                            segment=segment
                            picked=picked
                            metric=metric
                            open=open
                            series=series
                            series_key=series_key
                        />
                    }.into_any(),
                }}
            </div>
        </div>
    }
}

fn span_text(s: &MetricSummary) -> String {
    let range = match (s.from.as_deref(), s.to.as_deref()) {
        (Some(f), Some(t)) => format!("{} – {}", format::date_time(f), format::date_time(t)),
        _ => "no time range".into(),
    };
    format!(
        "{range} · {} window{}",
        format::count(s.windows),
        if s.windows == 1 { "" } else { "s" }
    )
}

/// "Live · updated 14:05:32", or "Reconnecting" while refreshes fail.
#[component]
fn LiveBadge(updated: RwSignal<Option<f64>>, stale: RwSignal<Option<ApiError>>) -> impl IntoView {
    let label = move || {
        let Some(at) = updated.get() else {
            return String::new();
        };
        let time = format::clock_seconds(at);
        if stale.with(Option::is_some) {
            format!("Reconnecting · last update {time}")
        } else {
            format!("Live · updated {time}")
        }
    };
    view! {
        <span class="live" class:live-stale=move || stale.with(Option::is_some) class:is-hidden=move || updated.with(Option::is_none)
            data-test="live" title="Refreshed every 5 seconds">
            <span class="live-dot"></span>{label}
        </span>
    }
}

#[component]
fn CompareSkeleton() -> impl IntoView {
    view! {
        <div aria-busy="true" aria-label="Loading">
            <div class="card skeleton-card">
                <SkeletonLine width="22%" />
                <SkeletonLine width="60%" />
            </div>
            <TableSkeleton rows=8 />
        </div>
    }
}
