//! Canary-vs-control metrics: the catalogue of what is measured, the windows a production app
//! sends, and the aggregates the console analyses.
//!
//! A window is what one variant served in one segment over one time span, as sufficient
//! statistics: a rate is `{n, successes}`, a mean `{n, sum, sum_squares}`, latency a histogram
//! `{le, counts, cumulative}` and error categories `{category: count}`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::FieldError;

/// Which arm of the comparison served the traffic.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Variant {
    Control,
    Candidate,
}

impl Variant {
    /// The serde name: the text in JSON, in storage and in query strings.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Reads a serde name back; `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// The shape of a metric's data.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum MetricKind {
    /// Successes out of n: pass rates, click-through, error rates.
    Rate,
    /// A mean from sufficient statistics: cost per request, tokens, conversation length.
    Mean,
    /// A latency histogram; analysed through its quantiles (p50, p95).
    Latency,
    /// Counts per error category; analysed for new or much more frequent categories.
    Categories,
}

impl MetricKind {
    /// The serde name: the text in JSON, in storage and in query strings.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// What a metric tells about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MetricFamily {
    Quality,
    UserBehaviour,
    Cost,
    Latency,
    Errors,
    Safety,
}

impl MetricFamily {
    pub fn label(self) -> &'static str {
        match self {
            MetricFamily::Quality => "Quality",
            MetricFamily::UserBehaviour => "User behaviour",
            MetricFamily::Cost => "Cost",
            MetricFamily::Latency => "Latency",
            MetricFamily::Errors => "Errors",
            MetricFamily::Safety => "Safety",
        }
    }
}

/// Which way of moving is good for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GoodDirection {
    Up,
    Down,
}

/// One entry of a change's metric catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MetricDef {
    /// Key used in windows and criteria, e.g. `cost_per_request`.
    pub key: String,
    pub name: String,
    pub kind: MetricKind,
    pub family: MetricFamily,
    pub good: GoodDirection,
    /// Unit shown beside values, e.g. "USD", "ms", "" for rates.
    #[serde(default)]
    pub unit: String,
}

fn def(
    key: &str,
    name: &str,
    kind: MetricKind,
    family: MetricFamily,
    good: GoodDirection,
    unit: &str,
) -> MetricDef {
    MetricDef {
        key: key.into(),
        name: name.into(),
        kind,
        family,
        good,
        unit: unit.into(),
    }
}

/// The seed's list of canary metrics that matter: quality, user behaviour, cost, latency,
/// errors (hard and soft) and safety signals.
pub fn default_catalogue() -> Vec<MetricDef> {
    use GoodDirection::*;
    use MetricFamily as F;
    use MetricKind as K;
    vec![
        def(
            "shadow_eval_pass_rate",
            "Shadow-eval pass rate",
            K::Rate,
            F::Quality,
            Up,
            "",
        ),
        def(
            "suggestion_click_through",
            "Click-through on AI suggestions",
            K::Rate,
            F::UserBehaviour,
            Up,
            "",
        ),
        def(
            "retry_rate",
            "Retry rate",
            K::Rate,
            F::UserBehaviour,
            Down,
            "",
        ),
        def(
            "conversation_length",
            "Conversation length",
            K::Mean,
            F::UserBehaviour,
            Down,
            "turns",
        ),
        def(
            "cost_per_request",
            "Cost per request",
            K::Mean,
            F::Cost,
            Down,
            "USD",
        ),
        def(
            "tokens_per_request",
            "Tokens per request",
            K::Mean,
            F::Cost,
            Down,
            "tokens",
        ),
        def(
            "latency_ms",
            "End-to-end latency",
            K::Latency,
            F::Latency,
            Down,
            "ms",
        ),
        def(
            "hard_error_rate",
            "Hard error rate",
            K::Rate,
            F::Errors,
            Down,
            "",
        ),
        def(
            "soft_error_rate",
            "Soft errors (refusals, fallbacks)",
            K::Rate,
            F::Errors,
            Down,
            "",
        ),
        def("refusal_rate", "Refusal rate", K::Rate, F::Safety, Down, ""),
        def(
            "moderation_flag_rate",
            "Moderation flags",
            K::Rate,
            F::Safety,
            Down,
            "",
        ),
        def(
            "error_categories",
            "Error categories",
            K::Categories,
            F::Errors,
            Down,
            "",
        ),
    ]
}

/// The quantiles a latency metric is compared on, with the suffix of their derived keys:
/// `latency_ms` gives `latency_p50_ms` and `latency_p95_ms`.
pub const LATENCY_QUANTILES: [(f64, &str); 2] = [(0.5, "p50"), (0.95, "p95")];

/// `latency_ms` + `p95` → `latency_p95_ms`.
pub fn quantile_key(latency_key: &str, suffix: &str) -> String {
    match latency_key.strip_suffix("_ms") {
        Some(stem) => format!("{stem}_{suffix}_ms"),
        None => format!("{latency_key}_{suffix}"),
    }
}

/// One window as a production app sends it. Metric values stay raw JSON here and are read
/// against the catalogue by [`parse_value`], so an error can name the exact field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MetricWindow {
    pub variant: Variant,
    /// e.g. "free / es"; "all" when the app does not segment.
    pub segment: String,
    /// RFC 3339.
    pub window_start: String,
    /// RFC 3339, after `window_start`.
    pub window_end: String,
    /// Requests this variant served in this segment and window (the denominator of the
    /// traffic split and of error categories).
    pub requests: u64,
    /// Metric key → value in the shape its kind asks for.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub metrics: BTreeMap<String, Value>,
}

/// Body of `POST /api/v1/changes/{id}/metrics`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MetricBatch {
    pub windows: Vec<MetricWindow>,
}

/// A metric value read against its kind. Latency is kept as per-bucket counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MetricValue {
    Rate {
        n: u64,
        successes: u64,
    },
    Mean {
        n: u64,
        sum: f64,
        sum_squares: f64,
    },
    Latency {
        /// Bucket upper bounds, strictly increasing.
        le: Vec<f64>,
        /// Per-bucket counts (not cumulative).
        counts: Vec<u64>,
    },
    Categories {
        counts: BTreeMap<String, u64>,
    },
}

impl MetricValue {
    pub fn kind(&self) -> MetricKind {
        match self {
            MetricValue::Rate { .. } => MetricKind::Rate,
            MetricValue::Mean { .. } => MetricKind::Mean,
            MetricValue::Latency { .. } => MetricKind::Latency,
            MetricValue::Categories { .. } => MetricKind::Categories,
        }
    }

    /// Adds another window's value of the same metric. Sufficient statistics add up, which is
    /// what lets the server aggregate windows without losing anything the tests need.
    pub fn merge(&mut self, other: &MetricValue) -> Result<(), String> {
        match (self, other) {
            (
                MetricValue::Rate { n, successes },
                MetricValue::Rate {
                    n: n2,
                    successes: s2,
                },
            ) => {
                *n = n.saturating_add(*n2);
                *successes = successes.saturating_add(*s2);
            }
            (
                MetricValue::Mean {
                    n,
                    sum,
                    sum_squares,
                },
                MetricValue::Mean {
                    n: n2,
                    sum: s2,
                    sum_squares: q2,
                },
            ) => {
                *n = n.saturating_add(*n2);
                *sum += s2;
                *sum_squares += q2;
            }
            (
                MetricValue::Latency { le, counts },
                MetricValue::Latency {
                    le: le2,
                    counts: c2,
                },
            ) => {
                if le != le2 {
                    return Err("latency buckets differ between windows".into());
                }
                for (a, b) in counts.iter_mut().zip(c2) {
                    *a = a.saturating_add(*b);
                }
            }
            (MetricValue::Categories { counts }, MetricValue::Categories { counts: c2 }) => {
                for (k, v) in c2 {
                    let e = counts.entry(k.clone()).or_insert(0);
                    *e = e.saturating_add(*v);
                }
            }
            (a, b) => {
                return Err(format!(
                    "cannot add a {} to a {}",
                    b.kind().as_str(),
                    a.kind().as_str()
                ));
            }
        }
        Ok(())
    }
}

fn field_u64(
    obj: &serde_json::Map<String, Value>,
    name: &str,
    at: &str,
) -> Result<u64, FieldError> {
    match obj.get(name) {
        None => Err(FieldError::new(format!("{at}.{name}"), "is missing")),
        Some(v) => v
            .as_u64()
            .ok_or_else(|| FieldError::new(format!("{at}.{name}"), "must be a whole number ≥ 0")),
    }
}

fn field_f64(
    obj: &serde_json::Map<String, Value>,
    name: &str,
    at: &str,
) -> Result<f64, FieldError> {
    match obj.get(name) {
        None => Err(FieldError::new(format!("{at}.{name}"), "is missing")),
        Some(v) => v
            .as_f64()
            .filter(|x| x.is_finite())
            .ok_or_else(|| FieldError::new(format!("{at}.{name}"), "must be a finite number")),
    }
}

fn only_fields(
    obj: &serde_json::Map<String, Value>,
    allowed: &[&str],
    at: &str,
) -> Result<(), FieldError> {
    match obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(k) => Err(FieldError::new(
            format!("{at}.{k}"),
            format!(
                "is not a field of this metric (expected {})",
                allowed.join(", ")
            ),
        )),
        None => Ok(()),
    }
}

/// Largest number of latency buckets or error categories in one value.
pub const MAX_BUCKETS: usize = 200;

/// Reads one metric value in the shape `kind` asks for; `at` is the field path for errors,
/// e.g. `windows[3].metrics.cost_per_request`.
pub fn parse_value(kind: MetricKind, value: &Value, at: &str) -> Result<MetricValue, FieldError> {
    let obj = value.as_object().ok_or_else(|| {
        FieldError::new(
            at,
            format!("must be an object for a {} metric", kind.as_str()),
        )
    })?;
    match kind {
        MetricKind::Rate => {
            only_fields(obj, &["n", "successes"], at)?;
            let n = field_u64(obj, "n", at)?;
            let successes = field_u64(obj, "successes", at)?;
            if successes > n {
                return Err(FieldError::new(
                    format!("{at}.successes"),
                    format!("is {successes}, more than n = {n}"),
                ));
            }
            Ok(MetricValue::Rate { n, successes })
        }
        MetricKind::Mean => {
            only_fields(obj, &["n", "sum", "sum_squares"], at)?;
            let n = field_u64(obj, "n", at)?;
            let sum = field_f64(obj, "sum", at)?;
            let sum_squares = field_f64(obj, "sum_squares", at)?;
            if sum_squares < 0.0 {
                return Err(FieldError::new(
                    format!("{at}.sum_squares"),
                    "must not be negative",
                ));
            }
            // Cauchy–Schwarz: sum² ≤ n·sum_squares for real values; a small tolerance absorbs
            // the rounding of the sender's floating-point sums.
            if n > 0 && sum * sum > n as f64 * sum_squares * (1.0 + 1e-9) + 1e-9 {
                return Err(FieldError::new(
                    format!("{at}.sum_squares"),
                    "is too small for this sum and n (the variance would be negative)",
                ));
            }
            if n == 0 && (sum != 0.0 || sum_squares != 0.0) {
                return Err(FieldError::new(
                    format!("{at}.n"),
                    "is 0 but the sums are not",
                ));
            }
            Ok(MetricValue::Mean {
                n,
                sum,
                sum_squares,
            })
        }
        MetricKind::Latency => {
            only_fields(obj, &["le", "counts", "cumulative"], at)?;
            let le: Vec<f64> = match obj.get("le").and_then(Value::as_array) {
                Some(a) => a
                    .iter()
                    .map(|v| v.as_f64().filter(|x| x.is_finite()))
                    .collect::<Option<_>>()
                    .ok_or_else(|| FieldError::new(format!("{at}.le"), "must be finite numbers"))?,
                None => {
                    return Err(FieldError::new(
                        format!("{at}.le"),
                        "must be an array of bucket upper bounds",
                    ));
                }
            };
            let counts: Vec<u64> = match obj.get("counts").and_then(Value::as_array) {
                Some(a) => a
                    .iter()
                    .map(Value::as_u64)
                    .collect::<Option<_>>()
                    .ok_or_else(|| {
                        FieldError::new(format!("{at}.counts"), "must be whole numbers ≥ 0")
                    })?,
                None => {
                    return Err(FieldError::new(
                        format!("{at}.counts"),
                        "must be an array of counts",
                    ));
                }
            };
            let cumulative = obj
                .get("cumulative")
                .and_then(Value::as_bool)
                .ok_or_else(|| {
                    FieldError::new(
                        format!("{at}.cumulative"),
                        "must say whether counts are cumulative (true) or per bucket (false)",
                    )
                })?;
            if le.is_empty() || le.len() > MAX_BUCKETS {
                return Err(FieldError::new(
                    format!("{at}.le"),
                    format!("must have 1 to {MAX_BUCKETS} buckets"),
                ));
            }
            if let Some(i) = le.windows(2).position(|w| w[0] >= w[1]) {
                return Err(FieldError::new(
                    format!("{at}.le[{}]", i + 1),
                    "bucket bounds must be strictly increasing",
                ));
            }
            if counts.len() != le.len() {
                return Err(FieldError::new(
                    format!("{at}.counts"),
                    format!("has {} entries for {} buckets", counts.len(), le.len()),
                ));
            }
            let counts = if cumulative {
                let mut per_bucket = Vec::with_capacity(counts.len());
                let mut previous = 0u64;
                for (i, &c) in counts.iter().enumerate() {
                    if c < previous {
                        return Err(FieldError::new(
                            format!("{at}.counts[{i}]"),
                            "cumulative counts must not decrease",
                        ));
                    }
                    per_bucket.push(c - previous);
                    previous = c;
                }
                per_bucket
            } else {
                counts
            };
            Ok(MetricValue::Latency { le, counts })
        }
        MetricKind::Categories => {
            if obj.len() > MAX_BUCKETS {
                return Err(FieldError::new(
                    at,
                    format!("must have at most {MAX_BUCKETS} categories"),
                ));
            }
            let mut counts = BTreeMap::new();
            for (k, v) in obj {
                if k.is_empty() || k.len() > 100 {
                    return Err(FieldError::new(
                        format!("{at}.{k}"),
                        "category names are 1–100 characters",
                    ));
                }
                let c = v.as_u64().ok_or_else(|| {
                    FieldError::new(format!("{at}.{k}"), "must be a whole number ≥ 0")
                })?;
                counts.insert(k.clone(), c);
            }
            Ok(MetricValue::Categories { counts })
        }
    }
}

/// A window whose values have been read against the catalogue; times are Unix seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedWindow {
    pub variant: Variant,
    pub segment: String,
    pub start: i64,
    pub end: i64,
    pub requests: u64,
    pub values: BTreeMap<String, MetricValue>,
}

/// Largest batch accepted in one request.
pub const MAX_WINDOWS: usize = 20_000;
/// How far into the future a window may end (clocks drift; a day ahead is a bug).
pub const MAX_FUTURE_SECONDS: i64 = 5 * 60;

/// Checks a whole batch and reads it, or names the first bad field as `windows[i].…`.
/// `parse_time` turns RFC 3339 into Unix seconds (the caller owns the clock and the parser);
/// `now` is the current Unix time.
pub fn parse_batch(
    batch: &MetricBatch,
    catalogue: &[MetricDef],
    now: i64,
    parse_time: impl Fn(&str) -> Option<i64>,
) -> Result<Vec<ParsedWindow>, FieldError> {
    if batch.windows.is_empty() {
        return Err(FieldError::new("windows", "must hold at least one window"));
    }
    if batch.windows.len() > MAX_WINDOWS {
        return Err(FieldError::new(
            "windows",
            format!("must hold at most {MAX_WINDOWS} windows per request"),
        ));
    }
    let mut out = Vec::with_capacity(batch.windows.len());
    for (i, w) in batch.windows.iter().enumerate() {
        let at = format!("windows[{i}]");
        let seg = w.segment.trim();
        if seg.is_empty() || seg.chars().count() > 100 {
            return Err(FieldError::new(
                format!("{at}.segment"),
                "must be 1–100 characters",
            ));
        }
        let start = parse_time(&w.window_start).ok_or_else(|| {
            FieldError::new(format!("{at}.window_start"), "must be an RFC 3339 time")
        })?;
        let end = parse_time(&w.window_end).ok_or_else(|| {
            FieldError::new(format!("{at}.window_end"), "must be an RFC 3339 time")
        })?;
        if end <= start {
            return Err(FieldError::new(
                format!("{at}.window_end"),
                "must be after window_start",
            ));
        }
        if end > now + MAX_FUTURE_SECONDS {
            return Err(FieldError::new(
                format!("{at}.window_end"),
                "is in the future",
            ));
        }
        if w.metrics.is_empty() {
            return Err(FieldError::new(
                format!("{at}.metrics"),
                "must hold at least one metric",
            ));
        }
        let mut values = BTreeMap::new();
        for (key, raw) in &w.metrics {
            let field = format!("{at}.metrics.{key}");
            let def = catalogue.iter().find(|d| &d.key == key).ok_or_else(|| {
                FieldError::new(&field, "is not in this change's metric catalogue")
            })?;
            values.insert(key.clone(), parse_value(def.kind, raw, &field)?);
        }
        out.push(ParsedWindow {
            variant: w.variant,
            segment: seg.to_string(),
            start,
            end,
            requests: w.requests,
            values,
        });
    }
    Ok(out)
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn kind_of(key: &str) -> MetricKind {
        default_catalogue()
            .into_iter()
            .find(|d| d.key == key)
            .unwrap()
            .kind
    }

    #[test]
    fn rates_need_successes_within_n() {
        let err =
            parse_value(MetricKind::Rate, &json!({"n": 10, "successes": 11}), "m").unwrap_err();
        assert_eq!(err.field, "m.successes");
        let err =
            parse_value(MetricKind::Rate, &json!({"n": -1, "successes": 0}), "m").unwrap_err();
        assert_eq!(err.field, "m.n");
        let err = parse_value(
            MetricKind::Rate,
            &json!({"n": 5, "successes": 1, "x": 1}),
            "m",
        )
        .unwrap_err();
        assert_eq!(err.field, "m.x");
        assert_eq!(
            parse_value(MetricKind::Rate, &json!({"n": 10, "successes": 4}), "m").unwrap(),
            MetricValue::Rate {
                n: 10,
                successes: 4
            }
        );
    }

    #[test]
    fn means_refuse_impossible_sums() {
        // Values 1, 2, 3: sum 6, sum of squares 14. 10 is too small for sum 6 over 3 values.
        assert!(
            parse_value(
                MetricKind::Mean,
                &json!({"n": 3, "sum": 6.0, "sum_squares": 14.0}),
                "m"
            )
            .is_ok()
        );
        let err = parse_value(
            MetricKind::Mean,
            &json!({"n": 3, "sum": 6.0, "sum_squares": 10.0}),
            "m",
        )
        .unwrap_err();
        assert_eq!(err.field, "m.sum_squares");
    }

    #[test]
    fn histograms_read_cumulative_or_per_bucket() {
        let cum = parse_value(
            MetricKind::Latency,
            &json!({"le": [100, 250, 1000], "counts": [5, 9, 10], "cumulative": true}),
            "m",
        )
        .unwrap();
        let per = parse_value(
            MetricKind::Latency,
            &json!({"le": [100, 250, 1000], "counts": [5, 4, 1], "cumulative": false}),
            "m",
        )
        .unwrap();
        assert_eq!(cum, per);
        let err = parse_value(
            MetricKind::Latency,
            &json!({"le": [100, 90], "counts": [1, 2], "cumulative": false}),
            "m",
        )
        .unwrap_err();
        assert_eq!(err.field, "m.le[1]");
        let err = parse_value(
            MetricKind::Latency,
            &json!({"le": [100, 200], "counts": [3, 2], "cumulative": true}),
            "m",
        )
        .unwrap_err();
        assert_eq!(err.field, "m.counts[1]");
        let err =
            parse_value(MetricKind::Latency, &json!({"le": [1], "counts": [1]}), "m").unwrap_err();
        assert_eq!(err.field, "m.cumulative");
    }

    #[test]
    fn merging_adds_sufficient_statistics() {
        let mut a = MetricValue::Mean {
            n: 2,
            sum: 3.0,
            sum_squares: 5.0,
        };
        a.merge(&MetricValue::Mean {
            n: 1,
            sum: 3.0,
            sum_squares: 9.0,
        })
        .unwrap();
        assert_eq!(
            a,
            MetricValue::Mean {
                n: 3,
                sum: 6.0,
                sum_squares: 14.0
            }
        );
        let mut c = MetricValue::Categories {
            counts: [("timeout".to_string(), 2)].into(),
        };
        c.merge(&MetricValue::Categories {
            counts: [("timeout".to_string(), 1), ("tool_error".to_string(), 4)].into(),
        })
        .unwrap();
        assert_eq!(
            c,
            MetricValue::Categories {
                counts: [("timeout".to_string(), 3), ("tool_error".to_string(), 4)].into()
            }
        );
        assert!(a.merge(&c).is_err());
    }

    #[test]
    fn a_batch_names_the_window_and_field_at_fault() {
        let good = json!({
            "variant": "candidate", "segment": "free / es",
            "window_start": "100", "window_end": "160", "requests": 50,
            "metrics": {"shadow_eval_pass_rate": {"n": 50, "successes": 40}}
        });
        let mut bad = good.clone();
        bad["metrics"]["shadow_eval_pass_rate"]["successes"] = json!(51);
        let batch: MetricBatch = serde_json::from_value(json!({"windows": [good, bad]})).unwrap();
        let parse = |s: &str| s.parse::<i64>().ok();
        let err = parse_batch(&batch, &default_catalogue(), 1_000, parse).unwrap_err();
        assert_eq!(
            err.field,
            "windows[1].metrics.shadow_eval_pass_rate.successes"
        );

        let mut late = batch.clone();
        late.windows[1] = late.windows[0].clone();
        late.windows[1].window_end = "99999".into();
        let err = parse_batch(&late, &default_catalogue(), 1_000, parse).unwrap_err();
        assert_eq!(err.field, "windows[1].window_end");

        let mut unknown = batch.clone();
        unknown.windows[1] = unknown.windows[0].clone();
        unknown.windows[1]
            .metrics
            .insert("vibes".into(), json!({"n": 1, "successes": 1}));
        let err = parse_batch(&unknown, &default_catalogue(), 1_000, parse).unwrap_err();
        assert_eq!(err.field, "windows[1].metrics.vibes");
        assert_eq!(kind_of("latency_ms"), MetricKind::Latency);
        assert_eq!(quantile_key("latency_ms", "p95"), "latency_p95_ms");
    }
}
