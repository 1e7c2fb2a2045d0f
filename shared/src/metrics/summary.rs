//! What the server answers with: windows summed over a time span, per metric, segment and
//! variant, and a metric's cumulative series.

use serde::{Deserialize, Serialize};

use super::{MetricDef, MetricValue, Variant};

/// The segment name under which the server reports the sum of all segments.
pub const ALL_SEGMENTS: &str = "all";

/// Totals of one metric for one variant in one segment over the asked time span.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SummaryCell {
    pub metric: String,
    pub segment: String,
    pub variant: Variant,
    pub value: MetricValue,
}

/// Requests per variant and segment, for the sample-ratio check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TrafficCell {
    pub segment: String,
    pub variant: Variant,
    pub requests: u64,
}

/// `GET /api/v1/changes/{id}/metrics/summary`: everything the comparison table and the segment
/// matrix need, already summed over the time span by the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricSummary {
    pub catalogue: Vec<MetricDef>,
    /// Segments seen, sorted; the aggregate is reported as [`ALL_SEGMENTS`].
    pub segments: Vec<String>,
    /// RFC 3339 bounds of the data included (null when there is none).
    pub from: Option<String>,
    pub to: Option<String>,
    pub windows: u64,
    pub cells: Vec<SummaryCell>,
    pub traffic: Vec<TrafficCell>,
}

impl MetricSummary {
    /// Fills [`COMPLAINTS_METRIC`](super::COMPLAINTS_METRIC), when the catalogue has it as a
    /// rate: the aggregate's successes become the complaints recorded against each variant
    /// over the summary's span (`complaints(variant)`), at most its exposed users. Complaints
    /// name no segment, so the metric is judged on the aggregate only: its per-segment cells
    /// are dropped.
    pub fn count_complaints(&mut self, complaints: impl Fn(Variant) -> u64) {
        let key = super::COMPLAINTS_METRIC;
        if !self
            .catalogue
            .iter()
            .any(|d| d.key == key && d.kind == super::MetricKind::Rate)
        {
            return;
        }
        self.cells
            .retain(|c| c.metric != key || c.segment == ALL_SEGMENTS);
        for cell in self.cells.iter_mut().filter(|c| c.metric == key) {
            if let MetricValue::Rate { n, successes } = &mut cell.value {
                *successes = complaints(cell.variant).min(*n);
            }
        }
    }
}

/// One point of a time series: totals from the series start to `at` (cumulative), for each
/// variant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SeriesPoint {
    /// RFC 3339 end of the bucket.
    pub at: String,
    pub control: Option<MetricValue>,
    pub candidate: Option<MetricValue>,
}

/// `GET /api/v1/changes/{id}/metrics/series`: one metric in one segment over time, bucketed at
/// the asked resolution and accumulated, so each point is "everything so far".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricSeries {
    pub metric: String,
    pub segment: String,
    pub resolution_seconds: i64,
    pub points: Vec<SeriesPoint>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{COMPLAINTS_METRIC, complaints_def, default_catalogue};

    fn cell(metric: &str, segment: &str, variant: Variant, n: u64) -> SummaryCell {
        SummaryCell {
            metric: metric.into(),
            segment: segment.into(),
            variant,
            value: MetricValue::Rate { n, successes: 0 },
        }
    }

    #[test]
    fn complaints_fill_the_aggregate_of_their_metric_only() {
        let mut catalogue = default_catalogue();
        catalogue.push(complaints_def());
        let mut s = MetricSummary {
            catalogue,
            segments: vec!["free".into()],
            from: Some("2026-12-01T00:00:00Z".into()),
            to: Some("2026-12-02T00:00:00Z".into()),
            windows: 4,
            cells: vec![
                cell(COMPLAINTS_METRIC, ALL_SEGMENTS, Variant::Control, 20_000),
                cell(COMPLAINTS_METRIC, ALL_SEGMENTS, Variant::Candidate, 3),
                cell(COMPLAINTS_METRIC, "free", Variant::Candidate, 3),
                cell("retry_rate", ALL_SEGMENTS, Variant::Candidate, 50),
            ],
            traffic: Vec::new(),
        };
        s.count_complaints(|v| match v {
            Variant::Control => 12,
            Variant::Candidate => 9,
        });
        let successes: Vec<(String, String, u64)> = s
            .cells
            .iter()
            .map(|c| match c.value {
                MetricValue::Rate { successes, .. } => {
                    (c.metric.clone(), c.segment.clone(), successes)
                }
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(
            successes,
            [
                (COMPLAINTS_METRIC.into(), ALL_SEGMENTS.into(), 12),
                // Never more complaints than exposed users.
                (COMPLAINTS_METRIC.into(), ALL_SEGMENTS.into(), 3),
                ("retry_rate".into(), ALL_SEGMENTS.into(), 0),
            ]
        );

        // Without the metric in the catalogue nothing changes.
        let mut plain = s.clone();
        plain.catalogue = default_catalogue();
        plain
            .cells
            .push(cell(COMPLAINTS_METRIC, "free", Variant::Control, 5));
        let before = plain.clone();
        plain.count_complaints(|_| 99);
        assert_eq!(plain, before);
    }
}
