//! Latency distributions of both arms: the share of requests per histogram bucket on a log
//! millisecond axis (latency buckets grow geometrically, so equal shares look equal), with
//! p50 and p95 of each arm marked.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use shared::series::LatencyView;

use super::{ACCENT, AXIS, Area, CONTROL, Drawn, GRID, MUTED, font, mesh, render};
use crate::components::html::Markup;
use leptos::prelude::*;

pub const SIZE: (u32, u32) = (560, 300);

fn ms_label(ms: f64) -> String {
    if ms >= 1000.0 {
        let s = ms / 1000.0;
        if s.fract() == 0.0 {
            format!("{s} s")
        } else {
            format!("{s:.1} s")
        }
    } else {
        format!("{ms:.0} ms")
    }
}

/// Both arms' p50 and p95, under the chart.
pub fn caption(view: &LatencyView) -> impl IntoView + use<> {
    let ms = |v: f64| format!("{} ms", crate::format::count(v.round().max(0.0) as u64));
    view! {
        <p class="chart-caption">
            <span><i class="lg-box lg-control"></i>"Control p50 "<b>{ms(view.control_p50)}</b>" · p95 "<b>{ms(view.control_p95)}</b></span>
            <span><i class="lg-line lg-accent"></i>"Candidate p50 "<b>{ms(view.candidate_p50)}</b>" · p95 "<b>{ms(view.candidate_p95)}</b></span>
        </p>
    }
}

pub fn chart(view: &LatencyView) -> Option<Markup> {
    let first = view.buckets.first()?;
    let last = view.buckets.last()?;
    // A first bucket starting at 0 has no place on a log axis: draw it from half its bound.
    let low = |b_lo: f64, b_hi: f64| if b_lo > 0.0 { b_lo } else { b_hi / 2.0 };
    let x0 = low(first.lo, first.hi).max(1e-3).log10();
    let x1 = last.hi.max(1e-3).log10();
    if x1 <= x0 {
        return None;
    }
    let top = view
        .buckets
        .iter()
        .map(|b| b.control.max(b.candidate))
        .fold(0.0_f64, f64::max)
        .max(0.01)
        * 118.0;
    render(SIZE, &|root: &Area<'_>| -> Drawn {
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(root)
            .margin_top(26)
            .margin_right(20)
            .x_label_area_size(44)
            .y_label_area_size(62)
            .build_cartesian_2d(x0..x1, 0.0..top)?;
        // The x labels are drawn below at 1–2–5 steps; plotters' own would be at round logs.
        mesh(
            &mut chart,
            0,
            &|_| String::new(),
            &|y| format!("{y:.0}%"),
            "Latency (ms, log scale)",
            "Share of requests (%)",
        )?;
        let mut decade = 10f64.powf(x0.floor());
        while decade.log10() <= x1 + 1e-9 {
            for m in [1.0, 2.0, 5.0] {
                let v = decade * m;
                let x = v.log10();
                if x < x0 - 1e-9 || x > x1 + 1e-9 {
                    continue;
                }
                chart.draw_series(LineSeries::new([(x, 0.0), (x, top)], GRID.stroke_width(1)))?;
                let (px, py) = chart.backend_coord(&(x, 0.0));
                root.draw(&PathElement::new(
                    [(px, py), (px, py + 5)],
                    AXIS.stroke_width(1),
                ))?;
                root.draw(&Text::new(
                    ms_label(v),
                    (px, py + 9),
                    font(MUTED, HPos::Center, VPos::Top),
                ))?;
            }
            decade *= 10.0;
        }
        for b in &view.buckets {
            let (l, h) = (low(b.lo, b.hi).max(1e-3).log10(), b.hi.max(1e-3).log10());
            chart.draw_series(std::iter::once(Rectangle::new(
                [(l, 0.0), (h, b.control * 100.0)],
                CONTROL.mix(0.32).filled(),
            )))?;
        }
        // The candidate as an outlined step on top, so both arms stay visible where they overlap.
        let mut step = Vec::with_capacity(view.buckets.len() * 2);
        for b in &view.buckets {
            let (l, h) = (low(b.lo, b.hi).max(1e-3).log10(), b.hi.max(1e-3).log10());
            step.push((l, b.candidate * 100.0));
            step.push((h, b.candidate * 100.0));
        }
        if let (Some(&(sx, _)), Some(&(ex, _))) = (step.first(), step.last()) {
            let mut area = vec![(sx, 0.0)];
            area.extend(step.iter().copied());
            area.push((ex, 0.0));
            chart.draw_series(std::iter::once(Polygon::new(
                area,
                ACCENT.mix(0.10).filled(),
            )))?;
            chart.draw_series(LineSeries::new(step, ACCENT.stroke_width(2)))?;
        }
        let marks = [
            (view.control_p50, CONTROL),
            (view.control_p95, CONTROL),
            (view.candidate_p50, ACCENT),
            (view.candidate_p95, ACCENT),
        ];
        for (v, color) in marks {
            if v <= 0.0 {
                continue;
            }
            let x = v.log10().clamp(x0, x1);
            chart.draw_series(DashedLineSeries::new(
                [(x, 0.0), (x, top)],
                4,
                3,
                color.stroke_width(2),
            ))?;
        }
        // One label per quantile, over the middle of the two arms' lines; the values are in
        // the caption below the chart.
        for (name, a, b) in [
            ("p50", view.control_p50, view.candidate_p50),
            ("p95", view.control_p95, view.candidate_p95),
        ] {
            if a <= 0.0 || b <= 0.0 {
                continue;
            }
            let x = ((a.log10() + b.log10()) / 2.0).clamp(x0, x1);
            let (px, py) = chart.backend_coord(&(x, top));
            root.draw(&Text::new(
                name,
                (px, py - 6),
                font(MUTED, HPos::Center, VPos::Bottom),
            ))?;
        }
        Ok(())
    })
}
