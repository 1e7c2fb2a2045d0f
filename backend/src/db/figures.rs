//! The moves the delivery figures count: every transition's change, action, states, time and
//! whether the guardian made it.

use shared::rollout::{RolloutState, TransitionAction};
use sqlx::{AnyPool, Row};

use super::{Error, Result};

/// One stored move.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMove {
    pub change_id: String,
    pub action: TransitionAction,
    pub from: RolloutState,
    pub to: RolloutState,
    /// RFC 3339, as stored.
    pub at: String,
    pub actor: String,
}

/// Every move of the changes that moved before `to` (RFC 3339), oldest first within a
/// change. Rows of an action this release does not know are left out.
pub async fn moves_before(pool: &AnyPool, to: &str) -> Result<Vec<StoredMove>> {
    let rows = sqlx::query(
        "SELECT id, change_id, action, from_state, from_step, to_state, to_step, at, actor \
         FROM transitions WHERE at < $1 ORDER BY change_id, at, id",
    )
    .bind(to)
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: String = row.try_get("id")?;
        let state = |name_col: &str, step_col: &str| -> Result<RolloutState> {
            let name: String = row.try_get(name_col)?;
            let step: Option<i64> = row.try_get(step_col)?;
            let step = step.and_then(|s| u32::try_from(s).ok());
            RolloutState::from_parts(&name, step)
                .ok_or_else(|| Error::internal(format!("transition {id}: bad stored {name_col}")))
        };
        let action: String = row.try_get("action")?;
        let Some(action) = TransitionAction::parse(&action) else {
            continue;
        };
        out.push(StoredMove {
            change_id: row.try_get("change_id")?,
            action,
            from: state("from_state", "from_step")?,
            to: state("to_state", "to_step")?,
            at: row.try_get("at")?,
            actor: row.try_get("actor")?,
        });
    }
    Ok(out)
}
