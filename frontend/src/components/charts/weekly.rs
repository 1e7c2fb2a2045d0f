//! Counts per week as stacked bars (the figures page): changes shipped, and rollbacks split
//! into the guardian's and people's. Weeks run along x, one bar each; a week without any
//! shows no bar, so a quiet stretch reads as a gap.

use plotters::prelude::*;

use super::{Area, Drawn, mesh, render};
use crate::components::html::Markup;

/// The widest the chart is drawn; a narrower screen gets a chart of its own width, so its
/// labels keep their size instead of being scaled down.
pub const MAX_WIDTH: u32 = 1160;
const HEIGHT: u32 = 260;

/// One part of each bar: its count per week, in the order of the weeks, and its colour.
pub struct Stack<'a> {
    pub counts: &'a [f64],
    pub color: RGBColor,
}

/// The chart, `width` pixels wide (at most [`MAX_WIDTH`]), or `None` when there are no
/// weeks. `week_label` names week `i`; the stacks are drawn from the bottom up.
pub fn chart(
    width: u32,
    weeks: usize,
    stacks: &[Stack<'_>],
    week_label: &dyn Fn(usize) -> String,
    y_desc: &str,
) -> Option<Markup> {
    if weeks == 0 {
        return None;
    }
    let total = |i: usize| {
        stacks
            .iter()
            .map(|s| s.counts.get(i).copied().unwrap_or(0.0))
            .sum::<f64>()
    };
    let top = (0..weeks).map(total).fold(0.0_f64, f64::max);
    // Whole numbers on the axis: at least 4, with a little room above the tallest bar.
    let y1 = (top * 1.1).ceil().max(4.0);
    let x1 = weeks as f64;
    let width = width.clamp(280, MAX_WIDTH);
    render((width, HEIGHT), &|root: &Area<'_>| -> Drawn {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(root)
            .margin_top(14)
            .margin_right(16)
            .margin_left(8)
            .x_label_area_size(40)
            .y_label_area_size(if width < 600 { 56 } else { 70 })
            .build_cartesian_2d(-0.5..x1 - 0.5, 0.0..y1)?;
        // plotters picks round positions for the labels, about one per 90 pixels; only whole
        // weeks are named.
        mesh(
            &mut chart,
            weeks.min(width as usize / 90).max(2),
            &|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 && i < x1 {
                    week_label(i as usize)
                } else {
                    String::new()
                }
            },
            &|y| {
                if y.fract() == 0.0 {
                    format!("{y:.0}")
                } else {
                    String::new()
                }
            },
            "",
            y_desc,
        )?;
        for i in 0..weeks {
            let x = i as f64;
            let mut base = 0.0;
            for s in stacks {
                let n = s.counts.get(i).copied().unwrap_or(0.0);
                if n > 0.0 {
                    chart.draw_series(std::iter::once(Rectangle::new(
                        [(x - 0.34, base), (x + 0.34, base + n)],
                        s.color.filled(),
                    )))?;
                    base += n;
                }
            }
        }
        Ok(())
    })
}
