//! Multiple-testing adjustment of p-values, as `statsmodels.stats.multitest.multipletests`
//! (`method="holm"` and `method="fdr_bh"`), returned in input order.
//!
//! * Holm (1979): sorted ascending, `p̃₍ᵢ₎ = max_{j≤i} min(1, (m − j + 1)·p₍ⱼ₎)` — controls the
//!   family-wise error rate, uniformly more powerful than Bonferroni.
//! * Benjamini & Hochberg (1995): `p̃₍ᵢ₎ = min_{j≥i} min(1, m/j · p₍ⱼ₎)` — controls the false
//!   discovery rate under independence or positive dependence.

use serde::{Deserialize, Serialize};

use super::types::StatsError;

/// Which adjustment to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdjustMethod {
    /// Holm's step-down (family-wise error rate).
    Holm,
    /// Benjamini–Hochberg step-up (false discovery rate).
    #[serde(alias = "fdr_bh")]
    Bh,
}

/// Adjusts `p_values` with `method`.
pub fn adjust(p_values: &[f64], method: AdjustMethod) -> Result<Vec<f64>, StatsError> {
    match method {
        AdjustMethod::Holm => adjust_holm(p_values),
        AdjustMethod::Bh => adjust_bh(p_values),
    }
}

/// Holm-adjusted p-values in input order (statsmodels `multipletests(method="holm")`).
pub fn adjust_holm(p_values: &[f64]) -> Result<Vec<f64>, StatsError> {
    let order = sorted_order(p_values)?;
    let m = p_values.len();
    let mut out = vec![0.0; m];
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        let scaled = ((m - rank) as f64 * p_values[i]).min(1.0);
        running = running.max(scaled);
        out[i] = running;
    }
    Ok(out)
}

/// Benjamini–Hochberg-adjusted p-values in input order
/// (statsmodels `multipletests(method="fdr_bh")`).
pub fn adjust_bh(p_values: &[f64]) -> Result<Vec<f64>, StatsError> {
    let order = sorted_order(p_values)?;
    let m = p_values.len();
    let mut out = vec![0.0; m];
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        let scaled = p_values[i] / ((rank + 1) as f64 / m as f64);
        running = running.min(scaled);
        out[i] = running.min(1.0);
    }
    Ok(out)
}

/// Indices of `p_values` by ascending p (stable), after validating every p is in `[0, 1]`.
fn sorted_order(p_values: &[f64]) -> Result<Vec<usize>, StatsError> {
    if let Some(p) = p_values.iter().find(|p| !(0.0..=1.0).contains(*p)) {
        return Err(StatsError::InvalidParameter(format!(
            "p-values must be in [0, 1], got {p}"
        )));
    }
    let mut order: Vec<usize> = (0..p_values.len()).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_order_is_kept() {
        let holm = adjust_holm(&[0.04, 0.01, 0.03]).unwrap();
        // sorted 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 → max(0.06, 0.04) = 0.06
        assert_eq!(holm, vec![0.06, 0.03, 0.06]);
        assert!(adjust_bh(&[0.5, f64::NAN]).is_err());
        assert_eq!(adjust_bh(&[]).unwrap(), Vec::<f64>::new());
    }
}
