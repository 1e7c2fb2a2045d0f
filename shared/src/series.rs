//! What the console's charts plot, computed here so that no statistics live in a component:
//! the cumulative difference over time with its interval ([`band`]), where a criterion's
//! margin sits on the difference axis ([`criterion_bound`]), and the two latency histograms as
//! shares per bucket with their p50/p95 ([`latency_view`]).
//!
//! [`band`] compares each cumulative point exactly as [`crate::comparison::report`] compares
//! the summary (same tests, same options), so the last point of a series that covers the
//! summary's span equals the table's row.

use serde::{Deserialize, Serialize};

use crate::comparison::{self, ReportOptions};
use crate::metrics::{MetricSeries, MetricValue};
use crate::plan::{BadDirection, RollbackCriterion, ThresholdKind};
use crate::stats::{self, CompareOptions, Comparison, Histogram, SequentialOptions};

/// The comparison as it stood at one time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BandPoint {
    /// RFC 3339 end of the bucket.
    pub at: String,
    pub estimate: f64,
    pub lo: f64,
    pub hi: f64,
}

/// The cumulative estimate of candidate − control (a relative lift when `relative`) with its
/// interval at every point of `series`. `quantile` is the level for a latency series (0.95 for
/// a p95 row) and is ignored otherwise. Rates and means get the always-valid interval (the
/// chart is exactly the "peeking" the confidence sequence is built for); quantiles the
/// fixed-horizon one, as in the report. Points where either arm has too little data are left
/// out.
pub fn band(
    series: &MetricSeries,
    quantile: Option<f64>,
    relative: bool,
    opts: &ReportOptions,
) -> Vec<BandPoint> {
    series
        .points
        .iter()
        .filter_map(|p| {
            let c = compare(
                p.control.as_ref()?,
                p.candidate.as_ref()?,
                quantile,
                relative,
                opts,
            )?;
            Some(BandPoint {
                at: p.at.clone(),
                estimate: c.estimate,
                lo: c.ci[0],
                hi: c.ci[1],
            })
        })
        .collect()
}

fn compare(
    a: &MetricValue,
    b: &MetricValue,
    quantile: Option<f64>,
    relative: bool,
    opts: &ReportOptions,
) -> Option<Comparison> {
    // A latency series needs its quantile; the other kinds ignore it.
    let q = match a {
        MetricValue::Latency { .. } => Some(quantile?),
        _ => None,
    };
    let copts = CompareOptions {
        relative,
        alpha: opts.alpha,
        sequential: Some(SequentialOptions {
            tuning: opts.tuning,
        }),
    };
    comparison::compare(&comparison::pair(a, b, q)?, &copts).ok()
}

/// Where a criterion's margin lies on the difference axis, signed towards the bad side:
/// "must not rise more than 15 %" is +0.15, "must not fall more than 2 points" is −0.02.
/// `None` for a level criterion, which bounds the candidate's own value rather than the
/// difference, and when the criterion's scale (relative or absolute) is not the one plotted.
pub fn criterion_bound(c: &RollbackCriterion, relative: bool) -> Option<f64> {
    let sign = match c.bad_direction {
        BadDirection::Increase => 1.0,
        BadDirection::Decrease => -1.0,
    };
    match c.threshold_kind {
        ThresholdKind::Relative if relative => Some(sign * c.threshold),
        ThresholdKind::Absolute if !relative => Some(sign * c.threshold),
        _ => None,
    }
}

/// One histogram bucket of both arms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyBucket {
    /// Lower and upper bound in the metric's unit (the first bucket starts at 0).
    pub lo: f64,
    pub hi: f64,
    /// Share of the arm's requests in this bucket, 0–1.
    pub control: f64,
    pub candidate: f64,
}

/// Two latency histograms ready to draw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyView {
    pub buckets: Vec<LatencyBucket>,
    /// p50 and p95 estimates (Prometheus interpolation, as the table's rows).
    pub control_p50: f64,
    pub control_p95: f64,
    pub candidate_p50: f64,
    pub candidate_p95: f64,
    pub control_n: u64,
    pub candidate_n: u64,
}

/// Shares per bucket and p50/p95 of both arms; `None` unless both are latency histograms with
/// the same buckets and at least one request each.
pub fn latency_view(control: &MetricValue, candidate: &MetricValue) -> Option<LatencyView> {
    let (
        MetricValue::Latency { le, counts: ca },
        MetricValue::Latency {
            le: le2,
            counts: cb,
        },
    ) = (control, candidate)
    else {
        return None;
    };
    if le != le2 {
        return None;
    }
    let (ha, hb) = (
        Histogram::from_counts(le, ca).ok()?,
        Histogram::from_counts(le, cb).ok()?,
    );
    let (na, nb) = (ha.total(), hb.total());
    if na == 0 || nb == 0 {
        return None;
    }
    let q = |h: &Histogram, level: f64| stats::quantile(h, level, 0.05).ok().map(|e| e.estimate);
    let buckets = le
        .iter()
        .enumerate()
        .map(|(i, &hi)| LatencyBucket {
            lo: if i == 0 { 0.0_f64.min(hi) } else { le[i - 1] },
            hi,
            control: ca.get(i).copied().unwrap_or(0) as f64 / na as f64,
            candidate: cb.get(i).copied().unwrap_or(0) as f64 / nb as f64,
        })
        .collect();
    Some(LatencyView {
        buckets,
        control_p50: q(&ha, 0.5)?,
        control_p95: q(&ha, 0.95)?,
        candidate_p50: q(&hb, 0.5)?,
        candidate_p95: q(&hb, 0.95)?,
        control_n: na,
        candidate_n: nb,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comparison::report;
    use crate::metrics::{
        ALL_SEGMENTS, MetricSummary, SeriesPoint, SummaryCell, Variant, default_catalogue,
    };

    fn rate(n: u64, successes: u64) -> MetricValue {
        MetricValue::Rate { n, successes }
    }

    fn series(points: Vec<(u64, u64, u64, u64)>) -> MetricSeries {
        MetricSeries {
            metric: "shadow_eval_pass_rate".into(),
            segment: ALL_SEGMENTS.into(),
            resolution_seconds: 3600,
            points: points
                .into_iter()
                .enumerate()
                .map(|(i, (na, sa, nb, sb))| SeriesPoint {
                    at: format!("2025-01-01T{i:02}:00:00Z"),
                    control: (na > 0).then(|| rate(na, sa)),
                    candidate: (nb > 0).then(|| rate(nb, sb)),
                })
                .collect(),
        }
    }

    #[test]
    fn the_last_point_equals_the_report_row() {
        let s = series(vec![
            (0, 0, 0, 0),
            (9_000, 8_100, 500, 440),
            (19_000, 17_100, 1_000, 880),
        ]);
        let opts = ReportOptions::default();
        let b = band(&s, None, false, &opts);
        // The empty first bucket is skipped.
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].at, "2025-01-01T01:00:00Z");

        let cell = |v: Variant, value: MetricValue| SummaryCell {
            metric: "shadow_eval_pass_rate".into(),
            segment: ALL_SEGMENTS.into(),
            variant: v,
            value,
        };
        let summary = MetricSummary {
            catalogue: default_catalogue(),
            segments: vec![],
            from: None,
            to: None,
            windows: 2,
            cells: vec![
                cell(Variant::Control, rate(19_000, 17_100)),
                cell(Variant::Candidate, rate(1_000, 880)),
            ],
            traffic: vec![],
        };
        let r = report(&summary, &[], &opts);
        let row = r.rows.iter().find(|x| x.key == "shadow_eval_pass_rate");
        let c = row.and_then(|x| x.comparison).expect("compared");
        let last = &b[1];
        assert_eq!(last.estimate, c.estimate);
        assert_eq!([last.lo, last.hi], c.ci);
        // −2 points, and the always-valid interval is wider than ±1 point here.
        assert!((last.estimate + 0.02).abs() < 1e-12);
        assert!(last.lo < last.estimate && last.estimate < last.hi);
        // More data, narrower interval.
        assert!(b[1].hi - b[1].lo < b[0].hi - b[0].lo);
    }

    #[test]
    fn margins_are_signed_towards_the_bad_side() {
        let c = |d, k, t| RollbackCriterion {
            metric: "m".into(),
            bad_direction: d,
            threshold_kind: k,
            threshold: t,
        };
        use BadDirection::*;
        use ThresholdKind::*;
        assert_eq!(
            criterion_bound(&c(Increase, Relative, 0.15), true),
            Some(0.15)
        );
        assert_eq!(
            criterion_bound(&c(Decrease, Absolute, 0.02), false),
            Some(-0.02)
        );
        assert_eq!(criterion_bound(&c(Decrease, Absolute, 0.02), true), None);
        assert_eq!(criterion_bound(&c(Increase, Level, 2500.0), false), None);
    }

    #[test]
    fn latency_shares_sum_to_one_and_quantiles_match() {
        let a = MetricValue::Latency {
            le: vec![100.0, 200.0, 400.0, 800.0],
            counts: vec![10, 50, 30, 10],
        };
        let b = MetricValue::Latency {
            le: vec![100.0, 200.0, 400.0, 800.0],
            counts: vec![5, 30, 45, 20],
        };
        let v = latency_view(&a, &b).expect("view");
        assert_eq!(v.buckets.len(), 4);
        assert_eq!(v.buckets[0].lo, 0.0);
        assert_eq!(v.buckets[2].lo, 200.0);
        let sum: f64 = v.buckets.iter().map(|x| x.control).sum();
        assert!((sum - 1.0).abs() < 1e-12);
        // Control: rank 50 of 100 lies 40/50 into (100, 200] → 180 ms.
        assert!((v.control_p50 - 180.0).abs() < 1e-9, "{}", v.control_p50);
        assert!(v.candidate_p95 > v.control_p95);
        let other = MetricValue::Latency {
            le: vec![1.0],
            counts: vec![1],
        };
        assert!(latency_view(&a, &other).is_none());
        assert!(latency_view(&a, &rate(1, 1)).is_none());
    }
}
