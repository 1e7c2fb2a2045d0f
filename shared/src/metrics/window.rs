//! The windows a production app sends (`POST /api/v1/changes/{id}/metrics`) and how a batch of
//! them is checked and read against the change's catalogue.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{MetricDef, MetricValue, parse_value};
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
/// Earliest window start, 2000-01-01T00:00:00Z: Rollgate has no data from before; an earlier
/// time is a unit mix-up (milliseconds read as seconds, a zero timestamp).
pub const EARLIEST_START: i64 = 946_684_800;
/// Longest window: apps send minutes to hours; a longer one would hide a canary's trend
/// inside a single point.
pub const MAX_WINDOW_SECONDS: i64 = 24 * 60 * 60;

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
        if start < EARLIEST_START {
            return Err(FieldError::new(
                format!("{at}.window_start"),
                "must be on or after 2000-01-01T00:00:00Z",
            ));
        }
        if end <= start {
            return Err(FieldError::new(
                format!("{at}.window_end"),
                "must be after window_start",
            ));
        }
        if end - start > MAX_WINDOW_SECONDS {
            return Err(FieldError::new(
                format!("{at}.window_end"),
                "must be at most one day after window_start",
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

/// Adds each window's mean metrics to `totals` (per metric, the bound of what the stored
/// windows add up to: Σ |sum| + |sum_squares|), or names the first `windows[i].metrics.<key>`
/// that would make a total infinite. While the bound is finite every partial sum the summary
/// computes is too, whatever the order; so a pair such as `sum_squares: 1e308` twice, each
/// finite alone, is refused before it is stored.
pub fn add_magnitudes(
    windows: &[ParsedWindow],
    totals: &mut BTreeMap<String, f64>,
) -> Result<(), FieldError> {
    for (i, w) in windows.iter().enumerate() {
        for (key, value) in &w.values {
            let MetricValue::Mean {
                sum, sum_squares, ..
            } = value
            else {
                continue;
            };
            let total = totals.entry(key.clone()).or_insert(0.0);
            let next = *total + sum.abs() + sum_squares.abs();
            if !next.is_finite() {
                return Err(FieldError::new(
                    format!("windows[{i}].metrics.{key}"),
                    "would make this metric's total over the change's windows too large to \
                     compute; check the units",
                ));
            }
            *total = next;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{MetricKind, default_catalogue, quantile_key};
    use serde_json::json;

    const NOW: i64 = EARLIEST_START + 1_000;

    fn kind_of(key: &str) -> MetricKind {
        default_catalogue()
            .into_iter()
            .find(|d| d.key == key)
            .unwrap()
            .kind
    }

    #[test]
    fn totals_that_would_overflow_name_the_window_and_metric() {
        let mean = |sum_squares: f64| ParsedWindow {
            variant: Variant::Candidate,
            segment: "all".into(),
            start: EARLIEST_START,
            end: EARLIEST_START + 60,
            requests: 1,
            values: BTreeMap::from([(
                "cost_per_request".to_owned(),
                MetricValue::Mean {
                    n: 1,
                    sum: 1.0,
                    sum_squares,
                },
            )]),
        };
        let mut totals = BTreeMap::new();
        add_magnitudes(&[mean(1.0), mean(2.0)], &mut totals).unwrap();
        assert_eq!(totals["cost_per_request"], 5.0);
        let err = add_magnitudes(&[mean(1e308), mean(1e308)], &mut totals).unwrap_err();
        assert_eq!(err.field, "windows[1].metrics.cost_per_request");
        let mut stored = BTreeMap::from([("cost_per_request".to_owned(), 1e308)]);
        let err = add_magnitudes(&[mean(1e308)], &mut stored).unwrap_err();
        assert_eq!(err.field, "windows[0].metrics.cost_per_request");
    }

    #[test]
    fn a_batch_names_the_window_and_field_at_fault() {
        let good = json!({
            "variant": "candidate", "segment": "free / es",
            "window_start": "946684900", "window_end": "946684960", "requests": 50,
            "metrics": {"shadow_eval_pass_rate": {"n": 50, "successes": 40}}
        });
        let mut bad = good.clone();
        bad["metrics"]["shadow_eval_pass_rate"]["successes"] = json!(51);
        let batch: MetricBatch = serde_json::from_value(json!({"windows": [good, bad]})).unwrap();
        let parse = |s: &str| s.parse::<i64>().ok();
        let err = parse_batch(&batch, &default_catalogue(), NOW, parse).unwrap_err();
        assert_eq!(
            err.field,
            "windows[1].metrics.shadow_eval_pass_rate.successes"
        );

        let mut late = batch.clone();
        late.windows[1] = late.windows[0].clone();
        late.windows[1].window_end = "946784900".into();
        let err = parse_batch(&late, &default_catalogue(), NOW, parse).unwrap_err();
        assert_eq!(err.field, "windows[1].window_end");

        for (start, end, field) in [
            ("946684799", "946684860", "windows[1].window_start"),
            ("0", "60", "windows[1].window_start"),
            ("946684900", "946771301", "windows[1].window_end"),
        ] {
            let mut bad = batch.clone();
            bad.windows[1] = bad.windows[0].clone();
            bad.windows[1].window_start = start.into();
            bad.windows[1].window_end = end.into();
            let err = parse_batch(&bad, &default_catalogue(), 2 * NOW, parse).unwrap_err();
            assert_eq!(err.field, field, "{start}–{end}");
        }
        let mut day = batch.clone();
        day.windows[1] = day.windows[0].clone();
        day.windows[1].window_end = "946771300".into();
        assert!(parse_batch(&day, &default_catalogue(), 2 * NOW, parse).is_ok());

        let mut unknown = batch.clone();
        unknown.windows[1] = unknown.windows[0].clone();
        unknown.windows[1]
            .metrics
            .insert("vibes".into(), json!({"n": 1, "successes": 1}));
        let err = parse_batch(&unknown, &default_catalogue(), NOW, parse).unwrap_err();
        assert_eq!(err.field, "windows[1].metrics.vibes");
        assert_eq!(kind_of("latency_ms"), MetricKind::Latency);
        assert_eq!(quantile_key("latency_ms", "p95"), "latency_p95_ms");
    }
}
