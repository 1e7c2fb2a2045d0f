//! What a gate shows below its heading: the roles signed and missing, the notice
//! requirements, and each signature with the evidence it was given.

use leptos::prelude::*;
use shared::approvals::{ApprovalRecord, Decision, EvidenceSnapshot, GateStatus};
use shared::notices::{NoticeGate, NoticeRequirement};

use super::{missing_text, notice_short};
use crate::format;

/// Roles signed and missing, the notice requirements, and each signature with its evidence.
#[component]
pub(super) fn GateDetails(gate: GateStatus) -> impl IntoView {
    let g = gate;
    let notices = view! { <GateNotices gates=g.notices.clone() /> };
    if g.required.is_empty() {
        return view! {
            <p class="subtle">"The approval policy asks nobody to sign this stage for this risk tier."</p>
            {notices}
        }
        .into_any();
    }
    let roles = g
        .required
        .iter()
        .map(|r| {
            let signers: Vec<&str> = g
                .approvals
                .iter()
                .filter(|a| a.role == r.role)
                .map(|a| a.user.name.as_str())
                .collect();
            let done = signers.len() >= r.count as usize;
            let who = if signers.is_empty() {
                "nobody yet".to_string()
            } else {
                signers.join(", ")
            };
            view! {
                <div class=if done { "gate-role done" } else { "gate-role" } data-role=r.role.as_str()>
                    <span class="gate-check" aria-hidden="true">{if done { "✓" } else { "" }}</span>
                    <span class="gate-role-name">{r.role.label()}</span>
                    <span class="gate-count">{format!("{} of {}", signers.len().min(r.count as usize), r.count)}</span>
                    <span class="subtle gate-who">{who}</span>
                </div>
            }
        })
        .collect_view();
    let missing = (!g.missing.is_empty() || g.notices.iter().any(|n| !n.satisfied)).then(|| {
        let roles = g
            .missing
            .iter()
            .map(|m| view! { <span class="tag tag-missing" data-role=m.role.as_str()>{missing_text(m)}</span> })
            .collect_view();
        let notices = g
            .notices
            .iter()
            .filter(|n| !n.satisfied)
            .map(|n| {
                view! {
                    <span class="tag tag-missing" data-notice=requirement_name(n.requirement)>
                        {notice_short(n.requirement, &n.team)}
                    </span>
                }
            })
            .collect_view();
        view! {
            <p class="gate-missing" data-test="gate-missing"><span class="subtle">"Missing: "</span>{roles}{notices}</p>
        }
    });
    let sigs: Vec<ApprovalRecord> = g.rejections.iter().chain(&g.approvals).cloned().collect();
    let sigs = (!sigs.is_empty()).then(|| {
        view! {
            <ul class="signatures">
                {sigs.into_iter().map(|s| view! { <Signature sig=s /> }).collect_view()}
            </ul>
        }
    });
    view! {
        <div class="gate-roles">{roles}</div>
        {notices}
        {missing}
        {sigs}
    }
    .into_any()
}

fn requirement_name(r: NoticeRequirement) -> &'static str {
    match r {
        NoticeRequirement::PublishedBeforeCanary => "published_before_canary",
        NoticeRequirement::AcknowledgedBeforeWideRamp => "acknowledged_before_wide_ramp",
    }
}

/// The gate's notice requirements (standard and high risk): each met or what is missing.
#[component]
fn GateNotices(gates: Vec<NoticeGate>) -> impl IntoView {
    (!gates.is_empty()).then(|| {
        let rows = gates
            .into_iter()
            .map(|n| {
                let title = match n.requirement {
                    NoticeRequirement::PublishedBeforeCanary if n.lead_hours == 0 => {
                        format!("Notice to {} published before the canary", n.team)
                    }
                    NoticeRequirement::PublishedBeforeCanary => format!(
                        "Notice to {} published {} before the canary",
                        n.team,
                        format::hours(f64::from(n.lead_hours))
                    ),
                    NoticeRequirement::AcknowledgedBeforeWideRamp => {
                        format!("{} acknowledged before the ramp passes 25%", n.team)
                    }
                };
                view! {
                    <div class=if n.satisfied { "gate-role gate-notice done" } else { "gate-role gate-notice" }
                        data-test="gate-notice" data-requirement=requirement_name(n.requirement) data-satisfied=n.satisfied.to_string()>
                        <span class="gate-check" aria-hidden="true">{if n.satisfied { "✓" } else { "" }}</span>
                        <span class="gate-role-name">{title}</span>
                        <span class="subtle gate-who">{format::capitalise(&n.message)}</span>
                    </div>
                }
            })
            .collect_view();
        view! {
            <div class="gate-notices" data-test="gate-notices"><span class="gate-notices-title">"Notices"</span>{rows}</div>
        }
    })
}

/// One signature: who, as which role, when, their comment and the evidence they saw.
#[component]
fn Signature(sig: ApprovalRecord) -> impl IntoView {
    let s = sig;
    let (verb, class) = match s.decision {
        Decision::Approve => ("approved", "sig-approve"),
        Decision::Reject => ("rejected", "sig-reject"),
    };
    let comment = s
        .comment
        .clone()
        .filter(|c| !c.trim().is_empty())
        .map(|c| view! { <blockquote class="history-reason">{c}</blockquote> });
    view! {
        <li class=format!("signature {class}") data-test="signature" data-decision=s.decision.as_str()>
            <div class="signature-line">
                <strong>{s.user.name.clone()}</strong>
                {format!(" {verb} as ")}
                <span class="tag">{s.role.as_str()}</span>
                <span class="subtle" title=format::date_time(&s.at)>{format!(" · {}", format::relative_time(&s.at))}</span>
            </div>
            {comment}
            <details class="evidence" data-test="evidence">
                <summary>"View evidence"</summary>
                {s.seen_breach.then(|| view! {
                    <p class="seen-breach-note" data-test="seen-breach-note">"Approved in breach: confirmed “I have seen the breach”."</p>
                })}
                <Evidence evidence=s.evidence.clone() />
            </details>
        </li>
    }
}

/// What the signer was shown: the plan revision and the metric verdicts.
#[component]
fn Evidence(evidence: EvidenceSnapshot) -> impl IntoView {
    let e = evidence;
    let overall = e.overall.as_deref().unwrap_or("no metrics yet");
    let head = format!(
        "Plan revision {} · overall verdict: {overall}",
        e.plan_revision
    );
    let body = if e.verdicts.is_empty() {
        view! { <p class="subtle">"No metric windows had arrived when this was signed."</p> }
            .into_any()
    } else {
        let num = |x: Option<f64>| x.map(format::number).unwrap_or_else(|| "—".into());
        let rows = e
            .verdicts
            .iter()
            .map(|v| {
                let verdict = v.verdict.clone().unwrap_or_else(|| "—".into());
                let class = format!("verdict verdict-{verdict}");
                view! {
                    <tr>
                        <td class="mono">{v.metric.clone()}</td>
                        <td>{v.criterion.clone().unwrap_or_default()}</td>
                        <td class="num">{num(v.control)}</td>
                        <td class="num">{num(v.candidate)}</td>
                        <td><span class=class>{verdict}</span></td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <table class="table table-compact">
                <thead><tr><th>"Metric"</th><th>"Criterion"</th><th class="num">"Control"</th><th class="num">"Candidate"</th><th>"Verdict"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
        .into_any()
    };
    view! {
        <div class="evidence-body">
            <p class="subtle">{head}</p>
            {body}
        </div>
    }
}
