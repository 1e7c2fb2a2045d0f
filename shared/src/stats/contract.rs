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
//!
//! Requests are read by walking `serde_json::Value` by hand, where the rest of the crate reads
//! JSON into typed structs by serde: the console compiles this contract into its Wasm (the
//! statistics calculator, `window.rollgate.run_stats`), and the typed reading, with
//! `serde_path_to_error` to keep naming the field (`control.sum_squares`), made a Wasm module
//! holding only `run_batch` grow from 62.5 to 74.2 KB gzipped (147 to 185 KB raw; opt-level
//! "z", fat LTO). `metrics::parse_value`, which only the server runs, is typed.

use serde_json::{Map, Value, json};

use super::adjust::{AdjustMethod, adjust};
use super::mann_whitney::mann_whitney;
use super::srm::srm;
use super::types::{CompareOptions, Comparison, Moments, Proportion, SequentialOptions};
use super::welch::{compare_means, compare_proportions};

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

fn answer(req: &Value) -> Result<Value, String> {
    let obj = req
        .as_object()
        .ok_or_else(|| "request must be a JSON object".to_owned())?;
    let test = obj
        .get("test")
        .ok_or_else(|| "missing field \"test\"".to_owned())?
        .as_str()
        .ok_or_else(|| "\"test\" must be a string".to_owned())?;
    match test {
        "proportions" => {
            let opts = compare_options(obj)?;
            let control = proportion(obj, "control")?;
            let candidate = proportion(obj, "candidate")?;
            let r = compare_proportions(&control, &candidate, &opts).map_err(|e| e.to_string())?;
            Ok(comparison_json(&r))
        }
        "means" => {
            let opts = compare_options(obj)?;
            let control = moments(obj, "control")?;
            let candidate = moments(obj, "candidate")?;
            let r = compare_means(&control, &candidate, &opts).map_err(|e| e.to_string())?;
            Ok(comparison_json(&r))
        }
        "mann_whitney" => {
            let control = numbers(obj, "control")?;
            let candidate = numbers(obj, "candidate")?;
            let r = mann_whitney(&control, &candidate).map_err(|e| e.to_string())?;
            Ok(json!({ "statistic": r.statistic, "p_value": r.p_value }))
        }
        "srm" => {
            let observed = field(obj, "observed")?
                .as_array()
                .ok_or_else(|| "\"observed\" must be an array of counts".to_owned())?
                .iter()
                .map(|v| count(v, "observed"))
                .collect::<Result<Vec<u64>, String>>()?;
            let weights = numbers(obj, "weights")?;
            let r = srm(&observed, &weights).map_err(|e| e.to_string())?;
            Ok(json!({ "statistic": r.statistic, "p_value": r.p_value }))
        }
        "adjust" => {
            let method = match field(obj, "method")?.as_str() {
                Some("holm") => AdjustMethod::Holm,
                Some("bh") | Some("fdr_bh") => AdjustMethod::Bh,
                _ => return Err("\"method\" must be \"holm\" or \"bh\"".to_owned()),
            };
            let p = numbers(obj, "p_values")?;
            let adjusted = adjust(&p, method).map_err(|e| e.to_string())?;
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

fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a Value, String> {
    obj.get(name)
        .filter(|v| !v.is_null())
        .ok_or_else(|| format!("missing field {name:?}"))
}

fn compare_options(obj: &Map<String, Value>) -> Result<CompareOptions, String> {
    let relative = match obj.get("relative") {
        None | Some(Value::Null) => false,
        Some(v) => v
            .as_bool()
            .ok_or_else(|| "\"relative\" must be true or false".to_owned())?,
    };
    let alpha = match obj.get("alpha") {
        None | Some(Value::Null) => 0.05,
        Some(v) => v
            .as_f64()
            .ok_or_else(|| "\"alpha\" must be a number".to_owned())?,
    };
    if alpha.is_nan() || alpha <= 0.0 || alpha >= 1.0 {
        return Err(format!("alpha must be in (0, 1), got {alpha}"));
    }
    let sequential = match obj.get("sequential") {
        None | Some(Value::Null) => None,
        Some(Value::Object(s)) => Some(SequentialOptions {
            tuning: match s.get("tuning") {
                None | Some(Value::Null) => SequentialOptions::default().tuning,
                Some(v) => v
                    .as_f64()
                    .ok_or_else(|| "\"sequential.tuning\" must be a number".to_owned())?,
            },
        }),
        Some(Value::Bool(true)) => Some(SequentialOptions::default()),
        Some(Value::Bool(false)) => None,
        Some(_) => {
            return Err("\"sequential\" must be an object like {\"tuning\": 5000}".to_owned());
        }
    };
    Ok(CompareOptions {
        relative,
        alpha,
        sequential,
    })
}

fn arm<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a Map<String, Value>, String> {
    field(obj, name)?
        .as_object()
        .ok_or_else(|| format!("{name:?} must be an object"))
}

/// A non-negative integer count (integral floats such as `28.0` are accepted).
fn count(v: &Value, what: &str) -> Result<u64, String> {
    if let Some(n) = v.as_u64() {
        return Ok(n);
    }
    match v.as_f64() {
        Some(f) if f < 0.0 => Err(format!("{what} must not be negative, got {f}")),
        Some(f) if f.fract() == 0.0 && f <= u64::MAX as f64 => Ok(f as u64),
        _ => Err(format!("{what} must be a non-negative integer, got {v}")),
    }
}

fn arm_count(obj: &Map<String, Value>, name: &str, key: &str) -> Result<u64, String> {
    let a = arm(obj, name)?;
    let v = a
        .get(key)
        .filter(|v| !v.is_null())
        .ok_or_else(|| format!("missing field \"{name}.{key}\""))?;
    count(v, &format!("{name}.{key}"))
}

fn arm_number(obj: &Map<String, Value>, name: &str, key: &str) -> Result<f64, String> {
    let a = arm(obj, name)?;
    a.get(key)
        .filter(|v| !v.is_null())
        .ok_or_else(|| format!("missing field \"{name}.{key}\""))?
        .as_f64()
        .ok_or_else(|| format!("\"{name}.{key}\" must be a number"))
}

fn proportion(obj: &Map<String, Value>, name: &str) -> Result<Proportion, String> {
    let n = arm_count(obj, name, "n")?;
    let successes = arm_count(obj, name, "successes")?;
    if n == 0 {
        return Err(format!("{name}.n must be positive"));
    }
    if successes > n {
        return Err(format!("{name}: successes ({successes}) exceed n ({n})"));
    }
    Ok(Proportion { n, successes })
}

fn moments(obj: &Map<String, Value>, name: &str) -> Result<Moments, String> {
    let n = arm_count(obj, name, "n")?;
    if n == 0 {
        return Err(format!("{name}.n must be positive"));
    }
    Ok(Moments {
        n,
        sum: arm_number(obj, name, "sum")?,
        sum_squares: arm_number(obj, name, "sum_squares")?,
    })
}

fn numbers(obj: &Map<String, Value>, name: &str) -> Result<Vec<f64>, String> {
    field(obj, name)?
        .as_array()
        .ok_or_else(|| format!("{name:?} must be an array of numbers"))?
        .iter()
        .map(|v| {
            v.as_f64()
                .ok_or_else(|| format!("{name:?} must contain only numbers, got {v}"))
        })
        .collect()
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
    fn options_and_counts_are_read_as_documented() {
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
            error(
                r#"{"test":"means","control":{"n":3,"sum":1},"candidate":{"n":3,"sum":1,"sum_squares":1}}"#
            ),
            "missing field \"control.sum_squares\""
        );
        assert_eq!(
            error(r#"{"test":"srm","observed":[1,-2],"weights":[1,1]}"#),
            "observed must not be negative, got -2"
        );
        assert_eq!(error("{}"), "missing field \"test\"");
        assert_eq!(error("[]"), "request must be a JSON object");
        let bh = one(r#"{"test":"adjust","method":"fdr_bh","p_values":[0.01,0.2]}"#);
        assert!(bh["p_values"].is_array(), "{bh}");
    }
}
