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
}

/// One metric's verdict when an approval was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricVerdict {
    pub metric: String,
    /// `pass`, `breach` or `inconclusive`; null when the row could not be compared.
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
}

impl GateStatus {
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
}

/// `GET /api/v1/approvals?scope=…`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Inbox {
    pub scope: InboxScope,
    pub items: Vec<InboxItem>,
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
}
