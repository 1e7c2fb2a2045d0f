//! The cumulative difference over time with its always-valid band, the zero line and the
//! criterion's margin as a dashed red line.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::{ACCENT, Area, DANGER, Drawn, FAINT, font, mesh, padded, render};
use crate::components::html::Markup;

pub const SIZE: (u32, u32) = (1160, 300);

/// One point: time in Unix milliseconds, estimate, interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub at_ms: f64,
    pub estimate: f64,
    pub lo: f64,
    pub hi: f64,
}

/// The chart, or `None` with fewer than one point.
pub fn chart(
    points: &[Point],
    threshold: Option<f64>,
    y_fmt: &dyn Fn(f64) -> String,
    y_desc: &str,
    time_fmt: &dyn Fn(f64, bool) -> String,
) -> Option<Markup> {
    let first = points.first()?;
    let last = points.last()?;
    let (mut x0, mut x1) = (first.at_ms, last.at_ms);
    if x1 <= x0 {
        x0 -= 1_800_000.0;
        x1 += 1_800_000.0;
    }
    let mut lo = points.iter().map(|p| p.lo).fold(0.0_f64, f64::min);
    let mut hi = points.iter().map(|p| p.hi).fold(0.0_f64, f64::max);
    if let Some(t) = threshold {
        lo = lo.min(t);
        hi = hi.max(t);
    }
    let (y0, y1) = padded(lo, hi);
    // Times read as hours:minutes within a day, with the date once the span passes a day.
    let long = x1 - x0 > 86_400_000.0;
    render(SIZE, &|root: &Area<'_>| -> Drawn {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(root)
            .margin_top(14)
            .margin_right(24)
            .margin_left(8)
            .x_label_area_size(44)
            .y_label_area_size(86)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        mesh(
            &mut chart,
            8,
            &|x| time_fmt(*x, long),
            &|y| y_fmt(*y),
            "",
            y_desc,
        )?;
        let band: Vec<(f64, f64)> = points
            .iter()
            .map(|p| (p.at_ms, p.hi))
            .chain(points.iter().rev().map(|p| (p.at_ms, p.lo)))
            .collect();
        chart.draw_series(std::iter::once(Polygon::new(
            band,
            ACCENT.mix(0.14).filled(),
        )))?;
        for edge in [
            points.iter().map(|p| (p.at_ms, p.hi)).collect::<Vec<_>>(),
            points.iter().map(|p| (p.at_ms, p.lo)).collect(),
        ] {
            chart.draw_series(LineSeries::new(edge, ACCENT.mix(0.35).stroke_width(1)))?;
        }
        chart.draw_series(LineSeries::new(
            [(x0, 0.0), (x1, 0.0)],
            FAINT.stroke_width(1),
        ))?;
        if let Some(t) = threshold {
            chart.draw_series(DashedLineSeries::new(
                [(x0, t), (x1, t)],
                6,
                4,
                DANGER.stroke_width(2),
            ))?;
            let (px, py) = chart.backend_coord(&(x1, t));
            let above = t >= 0.0;
            root.draw(&Text::new(
                format!("margin {}", y_fmt(t)),
                (px - 6, if above { py - 6 } else { py + 6 }),
                font(
                    DANGER,
                    HPos::Right,
                    if above { VPos::Bottom } else { VPos::Top },
                ),
            ))?;
        }
        chart.draw_series(LineSeries::new(
            points.iter().map(|p| (p.at_ms, p.estimate)),
            ACCENT.stroke_width(2),
        ))?;
        if let Some(p) = points.last() {
            chart.draw_series(std::iter::once(Circle::new(
                (p.at_ms, p.estimate),
                4,
                ACCENT.filled(),
            )))?;
        }
        Ok(())
    })
}
