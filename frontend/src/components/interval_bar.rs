//! A row's interval as a small inline bar: zero in the middle, the interval as a line, the
//! estimate as a dot, the criterion's margin as a red tick. The scale is symmetric around zero
//! and fitted to the row, so the picture answers "which side of zero, and of the margin?".

use std::fmt::Write;

const W: f64 = 132.0;
const H: f64 = 22.0;
const PAD: f64 = 6.0;

/// The bar as SVG markup; `tone` is a CSS modifier (`breach`, `worse`, `better`, `pass`,
/// `neutral`).
pub fn interval_bar(estimate: f64, lo: f64, hi: f64, threshold: Option<f64>, tone: &str) -> String {
    let reach = [lo, hi, estimate, threshold.unwrap_or(0.0)]
        .iter()
        .fold(0.0_f64, |m, v| m.max(v.abs()))
        .max(1e-12)
        * 1.1;
    let x = |v: f64| W / 2.0 + (v / reach) * (W / 2.0 - PAD);
    let (xl, xh, xe, mid, c) = (x(lo), x(hi), x(estimate), H / 2.0, W / 2.0);
    let mut s = format!(
        r#"<svg class="ibar ibar-{tone}" viewBox="0 0 {W} {H}" width="{W}" height="{H}" aria-hidden="true"><line class="ibar-axis" x1="{PAD}" y1="{mid}" x2="{}" y2="{mid}"/><line class="ibar-zero" x1="{c}" y1="3" x2="{c}" y2="{}"/>"#,
        W - PAD,
        H - 3.0
    );
    if let Some(t) = threshold {
        let xt = x(t);
        let _ = write!(
            s,
            r#"<line class="ibar-margin" x1="{xt:.1}" y1="2" x2="{xt:.1}" y2="{}"/>"#,
            H - 2.0
        );
    }
    let _ = write!(
        s,
        r#"<line class="ibar-ci" x1="{xl:.1}" y1="{mid}" x2="{xh:.1}" y2="{mid}"/><line class="ibar-cap" x1="{xl:.1}" y1="{}" x2="{xl:.1}" y2="{}"/><line class="ibar-cap" x1="{xh:.1}" y1="{}" x2="{xh:.1}" y2="{}"/><circle class="ibar-dot" cx="{xe:.1}" cy="{mid}" r="3.5"/></svg>"#,
        mid - 4.0,
        mid + 4.0,
        mid - 4.0,
        mid + 4.0
    );
    s
}
