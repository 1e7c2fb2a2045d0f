//! AI changes: list, create, read and edit a draft.

use shared::api::{ChangeDetail, ChangePage, ChangeSummary, ChangeUpdate, NewChange};
use shared::change::{AiChange, ChangeKind};
use shared::rollout::STATE_NAMES;
use shared::validate;
use sqlx::AnyPool;

use super::Actor;
use crate::db::{self, audit::Record};
use crate::error::{Error, Result};

pub const DEFAULT_PER_PAGE: u32 = 20;

/// Which changes to list; `None` is "no filter" or the default page.
#[derive(Debug, Default)]
pub struct ListRequest {
    pub state: Option<String>,
    pub kind: Option<ChangeKind>,
    /// Only the change with this flag key (at most one: flag keys are unique).
    pub flag_key: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Changes, newest first, filtered by state and kind, a page at a time.
pub async fn list(pool: &AnyPool, request: ListRequest) -> Result<ChangePage> {
    if let Some(s) = &request.state
        && !STATE_NAMES.contains(&s.as_str())
    {
        return Err(Error::validation(
            "state",
            format!("unknown state `{s}`; use one of {}", STATE_NAMES.join(", ")),
        ));
    }
    let (page, per_page) = validate::paging(request.page, request.per_page, DEFAULT_PER_PAGE)?;
    if let Some(key) = &request.flag_key {
        let items: Vec<ChangeSummary> = find_by_flag_key(pool, key)
            .await?
            .filter(|c| {
                request.state.as_deref().is_none_or(|s| c.state.name() == s)
                    && request.kind.is_none_or(|k| c.kind == k)
            })
            .iter()
            .filter(|_| page == 1)
            .map(ChangeSummary::from)
            .collect();
        return Ok(ChangePage {
            total: items.len() as i64,
            items,
            page,
            per_page,
        });
    }
    let filter = db::changes::Filter {
        state: request.state,
        kind: request.kind,
    };
    let offset = (i64::from(page) - 1) * i64::from(per_page);
    let (items, total) = db::changes::list(pool, &filter, i64::from(per_page), offset).await?;
    Ok(ChangePage {
        items: items.iter().map(ChangeSummary::from).collect(),
        total,
        page,
        per_page,
    })
}

/// Creates a draft change, recorded in the audit log.
pub async fn create(pool: &AnyPool, actor: &Actor, new: &NewChange) -> Result<AiChange> {
    validate::new_change(new)?;
    let at = db::now();
    let mut tx = db::begin(pool).await?;
    let change = db::changes::create_recorded(&mut tx, new, &actor.who(), &at).await?;
    tx.commit().await?;
    super::flags::changed(pool).await;
    tracing::info!(actor = %actor.user.email, id = %change.id, "change created");
    Ok(change)
}

/// Replaces a draft's content, if `edit.revision` is still current.
pub async fn update(
    pool: &AnyPool,
    actor: &Actor,
    id: &str,
    edit: &ChangeUpdate,
) -> Result<ChangeDetail> {
    let current = find(pool, id).await?;
    check_editable(pool, &current, edit.revision).await?;
    validate::change_update(edit)?;
    let at = db::now();
    let mut tx = db::begin(pool).await?;
    if let Some(key) = &edit.flag_key
        && let Some(owner) = db::changes::flag_key_owner(&mut tx, key).await?
        && owner != id
    {
        return Err(Error::validation(
            "flag_key",
            format!("`{key}` is already the flag key of another change"),
        ));
    }
    let updated = db::changes::update_draft(&mut tx, id, edit, &at).await?;
    if updated {
        db::audit::append(
            &mut tx,
            &Record::new(&actor.who(), "change.update", "change", Some(id), &at)
                .before(&current)
                .after(edit),
        )
        .await?;
        tx.commit().await?;
        super::flags::changed(pool).await;
    } else {
        tx.rollback().await?;
    }
    if !updated {
        // Someone moved or edited it between our read and our write: explain with a re-read.
        let now = find(pool, id).await?;
        check_editable(pool, &now, edit.revision).await?;
        return Err(stale(edit.revision, now.revision));
    }
    tracing::info!(actor = %actor.user.email, %id, revision = edit.revision + 1, "change edited");
    let change = find(pool, id).await?;
    detail(pool, change).await
}

/// 409 `frozen` once the rollout started, 409 `conflict` when `revision` is stale.
pub(super) async fn check_editable(pool: &AnyPool, change: &AiChange, revision: i64) -> Result<()> {
    if !change.state.plan_is_editable() {
        let since = match db::transitions::started_at(pool, &change.id).await? {
            Some(at) => format!("the rollout started at {at}"),
            None => "the rollout has started".to_owned(),
        };
        return Err(Error::frozen(format!(
            "the plan is frozen: {since} and the change is now {}; roll it back and create a \
             new change to try different settings",
            change.state.label(&change.plan)
        )));
    }
    if revision != change.revision {
        return Err(stale(revision, change.revision));
    }
    Ok(())
}

/// 409 `conflict`: the caller's revision `sent` is behind `current`.
pub fn stale(sent: i64, current: i64) -> Error {
    Error::conflict(shared::rollout::stale_revision(sent, current))
}

/// The change with this id, or 404.
pub async fn find(pool: &AnyPool, id: &str) -> Result<AiChange> {
    db::changes::find(pool, id)
        .await?
        .ok_or_else(|| Error::not_found("change"))
}

/// The change whose flag key is `key`, if any: how a pipeline finds the change a file
/// describes (`rollgate change apply`).
pub async fn find_by_flag_key(pool: &AnyPool, key: &str) -> Result<Option<AiChange>> {
    let mut conn = pool.acquire().await?;
    let owner = db::changes::flag_key_owner(&mut conn, key).await?;
    drop(conn);
    match owner {
        Some(id) => Ok(db::changes::find(pool, &id).await?),
        None => Ok(None),
    }
}

/// The change with its history.
pub async fn detail(pool: &AnyPool, change: AiChange) -> Result<ChangeDetail> {
    let history = db::transitions::history(pool, &change.id, &change.plan).await?;
    Ok(ChangeDetail { change, history })
}

/// The change with this id and its history, or 404.
pub async fn get(pool: &AnyPool, id: &str) -> Result<ChangeDetail> {
    let change = find(pool, id).await?;
    detail(pool, change).await
}
