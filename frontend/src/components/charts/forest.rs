//! The forest plot: one metric's difference and interval in every segment, the aggregate first
//! and in bold, the criterion's margin as a dashed red line, breaching segments in red.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{
    ACCENT, Area, DANGER, Drawn, FAINT, LABEL_SIZE, MUTED, TEXT, font, mesh, padded, render,
};
use crate::components::html::Markup;

pub const WIDTH: u32 = 560;
const ROW: u32 = 30;

/// One segment's row.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub label: String,
    pub estimate: f64,
    pub lo: f64,
    pub hi: f64,
    pub breach: bool,
    pub aggregate: bool,
    pub selected: bool,
}

pub fn chart(
    rows: &[Row],
    threshold: Option<f64>,
    x_fmt: &dyn Fn(f64) -> String,
    x_desc: &str,
) -> Option<Markup> {
    if rows.is_empty() {
        return None;
    }
    let n = rows.len();
    let mut lo = rows.iter().map(|r| r.lo).fold(0.0_f64, f64::min);
    let mut hi = rows.iter().map(|r| r.hi).fold(0.0_f64, f64::max);
    if let Some(t) = threshold {
        lo = lo.min(t);
        hi = hi.max(t);
    }
    let (x0, x1) = padded(lo, hi);
    let height = 70 + ROW * n as u32;
    // Row i sits at y = n − i, so the aggregate is on top.
    let y_of = |i: usize| (n - i) as f64;
    render((WIDTH, height), &|root: &Area<'_>| -> Drawn {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(root)
            .margin_top(10)
            .margin_right(20)
            .x_label_area_size(44)
            .y_label_area_size(130)
            .build_cartesian_2d(x0..x1, 0.4..(n as f64 + 0.6))?;
        mesh(
            &mut chart,
            6,
            &|x| x_fmt(*x),
            &|_| String::new(),
            x_desc,
            "",
        )?;
        // Light row bands make long lists easy to follow across.
        for i in (0..n).step_by(2) {
            let y = y_of(i);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x0, y - 0.5), (x1, y + 0.5)],
                RGBColor(0xf9, 0xfa, 0xfb).filled(),
            )))?;
        }
        chart.draw_series(LineSeries::new(
            [(0.0, 0.4), (0.0, n as f64 + 0.6)],
            FAINT.stroke_width(1),
        ))?;
        if let Some(t) = threshold {
            chart.draw_series(DashedLineSeries::new(
                [(t, 0.4), (t, n as f64 + 0.6)],
                5,
                4,
                DANGER.stroke_width(2),
            ))?;
        }
        for (i, r) in rows.iter().enumerate() {
            let y = y_of(i);
            let color = if r.breach {
                DANGER
            } else if r.aggregate {
                TEXT
            } else {
                ACCENT
            };
            let width = if r.aggregate { 3 } else { 2 };
            chart.draw_series(LineSeries::new(
                [(r.lo, y), (r.hi, y)],
                color.stroke_width(width),
            ))?;
            for end in [r.lo, r.hi] {
                chart.draw_series(LineSeries::new(
                    [(end, y - 0.16), (end, y + 0.16)],
                    color.stroke_width(width),
                ))?;
            }
            let marker = if r.aggregate { 6 } else { 5 };
            let (px, py) = chart.backend_coord(&(r.estimate, y));
            root.draw(&Rectangle::new(
                [(px - marker, py - marker), (px + marker, py + marker)],
                color.filled(),
            ))?;
            let (_, ly) = chart.backend_coord(&(x0, y));
            let style = if r.aggregate || r.selected {
                TextStyle::from((FontFamily::SansSerif, LABEL_SIZE, FontStyle::Bold).into_font())
                    .color(if r.breach { &DANGER } else { &TEXT })
                    .pos(plotters::style::text_anchor::Pos::new(
                        HPos::Right,
                        VPos::Center,
                    ))
            } else {
                font(
                    if r.breach { DANGER } else { MUTED },
                    HPos::Right,
                    VPos::Center,
                )
            };
            root.draw(&Text::new(truncate(&r.label, 18), (122, ly), style))?;
        }
        Ok(())
    })
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max - 1).collect();
        t.push('…');
        t
    }
}
