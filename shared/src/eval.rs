//! Offline eval results: what a pipeline uploads after running the eval bench on a change's
//! candidate, and the rule the eval gate (eval → canary) checks it against.
//!
//! `POST /api/v1/changes/{id}/eval-results` takes an [`EvalUpload`] while the change is in
//! `eval`; the answer, and `GET` on the same path (newest first), are [`EvalResult`]s. The
//! canary may start only when the newest upload [`meets`] the plan's [`EvalGate`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::plan::EvalGate;

/// Longest failure category name.
pub const MAX_CATEGORY: usize = 64;
/// Most failure categories in one upload.
pub const MAX_CATEGORIES: usize = 200;
/// Longest link to the eval run.
pub const MAX_URL: usize = 2_000;

/// Body of `POST /api/v1/changes/{id}/eval-results` (and the file `rollgate eval upload` reads).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EvalUpload {
    /// Share of the bench's cases the candidate passed, 0–1.
    pub pass_rate: f64,
    /// Cases in the run, at least 1.
    pub cases: u64,
    /// Cases the candidate failed, by failure category (e.g. `{"safety": 0, "format": 12}`).
    #[serde(default)]
    pub failures: BTreeMap<String, u64>,
    /// What the run cost, in US dollars.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_usd: Option<f64>,
    /// Median latency per case in the run, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms_p50: Option<f64>,
    /// 95th percentile latency per case in the run, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms_p95: Option<f64>,
    /// Link to the run (CI job, eval dashboard); http or https.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_url: Option<String>,
}

/// A stored upload, as the API answers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvalResult {
    pub id: String,
    pub change_id: String,
    /// The plan revision the change had when the result came in.
    pub plan_revision: i64,
    /// RFC 3339, UTC.
    pub uploaded_at: String,
    /// Who uploaded it: a person's name, or `token:<name>` for a service token.
    pub uploaded_by: String,
    #[serde(flatten)]
    pub upload: EvalUpload,
    /// Whether it meets the plan's eval gate.
    pub meets_gate: bool,
    /// Why it does not, one sentence each; empty when it does.
    pub problems: Vec<String>,
}

impl EvalUpload {
    /// The upload's own rules (ranges, lengths), each problem naming its field.
    pub fn validate(&self) -> Result<(), FieldError> {
        if !(self.pass_rate.is_finite() && (0.0..=1.0).contains(&self.pass_rate)) {
            return Err(FieldError::new("pass_rate", "must be between 0 and 1"));
        }
        if self.cases == 0 {
            return Err(FieldError::new("cases", "must be at least 1"));
        }
        if self.failures.len() > MAX_CATEGORIES {
            return Err(FieldError::new(
                "failures",
                format!("at most {MAX_CATEGORIES} categories"),
            ));
        }
        for (name, count) in &self.failures {
            let field = format!("failures.{name}");
            if name.trim().is_empty() || name.chars().count() > MAX_CATEGORY {
                return Err(FieldError::new(
                    field,
                    format!("a category name is 1–{MAX_CATEGORY} characters"),
                ));
            }
            if *count > self.cases {
                return Err(FieldError::new(field, "more failures than cases"));
            }
        }
        for (field, value) in [
            ("cost_usd", self.cost_usd),
            ("latency_ms_p50", self.latency_ms_p50),
            ("latency_ms_p95", self.latency_ms_p95),
        ] {
            if let Some(v) = value
                && !(v.is_finite() && v >= 0.0)
            {
                return Err(FieldError::new(field, "must be a number, 0 or more"));
            }
        }
        if let Some(url) = &self.run_url
            && (url.chars().count() > MAX_URL
                || !(url.starts_with("https://") || url.starts_with("http://")))
        {
            return Err(FieldError::new(
                "run_url",
                format!("must be an http(s) link of at most {MAX_URL} characters"),
            ));
        }
        Ok(())
    }
}

/// Why `upload` does not meet `gate`, one sentence each; empty when it meets it.
pub fn meets(upload: &EvalUpload, gate: &EvalGate) -> Vec<String> {
    let mut problems = Vec::new();
    if upload.pass_rate < gate.min_pass_rate {
        problems.push(format!(
            "pass rate {:.1} % is below the plan's {:.1} %",
            upload.pass_rate * 100.0,
            gate.min_pass_rate * 100.0
        ));
    }
    for category in &gate.critical_categories {
        let n = upload.failures.get(category).copied().unwrap_or(0);
        if n > 0 {
            problems.push(format!(
                "{n} failure{} in the critical category {category}",
                if n == 1 { "" } else { "s" }
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upload(pass_rate: f64, failures: &[(&str, u64)]) -> EvalUpload {
        EvalUpload {
            pass_rate,
            cases: 100,
            failures: failures.iter().map(|(k, v)| ((*k).into(), *v)).collect(),
            cost_usd: None,
            latency_ms_p50: None,
            latency_ms_p95: None,
            run_url: None,
        }
    }

    fn gate() -> EvalGate {
        EvalGate {
            min_pass_rate: 0.9,
            critical_categories: vec!["safety".into()],
        }
    }

    #[test]
    fn a_passing_run_meets_the_gate() {
        assert!(meets(&upload(0.95, &[("format", 3), ("safety", 0)]), &gate()).is_empty());
    }

    #[test]
    fn a_low_pass_rate_or_a_critical_failure_does_not() {
        let low = meets(&upload(0.85, &[]), &gate());
        assert_eq!(low, ["pass rate 85.0 % is below the plan's 90.0 %"]);
        let critical = meets(&upload(0.99, &[("safety", 1)]), &gate());
        assert_eq!(critical, ["1 failure in the critical category safety"]);
    }

    #[test]
    fn validation_names_the_field() {
        assert_eq!(upload(1.5, &[]).validate().unwrap_err().field, "pass_rate");
        assert_eq!(
            upload(0.5, &[("safety", 101)])
                .validate()
                .unwrap_err()
                .field,
            "failures.safety"
        );
        let mut u = upload(0.5, &[]);
        u.run_url = Some("ftp://x".into());
        assert_eq!(u.validate().unwrap_err().field, "run_url");
        u.run_url = Some("https://ci.example.com/run/1".into());
        assert!(u.validate().is_ok());
    }
}
