//! Deterministic synthetic data for benchmarks, browser self-checks and the demo: a tiny PRNG
//! (no `rand` dependency, so it runs in Wasm too) and a generator of metric summaries shaped
//! like a real canary.

use crate::metrics::{
    ALL_SEGMENTS, GoodDirection, MetricDef, MetricFamily, MetricKind, MetricSummary, MetricValue,
    SummaryCell, TrafficCell, Variant,
};
use crate::plan::{BadDirection, RollbackCriterion, ThresholdKind};

/// splitmix64 (Steele, Lea & Flood 2014): small, fast and good enough for test data.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform on (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal by Box–Muller (one of the pair).
    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    /// Exponential with mean 1 (latencies are roughly exponential above their floor).
    pub fn exponential(&mut self) -> f64 {
        -self.uniform().ln()
    }

    /// Binomial(n, p) by its normal approximation, clamped to [0, n]; fine for the large n of
    /// traffic counts.
    pub fn binomial(&mut self, n: u64, p: f64) -> u64 {
        let mean = n as f64 * p;
        let sd = (n as f64 * p * (1.0 - p)).sqrt();
        (mean + sd * self.normal()).round().clamp(0.0, n as f64) as u64
    }
}

/// A summary with `metrics` metrics (alternating rates and means) × `segments` segments plus
/// the aggregate, and one criterion per metric: the workload of the console's analysis.
pub fn summary(
    metrics: usize,
    segments: usize,
    seed: u64,
) -> (MetricSummary, Vec<RollbackCriterion>) {
    let mut rng = SplitMix64(seed);
    let segment_names: Vec<String> = (0..segments).map(|s| format!("segment {s:02}")).collect();
    let mut catalogue = Vec::new();
    let mut criteria = Vec::new();
    let mut cells = Vec::new();
    for m in 0..metrics {
        let key = format!("metric_{m:02}");
        let rate = m % 2 == 1;
        catalogue.push(MetricDef {
            key: key.clone(),
            name: format!("Metric {m}"),
            kind: if rate {
                MetricKind::Rate
            } else {
                MetricKind::Mean
            },
            family: MetricFamily::Quality,
            good: if rate {
                GoodDirection::Up
            } else {
                GoodDirection::Down
            },
            unit: String::new(),
        });
        criteria.push(RollbackCriterion {
            metric: key.clone(),
            bad_direction: if rate {
                BadDirection::Decrease
            } else {
                BadDirection::Increase
            },
            threshold_kind: if rate {
                ThresholdKind::Absolute
            } else {
                ThresholdKind::Relative
            },
            threshold: if rate { 0.02 } else { 0.15 },
        });
        let mut totals: [Option<MetricValue>; 2] = [None, None];
        for seg in &segment_names {
            let n_control = 20_000 + rng.next_u64() % 200_000;
            let n_candidate = n_control / 19;
            for (i, (variant, n)) in [
                (Variant::Control, n_control),
                (Variant::Candidate, n_candidate),
            ]
            .into_iter()
            .enumerate()
            {
                let value = if rate {
                    let p = 0.6 + 0.3 * rng.uniform();
                    MetricValue::Rate {
                        n,
                        successes: rng.binomial(n, p),
                    }
                } else {
                    let mean = 1.0 + 0.05 * rng.normal();
                    let var = 0.8;
                    MetricValue::Mean {
                        n,
                        sum: mean * n as f64,
                        sum_squares: (var + mean * mean) * n as f64,
                    }
                };
                match &mut totals[i] {
                    Some(t) => {
                        // Same kind by construction.
                        let _ = t.merge(&value);
                    }
                    None => totals[i] = Some(value.clone()),
                }
                cells.push(SummaryCell {
                    metric: key.clone(),
                    segment: seg.clone(),
                    variant,
                    value,
                });
            }
        }
        for (variant, total) in [Variant::Control, Variant::Candidate]
            .into_iter()
            .zip(totals)
        {
            if let Some(value) = total {
                cells.push(SummaryCell {
                    metric: key.clone(),
                    segment: ALL_SEGMENTS.into(),
                    variant,
                    value,
                });
            }
        }
    }
    let requests = |v: Variant| -> u64 {
        cells
            .iter()
            .filter(|c| c.segment == ALL_SEGMENTS && c.variant == v && c.metric == "metric_00")
            .map(|c| match c.value {
                MetricValue::Mean { n, .. } | MetricValue::Rate { n, .. } => n,
                _ => 0,
            })
            .sum()
    };
    let traffic = vec![
        TrafficCell {
            segment: ALL_SEGMENTS.into(),
            variant: Variant::Control,
            requests: requests(Variant::Control),
        },
        TrafficCell {
            segment: ALL_SEGMENTS.into(),
            variant: Variant::Candidate,
            requests: requests(Variant::Candidate),
        },
    ];
    (
        MetricSummary {
            catalogue,
            segments: segment_names,
            from: None,
            to: None,
            windows: 0,
            cells,
            traffic,
        },
        criteria,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::comparison::{ReportOptions, report};

    #[test]
    fn the_benchmark_workload_analyses_cleanly() {
        let (s, c) = summary(30, 11, 7);
        let r = report(&s, &c, &ReportOptions::default());
        assert_eq!(r.segments.len(), 12);
        assert_eq!(r.matrix.len(), 30 * 12);
        assert!(
            r.matrix.iter().all(|x| x.error.is_none()),
            "{:?}",
            r.matrix.iter().find(|x| x.error.is_some())
        );
    }
}
