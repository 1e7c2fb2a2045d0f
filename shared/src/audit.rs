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

/// One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF, quotes doubled.
/// A leading `=`, `+`, `-` or `@` is prefixed with `'` so a spreadsheet does not run it as a
/// formula (OWASP "CSV injection").
pub fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The CSV line of an entry, without the line break.
pub fn csv_row(e: &AuditEntry) -> String {
    let json = |v: &Option<Value>| v.as_ref().map(Value::to_string).unwrap_or_default();
    [
        e.id.clone(),
        e.at.clone(),
        e.actor_id.clone().unwrap_or_default(),
        e.actor.clone(),
        e.action.clone(),
        e.object_type.clone(),
        e.object_id.clone().unwrap_or_default(),
        json(&e.before),
        json(&e.after),
        e.address.clone().unwrap_or_default(),
    ]
    .iter()
    .map(|f| csv_field(f))
    .collect::<Vec<_>>()
    .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
    }

    #[test]
    fn rows_have_every_column() {
        let e = AuditEntry {
            id: "1".into(),
            at: "2025-01-01T00:00:00.000000Z".into(),
            actor_id: None,
            actor: "ana@example.org".into(),
            action: "change.update".into(),
            object_type: "change".into(),
            object_id: Some("c".into()),
            before: Some(serde_json::json!({"title": "a, b"})),
            after: None,
            address: None,
        };
        let row = csv_row(&e);
        assert!(row.contains("\"{\"\"title\"\":\"\"a, b\"\"}\""), "{row}");
        assert_eq!(row.matches(',').count(), CSV_COLUMNS.len() - 1 + 1, "{row}");
    }
}
