//! The comparison's time window: what the URL query says (`?window=hour|canary|all|custom`),
//! the span it asks the server for, the series' bucket size over it, and the picker.

use leptos::prelude::*;
use leptos_router::params::ParamsMap;
use shared::metrics::MetricSummary;

use crate::api::{Span, encode};
use crate::format;

/// The time window of the analysis.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Window {
    LastHour,
    SinceCanary,
    /// Since the change's A/B test or holdout began (`long_run::long_run`).
    LongRun,
    Whole,
    /// `datetime-local` values (local time, no zone) as typed.
    Custom {
        from: String,
        to: String,
    },
}

impl Window {
    pub(super) fn from_query(q: &ParamsMap) -> Self {
        match q.get("window").as_deref() {
            Some("hour") => Window::LastHour,
            Some("canary") => Window::SinceCanary,
            Some("longrun") => Window::LongRun,
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
            Window::LongRun => "longrun",
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
                encode(from),
                encode(to)
            ),
            w => format!("{base}?window={}", w.name()),
        }
    }

    /// The query span now (the last hour slides with the clock).
    pub(super) fn span(&self, canary_start: Option<&str>, long_run_start: Option<&str>) -> Span {
        match self {
            Window::Whole => Span::default(),
            Window::LongRun => Span {
                from: long_run_start.map(str::to_string),
                to: None,
            },
            Window::LastHour => Span {
                from: Some(format::iso(js_sys::Date::now() - 3_600_000.0)),
                to: None,
            },
            Window::SinceCanary => Span {
                from: canary_start.map(str::to_string),
                to: None,
            },
            Window::Custom { from, to } => {
                let utc = |v: &str| Some(format::local_to_utc(v)).filter(|s| !s.is_empty());
                Span {
                    from: utc(from),
                    to: utc(to),
                }
            }
        }
    }
}

/// Bucket size of the time series: about 48 points over the data's span, rounded to a
/// readable step.
pub(super) fn resolution(summary: &MetricSummary) -> i64 {
    let span = match (summary.from.as_deref(), summary.to.as_deref()) {
        (Some(f), Some(t)) => match (format::parse_ms(f), format::parse_ms(t)) {
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

/// The window's buttons (last hour, since canary, whole rollout, custom) and the custom
/// range's inputs; each choice is a link, so the browser's history keeps it.
#[component]
pub(super) fn WindowPicker(
    id: String,
    window: Memo<Window>,
    has_canary: bool,
    /// "A/B test" or "Holdout" when the change has one under way.
    long_run: Option<&'static str>,
) -> impl IntoView {
    let id = StoredValue::new(id);
    let navigate = leptos_router::hooks::use_navigate();
    let options = [
        (Window::LastHour, "Last hour", true),
        (Window::SinceCanary, "Since canary started", has_canary),
        (
            Window::LongRun,
            long_run.unwrap_or_default(),
            long_run.is_some(),
        ),
        (Window::Whole, "Whole rollout", true),
    ];
    let links = options
        .into_iter()
        .filter(|(w, _, enabled)| *enabled || *w != Window::LongRun)
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
