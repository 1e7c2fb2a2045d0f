//! Queries on `audit_log`: one append function, used inside the transaction of what it
//! records, and the filtered reads of the audit API. There is no update or delete.

use serde_json::Value;
use shared::audit::AuditEntry;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

use super::{Error, Result};

/// Who an audit row names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Who {
    pub id: Option<String>,
    /// The user's e-mail, the e-mail a failed login tried, or `system`.
    pub label: String,
    pub address: Option<String>,
}

impl Who {
    pub fn system() -> Self {
        Who {
            id: None,
            label: "system".to_owned(),
            address: None,
        }
    }
}

/// A row about to be appended.
#[derive(Debug, Clone)]
pub struct Record<'a> {
    pub who: &'a Who,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: Option<&'a str>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub at: &'a str,
}

impl<'a> Record<'a> {
    /// `who` did `action` to `object_type` `object_id` at `at`; no snapshots yet.
    pub fn new(
        who: &'a Who,
        action: &'a str,
        object_type: &'a str,
        object_id: Option<&'a str>,
        at: &'a str,
    ) -> Self {
        Record {
            who,
            action,
            object_type,
            object_id,
            before: None,
            after: None,
            at,
        }
    }

    /// The object as it was before the action.
    pub fn before(self, value: &(impl serde::Serialize + ?Sized)) -> Self {
        self.before_value(Some(snapshot(value)))
    }

    /// The object as the action left it.
    pub fn after(self, value: &(impl serde::Serialize + ?Sized)) -> Self {
        self.after_value(Some(snapshot(value)))
    }

    pub fn before_value(mut self, value: Option<Value>) -> Self {
        self.before = value;
        self
    }

    pub fn after_value(mut self, value: Option<Value>) -> Self {
        self.after = value;
        self
    }
}

/// A snapshot for the log; a value that cannot be written as JSON is logged as `null`.
fn snapshot(value: &(impl serde::Serialize + ?Sized)) -> Value {
    serde_json::to_value(value).unwrap_or_default()
}

/// Appends `r` on `conn`, normally the transaction of the change it records.
pub async fn append(conn: &mut AnyConnection, r: &Record<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (id, at, actor_id, actor, action, object_type, object_id, \
         before_json, after_json, address) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(super::new_id())
    .bind(r.at)
    .bind(r.who.id.as_deref())
    .bind(r.who.label.as_str())
    .bind(r.action)
    .bind(r.object_type)
    .bind(r.object_id)
    .bind(r.before.as_ref().map(Value::to_string))
    .bind(r.after.as_ref().map(Value::to_string))
    .bind(r.who.address.as_deref())
    .execute(conn)
    .await?;
    Ok(())
}

/// Which rows a read returns; values checked by the caller.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Matches the actor's e-mail (case-insensitively) or id.
    pub actor: Option<String>,
    pub action: Option<String>,
    pub object_id: Option<String>,
    /// RFC 3339 bounds, `[from, to)`.
    pub from: Option<String>,
    pub to: Option<String>,
}

/// One page, newest first, and the number of matches. `limit` None reads everything (export).
pub async fn list(
    pool: &AnyPool,
    filter: &Filter,
    limit: Option<i64>,
    offset: i64,
) -> Result<(Vec<AuditEntry>, i64)> {
    let mut conditions = Vec::new();
    let mut values: Vec<String> = Vec::new();
    if let Some(a) = &filter.actor {
        values.push(a.trim().to_lowercase());
        let n = values.len();
        values.push(a.trim().to_owned());
        conditions.push(format!("(lower(actor) = ${n} OR actor_id = ${})", n + 1));
    }
    for (column, op, value) in [
        ("action", "=", &filter.action),
        ("object_id", "=", &filter.object_id),
        ("at", ">=", &filter.from),
        ("at", "<", &filter.to),
    ] {
        if let Some(v) = value {
            values.push(v.clone());
            conditions.push(format!("{column} {op} ${}", values.len()));
        }
    }
    let where_sql = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };
    let count_sql = format!("SELECT COUNT(*) FROM audit_log{where_sql}");
    let mut count = sqlx::query(&count_sql);
    for v in &values {
        count = count.bind(v.as_str());
    }
    let total: i64 = count.fetch_one(pool).await?.try_get(0)?;
    let mut sql = format!(
        "SELECT id, at, actor_id, actor, action, object_type, object_id, before_json, \
         after_json, address FROM audit_log{where_sql} ORDER BY at DESC, id DESC"
    );
    if limit.is_some() {
        sql.push_str(&format!(
            " LIMIT ${} OFFSET ${}",
            values.len() + 1,
            values.len() + 2
        ));
    }
    let mut page = sqlx::query(&sql);
    for v in &values {
        page = page.bind(v.as_str());
    }
    if let Some(l) = limit {
        page = page.bind(l).bind(offset);
    }
    let rows = page.fetch_all(pool).await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok((items, total))
}

/// The users who edited a change's content (`change.update`) or its metric catalogue
/// (`catalogue.update`: the catalogue decides which verdicts a signer is shown), each once.
pub async fn editors(pool: &AnyPool, change_id: &str) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT DISTINCT actor_id FROM audit_log \
         WHERE action IN ('change.update', 'catalogue.update') AND object_id = $1 AND actor_id IS NOT NULL \
         ORDER BY actor_id",
    )
    .bind(change_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| r.try_get::<String, _>(0).map_err(Into::into))
        .collect()
}

pub async fn count(pool: &AnyPool) -> Result<i64> {
    Ok(sqlx::query("SELECT COUNT(*) FROM audit_log")
        .fetch_one(pool)
        .await?
        .try_get(0)?)
}

fn from_row(row: &AnyRow) -> Result<AuditEntry> {
    let id: String = row.try_get("id")?;
    let json = |column: &str| -> Result<Option<Value>> {
        let text: Option<String> = row.try_get(column)?;
        text.map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|e| Error::internal(format!("audit row {id}: bad {column}: {e}")))
    };
    Ok(AuditEntry {
        at: row.try_get("at")?,
        actor_id: row.try_get("actor_id")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        object_type: row.try_get("object_type")?,
        object_id: row.try_get("object_id")?,
        before: json("before_json")?,
        after: json("after_json")?,
        address: row.try_get("address")?,
        id,
    })
}
