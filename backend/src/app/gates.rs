//! Gates: who must sign before a rollout enters a stage, who has, who is missing, and what
//! the evidence shows ([`status`]); refusing a transition whose gate is not signed off or
//! whose evidence falls short ([`check`]); signing ([`sign`]) and the approvals inbox
//! ([`inbox`]).
//!
//! The gate rules are `shared::approvals` (signatures, `evidence_checks`) and
//! `shared::notices::notice_gates`; this module feeds them the stored signatures that count
//! (same stage, current plan revision), the Support notice, the newest eval result, the time
//! and traffic of the stage and the comparison report, and refuses what they refuse.

use shared::approvals::{
    self, ApprovalPolicies, ApprovalRecord, ApprovalRequest, Decision, EvidenceCheck,
    EvidenceSnapshot, GateStatus, Inbox, InboxItem, InboxScope, MetricVerdict, Signature,
    StageEvidence, UserRef, stage_key,
};
use shared::auth::{Role, User};
use shared::change::AiChange;
use shared::comparison::{ComparisonReport, ReportOptions, report};
use shared::metrics::{ALL_SEGMENTS, Variant};
use shared::rollout::RolloutState;
use sqlx::AnyPool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Actor, changes, eval_results, metrics};
use crate::db::{self, approvals::NewSignature, approvals::Signed, audit::Record};
use crate::error::{Error, Result};

/// The gate of the change `id` at the stage stored as `stage` (`canary`, `ramp:1`, `full`),
/// or the upcoming one when `None`.
pub async fn status_of(pool: &AnyPool, id: &str, stage: Option<&str>) -> Result<GateStatus> {
    let change = changes::find(pool, id).await?;
    let stage = match stage {
        None => None,
        Some(key) => Some(parse_stage(&change, key, "stage")?),
    };
    status(pool, &change, stage).await
}

fn parse_stage(change: &AiChange, key: &str, field: &str) -> Result<RolloutState> {
    approvals::parse_stage_key(key)
        .filter(|s| shared::rollout::stages(&change.plan).contains(s))
        .ok_or_else(|| Error::validation(field, format!("the plan has no stage `{key}`")))
}

/// The gate of `stage` (the upcoming one when `None`) as it stands.
pub async fn status(
    pool: &AnyPool,
    change: &AiChange,
    stage: Option<RolloutState>,
) -> Result<GateStatus> {
    let meta = db::changes::meta(pool, &change.id)
        .await?
        .ok_or_else(|| Error::not_found("change"))?;
    let author = match &meta.created_by {
        Some(uid) => db::users::find(pool, uid).await?.map(|u| UserRef {
            id: u.id,
            name: u.name,
            email: u.email,
        }),
        None => None,
    };
    let mut editors = Vec::new();
    for uid in db::audit::editors(pool, &change.id).await? {
        if meta.created_by.as_deref() == Some(uid.as_str()) {
            continue;
        }
        if let Some(u) = db::users::find(pool, &uid).await? {
            editors.push(UserRef {
                id: u.id,
                name: u.name,
                email: u.email,
            });
        }
    }
    let stage = stage.or_else(|| approvals::upcoming_stage(&change.plan, change.state));
    let Some(stage) = stage else {
        return Ok(GateStatus {
            change_id: change.id.clone(),
            from: change.state,
            stage: None,
            stage_label: None,
            gates: vec![],
            required: vec![],
            approvals: vec![],
            rejections: vec![],
            missing: vec![],
            satisfied: true,
            message: "the rollout has finished; no gate is ahead".to_owned(),
            author,
            editors,
            plan_revision: meta.plan_revision,
            revision: change.revision,
            notices: vec![],
            evidence: vec![],
        });
    };
    // Judged from where the rollout stands: that is where the transition into `stage` (an
    // advance, or a skip to a later stage) will start.
    let from = change.state;
    let gates = approvals::gate_kinds(&change.plan, from, stage);
    let policies = db::policies::current(pool).await?;
    let required = approvals::requirements(policies.tier(change.risk), &gates);
    let records =
        db::approvals::for_stage(pool, &change.id, &stage_key(stage), meta.plan_revision).await?;
    let current: Vec<&ApprovalRecord> = records.iter().filter(|r| r.current).collect();
    let signatures: Vec<Signature> = current
        .iter()
        .map(|r| Signature {
            user_id: r.user.id.clone(),
            role: r.role,
            decision: r.decision,
        })
        .collect();
    let evaluation = approvals::evaluate(&required, &signatures);
    let rejections: Vec<ApprovalRecord> = current
        .iter()
        .filter(|r| r.decision == Decision::Reject)
        .map(|r| (*r).clone())
        .collect();
    let label = stage.label(&change.plan);
    let tier = policies.tier(change.risk);
    let notices = shared::notices::notice_gates(
        change.risk,
        tier.notice_lead_hours.unwrap_or(0),
        &change.plan,
        from,
        stage,
        support_notice(pool, &change.id).await?.as_ref(),
    );
    let notices_missing: Vec<&str> = notices
        .iter()
        .filter(|n| !n.satisfied)
        .map(|n| n.message.as_str())
        .collect();
    let evidence = stage_evidence(pool, change, stage).await?;
    let evidence_missing: Vec<&str> = evidence
        .iter()
        .filter(|e| !e.satisfied)
        .map(|e| e.detail.as_str())
        .collect();
    let message = if !rejections.is_empty() {
        let who: Vec<String> = rejections
            .iter()
            .map(|r| format!("{} ({})", r.user.email, r.role.as_str()))
            .collect();
        format!(
            "entering {label} is blocked: rejected by {}; it opens when the plan changes or \
             they approve",
            who.join(", ")
        )
    } else if evaluation.missing.is_empty() && notices_missing.is_empty() {
        format!("entering {label} is approved")
    } else if evaluation.missing.is_empty() {
        format!("entering {label} needs: {}", notices_missing.join("; "))
    } else {
        let mut m = format!(
            "entering {label} {}",
            approvals::missing_message(&evaluation.missing)
        );
        for n in &notices_missing {
            m.push_str("; ");
            m.push_str(n);
        }
        m
    };
    let message = if evidence_missing.is_empty() {
        message
    } else if rejections.is_empty() && evaluation.missing.is_empty() && notices_missing.is_empty() {
        format!(
            "entering {label} is approved but waits for its evidence: {}",
            evidence_missing.join("; ")
        )
    } else {
        format!(
            "{message}; and its evidence falls short: {}",
            evidence_missing.join("; ")
        )
    };
    Ok(GateStatus {
        change_id: change.id.clone(),
        from: change.state,
        stage: Some(stage),
        stage_label: Some(label),
        gates,
        required,
        approvals: current
            .iter()
            .filter(|r| r.decision == Decision::Approve)
            .map(|r| (*r).clone())
            .collect(),
        rejections,
        satisfied: evaluation.satisfied() && notices_missing.is_empty(),
        missing: evaluation.missing,
        message,
        author,
        editors,
        plan_revision: meta.plan_revision,
        revision: change.revision,
        notices,
        evidence,
    })
}

/// The evidence checks of the transition from where the change stands into `to`
/// (`shared::approvals::evidence_checks`), with what they read: the newest eval result when
/// leaving `eval`; when leaving the canary or a ramp step, the time since the stage was
/// entered, the requests per arm since then and the report since the canary started.
async fn stage_evidence(
    pool: &AnyPool,
    change: &AiChange,
    to: RolloutState,
) -> Result<Vec<EvidenceCheck>> {
    let from = change.state;
    let mut ev = StageEvidence::default();
    let eval = match from {
        RolloutState::Eval => eval_results::newest(pool, change).await?,
        _ => None,
    };
    ev.eval = eval.as_ref();
    let report = match from {
        RolloutState::Canary | RolloutState::Ramp { .. } if to.is_live() && to != from => {
            if let Some(entered) = db::transitions::stage_entered_at(pool, &change.id, from).await?
            {
                let entered = parse_time(&entered)?;
                let now = OffsetDateTime::now_utc();
                ev.hours_in_stage = Some((now - entered).as_seconds_f64() / 3600.0);
                let since =
                    metrics::summary_since(pool, &change.id, Some(entered.unix_timestamp()))
                        .await?;
                let requests = |v: Variant| {
                    since
                        .traffic
                        .iter()
                        .filter(|t| t.segment == ALL_SEGMENTS && t.variant == v)
                        .map(|t| t.requests)
                        .sum::<u64>()
                };
                ev.samples = (requests(Variant::Control), requests(Variant::Candidate));
            }
            stage_report(pool, change).await?
        }
        _ => None,
    };
    ev.report = report.as_ref();
    if to == RolloutState::Reviewed {
        let mut conn = pool.acquire().await?;
        ev.review_written = db::reviews::find(&mut conn, &change.id).await?.is_some();
        drop(conn);
        ev.holdout_days = change.flag_rules.holdout_days;
        if from == RolloutState::Full
            && ev.holdout_days > 0
            && let Some(entered) = db::transitions::stage_entered_at(pool, &change.id, from).await?
        {
            let entered = parse_time(&entered)?;
            ev.hours_in_stage =
                Some((OffsetDateTime::now_utc() - entered).as_seconds_f64() / 3600.0);
        }
    }
    if from
        .ramp_step()
        .and_then(|step| change.plan.ramp.get(step as usize))
        .is_some_and(|s| s.ab_test)
    {
        let mut conn = pool.acquire().await?;
        ev.ab_decision = db::decisions::find(&mut conn, &change.id, false)
            .await?
            .map(|d| d.outcome);
    }
    Ok(approvals::evidence_checks(
        &change.plan,
        &change.id,
        from,
        to,
        &ev,
    ))
}

pub(super) fn parse_time(at: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(at, &Rfc3339)
        .map_err(|e| Error::internal(format!("stored transition time {at}: {e}")))
}

/// The newest published notice of the change to the Support team, with its age and whether
/// Support acknowledged it: what the notice gates judge.
async fn support_notice(
    pool: &AnyPool,
    change_id: &str,
) -> Result<Option<shared::notices::SupportNotice>> {
    let mut conn = pool.acquire().await?;
    let Some(team) = db::teams::id_by_name(&mut conn, shared::teams::SUPPORT_TEAM).await? else {
        return Ok(None);
    };
    let Some((notice_id, published_at, acknowledged)) =
        db::notices::latest_published_to(&mut conn, change_id, &team).await?
    else {
        return Ok(None);
    };
    let published = OffsetDateTime::parse(&published_at, &Rfc3339)
        .map_err(|e| Error::internal(format!("stored published_at `{published_at}`: {e}")))?;
    let age_hours = (OffsetDateTime::now_utc() - published).as_seconds_f64() / 3600.0;
    Ok(Some(shared::notices::SupportNotice {
        notice_id,
        published_at,
        age_hours,
        acknowledged,
    }))
}

/// 409 `gate_not_satisfied` unless the gate of `to`, entered from the change's state, is
/// signed off and its evidence holds, naming what is missing. Called before every advance and
/// skip; never before a rollback or a pause, which must always be possible.
///
/// The evidence ([`shared::approvals::evidence_checks`]): leaving `eval`, the newest eval
/// result meets the plan's eval gate; leaving the canary or a ramp step, the stage's minimum
/// time and samples per arm, no criterion in Breach, every criterion's metric with data. A
/// skip (an admin's, with a written justification) needs the same evidence as an advance
/// from the same stage: it may jump over the next stage's time, never over the evidence of
/// the stage it leaves, nor over a missing or failing eval result.
pub async fn check(pool: &AnyPool, change: &AiChange, to: RolloutState) -> Result<()> {
    let status = status(pool, change, Some(to)).await?;
    // A stage without an approval gate is held only by its notices and its evidence.
    let no_approvals = approvals::gate_kinds(&change.plan, change.state, to).is_empty();
    let notices_ok = status.notices.iter().all(|n| n.satisfied);
    let evidence_ok = status.evidence.iter().all(|e| e.satisfied);
    let signed = status.satisfied || (no_approvals && notices_ok);
    if signed && evidence_ok {
        return Ok(());
    }
    if no_approvals {
        let missing: Vec<&str> = status
            .notices
            .iter()
            .filter(|n| !n.satisfied)
            .map(|n| n.message.as_str())
            .chain(
                status
                    .evidence
                    .iter()
                    .filter(|e| !e.satisfied)
                    .map(|e| e.detail.as_str()),
            )
            .collect();
        return Err(Error::GateNotSatisfied(format!(
            "entering {} needs: {}",
            to.label(&change.plan),
            missing.join("; ")
        )));
    }
    Err(Error::GateNotSatisfied(status.message))
}

/// Signs the gate of `request.stage` (the upcoming one by default) for the change `id` as one
/// of the signer's roles, and answers the gate after signing. Whoever created or edited the
/// change signs only as its requesting engineer (separation of duties); the signature keeps
/// what the signer was shown (plan revision, metric verdicts since the canary started).
pub async fn sign(
    pool: &AnyPool,
    signer: &Actor,
    id: &str,
    request: &ApprovalRequest,
) -> Result<GateStatus> {
    let change = changes::find(pool, id).await?;
    if request.revision != change.revision {
        return Err(changes::stale(request.revision, change.revision));
    }
    let comment = request
        .comment
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > approvals::MAX_COMMENT) {
        return Err(Error::validation(
            "comment",
            format!("must be at most {} characters", approvals::MAX_COMMENT),
        ));
    }
    let stage = match request.stage {
        Some(s) if shared::rollout::stages(&change.plan).contains(&s) => Some(s),
        Some(_) => {
            return Err(Error::validation("stage", "the plan has no such stage"));
        }
        None => None,
    };
    let gate = status(pool, &change, stage).await?;
    let Some(stage) = gate.stage else {
        return Err(Error::conflict(
            "the rollout has finished; there is no gate to sign",
        ));
    };
    if gate.shaped_by(&signer.user.id) && request.role != Role::Engineer {
        let what = if gate.authored_by(&signer.user.id) {
            "created"
        } else {
            "edited"
        };
        return Err(Error::forbidden(format!(
            "you {what} this change, so you cannot sign it as {}: you may sign only as its \
             requesting engineer, and another person must approve it",
            request.role.as_str()
        )));
    }
    if !signer.user.has_role(request.role) {
        return Err(Error::forbidden(format!(
            "you cannot sign as {}: you do not hold that role",
            request.role.as_str()
        )));
    }
    if !gate.required.iter().any(|r| r.role == request.role) {
        let asked: Vec<&str> = gate.required.iter().map(|r| r.role.as_str()).collect();
        return Err(Error::forbidden(format!(
            "the gate of {} asks for no signature from {} (it asks for {})",
            stage.label(&change.plan),
            request.role.as_str(),
            if asked.is_empty() {
                "nobody".to_owned()
            } else {
                asked.join(", ")
            }
        )));
    }
    let report = stage_report(pool, &change).await?;
    let seen_breach = confirm_breach(&change, report.as_ref(), request)?;
    let evidence = evidence(report, gate.plan_revision);
    let at = db::now();
    let key = stage_key(stage);
    let mut tx = db::begin(pool).await?;
    let (approval_id, signed) = db::approvals::sign(
        &mut tx,
        &NewSignature {
            change_id: &change.id,
            stage: &key,
            plan_revision: gate.plan_revision,
            revision: change.revision,
            user_id: &signer.user.id,
            role: request.role,
            decision: request.decision,
            comment,
            evidence: &evidence,
            seen_breach,
            at: &at,
        },
    )
    .await?;
    if signed != Signed::Unchanged {
        db::audit::append(
            &mut tx,
            &Record::new(
                &signer.who(),
                match request.decision {
                    Decision::Approve => "approval.approve",
                    Decision::Reject => "approval.reject",
                },
                "change",
                Some(&change.id),
                &at,
            )
            .after_value(Some(serde_json::json!({
                "approval_id": approval_id,
                "stage": key,
                "role": request.role,
                "comment": comment,
                "plan_revision": gate.plan_revision,
                "revision": change.revision,
                "evidence": evidence,
                "seen_breach": seen_breach,
            }))),
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(user = %signer.user.email, change = %id, stage = %key,
                   decision = request.decision.as_str(), "gate signed");
    let after = status(pool, &change, Some(stage)).await?;
    if signed != Signed::Unchanged && request.decision == Decision::Approve {
        // The signature stands whatever happens here, so a failure is logged, not answered.
        if let Err(e) = ask_for_sign_off(pool, &change, &after, &signer.user.name).await {
            tracing::warn!(change = %id, error = %e, "cannot ask for sign-off");
        }
    }
    Ok(after)
}

/// Asks the teams of the people `gate` still waits for to sign, by webhook: once per gate,
/// plan revision and team, however often it is called and by how many instances (the
/// delivery's `once_key`). Called when someone signs a gate that others must sign too (the
/// requesting engineer's "I ask to start the canary"), and when a move makes a gate that
/// waits for signatures the next one. Nothing for a rejected or signed-off gate.
pub async fn ask_for_sign_off(
    pool: &AnyPool,
    change: &AiChange,
    gate: &GateStatus,
    asked_by: &str,
) -> Result<u64> {
    let (Some(stage), Some(label)) = (gate.stage, gate.stage_label.as_deref()) else {
        return Ok(0);
    };
    if gate.missing.is_empty() || !gate.rejections.is_empty() {
        return Ok(0);
    }
    let roles: Vec<Role> = gate.missing.iter().map(|m| m.role).collect();
    let key = stage_key(stage);
    let waiting = approvals::missing_message(&gate.missing);
    let waiting = waiting.strip_prefix("needs ").unwrap_or(&waiting);
    let message = crate::delivery::Message::sign_off(change, &key, label, waiting, asked_by);
    let message = serde_json::to_string(&message)
        .map_err(|e| Error::internal(format!("cannot serialize a message: {e}")))?;
    let once = format!("sign_off:{}:{key}:{}", change.id, gate.plan_revision);
    let at = db::now();
    let mut tx = db::begin(pool).await?;
    let teams = db::deliveries::teams_with_roles(&mut tx, &roles).await?;
    let queued = db::deliveries::enqueue_message(
        &mut tx,
        &teams,
        &db::deliveries::NewMessage {
            event: "sign_off",
            change_id: &change.id,
            message: &message,
            once_key: Some(&once),
            at: &at,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(queued)
}

/// The comparison report over the change's data since its canary started, as the console
/// draws it (the aggregate's rows, every segment in the matrix) with the plan's criteria;
/// `None` before the canary or without data.
pub async fn stage_report(pool: &AnyPool, change: &AiChange) -> Result<Option<ComparisonReport>> {
    let Some(started) = db::transitions::entered_at(pool, &change.id, "canary").await? else {
        return Ok(None);
    };
    report_since(pool, change, parse_time(&started)?.unix_timestamp()).await
}

/// The comparison report over the change's data since `from` (Unix seconds), with the plan's
/// criteria; `None` without data. An A/B test's decision is made on its step's own data.
pub async fn report_since(
    pool: &AnyPool,
    change: &AiChange,
    from: i64,
) -> Result<Option<ComparisonReport>> {
    let summary = metrics::summary_since(pool, &change.id, Some(from)).await?;
    if summary.windows == 0 {
        return Ok(None);
    }
    let opts = ReportOptions {
        segment: ALL_SEGMENTS.to_owned(),
        candidate_percent: shared::ab::below_holdout(
            if change.traffic_percent > 0.0 {
                change.traffic_percent
            } else {
                change.plan.canary.percent
            },
            change.state,
            shared::ab::Holdout::of(&change.flag_rules),
        ),
        ..ReportOptions::default()
    };
    Ok(Some(report(&summary, &change.plan.criteria, &opts)))
}

/// The verdict an approval's evidence gives a criterion whose metric has no data.
pub const NO_DATA: &str = "no_data";

/// Whether the signer confirmed the change's breach, when that is needed: an approval while
/// the change's health (`shared::health`, read from `report`) is Breach needs `seen_breach`,
/// or it is refused with 422 naming the field. A rejection, or an approval without a breach,
/// needs none and stores none.
fn confirm_breach(
    change: &AiChange,
    report: Option<&ComparisonReport>,
    request: &ApprovalRequest,
) -> Result<bool> {
    if request.decision != Decision::Approve {
        return Ok(false);
    }
    // A change with a gate ahead is not rolled back: its health needs no rollback's actor.
    let health = shared::health::health(change, None, None, report);
    if health.kind != shared::health::HealthKind::Breach {
        return Ok(false);
    }
    if !request.seen_breach {
        return Err(Error::validation(
            "seen_breach",
            format!(
                "the change is in breach ({}): approving needs `seen_breach: true`, your \
                 confirmation that you have seen the breach",
                health.reason
            ),
        ));
    }
    Ok(true)
}

/// The plan revision and the aggregate's metric verdicts of `report` (since the canary
/// started).
fn evidence(report: Option<ComparisonReport>, plan_revision: i64) -> EvidenceSnapshot {
    let Some(report) = report else {
        return EvidenceSnapshot {
            plan_revision,
            overall: None,
            verdicts: vec![],
        };
    };
    let name = |v: shared::stats::Verdict| {
        serde_json::to_value(v)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    };
    EvidenceSnapshot {
        plan_revision,
        overall: name(report.overall),
        verdicts: report
            .rows
            .iter()
            .map(|r| MetricVerdict {
                metric: r.key.clone(),
                // A criterion's metric without data is "no data", its own verdict.
                verdict: match r.verdict {
                    Some(v) => name(v),
                    None if r.criterion.is_some() => Some(NO_DATA.to_owned()),
                    None => None,
                },
                criterion: r.criterion.clone(),
                control: r.control,
                candidate: r.candidate,
            })
            .collect(),
    }
}

/// The approvals inbox of `me`.
pub async fn inbox(pool: &AnyPool, me: &User, scope: Option<InboxScope>) -> Result<Inbox> {
    let scope = scope.unwrap_or(InboxScope::WaitingForMe);
    let changes = match scope {
        InboxScope::Decided => {
            let mut out = Vec::new();
            for id in db::approvals::changes_signed_by(pool, &me.id).await? {
                if let Some(c) = db::changes::find(pool, &id).await? {
                    out.push(c);
                }
            }
            out
        }
        _ => db::changes::open(pool, 500).await?,
    };
    let mut items = Vec::new();
    for change in changes {
        let gate = status(pool, &change, None).await?;
        let include = match scope {
            InboxScope::Decided => true,
            _ => {
                // Signatures only: a signed gate held by a missing notice waits for the
                // notice's authors and Support, not for approvers.
                let signed = gate.missing.is_empty() && gate.rejections.is_empty();
                let waiting = !signed && !gate.required.is_empty();
                let mine = waiting && waits_for(&gate, me);
                match scope {
                    InboxScope::WaitingForMe => mine,
                    _ => waiting && !mine,
                }
            }
        };
        if include {
            items.push(InboxItem {
                change_id: change.id.clone(),
                title: change.title.clone(),
                risk: change.risk,
                state_label: change.state.label(&change.plan),
                gate,
                waiting_since: change.updated_at.clone(),
                health: changes::health(pool, &change).await?,
            });
        }
    }
    if scope != InboxScope::Decided {
        items.sort_by(|a, b| a.waiting_since.cmp(&b.waiting_since));
    }
    Ok(Inbox { scope, items })
}

/// Whether `me` could move the gate: not signed yet, and holding a role that is still missing
/// and that they may sign as (the author and editors only as the requesting engineer).
fn waits_for(gate: &GateStatus, me: &User) -> bool {
    let author = gate.shaped_by(&me.id);
    let signed = gate
        .approvals
        .iter()
        .chain(&gate.rejections)
        .any(|r| r.user.id == me.id);
    !signed
        && gate
            .missing
            .iter()
            .any(|m| me.has_role(m.role) && (!author || m.role == Role::Engineer))
}

/// Replaces the approval policies (which roles sign which gate, per risk tier), recorded in
/// the audit log. Absent lead times mean the tier's default, stored explicitly from now on.
pub async fn set_policies(
    pool: &AnyPool,
    actor: &Actor,
    policies: &ApprovalPolicies,
) -> Result<ApprovalPolicies> {
    approvals::validate_policies(policies)?;
    let policies = policies.clone().with_defaults();
    let before = db::policies::current(pool).await?;
    let at = db::now();
    let mut tx = db::begin(pool).await?;
    db::policies::set(&mut tx, &policies, Some(&actor.user.id), &at).await?;
    db::audit::append(
        &mut tx,
        &Record::new(&actor.who(), "policy.update", "policy", None, &at)
            .before(&before)
            .after(&policies),
    )
    .await?;
    tx.commit().await?;
    Ok(policies)
}
