//! Error categories per arm: counts and rates, with categories the candidate introduced
//! ("new") and those it makes significantly more frequent (flagged, in red).

use leptos::prelude::*;
use shared::stats::CategoryResult;

use super::metric_text as text;
use crate::format;

pub fn error_categories(categories: &[CategoryResult]) -> impl IntoView + use<> {
    if categories.is_empty() {
        return view! {
            <p class="subtle" data-test="error-categories">"No error categories reported for this segment."</p>
        }
        .into_any();
    }
    let rate = |r: f64| format!("{}%", format::signed(r * 100.0, 3).trim_start_matches('+'));
    let rows = categories
        .iter()
        .map(|c| {
            let new = c.is_new.then(|| view! { " "<span class="tag tag-new">"new"</span> });
            let flag = c
                .flagged
                .then(|| view! { " "<span class="tag tag-flagged">"more frequent"</span> });
            view! {
                <tr class=if c.flagged { "is-flagged" } else { "" } data-test="error-category" data-category=c.category.clone()
                    data-flagged=c.flagged.to_string() data-new=c.is_new.to_string()>
                    <td><code class="chip">{c.category.clone()}</code>{new}{flag}</td>
                    <td class="num">{format::count(c.control_count)}<span class="subtle">{format!(" · {}", rate(c.control_rate))}</span></td>
                    <td class="num">{format::count(c.candidate_count)}<span class="subtle">{format!(" · {}", rate(c.candidate_rate))}</span></td>
                    <td class="num">{format!("{} pp", format::signed(c.estimate * 100.0, 3))}</td>
                    <td class="num">{text::p_value(c.adjusted_p)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-scroll">
            <table class="table table-compact categories-table" data-test="error-categories">
                <thead><tr><th>"Category"</th><th class="num">"Control"</th><th class="num">"Candidate"</th><th class="num">"Difference"</th>
                    <th class="num" title="One-sided test of “more frequent on the candidate”, Holm-adjusted across categories">"Adj. p"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}
