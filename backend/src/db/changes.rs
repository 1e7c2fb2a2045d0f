//! Queries on `changes`.

use shared::api::{ChangeUpdate, FlagVersion, NewChange};
use shared::assignment::FlagRules;
use shared::change::{AiChange, ChangeKind, Pause, RiskTier};
use shared::rollout::RolloutState;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, Row};

use super::{Error, Result};

const COLUMNS: &str = "id, flag_key, title, kind, risk, baseline, candidate, expected_changes, owner, \
                       product_area, plan, flag_rules, state, ramp_step, traffic_percent, \
                       revision, created_at, updated_at, paused_at, paused_by, paused_reason";

/// Which changes a list shows. Values are checked by the caller.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// A stored state name (`shared::rollout::STATE_NAMES`).
    pub state: Option<String>,
    pub kind: Option<ChangeKind>,
    /// Words searched, ignoring case, in the title, the flag key and the product area.
    pub search: Option<String>,
    /// Title order (A to Z) instead of newest first.
    pub by_title: bool,
}

/// One page of a filtered list, newest first (or by title), and the number of matches over
/// all pages.
pub async fn list(
    pool: &AnyPool,
    filter: &Filter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<AiChange>, i64)> {
    // The filter is assembled from fixed fragments; values are always bound.
    let mut conditions = Vec::new();
    let mut values: Vec<String> = Vec::new();
    if let Some(state) = &filter.state {
        values.push(state.clone());
        conditions.push(format!("state = ${}", values.len()));
    }
    if let Some(kind) = filter.kind {
        values.push(kind.as_str().to_owned());
        conditions.push(format!("kind = ${}", values.len()));
    }
    if let Some(words) = filter.search.as_deref().map(str::trim) {
        // `\` escapes LIKE's wildcards in what was typed. Both sides are lowered: PostgreSQL's
        // LIKE minds case and SQLite's does not (SQLite lowers ASCII letters only).
        let escaped = words
            .to_lowercase()
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        let mut any = Vec::new();
        for column in ["title", "flag_key", "COALESCE(product_area, '')"] {
            values.push(format!("%{escaped}%"));
            any.push(format!(
                "LOWER({column}) LIKE ${} ESCAPE '\\'",
                values.len()
            ));
        }
        conditions.push(format!("({})", any.join(" OR ")));
    }
    let filter_sql = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };

    let count_sql = format!("SELECT COUNT(*) FROM changes{filter_sql}");
    let mut count = sqlx::query(&count_sql);
    for v in &values {
        count = count.bind(v.as_str());
    }
    let total: i64 = count.fetch_one(pool).await?.try_get(0)?;

    let order = if filter.by_title {
        "LOWER(title), created_at DESC, id DESC"
    } else {
        "created_at DESC, id DESC"
    };
    let page_sql = format!(
        "SELECT {COLUMNS} FROM changes{filter_sql} \
         ORDER BY {order} LIMIT ${} OFFSET ${}",
        values.len() + 1,
        values.len() + 2
    );
    let mut page = sqlx::query(&page_sql);
    for v in &values {
        page = page.bind(v.as_str());
    }
    let rows = page.bind(limit).bind(offset).fetch_all(pool).await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    Ok((items, total))
}

pub async fn find(pool: &AnyPool, id: &str) -> Result<Option<AiChange>> {
    let mut conn = pool.acquire().await?;
    find_in(&mut conn, id).await
}

/// [`find`] on the caller's connection or transaction.
pub async fn find_in(conn: &mut AnyConnection, id: &str) -> Result<Option<AiChange>> {
    let sql = format!("SELECT {COLUMNS} FROM changes WHERE id = $1");
    let row = sqlx::query(&sql).bind(id).fetch_optional(conn).await?;
    row.as_ref().map(from_row).transpose()
}

/// How many changes there are; on a pool or on the caller's transaction (`&mut *tx`).
pub async fn count<'e>(db: impl sqlx::Executor<'e, Database = sqlx::Any>) -> Result<i64> {
    Ok(sqlx::query("SELECT COUNT(*) FROM changes")
        .fetch_one(db)
        .await?
        .try_get(0)?)
}

/// Stores a new draft (revision 1, no traffic) created at `at` by `created_by`.
/// Creates a change together with its `change.create` audit row, on the caller's transaction.
pub async fn create_recorded(
    conn: &mut AnyConnection,
    new: &NewChange,
    who: &super::audit::Who,
    at: &str,
) -> Result<AiChange> {
    let change = create(conn, new, who.id.as_deref(), at).await?;
    super::audit::append(
        conn,
        &super::audit::Record::new(who, "change.create", "change", Some(&change.id), at)
            .after(&change),
    )
    .await?;
    Ok(change)
}

pub async fn create(
    conn: &mut AnyConnection,
    new: &NewChange,
    created_by: Option<&str>,
    at: &str,
) -> Result<AiChange> {
    let plan = new.resolved_plan();
    let id = super::new_id();
    let flag_key = match &new.flag_key {
        Some(key) => key.clone(),
        None => free_flag_key(conn, &new.title, &id).await?,
    };
    let flag_version = next_flag_version(&mut *conn, &flag_key, &id).await?;
    let change = AiChange {
        flag_key,
        id,
        title: new.title.clone(),
        kind: new.kind,
        risk: new.risk,
        baseline: new.baseline.clone(),
        candidate: new.candidate.clone(),
        expected_changes: new.expected_changes.clone(),
        owner: new.owner.clone(),
        product_area: shared::validate::product_area(new.product_area.as_deref()),
        state: RolloutState::Draft,
        traffic_percent: RolloutState::Draft.traffic_percent(&plan),
        plan,
        paused: None,
        // The column's default, `{}`: rules are set by their own edit.
        flag_rules: Default::default(),
        revision: 1,
        created_at: at.to_owned(),
        updated_at: at.to_owned(),
    };
    sqlx::query(
        "INSERT INTO changes (id, title, kind, risk, baseline, candidate, expected_changes, \
         owner, plan, state, ramp_step, traffic_percent, revision, created_at, updated_at, \
         created_by, plan_revision, product_area, flag_key, flag_version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 1, $17, \
         $18, $19)",
    )
    .bind(change.id.as_str())
    .bind(change.title.as_str())
    .bind(change.kind.as_str())
    .bind(change.risk.as_str())
    .bind(change.baseline.to_string())
    .bind(change.candidate.to_string())
    .bind(change.expected_changes.as_str())
    .bind(change.owner.as_str())
    .bind(to_json(&change.plan)?)
    .bind(change.state.name())
    .bind(change.state.ramp_step().map(i64::from))
    .bind(change.traffic_percent)
    .bind(change.revision)
    .bind(change.created_at.as_str())
    .bind(change.updated_at.as_str())
    .bind(created_by)
    .bind(change.product_area.as_deref())
    .bind(change.flag_key.as_str())
    .bind(flag_version)
    .execute(conn)
    .await?;
    Ok(change)
}

/// A flag key for a new change titled `title`: the title's slug, or, when another change has
/// it, the slug with the end of the new change's `id` (random, so unique in practice; the
/// unique index catches the rest).
async fn free_flag_key(conn: &mut AnyConnection, title: &str, id: &str) -> Result<String> {
    let key = shared::validate::flag_key_from_title(title);
    if flag_key_owner(conn, &key).await?.is_none() {
        return Ok(key);
    }
    let suffix = id.get(id.len().saturating_sub(8)..).unwrap_or(id);
    Ok(format!("{key}-{}", suffix.to_ascii_lowercase()))
}

/// The id of the flag `key`'s current version, the change that took the key last (an
/// unfinished one, if the key has one); `None` when no change has the key.
pub async fn flag_key_owner(conn: &mut AnyConnection, key: &str) -> Result<Option<String>> {
    let row = sqlx::query(
        "SELECT id FROM changes WHERE flag_key = $1 ORDER BY flag_version DESC LIMIT 1",
    )
    .bind(key)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| r.try_get(0)).transpose()?)
}

/// The versions of the flag `key`, oldest first (the current one last).
pub async fn versions(pool: &AnyPool, key: &str) -> Result<Vec<FlagVersion>> {
    let rows = sqlx::query(
        "SELECT id, title, state, ramp_step, created_at, flag_version FROM changes \
         WHERE flag_key = $1 ORDER BY flag_version",
    )
    .bind(key)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let id: String = r.try_get("id")?;
            let state: String = r.try_get("state")?;
            let step: Option<i64> = r.try_get("ramp_step")?;
            let state = RolloutState::from_parts(&state, step.and_then(|s| u32::try_from(s).ok()))
                .ok_or_else(|| {
                    Error::internal(format!("change {id}: stored state {state} does not parse"))
                })?;
            Ok(FlagVersion {
                version: r.try_get("flag_version")?,
                title: r.try_get("title")?,
                state,
                created_at: r.try_get("created_at")?,
                id,
            })
        })
        .collect()
}

/// Replaces the editable content of a draft, provided it is still at `edit.revision`.
/// Returns `false` when no row matched: the change is gone, moved on, or no longer a draft;
/// the caller finds out which. The plan revision moves with it: sign-off given on the old
/// content no longer counts.
pub async fn update_draft(
    conn: &mut AnyConnection,
    id: &str,
    edit: &ChangeUpdate,
    at: &str,
) -> Result<bool> {
    // A key it takes makes it that flag's newest version.
    let version = match &edit.flag_key {
        Some(key) => Some(next_flag_version(&mut *conn, key, id).await?),
        None => None,
    };
    let done = sqlx::query(
        "UPDATE changes SET title = $1, kind = $2, risk = $3, baseline = $4, candidate = $5, \
         expected_changes = $6, owner = $7, plan = $8, revision = revision + 1, \
         plan_revision = revision + 1, updated_at = $9, product_area = $12, \
         flag_key = COALESCE($13, flag_key), flag_version = COALESCE($14, flag_version) \
         WHERE id = $10 AND revision = $11 AND state = 'draft'",
    )
    .bind(edit.title.as_str())
    .bind(edit.kind.as_str())
    .bind(edit.risk.as_str())
    .bind(edit.baseline.to_string())
    .bind(edit.candidate.to_string())
    .bind(edit.expected_changes.as_str())
    .bind(edit.owner.as_str())
    .bind(to_json(&edit.plan)?)
    .bind(at)
    .bind(id)
    .bind(edit.revision)
    .bind(shared::validate::product_area(edit.product_area.as_deref()))
    .bind(edit.flag_key.as_deref())
    .bind(version)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The version number a change `id` takes when it joins the flag `key`: one past the highest
/// of the key's other changes.
async fn next_flag_version(conn: &mut AnyConnection, key: &str, id: &str) -> Result<i64> {
    let row = sqlx::query(
        "SELECT COALESCE(MAX(flag_version), 0) FROM changes WHERE flag_key = $1 AND id <> $2",
    )
    .bind(key)
    .bind(id)
    .fetch_one(conn)
    .await?;
    Ok(row.try_get::<i64, _>(0)? + 1)
}

/// Replaces a draft's flag rules, provided it is still at `revision`. Returns `false` when no
/// row matched (gone, moved on, or no longer a draft); the caller finds out which. Like any
/// draft edit it moves the plan revision: the rules decide who gets the candidate, so
/// sign-off given before no longer counts.
pub async fn set_flag_rules(
    conn: &mut AnyConnection,
    id: &str,
    revision: i64,
    rules: &FlagRules,
    at: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE changes SET flag_rules = $1, revision = revision + 1, \
         plan_revision = revision + 1, updated_at = $2 \
         WHERE id = $3 AND revision = $4 AND state = 'draft'",
    )
    .bind(to_json(rules)?)
    .bind(at)
    .bind(id)
    .bind(revision)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// What the API's `AiChange` does not carry: who created the change and its plan revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub created_by: Option<String>,
    pub plan_revision: i64,
}

pub async fn meta(pool: &AnyPool, id: &str) -> Result<Option<Meta>> {
    let row = sqlx::query("SELECT created_by, plan_revision FROM changes WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.map(|r| {
        Ok(Meta {
            created_by: r.try_get(0)?,
            plan_revision: r.try_get(1)?,
        })
    })
    .transpose()
}

/// Changes still being rolled out (or drafted), newest first, at most `limit`.
pub async fn open(pool: &AnyPool, limit: i64) -> Result<Vec<AiChange>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM changes WHERE state NOT IN ('reviewed', 'rolled_back') \
         ORDER BY created_at DESC, id DESC LIMIT $1"
    );
    let rows = sqlx::query(&sql).bind(limit).fetch_all(pool).await?;
    rows.iter().map(from_row).collect()
}

/// The changes the guardian watches: at the canary or a ramp step.
pub async fn live(pool: &AnyPool) -> Result<Vec<AiChange>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM changes WHERE state IN ('canary', 'ramp') \
         ORDER BY created_at, id"
    );
    let rows = sqlx::query(&sql).fetch_all(pool).await?;
    rows.iter().map(from_row).collect()
}

/// Moves a change to `to`, held by `paused` (or not held when `None`), inside the caller's
/// transaction, provided it is still at `revision`. Returns `false` when it is not (someone
/// else moved or edited it).
pub(super) async fn set_state(
    conn: &mut AnyConnection,
    change: &AiChange,
    revision: i64,
    to: RolloutState,
    paused: Option<&Pause>,
    at: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE changes SET state = $1, ramp_step = $2, traffic_percent = $3, \
         revision = revision + 1, updated_at = $4, paused_at = $7, paused_by = $8, \
         paused_reason = $9 WHERE id = $5 AND revision = $6",
    )
    .bind(to.name())
    .bind(to.ramp_step().map(i64::from))
    .bind(shared::ab::candidate_share(change, to))
    .bind(at)
    .bind(change.id.as_str())
    .bind(revision)
    .bind(paused.map(|p| p.at.as_str()))
    .bind(paused.map(|p| p.by.as_str()))
    .bind(paused.map(|p| p.reason.as_str()))
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::internal(format!("cannot serialize: {e}")))
}

/// Reads a stored row. A row that does not parse is a server bug (the schema and the writers
/// are ours), so it is an internal error naming the change and the column.
fn from_row(row: &AnyRow) -> Result<AiChange> {
    let id: String = row.try_get("id")?;
    let corrupt = |column: &str, detail: &dyn std::fmt::Display| {
        Error::internal(format!(
            "change {id}: stored {column} does not parse: {detail}"
        ))
    };
    let kind: String = row.try_get("kind")?;
    let risk: String = row.try_get("risk")?;
    let state: String = row.try_get("state")?;
    let ramp_step: Option<i64> = row.try_get("ramp_step")?;
    let step = ramp_step
        .map(u32::try_from)
        .transpose()
        .map_err(|e| corrupt("ramp_step", &e))?;
    let json = |column: &str| -> Result<serde_json::Value> {
        let text: String = row.try_get(column)?;
        serde_json::from_str(&text).map_err(|e| corrupt(column, &e))
    };
    let plan_text: String = row.try_get("plan")?;
    let paused_at: Option<String> = row.try_get("paused_at")?;
    let paused = match paused_at {
        None => None,
        Some(at) => Some(Pause {
            at,
            by: row
                .try_get::<Option<String>, _>("paused_by")?
                .unwrap_or_default(),
            reason: row
                .try_get::<Option<String>, _>("paused_reason")?
                .unwrap_or_default(),
        }),
    };
    let rules_text: String = row.try_get("flag_rules")?;
    Ok(AiChange {
        flag_key: row.try_get("flag_key")?,
        title: row.try_get("title")?,
        kind: ChangeKind::parse(&kind).ok_or_else(|| corrupt("kind", &kind))?,
        risk: RiskTier::parse(&risk).ok_or_else(|| corrupt("risk", &risk))?,
        baseline: json("baseline")?,
        candidate: json("candidate")?,
        expected_changes: row.try_get("expected_changes")?,
        owner: row.try_get("owner")?,
        product_area: row.try_get("product_area")?,
        plan: serde_json::from_str(&plan_text).map_err(|e| corrupt("plan", &e))?,
        flag_rules: serde_json::from_str(&rules_text).map_err(|e| corrupt("flag_rules", &e))?,
        state: RolloutState::from_parts(&state, step).ok_or_else(|| corrupt("state", &state))?,
        traffic_percent: row.try_get("traffic_percent")?,
        paused,
        revision: row.try_get("revision")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        id,
    })
}

/// Every change, oldest first (the support feed reads them all; a workspace has hundreds,
/// not millions).
pub async fn all(pool: &AnyPool) -> Result<Vec<AiChange>> {
    let sql = format!("SELECT {COLUMNS} FROM changes ORDER BY created_at, id");
    let rows = sqlx::query(&sql).fetch_all(pool).await?;
    rows.iter().map(from_row).collect()
}

/// Every change with its plan revision, for the in-memory flag snapshot (`app::flags`).
pub async fn flags(pool: &AnyPool) -> Result<Vec<(AiChange, i64)>> {
    // A key's versions in order, so that its current version is the one a map keeps.
    let sql = format!(
        "SELECT {COLUMNS}, plan_revision FROM changes ORDER BY flag_version, created_at, id"
    );
    let rows = sqlx::query(&sql).fetch_all(pool).await?;
    rows.iter()
        .map(|row| Ok((from_row(row)?, row.try_get("plan_revision")?)))
        .collect()
}
