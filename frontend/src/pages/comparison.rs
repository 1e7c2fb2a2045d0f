//! Canary vs control: the live comparison of a change's candidate against its control. The
//! page fetches the server's aggregates, hands them to `shared::comparison::report` (run here
//! in Wasm) and renders the result: verdicts, the metrics table, the segment matrix, error
//! categories and three charts. It polls every five seconds and re-renders in place, keeping
//! the scroll position, the chosen segment and metric, and open "Reproduce" boxes.
//!
//! The time window lives in the URL query (`?window=hour|canary|all|custom&from=&to=`), so a
//! view can be shared and reloaded.

use std::collections::BTreeSet;
use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_params_map, use_query_map};
use leptos_router::params::ParamsMap;
use shared::api::ChangeDetail;
use shared::comparison::{ComparisonReport, ReportOptions, report};
use shared::metrics::{ALL_SEGMENTS, MetricKind, MetricSeries, MetricSummary, Variant};
use shared::plan::RollbackCriterion;
use shared::rollout::RolloutState;
use shared::series::{band, criterion_bound, latency_view};
use shared::stats::Verdict;

use crate::api::{self, ApiError, Span};
use crate::components::change_tabs::ChangeTabs;
use crate::components::charts::{ChartBox, forest, latency, time_series};
use crate::components::copy_button::{CopyButton, copy_text};
use crate::components::error_banner::ErrorBanner;
use crate::components::error_categories::error_categories;
use crate::components::metric_table::{breaches, metric_table};
use crate::components::metric_text::{self as text, base_def};
use crate::components::segment_matrix::segment_matrix;
use crate::components::skeleton::{PageSkeleton, SkeletonLine, TableSkeleton};
use crate::components::tags::StateBadge;
use crate::format;

/// How often the page asks for fresh aggregates.
const POLL: Duration = Duration::from_secs(5);

/// The time window of the analysis.
#[derive(Debug, Clone, PartialEq)]
enum Window {
    LastHour,
    SinceCanary,
    Whole,
    /// `datetime-local` values (local time, no zone) as typed.
    Custom {
        from: String,
        to: String,
    },
}

impl Window {
    fn from_query(q: &ParamsMap) -> Self {
        match q.get("window").as_deref() {
            Some("hour") => Window::LastHour,
            Some("canary") => Window::SinceCanary,
            Some("custom") => Window::Custom {
                from: q.get("from").unwrap_or_default(),
                to: q.get("to").unwrap_or_default(),
            },
            _ => Window::Whole,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Window::LastHour => "hour",
            Window::SinceCanary => "canary",
            Window::Whole => "all",
            Window::Custom { .. } => "custom",
        }
    }

    fn href(&self, id: &str) -> String {
        let base = format!("/changes/{id}/compare");
        match self {
            Window::Whole => base,
            Window::Custom { from, to } => format!(
                "{base}?window=custom&from={}&to={}",
                crate::api::encode(from),
                crate::api::encode(to)
            ),
            w => format!("{base}?window={}", w.name()),
        }
    }

    /// The query span now (the last hour slides with the clock).
    fn span(&self, canary_start: Option<&str>) -> Span {
        match self {
            Window::Whole => Span::default(),
            Window::LastHour => Span {
                from: Some(iso(js_sys::Date::now() - 3_600_000.0)),
                to: None,
            },
            Window::SinceCanary => Span {
                from: canary_start.map(str::to_string),
                to: None,
            },
            Window::Custom { from, to } => Span {
                from: local_to_iso(from),
                to: local_to_iso(to),
            },
        }
    }
}

fn iso(ms: f64) -> String {
    String::from(js_sys::Date::new(&ms.into()).to_iso_string())
}

/// A `datetime-local` value (the viewer's time zone) as RFC 3339 UTC.
fn local_to_iso(v: &str) -> Option<String> {
    if v.trim().is_empty() {
        return None;
    }
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(v));
    d.get_time()
        .is_finite()
        .then(|| String::from(d.to_iso_string()))
}

fn parse_ms(rfc3339: &str) -> Option<f64> {
    let ms = js_sys::Date::parse(rfc3339);
    ms.is_finite().then_some(ms)
}

/// "14:05", or "12 Mar 14:05" on charts that span days.
fn clock(ms: f64, with_day: bool) -> String {
    let d = js_sys::Date::new(&ms.into());
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let hm = format!("{:02}:{:02}", d.get_hours(), d.get_minutes());
    if with_day {
        let month = MONTHS.get(d.get_month() as usize).copied().unwrap_or("?");
        format!("{} {month} {hm}", d.get_date())
    } else {
        hm
    }
}

/// Bucket size of the time series: about 48 points over the data's span, rounded to a
/// readable step.
fn resolution(summary: &MetricSummary) -> i64 {
    let span = match (summary.from.as_deref(), summary.to.as_deref()) {
        (Some(f), Some(t)) => match (parse_ms(f), parse_ms(t)) {
            (Some(a), Some(b)) => ((b - a) / 1000.0).max(0.0),
            _ => 86_400.0,
        },
        _ => 86_400.0,
    };
    const STEPS: [i64; 12] = [
        60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
    ];
    let want = span / 48.0;
    STEPS
        .into_iter()
        .find(|s| *s as f64 >= want)
        .unwrap_or(86_400)
}

fn has_data(s: &MetricSummary) -> bool {
    s.windows > 0 && !s.cells.is_empty()
}

/// The row to chart when the user has not picked one: the first breach, else the first
/// significantly worse row, else the first row that could be compared.
fn default_metric(r: &ComparisonReport) -> Option<String> {
    r.rows
        .iter()
        .find(|x| breaches(x))
        .or_else(|| r.rows.iter().find(|x| x.worse))
        .or_else(|| r.rows.iter().find(|x| x.comparison.is_some()))
        .or_else(|| r.rows.first())
        .map(|x| x.key.clone())
}

/// Which series the charts need: base metric key, segment, window, and the row's quantile.
#[derive(Debug, Clone, PartialEq)]
struct SeriesKey {
    metric: String,
    segment: String,
    window: Window,
}

#[component]
pub fn ComparisonPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let detail = LocalResource::new(move || {
        let id = id.get();
        async move { api::get_change(&id).await }
    });
    view! {
        <Transition fallback=|| view! { <PageSkeleton /> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <Compare detail=d /> }.into_any(),
                    Err(e) if e.is_not_found() => view! {
                        <div class="page">
                            <div class="empty-state" data-test="error">
                                <div class="empty-code">"404"</div>
                                <h1>"No such change"</h1>
                                <p class="subtle">{format!("There is no AI change with the id “{}”.", id.get_untracked())}</p>
                                <a class="btn btn-primary" href="/">"Go to all changes"</a>
                            </div>
                        </div>
                    }.into_any(),
                    Err(e) => view! {
                        <div class="page">
                            <a class="back-link" href="/">"← All changes"</a>
                            <ErrorBanner error=e retry=Callback::new(move |_| detail.refetch()) />
                        </div>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Compare(detail: ChangeDetail) -> impl IntoView {
    let ChangeDetail { change, history } = detail;
    let id = StoredValue::new(change.id.clone());
    let criteria = StoredValue::new(change.plan.criteria.clone());
    let candidate_percent = change.traffic_percent;
    let canary_start = StoredValue::new(
        history
            .iter()
            .rev()
            .find(|r| r.to == RolloutState::Canary)
            .map(|r| r.at.clone()),
    );

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
        let span = key.window.span(canary_start.get_value().as_deref());
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
        let span = w.span(canary_start.get_value().as_deref());
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
    let traffic = change.traffic_percent;
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
                <div class="verdict-slot" inner_html=move || report.with(|r| r.as_ref().map(|r| verdict_html(r.overall)).unwrap_or_default())></div>
            </header>
            <ChangeTabs id=change.id.clone() compare=true />

            <div class="toolbar compare-toolbar">
                <WindowPicker id=change.id.clone() window=window has_canary=canary_start.with_value(Option::is_some) />
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

            <div inner_html=move || stale.with(|e| e.as_ref().map(|e| format!(
                r#"<div class="banner banner-warn" role="status"><div class="banner-body"><strong>Showing the last numbers received</strong><p>The latest refresh failed: {}</p></div></div>"#,
                crate::components::html::esc(&e.message())
            )).unwrap_or_default())></div>

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
        let d = js_sys::Date::new(&at.into());
        let time = format!(
            "{:02}:{:02}:{:02}",
            d.get_hours(),
            d.get_minutes(),
            d.get_seconds()
        );
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

fn verdict_html(verdict: Verdict) -> String {
    let (label, sentence) = match verdict {
        Verdict::Breach => (
            "Breach",
            "A rollback criterion is breached. Roll back first, investigate after.",
        ),
        Verdict::Pass => ("Pass", "Every rollback criterion passes in every segment."),
        Verdict::Inconclusive => (
            "Inconclusive",
            "Not enough evidence yet either way; keep collecting data.",
        ),
    };
    let name = text::verdict_name(Some(verdict));
    format!(
        r#"<div class="verdict-callout verdict-callout-{name}" data-test="overall-verdict" data-verdict="{name}"><span class="callout-label">Overall verdict</span><span class="verdict-callout-value">{label}</span><span class="verdict-callout-text">{sentence}</span></div>"#
    )
}

#[component]
fn WindowPicker(id: String, window: Memo<Window>, has_canary: bool) -> impl IntoView {
    let id = StoredValue::new(id);
    let navigate = leptos_router::hooks::use_navigate();
    let options = [
        (Window::LastHour, "Last hour", true),
        (Window::SinceCanary, "Since canary started", has_canary),
        (Window::Whole, "Whole rollout", true),
    ];
    let links = options
        .into_iter()
        .map(|(w, label, enabled)| {
            let href = id.with_value(|id| w.href(id));
            let name = w.name();
            let active = move || window.with(|x| x.name() == name);
            view! {
                <a class="seg-btn" class:active=active class:disabled=!enabled href=enabled.then_some(href)
                    title=(!enabled).then_some("This change has not been in canary")
                    data-test=format!("window-{name}") aria-current=move || active().then_some("true")>{label}</a>
            }
        })
        .collect_view();
    let custom_value = move |first: bool| {
        window.with(|w| match w {
            Window::Custom { from, to } => {
                if first {
                    from.clone()
                } else {
                    to.clone()
                }
            }
            _ => String::new(),
        })
    };
    let apply = move |from: String, to: String| {
        let href = id.with_value(|id| Window::Custom { from, to }.href(id));
        navigate(&href, Default::default());
    };
    let apply_from = apply.clone();
    let custom_href = id.with_value(|id| {
        Window::Custom {
            from: String::new(),
            to: String::new(),
        }
        .href(id)
    });
    let is_custom = move || window.with(|w| matches!(w, Window::Custom { .. }));
    view! {
        <div class="seg-control" role="group" aria-label="Time window" data-test="time-window">
            {links}
            <a class="seg-btn" class:active=is_custom href=custom_href data-test="window-custom">"Custom"</a>
        </div>
        <div class="custom-range" class:is-hidden=move || !is_custom()>
                <label>
                    <span class="subtle">"From"</span>
                    <input type="datetime-local" data-test="window-from" prop:value=move || custom_value(true)
                        on:change={
                            let apply = apply_from.clone();
                            move |e| apply(event_target_value(&e), custom_value(false))
                        } />
                </label>
                <label>
                    <span class="subtle">"To"</span>
                    <input type="datetime-local" data-test="window-to" prop:value=move || custom_value(false)
                        on:change={
                            let apply = apply.clone();
                            move |e| apply(custom_value(true), event_target_value(&e))
                        } />
                </label>
        </div>
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

#[component]
fn EmptyState(id: String, change_href: String) -> impl IntoView {
    let origin = web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_else(|| "http://127.0.0.1:8080".into());
    let now = js_sys::Date::now();
    let example = format!(
        r#"curl -X POST {origin}/api/v1/changes/{id}/metrics \
  -H "Authorization: Bearer $ROLLGATE_TOKEN" \
  -H "Content-Type: application/json" \
  -d '{{"windows": [{{
        "variant": "candidate", "segment": "all",
        "window_start": "{}", "window_end": "{}",
        "requests": 120,
        "metrics": {{
          "shadow_eval_pass_rate": {{"n": 120, "successes": 104}},
          "cost_per_request": {{"n": 120, "sum": 1.44, "sum_squares": 0.0192}}
        }}
      }}]}}'"#,
        iso(now - 360_000.0).replace(".000Z", "Z"),
        iso(now - 60_000.0).replace(".000Z", "Z"),
    );
    view! {
        <div class="card empty-data" data-test="comparison-empty">
            <div class="empty-data-head">
                <svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 19h16M6 16V10M11 16V6M16 16v-4" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"></path></svg>
                <div>
                    <h2>"No metrics yet"</h2>
                    <p class="subtle">"The comparison appears as soon as your application sends windows for both the control and the candidate."</p>
                </div>
            </div>
            <ol class="steps">
                <li>
                    <strong>"Create an ingestion token"</strong>
                    " on the "<a href=format!("{change_href}#tokens")>"change page"</a>
                    ". Its secret is shown once; keep it in your application's secrets."
                </li>
                <li>
                    <strong>"Send one window per variant and segment"</strong>
                    " every few minutes: rates as "<code>"{n, successes}"</code>", means as "
                    <code>"{n, sum, sum_squares}"</code>", latency as a histogram."
                </li>
            </ol>
            <div class="copy-box">
                <pre class="code" data-test="curl-example">{example.clone()}</pre>
                <CopyButton text=example />
            </div>
        </div>
    }
}

/// Everything below the toolbar once there is data. The table, matrix, categories and SRM
/// banner are HTML text (see `components::html`); their clicks arrive here through one
/// delegated handler reading `data-action`.
#[component]
fn Analysis(
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
    let on_click = move |ev: leptos::ev::MouseEvent| {
        use wasm_bindgen::JsCast;
        let Some(el) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|e| e.closest("[data-action]").ok().flatten())
        else {
            return;
        };
        let attr = |name: &str| el.get_attribute(name);
        match attr("data-action").as_deref() {
            Some("select-metric") => picked.set(attr("data-metric")),
            Some("select-segment") => {
                if let Some(s) = attr("data-segment") {
                    segment.set(s);
                }
            }
            Some("toggle-repro") => {
                if let Some(k) = attr("data-metric") {
                    open.update(|o| {
                        if !o.remove(&k) {
                            o.insert(k);
                        }
                    });
                }
            }
            Some("copy") => {
                let text = el
                    .closest(".copy-box")
                    .ok()
                    .flatten()
                    .and_then(|b| b.query_selector("pre").ok().flatten())
                    .and_then(|pre| pre.text_content());
                if let Some(t) = text {
                    copy_text(&t);
                    el.set_text_content(Some("Copied"));
                }
            }
            _ => {}
        }
    };

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

    let srm_html = Memo::new(move |_| {
        report.with(|r| {
            let s = r.as_ref()?.srm.as_ref().filter(|s| s.mismatch)?;
            Some(srm_banner(s))
        })
    });
    let table_html = Memo::new(move |_| {
        let selected = metric.get();
        report.with(|r| {
            let r = r.as_ref()?;
            let html = open.with(|o| {
                catalogue.with(|cat| {
                    criteria.with_value(|cs| metric_table(&r.rows, cat, cs, selected.as_deref(), o))
                })
            });
            Some(html)
        })
    });
    let matrix_html = Memo::new(move |_| {
        let seg = segment.get();
        report.with(|r| {
            let r = r.as_ref()?;
            Some(catalogue.with(|cat| segment_matrix(r, cat, &seg)))
        })
    });
    let categories_html =
        Memo::new(move |_| report.with(|r| r.as_ref().map(|r| error_categories(&r.categories))));

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
                    at_ms: parse_ms(&p.at)?,
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
            &clock,
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
    let latency_svg = Memo::new(move |_| {
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
            let view = latency_view(cell(Variant::Control)?, cell(Variant::Candidate)?)?;
            latency::chart(&view)
        })
    });

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
    let html = |m: Memo<Option<String>>| move || m.get().unwrap_or_default();

    view! {
        <div class="analysis" on:click=on_click>
            <div inner_html=html(srm_html)></div>
            <section class="card table-card compare-card">
                <div class="card-head card-head-pad">
                    <div>
                        <h2>{move || format!("Metrics · {}", seg_label())}</h2>
                        <p class="card-sub">"Candidate against control with always-valid 95% intervals, safe to check at any time. Click a row to chart it."</p>
                    </div>
                </div>
                <div inner_html=html(table_html)></div>
            </section>

            <section class="card chart-card">
                <div class="card-head">
                    <div>
                        <h2>{move || format!("{} over time · {}", chart_title(), seg_label())}</h2>
                        <p class="card-sub">"Cumulative difference since the start of the window, with its always-valid interval."</p>
                    </div>
                    <div class="legend">
                        <span><i class="lg-line lg-accent"></i>"Estimate"</span>
                        <span><i class="lg-band"></i>"95% interval"</span>
                        <span><i class="lg-line lg-faint"></i>"No difference"</span>
                        <span class:is-hidden=move || threshold.get().is_none()><i class="lg-dash lg-danger"></i>"Criterion margin"</span>
                    </div>
                </div>
                <ChartBox svg=time_svg.into() label="Difference over time" empty=time_empty />
            </section>

            <div class="chart-grid">
                <section class="card chart-card">
                    <div class="card-head">
                        <div>
                            <h2>{move || format!("{} by segment", chart_title())}</h2>
                            <p class="card-sub">"Difference and interval per segment; red where the criterion is breached."</p>
                        </div>
                    </div>
                    <ChartBox svg=forest_svg.into() label="Forest plot by segment" empty=Signal::stored("No segment could be compared yet.".to_string()) />
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
                    <ChartBox svg=latency_svg.into() label="Latency distribution" empty=Signal::stored("No latency histograms from both arms in this segment.".to_string()) />
                </section>
            </div>

            <section class="card">
                <div class="card-head">
                    <div>
                        <h2>"Segments"</h2>
                        <p class="card-sub">"Every metric in every segment. Click a cell to show that segment above."</p>
                    </div>
                </div>
                <div inner_html=html(matrix_html)></div>
            </section>

            <section class="card">
                <div class="card-head">
                    <div>
                        <h2>{move || format!("Error categories · {}", seg_label())}</h2>
                        <p class="card-sub">"Errors by kind: “new” ones never occur on the control; red ones are significantly more frequent on the candidate."</p>
                    </div>
                </div>
                <div inner_html=html(categories_html)></div>
            </section>
            <span class="sr-only" data-test=move || if ready() { "comparison-ready" } else { "comparison-loading" }>"Comparison loaded"</span>
        </div>
    }
}

fn srm_banner(s: &shared::comparison::SrmCheck) -> String {
    let p = if s.p_value < 1e-6 {
        "&lt; 0.000001".to_string()
    } else {
        format!("{:.6}", s.p_value)
    };
    format!(
        r#"<div class="banner banner-error srm-banner" role="alert" data-test="srm-banner"><svg class="banner-icon" viewBox="0 0 20 20" aria-hidden="true"><circle cx="10" cy="10" r="8.5" fill="none" stroke="currentColor" stroke-width="1.6"/><path d="M10 5.5v5.5M10 13.6v.9" stroke="currentColor" stroke-width="1.8" stroke-linecap="round"/></svg><div class="banner-body"><strong>Sample-ratio mismatch</strong><p>Planned {} of requests on the candidate, observed {} ({} of {} requests); χ² = {:.1}, p = {p}.</p><p class="subtle">The traffic split is off; results may be biased — check the assignment before trusting them.</p></div></div>"#,
        format::percent(s.expected_candidate_share * 100.0),
        format::percent(s.observed_candidate_share * 100.0),
        format::count(s.candidate_requests),
        format::count(s.control_requests + s.candidate_requests),
        s.statistic,
    )
}
