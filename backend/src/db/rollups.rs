//! Rollups of the metric windows (`metric_rollups`, migration 0010): sums per change, variant,
//! segment and hour, day or whole history, so that the summary and the series read a number
//! of rows that depends on what they answer, not on how many windows are stored.
//!
//! Ingestion calls [`update`] in its transaction, after storing its windows: every hour a
//! window of the batch starts in is summed again from its windows, every day such an hour
//! falls in from its hours, and the whole history of each variant and segment it touched from
//! its days. Summing again rather than adding the new windows makes a replaced window count
//! exactly like a new one, and costs the windows of the touched hours only. Readers call
//! [`read`], which asks `shared::aggregate::sources` which rows hold the selected windows.

use std::collections::{BTreeMap, BTreeSet};

use shared::aggregate::{Source, Window, sources};
use shared::metrics::{MetricValue, Variant};
use sqlx::{Any, AnyConnection, AnyPool, Row, Transaction};

use super::metrics::{Selection, decode, decode_all, to_json, windows};
use super::{Error, Result};

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;
/// The `width` of the rollups that sum a whole history.
const WHOLE: i64 = 0;
/// Rows per upsert statement (10 parameters each, plus 2 shared).
const ROWS_PER_UPSERT: usize = 100;
/// Touched buckets further apart than this are read with separate queries, so that a batch
/// with one late window does not read everything in between.
const RUN_GAP: i64 = 6 * HOUR;

/// A bucket of one variant and segment: its start (0 for the whole history).
type Key = (i64, Variant, String);

/// The sum of some windows of one variant and segment, every metric kept.
#[derive(Debug, Clone)]
struct Rollup {
    windows: u64,
    first_start: i64,
    last_start: i64,
    last_end: i64,
    shortest: i64,
    requests: u64,
    metrics: BTreeMap<String, MetricValue>,
}

impl Rollup {
    fn add(&mut self, other: Rollup) -> std::result::Result<(), String> {
        self.windows = self.windows.saturating_add(other.windows);
        self.first_start = self.first_start.min(other.first_start);
        self.last_start = self.last_start.max(other.last_start);
        self.last_end = self.last_end.max(other.last_end);
        self.shortest = self.shortest.min(other.shortest);
        self.requests = self.requests.saturating_add(other.requests);
        for (key, value) in other.metrics {
            match self.metrics.entry(key) {
                std::collections::btree_map::Entry::Occupied(mut e) => e.get_mut().merge(&value)?,
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(value);
                }
            }
        }
        Ok(())
    }
}

/// Brings the rollups up to date with the windows stored in `tx` that start at the given
/// times, variants and segments (the batch just stored, or every window of a change).
pub(super) async fn update<'a>(
    tx: &mut Transaction<'static, Any>,
    change_id: &str,
    touched: impl Iterator<Item = (i64, Variant, &'a str)>,
) -> Result<()> {
    let hours: BTreeSet<Key> = touched
        .map(|(start, v, s)| (start.div_euclid(HOUR) * HOUR, v, s.to_owned()))
        .collect();
    if hours.is_empty() {
        return Ok(());
    }
    let sums = sum_into(tx, change_id, None, HOUR, &hours).await?;
    upsert(tx, change_id, HOUR, sums).await?;
    let days: BTreeSet<Key> = hours
        .iter()
        .map(|(h, v, s)| (h.div_euclid(DAY) * DAY, *v, s.clone()))
        .collect();
    let sums = sum_into(tx, change_id, Some(HOUR), DAY, &days).await?;
    upsert(tx, change_id, DAY, sums).await?;
    let arms: BTreeSet<Key> = days.into_iter().map(|(_, v, s)| (0, v, s)).collect();
    let sums = sum_into(tx, change_id, Some(DAY), WHOLE, &arms).await?;
    upsert(tx, change_id, WHOLE, sums).await
}

/// Sums the rows of `source` (the windows when `None`, else the rollups of that width) into
/// buckets of `width`, for the buckets in `wanted` only.
async fn sum_into(
    conn: &mut AnyConnection,
    change_id: &str,
    source: Option<i64>,
    width: i64,
    wanted: &BTreeSet<Key>,
) -> Result<BTreeMap<Key, Rollup>> {
    // Runs of nearby buckets, each read with one range query.
    let mut runs: Vec<(Option<i64>, Option<i64>)> = Vec::new();
    if width == WHOLE {
        runs.push((None, None));
    } else {
        let starts: BTreeSet<i64> = wanted.iter().map(|k| k.0).collect();
        for start in starts {
            match runs.last_mut() {
                Some((_, Some(end))) if start - *end <= RUN_GAP => *end = start + width,
                _ => runs.push((Some(start), Some(start + width))),
            }
        }
    }
    let mut sums: BTreeMap<Key, Rollup> = BTreeMap::new();
    for (from, to) in runs {
        let rows = match source {
            None => window_rows(conn, change_id, from, to).await?,
            Some(w) => rollup_rows(conn, change_id, w, from, to).await?,
        };
        for (start, variant, segment, rollup) in rows {
            let bucket = if width == WHOLE {
                0
            } else {
                start.div_euclid(width) * width
            };
            let key = (bucket, variant, segment);
            if !wanted.contains(&key) {
                continue;
            }
            match sums.entry(key) {
                std::collections::btree_map::Entry::Occupied(mut e) => {
                    e.get_mut().add(rollup).map_err(|why| {
                        Error::internal(format!(
                            "change {change_id}: stored windows do not add up: {why}"
                        ))
                    })?;
                }
                std::collections::btree_map::Entry::Vacant(e) => {
                    e.insert(rollup);
                }
            }
        }
    }
    Ok(sums)
}

/// A stored row read whole: its start (window start or bucket), variant, segment and sums.
type Row4 = (i64, Variant, String, Rollup);

async fn window_rows(
    conn: &mut AnyConnection,
    change_id: &str,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<Vec<Row4>> {
    let rows = sqlx::query(
        "SELECT variant, segment, window_start, window_end, requests, metrics \
         FROM metric_windows WHERE change_id = $1 AND window_start >= $2 AND window_start < $3",
    )
    .bind(change_id)
    .bind(from.unwrap_or(i64::MIN))
    .bind(to.unwrap_or(i64::MAX))
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let start: i64 = row.try_get(2)?;
        let end: i64 = row.try_get(3)?;
        let requests: i64 = row.try_get(4)?;
        let text: String = row.try_get(5)?;
        let corrupt = |what: String| {
            Error::internal(format!(
                "change {change_id}: stored window at {start} does not parse: {what}"
            ))
        };
        let variant: String = row.try_get(0)?;
        out.push((
            start,
            Variant::parse(&variant).ok_or_else(|| corrupt(variant.clone()))?,
            row.try_get(1)?,
            Rollup {
                windows: 1,
                first_start: start,
                last_start: start,
                last_end: end,
                shortest: end - start,
                requests: u64::try_from(requests).map_err(|e| corrupt(e.to_string()))?,
                metrics: decode_all(&text).map_err(|e| corrupt(e.to_string()))?,
            },
        ));
    }
    Ok(out)
}

const ROLLUP_COLUMNS: &str = "variant, segment, bucket, windows, first_start, last_start, \
                              last_end, shortest, requests, metrics";

async fn rollup_rows(
    conn: &mut AnyConnection,
    change_id: &str,
    width: i64,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<Vec<Row4>> {
    let rows = sqlx::query(&format!(
        "SELECT {ROLLUP_COLUMNS} FROM metric_rollups \
         WHERE change_id = $1 AND width = $2 AND bucket >= $3 AND bucket < $4"
    ))
    .bind(change_id)
    .bind(width)
    .bind(from.unwrap_or(i64::MIN))
    .bind(to.unwrap_or(i64::MAX))
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let (variant, segment, bucket, mut head) = rollup_head(change_id, &row)?;
        let text: String = row.try_get(9)?;
        head.metrics = decode_all(&text).map_err(|e| {
            Error::internal(format!(
                "change {change_id}: rollup at {bucket} does not parse: {e}"
            ))
        })?;
        out.push((bucket, variant, segment, head));
    }
    Ok(out)
}

/// A rollup row's columns but its metrics.
fn rollup_head(change_id: &str, row: &sqlx::any::AnyRow) -> Result<(Variant, String, i64, Rollup)> {
    let variant: String = row.try_get(0)?;
    let bucket: i64 = row.try_get(2)?;
    let count = |i: usize| -> Result<u64> {
        u64::try_from(row.try_get::<i64, _>(i)?).map_err(|_| {
            Error::internal(format!(
                "change {change_id}: rollup at {bucket} has a negative count"
            ))
        })
    };
    Ok((
        Variant::parse(&variant).ok_or_else(|| {
            Error::internal(format!("change {change_id}: rollup variant {variant}"))
        })?,
        row.try_get(1)?,
        bucket,
        Rollup {
            windows: count(3)?,
            first_start: row.try_get(4)?,
            last_start: row.try_get(5)?,
            last_end: row.try_get(6)?,
            shortest: row.try_get(7)?,
            requests: count(8)?,
            metrics: BTreeMap::new(),
        },
    ))
}

async fn upsert(
    conn: &mut AnyConnection,
    change_id: &str,
    width: i64,
    sums: BTreeMap<Key, Rollup>,
) -> Result<()> {
    let sums: Vec<(Key, Rollup)> = sums.into_iter().collect();
    for chunk in sums.chunks(ROWS_PER_UPSERT) {
        let mut sql = String::from(
            "INSERT INTO metric_rollups (change_id, width, bucket, variant, segment, windows, \
             first_start, last_start, last_end, shortest, requests, metrics) VALUES ",
        );
        // Numbered by hand: sqlx's QueryBuilder writes `?` on the `Any` driver.
        for i in 0..chunk.len() {
            let b = 2 + i * 10;
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str("($1, $2");
            for p in 1..=10 {
                sql.push_str(&format!(", ${}", b + p));
            }
            sql.push(')');
        }
        sql.push_str(
            " ON CONFLICT (change_id, width, bucket, variant, segment) DO UPDATE SET \
             windows = excluded.windows, first_start = excluded.first_start, \
             last_start = excluded.last_start, last_end = excluded.last_end, \
             shortest = excluded.shortest, requests = excluded.requests, \
             metrics = excluded.metrics",
        );
        let mut query = sqlx::query(&sql).bind(change_id).bind(width);
        for ((bucket, variant, segment), r) in chunk {
            query = query
                .bind(*bucket)
                .bind(variant.as_str())
                .bind(segment.as_str())
                .bind(i64::try_from(r.windows).unwrap_or(i64::MAX))
                .bind(r.first_start)
                .bind(r.last_start)
                .bind(r.last_end)
                .bind(r.shortest)
                .bind(i64::try_from(r.requests).unwrap_or(i64::MAX))
                .bind(to_json(&r.metrics)?);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The selected windows of a change, summed where rollups can stand for them
/// (`shared::aggregate::sources`; `widest` as there), with the values of the metrics in
/// `metrics` (the others are skipped unparsed). Oldest first.
pub async fn read(
    pool: &AnyPool,
    change_id: &str,
    sel: Selection<'_>,
    metrics: &[&str],
    widest: Option<i64>,
) -> Result<Vec<Window>> {
    let mut out = Vec::new();
    for source in sources(sel.from, sel.to, widest) {
        let (width, from, to) = match source {
            Source::Windows { from, to } => {
                let part = Selection {
                    from,
                    to,
                    segment: sel.segment,
                };
                out.extend(windows(pool, change_id, part, metrics).await?);
                continue;
            }
            Source::Whole => (WHOLE, None, None),
            Source::Rollups { width, from, to } => (width, from, to),
        };
        let mut sql = format!(
            "SELECT {ROLLUP_COLUMNS} FROM metric_rollups \
             WHERE change_id = $1 AND width = $2 AND bucket >= $3 AND bucket < $4"
        );
        if sel.segment.is_some() {
            sql.push_str(" AND segment = $5");
        }
        sql.push_str(" ORDER BY bucket");
        let mut query = sqlx::query(&sql)
            .bind(change_id)
            .bind(width)
            .bind(from.unwrap_or(i64::MIN))
            .bind(to.unwrap_or(i64::MAX));
        if let Some(segment) = sel.segment {
            query = query.bind(segment);
        }
        for row in query.fetch_all(pool).await? {
            let (variant, segment, bucket, head) = rollup_head(change_id, &row)?;
            let text: String = row.try_get(9)?;
            let values = decode(&text, metrics).map_err(|e| {
                Error::internal(format!(
                    "change {change_id}: rollup at {bucket} does not parse: {e}"
                ))
            })?;
            out.push(Window {
                variant,
                segment,
                start: head.first_start,
                end: head.last_end,
                last_start: head.last_start,
                shortest: head.shortest,
                windows: head.windows,
                requests: head.requests,
                values,
            });
        }
    }
    // Rows of one source come by bucket; a series wants them by start.
    out.sort_by_key(|w| w.start);
    Ok(out)
}

/// Builds the rollups of changes whose windows were stored before rollups existed (or by a
/// previous release): every change with windows and no whole-history rollup. Each change is
/// locked like an ingestion, so two instances starting together build it once.
pub async fn backfill(pool: &AnyPool) -> Result<usize> {
    let ids: Vec<String> = sqlx::query(
        "SELECT DISTINCT w.change_id FROM metric_windows w WHERE NOT EXISTS \
         (SELECT 1 FROM metric_rollups r WHERE r.change_id = w.change_id AND r.width = 0)",
    )
    .fetch_all(pool)
    .await?
    .iter()
    .map(|r| r.try_get(0))
    .collect::<sqlx::Result<_>>()?;
    let mut built = 0;
    for id in ids {
        if let Some(writer) = super::metrics::lock(pool, &id).await?
            && writer.rebuild_rollups_if_missing().await?
        {
            built += 1;
            tracing::info!(change = %id, "metric rollups built from stored windows");
        }
    }
    Ok(built)
}

/// Rebuilds every rollup of a change in `tx` when it has windows and no whole-history rollup;
/// whether it did.
pub(super) async fn rebuild_if_missing(
    tx: &mut Transaction<'static, Any>,
    change_id: &str,
) -> Result<bool> {
    let have: i64 =
        sqlx::query("SELECT COUNT(*) FROM metric_rollups WHERE change_id = $1 AND width = 0")
            .bind(change_id)
            .fetch_one(&mut **tx)
            .await?
            .try_get(0)?;
    if have > 0 {
        return Ok(false);
    }
    let rows = sqlx::query(
        "SELECT DISTINCT window_start, variant, segment FROM metric_windows WHERE change_id = $1",
    )
    .bind(change_id)
    .fetch_all(&mut **tx)
    .await?;
    let mut touched = Vec::with_capacity(rows.len());
    for row in rows {
        let variant: String = row.try_get(1)?;
        let variant = Variant::parse(&variant).ok_or_else(|| {
            Error::internal(format!("change {change_id}: window variant {variant}"))
        })?;
        touched.push((
            row.try_get::<i64, _>(0)?,
            variant,
            row.try_get::<String, _>(2)?,
        ));
    }
    if touched.is_empty() {
        return Ok(false);
    }
    update(
        tx,
        change_id,
        touched.iter().map(|(t, v, s)| (*t, *v, s.as_str())),
    )
    .await?;
    Ok(true)
}
