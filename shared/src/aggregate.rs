//! Adding up metric windows: the summary the comparison reads (one cell per metric ×
//! segment × variant) and the cumulative series a chart draws. Pure: the server feeds it the
//! windows it read.
//!
//! Sufficient statistics add up ([`MetricValue::merge`]), so summing windows loses nothing the
//! statistics need, and the browser receives one cell per metric × segment × variant instead
//! of thousands of windows.

use std::collections::HashMap;

use crate::metrics::{
    ALL_SEGMENTS, MetricDef, MetricSummary, MetricValue, SeriesPoint, SummaryCell, TrafficCell,
    Variant,
};

/// Most points a series answers.
pub const MAX_POINTS: i64 = 5_000;
/// Points a series aims for when no resolution is asked.
pub const TARGET_POINTS: i64 = 200;

/// Stored windows of one variant and segment with the values of the asked metrics, by their
/// index in the asked list: one window as it was sent, or a rollup that stands for several
/// (see [`Source`]). The times are those of the windows it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    pub variant: Variant,
    pub segment: String,
    /// The earliest window start, Unix seconds.
    pub start: i64,
    /// The latest window end.
    pub end: i64,
    /// The latest window start (`start` for a single window).
    pub last_start: i64,
    /// The shortest window's length, seconds.
    pub shortest: i64,
    /// How many windows this stands for.
    pub windows: u64,
    pub requests: u64,
    pub values: Vec<(usize, MetricValue)>,
}

impl Window {
    /// One window as it was sent.
    pub fn single(
        variant: Variant,
        segment: String,
        start: i64,
        end: i64,
        requests: u64,
        values: Vec<(usize, MetricValue)>,
    ) -> Window {
        Window {
            variant,
            segment,
            start,
            end,
            last_start: start,
            shortest: end - start,
            windows: 1,
            requests,
            values,
        }
    }
}

/// Widths of the stored rollups, coarsest first: a day, an hour. A rollup of width `w` sums
/// the windows of one change, variant and segment that start in one `[k·w, (k+1)·w)`; one more
/// rollup per change, variant and segment sums its whole history.
pub const ROLLUP_WIDTHS: [i64; 2] = [86_400, 3_600];

/// Where the windows starting in a time range are read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The rollups summing each variant and segment's whole history.
    Whole,
    /// Rollups of this width whose bucket starts in `[from, to)` (`None`: unbounded).
    Rollups {
        width: i64,
        from: Option<i64>,
        to: Option<i64>,
    },
    /// The windows themselves, starting in `[from, to)`.
    Windows { from: Option<i64>, to: Option<i64> },
}

/// The fewest stored rows that hold exactly the windows starting in `[from, to)`: whole-history
/// rollups when the range is unbounded, else day rollups for the whole days inside it, hour
/// rollups for the whole hours left at its edges and the windows themselves for what is left
/// of a partial hour. Rollups wider than `widest` are not used (a series needs every row to
/// fall in one of its buckets; `Some(0)` reads windows only); `None` allows the
/// whole-history rollups too. In time order.
pub fn sources(from: Option<i64>, to: Option<i64>, widest: Option<i64>) -> Vec<Source> {
    if from.is_none() && to.is_none() && widest.is_none() {
        return vec![Source::Whole];
    }
    let widths: Vec<i64> = ROLLUP_WIDTHS
        .into_iter()
        .filter(|&w| widest.is_none_or(|widest| w <= widest))
        .collect();
    let mut out = Vec::new();
    cover(from, to, &widths, &mut out);
    out
}

fn cover(from: Option<i64>, to: Option<i64>, widths: &[i64], out: &mut Vec<Source>) {
    let Some((&w, narrower)) = widths.split_first() else {
        out.push(Source::Windows { from, to });
        return;
    };
    let inner_from = from.map(|f| f.div_euclid(w) * w + if f.rem_euclid(w) == 0 { 0 } else { w });
    let inner_to = to.map(|t| t.div_euclid(w) * w);
    if let (Some(a), Some(b)) = (inner_from, inner_to)
        && a >= b
    {
        cover(from, to, narrower, out);
        return;
    }
    if from != inner_from {
        cover(from, inner_from, narrower, out);
    }
    out.push(Source::Rollups {
        width: w,
        from: inner_from,
        to: inner_to,
    });
    if to != inner_to {
        cover(inner_to, to, narrower, out);
    }
}

/// The widest rollup a series of buckets `width` wide starting at `origin` can read: every
/// rollup must fall in one of its buckets.
pub fn widest_for_series(width: i64, origin: Option<i64>) -> Option<i64> {
    ROLLUP_WIDTHS
        .into_iter()
        .find(|&w| width % w == 0 && origin.is_none_or(|o| o.rem_euclid(w) == 0))
}

/// Why windows cannot be added up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AggregateError {
    /// The asked resolution gives more than [`MAX_POINTS`] buckets.
    #[error(
        "gives {buckets} points; ask for at most {MAX_POINTS} (a coarser resolution or a \
         shorter span)"
    )]
    TooManyPoints { buckets: i64 },
    /// Two values of one metric do not merge (different kinds or bucket bounds): the stored
    /// windows are inconsistent.
    #[error("stored windows do not add up: {0}")]
    DoNotAddUp(String),
}

/// Sums windows into a summary. A window whose segment is `all` (an app that does not
/// segment) counts towards the aggregate only.
pub fn summarize(
    catalogue: Vec<MetricDef>,
    windows: &[Window],
) -> Result<MetricSummary, AggregateError> {
    // Segment indices: 0 is the aggregate.
    let mut segment_ids: HashMap<&str, usize> = HashMap::new();
    let mut names: Vec<&str> = vec![ALL_SEGMENTS];
    let mut cells: HashMap<(usize, usize, Variant), MetricValue> = HashMap::new();
    let mut traffic: HashMap<(usize, Variant), u64> = HashMap::new();
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    let mut count = 0u64;
    for w in windows {
        count = count.saturating_add(w.windows);
        first = first.min(w.start);
        last = last.max(w.end);
        let seg = if w.segment == ALL_SEGMENTS {
            0
        } else {
            *segment_ids.entry(w.segment.as_str()).or_insert_with(|| {
                names.push(w.segment.as_str());
                names.len() - 1
            })
        };
        let targets: &[usize] = if seg == 0 { &[0] } else { &[seg, 0] };
        for &s in targets {
            let t = traffic.entry((s, w.variant)).or_insert(0);
            *t = t.saturating_add(w.requests);
            for (m, value) in &w.values {
                match cells.entry((*m, s, w.variant)) {
                    std::collections::hash_map::Entry::Occupied(mut e) => e
                        .get_mut()
                        .merge(value)
                        .map_err(AggregateError::DoNotAddUp)?,
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(value.clone());
                    }
                }
            }
        }
    }
    // Output order: catalogue order, then the aggregate and the segments sorted, control
    // before candidate.
    let mut order: Vec<usize> = (1..names.len()).collect();
    order.sort_by_key(|&i| names[i]);
    order.insert(0, 0);
    let mut out_cells = Vec::with_capacity(cells.len());
    for (m, def) in catalogue.iter().enumerate() {
        for &s in &order {
            for v in [Variant::Control, Variant::Candidate] {
                if let Some(value) = cells.remove(&(m, s, v)) {
                    out_cells.push(SummaryCell {
                        metric: def.key.clone(),
                        segment: names[s].to_owned(),
                        variant: v,
                        value,
                    });
                }
            }
        }
    }
    let mut out_traffic = Vec::new();
    for &s in &order {
        for v in [Variant::Control, Variant::Candidate] {
            if let Some(&requests) = traffic.get(&(s, v)) {
                out_traffic.push(TrafficCell {
                    segment: names[s].to_owned(),
                    variant: v,
                    requests,
                });
            }
        }
    }
    Ok(MetricSummary {
        catalogue,
        segments: order[1..].iter().map(|&s| names[s].to_owned()).collect(),
        from: (!windows.is_empty()).then(|| rfc3339(first)),
        to: (!windows.is_empty()).then(|| rfc3339(last)),
        windows: count,
        cells: out_cells,
        traffic: out_traffic,
    })
}

/// Round bucket widths, in seconds, for the default resolution.
const NICE: [i64; 11] = [
    60, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
];

/// The smallest round width that is at least `min`.
pub fn nice_at_least(min: i64) -> i64 {
    NICE.into_iter()
        .find(|&n| n >= min)
        .unwrap_or_else(|| (min + 86_399) / 86_400 * 86_400)
}

/// The bucket width of a series: `resolution` when asked, else a round width giving about
/// [`TARGET_POINTS`] points over the windows' starts and no shorter than the shortest window.
/// `None` when there are no windows.
pub fn series_width(windows: &[Window], resolution: Option<i64>) -> Option<i64> {
    let first = windows.iter().map(|w| w.start).min()?;
    let last = windows.iter().map(|w| w.last_start).max()?;
    Some(match resolution {
        Some(r) => r,
        None => {
            let shortest = windows.iter().map(|w| w.shortest).min().unwrap_or(60);
            let span = last - first + 1;
            nice_at_least(shortest.max((span + TARGET_POINTS - 1) / TARGET_POINTS))
        }
    })
}

/// Buckets windows (ordered by start, each within one bucket of the series: see
/// [`widest_for_series`]) by their start and accumulates. Buckets are aligned to `from` when
/// given, else to multiples of the width since the Unix epoch (so hourly buckets start on the
/// hour). Returns the width and the points.
pub fn series(
    windows: &[Window],
    from: Option<i64>,
    resolution: Option<i64>,
) -> Result<(i64, Vec<SeriesPoint>), AggregateError> {
    let Some(width) = series_width(windows, resolution) else {
        return Ok((resolution.unwrap_or(3600), Vec::new()));
    };
    let first = windows.iter().map(|w| w.start).min().unwrap_or(0);
    let last = windows.iter().map(|w| w.last_start).max().unwrap_or(0);
    let origin = from.unwrap_or(first.div_euclid(width) * width);
    let buckets = (last - origin) / width + 1;
    if buckets > MAX_POINTS {
        return Err(AggregateError::TooManyPoints { buckets });
    }
    let mut points = Vec::with_capacity(usize::try_from(buckets).unwrap_or(0));
    let mut totals: [Option<MetricValue>; 2] = [None, None];
    let mut rest = windows.iter().peekable();
    for b in 0..buckets {
        let end = origin + (b + 1) * width;
        while let Some(w) = rest.next_if(|w| w.start < end) {
            let slot = &mut totals[usize::from(w.variant == Variant::Candidate)];
            for (_, value) in &w.values {
                match slot {
                    Some(t) => t.merge(value).map_err(AggregateError::DoNotAddUp)?,
                    None => *slot = Some(value.clone()),
                }
            }
        }
        points.push(SeriesPoint {
            at: rfc3339(end),
            control: totals[0].clone(),
            candidate: totals[1].clone(),
        });
    }
    Ok((width, points))
}

/// Unix seconds as the server stores times: RFC 3339 UTC, fixed width, with microseconds.
pub fn rfc3339(unix: i64) -> String {
    let (days, secs) = (unix.div_euclid(86_400), unix.rem_euclid(86_400));
    let (y, m, d) = crate::calendar::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000000Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricKind;

    fn n_of(v: &MetricValue) -> u64 {
        match v {
            MetricValue::Rate { n, .. } | MetricValue::Mean { n, .. } => *n,
            MetricValue::Latency { counts, .. } => counts.iter().sum(),
            MetricValue::Categories { counts } => counts.values().sum(),
        }
    }

    fn window(variant: Variant, segment: &str, start: i64, n: u64, s: u64) -> Window {
        Window::single(
            variant,
            segment.into(),
            start,
            start + 3600,
            n,
            vec![(0, MetricValue::Rate { n, successes: s })],
        )
    }

    fn rate_catalogue() -> Vec<MetricDef> {
        crate::metrics::default_catalogue()
            .into_iter()
            .filter(|d| d.kind == MetricKind::Rate)
            .take(1)
            .collect()
    }

    #[test]
    fn summaries_add_segments_and_the_aggregate() {
        use Variant::*;
        let windows = [
            window(Control, "b", 0, 100, 90),
            window(Control, "a", 0, 50, 40),
            window(Candidate, "a", 3600, 5, 4),
            window(Control, "a", 3600, 10, 1),
        ];
        let s = summarize(rate_catalogue(), &windows).unwrap();
        assert_eq!(s.segments, ["a", "b"]);
        assert_eq!(s.windows, 4);
        assert_eq!(s.from.as_deref(), Some("1970-01-01T00:00:00.000000Z"));
        assert_eq!(s.to.as_deref(), Some("1970-01-01T02:00:00.000000Z"));
        let cell = |seg: &str, v| {
            s.cells
                .iter()
                .find(|c| c.segment == seg && c.variant == v)
                .map(|c| c.value.clone())
        };
        assert_eq!(
            cell("all", Control),
            Some(MetricValue::Rate {
                n: 160,
                successes: 131
            })
        );
        assert_eq!(
            cell("a", Control),
            Some(MetricValue::Rate {
                n: 60,
                successes: 41
            })
        );
        assert_eq!(cell("b", Candidate), None);
        assert_eq!(s.cells[0].segment, "all");
        let traffic: Vec<(&str, u64)> = s
            .traffic
            .iter()
            .map(|t| (t.segment.as_str(), t.requests))
            .collect();
        assert_eq!(
            traffic,
            [("all", 160), ("all", 5), ("a", 60), ("a", 5), ("b", 100)]
        );
    }

    #[test]
    fn series_accumulate_per_bucket() {
        use Variant::*;
        let windows = [
            window(Control, "a", 0, 10, 5),
            window(Candidate, "a", 0, 2, 1),
            window(Control, "a", 7200, 10, 10),
        ];
        let (width, points) = series(&windows, None, None).unwrap();
        assert_eq!(width, 3600);
        assert_eq!(points.len(), 3);
        assert_eq!(points[0].at, "1970-01-01T01:00:00.000000Z");
        assert_eq!(points[1].control, points[0].control);
        assert_eq!(
            points[2].control,
            Some(MetricValue::Rate {
                n: 20,
                successes: 15
            })
        );
        assert_eq!(points[2].candidate.as_ref().map(n_of), Some(2));
        let (_, fine) = series(&windows, None, Some(600)).unwrap();
        assert_eq!(fine.len(), 13);
        assert!(series(&windows, Some(0), Some(60)).is_ok());
    }

    #[test]
    fn sources_cover_a_range_with_the_fewest_rows() {
        use Source::*;
        const H: i64 = 3600;
        const D: i64 = 86_400;
        assert_eq!(sources(None, None, None), [Whole]);
        let r = |width, from, to| Rollups { width, from, to };
        assert_eq!(sources(None, None, Some(H)), [r(H, None, None)]);
        // 2 days and 90 minutes from 23:30 on day 0: half an hour of windows, a day, an hour,
        // half an hour of windows.
        let (from, to) = (D - 1800, 2 * D + H + 1800);
        assert_eq!(
            sources(Some(from), Some(to), None),
            [
                Windows {
                    from: Some(from),
                    to: Some(D)
                },
                r(D, Some(D), Some(2 * D)),
                r(H, Some(2 * D), Some(2 * D + H)),
                Windows {
                    from: Some(2 * D + H),
                    to: Some(to)
                },
            ]
        );
        // Aligned bounds need no windows; a span inside one hour needs nothing else.
        assert_eq!(sources(Some(D), None, None), [r(D, Some(D), None)]);
        assert_eq!(
            sources(Some(60), Some(120), None),
            [Windows {
                from: Some(60),
                to: Some(120)
            }]
        );
        assert_eq!(sources(Some(60), Some(120), Some(1)).len(), 1);
        assert_eq!(widest_for_series(7200, None), Some(H));
        assert_eq!(widest_for_series(2 * D, Some(D)), Some(D));
        assert_eq!(widest_for_series(2 * D, Some(H)), Some(H));
        assert_eq!(widest_for_series(600, None), None);
    }

    #[test]
    fn rollups_answer_like_their_windows() {
        use Variant::*;
        let windows = [
            window(Control, "a", 0, 10, 5),
            window(Control, "a", 1800, 2, 1),
            window(Control, "a", 7200, 10, 10),
        ];
        let mut rollup = window(Control, "a", 0, 12, 6);
        rollup.end = 1800 + 3600;
        rollup.last_start = 1800;
        rollup.windows = 2;
        let rolled = [rollup, windows[2].clone()];
        let s = |w: &[Window]| summarize(rate_catalogue(), w).unwrap();
        assert_eq!(s(&windows), s(&rolled));
        assert_eq!(
            series(&windows, None, Some(3600)),
            series(&rolled, None, Some(3600))
        );
        assert_eq!(series(&windows, None, None), series(&rolled, None, None));
    }

    #[test]
    fn default_resolutions_are_round() {
        assert_eq!(nice_at_least(1), 60);
        assert_eq!(nice_at_least(3600), 3600);
        assert_eq!(nice_at_least(14 * 86_400 / 200), 7200);
        assert_eq!(nice_at_least(86_401), 172_800);
    }

    #[test]
    fn times_are_fixed_width_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20.000000Z");
        // A leap day, and the last second of a leap year.
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00.000000Z");
        assert_eq!(rfc3339(1_483_228_799), "2016-12-31T23:59:59.000000Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.000000Z");
    }

    #[test]
    fn too_many_points_are_refused() {
        let windows = [
            window(Variant::Control, "a", 0, 1, 1),
            window(Variant::Control, "a", 60 * 6000, 1, 1),
        ];
        let err = series(&windows, None, Some(60)).unwrap_err();
        assert_eq!(err, AggregateError::TooManyPoints { buckets: 6001 });
        assert!(
            err.to_string()
                .starts_with("gives 6001 points; ask for at most 5000")
        );
    }
}
