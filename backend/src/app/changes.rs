//! AI changes: list, create, read and edit a draft; and each change's health.

use shared::api::{ChangeDetail, ChangePage, ChangeSummary, ChangeUpdate, NewChange};
use shared::change::{AiChange, ChangeKind};
use shared::health::ChangeHealth;
use shared::rollout::{RolloutState, STATE_NAMES};
use shared::validate;
use sqlx::AnyPool;

use super::Actor;
use crate::db::{self, audit::Record};
use crate::error::{Error, Result};

pub const DEFAULT_PER_PAGE: u32 = 20;

/// Longest search text the change list takes.
pub const MAX_SEARCH: usize = 200;

/// The order of the change list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListSort {
    /// Newest first (the default).
    #[default]
    Newest,
    /// Title, A to Z.
    Title,
    /// Health, from what needs a person first (Breach, Held, Rolled back by the guardian,
    /// Inconclusive, No data, Pass); newest first within one health.
    Health,
}

/// Which changes to list; `None` is "no filter" or the default page.
#[derive(Debug, Default)]
pub struct ListRequest {
    pub state: Option<String>,
    pub kind: Option<ChangeKind>,
    /// Only the current version of the flag with this key (at most one change).
    pub flag_key: Option<String>,
    /// Words searched in titles, flag keys and product areas, ignoring case.
    pub q: Option<String>,
    pub sort: Option<ListSort>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

/// Changes, newest first (or by title or health), filtered by state, kind and search words, a
/// page at a time, each with its health.
///
/// Only live changes need their comparison report for their health, so a page costs one report
/// per live change on it. Sorting by health needs the health of every match before the page
/// is cut: one report per live match.
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
    let search = request
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_owned);
    if search
        .as_ref()
        .is_some_and(|q| q.chars().count() > MAX_SEARCH)
    {
        return Err(Error::validation(
            "q",
            format!("must be at most {MAX_SEARCH} characters"),
        ));
    }
    if let Some(key) = &request.flag_key {
        let mut items = Vec::new();
        if let Some(c) = find_by_flag_key(pool, key).await?.filter(|c| {
            page == 1
                && request.state.as_deref().is_none_or(|s| c.state.name() == s)
                && request.kind.is_none_or(|k| c.kind == k)
        }) {
            items.push(summary(pool, &c).await?);
        }
        return Ok(ChangePage {
            total: items.len() as i64,
            items,
            page,
            per_page,
        });
    }
    let sort = request.sort.unwrap_or_default();
    let filter = db::changes::Filter {
        state: request.state,
        kind: request.kind,
        search,
        by_title: sort == ListSort::Title,
    };
    let offset = (i64::from(page) - 1) * i64::from(per_page);
    if sort == ListSort::Health {
        let (all, total) = db::changes::list(pool, &filter, i64::MAX, 0).await?;
        let mut items = Vec::with_capacity(all.len());
        for c in &all {
            items.push(summary(pool, c).await?);
        }
        // Stable: newest first within one health, as the query returned them.
        items.sort_by_key(|s| s.health.kind);
        let items = items
            .into_iter()
            .skip(usize::try_from(offset).unwrap_or(usize::MAX))
            .take(per_page as usize)
            .collect();
        return Ok(ChangePage {
            items,
            total,
            page,
            per_page,
        });
    }
    let (changes, total) = db::changes::list(pool, &filter, i64::from(per_page), offset).await?;
    let mut items = Vec::with_capacity(changes.len());
    for c in &changes {
        items.push(summary(pool, c).await?);
    }
    Ok(ChangePage {
        items,
        total,
        page,
        per_page,
    })
}

async fn summary(pool: &AnyPool, change: &AiChange) -> Result<ChangeSummary> {
    Ok(ChangeSummary::new(change, health(pool, change).await?))
}

/// The change's health (`shared::health`), from the report the gates and the guardian judge
/// (`gates::stage_report`), read only while the change is live, and from who rolled it back.
pub async fn health(pool: &AnyPool, change: &AiChange) -> Result<ChangeHealth> {
    let report = match change.state {
        RolloutState::Canary | RolloutState::Ramp { .. } | RolloutState::Full => {
            super::gates::stage_report(pool, change).await?
        }
        _ => None,
    };
    let rollback = match change.state {
        RolloutState::RolledBack => db::transitions::last_rollback(pool, &change.id).await?,
        _ => None,
    };
    let (by, why) = match &rollback {
        Some((by, why)) => (Some(by.as_str()), why.as_deref()),
        None => (None, None),
    };
    Ok(shared::health::health(change, by, why, report.as_ref()))
}

/// Creates a draft change, recorded in the audit log.
pub async fn create(pool: &AnyPool, actor: &Actor, new: &NewChange) -> Result<AiChange> {
    validate::new_change(new)?;
    let at = db::now();
    let mut tx = db::begin(pool).await?;
    let mut new = new.clone();
    next_version(&mut tx, &mut new).await?;
    let change = db::changes::create_recorded(&mut tx, &new, &actor.who(), &at).await?;
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
    // A draft that follows a version of its flag (or takes a finished change's key, which
    // makes it the next version) starts from what that version serves.
    let key = edit.flag_key.as_deref().unwrap_or(&current.flag_key);
    if let Some(before) = version_before(pool, key, id).await? {
        let before = current_version(&mut tx, key, &before).await?;
        if edit.baseline != *serving(&before) {
            return Err(starts_from(key, &before));
        }
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

/// The change with its history, its health, the versions of its flag and its A/B decision.
pub async fn detail(pool: &AnyPool, change: AiChange) -> Result<ChangeDetail> {
    let history = db::transitions::history(pool, &change.id, &change.plan).await?;
    let health = health(pool, &change).await?;
    let versions = db::changes::versions(pool, &change.flag_key).await?;
    let mut conn = pool.acquire().await?;
    let decision = db::decisions::find(&mut conn, &change.id, false).await?;
    drop(conn);
    Ok(ChangeDetail {
        holdout: shared::ab::Holdout::of(&change.flag_rules),
        change,
        history,
        health,
        versions,
        decision,
    })
}

/// What a flag serves once its change `c` is finished: the candidate it shipped, or the
/// baseline it was rolled back to.
fn serving(c: &AiChange) -> &serde_json::Value {
    if c.state == RolloutState::RolledBack {
        &c.baseline
    } else {
        &c.candidate
    }
}

/// The change `owner`, the current version of the flag `key`, provided it is finished: only
/// then may another change carry the key, as its next version.
async fn current_version(
    conn: &mut sqlx::AnyConnection,
    key: &str,
    owner: &str,
) -> Result<AiChange> {
    let current = db::changes::find_in(&mut *conn, owner)
        .await?
        .ok_or_else(|| Error::not_found("change"))?;
    if !current.state.is_terminal() {
        return Err(Error::validation(
            "flag_key",
            format!(
                "`{key}` is the flag key of “{}”, which is not finished ({}): the flag's next \
                 version can start once it is reviewed or rolled back",
                current.title,
                current.state.name()
            ),
        ));
    }
    Ok(current)
}

/// The id of the version of the flag `key` that the change `id` follows: the one before it,
/// or the newest if `id` does not carry the key yet.
async fn version_before(pool: &AnyPool, key: &str, id: &str) -> Result<Option<String>> {
    let versions = db::changes::versions(pool, key).await?;
    let mine = versions.iter().find(|v| v.id == id).map(|v| v.version);
    Ok(versions
        .into_iter()
        .rfind(|v| v.id != id && mine.is_none_or(|m| v.version < m))
        .map(|v| v.id))
}

/// 422 on `baseline`: the next version of `key` must start from what `current` serves.
fn starts_from(key: &str, current: &AiChange) -> Error {
    Error::validation(
        "baseline",
        format!(
            "the next version of `{key}` starts from what the flag serves now, the {} of “{}” \
             ({}): leave `baseline` out, or give exactly that",
            if current.state == RolloutState::RolledBack {
                "baseline"
            } else {
                "candidate"
            },
            current.title,
            current.state.name()
        ),
    )
}

/// A new change asking for a flag key that a change already has: it becomes the flag's next
/// version, provided the current one is finished, starting from what that serves (taken as
/// the baseline when `new` leaves it out).
pub async fn next_version(conn: &mut sqlx::AnyConnection, new: &mut NewChange) -> Result<()> {
    let Some(key) = new.flag_key.clone() else {
        return Ok(());
    };
    let Some(owner) = db::changes::flag_key_owner(&mut *conn, &key).await? else {
        return Ok(());
    };
    let current = current_version(&mut *conn, &key, &owner).await?;
    let serves = serving(&current);
    let empty = new.baseline.as_object().is_some_and(|m| m.is_empty());
    if empty {
        new.baseline = serves.clone();
    } else if new.baseline != *serves {
        return Err(starts_from(&key, &current));
    }
    Ok(())
}

/// The change with this id and its history, or 404.
pub async fn get(pool: &AnyPool, id: &str) -> Result<ChangeDetail> {
    let change = find(pool, id).await?;
    detail(pool, change).await
}
