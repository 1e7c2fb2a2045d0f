//! How metric values read: rates as percentages (complaints per 1 000 users as such), money in
//! USD with four decimals, latency in milliseconds; differences in points (pp) for rates, % for
//! relative lifts.

use shared::comparison::MetricRow;
use shared::metrics::{LATENCY_QUANTILES, MetricDef, MetricKind, PER_THOUSAND_USERS, quantile_key};
use shared::stats::Verdict;

use crate::format::{fixed, signed, whole};

/// What a row's numbers are, for formatting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Rate,
    /// A rate read per 1 000 users (complaints).
    PerThousand,
    Usd,
    Millis,
    Other,
}

/// The scale of a report row, looked up in the catalogue (latency quantile rows such as
/// `latency_p95_ms` belong to their histogram's metric).
pub fn scale(catalogue: &[MetricDef], key: &str, unit: &str) -> Scale {
    let def = base_def(catalogue, key).map(|(d, _)| d);
    match (def.map(|d| d.kind), unit) {
        (Some(MetricKind::Rate), _) if def.is_some_and(|d| d.unit == PER_THOUSAND_USERS) => {
            Scale::PerThousand
        }
        (Some(MetricKind::Rate), _) => Scale::Rate,
        (_, "USD") => Scale::Usd,
        (_, "ms") => Scale::Millis,
        _ => Scale::Other,
    }
}

/// The catalogue entry behind a row key, with the quantile level for latency rows.
pub fn base_def<'a>(catalogue: &'a [MetricDef], key: &str) -> Option<(&'a MetricDef, Option<f64>)> {
    catalogue.iter().find_map(|d| {
        if d.key == key {
            return Some((d, None));
        }
        if d.kind == MetricKind::Latency {
            for (q, suffix) in LATENCY_QUANTILES {
                if quantile_key(&d.key, suffix) == key {
                    return Some((d, Some(q)));
                }
            }
        }
        None
    })
}

/// A value of one arm.
pub fn value(x: f64, scale: Scale, unit: &str) -> String {
    match scale {
        Scale::Rate => format!("{}%", fixed(x * 100.0, 2)),
        Scale::PerThousand => format!("{} per 1 000", fixed(x * 1000.0, 2)),
        Scale::Usd => format!("${}", fixed(x, 4)),
        Scale::Millis => format!("{} ms", whole(x)),
        Scale::Other if unit.is_empty() => fixed(x, 2),
        Scale::Other => format!("{} {unit}", fixed(x, 2)),
    }
}

/// A difference (or the bound of its interval): relative lifts in %, rate differences in
/// points, others in the unit.
pub fn diff(x: f64, relative: bool, scale: Scale, unit: &str) -> String {
    if relative {
        let pct = x * 100.0;
        let d = if pct.abs() < 10.0 { 2 } else { 1 };
        return format!("{}%", signed(pct, d));
    }
    match scale {
        Scale::Rate => format!("{} pp", signed(x * 100.0, 2)),
        Scale::PerThousand => format!("{} per 1 000", signed(x * 1000.0, 2)),
        Scale::Usd => {
            let s = signed(x, 4);
            match s.chars().next() {
                Some(sign @ ('+' | '−')) => format!("{sign}${}", &s[sign.len_utf8()..]),
                _ => format!("${s}"),
            }
        }
        Scale::Millis => format!("{} ms", signed(x, 0)),
        Scale::Other if unit.is_empty() => signed(x, 3),
        Scale::Other => format!("{} {unit}", signed(x, 2)),
    }
}

/// Short axis label of a difference.
pub fn axis(x: f64, relative: bool, scale: Scale) -> String {
    if relative {
        return format!("{}%", signed(x * 100.0, if x.abs() < 0.1 { 1 } else { 0 }));
    }
    match scale {
        Scale::Rate => format!("{} pp", signed(x * 100.0, 1)),
        Scale::PerThousand => signed(x * 1000.0, 1),
        Scale::Usd => signed(x, 4),
        Scale::Millis => format!("{} ms", signed(x, 0)),
        Scale::Other => signed(x, 2),
    }
}

/// What the difference axis measures, e.g. "relative change (%)".
pub fn axis_title(relative: bool, scale: Scale, unit: &str) -> String {
    match (relative, scale) {
        (true, _) => "Candidate vs control, relative change (%)".into(),
        (false, Scale::Rate) => "Candidate − control (percentage points)".into(),
        (false, Scale::PerThousand) => "Candidate − control (per 1 000 users)".into(),
        (false, Scale::Usd) => "Candidate − control (USD)".into(),
        (false, Scale::Millis) => "Candidate − control (ms)".into(),
        (false, _) if unit.is_empty() => "Candidate − control".into(),
        (false, _) => format!("Candidate − control ({unit})"),
    }
}

/// "0.042", "< 0.001".
pub fn p_value(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else if p > 0.999 {
        "1.000".into()
    } else {
        format!("{p:.3}")
    }
}

pub fn verdict_name(v: Option<Verdict>) -> &'static str {
    match v {
        Some(Verdict::Breach) => "breach",
        Some(Verdict::Pass) => "pass",
        Some(Verdict::Inconclusive) => "inconclusive",
        None => "none",
    }
}

pub fn verdict_label(v: Verdict) -> &'static str {
    match v {
        Verdict::Breach => "Breach",
        Verdict::Pass => "Pass",
        Verdict::Inconclusive => "Inconclusive",
    }
}

/// The status of a matrix cell, from most to least alarming.
pub fn status(r: &MetricRow) -> &'static str {
    if r.comparison.is_none() {
        "nodata"
    } else if r.verdict == Some(Verdict::Breach) {
        "breach"
    } else if r.worse {
        "worse"
    } else if r.better {
        "better"
    } else if r.verdict == Some(Verdict::Pass) {
        "pass"
    } else {
        "neutral"
    }
}

/// The segment's display name.
pub fn segment_label(s: &str) -> String {
    if s == shared::metrics::ALL_SEGMENTS {
        "All segments".into()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_by_unit() {
        assert_eq!(value(0.8512, Scale::Rate, ""), "85.12%");
        assert_eq!(value(0.012, Scale::Usd, "USD"), "$0.0120");
        assert_eq!(diff(0.2012, true, Scale::Usd, "USD"), "+20.1%");
        assert_eq!(diff(-0.06, false, Scale::Rate, ""), "−6.00 pp");
        assert_eq!(diff(-0.0021, false, Scale::Usd, "USD"), "−$0.0021");
        assert_eq!(diff(12.4, false, Scale::Millis, "ms"), "+12 ms");
        assert_eq!(signed(-0.0001, 2), "0.00");
        assert_eq!(p_value(0.0004), "< 0.001");
    }

    #[test]
    fn complaints_read_per_thousand_users() {
        let mut catalogue = shared::metrics::default_catalogue();
        catalogue.push(shared::metrics::complaints_def());
        let scale = scale(&catalogue, shared::metrics::COMPLAINTS_METRIC, "");
        assert_eq!(scale, Scale::PerThousand);
        assert_eq!(value(0.008, scale, ""), "8.00 per 1 000");
        assert_eq!(diff(0.0075, false, scale, ""), "+7.50 per 1 000");
        assert_eq!(scale_of_retry(&catalogue), Scale::Rate);
    }

    fn scale_of_retry(catalogue: &[MetricDef]) -> Scale {
        scale(catalogue, "retry_rate", "")
    }
}
