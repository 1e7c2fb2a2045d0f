//! Small types every rule module shares. This module imports nothing from the crate, so any
//! module may use it without making an import cycle.

use serde::de::DeserializeOwned;
use serde_json::Value;
use serde_path_to_error::Segment;

/// A rejected field, named by its path in the request (`plan.ramp[2].percent`,
/// `windows[3].metrics.cost_per_request.sum_squares`) so the API and the form can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Reads `T` from `value` by serde; on failure the error names the field at fault below
    /// `at`, in the crate's path style (`windows[3].metrics.retry_rate.successes`).
    pub fn read<T: DeserializeOwned>(value: &Value, at: &str) -> Result<T, FieldError> {
        serde_path_to_error::deserialize(value).map_err(|e| Self::from_serde(at, e))
    }

    fn from_serde(at: &str, e: serde_path_to_error::Error<serde_json::Error>) -> FieldError {
        let mut field = at.to_owned();
        let mut last_key = None;
        for segment in e.path().iter() {
            last_key = None;
            match segment {
                Segment::Seq { index } => field.push_str(&format!("[{index}]")),
                Segment::Map { key } | Segment::Enum { variant: key } => {
                    push_key(&mut field, key);
                    last_key = Some(key.as_str());
                }
                Segment::Unknown => push_key(&mut field, "?"),
            }
        }
        let message = e.inner().to_string();
        // serde reports a missing field at the object that lacks it, and an unknown one at the
        // object or at the key itself; the field to fix is the named one either way.
        let named = |prefix: &str| {
            message
                .strip_prefix(prefix)
                .and_then(|rest| rest.split_once('`'))
        };
        if let Some((name, _)) = named("missing field `") {
            push_key(&mut field, name);
            return FieldError::new(field, "is missing");
        }
        if let Some((name, expected)) = named("unknown field `") {
            if last_key != Some(name) {
                push_key(&mut field, name);
            }
            let expected = expected.trim_start_matches(", ");
            return FieldError::new(field, format!("is not a field here ({expected})"));
        }
        FieldError::new(field, message)
    }
}

fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(key);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Arm {
        n: u64,
        values: Vec<f64>,
    }

    #[test]
    fn serde_errors_name_the_field_below_the_given_path() {
        let at = |v: Value| FieldError::read::<Arm>(&v, "control").unwrap_err();
        let e = at(json!({"n": 1}));
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("control.values", "is missing")
        );
        let e = at(json!({"n": 1, "values": [], "x": 0}));
        assert_eq!(e.field, "control.x");
        assert!(e.message.contains("`n` or `values`"), "{}", e.message);
        assert_eq!(at(json!({"n": -1, "values": []})).field, "control.n");
        assert_eq!(
            at(json!({"n": 1, "values": [1, "a"]})).field,
            "control.values[1]"
        );
        let e = FieldError::read::<Arm>(&json!({"values": []}), "").unwrap_err();
        assert_eq!(e.field, "n");
    }
}
