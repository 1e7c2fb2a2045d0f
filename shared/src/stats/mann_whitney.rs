//! Mann–Whitney U test on raw samples, matching
//! `scipy.stats.mannwhitneyu(control, candidate, alternative="two-sided",
//! use_continuity=True, method="auto")` (scipy 1.17, `scipy/stats/_mannwhitneyu.py`).
//!
//! * `U` is the statistic of the control (first) sample: `U₁ = R₁ − n₁(n₁+1)/2` with mid-ranks
//!   for ties (Mann & Whitney 1947; scipy "method 2").
//! * `method="auto"`: the exact null distribution when either sample has at most 8 values and
//!   there are no ties (and the table stays below 2²⁴ entries), otherwise the normal approximation with tie correction
//!   `σ = sqrt(n₁n₂/12·((n+1) − Σ(t³−t)/(n(n−1))))` and continuity correction
//!   `z = (max(U₁,U₂) − n₁n₂/2 − ½)/σ`, `p = 2·P(Z > z)`, clipped to 1.
//! * The exact distribution of `U` counts partitions that fit an `m × n` box: its generating
//!   function is the Gaussian binomial `∏ᵢ₌₁..ₘ (1 − q^{n+i})/(1 − q^i)` (Andrews, *The Theory
//!   of Partitions*, Thm 3.1), so it is built in `O(m · U)` by multiplying and dividing one
//!   factor at a time, truncated at the `U` we need — unlike scipy it stays fast when one
//!   sample is tiny and the other is huge.
//!
//! Speed: values are mapped to order-preserving `u64` keys, each sample is sorted once and the
//! two are merged to assign mid-ranks — `O(n log n)` with no allocation beyond the keys.

use serde::{Deserialize, Serialize};

use super::distributions::norm_sf;
use super::types::StatsError;

/// Which null distribution produced the p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MannWhitneyMethod {
    Exact,
    Asymptotic,
}

/// Result of [`mann_whitney`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MannWhitney {
    /// `U` of the control sample (scipy's `statistic`).
    pub statistic: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    pub method: MannWhitneyMethod,
}

/// Two-sided Mann–Whitney U test of `control` against `candidate` (see the module docs).
pub fn mann_whitney(control: &[f64], candidate: &[f64]) -> Result<MannWhitney, StatsError> {
    if control.is_empty() || candidate.is_empty() {
        return Err(StatsError::TooFewObservations {
            what: if control.is_empty() {
                "control sample".to_owned()
            } else {
                "candidate sample".to_owned()
            },
            min: 1,
            got: 0,
        });
    }
    let mut xs = to_keys(control, "control")?;
    let mut ys = to_keys(candidate, "candidate")?;
    // Sorting dominates; keep both sorts here so the caller's slices stay untouched.
    xs.sort_unstable();
    ys.sort_unstable();
    let ranks = rank_sums(&xs, &ys);

    let n1 = control.len() as f64;
    let n2 = candidate.len() as f64;
    let u1 = ranks.r1 - n1 * (n1 + 1.0) / 2.0;
    let u2 = n1 * n2 - u1;
    let u = u1.max(u2);

    let small = control.len() <= 8 || candidate.len() <= 8;
    // The exact table has n₁n₂ − U + 1 entries; beyond 2²⁴ (one sample ≤ 8, the other in the
    // millions, where scipy's O(U²) recursion would not finish) the normal approximation is
    // used instead — at that size it is accurate to many digits.
    let table_fits = n1 * n2 - u < (1u64 << 24) as f64;
    let (p, method) = if small && !ranks.ties && table_fits {
        // Without ties U is an integer; U ≥ n₁n₂/2 so the lower tail up to n₁n₂ − U is short.
        let k = (n1 * n2 - u).round() as u64;
        let m = control.len().min(candidate.len()) as u64;
        let n = control.len().max(candidate.len()) as u64;
        (2.0 * exact_cdf(m, n, k), MannWhitneyMethod::Exact)
    } else {
        let n = n1 + n2;
        let sigma = (n1 * n2 / 12.0 * ((n + 1.0) - ranks.tie_term / (n * (n - 1.0)))).sqrt();
        let p = if sigma > 0.0 && sigma.is_finite() {
            2.0 * norm_sf((u - n1 * n2 / 2.0 - 0.5) / sigma)
        } else {
            // Every value tied: scipy's z is −inf and its p clips to 1.
            1.0
        };
        (p, MannWhitneyMethod::Asymptotic)
    };
    Ok(MannWhitney {
        statistic: u1,
        p_value: if p.is_finite() {
            p.clamp(0.0, 1.0)
        } else {
            1.0
        },
        method,
    })
}

/// Order-preserving map of finite `f64` to `u64` (−0.0 and 0.0 map to the same key).
fn to_keys(values: &[f64], what: &str) -> Result<Vec<u64>, StatsError> {
    let mut keys = Vec::with_capacity(values.len());
    for &v in values {
        if !v.is_finite() {
            return Err(StatsError::NonFinite(format!("{what} sample contains {v}")));
        }
        let bits = (v + 0.0).to_bits();
        keys.push(if bits >> 63 == 1 {
            !bits
        } else {
            bits | (1 << 63)
        });
    }
    Ok(keys)
}

struct RankSums {
    /// Sum of the mid-ranks of the first sample.
    r1: f64,
    /// `Σ (t³ − t)` over tie groups.
    tie_term: f64,
    ties: bool,
}

/// Mid-rank sum of `xs` in the pooled sample by merging two sorted key lists.
fn rank_sums(xs: &[u64], ys: &[u64]) -> RankSums {
    let (mut i, mut j) = (0usize, 0usize);
    let mut before = 0.0f64;
    let mut r1 = 0.0f64;
    let mut tie_term = 0.0f64;
    let mut ties = false;
    while i < xs.len() || j < ys.len() {
        let v = match (xs.get(i), ys.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        let i0 = i;
        while i < xs.len() && xs[i] == v {
            i += 1;
        }
        let j0 = j;
        while j < ys.len() && ys[j] == v {
            j += 1;
        }
        let c1 = (i - i0) as f64;
        let t = c1 + (j - j0) as f64;
        // Ranks before+1 ..= before+t share the mid-rank before + (t+1)/2.
        r1 += c1 * (before + (t + 1.0) / 2.0);
        if t > 1.0 {
            ties = true;
            tie_term += t * t * t - t;
        }
        before += t;
    }
    RankSums { r1, tie_term, ties }
}

/// `P(U ≤ k)` under the null for samples of sizes `m ≤ n` without ties.
///
/// Coefficients of `∏ᵢ (1 − q^{n+i})/(1 − q^i)` up to `q^k`, each step leaving the Gaussian
/// binomial `[n+i choose i]_q`, whose coefficients are non-negative counts.
fn exact_cdf(m: u64, n: u64, k: u64) -> f64 {
    let k = k as usize;
    let mut c = vec![0.0f64; k + 1];
    c[0] = 1.0;
    let mut total = 1.0f64;
    for i in 1..=m as usize {
        let shift = n as usize + i;
        if shift <= k {
            for u in (shift..=k).rev() {
                c[u] -= c[u - shift];
            }
        }
        for u in i..=k {
            c[u] += c[u - i];
        }
        // C(n+i, i) = C(n+i−1, i−1)·(n+i)/i stays an integer at every step.
        total = total * (n as f64 + i as f64) / i as f64;
    }
    let below: f64 = c.iter().sum();
    (below / total).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// scipy docs example (`mannwhitneyu` docstring), exact: U=17, p=0.1111111111111111.
    #[test]
    fn scipy_docs_example_exact() {
        let r = mann_whitney(&[19.0, 22.0, 16.0, 29.0, 24.0], &[20.0, 11.0, 17.0, 12.0]).unwrap();
        assert_eq!(r.statistic, 17.0);
        assert_eq!(r.method, MannWhitneyMethod::Exact);
        assert!((r.p_value - 0.1111111111111111).abs() < 1e-12);
    }

    #[test]
    fn exact_distribution_sums_to_one() {
        for (m, n) in [(1, 1), (3, 5), (8, 8), (4, 30)] {
            let p = exact_cdf(m, n, m * n);
            assert!((p - 1.0).abs() < 1e-12, "{m} {n} {p}");
        }
    }

    #[test]
    fn negative_zero_ties_with_zero() {
        let r = mann_whitney(&[-0.0, 1.0], &[0.0, 2.0]).unwrap();
        assert_eq!(r.method, MannWhitneyMethod::Asymptotic);
        assert_eq!(r.statistic, 1.5);
    }
}
