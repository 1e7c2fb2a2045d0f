//! The audit log as the API shows it: who did what to which object, when, with the object
//! before and after where that applies. The log is append-only; no route edits or deletes it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One audit row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: String,
    /// RFC 3339, UTC.
    pub at: String,
    /// The user who acted; null for a failed login or the system.
    pub actor_id: Option<String>,
    /// The actor's e-mail, the e-mail a failed login tried, or `system`.
    pub actor: String,
    /// e.g. `login.success`, `change.update`, `approval.approve`, `token.create`.
    pub action: String,
    /// e.g. `change`, `user`, `token`, `policy`, `session`.
    pub object_type: String,
    pub object_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub before: Option<Value>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub after: Option<Value>,
    /// The client address, where the request had one.
    pub address: Option<String>,
}

/// A page of the audit log, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

/// The CSV columns of `GET /api/v1/audit/export?format=csv`, in order.
pub const CSV_COLUMNS: [&str; 10] = [
    "id",
    "at",
    "actor_id",
    "actor",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "address",
];
