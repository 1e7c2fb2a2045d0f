//! New or surging error categories: which error kinds (timeouts, refusals, schema failures…)
//! does the candidate produce noticeably more often than the control?
//!
//! Per category, a **one-sided** two-proportion score test of `H₀: p_b ≤ p_a` against
//! `H₁: p_b > p_a` with the pooled variance `p̂(1 − p̂)(1/n_a + 1/n_b)`, `p̂ = (x_a+x_b)/(n_a+n_b)`
//! (Agresti, *Categorical Data Analysis*, 3rd ed., §3.1.3; statsmodels `proportions_ztest`
//! with `alternative="larger"`). One-sided because only an *increase* is a regression worth
//! flagging; pooled because it stays defined when the control has none of the category.
//! The p-values are Holm-adjusted across categories (family-wise error), and a category is
//! `flagged` when its adjusted p is below `alpha`. A category with zero control count and a
//! positive candidate count is also marked `is_new`, whether or not the test is significant
//! (for a handful of occurrences the normal approximation is rough; `is_new` is the honest
//! signal there).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::adjust::adjust_holm;
use super::distributions::norm_sf;
use super::types::{StatsError, check_alpha};

/// Error counts by category for one arm, plus the arm's total requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryCounts {
    /// Total requests of the arm (the denominator of every category rate).
    pub n: u64,
    pub counts: BTreeMap<String, u64>,
}

/// The comparison of one category.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryResult {
    pub category: String,
    pub control_count: u64,
    pub candidate_count: u64,
    pub control_rate: f64,
    pub candidate_rate: f64,
    /// `candidate_rate − control_rate`.
    pub estimate: f64,
    /// One-sided p of "the candidate is not more frequent".
    pub p_value: f64,
    /// Holm-adjusted across all categories.
    pub adjusted_p: f64,
    pub flagged: bool,
    /// Seen in the candidate, never in the control.
    pub is_new: bool,
}

/// Compares every category present in either arm; results are in category-name order.
pub fn error_categories(
    control: &CategoryCounts,
    candidate: &CategoryCounts,
    alpha: f64,
) -> Result<Vec<CategoryResult>, StatsError> {
    check_alpha(alpha)?;
    for (arm, what) in [(control, "control"), (candidate, "candidate")] {
        if arm.n == 0 {
            return Err(StatsError::TooFewObservations {
                what: format!("{what} requests"),
                min: 1,
                got: 0,
            });
        }
        if let Some((name, c)) = arm.counts.iter().find(|(_, c)| **c > arm.n) {
            return Err(StatsError::InconsistentCounts(format!(
                "{what}: category {name:?} has {c} errors out of {} requests",
                arm.n
            )));
        }
    }
    let mut names: Vec<&String> = control
        .counts
        .keys()
        .chain(candidate.counts.keys())
        .collect();
    names.sort();
    names.dedup();

    let (na, nb) = (control.n as f64, candidate.n as f64);
    let mut results: Vec<CategoryResult> = names
        .into_iter()
        .map(|name| {
            let xa = control.counts.get(name).copied().unwrap_or(0);
            let xb = candidate.counts.get(name).copied().unwrap_or(0);
            let (pa, pb) = (xa as f64 / na, xb as f64 / nb);
            let pooled = (xa as f64 + xb as f64) / (na + nb);
            let se = (pooled * (1.0 - pooled) * (1.0 / na + 1.0 / nb)).sqrt();
            let p_value = if se > 0.0 && se.is_finite() {
                norm_sf((pb - pa) / se).clamp(0.0, 1.0)
            } else {
                // Pooled rate 0 or 1: both arms identical, nothing to flag.
                1.0
            };
            CategoryResult {
                category: name.clone(),
                control_count: xa,
                candidate_count: xb,
                control_rate: pa,
                candidate_rate: pb,
                estimate: pb - pa,
                p_value,
                adjusted_p: p_value,
                flagged: false,
                is_new: xa == 0 && xb > 0,
            }
        })
        .collect();
    let raw: Vec<f64> = results.iter().map(|r| r.p_value).collect();
    let adjusted = adjust_holm(&raw)?;
    for (r, adj) in results.iter_mut().zip(adjusted) {
        r.adjusted_p = adj;
        r.flagged = adj < alpha;
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arm(n: u64, counts: &[(&str, u64)]) -> CategoryCounts {
        CategoryCounts {
            n,
            counts: counts.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
        }
    }

    #[test]
    fn a_new_frequent_category_is_flagged() {
        let control = arm(10_000, &[("timeout", 20)]);
        let candidate = arm(10_000, &[("timeout", 22), ("schema_error", 40)]);
        let r = error_categories(&control, &candidate, 0.05).unwrap();
        let schema = r.iter().find(|c| c.category == "schema_error").unwrap();
        assert!(schema.is_new && schema.flagged);
        let timeout = r.iter().find(|c| c.category == "timeout").unwrap();
        assert!(!timeout.is_new && !timeout.flagged);
    }
}
