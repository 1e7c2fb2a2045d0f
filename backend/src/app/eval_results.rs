//! Offline eval results: a pipeline (with a service token of scope `ci`) or a person uploads
//! the eval bench's run while the change is in `eval`; the eval gate ([`super::gates`]) lets
//! the canary start only when the newest upload meets the plan's `EvalGate`
//! (`shared::eval::meets`).

use shared::change::AiChange;
use shared::eval::{EvalResult, EvalUpload, meets};
use shared::rollout::RolloutState;
use sqlx::AnyPool;

use super::changes;
use crate::db::{self, audit::Record, audit::Who, eval_results::Stored};
use crate::error::{Error, Result};

/// Who uploads: the audit log's name for them, and which account or token it is.
#[derive(Debug, Clone)]
pub struct Uploader {
    pub who: Who,
    /// A person's name, or `token:<name>`: what the result shows.
    pub label: String,
    pub user_id: Option<String>,
    pub token_id: Option<String>,
}

/// Stores `upload` for the change `id` and answers it judged against the plan's eval gate:
/// 404 without the change, 422 naming the field of a bad upload, 409 unless the change is in
/// `eval`. One audit row per upload.
pub async fn upload(
    pool: &AnyPool,
    by: &Uploader,
    id: &str,
    upload: &EvalUpload,
) -> Result<EvalResult> {
    let change = changes::find(pool, id).await?;
    upload.validate()?;
    if change.state != RolloutState::Eval {
        return Err(not_in_eval(&change));
    }
    let at = db::now();
    let mut tx = db::begin(pool).await?;
    let stored = db::eval_results::insert(
        &mut tx,
        id,
        upload,
        db::eval_results::Uploader {
            label: &by.label,
            user_id: by.user_id.as_deref(),
            token_id: by.token_id.as_deref(),
        },
        &at,
    )
    .await?;
    let Some(stored) = stored else {
        // The change moved on between the read and the insert.
        tx.rollback().await?;
        return Err(not_in_eval(&changes::find(pool, id).await?));
    };
    let result = judged(&change, stored);
    db::audit::append(
        &mut tx,
        &Record::new(&by.who, "eval_result.upload", "change", Some(id), &at).after(&result),
    )
    .await?;
    tx.commit().await?;
    tracing::info!(by = %by.label, change = %id, pass_rate = upload.pass_rate,
                   meets_gate = result.meets_gate, "eval result uploaded");
    Ok(result)
}

fn not_in_eval(change: &AiChange) -> Error {
    Error::conflict(format!(
        "eval results are uploaded while the change is in eval; it is in {}",
        change.state.label(&change.plan)
    ))
}

/// The change's uploads, newest first, each judged against the plan; 404 without the change.
pub async fn list(pool: &AnyPool, id: &str) -> Result<Vec<EvalResult>> {
    let change = changes::find(pool, id).await?;
    Ok(db::eval_results::list(pool, id)
        .await?
        .into_iter()
        .map(|s| judged(&change, s))
        .collect())
}

/// The change's newest upload, judged: what the eval gate reads.
pub async fn newest(pool: &AnyPool, change: &AiChange) -> Result<Option<EvalResult>> {
    Ok(db::eval_results::newest(pool, &change.id)
        .await?
        .map(|s| judged(change, s)))
}

fn judged(change: &AiChange, s: Stored) -> EvalResult {
    let problems = meets(&s.upload, &change.plan.eval_gate);
    EvalResult {
        id: s.id,
        change_id: s.change_id,
        plan_revision: s.plan_revision,
        uploaded_at: s.uploaded_at,
        uploaded_by: s.uploaded_by,
        upload: s.upload,
        meets_gate: problems.is_empty(),
        problems,
    }
}
