//! A row's interval as a small inline bar: zero in the middle, the interval as a line, the
//! estimate as a dot, the criterion's margin as a red tick. The scale is symmetric around zero
//! and fitted to the row, so the picture answers "which side of zero, and of the margin?".

use leptos::prelude::*;

const W: f64 = 132.0;
const H: f64 = 22.0;
const PAD: f64 = 6.0;

/// Rounded to a tenth, as SVG coordinates need no more.
fn at(v: f64) -> String {
    format!("{v:.1}")
}

/// The bar; `tone` is a CSS modifier (`breach`, `worse`, `better`, `pass`, `neutral`).
pub fn interval_bar(
    estimate: f64,
    lo: f64,
    hi: f64,
    threshold: Option<f64>,
    tone: &str,
) -> impl IntoView + use<> {
    let reach = [lo, hi, estimate, threshold.unwrap_or(0.0)]
        .iter()
        .fold(0.0_f64, |m, v| m.max(v.abs()))
        .max(1e-12)
        * 1.1;
    let x = |v: f64| W / 2.0 + (v / reach) * (W / 2.0 - PAD);
    let (xl, xh, xe, mid, c) = (at(x(lo)), at(x(hi)), at(x(estimate)), H / 2.0, W / 2.0);
    let margin = threshold.map(|t| {
        let xt = at(x(t));
        view! { <line class="ibar-margin" x1=xt.clone() y1="2" x2=xt y2=(H - 2.0).to_string()></line> }
    });
    view! {
        <svg class=format!("ibar ibar-{tone}") viewBox=format!("0 0 {W} {H}") width=W.to_string() height=H.to_string() aria-hidden="true">
            <line class="ibar-axis" x1=PAD.to_string() y1=mid.to_string() x2=(W - PAD).to_string() y2=mid.to_string()></line>
            <line class="ibar-zero" x1=c.to_string() y1="3" x2=c.to_string() y2=(H - 3.0).to_string()></line>
            {margin}
            <line class="ibar-ci" x1=xl.clone() y1=mid.to_string() x2=xh.clone() y2=mid.to_string()></line>
            <line class="ibar-cap" x1=xl.clone() y1=(mid - 4.0).to_string() x2=xl y2=(mid + 4.0).to_string()></line>
            <line class="ibar-cap" x1=xh.clone() y1=(mid - 4.0).to_string() x2=xh y2=(mid + 4.0).to_string()></line>
            <circle class="ibar-dot" cx=xe cy=mid.to_string() r="3.5"></circle>
        </svg>
    }
}
