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

use std::collections::{BTreeMap, BTreeSet, HashSet};

use shared::aggregate::{Source, Window, sources};
use shared::metrics::{MetricValue, ParsedWindow, Variant};
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
    fn of(w: &ParsedWindow) -> Rollup {
        Rollup {
            windows: 1,
            first_start: w.start,
            last_start: w.start,
            last_end: w.end,
            shortest: w.end - w.start,
            requests: w.requests,
            metrics: w.values.clone(),
        }
    }

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

/// The segment of the rollups that sum every segment together (a series of all segments reads
/// them); no window has it, since a window's segment is never empty.
const TOGETHER: &str = "";

/// Brings the rollups up to date with a batch just stored in `tx`: every hour a window of the
/// batch starts in, for its variant and segment and for all segments together; every day such
/// an hour falls in; and the whole history of each variant and segment touched. The batch's
/// windows are added from memory; the stored windows and rollups around them are read, skipping
/// those the batch replaces, so each row is a fresh sum.
pub(super) async fn update(
    tx: &mut Transaction<'static, Any>,
    change_id: &str,
    batch: &[ParsedWindow],
) -> Result<()> {
    let touched: Vec<(i64, Variant, &str)> = batch
        .iter()
        .map(|w| (w.start, w.variant, w.segment.as_str()))
        .collect();
    let sent: HashSet<(i64, i64, Variant, &str)> = batch
        .iter()
        .map(|w| (w.start, w.end, w.variant, w.segment.as_str()))
        .collect();
    let mut hours = sum_windows(tx, change_id, &touched, &sent).await?;
    for w in batch {
        let key = (bucket(w.start, HOUR), w.variant, w.segment.clone());
        add(change_id, &mut hours, key, Rollup::of(w))?;
    }
    roll_up(tx, change_id, hours).await
}

/// Rebuilds every rollup of the windows that start at the given times, variants and segments,
/// reading the windows themselves.
async fn rebuild(
    tx: &mut Transaction<'static, Any>,
    change_id: &str,
    touched: &[(i64, Variant, &str)],
) -> Result<()> {
    let hours = sum_windows(tx, change_id, touched, &HashSet::new()).await?;
    roll_up(tx, change_id, hours).await
}

/// The windows of a change starting in `[$2, $3)`.
const IN_RUN: &str =
    "FROM metric_windows WHERE change_id = $1 AND window_start >= $2 AND window_start < $3";

/// The stored windows (but those in `skip`) of the hours, variants and segments of `touched`,
/// summed per hour.
async fn sum_windows(
    conn: &mut AnyConnection,
    change_id: &str,
    touched: &[(i64, Variant, &str)],
    skip: &HashSet<(i64, i64, Variant, &str)>,
) -> Result<BTreeMap<Key, Rollup>> {
    let wanted: BTreeSet<(i64, Variant, &str)> = touched
        .iter()
        .map(|&(start, v, s)| (bucket(start, HOUR), v, s))
        .collect();
    let mut hours = BTreeMap::new();
    for (from, to) in runs(wanted.iter().map(|k| k.0), HOUR) {
        // The keys first: the batch's own windows (all of a re-send) are skipped without
        // reading their metrics back.
        let keys = sqlx::query(&format!(
            "SELECT variant, segment, window_start, window_end {IN_RUN}"
        ))
        .bind(change_id)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *conn)
        .await?;
        let mut needed = false;
        for row in keys {
            let variant = parse_variant(change_id, &row.try_get::<String, _>(0)?)?;
            let segment: String = row.try_get(1)?;
            let (start, end): (i64, i64) = (row.try_get(2)?, row.try_get(3)?);
            if !skip.contains(&(start, end, variant, segment.as_str()))
                && wanted.contains(&(bucket(start, HOUR), variant, segment.as_str()))
            {
                needed = true;
                break;
            }
        }
        if !needed {
            continue;
        }
        let rows = sqlx::query(&format!(
            "SELECT variant, segment, window_start, window_end, requests, metrics {IN_RUN}"
        ))
        .bind(change_id)
        .bind(from)
        .bind(to)
        .fetch_all(&mut *conn)
        .await?;
        for row in rows {
            let variant = parse_variant(change_id, &row.try_get::<String, _>(0)?)?;
            let segment: String = row.try_get(1)?;
            let start: i64 = row.try_get(2)?;
            let end: i64 = row.try_get(3)?;
            if skip.contains(&(start, end, variant, segment.as_str()))
                || !wanted.contains(&(bucket(start, HOUR), variant, segment.as_str()))
            {
                continue;
            }
            let corrupt = |what: String| {
                Error::internal(format!(
                    "change {change_id}: stored window at {start} does not parse: {what}"
                ))
            };
            let requests: i64 = row.try_get(4)?;
            let text: String = row.try_get(5)?;
            let window = Rollup {
                windows: 1,
                first_start: start,
                last_start: start,
                last_end: end,
                shortest: end - start,
                requests: u64::try_from(requests).map_err(|e| corrupt(e.to_string()))?,
                metrics: decode_all(&text).map_err(|e| corrupt(e.to_string()))?,
            };
            add(
                change_id,
                &mut hours,
                (bucket(start, HOUR), variant, segment),
                window,
            )?;
        }
    }
    Ok(hours)
}

/// Writes the fresh `hours` (per variant and segment) and everything summed from them: the
/// same hours for all segments together, the days they fall in (per segment and together)
/// and the whole history of each variant and segment. Stored rows of the same days and
/// histories are read, skipping those the fresh ones replace.
async fn roll_up(
    tx: &mut Transaction<'static, Any>,
    change_id: &str,
    hours: BTreeMap<Key, Rollup>,
) -> Result<()> {
    if hours.is_empty() {
        return Ok(());
    }
    let together_wanted: BTreeSet<(i64, Variant)> = hours.keys().map(|k| (k.0, k.1)).collect();
    let days_wanted: BTreeSet<(i64, Variant, &str)> = hours
        .keys()
        .flat_map(|(h, v, s)| {
            [
                (bucket(*h, DAY), *v, s.as_str()),
                (bucket(*h, DAY), *v, TOGETHER),
            ]
        })
        .collect();
    let mut together: BTreeMap<Key, Rollup> = BTreeMap::new();
    let mut days: BTreeMap<Key, Rollup> = BTreeMap::new();
    // The stored hours of the days touched: other segments' rows of a touched hour go into
    // its all-segments row, untouched hours into their days.
    for (from, to) in runs(days_wanted.iter().map(|k| k.0), DAY) {
        for (start, variant, segment, rollup) in
            rollup_rows(tx, change_id, HOUR, from, to, |b, v, s| {
                if s == TOGETHER {
                    !together_wanted.contains(&(b, v))
                        && days_wanted.contains(&(bucket(b, DAY), v, s))
                } else {
                    !hours.contains_key(&(b, v, s.to_owned()))
                        && (together_wanted.contains(&(b, v))
                            || days_wanted.contains(&(bucket(b, DAY), v, s)))
                }
            })
            .await?
        {
            let day = bucket(start, DAY);
            if segment != TOGETHER && together_wanted.contains(&(start, variant)) {
                add(
                    change_id,
                    &mut together,
                    (start, variant, TOGETHER.to_owned()),
                    rollup.clone(),
                )?;
            }
            if days_wanted.contains(&(day, variant, segment.as_str())) {
                add(change_id, &mut days, (day, variant, segment), rollup)?;
            }
        }
    }
    for (key, rollup) in &hours {
        add(
            change_id,
            &mut together,
            (key.0, key.1, TOGETHER.to_owned()),
            rollup.clone(),
        )?;
    }
    for (key, rollup) in hours.iter().chain(&together) {
        add(
            change_id,
            &mut days,
            (bucket(key.0, DAY), key.1, key.2.clone()),
            rollup.clone(),
        )?;
    }
    let arms: BTreeSet<(Variant, &str)> = hours.keys().map(|k| (k.1, k.2.as_str())).collect();
    let mut whole: BTreeMap<Key, Rollup> = BTreeMap::new();
    for (_, variant, segment, rollup) in rollup_rows(tx, change_id, DAY, None, None, |b, v, s| {
        s != TOGETHER && arms.contains(&(v, s)) && !days.contains_key(&(b, v, s.to_owned()))
    })
    .await?
    {
        add(change_id, &mut whole, (0, variant, segment), rollup)?;
    }
    for (key, rollup) in days.iter().filter(|(k, _)| k.2 != TOGETHER) {
        add(
            change_id,
            &mut whole,
            (0, key.1, key.2.clone()),
            rollup.clone(),
        )?;
    }
    upsert(tx, change_id, HOUR, hours.into_iter().chain(together)).await?;
    upsert(tx, change_id, DAY, days.into_iter()).await?;
    upsert(tx, change_id, WHOLE, whole.into_iter()).await
}

fn bucket(start: i64, width: i64) -> i64 {
    start.div_euclid(width) * width
}

/// Ranges `[from, to)` covering buckets of `width` starting at `starts`, nearby ones together.
fn runs(starts: impl Iterator<Item = i64>, width: i64) -> Vec<(i64, i64)> {
    let starts: BTreeSet<i64> = starts.collect();
    let mut out: Vec<(i64, i64)> = Vec::new();
    for start in starts {
        match out.last_mut() {
            Some((_, end)) if start - *end <= RUN_GAP => *end = start + width,
            _ => out.push((start, start + width)),
        }
    }
    out
}

fn add(change_id: &str, sums: &mut BTreeMap<Key, Rollup>, key: Key, rollup: Rollup) -> Result<()> {
    match sums.entry(key) {
        std::collections::btree_map::Entry::Occupied(mut e) => {
            e.get_mut().add(rollup).map_err(|why| {
                Error::internal(format!(
                    "change {change_id}: stored windows do not add up: {why}"
                ))
            })
        }
        std::collections::btree_map::Entry::Vacant(e) => {
            e.insert(rollup);
            Ok(())
        }
    }
}

fn parse_variant(change_id: &str, text: &str) -> Result<Variant> {
    Variant::parse(text)
        .ok_or_else(|| Error::internal(format!("change {change_id}: stored variant {text}")))
}

const ROLLUP_COLUMNS: &str = "variant, segment, bucket, windows, first_start, last_start, \
                              last_end, shortest, requests, metrics";

/// Stored rollups of `width` with buckets in `[from, to)`, those `keep(bucket, variant,
/// segment)` accepts, decoded whole.
async fn rollup_rows(
    conn: &mut AnyConnection,
    change_id: &str,
    width: i64,
    from: impl Into<Option<i64>>,
    to: impl Into<Option<i64>>,
    keep: impl Fn(i64, Variant, &str) -> bool,
) -> Result<Vec<(i64, Variant, String, Rollup)>> {
    let rows = sqlx::query(&format!(
        "SELECT {ROLLUP_COLUMNS} FROM metric_rollups \
         WHERE change_id = $1 AND width = $2 AND bucket >= $3 AND bucket < $4"
    ))
    .bind(change_id)
    .bind(width)
    .bind(from.into().unwrap_or(i64::MIN))
    .bind(to.into().unwrap_or(i64::MAX))
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::new();
    for row in rows {
        let (variant, segment, bucket, mut head) = rollup_head(change_id, &row)?;
        if !keep(bucket, variant, &segment) {
            continue;
        }
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
    sums: impl Iterator<Item = (Key, Rollup)>,
) -> Result<()> {
    let sums: Vec<(Key, Rollup)> = sums.collect();
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
    together: bool,
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
        // One segment's rows, the all-segments rows, or every segment's.
        let segment = sel.segment.or(together.then_some(TOGETHER));
        sql.push_str(if segment.is_some() {
            " AND segment = $5"
        } else {
            " AND segment <> $5"
        });
        sql.push_str(" ORDER BY bucket");
        let query = sqlx::query(&sql)
            .bind(change_id)
            .bind(width)
            .bind(from.unwrap_or(i64::MIN))
            .bind(to.unwrap_or(i64::MAX))
            .bind(segment.unwrap_or(TOGETHER));
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
    let touched: Vec<(i64, Variant, &str)> = touched
        .iter()
        .map(|(t, v, s)| (*t, *v, s.as_str()))
        .collect();
    rebuild(tx, change_id, &touched).await?;
    Ok(true)
}
