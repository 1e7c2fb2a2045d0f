//! The comparison page's charts, drawn with plotters' SVG backend into a string that the page
//! inserts with `inner_html`. SVG keeps lines and text crisp at any zoom or device pixel ratio;
//! the `viewBox` plotters writes lets CSS scale each chart to its container's width.
//!
//! Every chart uses one coordinate type (`f64` × `f64`; the latency axis is log10-transformed
//! by hand) so plotters' generic code is instantiated once, which keeps the Wasm small.
//! Legends are HTML beside the chart, in the page's own type. The functions here only draw:
//! every number they plot was computed in `shared`.

pub mod forest;
pub mod latency;
pub mod time_series;
pub mod weekly;

use leptos::prelude::*;
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::html::{Markup, markup};

/// The console's palette (see `style/10-base.css`).
pub const ACCENT: RGBColor = RGBColor(0x24, 0x5b, 0xdb);
pub const DANGER: RGBColor = RGBColor(0xd9, 0x2d, 0x20);
pub const TEXT: RGBColor = RGBColor(0x10, 0x18, 0x28);
pub const MUTED: RGBColor = RGBColor(0x66, 0x70, 0x85);
pub const FAINT: RGBColor = RGBColor(0x98, 0xa2, 0xb3);
pub const GRID: RGBColor = RGBColor(0xee, 0xf0, 0xf3);
pub const AXIS: RGBColor = RGBColor(0xd0, 0xd5, 0xdd);
pub const CONTROL: RGBColor = RGBColor(0x7b, 0x85, 0x96);

/// plotters' SVG backend writes `font-size` as size / 1.24; 14.9 gives 12 px text. The family
/// is overridden by CSS (`.chart text`) with the page's own. Fonts are built from
/// `FontFamily::SansSerif`, never from a `&str`: plotters lower-cases string family names, which
/// would pull Rust's Unicode case tables (~25 KB) into the Wasm.
pub const LABEL_SIZE: f64 = 14.9;

pub type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;
pub type Chart<'a, 'b> =
    ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;
pub type Drawn = Result<(), DrawingAreaErrorKind<std::io::Error>>;

pub fn font(color: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    TextStyle {
        color: color.to_backend_color(),
        ..TextStyle::from((FontFamily::SansSerif, LABEL_SIZE).into_font())
    }
    .pos(Pos::new(h, v))
}

/// Runs `draw` on a fresh SVG of `size`; the markup, or `None` if drawing failed. `draw` is
/// a trait object so that this function, and plotters' backend code under it, is compiled once
/// for every chart rather than once per chart.
pub fn render(size: (u32, u32), draw: &dyn Fn(&Area<'_>) -> Drawn) -> Option<Markup> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        draw(&root).ok()?;
        root.present().ok()?;
    }
    Some(Markup::svg(svg))
}

/// The common frame: light horizontal grid, muted labels, axis titles.
pub fn mesh(
    chart: &mut Chart<'_, '_>,
    x_labels: usize,
    x_fmt: &dyn Fn(&f64) -> String,
    y_fmt: &dyn Fn(&f64) -> String,
    x_desc: &str,
    y_desc: &str,
) -> Drawn {
    let label = (FontFamily::SansSerif, LABEL_SIZE)
        .into_font()
        .color(&MUTED);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .light_line_style(TRANSPARENT)
        .bold_line_style(GRID)
        .axis_style(AXIS)
        .x_labels(x_labels)
        .y_labels(6)
        .x_label_formatter(x_fmt)
        .y_label_formatter(y_fmt)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(label.clone())
        .axis_desc_style(label)
        .draw()
}

/// A `[lo, hi]` range padded by 8 % on each side (and never empty).
pub fn padded(lo: f64, hi: f64) -> (f64, f64) {
    let span = hi - lo;
    let pad = if span > 0.0 {
        span * 0.08
    } else {
        lo.abs().max(1e-6) * 0.1
    };
    (lo - pad, hi + pad)
}

/// A chart's markup in a scaling container, or a quiet note when there is nothing to draw.
#[component]
pub fn ChartBox(
    /// The chart; `None` shows `empty`.
    svg: Signal<Option<Markup>>,
    #[prop(into)] label: String,
    empty: Signal<String>,
) -> impl IntoView {
    move || {
        match svg.get() {
        Some(m) => markup("chart", label.clone(), m).into_any(),
        None => view! {
            <div class="chart" role="img" aria-label=label.clone()><p class="chart-note">{empty.get()}</p></div>
        }
        .into_any(),
    }
    }
}
