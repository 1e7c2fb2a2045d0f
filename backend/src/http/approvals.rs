//! Sign-off: the upcoming gate of a change (`GET /changes/{id}/gate`), signing it
//! (`POST /changes/{id}/approvals`) and the approvals inbox (`GET /approvals`).
//!
//! The gate rules are `shared::approvals`; this module feeds them the stored signatures that
//! count (same stage, current plan revision) and refuses what they refuse.

use axum::extract::State;
use serde::Deserialize;
use shared::api::ErrorBody;
use shared::approvals::{
    self, ApprovalRecord, ApprovalRequest, Decision, EvidenceSnapshot, GateStatus, Inbox,
    InboxItem, InboxScope, MetricVerdict, Signature, UserRef, stage_key,
};
use shared::auth::Role;
use shared::change::AiChange;
use shared::comparison::{ReportOptions, report};
use shared::metrics::ALL_SEGMENTS;
use shared::rollout::RolloutState;
use sqlx::AnyPool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::authz::AuthUser;
use super::changes::{find, stale};
use super::extract::{Json, Path, Query};
use crate::AppState;
use crate::db::{self, approvals::NewSignature, approvals::Signed, audit::Record};
use crate::error::{Error, Result};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_gate))
        .routes(routes!(sign))
        .routes(routes!(inbox))
}

/// Which gate to show; the upcoming one by default.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct GateQuery {
    /// A later stage's gate, as stored: `canary`, `ramp:1`, `full` (e.g. to sign for a skip).
    stage: Option<String>,
}

/// The gate the rollout passes next: who must sign, who has, who is missing.
#[utoipa::path(
    get,
    path = "/changes/{id}/gate",
    tag = "approvals",
    security(("session_cookie" = [])),
    params(("id" = String, Path, description = "The change's id"), GateQuery),
    responses(
        (status = 200, description = "The gate", body = GateStatus),
        (status = 404, description = "No such change", body = ErrorBody),
        (status = 422, description = "A stage the plan does not have", body = ErrorBody),
    )
)]
async fn get_gate(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<GateQuery>,
) -> Result<Json<GateStatus>> {
    let change = find(&state.pool, &id).await?;
    let stage = match query.stage.as_deref() {
        None => None,
        Some(key) => Some(parse_stage(&change, key, "stage")?),
    };
    Ok(Json(gate_status(&state.pool, &change, stage).await?))
}

fn parse_stage(change: &AiChange, key: &str, field: &str) -> Result<RolloutState> {
    approvals::parse_stage_key(key)
        .filter(|s| shared::rollout::stages(&change.plan).contains(s))
        .ok_or_else(|| Error::validation(field, format!("the plan has no stage `{key}`")))
}

/// The gate of `stage` (the upcoming one when `None`) as it stands.
pub(super) async fn gate_status(
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
    })
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
/// signed off. Called before every advance and skip (never before a rollback).
pub(super) async fn check_gate(pool: &AnyPool, change: &AiChange, to: RolloutState) -> Result<()> {
    let status = gate_status(pool, change, Some(to)).await?;
    // A stage without an approval gate is held only by its notice requirements.
    let no_approvals = approvals::gate_kinds(&change.plan, change.state, to).is_empty();
    if status.satisfied || (no_approvals && status.notices.iter().all(|n| n.satisfied)) {
        return Ok(());
    }
    if no_approvals {
        let missing: Vec<&str> = status
            .notices
            .iter()
            .filter(|n| !n.satisfied)
            .map(|n| n.message.as_str())
            .collect();
        return Err(Error::GateNotSatisfied(format!(
            "entering {} needs: {}",
            to.label(&change.plan),
            missing.join("; ")
        )));
    }
    Err(Error::GateNotSatisfied(status.message))
}

/// Signs the upcoming gate (or the gate of `stage`) as one of the signer's roles. The author
/// of a change may sign only as its requesting engineer ("I ask to start the canary"); every
/// other role's sign-off must come from another person, which is the separation of duties. Signing twice the same way changes nothing; a rejecter
/// who approves (or an approver who rejects) replaces their signature. Stores what the signer
/// was shown: the plan revision and the metric verdicts since the canary started.
#[utoipa::path(
    post,
    path = "/changes/{id}/approvals",
    tag = "approvals",
    security(("session_cookie" = [])),
    params(("id" = String, Path, description = "The change's id")),
    request_body = ApprovalRequest,
    responses(
        (status = 200, description = "The gate after signing", body = GateStatus),
        (status = 403, description = "The author signing, or a role the signer does not \
                                       hold or the gate does not ask for", body = ErrorBody),
        (status = 404, description = "No such change", body = ErrorBody),
        (status = 409, description = "`conflict`: the change moved on since `revision`; or \
                                       the rollout has finished", body = ErrorBody),
        (status = 422, description = "A bad field", body = ErrorBody),
    )
)]
async fn sign(
    State(state): State<AppState>,
    Path(id): Path<String>,
    signer: AuthUser,
    Json(request): Json<ApprovalRequest>,
) -> Result<Json<GateStatus>> {
    let change = find(&state.pool, &id).await?;
    if request.revision != change.revision {
        return Err(stale(request.revision, change.revision));
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
    let gate = gate_status(&state.pool, &change, stage).await?;
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
    let evidence = evidence(&state.pool, &change, gate.plan_revision).await?;
    let at = db::now();
    let key = stage_key(stage);
    let mut tx = db::begin(&state.pool).await?;
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
            at: &at,
        },
    )
    .await?;
    if signed != Signed::Unchanged {
        db::audit::append(
            &mut tx,
            &Record {
                who: &signer.who(),
                action: match request.decision {
                    Decision::Approve => "approval.approve",
                    Decision::Reject => "approval.reject",
                },
                object_type: "change",
                object_id: Some(&change.id),
                before: None,
                after: Some(serde_json::json!({
                    "approval_id": approval_id,
                    "stage": key,
                    "role": request.role,
                    "comment": comment,
                    "plan_revision": gate.plan_revision,
                    "revision": change.revision,
                    "evidence": evidence,
                })),
                at: &at,
            },
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(user = %signer.user.email, change = %id, stage = %key,
                   decision = request.decision.as_str(), "gate signed");
    Ok(Json(gate_status(&state.pool, &change, Some(stage)).await?))
}

/// The plan revision and the aggregate's metric verdicts since the canary started.
async fn evidence(
    pool: &AnyPool,
    change: &AiChange,
    plan_revision: i64,
) -> Result<EvidenceSnapshot> {
    let empty = EvidenceSnapshot {
        plan_revision,
        overall: None,
        verdicts: vec![],
    };
    let Some(started) = db::transitions::entered_at(pool, &change.id, "canary").await? else {
        return Ok(empty);
    };
    let from = OffsetDateTime::parse(&started, &Rfc3339)
        .map(OffsetDateTime::unix_timestamp)
        .map_err(|e| Error::internal(format!("stored transition time {started}: {e}")))?;
    let summary = super::metrics::summary_since(pool, &change.id, Some(from)).await?;
    if summary.windows == 0 {
        return Ok(empty);
    }
    let opts = ReportOptions {
        segment: ALL_SEGMENTS.to_owned(),
        candidate_percent: if change.traffic_percent > 0.0 {
            change.traffic_percent
        } else {
            change.plan.canary.percent
        },
        ..ReportOptions::default()
    };
    let report = report(&summary, &change.plan.criteria, &opts);
    let name = |v: shared::stats::Verdict| {
        serde_json::to_value(v)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    };
    Ok(EvidenceSnapshot {
        plan_revision,
        overall: name(report.overall),
        verdicts: report
            .rows
            .iter()
            .map(|r| MetricVerdict {
                metric: r.key.clone(),
                verdict: r.verdict.and_then(name),
                criterion: r.criterion.clone(),
                control: r.control,
                candidate: r.candidate,
            })
            .collect(),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct InboxQuery {
    /// `waiting_for_me` (default), `waiting_for_others` or `decided`.
    scope: Option<InboxScope>,
}

/// The approvals inbox of the signed-in user.
#[utoipa::path(
    get,
    path = "/approvals",
    tag = "approvals",
    security(("session_cookie" = [])),
    params(InboxQuery),
    responses(
        (status = 200, description = "The inbox", body = Inbox),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "An unknown scope", body = ErrorBody),
    )
)]
async fn inbox(
    State(state): State<AppState>,
    me: AuthUser,
    Query(query): Query<InboxQuery>,
) -> Result<Json<Inbox>> {
    let scope = query.scope.unwrap_or(InboxScope::WaitingForMe);
    let changes = match scope {
        InboxScope::Decided => {
            let mut out = Vec::new();
            for id in db::approvals::changes_signed_by(&state.pool, &me.user.id).await? {
                if let Some(c) = db::changes::find(&state.pool, &id).await? {
                    out.push(c);
                }
            }
            out
        }
        _ => db::changes::open(&state.pool, 500).await?,
    };
    let mut items = Vec::new();
    for change in changes {
        let gate = gate_status(&state.pool, &change, None).await?;
        let include = match scope {
            InboxScope::Decided => true,
            _ => {
                // Signatures only: a signed gate held by a missing notice waits for the
                // notice's authors and Support, not for approvers.
                let signed = gate.missing.is_empty() && gate.rejections.is_empty();
                let waiting = !signed && !gate.required.is_empty();
                let mine = waiting && waits_for(&gate, &me);
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
            });
        }
    }
    if scope != InboxScope::Decided {
        items.sort_by(|a, b| a.waiting_since.cmp(&b.waiting_since));
    }
    Ok(Json(Inbox { scope, items }))
}

/// Whether `me` could move the gate: not signed yet, and holding a role that is still missing
/// and that they may sign as (the author and editors only as the requesting engineer).
fn waits_for(gate: &GateStatus, me: &AuthUser) -> bool {
    let author = gate.shaped_by(&me.user.id);
    let signed = gate
        .approvals
        .iter()
        .chain(&gate.rejections)
        .any(|r| r.user.id == me.user.id);
    !signed
        && gate
            .missing
            .iter()
            .any(|m| me.user.has_role(m.role) && (!author || m.role == Role::Engineer))
}
