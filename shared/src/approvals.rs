//! Approval policies and gates: which roles must sign before a rollout enters a stage, and
//! whether the signatures given so far are enough.
//!
//! Gates are keyed by the stage being entered:
//! * `canary`: eval → canary;
//! * `ramp`: entering any ramp step;
//! * `full_traffic`: the first transition that puts 100 % of traffic on the candidate (the ramp
//!   step at 100 %, or full when the ramp stops short of it). It comes on top of `ramp`: when
//!   both apply, each role needs the larger of the two counts, so "approver ×1" for the ramp and
//!   "approver ×2" for full traffic means two approvers in all, one more than a plain ramp step.
//!
//! Rolling back never waits for a gate.

use serde::{Deserialize, Serialize};

use crate::auth::Role;
use crate::change::RiskTier;
use crate::error::FieldError;
use crate::plan::RolloutPlan;
use crate::rollout::{RolloutState, next_stage};
use crate::stats::Verdict;

/// Most signatures a policy can ask of one role: more than a team has people is a typo.
pub const MAX_COUNT: u32 = 10;
/// Longest approval comment.
pub const MAX_COMMENT: usize = 2000;

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
    strum::VariantArray,
)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum GateKind {
    Canary,
    Ramp,
    FullTraffic,
}

impl GateKind {
    /// The serde name: the text in JSON, in storage and in query strings.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// `count` signatures from people signing as `role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub role: Role,
    pub count: u32,
}

/// The gates of one risk tier. An empty list is a gate that needs nobody.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TierPolicy {
    #[serde(default)]
    pub canary: Vec<Requirement>,
    #[serde(default)]
    pub ramp: Vec<Requirement>,
    #[serde(default)]
    pub full_traffic: Vec<Requirement>,
    /// Hours before the canary a notice to Support must be published (standard and high risk;
    /// `crate::notices::notice_gates`). Absent in policies stored before notices existed:
    /// [`ApprovalPolicies::with_defaults`]
    /// then gives the tier's default (low 0, standard 24, high 24).
    #[serde(default)]
    pub notice_lead_hours: Option<u32>,
}

impl TierPolicy {
    pub fn gate(&self, kind: GateKind) -> &[Requirement] {
        match kind {
            GateKind::Canary => &self.canary,
            GateKind::Ramp => &self.ramp,
            GateKind::FullTraffic => &self.full_traffic,
        }
    }
}

/// `GET`/`PUT /api/v1/policies`: the policy of every risk tier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApprovalPolicies {
    pub low: TierPolicy,
    pub standard: TierPolicy,
    pub high: TierPolicy,
}

fn req(role: Role, count: u32) -> Requirement {
    Requirement { role, count }
}

impl Default for ApprovalPolicies {
    fn default() -> Self {
        use Role::{Approver, Engineer, Pm};
        ApprovalPolicies {
            low: TierPolicy {
                canary: vec![req(Engineer, 1)],
                ramp: vec![],
                full_traffic: vec![],
                notice_lead_hours: Some(0),
            },
            standard: TierPolicy {
                canary: vec![req(Engineer, 1), req(Pm, 1)],
                ramp: vec![req(Approver, 1)],
                full_traffic: vec![],
                notice_lead_hours: Some(24),
            },
            high: TierPolicy {
                canary: vec![req(Engineer, 1), req(Pm, 1), req(Approver, 1)],
                ramp: vec![req(Engineer, 1), req(Pm, 1), req(Approver, 1)],
                full_traffic: vec![req(Approver, 2)],
                notice_lead_hours: Some(24),
            },
        }
    }
}

impl ApprovalPolicies {
    /// Fills in absent notice lead times with the defaults, so that answers always show them.
    pub fn with_defaults(mut self) -> Self {
        let d = ApprovalPolicies::default();
        for (p, d) in [
            (&mut self.low, &d.low),
            (&mut self.standard, &d.standard),
            (&mut self.high, &d.high),
        ] {
            p.notice_lead_hours = p.notice_lead_hours.or(d.notice_lead_hours);
        }
        self
    }

    pub fn tier(&self, tier: RiskTier) -> &TierPolicy {
        match tier {
            RiskTier::Low => &self.low,
            RiskTier::Standard => &self.standard,
            RiskTier::High => &self.high,
        }
    }
}

/// Counts between 1 and [`MAX_COUNT`], each role at most once per gate.
pub fn validate_policies(p: &ApprovalPolicies) -> Result<(), FieldError> {
    for (tier, policy) in [
        ("low", &p.low),
        ("standard", &p.standard),
        ("high", &p.high),
    ] {
        for kind in [GateKind::Canary, GateKind::Ramp, GateKind::FullTraffic] {
            let reqs = policy.gate(kind);
            for (i, r) in reqs.iter().enumerate() {
                let at = format!("{tier}.{}[{i}]", kind.as_str());
                if !(1..=MAX_COUNT).contains(&r.count) {
                    return Err(FieldError::new(
                        format!("{at}.count"),
                        format!("must be between 1 and {MAX_COUNT}"),
                    ));
                }
                if reqs[..i].iter().any(|o| o.role == r.role) {
                    return Err(FieldError::new(
                        format!("{at}.role"),
                        format!("`{}` is listed twice in this gate", r.role.as_str()),
                    ));
                }
            }
        }
        if policy.notice_lead_hours.is_some_and(|h| h > MAX_LEAD_HOURS) {
            return Err(FieldError::new(
                format!("{tier}.notice_lead_hours"),
                format!("must be at most {MAX_LEAD_HOURS} hours (30 days)"),
            ));
        }
    }
    Ok(())
}

/// Longest notice lead time an admin can ask for.
pub const MAX_LEAD_HOURS: u32 = 720;

/// The gates a rollout passes going from `from` to `to`.
pub fn gate_kinds(plan: &RolloutPlan, from: RolloutState, to: RolloutState) -> Vec<GateKind> {
    let mut kinds = Vec::new();
    match to {
        RolloutState::Canary => kinds.push(GateKind::Canary),
        RolloutState::Ramp { .. } => kinds.push(GateKind::Ramp),
        _ => {}
    }
    let full = |s: RolloutState| s.traffic_percent(plan) >= 100.0;
    if matches!(to, RolloutState::Ramp { .. } | RolloutState::Full) && full(to) && !full(from) {
        kinds.push(GateKind::FullTraffic);
    }
    kinds
}

/// What the gates ask for together: per role, the largest count any of them asks.
pub fn requirements(policy: &TierPolicy, kinds: &[GateKind]) -> Vec<Requirement> {
    Role::ALL
        .into_iter()
        .filter_map(|role| {
            let count = kinds
                .iter()
                .flat_map(|k| policy.gate(*k))
                .filter(|r| r.role == role)
                .map(|r| r.count)
                .max()?;
            Some(req(role, count))
        })
        .collect()
}

/// The stage whose gate people sign next: the first stage ahead (advancing from `state`) that
/// has a gate, else the next stage. `None` once the rollout has finished. From a draft this is
/// the canary, so sign-off can be collected while the plan is still being written (and is
/// reset by every edit).
pub fn upcoming_stage(plan: &RolloutPlan, state: RolloutState) -> Option<RolloutState> {
    if state.is_terminal() {
        return None;
    }
    let first = next_stage(plan, state)?;
    let mut from = state;
    let mut to = first;
    loop {
        if !gate_kinds(plan, from, to).is_empty() {
            return Some(to);
        }
        match next_stage(plan, to) {
            Some(next) => {
                from = to;
                to = next;
            }
            None => return Some(first),
        }
    }
}

/// The stage a stored approval is for, as text: `canary`, `ramp:2`, `full`.
pub fn stage_key(stage: RolloutState) -> String {
    match stage {
        RolloutState::Ramp { step } => format!("ramp:{step}"),
        other => other.name().to_owned(),
    }
}

pub fn parse_stage_key(key: &str) -> Option<RolloutState> {
    match key.split_once(':') {
        Some(("ramp", step)) => step.parse().ok().map(|step| RolloutState::Ramp { step }),
        Some(_) => None,
        None => RolloutState::from_parts(key, None),
    }
}

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
pub enum Decision {
    Approve,
    Reject,
}

impl Decision {
    /// The serde name: the text in JSON, in storage and in query strings.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Reads a serde name back; `None` for any other text.
    pub fn parse(s: &str) -> Option<Self> {
        s.parse().ok()
    }
}

/// A signature that counts (made on the current plan revision for this stage).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub user_id: String,
    pub role: Role,
    pub decision: Decision,
}

/// How many more signatures a role owes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Missing {
    pub role: Role,
    pub missing: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub missing: Vec<Missing>,
    /// Someone rejected: the gate stays shut until the plan changes or they approve.
    pub rejected: bool,
}

impl Evaluation {
    pub fn satisfied(&self) -> bool {
        self.missing.is_empty() && !self.rejected
    }
}

/// Counts approvals per role they were signed as; any rejection blocks.
pub fn evaluate(required: &[Requirement], signatures: &[Signature]) -> Evaluation {
    let missing = required
        .iter()
        .filter_map(|r| {
            let given = signatures
                .iter()
                .filter(|s| s.role == r.role && s.decision == Decision::Approve)
                .count();
            let given = u32::try_from(given).unwrap_or(u32::MAX);
            (given < r.count).then(|| Missing {
                role: r.role,
                missing: r.count - given,
            })
        })
        .collect();
    Evaluation {
        missing,
        rejected: signatures.iter().any(|s| s.decision == Decision::Reject),
    }
}

/// "needs 1 more approval from pm and 1 from approver".
pub fn missing_message(missing: &[Missing]) -> String {
    let parts: Vec<String> = missing
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let noun = if m.missing == 1 {
                "approval"
            } else {
                "approvals"
            };
            if i == 0 {
                format!("{} more {noun} from {}", m.missing, m.role.as_str())
            } else {
                format!("{} from {}", m.missing, m.role.as_str())
            }
        })
        .collect();
    let list = match parts.len() {
        0 => return "needs no more approvals".to_owned(),
        1 => parts[0].clone(),
        n => format!("{} and {}", parts[..n - 1].join(", "), parts[n - 1]),
    };
    format!("needs {list}")
}

/// Who signed or wrote something, as the API shows them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserRef {
    pub id: String,
    pub name: String,
    pub email: String,
}

/// Body of `POST /api/v1/changes/{id}/approvals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequest {
    pub decision: Decision,
    /// The role the signer signs as: one they hold and the gate asks for.
    pub role: Role,
    #[serde(default)]
    pub comment: Option<String>,
    /// The change's revision the signer looked at; a stale one gets 409.
    pub revision: i64,
    /// The stage whose gate is signed; the upcoming gate when absent. Name a later stage to
    /// sign for a skip.
    #[serde(default)]
    pub stage: Option<RolloutState>,
    /// The signer's "I have seen the breach": required to approve while the change's health is
    /// Breach (`shared::health`), and stored with the approval.
    #[serde(default)]
    pub seen_breach: bool,
}

/// One metric's verdict when an approval was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricVerdict {
    pub metric: String,
    /// `pass`, `breach` or `inconclusive`; `no_data` for a criterion's metric without data
    /// (never a pass); null for another row that could not be compared.
    pub verdict: Option<String>,
    /// The rollback criterion, as a sentence.
    pub criterion: Option<String>,
    pub control: Option<f64>,
    pub candidate: Option<f64>,
}

/// What the signer was shown: the plan revision and the metric verdicts of the aggregate since
/// the canary started (empty before there are metrics).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceSnapshot {
    pub plan_revision: i64,
    /// `pass`, `breach` or `inconclusive` over every criterion; null without metrics.
    pub overall: Option<String>,
    pub verdicts: Vec<MetricVerdict>,
}

/// A stored approval or rejection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovalRecord {
    pub id: String,
    pub change_id: String,
    /// The stage whose gate it signs.
    pub stage: RolloutState,
    pub user: UserRef,
    pub role: Role,
    pub decision: Decision,
    pub comment: Option<String>,
    pub plan_revision: i64,
    /// The change's revision the signer saw.
    pub revision: i64,
    pub evidence: EvidenceSnapshot,
    /// RFC 3339, UTC.
    pub at: String,
    /// False once the plan has been edited since: it no longer counts.
    pub current: bool,
    /// The signer approved while the change was in Breach, having confirmed they saw it.
    #[serde(default)]
    pub seen_breach: bool,
}

/// `GET /api/v1/changes/{id}/gate`: the upcoming gate and where its sign-off stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GateStatus {
    pub change_id: String,
    pub from: RolloutState,
    /// The stage the gate opens; null when the rollout has finished.
    pub stage: Option<RolloutState>,
    pub stage_label: Option<String>,
    pub gates: Vec<GateKind>,
    pub required: Vec<Requirement>,
    /// Current approvals (made on this plan revision).
    pub approvals: Vec<ApprovalRecord>,
    /// Current rejections; any one blocks the gate.
    pub rejections: Vec<ApprovalRecord>,
    pub missing: Vec<Missing>,
    pub satisfied: bool,
    /// e.g. "needs 1 more approval from pm and 1 from approver".
    pub message: String,
    /// Who created the change; they sign only as its requesting engineer.
    pub author: Option<UserRef>,
    /// Everyone else who edited the change's content or its metric catalogue; like the author,
    /// they sign only as its requesting engineer (whoever shaped a change does not approve it
    /// for another role).
    #[serde(default)]
    pub editors: Vec<UserRef>,
    pub plan_revision: i64,
    pub revision: i64,
    /// The notice requirements of this gate (standard and high risk), each with whether it
    /// is met; `satisfied` and `message` include them.
    #[serde(default)]
    pub notices: Vec<crate::notices::NoticeGate>,
    /// What the stage's evidence must show before the rollout enters it (the eval result for
    /// the canary; time, samples and criterion verdicts for leaving a live stage), each with
    /// whether it does. `satisfied` is the sign-off alone (signatures and notices: what people
    /// can give); the gate opens when it and every check hold ([`GateStatus::opens`]), and
    /// `message` names what is missing of either.
    // The console reads the evidence through `message`: leaving the list's decoder out of the
    // Wasm keeps the console within its size budget.
    #[serde(default)]
    #[cfg_attr(target_arch = "wasm32", serde(skip_deserializing))]
    pub evidence: Vec<EvidenceCheck>,
}

/// One thing the evidence must show before a gate opens, e.g. "Minimum time in Canary 5%".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EvidenceCheck {
    /// What is checked, e.g. "Eval result", "Minimum time in Canary 5%".
    pub label: String,
    pub satisfied: bool,
    /// What stands, as a sentence: why it holds, or what is missing.
    pub detail: String,
}

impl GateStatus {
    /// Whether a transition into the stage would pass: signed off and every evidence check
    /// holds.
    pub fn opens(&self) -> bool {
        self.satisfied && self.evidence.iter().all(|e| e.satisfied)
    }

    /// Whether `user_id` created the change.
    pub fn authored_by(&self, user_id: &str) -> bool {
        self.author.as_ref().is_some_and(|a| a.id == user_id)
    }

    /// Whether `user_id` created or edited the change, and so may sign only as its requesting
    /// engineer.
    pub fn shaped_by(&self, user_id: &str) -> bool {
        self.authored_by(user_id) || self.editors.iter().any(|e| e.id == user_id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum InboxScope {
    /// Gates that need a role the user holds and that they have not signed.
    WaitingForMe,
    /// Gates of changes the user authored, or cannot sign, that wait for someone.
    WaitingForOthers,
    /// Gates the user signed.
    Decided,
}

/// One entry of the approvals inbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct InboxItem {
    pub change_id: String,
    pub title: String,
    pub risk: RiskTier,
    pub state_label: String,
    pub gate: GateStatus,
    /// When the gate opened: the change's last transition or plan edit (RFC 3339, UTC).
    /// Gates still waiting are listed longest-waiting first.
    #[serde(default)]
    pub waiting_since: String,
    /// The change's health (`shared::health`), as its page and the list show it.
    pub health: crate::health::ChangeHealth,
}

/// `GET /api/v1/approvals?scope=…`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Inbox {
    pub scope: InboxScope,
    pub items: Vec<InboxItem>,
}

/// What the evidence checks of a gate read, gathered by the server for the transition from
/// the stage the rollout is at.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageEvidence<'a> {
    /// The change's newest eval result (read when the rollout leaves `eval`).
    pub eval: Option<&'a crate::eval::EvalResult>,
    /// Hours since the rollout entered the stage it is leaving; `None` when it never entered
    /// it by a transition (read as no time at all).
    pub hours_in_stage: Option<f64>,
    /// Requests since then, per arm: (control, candidate).
    pub samples: (u64, u64),
    /// The comparison report over the data since the canary started, with the plan's
    /// criteria; `None` without data.
    pub report: Option<&'a crate::comparison::ComparisonReport>,
    /// Whether the post-deployment review is written (read when the rollout moves to
    /// Reviewed).
    pub review_written: bool,
    /// The days the flag's holdout stays on control at Full (`FlagRules::holdout_days`; read,
    /// with `hours_in_stage` at Full, when the rollout moves to Reviewed).
    pub holdout_days: u32,
    /// The decision recorded on the plan's A/B step (read when the rollout leaves it).
    pub ab_decision: Option<crate::ab::AbOutcome>,
}

/// The evidence the transition from `from` to `to` needs, each check with whether `ev` holds
/// it:
/// * reaching Reviewed: the post-deployment review is written, and the holdout has had its
///   days at Full;
/// * leaving an A/B step: its decision is to keep the candidate (`crate::ab`);
/// * leaving `eval` for production traffic: the newest eval result meets the plan's eval gate
///   (`crate::eval::meets`);
/// * leaving the canary or a ramp step: the stage's minimum time, its minimum samples per arm
///   (a ramp step's `min_samples`; the canary has none, so only its time), no criterion in
///   Breach in any segment, and data for every criterion's metric ("no data" is never a
///   Pass).
///
/// A skip is judged the same way: it leaves the stage it is at, whose evidence it needs, and
/// jumps over the next stage, whose time it does not wait. A rollback or a pause needs none
/// (the caller asks for none).
pub fn evidence_checks(
    plan: &RolloutPlan,
    change_id: &str,
    from: RolloutState,
    to: RolloutState,
    ev: &StageEvidence<'_>,
) -> Vec<EvidenceCheck> {
    let mut checks = Vec::new();
    if to == RolloutState::Reviewed {
        checks.push(EvidenceCheck {
            label: "Post-deployment review".to_owned(),
            satisfied: ev.review_written,
            detail: if ev.review_written {
                "the post-deployment review is written".to_owned()
            } else {
                format!(
                    "the post-deployment review is not written yet: write what users noticed \
                     and the lessons on the Review tab (PUT /api/v1/changes/{change_id}/review)"
                )
            },
        });
        if from == RolloutState::Full && ev.holdout_days > 0 {
            let days = ev.hours_in_stage.unwrap_or(0.0).max(0.0) / 24.0;
            let ok = days >= f64::from(ev.holdout_days);
            checks.push(EvidenceCheck {
                label: format!("Holdout for {} days", ev.holdout_days),
                satisfied: ok,
                detail: format!(
                    "the holdout has been on control {} days at Full{}",
                    hours_text(days),
                    if ok {
                        format!(", at least its {}", ev.holdout_days)
                    } else {
                        format!(
                            " of its {}: the review waits for the long-run comparison",
                            ev.holdout_days
                        )
                    }
                ),
            });
        }
        return checks;
    }
    let moving_on = to.is_live() && to != from;
    if moving_on
        && let Some(step) = from.ramp_step()
        && plan.ramp.get(step as usize).is_some_and(|s| s.ab_test)
    {
        let kept = ev.ab_decision == Some(crate::ab::AbOutcome::Keep);
        checks.push(EvidenceCheck {
            label: "A/B test decision".to_owned(),
            satisfied: kept,
            detail: match ev.ab_decision {
                Some(crate::ab::AbOutcome::Keep) => {
                    "the A/B test's decision is to keep the candidate".to_owned()
                }
                Some(other) => format!("the A/B test decided to {}", other.as_str()),
                None => format!(
                    "the A/B test has no decision yet: once it has run its declared time, \
                     record keep, revert or iterate (POST {}{})",
                    crate::paths::BASE,
                    crate::paths::change_decision(change_id)
                ),
            },
        });
    }
    if from == RolloutState::Eval && moving_on {
        checks.push(eval_check(change_id, ev.eval));
    }
    let (min_hours, min_samples) = match from {
        RolloutState::Canary => (plan.canary.min_duration_hours, 0),
        RolloutState::Ramp { step } => match plan.ramp.get(step as usize) {
            Some(s) => (s.min_duration_hours, s.min_samples),
            None => return checks,
        },
        _ => return checks,
    };
    // A step at 100 % has no control arm left: its samples are the candidate's.
    let with_control = from.traffic_percent(plan) < 100.0;
    if !moving_on {
        return checks;
    }
    let stage = from.label(plan);
    let hours = ev.hours_in_stage.unwrap_or(0.0).max(0.0);
    checks.push(EvidenceCheck {
        label: format!("Minimum time in {stage}"),
        satisfied: hours >= min_hours,
        detail: if hours >= min_hours {
            format!(
                "{stage} has run {} h, at least its {} h",
                hours_text(hours),
                hours_text(min_hours)
            )
        } else {
            format!(
                "{stage} has run {} h of its minimum {} h",
                hours_text(hours),
                hours_text(min_hours)
            )
        },
    });
    if min_samples > 0 && with_control {
        let (control, candidate) = ev.samples;
        let ok = control >= min_samples && candidate >= min_samples;
        checks.push(EvidenceCheck {
            label: "Minimum samples per arm".to_owned(),
            satisfied: ok,
            detail: format!(
                "{stage} has {candidate} requests on the candidate and {control} on control{}",
                if ok {
                    format!(", at least {min_samples} each")
                } else {
                    format!("; each arm needs {min_samples}")
                }
            ),
        });
    } else if min_samples > 0 {
        let candidate = ev.samples.1;
        let ok = candidate >= min_samples;
        checks.push(EvidenceCheck {
            label: "Minimum samples".to_owned(),
            satisfied: ok,
            detail: format!(
                "{stage} has {candidate} requests on the candidate (all traffic){}",
                if ok {
                    format!(", at least {min_samples}")
                } else {
                    format!("; it needs {min_samples}")
                }
            ),
        });
    }
    let breaches: Vec<String> = ev
        .report
        .map(|r| {
            r.matrix
                .iter()
                .filter(|c| c.criterion.is_some() && c.verdict == Some(Verdict::Breach))
                .map(|c| format!("{} in {}", c.key, c.segment))
                .collect()
        })
        .unwrap_or_default();
    checks.push(EvidenceCheck {
        label: "No criterion in breach".to_owned(),
        satisfied: breaches.is_empty(),
        detail: if breaches.is_empty() {
            "no rollback criterion is in breach".to_owned()
        } else {
            format!(
                "a rollback criterion is in breach: {}; roll back",
                breaches.join(", ")
            )
        },
    });
    // A criterion's metric without a verdict in the aggregate has no data (the report judges
    // every cell that has some).
    let mut no_data: Vec<String> = Vec::new();
    for c in &plan.criteria {
        let judged = ev
            .report
            .and_then(|r| r.cell(&c.metric, crate::metrics::ALL_SEGMENTS))
            .is_some_and(|cell| cell.verdict.is_some());
        if !judged && !no_data.contains(&c.metric) {
            no_data.push(c.metric.clone());
        }
    }
    checks.push(EvidenceCheck {
        label: "Data for every criterion".to_owned(),
        satisfied: no_data.is_empty(),
        detail: if no_data.is_empty() {
            "every criterion's metric has data from both arms".to_owned()
        } else {
            format!(
                "no data for {}: a criterion without data is never a pass; send windows of it \
                 from both arms",
                no_data.join(", ")
            )
        },
    });
    checks
}

fn eval_check(change_id: &str, eval: Option<&crate::eval::EvalResult>) -> EvidenceCheck {
    let label = "Eval result".to_owned();
    let Some(r) = eval else {
        return EvidenceCheck {
            label,
            satisfied: false,
            detail: format!(
                "no eval result uploaded: upload one with `rollgate eval upload` or POST it to \
                 {}{}",
                crate::paths::BASE,
                crate::paths::change_eval_results(change_id)
            ),
        };
    };
    let run = format!(
        "pass rate {:.1} % over {} cases, uploaded at {} by {}",
        r.upload.pass_rate * 100.0,
        r.upload.cases,
        r.uploaded_at,
        r.uploaded_by
    );
    if r.problems.is_empty() {
        EvidenceCheck {
            label,
            satisfied: true,
            detail: format!("the newest eval result meets the plan's eval gate ({run})"),
        }
    } else {
        EvidenceCheck {
            label,
            satisfied: false,
            detail: format!(
                "the newest eval result does not meet the plan's eval gate: {} ({run})",
                r.problems.join("; ")
            ),
        }
    }
}

/// "2", "1.5", "0.25": hours as people write them.
fn hours_text(h: f64) -> String {
    let s = format!("{h:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::PlanTemplate;

    fn sig(user: &str, role: Role, decision: Decision) -> Signature {
        Signature {
            user_id: user.into(),
            role,
            decision,
        }
    }

    #[test]
    fn gates_follow_the_stage_entered() {
        let p = PlanTemplate::Standard.plan(); // ramp 10/25/50/100
        use RolloutState::*;
        assert_eq!(gate_kinds(&p, Draft, Eval), vec![]);
        assert_eq!(gate_kinds(&p, Eval, Canary), vec![GateKind::Canary]);
        assert_eq!(
            gate_kinds(&p, Canary, Ramp { step: 0 }),
            vec![GateKind::Ramp]
        );
        assert_eq!(
            gate_kinds(&p, Ramp { step: 2 }, Ramp { step: 3 }),
            vec![GateKind::Ramp, GateKind::FullTraffic]
        );
        // Already at 100 %: full is no new exposure.
        assert_eq!(gate_kinds(&p, Ramp { step: 3 }, Full), vec![]);
        let mut short = p.clone();
        short.ramp.pop();
        assert_eq!(
            gate_kinds(&short, Ramp { step: 2 }, Full),
            vec![GateKind::FullTraffic]
        );
    }

    #[test]
    fn full_traffic_adds_to_the_ramp_by_the_larger_count() {
        let d = ApprovalPolicies::default();
        let r = requirements(&d.high, &[GateKind::Ramp, GateKind::FullTraffic]);
        assert_eq!(
            r,
            vec![
                req(Role::Engineer, 1),
                req(Role::Pm, 1),
                req(Role::Approver, 2)
            ]
        );
        assert_eq!(requirements(&d.low, &[GateKind::Ramp]), vec![]);
    }

    #[test]
    fn the_upcoming_gate_from_a_draft_is_the_canary() {
        let p = PlanTemplate::Standard.plan();
        use RolloutState::*;
        assert_eq!(upcoming_stage(&p, Draft), Some(Canary));
        assert_eq!(upcoming_stage(&p, Eval), Some(Canary));
        assert_eq!(upcoming_stage(&p, Canary), Some(Ramp { step: 0 }));
        assert_eq!(upcoming_stage(&p, Ramp { step: 3 }), Some(Full));
        assert_eq!(upcoming_stage(&p, Full), Some(Reviewed));
        assert_eq!(upcoming_stage(&p, RolledBack), None);
    }

    #[test]
    fn stage_keys_round_trip() {
        for s in crate::rollout::stages(&PlanTemplate::Standard.plan()) {
            assert_eq!(parse_stage_key(&stage_key(s)), Some(s));
        }
        assert_eq!(parse_stage_key("ramp:x"), None);
    }

    #[test]
    fn evaluation_counts_roles_and_rejections_block() {
        let reqs = [
            req(Role::Engineer, 1),
            req(Role::Pm, 1),
            req(Role::Approver, 2),
        ];
        let e = evaluate(&reqs, &[sig("a", Role::Engineer, Decision::Approve)]);
        assert_eq!(
            e.missing,
            vec![
                Missing {
                    role: Role::Pm,
                    missing: 1
                },
                Missing {
                    role: Role::Approver,
                    missing: 2
                }
            ]
        );
        assert_eq!(
            missing_message(&e.missing),
            "needs 1 more approval from pm and 2 from approver"
        );
        let all = [
            sig("a", Role::Engineer, Decision::Approve),
            sig("b", Role::Pm, Decision::Approve),
            sig("c", Role::Approver, Decision::Approve),
            sig("d", Role::Approver, Decision::Approve),
        ];
        assert!(evaluate(&reqs, &all).satisfied());
        let mut rejected = all.to_vec();
        rejected.push(sig("e", Role::Support, Decision::Reject));
        let e = evaluate(&reqs, &rejected);
        assert!(e.missing.is_empty() && e.rejected && !e.satisfied());
    }

    #[test]
    fn policies_are_validated() {
        let mut p = ApprovalPolicies::default();
        assert!(validate_policies(&p).is_ok());
        p.standard.ramp.push(req(Role::Approver, 1));
        assert_eq!(
            validate_policies(&p).unwrap_err().field,
            "standard.ramp[1].role"
        );
        let mut p = ApprovalPolicies::default();
        p.low.canary[0].count = 0;
        assert_eq!(
            validate_policies(&p).unwrap_err().field,
            "low.canary[0].count"
        );
    }

    fn eval_result(pass_rate: f64, problems: &[&str]) -> crate::eval::EvalResult {
        crate::eval::EvalResult {
            id: "e".into(),
            change_id: "c".into(),
            plan_revision: 1,
            uploaded_at: "2026-01-01T00:00:00.000000Z".into(),
            uploaded_by: "token:ci".into(),
            upload: crate::eval::EvalUpload {
                pass_rate,
                cases: 200,
                failures: Default::default(),
                cost_usd: None,
                latency_ms_p50: None,
                latency_ms_p95: None,
                run_url: None,
            },
            meets_gate: problems.is_empty(),
            problems: problems.iter().map(|p| (*p).to_owned()).collect(),
        }
    }

    #[test]
    fn the_canary_needs_an_eval_result_that_meets_the_gate() {
        use RolloutState::*;
        let p = PlanTemplate::Standard.plan();
        let none = evidence_checks(&p, "c1", Eval, Canary, &StageEvidence::default());
        assert_eq!(none.len(), 1);
        assert!(!none[0].satisfied);
        assert!(
            none[0]
                .detail
                .starts_with("no eval result uploaded: upload one with `rollgate eval upload`"),
            "{}",
            none[0].detail
        );
        assert!(none[0].detail.ends_with("/api/v1/changes/c1/eval-results"));
        let low = eval_result(0.8, &["pass rate 80.0 % is below the plan's 90.0 %"]);
        let ev = StageEvidence {
            eval: Some(&low),
            ..StageEvidence::default()
        };
        let c = evidence_checks(&p, "c1", Eval, Canary, &ev);
        assert!(!c[0].satisfied && c[0].detail.contains("below the plan's 90.0 %"));
        let good = eval_result(0.95, &[]);
        let ev = StageEvidence {
            eval: Some(&good),
            ..StageEvidence::default()
        };
        assert!(evidence_checks(&p, "c1", Eval, Canary, &ev)[0].satisfied);
        // A skip from eval straight to the first ramp step needs it too; a rollback nothing.
        assert_eq!(
            evidence_checks(&p, "c1", Eval, Ramp { step: 0 }, &StageEvidence::default()).len(),
            1
        );
        assert!(evidence_checks(&p, "c1", Eval, RolledBack, &StageEvidence::default()).is_empty());
        assert!(evidence_checks(&p, "c1", Draft, Eval, &StageEvidence::default()).is_empty());
    }

    #[test]
    fn reaching_reviewed_needs_the_review_written() {
        use RolloutState::*;
        let p = PlanTemplate::Standard.plan();
        let missing = evidence_checks(&p, "c1", Full, Reviewed, &StageEvidence::default());
        assert_eq!(missing.len(), 1);
        assert!(!missing[0].satisfied);
        assert!(
            missing[0].detail.contains("on the Review tab"),
            "{}",
            missing[0].detail
        );
        assert!(missing[0].detail.ends_with("/api/v1/changes/c1/review)"));
        let written = StageEvidence {
            review_written: true,
            ..StageEvidence::default()
        };
        let c = evidence_checks(&p, "c1", RolledBack, Reviewed, &written);
        assert!(c.len() == 1 && c[0].satisfied, "{c:?}");
    }

    #[test]
    fn leaving_a_live_stage_needs_its_time_its_samples_and_data_without_breach() {
        use RolloutState::*;
        let p = PlanTemplate::Standard.plan(); // canary 24 h; ramp 4 h and 5 000 per arm
        let early = StageEvidence {
            hours_in_stage: Some(2.5),
            ..StageEvidence::default()
        };
        let c = evidence_checks(&p, "c1", Canary, Ramp { step: 0 }, &early);
        let labels: Vec<&str> = c.iter().map(|c| c.label.as_str()).collect();
        // The canary has no sample minimum of its own: its time only.
        assert_eq!(
            labels,
            [
                "Minimum time in Canary 5%",
                "No criterion in breach",
                "Data for every criterion"
            ]
        );
        assert_eq!(c[0].detail, "Canary 5% has run 2.5 h of its minimum 24 h");
        assert!(!c[0].satisfied && c[1].satisfied && !c[2].satisfied);
        assert!(c[2].detail.starts_with(
            "no data for shadow_eval_pass_rate, cost_per_request, latency_p95_ms, hard_error_rate"
        ));
        let ramp = StageEvidence {
            hours_in_stage: Some(5.0),
            samples: (90_000, 4_000),
            ..StageEvidence::default()
        };
        let c = evidence_checks(&p, "c1", Ramp { step: 0 }, Ramp { step: 1 }, &ramp);
        assert!(c[0].satisfied);
        assert_eq!(c[1].label, "Minimum samples per arm");
        assert_eq!(
            c[1].detail,
            "Ramp 10% has 4000 requests on the candidate and 90000 on control; each arm needs 5000"
        );
        assert!(!c[1].satisfied);
        // Pausing stays where it is: nothing to show.
        assert!(evidence_checks(&p, "c1", Canary, Canary, &early).is_empty());
    }
}
