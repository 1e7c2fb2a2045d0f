//! The JSON contract of `rollgate stats`: a JSON array of requests on stdin, a JSON array of
//! answers (same order) on stdout. Each item is answered on its own; an item that cannot be
//! analysed becomes `{"error": "<message>"}` and the others are still answered.
//!
//! ```text
//! {"test":"proportions","control":{"n":28,"successes":14},"candidate":{"n":30,"successes":16},
//!  "relative":true,"alpha":0.05,"sequential":{"tuning":5000}}      (relative, alpha, sequential optional)
//!   → {"estimate":…,"ci":[lo,hi],"p_value":…,"std_error":…}
//! {"test":"means","control":{"n":…,"sum":…,"sum_squares":…},"candidate":{…},…}   → same shape
//! {"test":"mann_whitney","control":[…],"candidate":[…]}           → {"statistic":U_control,"p_value":…}
//! {"test":"srm","observed":[1000,1200],"weights":[0.5,0.5]}        → {"statistic":χ²,"p_value":…}
//! {"test":"adjust","method":"holm"|"bh","p_values":[…]}            → {"p_values":[…]}
//! ```

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny};
use serde::{Deserialize, de::DeserializeOwned};
use serde_json::{Value, json};

use super::adjust::{AdjustMethod, adjust};
use super::mann_whitney::mann_whitney;
use super::srm::srm;
use super::types::{CompareOptions, Comparison, Moments, Proportion, SequentialOptions};
use super::welch::{compare_means, compare_proportions};
use crate::error::FieldError;

/// The batch itself could not be read (the CLI prints this on stderr and exits 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContractError {
    #[error("input is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("input must be a JSON array of requests")]
    NotAnArray,
}

/// Answers a JSON array of requests with a JSON array of answers.
pub fn run_batch(input: &str) -> Result<String, ContractError> {
    let value: Value =
        serde_json::from_str(input).map_err(|e| ContractError::InvalidJson(e.to_string()))?;
    let Value::Array(requests) = value else {
        return Err(ContractError::NotAnArray);
    };
    let answers: Vec<Value> = requests.iter().map(run_request).collect();
    Ok(Value::Array(answers).to_string())
}

/// Answers one request; never fails — problems become `{"error": "…"}`.
pub fn run_request(req: &Value) -> Value {
    match answer(req) {
        Ok(v) => v,
        Err(message) => json!({ "error": message }),
    }
}

// What a request may hold, per test. Every request is read twice: `Head` picks the test, then
// that test's shape reads the whole object and refuses unknown fields, so a misspelt option
// (`"alpah"`) is an error rather than a silent default.

#[derive(Deserialize)]
struct Head {
    test: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Compare<Arm> {
    /// Already read by [`Head`]; named so that `deny_unknown_fields` lets it through.
    #[serde(rename = "test")]
    _test: IgnoredAny,
    control: Arm,
    candidate: Arm,
    relative: Option<bool>,
    alpha: Option<f64>,
    sequential: Option<Sequential>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "an object {n, successes}")]
struct ProportionIn {
    n: Count,
    successes: Count,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, expecting = "an object {n, sum, sum_squares}")]
struct MomentsIn {
    n: Count,
    sum: f64,
    sum_squares: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Samples {
    #[serde(rename = "test")]
    _test: IgnoredAny,
    control: Vec<f64>,
    candidate: Vec<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SrmIn {
    #[serde(rename = "test")]
    _test: IgnoredAny,
    observed: Vec<Count>,
    weights: Vec<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdjustIn {
    #[serde(rename = "test")]
    _test: IgnoredAny,
    method: AdjustMethod,
    p_values: Vec<f64>,
}

/// A non-negative integer count; integral floats such as `28.0` are accepted, since other
/// tools write counts that way.
struct Count(u64);

impl<'de> Deserialize<'de> for Count {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl de::Visitor<'_> for Visitor {
            type Value = Count;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a non-negative integer")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Count, E> {
                Ok(Count(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Count, E> {
                match u64::try_from(v) {
                    Ok(v) => Ok(Count(v)),
                    Err(_) => Err(E::custom(format!("must not be negative, got {v}"))),
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Count, E> {
                if v < 0.0 {
                    Err(E::custom(format!("must not be negative, got {v}")))
                } else if v.fract() == 0.0 && v <= u64::MAX as f64 {
                    Ok(Count(v as u64))
                } else {
                    Err(E::invalid_value(de::Unexpected::Float(v), &self))
                }
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// `"sequential"`: `{"tuning": 5000}` (`{}` for the default tuning), `true` for the default,
/// `false` (or null, or absent) for fixed-horizon intervals.
struct Sequential(Option<SequentialOptions>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Tuning {
    tuning: Option<f64>,
}

impl<'de> Deserialize<'de> for Sequential {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> de::Visitor<'de> for Visitor {
            type Value = Sequential;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object like {\"tuning\": 5000}, or true or false")
            }
            fn visit_bool<E: de::Error>(self, on: bool) -> Result<Sequential, E> {
                Ok(Sequential(on.then(SequentialOptions::default)))
            }
            fn visit_map<M: de::MapAccess<'de>>(self, map: M) -> Result<Sequential, M::Error> {
                let Tuning { tuning } =
                    Tuning::deserialize(de::value::MapAccessDeserializer::new(map))?;
                let default = SequentialOptions::default();
                Ok(Sequential(Some(SequentialOptions {
                    tuning: tuning.unwrap_or(default.tuning),
                })))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Reads `T` from the request; an error names the field (`control.n: …`).
fn read<T: DeserializeOwned>(req: &Value) -> Result<T, String> {
    FieldError::read(req, "").map_err(|e| match e.field.as_str() {
        "" => e.message,
        _ => e.to_string(),
    })
}

fn answer(req: &Value) -> Result<Value, String> {
    if !req.is_object() {
        return Err("request must be a JSON object".to_owned());
    }
    let Head { test } = read(req)?;
    match test.as_str() {
        "proportions" => {
            let c: Compare<ProportionIn> = read(req)?;
            let opts = compare_options(c.relative, c.alpha, c.sequential)?;
            let control = proportion(c.control, "control")?;
            let candidate = proportion(c.candidate, "candidate")?;
            let r = compare_proportions(&control, &candidate, &opts).map_err(|e| e.to_string())?;
            Ok(comparison_json(&r))
        }
        "means" => {
            let c: Compare<MomentsIn> = read(req)?;
            let opts = compare_options(c.relative, c.alpha, c.sequential)?;
            let control = moments(c.control, "control")?;
            let candidate = moments(c.candidate, "candidate")?;
            let r = compare_means(&control, &candidate, &opts).map_err(|e| e.to_string())?;
            Ok(comparison_json(&r))
        }
        "mann_whitney" => {
            let s: Samples = read(req)?;
            let r = mann_whitney(&s.control, &s.candidate).map_err(|e| e.to_string())?;
            Ok(json!({ "statistic": r.statistic, "p_value": r.p_value }))
        }
        "srm" => {
            let s: SrmIn = read(req)?;
            let observed: Vec<u64> = s.observed.into_iter().map(|Count(c)| c).collect();
            let r = srm(&observed, &s.weights).map_err(|e| e.to_string())?;
            Ok(json!({ "statistic": r.statistic, "p_value": r.p_value }))
        }
        "adjust" => {
            let a: AdjustIn = read(req)?;
            let adjusted = adjust(&a.p_values, a.method).map_err(|e| e.to_string())?;
            Ok(json!({ "p_values": adjusted }))
        }
        other => Err(format!(
            "unknown test {other:?} (expected proportions, means, mann_whitney, srm or adjust)"
        )),
    }
}

fn comparison_json(r: &Comparison) -> Value {
    json!({
        "estimate": r.estimate,
        "ci": [r.ci[0], r.ci[1]],
        "p_value": r.p_value,
        "std_error": r.std_error,
    })
}

fn compare_options(
    relative: Option<bool>,
    alpha: Option<f64>,
    sequential: Option<Sequential>,
) -> Result<CompareOptions, String> {
    let alpha = alpha.unwrap_or(0.05);
    if alpha.is_nan() || alpha <= 0.0 || alpha >= 1.0 {
        return Err(format!("alpha must be in (0, 1), got {alpha}"));
    }
    Ok(CompareOptions {
        relative: relative.unwrap_or(false),
        alpha,
        sequential: sequential.and_then(|Sequential(s)| s),
    })
}

fn proportion(arm: ProportionIn, name: &str) -> Result<Proportion, String> {
    let ProportionIn {
        n: Count(n),
        successes: Count(successes),
    } = arm;
    if n == 0 {
        return Err(format!("{name}.n must be positive"));
    }
    if successes > n {
        return Err(format!("{name}: successes ({successes}) exceed n ({n})"));
    }
    Ok(Proportion { n, successes })
}

fn moments(arm: MomentsIn, name: &str) -> Result<Moments, String> {
    let MomentsIn {
        n: Count(n),
        sum,
        sum_squares,
    } = arm;
    if n == 0 {
        return Err(format!("{name}.n must be positive"));
    }
    Ok(Moments {
        n,
        sum,
        sum_squares,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_items_do_not_spoil_the_batch() {
        let out = run_batch(
            r#"[{"test":"nope"},{"test":"srm","observed":[10,10],"weights":[1,1]},
                {"test":"proportions","control":{"n":-1,"successes":0},"candidate":{"n":5,"successes":1}}]"#,
        )
        .unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert!(v[0]["error"].as_str().unwrap().contains("unknown test"));
        assert_eq!(v[1]["p_value"], 1.0);
        assert!(v[2]["error"].as_str().unwrap().contains("negative"));
        assert_eq!(run_batch("{}"), Err(ContractError::NotAnArray));
    }

    #[test]
    fn requests_are_read_by_shape() {
        let one = |s: &str| run_request(&serde_json::from_str(s).unwrap());
        let error = |s: &str| one(s)["error"].as_str().unwrap_or_default().to_owned();
        let p = r#""control":{"n":28.0,"successes":14},"candidate":{"n":30,"successes":16}"#;
        let plain = one(&format!(r#"{{"test":"proportions",{p}}}"#));
        assert!(plain["p_value"].is_number(), "{plain}");
        for sequential in [r#"{"tuning":5000}"#, "{}", "true"] {
            let got = one(&format!(
                r#"{{"test":"proportions",{p},"sequential":{sequential}}}"#
            ));
            assert!(got["ci"][0].as_f64() < plain["ci"][0].as_f64(), "{got}");
        }
        for off in ["false", "null"] {
            let got = one(&format!(
                r#"{{"test":"proportions",{p},"sequential":{off}}}"#
            ));
            assert_eq!(got, plain);
        }
        assert_eq!(
            error(&format!(r#"{{"test":"proportions",{p},"alpah":0.1}}"#)),
            "alpah: is not a field here (expected one of `test`, `control`, `candidate`, \
             `relative`, `alpha`, `sequential`)"
        );
        assert_eq!(
            error(
                r#"{"test":"means","control":{"n":3,"sum":1},"candidate":{"n":3,"sum":1,"sum_squares":1}}"#
            ),
            "control.sum_squares: is missing"
        );
        assert!(
            error(r#"{"test":"srm","observed":[1,-2],"weights":[1,1]}"#)
                .starts_with("observed[1]: must not be negative")
        );
        assert!(
            error(&format!(
                r#"{{"test":"proportions",{p},"sequential":{{"tuning":"x"}}}}"#
            ))
            .starts_with("sequential.tuning: ")
        );
        assert_eq!(error("{}"), "test: is missing");
        assert_eq!(error("[]"), "request must be a JSON object");
        assert!(
            one(r#"{"test":"adjust","method":"fdr_bh","p_values":[0.01,0.2]}"#)["p_values"]
                .is_array()
        );
    }
}
