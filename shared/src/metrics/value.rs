//! One metric's value in one window, read against its kind: a rate is `{n, successes}`, a mean
//! `{n, sum, sum_squares}`, latency a histogram `{le, counts, cumulative}` and error categories
//! `{category: count}`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, de};
use serde_json::Value;

use super::MetricKind;
use crate::error::FieldError;

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

/// Largest number of latency buckets or error categories in one value.
pub const MAX_BUCKETS: usize = 200;

// The shapes a window's value takes, one per kind. serde checks presence, types and unknown
// fields and `serde_path_to_error` names the field at fault; the rules types cannot say
// (successes ≤ n, increasing bounds, …) follow in `parse_value`. Only the server reads
// windows, so this costs the console's Wasm nothing (a module holding only `parse_value` grew
// from 25 to 42 KB gzipped when these replaced the hand walk of `serde_json::Value`).

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RateIn {
    n: Count,
    successes: Count,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MeanIn {
    n: Count,
    sum: Number,
    sum_squares: Number,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LatencyIn {
    le: Vec<Number>,
    counts: Vec<Count>,
    /// Optional to serde so that leaving it out gets the sentence below, not "is missing":
    /// it is the field senders forget, and the wrong guess would skew every quantile.
    #[serde(default)]
    cumulative: Option<bool>,
}

/// A whole number ≥ 0; serde's error then says so rather than "expected u64". A missing field
/// still reaches serde's own "missing field" error (through `deserialize_any`).
struct Count(u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a whole number ≥ 0")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Count, E> {
                Ok(Count(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Count, E> {
                u64::try_from(v)
                    .map(Count)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
        }
        d.deserialize_u64(Visitor)
    }
}

/// A JSON number, integer or not. serde_json's `Value` cannot hold NaN or ±∞, so every one
/// read is finite.
struct Number(f64);

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Number;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a finite number")
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Number, E> {
                Ok(Number(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Number, E> {
                Ok(Number(v as f64))
            }
        }
        d.deserialize_f64(Visitor)
    }
}

/// Reads one metric value in the shape `kind` asks for; `at` is the field path for errors,
/// e.g. `windows[3].metrics.cost_per_request`.
pub fn parse_value(kind: MetricKind, value: &Value, at: &str) -> Result<MetricValue, FieldError> {
    if !value.is_object() {
        return Err(FieldError::new(
            at,
            format!("must be an object for a {} metric", kind.as_str()),
        ));
    }
    let field = |name: &str| format!("{at}.{name}");
    match kind {
        MetricKind::Rate => {
            let RateIn {
                n: Count(n),
                successes: Count(successes),
            } = FieldError::read(value, at)?;
            if successes > n {
                return Err(FieldError::new(
                    field("successes"),
                    format!("is {successes}, more than n = {n}"),
                ));
            }
            Ok(MetricValue::Rate { n, successes })
        }
        MetricKind::Mean => {
            let MeanIn {
                n: Count(n),
                sum: Number(sum),
                sum_squares: Number(sum_squares),
            } = FieldError::read(value, at)?;
            if sum_squares < 0.0 {
                return Err(FieldError::new(
                    field("sum_squares"),
                    "must not be negative",
                ));
            }
            // Cauchy–Schwarz: sum² ≤ n·sum_squares for real values; a small tolerance absorbs
            // the rounding of the sender's floating-point sums.
            if n > 0 && sum * sum > n as f64 * sum_squares * (1.0 + 1e-9) + 1e-9 {
                return Err(FieldError::new(
                    field("sum_squares"),
                    "is too small for this sum and n (the variance would be negative)",
                ));
            }
            if n == 0 && (sum != 0.0 || sum_squares != 0.0) {
                return Err(FieldError::new(field("n"), "is 0 but the sums are not"));
            }
            Ok(MetricValue::Mean {
                n,
                sum,
                sum_squares,
            })
        }
        MetricKind::Latency => {
            let LatencyIn {
                le,
                counts,
                cumulative,
            } = FieldError::read(value, at)?;
            let le: Vec<f64> = le.into_iter().map(|Number(x)| x).collect();
            let counts: Vec<u64> = counts.into_iter().map(|Count(c)| c).collect();
            let cumulative = cumulative.ok_or_else(|| {
                FieldError::new(
                    field("cumulative"),
                    "must say whether counts are cumulative (true) or per bucket (false)",
                )
            })?;
            if le.is_empty() || le.len() > MAX_BUCKETS {
                return Err(FieldError::new(
                    field("le"),
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
                    field("counts"),
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
            let read: BTreeMap<String, Count> = FieldError::read(value, at)?;
            if read.len() > MAX_BUCKETS {
                return Err(FieldError::new(
                    at,
                    format!("must have at most {MAX_BUCKETS} categories"),
                ));
            }
            let mut counts = BTreeMap::new();
            for (k, Count(c)) in read {
                if k.is_empty() || k.len() > 100 {
                    return Err(FieldError::new(
                        field(&k),
                        "category names are 1–100 characters",
                    ));
                }
                counts.insert(k, c);
            }
            Ok(MetricValue::Categories { counts })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
    fn errors_say_what_the_field_should_be() {
        let err = |kind, v| parse_value(kind, &v, "m").unwrap_err();
        let e = err(MetricKind::Rate, json!({"n": -1, "successes": 0}));
        assert_eq!(
            e.message,
            "invalid value: integer `-1`, expected a whole number ≥ 0"
        );
        let e = err(MetricKind::Rate, json!({"n": 1}));
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("m.successes", "is missing")
        );
        let e = err(
            MetricKind::Mean,
            json!({"n": 3, "sum": 1.0, "sum_square": 1.0}),
        );
        assert_eq!(e.field, "m.sum_square");
        assert!(e.message.contains("`sum_squares`"), "{}", e.message);
        let e = err(
            MetricKind::Latency,
            json!({"le": [1, "x"], "counts": [1, 1], "cumulative": false}),
        );
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            (
                "m.le[1]",
                "invalid type: string \"x\", expected a finite number"
            )
        );
        let e = err(MetricKind::Categories, json!({"timeout": 1.5}));
        assert_eq!(e.field, "m.timeout");
        let e = err(MetricKind::Mean, json!([1, 2]));
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("m", "must be an object for a mean metric")
        );
    }
}
