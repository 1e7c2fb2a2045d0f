//! Queries on `eval_results`: the offline eval runs uploaded for a change (migration 0017).

use shared::eval::EvalUpload;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

use super::{Error, Result};

/// An upload as stored; the gate's verdict on it is judged when read (`app::eval_results`).
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub id: String,
    pub change_id: String,
    pub plan_revision: i64,
    pub uploaded_at: String,
    pub uploaded_by: String,
    pub upload: EvalUpload,
}

/// Who uploaded: a person (`user_id`) or a service token (`token_id`), and the name shown.
#[derive(Debug, Clone, Copy)]
pub struct Uploader<'a> {
    pub label: &'a str,
    pub user_id: Option<&'a str>,
    pub token_id: Option<&'a str>,
}

/// Stores `upload` for `change_id`, with the change's plan revision, if the change is in
/// `eval`; `None` when it is not (moved on, or gone): the caller says why. The state is
/// checked by the insert itself, so a transition racing the upload cannot slip between.
pub async fn insert(
    conn: &mut AnyConnection,
    change_id: &str,
    upload: &EvalUpload,
    by: Uploader<'_>,
    at: &str,
) -> Result<Option<Stored>> {
    let id = super::new_id();
    let json = serde_json::to_string(upload)
        .map_err(|e| Error::internal(format!("an eval upload as JSON: {e}")))?;
    let row = sqlx::query(
        "INSERT INTO eval_results (id, change_id, plan_revision, uploaded_at, uploaded_by, \
         user_id, token_id, upload) \
         SELECT $1, id, plan_revision, $2, $3, $4, $5, $6 FROM changes \
         WHERE id = $7 AND state = 'eval' \
         RETURNING plan_revision",
    )
    .bind(id.as_str())
    .bind(at)
    .bind(by.label)
    .bind(by.user_id)
    .bind(by.token_id)
    .bind(json.as_str())
    .bind(change_id)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    Ok(Some(Stored {
        id,
        change_id: change_id.to_owned(),
        plan_revision: row.try_get(0)?,
        uploaded_at: at.to_owned(),
        uploaded_by: by.label.to_owned(),
        upload: upload.clone(),
    }))
}

const COLUMNS: &str = "id, change_id, plan_revision, uploaded_at, uploaded_by, upload";

/// The change's uploads, newest first.
pub async fn list(pool: &AnyPool, change_id: &str) -> Result<Vec<Stored>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM eval_results WHERE change_id = $1 \
         ORDER BY uploaded_at DESC, id DESC"
    );
    let rows = sqlx::query(&sql).bind(change_id).fetch_all(pool).await?;
    rows.iter().map(from_row).collect()
}

/// The change's newest upload, if any.
pub async fn newest(pool: &AnyPool, change_id: &str) -> Result<Option<Stored>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM eval_results WHERE change_id = $1 \
         ORDER BY uploaded_at DESC, id DESC LIMIT 1"
    );
    let row = sqlx::query(&sql)
        .bind(change_id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// Stores an upload made at `at` by `label` on the caller's transaction, whatever the change's
/// state: the demo seeding writes the eval run of a change whose history it writes too.
pub async fn insert_seeded(
    conn: &mut AnyConnection,
    change_id: &str,
    plan_revision: i64,
    upload: &EvalUpload,
    label: &str,
    at: &str,
) -> Result<()> {
    let json = serde_json::to_string(upload)
        .map_err(|e| Error::internal(format!("an eval upload as JSON: {e}")))?;
    sqlx::query(
        "INSERT INTO eval_results (id, change_id, plan_revision, uploaded_at, uploaded_by, \
         upload) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(super::new_id())
    .bind(change_id)
    .bind(plan_revision)
    .bind(at)
    .bind(label)
    .bind(json)
    .execute(conn)
    .await?;
    Ok(())
}

fn from_row(row: &AnyRow) -> Result<Stored> {
    let id: String = row.try_get("id")?;
    let text: String = row.try_get("upload")?;
    let upload = serde_json::from_str(&text)
        .map_err(|e| Error::internal(format!("stored eval result {id}: {e}")))?;
    Ok(Stored {
        change_id: row.try_get("change_id")?,
        plan_revision: row.try_get("plan_revision")?,
        uploaded_at: row.try_get("uploaded_at")?,
        uploaded_by: row.try_get("uploaded_by")?,
        upload,
        id,
    })
}
