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
