//! The JSON the server and the browser exchange under `/api/v1`. Request types refuse unknown
//! fields so that a typo is an error, not a silently ignored setting.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::change::{AiChange, ChangeKind, RiskTier};
use crate::health::ChangeHealth;
use crate::metrics::MetricDef;
use crate::plan::{PlanTemplate, RolloutPlan};
use crate::rollout::{RolloutState, TransitionAction};

/// Body of `POST /api/v1/changes`. The plan is taken from `plan` when given, else from
/// `template` (standard when neither is given).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
// The lengths in the schema attributes are `validate::MAX_*` (utoipa takes literals only);
// backend/tests/openapi.rs checks that they agree.
pub struct NewChange {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub title: String,
    pub kind: ChangeKind,
    pub risk: RiskTier,
    #[serde(default = "empty_object")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub baseline: Value,
    #[serde(default = "empty_object")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub candidate: Value,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 5000))]
    pub expected_changes: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub owner: String,
    /// The part of the product the change touches ("Billing chat"), for the support feed.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 60))]
    pub product_area: Option<String>,
    #[serde(default)]
    pub template: Option<PlanTemplate>,
    #[serde(default)]
    pub plan: Option<RolloutPlan>,
    /// The flag key (`shared::validate::flag_key`); a slug of the title when absent. The key of
    /// a finished change (reviewed or rolled back) makes this change the flag's next version:
    /// it starts from what the flag serves (`baseline` left out, or given as exactly that).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flag_key: Option<String>,
}

impl NewChange {
    /// The plan this request asks for.
    pub fn resolved_plan(&self) -> RolloutPlan {
        match &self.plan {
            Some(p) => p.clone(),
            None => self.template.unwrap_or(PlanTemplate::Standard).plan(),
        }
    }
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// Body of `PUT /api/v1/changes/{id}`: the whole editable content, allowed while the change is
/// a draft, based on the revision the editor saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ChangeUpdate {
    /// The revision this edit is based on; a stale one gets 409 Conflict.
    pub revision: i64,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 200))]
    pub title: String,
    pub kind: ChangeKind,
    pub risk: RiskTier,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub baseline: Value,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub candidate: Value,
    #[cfg_attr(feature = "openapi", schema(max_length = 5000))]
    pub expected_changes: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 100))]
    pub owner: String,
    /// Absent or empty clears it.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 60))]
    pub product_area: Option<String>,
    pub plan: RolloutPlan,
    /// A new flag key (`shared::validate::flag_key`); absent keeps the current one.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub flag_key: Option<String>,
}

/// Body of `PUT /api/v1/changes/{id}/flag-rules`: a draft's new flag rules, based on the
/// revision the editor saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FlagRulesUpdate {
    /// The revision this edit is based on; a stale one gets 409 Conflict.
    pub revision: i64,
    pub rules: crate::assignment::FlagRules,
}

/// One row of the change list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeSummary {
    pub id: String,
    /// The key OpenFeature clients evaluate the change by.
    pub flag_key: String,
    pub title: String,
    pub kind: ChangeKind,
    pub risk: RiskTier,
    pub state: RolloutState,
    /// Whether the rollout is held where it is (see `AiChange::paused`).
    #[serde(default)]
    pub paused: bool,
    /// e.g. "Canary 5%", "Canary 5% · paused".
    pub state_label: String,
    pub traffic_percent: f64,
    pub owner: String,
    pub updated_at: String,
    /// Pass, Breach, Held… with a short reason (`shared::health`).
    pub health: ChangeHealth,
}

impl ChangeSummary {
    pub fn new(c: &AiChange, health: ChangeHealth) -> Self {
        ChangeSummary {
            id: c.id.clone(),
            flag_key: c.flag_key.clone(),
            title: c.title.clone(),
            kind: c.kind,
            risk: c.risk,
            state: c.state,
            paused: c.paused.is_some(),
            state_label: c.state_label(),
            traffic_percent: c.traffic_percent,
            owner: c.owner.clone(),
            updated_at: c.updated_at.clone(),
            health,
        }
    }
}

/// A page of the change list, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangePage {
    pub items: Vec<ChangeSummary>,
    /// Number of changes matching the filter, over all pages.
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// Body of `POST /api/v1/changes/{id}/transitions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TransitionRequest {
    pub action: TransitionAction,
    /// Justification for a skip, reason for a rollback or a pause, optional note for an advance
    /// or a resume.
    #[serde(default)]
    pub reason: Option<String>,
    /// The revision the caller saw; required (422 when absent) so that repeated clicks cannot
    /// each move the rollout on by one stage: only the first of them still matches, the others
    /// get 409 Conflict. An `Option` only so that its absence is a 422 naming the field rather
    /// than a deserialization error.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(required = true))]
    pub revision: Option<i64>,
}

/// One stored transition: who moved the rollout, when, from where to where and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransitionRecord {
    pub id: String,
    pub action: TransitionAction,
    pub from: RolloutState,
    pub to: RolloutState,
    pub from_label: String,
    pub to_label: String,
    pub actor: String,
    pub reason: Option<String>,
    /// RFC 3339, UTC.
    pub at: String,
    /// The comparison report the guardian decided on, frozen with its rollback or pause
    /// (`shared::comparison::ComparisonReport` as JSON); `None` for moves people make.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub evidence: Option<Value>,
}

/// `GET /api/v1/changes/{id}`: the change and its whole transition history, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChangeDetail {
    pub change: AiChange,
    pub history: Vec<TransitionRecord>,
    /// Pass, Breach, Held… with a short reason (`shared::health`).
    pub health: ChangeHealth,
    /// The versions of the change's flag, oldest first, this change among them: each finished
    /// one was retired by the next, which started from what it served.
    #[serde(default)]
    pub versions: Vec<FlagVersion>,
    /// The decision that ended the plan's A/B step, once recorded (its frozen report is at
    /// `GET /api/v1/changes/{id}/decision`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<crate::ab::AbDecision>,
    /// The flag's holdout, from its rules, if it keeps one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holdout: Option<crate::ab::Holdout>,
}

/// One version of a flag: a change that carried its key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlagVersion {
    /// 1 for the change that first carried the key, then one more for each next version.
    pub version: i64,
    pub id: String,
    pub title: String,
    pub state: RolloutState,
    pub created_at: String,
}

/// A plan template with the plan it proposes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TemplateInfo {
    pub template: PlanTemplate,
    pub label: String,
    pub plan: RolloutPlan,
}

/// `GET /api/v1/health`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    pub status: HealthStatus,
    pub version: String,
    /// "sqlite" or "postgres".
    pub database: String,
    pub pool: PoolHealth,
    /// The flags this instance evaluates from memory (OFREP).
    pub flags: FlagSnapshotHealth,
}

/// The in-memory flag snapshot OFREP evaluations are answered from. While the database is
/// unreachable the last snapshot keeps being served; its age says how old the answers may be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FlagSnapshotHealth {
    /// Whether the flags were read at least once since the server started.
    pub loaded: bool,
    /// Number of flags (changes) in it.
    pub flags: u32,
    /// When it was read, RFC 3339 UTC.
    pub loaded_at: Option<String>,
    /// Seconds since it was read; it is read again on every change and every 30 s.
    pub age_seconds: Option<f64>,
    /// Set when the last attempt to read it failed: the snapshot is older than it should be.
    pub last_error: Option<String>,
}

/// Whether the server can serve requests that need the database right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// A connection was had at once and the database answered.
    Ok,
    /// Every connection of the pool is in use: the server is up, but requests that need the
    /// database wait in line.
    Busy,
}

/// The connection pool as the health check found it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PoolHealth {
    /// Connections open, in use or idle.
    pub size: u32,
    /// Open connections nobody is using.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max: u32,
    /// Whether the check had a connection within its short wait.
    pub available: bool,
}

/// Every error answer: `{ "error": { "code", "message", "field" } }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `validation`, `not_found`, `conflict`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
    /// The request field at fault, as a path such as `plan.ramp[1].percent`.
    pub field: Option<String>,
}

/// `GET` and `PUT /api/v1/changes/{id}/catalogue`: the metrics a change is compared on. A
/// change without its own catalogue has `shared::metrics::default_catalogue()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MetricCatalogue {
    pub metrics: Vec<MetricDef>,
}

/// `GET /api/v1/assignments`: which variant one user got from every change that was live at a
/// moment, recomputed from the stored history (the stage and its percentage at that moment)
/// with [`crate::assignment::evaluate`]; nothing per user is stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserAssignments {
    /// The targeting key asked about (the user's id in the application).
    pub targeting_key: String,
    /// The moment asked about, RFC 3339 UTC (now when the query leaves it out).
    pub at: String,
    /// One row per change that was live (eval to full, paused or not) at `at`, or rolled back
    /// in the 14 days before it, newest change first.
    pub assignments: Vec<UserAssignment>,
}

/// What one change served one user at a moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserAssignment {
    pub change_id: String,
    pub flag_key: String,
    pub title: String,
    /// The rollout state at `at`, and as people read it ("Canary 5%").
    pub state: RolloutState,
    pub state_label: String,
    /// When the change entered that state, RFC 3339 UTC.
    pub state_since: String,
    /// Whether the rollout was paused at `at` (traffic held where it was).
    #[serde(default)]
    pub paused: bool,
    pub variant: crate::metrics::Variant,
    pub reason: crate::assignment::Reason,
    /// The user's bucket in 0..10 000 for this flag.
    pub bucket: u16,
    /// The candidate's share of traffic at `at`, percent.
    pub candidate_percent: f64,
    /// The change's notices to teams, newest first, for the support answer.
    pub notices: Vec<NoticeLink>,
}

/// A notice as the assignment lookup links it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NoticeLink {
    pub id: String,
    /// The notice's subject line.
    pub subject: String,
    /// RFC 3339 UTC.
    pub sent_at: String,
}
