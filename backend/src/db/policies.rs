//! Queries on `approval_policies`: one JSON document, the defaults when absent.

use shared::approvals::ApprovalPolicies;
use sqlx::{AnyConnection, AnyPool, Row};

use super::{Error, Result};

pub async fn current(pool: &AnyPool) -> Result<ApprovalPolicies> {
    let row = sqlx::query("SELECT policies FROM approval_policies WHERE id = 'current'")
        .fetch_optional(pool)
        .await?;
    match row {
        None => Ok(ApprovalPolicies::default()),
        Some(r) => {
            let text: String = r.try_get(0)?;
            serde_json::from_str::<ApprovalPolicies>(&text)
                .map(ApprovalPolicies::with_defaults)
                .map_err(|e| Error::internal(format!("stored approval policies: {e}")))
        }
    }
}

pub async fn set(
    conn: &mut AnyConnection,
    policies: &ApprovalPolicies,
    by: Option<&str>,
    at: &str,
) -> Result<()> {
    let json = serde_json::to_string(policies)
        .map_err(|e| Error::internal(format!("cannot serialize policies: {e}")))?;
    sqlx::query(
        "INSERT INTO approval_policies (id, policies, updated_by, updated_at) \
         VALUES ('current', $1, $2, $3) ON CONFLICT (id) DO UPDATE SET \
         policies = excluded.policies, updated_by = excluded.updated_by, \
         updated_at = excluded.updated_at",
    )
    .bind(json)
    .bind(by)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}
