//! The catalogue: which metrics a change is compared on, their kinds and which way is good.

use serde::{Deserialize, Serialize};

/// The shape of a metric's data.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum MetricKind {
    /// Successes out of n: pass rates, click-through, error rates.
    Rate,
    /// A mean from sufficient statistics: cost per request, tokens, conversation length.
    Mean,
    /// A latency histogram; analysed through its quantiles (p50, p95).
    Latency,
    /// Counts per error category; analysed for new or much more frequent categories.
    Categories,
}

impl MetricKind {
    /// The serde name: the text in JSON, in storage and in query strings.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Reads a serde name back; `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// What a metric tells about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MetricFamily {
    Quality,
    UserBehaviour,
    Cost,
    Latency,
    Errors,
    Safety,
}

impl MetricFamily {
    pub fn label(self) -> &'static str {
        match self {
            MetricFamily::Quality => "Quality",
            MetricFamily::UserBehaviour => "User behaviour",
            MetricFamily::Cost => "Cost",
            MetricFamily::Latency => "Latency",
            MetricFamily::Errors => "Errors",
            MetricFamily::Safety => "Safety",
        }
    }
}

/// Which way of moving is good for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum GoodDirection {
    Up,
    Down,
}

/// One entry of a change's metric catalogue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MetricDef {
    /// Key used in windows and criteria, e.g. `cost_per_request`.
    pub key: String,
    pub name: String,
    pub kind: MetricKind,
    pub family: MetricFamily,
    pub good: GoodDirection,
    /// Unit shown beside values, e.g. "USD", "ms", "" for rates.
    #[serde(default)]
    pub unit: String,
}

fn def(
    key: &str,
    name: &str,
    kind: MetricKind,
    family: MetricFamily,
    good: GoodDirection,
    unit: &str,
) -> MetricDef {
    MetricDef {
        key: key.into(),
        name: name.into(),
        kind,
        family,
        good,
        unit: unit.into(),
    }
}

/// The metric Rollgate fills from support's complaints: a rate whose `n` the application
/// reports in each window as the users it exposed to the variant (successes 0), and whose
/// successes the server counts from the complaints recorded against the change
/// ([`MetricSummary::count_complaints`](super::MetricSummary::count_complaints)). Opt-in: add
/// [`complaints_def`] to a change's catalogue; criteria then use it like any rate.
pub const COMPLAINTS_METRIC: &str = "complaints_per_1000_users";
/// Its unit: the console reads the rate per 1 000 users rather than as a percentage.
pub const PER_THOUSAND_USERS: &str = "per 1 000 users";

/// The catalogue entry of [`COMPLAINTS_METRIC`].
pub fn complaints_def() -> MetricDef {
    def(
        COMPLAINTS_METRIC,
        "Complaints per 1 000 exposed users",
        MetricKind::Rate,
        MetricFamily::UserBehaviour,
        GoodDirection::Down,
        PER_THOUSAND_USERS,
    )
}

/// The seed's list of canary metrics that matter: quality, user behaviour, cost, latency,
/// errors (hard and soft) and safety signals.
pub fn default_catalogue() -> Vec<MetricDef> {
    use GoodDirection::*;
    use MetricFamily as F;
    use MetricKind as K;
    vec![
        def(
            "shadow_eval_pass_rate",
            "Shadow-eval pass rate",
            K::Rate,
            F::Quality,
            Up,
            "",
        ),
        def(
            "suggestion_click_through",
            "Click-through on AI suggestions",
            K::Rate,
            F::UserBehaviour,
            Up,
            "",
        ),
        def(
            "retry_rate",
            "Retry rate",
            K::Rate,
            F::UserBehaviour,
            Down,
            "",
        ),
        def(
            "conversation_length",
            "Conversation length",
            K::Mean,
            F::UserBehaviour,
            Down,
            "turns",
        ),
        def(
            "cost_per_request",
            "Cost per request",
            K::Mean,
            F::Cost,
            Down,
            "USD",
        ),
        def(
            "tokens_per_request",
            "Tokens per request",
            K::Mean,
            F::Cost,
            Down,
            "tokens",
        ),
        def(
            "latency_ms",
            "End-to-end latency",
            K::Latency,
            F::Latency,
            Down,
            "ms",
        ),
        def(
            "hard_error_rate",
            "Hard error rate",
            K::Rate,
            F::Errors,
            Down,
            "",
        ),
        def(
            "soft_error_rate",
            "Soft errors (refusals, fallbacks)",
            K::Rate,
            F::Errors,
            Down,
            "",
        ),
        def("refusal_rate", "Refusal rate", K::Rate, F::Safety, Down, ""),
        def(
            "moderation_flag_rate",
            "Moderation flags",
            K::Rate,
            F::Safety,
            Down,
            "",
        ),
        def(
            "error_categories",
            "Error categories",
            K::Categories,
            F::Errors,
            Down,
            "",
        ),
    ]
}

/// The quantiles a latency metric is compared on, with the suffix of their derived keys:
/// `latency_ms` gives `latency_p50_ms` and `latency_p95_ms`.
pub const LATENCY_QUANTILES: [(f64, &str); 2] = [(0.5, "p50"), (0.95, "p95")];

/// `latency_ms` + `p95` → `latency_p95_ms`.
pub fn quantile_key(latency_key: &str, suffix: &str) -> String {
    match latency_key.strip_suffix("_ms") {
        Some(stem) => format!("{stem}_{suffix}_ms"),
        None => format!("{latency_key}_{suffix}"),
    }
}
