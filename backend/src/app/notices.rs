//! Notices to teams about a change: the notice a transition publishes by itself.
//!
//! Drafting, publishing and acknowledging by hand are still orchestrated in
//! `http/notices.rs`; they move here when a second caller needs them.

use shared::change::AiChange;
use shared::notices::{NoticeStatus, automatic_notice};
use shared::rollout::{RolloutState, TransitionAction};
use sqlx::AnyConnection;

use crate::db::{self, audit::Record, audit::Who, notices::NewNotice};
use crate::error::Result;

/// Publishes, inside the transaction of a rollback, a move to 100 % or a skip, the notice
/// that tells the change's audience (the teams of its latest notice, else Support) what
/// happened and what users may see now (`shared::notices::automatic_notice`). Nothing for
/// other transitions. Returns the notice's id.
pub async fn automatic(
    conn: &mut AnyConnection,
    change: &AiChange,
    action: TransitionAction,
    to: RolloutState,
    reason: Option<&str>,
    who: &Who,
    at: &str,
) -> Result<Option<String>> {
    let Some(text) = automatic_notice(
        &change.title,
        &change.expected_changes,
        &change.plan,
        change.state,
        action,
        to,
        reason,
    ) else {
        return Ok(None);
    };
    let mut audience = db::notices::latest_audience(conn, &change.id).await?;
    if audience.is_empty() {
        match db::teams::id_by_name(conn, shared::teams::SUPPORT_TEAM).await? {
            Some(support) => audience.push(support),
            // Support was renamed or removed and nobody was ever told: no one to address.
            None => return Ok(None),
        }
    }
    let stage = serde_json::to_string(&to).ok();
    let id = db::notices::insert(
        conn,
        &NewNotice {
            change_id: &change.id,
            previous_id: None,
            status: NoticeStatus::Published,
            kind: text.kind,
            audience: &audience,
            planned_at: Some(at),
            planned_stage: stage,
            expected_changes: &text.expected_changes,
            talking_points: &text.talking_points,
            created_by: who.id.as_deref(),
            at,
        },
    )
    .await?;
    db::deliveries::enqueue(conn, &id, at).await?;
    let notice = db::notices::find(conn, &id).await?;
    db::audit::append(
        conn,
        &Record {
            who,
            action: "notice.publish",
            object_type: "notice",
            object_id: Some(&id),
            before: None,
            after: notice.map(|n| serde_json::to_value(n).unwrap_or_default()),
            at,
        },
    )
    .await?;
    Ok(Some(id))
}
