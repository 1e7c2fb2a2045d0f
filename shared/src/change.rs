//! An AI change: what changes (baseline → candidate configuration), how risky it is, what users
//! may notice, and who owns it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::assignment::FlagRules;
use crate::plan::RolloutPlan;
use crate::rollout::RolloutState;

/// What part of the AI system a change touches. The kind decides which template is offered
/// first and, later, which teams are told.
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
pub enum ChangeKind {
    Prompt,
    Model,
    Tool,
    Routing,
    Architecture,
}

impl ChangeKind {
    pub const ALL: [ChangeKind; 5] = [
        ChangeKind::Prompt,
        ChangeKind::Model,
        ChangeKind::Tool,
        ChangeKind::Routing,
        ChangeKind::Architecture,
    ];

    /// The serde name: the text in JSON, in storage and in query strings.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Reads a serde name back; `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }

    pub fn label(self) -> &'static str {
        match self {
            ChangeKind::Prompt => "Prompt",
            ChangeKind::Model => "Model",
            ChangeKind::Tool => "Tool",
            ChangeKind::Routing => "Routing",
            ChangeKind::Architecture => "Architecture",
        }
    }
}

/// How much harm a bad rollout could do. Policies (approvals, notices) key off the tier.
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
pub enum RiskTier {
    Low,
    Standard,
    High,
}

impl RiskTier {
    pub const ALL: [RiskTier; 3] = [RiskTier::Low, RiskTier::Standard, RiskTier::High];

    /// The serde name: the text in JSON, in storage and in query strings.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Reads a serde name back; `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }

    pub fn label(self) -> &'static str {
        match self {
            RiskTier::Low => "Low risk",
            RiskTier::Standard => "Standard risk",
            RiskTier::High => "High risk",
        }
    }
}

/// An AI change as stored: identity, description, both configurations, the plan and where the
/// rollout stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AiChange {
    pub id: String,
    /// The key OpenFeature clients evaluate the change by (OFREP): its variants are `control`
    /// (the baseline) and `candidate`. Unique; set from the title, editable while a draft.
    #[serde(default)]
    pub flag_key: String,
    pub title: String,
    pub kind: ChangeKind,
    pub risk: RiskTier,
    /// Configuration serving today (prompt version id, model id and parameters, tools…).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub baseline: Value,
    /// Configuration being rolled out.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub candidate: Value,
    /// What users may notice, in plain words.
    pub expected_changes: String,
    pub owner: String,
    /// The part of the product the change touches ("Billing chat"); the support feed filters
    /// on it.
    #[serde(default)]
    pub product_area: Option<String>,
    pub plan: RolloutPlan,
    /// How the flag reads audiences and segments from a context, its segment caps and
    /// holdout; editable while a draft, like the plan (`PUT /api/v1/changes/{id}/flag-rules`).
    // The console never reads the rules: leaving their decoder (an internally tagged enum with
    // JSON values) out of the Wasm keeps the console within its size budget.
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", serde(skip_deserializing))]
    pub flag_rules: FlagRules,
    pub state: RolloutState,
    /// Share of traffic on the candidate right now, 0–100.
    pub traffic_percent: f64,
    /// Set while the rollout is held where it is (advancing refused until someone resumes).
    #[serde(default)]
    pub paused: Option<Pause>,
    /// Increases on every write; edits must name the revision they were based on.
    pub revision: i64,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
}

/// A hold on a rollout: its stage and traffic stay as they are until someone resumes or rolls
/// back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pause {
    /// RFC 3339, UTC.
    pub at: String,
    /// Who paused: a user's e-mail, or `guardian`.
    pub by: String,
    pub reason: String,
}

impl AiChange {
    /// Where the rollout stands as people read it: "Canary 5%", "Canary 5% · paused".
    pub fn state_label(&self) -> String {
        self.state.label_held(&self.plan, self.paused.is_some())
    }
}
