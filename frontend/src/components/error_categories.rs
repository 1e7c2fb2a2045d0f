//! Error categories per arm: counts and rates, with categories the candidate introduced
//! ("new") and those it makes significantly more frequent (flagged, in red). Written as HTML
//! text (see [`super::html`]).

use std::fmt::Write;

use shared::stats::CategoryResult;

use super::html::esc;
use super::metric_text as text;
use crate::format;

pub fn error_categories(categories: &[CategoryResult]) -> String {
    if categories.is_empty() {
        return r#"<p class="subtle" data-test="error-categories">No error categories reported for this segment.</p>"#.into();
    }
    let rate = |r: f64| format!("{}%", format::signed(r * 100.0, 3).trim_start_matches('+'));
    let mut s = String::from(
        r#"<div class="table-scroll"><table class="table table-compact categories-table" data-test="error-categories"><thead><tr><th>Category</th><th class="num">Control</th><th class="num">Candidate</th><th class="num">Difference</th><th class="num" title="One-sided test of “more frequent on the candidate”, Holm-adjusted across categories">Adj. p</th></tr></thead><tbody>"#,
    );
    for c in categories {
        let _ = write!(
            s,
            r#"<tr class="{cls}" data-test="error-category" data-category="{name}" data-flagged="{f}" data-new="{n}"><td><code class="chip">{name}</code>{new}{flag}</td><td class="num">{ca}<span class="subtle"> · {ra}</span></td><td class="num">{cb}<span class="subtle"> · {rb}</span></td><td class="num">{d} pp</td><td class="num">{p}</td></tr>"#,
            cls = if c.flagged { "is-flagged" } else { "" },
            name = esc(&c.category),
            f = c.flagged,
            n = c.is_new,
            new = if c.is_new {
                r#" <span class="tag tag-new">new</span>"#
            } else {
                ""
            },
            flag = if c.flagged {
                r#" <span class="tag tag-flagged">more frequent</span>"#
            } else {
                ""
            },
            ca = crate::format::count(c.control_count),
            ra = rate(c.control_rate),
            cb = crate::format::count(c.candidate_count),
            rb = rate(c.candidate_rate),
            d = format::signed(c.estimate * 100.0, 3),
            p = text::p_value(c.adjusted_p),
        );
    }
    s.push_str("</tbody></table></div>");
    s
}
