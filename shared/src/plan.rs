//! The rollout plan: ordered stages, the order of audiences and the rollback criteria, plus the
//! templates a new change starts from.

use serde::{Deserialize, Serialize};

/// The offline gate before any production traffic: the eval bench must pass at this rate and
/// no new failure may appear in the critical categories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EvalGate {
    /// Required pass rate on the eval bench, 0–1.
    pub min_pass_rate: f64,
    /// Failure categories in which the candidate may not fail a single new case.
    #[serde(default)]
    pub critical_categories: Vec<String>,
}

/// A small slice of production traffic, watched against control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CanaryStage {
    /// Share of traffic, 1–5 %.
    pub percent: f64,
    /// Minimum time in canary, 1–24 hours.
    pub min_duration_hours: f64,
    /// Longest time in canary without a decision: when it passes while the verdict is still
    /// inconclusive, the guardian pauses the rollout so that someone looks. `None`: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_hours: Option<f64>,
}

/// One step of the ramp.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RampStep {
    /// Share of traffic at this step, above the canary's and below or at 100 %.
    pub percent: f64,
    /// Minimum time at this step, in hours.
    pub min_duration_hours: f64,
    /// Minimum requests on the candidate before leaving the step.
    #[serde(default)]
    pub min_samples: u64,
    /// Longest time at this step without a decision (see [`CanaryStage::max_hours`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_hours: Option<f64>,
    /// The step is a long-running A/B test: it holds its split for its declared duration
    /// (`min_duration_hours`, at least a day) and is left only on a recorded decision (keep,
    /// revert or iterate; `crate::ab`). At most one step of a plan, below 100 %.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ab_test: bool,
}

/// Who gets the candidate first. Earlier audiences are more diagnostic: internal users catch
/// obvious issues, power users notice subtle ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AudienceKind {
    Internal,
    PowerUsers,
    Cohort,
    OptedIn,
}

impl AudienceKind {
    pub fn label(self) -> &'static str {
        match self {
            AudienceKind::Internal => "Internal",
            AudienceKind::PowerUsers => "Power users",
            AudienceKind::Cohort => "Cohort",
            AudienceKind::OptedIn => "Opted in",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Audience {
    pub kind: AudienceKind,
    /// e.g. "staff", "top 5 % by usage", "free / es".
    pub name: String,
}

/// Which way a metric moving is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BadDirection {
    Increase,
    Decrease,
}

/// How a criterion's threshold is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ThresholdKind {
    /// Relative change of candidate over control: 0.15 means "+15 %".
    Relative,
    /// Difference candidate − control in the metric's unit: 0.02 on a rate means "2 points".
    Absolute,
    /// A level the candidate's own value must not cross, e.g. p95 latency of 2500 ms.
    Level,
}

/// A pre-registered rollback rule. Frozen when the rollout starts: when it fires, roll back
/// first and investigate after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RollbackCriterion {
    /// Metric key, e.g. `cost_per_request`.
    pub metric: String,
    pub bad_direction: BadDirection,
    pub threshold_kind: ThresholdKind,
    /// Positive size of the tolerated move (relative or absolute), or the level itself.
    pub threshold: f64,
}

impl RollbackCriterion {
    /// "cost_per_request must not rise more than 15 %".
    pub fn describe(&self) -> String {
        let verb = match self.bad_direction {
            BadDirection::Increase => "rise",
            BadDirection::Decrease => "fall",
        };
        match self.threshold_kind {
            ThresholdKind::Relative => format!(
                "{} must not {verb} more than {}%",
                self.metric,
                trim_number(self.threshold * 100.0)
            ),
            ThresholdKind::Absolute => format!(
                "{} must not {verb} more than {}",
                self.metric,
                trim_number(self.threshold)
            ),
            ThresholdKind::Level => {
                let side = match self.bad_direction {
                    BadDirection::Increase => "above",
                    BadDirection::Decrease => "below",
                };
                format!(
                    "{} must not go {side} {}",
                    self.metric,
                    trim_number(self.threshold)
                )
            }
        }
    }
}

fn trim_number(x: f64) -> String {
    let s = format!("{x:.4}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// One item of a checklist that goes with a plan (the model-upgrade template has seven).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    pub text: String,
    #[serde(default)]
    pub done: bool,
}

/// The whole plan of a rollout. Editable while the change is a draft, frozen once it starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RolloutPlan {
    pub template: PlanTemplate,
    pub eval_gate: EvalGate,
    pub canary: CanaryStage,
    /// Ramp steps in order; percentages strictly increasing, the last one 100.
    pub ramp: Vec<RampStep>,
    /// Audiences in the order they receive the candidate.
    #[serde(default)]
    pub audiences: Vec<Audience>,
    #[serde(default)]
    pub criteria: Vec<RollbackCriterion>,
    #[serde(default)]
    pub checklist: Vec<ChecklistItem>,
    /// Whether the guardian rolls back by itself when a criterion breaches; when off it pauses
    /// the rollout and leaves the rollback to a person. Absent: on, except for the low-stakes
    /// template (see [`RolloutPlan::rolls_back_automatically`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub automatic_rollback: Option<bool>,
    /// The highest rate, per 1 000 candidate requests, of an error category the control never
    /// shows: above it (and with at least [`MIN_NEW_CATEGORY_COUNT`] occurrences) the guardian
    /// pauses the rollout. Absent: [`DEFAULT_NEW_CATEGORY_LIMIT_PER_1000`] (see
    /// [`RolloutPlan::new_category_limit`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_category_limit_per_1000: Option<f64>,
}

/// The limit on a new error category when a plan does not set one: one in 1 000 candidate
/// requests. A category the control never produced is a new failure mode (a schema the new
/// prompt breaks, a tool the new model calls wrongly); at one request in a thousand Support
/// starts to hear of it.
pub const DEFAULT_NEW_CATEGORY_LIMIT_PER_1000: f64 = 1.0;

/// Occurrences a new error category needs before its rate is held against the limit, so that
/// one stray error in a canary's first hundred requests (10 per 1 000) holds nothing.
pub const MIN_NEW_CATEGORY_COUNT: u64 = 10;

impl RolloutPlan {
    /// Whether the guardian rolls back on a breach (`automatic_rollback`, or the template's
    /// default when the plan does not say: off only for the low-stakes fast path, whose changes
    /// a person can judge).
    pub fn rolls_back_automatically(&self) -> bool {
        self.automatic_rollback
            .unwrap_or(self.template != PlanTemplate::LowStakes)
    }

    /// The limit on a new error category per 1 000 candidate requests
    /// (`new_category_limit_per_1000`, or [`DEFAULT_NEW_CATEGORY_LIMIT_PER_1000`]).
    pub fn new_category_limit(&self) -> f64 {
        self.new_category_limit_per_1000
            .unwrap_or(DEFAULT_NEW_CATEGORY_LIMIT_PER_1000)
    }
}

/// Starting points for a plan.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum PlanTemplate {
    /// Eval gate, 5 % canary for a day, ramp 10/25/50/100.
    Standard,
    /// The seven-step model-upgrade discipline: stricter gate, 1 % canary, slower ramp.
    ModelUpgrade,
    /// For low-stakes changes: short canary, two ramp steps.
    LowStakes,
}

impl PlanTemplate {
    pub const ALL: [PlanTemplate; 3] = [
        PlanTemplate::Standard,
        PlanTemplate::ModelUpgrade,
        PlanTemplate::LowStakes,
    ];

    pub fn label(self) -> &'static str {
        match self {
            PlanTemplate::Standard => "Standard",
            PlanTemplate::ModelUpgrade => "Model upgrade",
            PlanTemplate::LowStakes => "Low-stakes fast path",
        }
    }

    /// The serde name: the text in JSON, in storage and in query strings.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Reads a serde name back; `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }

    /// The plan this template proposes. Every template passes [`crate::validate::plan`].
    pub fn plan(self) -> RolloutPlan {
        match self {
            PlanTemplate::Standard => RolloutPlan {
                template: self,
                eval_gate: EvalGate {
                    min_pass_rate: 0.9,
                    critical_categories: vec!["safety".into(), "pii".into()],
                },
                canary: CanaryStage {
                    percent: 5.0,
                    min_duration_hours: 24.0,
                    max_hours: Some(72.0),
                },
                ramp: ramp(&[10.0, 25.0, 50.0, 100.0], 4.0, 5_000, 48.0),
                audiences: default_audiences(),
                criteria: default_criteria(),
                checklist: Vec::new(),
                automatic_rollback: Some(true),
                new_category_limit_per_1000: None,
            },
            PlanTemplate::ModelUpgrade => RolloutPlan {
                template: self,
                eval_gate: EvalGate {
                    min_pass_rate: 0.95,
                    critical_categories: vec!["safety".into(), "pii".into(), "refusal".into()],
                },
                canary: CanaryStage {
                    percent: 1.0,
                    min_duration_hours: 24.0,
                    max_hours: Some(96.0),
                },
                ramp: ramp(&[10.0, 25.0, 50.0, 100.0], 12.0, 20_000, 72.0),
                audiences: default_audiences(),
                criteria: default_criteria(),
                checklist: [
                    "Run the eval bench against the new model and record the pass rate",
                    "Run the safety eval and look for new failure modes",
                    "Compare cost and latency with the current model",
                    "Canary the new model on 1–5 % of traffic",
                    "Compare canary metrics to control, segment by segment",
                    "Ramp gradually while every criterion passes",
                    "Confirm the rollback path: pointing back to the previous model is one flip",
                ]
                .into_iter()
                .map(|t| ChecklistItem {
                    text: t.into(),
                    done: false,
                })
                .collect(),
                automatic_rollback: Some(true),
                new_category_limit_per_1000: None,
            },
            PlanTemplate::LowStakes => RolloutPlan {
                template: self,
                eval_gate: EvalGate {
                    min_pass_rate: 0.85,
                    critical_categories: Vec::new(),
                },
                canary: CanaryStage {
                    percent: 5.0,
                    min_duration_hours: 1.0,
                    max_hours: Some(24.0),
                },
                ramp: ramp(&[50.0, 100.0], 1.0, 500, 24.0),
                audiences: vec![Audience {
                    kind: AudienceKind::Internal,
                    name: "staff".into(),
                }],
                criteria: default_criteria(),
                checklist: Vec::new(),
                automatic_rollback: Some(false),
                new_category_limit_per_1000: None,
            },
        }
    }
}

fn ramp(percents: &[f64], hours: f64, min_samples: u64, max_hours: f64) -> Vec<RampStep> {
    percents
        .iter()
        .map(|&percent| RampStep {
            percent,
            min_duration_hours: hours,
            min_samples,
            max_hours: Some(max_hours),
            ab_test: false,
        })
        .collect()
}

fn default_audiences() -> Vec<Audience> {
    vec![
        Audience {
            kind: AudienceKind::Internal,
            name: "staff".into(),
        },
        Audience {
            kind: AudienceKind::PowerUsers,
            name: "top 5% by usage".into(),
        },
        Audience {
            kind: AudienceKind::Cohort,
            name: "paid".into(),
        },
        Audience {
            kind: AudienceKind::Cohort,
            name: "free".into(),
        },
    ]
}

/// The seed's rollback list: quality −2 pp, cost +15 %, p95 latency above 2.5 s, hard errors
/// up by half a point.
fn default_criteria() -> Vec<RollbackCriterion> {
    vec![
        RollbackCriterion {
            metric: "shadow_eval_pass_rate".into(),
            bad_direction: BadDirection::Decrease,
            threshold_kind: ThresholdKind::Absolute,
            threshold: 0.02,
        },
        RollbackCriterion {
            metric: "cost_per_request".into(),
            bad_direction: BadDirection::Increase,
            threshold_kind: ThresholdKind::Relative,
            threshold: 0.15,
        },
        RollbackCriterion {
            metric: "latency_p95_ms".into(),
            bad_direction: BadDirection::Increase,
            threshold_kind: ThresholdKind::Level,
            threshold: 2500.0,
        },
        RollbackCriterion {
            metric: "hard_error_rate".into(),
            bad_direction: BadDirection::Increase,
            threshold_kind: ThresholdKind::Absolute,
            threshold: 0.005,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn criteria_read_as_sentences() {
        let c = &default_criteria();
        assert_eq!(
            c[1].describe(),
            "cost_per_request must not rise more than 15%"
        );
        assert_eq!(
            c[0].describe(),
            "shadow_eval_pass_rate must not fall more than 0.02"
        );
        assert_eq!(c[2].describe(), "latency_p95_ms must not go above 2500");
    }

    #[test]
    fn automatic_rollback_defaults_by_template_when_absent() {
        for t in PlanTemplate::ALL {
            let mut json = serde_json::to_value(t.plan()).unwrap();
            json.as_object_mut().unwrap().remove("automatic_rollback");
            let plan: RolloutPlan = serde_json::from_value(json).unwrap();
            assert_eq!(plan.automatic_rollback, None);
            assert_eq!(
                plan.rolls_back_automatically(),
                t != PlanTemplate::LowStakes,
                "{t:?}"
            );
            assert_eq!(
                plan.rolls_back_automatically(),
                t.plan().rolls_back_automatically()
            );
        }
    }

    #[test]
    fn model_upgrade_has_the_seven_steps() {
        assert_eq!(PlanTemplate::ModelUpgrade.plan().checklist.len(), 7);
    }
}
