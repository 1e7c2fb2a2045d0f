//! Delivery figures (`/figures`): how often the team ships and rolls back, over a chosen
//! period. Two charts of the weeks (changes shipped; rollbacks by the guardian and by people),
//! then the figures as the server exports them (`figures.md`): the headline figures and a
//! table per product area, kind and risk tier, and the weeks in numbers behind the charts.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use plotters::style::RGBColor;
use shared::figures::WEEKS_HEADING;

use crate::api;
use crate::components::charts::weekly::{self, Stack};
use crate::components::charts::{ACCENT, ChartBox, DANGER};
use crate::components::load::Loaded;
use crate::components::markdown::{Block, Document, blocks};
use crate::components::skeleton::LinesSkeleton;
use crate::format;

/// The periods on offer, in weeks; the default is the first.
const PERIODS: [(u32, &str); 4] = [
    (12, "Last 12 weeks"),
    (4, "Last 4 weeks"),
    (26, "Last 26 weeks"),
    (52, "Last 52 weeks"),
];

/// People's rollbacks, beside the guardian's red.
const AMBER: RGBColor = RGBColor(0xe8, 0x9a, 0x0c);

/// One row of the weeks' table: the Monday, shipped, rolled back by the guardian, by people.
struct WeekRow {
    start: String,
    counts: [f64; 3],
}

/// The weeks' table of the exported document.
fn weeks_of(md: &str) -> Vec<WeekRow> {
    blocks(md)
        .into_iter()
        .find_map(|b| match b {
            Block::Table { rows, .. } => Some(rows),
            _ => None,
        })
        .unwrap_or_default()
        .into_iter()
        .filter_map(|r| {
            // Counts are whole numbers: parsed as integers, which keeps float parsing out.
            let n = |i: usize| r.get(i).and_then(|c| c.parse::<u32>().ok()).map(f64::from);
            Some(WeekRow {
                counts: [n(1)?, n(2)?, n(3)?],
                start: r.first()?.clone(),
            })
        })
        .collect()
}

#[component]
pub fn FiguresPage() -> impl IntoView {
    let query = use_query_map();
    let weeks = move || {
        query
            .read()
            .get("weeks")
            .and_then(|w| w.parse::<u32>().ok())
            .filter(|w| PERIODS.iter().any(|(p, _)| p == w))
            .unwrap_or(PERIODS[0].0)
    };
    let doc = Loaded::new(weeks, |weeks| async move {
        let from = format::iso(js_sys::Date::now() - f64::from(weeks) * 7.0 * 86_400_000.0);
        api::figures_markdown(&from).await
    });
    let navigate = use_navigate();
    let choose = move |e| {
        let w = event_target_value(&e);
        navigate(&format!("/figures?weeks={w}"), NavigateOptions::default());
    };
    view! {
        <div class="page">
            <div class="page-head">
                <div>
                    <h1>"Delivery figures"</h1>
                    <p class="page-lede">"How often the team ships and rolls back, how long a change takes from eval to everyone, and how quickly a held rollout is rolled back."</p>
                </div>
                <label class="select-label">
                    <span>"Period"</span>
                    <select name="weeks" data-test="figures-period" on:change=choose>
                        {PERIODS.into_iter().map(|(w, label)| view! {
                            <option value=w.to_string() selected=move || weeks() == w>{label}</option>
                        }).collect_view()}
                    </select>
                </label>
            </div>
            {doc.view(|| view! { <div class="card"><LinesSkeleton /></div> }.into_any(), |md: String| view! { <Figures md=md /> })}
        </div>
    }
}

/// The charts and the document.
#[component]
fn Figures(md: String) -> impl IntoView {
    let (summary, per_week) = md.split_once(WEEKS_HEADING).unwrap_or((md.as_str(), ""));
    let rows = weeks_of(per_week);
    let column = |i: usize| rows.iter().map(|r| r.counts[i]).collect::<Vec<f64>>();
    let (shipped, automatic, manual) = (column(0), column(1), column(2));
    let label = |i: usize| {
        rows.get(i)
            .map(|r| format::date(&format!("{}T12:00:00Z", r.start)))
            .map(|d| {
                d.rsplit_once(' ')
                    .map_or(d.clone(), |(day, _)| day.to_owned())
            })
            .unwrap_or_default()
    };
    // The card's inner width: the page's, less the margins and the card's padding.
    let width = document()
        .document_element()
        .map_or(weekly::MAX_WIDTH, |e| e.client_width().max(0) as u32)
        .saturating_sub(90);
    let shipped_svg = weekly::chart(
        width,
        rows.len(),
        &[Stack {
            counts: &shipped,
            color: ACCENT,
        }],
        &label,
        "changes",
    );
    let rollbacks_svg = weekly::chart(
        width,
        rows.len(),
        &[
            Stack {
                counts: &automatic,
                color: DANGER,
            },
            Stack {
                counts: &manual,
                color: AMBER,
            },
        ],
        &label,
        "rollbacks",
    );
    let total = |xs: &[f64]| xs.iter().sum::<f64>();
    let shipped_label = format!(
        "{} changes reached Full in {} weeks",
        total(&shipped),
        rows.len()
    );
    let rollbacks_label = format!(
        "{} rollbacks by the guardian and {} by people in {} weeks",
        total(&automatic),
        total(&manual),
        rows.len()
    );
    let empty = Signal::stored("No weeks in this period.".to_owned());
    view! {
        <section class="card figures-chart" data-test="figures-shipped">
            <h2>"Changes shipped per week"</h2>
            <ChartBox svg=Signal::stored(shipped_svg) label=shipped_label empty=empty />
        </section>
        <section class="card figures-chart" data-test="figures-rollbacks">
            <div class="figures-chart-head">
                <h2>"Rollbacks per week"</h2>
                <div class="legend">
                    <span><i class="swatch swatch-danger"></i>"By the guardian"</span>
                    <span><i class="swatch swatch-amber"></i>"By people"</span>
                </div>
            </div>
            <ChartBox svg=Signal::stored(rollbacks_svg) label=rollbacks_label empty=empty />
        </section>
        <section class="card review-document" data-test="figures-document">
            <h2 class="sr-only">"The figures"</h2>
            <Document md=summary.to_owned() />
            <details class="figures-weeks">
                <summary>"The weeks in numbers"</summary>
                <Document md=per_week.to_owned() />
            </details>
        </section>
    }
}
