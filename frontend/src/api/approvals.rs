//! Sign-off: a change's gates, the approvals inbox and the approval policies; and the audit
//! log of who did what.

use gloo_net::http::Method;
use serde::Deserialize;
use shared::approvals::{ApprovalPolicies, ApprovalRequest, GateStatus, Inbox, InboxScope};
use shared::audit::AuditPage;
use shared::paths::{self, BASE};
use shared::rollout::RolloutState;

use super::{ApiResult, query, send};

/// The gate the change passes next (or, given `stage`, the gate of that later stage) and
/// where its sign-off stands.
pub async fn gate(change_id: &str, stage: Option<RolloutState>) -> ApiResult<GateStatus> {
    let mut path = paths::change_gate(change_id);
    if let Some(s) = stage {
        path += &query(&[("stage", shared::approvals::stage_key(s))]);
    }
    send(Method::GET, &path, None::<&()>).await
}

/// Approves or rejects the upcoming gate; answers the gate afterwards.
pub async fn sign(change_id: &str, body: &ApprovalRequest) -> ApiResult<GateStatus> {
    let path = paths::change_approvals(change_id);
    send(Method::POST, &path, Some(body)).await
}

pub fn scope_name(scope: InboxScope) -> &'static str {
    match scope {
        InboxScope::WaitingForMe => "waiting_for_me",
        InboxScope::WaitingForOthers => "waiting_for_others",
        InboxScope::Decided => "decided",
    }
}

pub async fn inbox(scope: InboxScope) -> ApiResult<Inbox> {
    send(Method::GET, &inbox_path(scope), None::<&()>).await
}

/// How many gates wait in `scope`. The top bar's badge needs only the count, asked on every
/// navigation: the entries are skipped over, not decoded.
pub async fn inbox_count(scope: InboxScope) -> ApiResult<usize> {
    #[derive(Deserialize)]
    struct Entries {
        items: Vec<serde::de::IgnoredAny>,
    }
    let inbox: Entries = send(Method::GET, &inbox_path(scope), None::<&()>).await?;
    Ok(inbox.items.len())
}

fn inbox_path(scope: InboxScope) -> String {
    format!(
        "{}{}",
        paths::APPROVALS,
        query(&[("scope", scope_name(scope).to_string())])
    )
}

pub async fn policies() -> ApiResult<ApprovalPolicies> {
    send(Method::GET, paths::POLICIES, None::<&()>).await
}

pub async fn save_policies(body: &ApprovalPolicies) -> ApiResult<ApprovalPolicies> {
    send(Method::PUT, paths::POLICIES, Some(body)).await
}

/// Filters of the audit log, as kept in the URL query; empty strings are left out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditQuery {
    pub actor: String,
    pub action: String,
    pub object_id: String,
    /// RFC 3339 bounds.
    pub from: String,
    pub to: String,
    pub page: u32,
}

impl AuditQuery {
    pub fn params(&self) -> Vec<(&'static str, String)> {
        [
            ("actor", &self.actor),
            ("action", &self.action),
            ("object_id", &self.object_id),
            ("from", &self.from),
            ("to", &self.to),
        ]
        .into_iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k, v.trim().to_string()))
        .collect()
    }

    /// The export's URL with the same filters (a plain link: the browser sends the cookie).
    pub fn export_href(&self, format: &str) -> String {
        let mut p = self.params();
        p.push(("format", format.to_string()));
        format!("{BASE}{}{}", paths::AUDIT_EXPORT, query(&p))
    }
}

pub async fn audit(q: &AuditQuery, per_page: u32) -> ApiResult<AuditPage> {
    let mut p = q.params();
    p.push(("page", q.page.max(1).to_string()));
    p.push(("per_page", per_page.to_string()));
    send(
        Method::GET,
        &format!("{}{}", paths::AUDIT, query(&p)),
        None::<&()>,
    )
    .await
}
