//! Queries on `metric_windows` and `metric_keys`, and the change's metric catalogue.
//!
//! Writes go through a [`Writer`]: a transaction that first locks the change's row, so that
//! ingestion requests for one change and edits of its catalogue are serialized (on SQLite the
//! first write takes the database's write lock; on PostgreSQL the row lock), and that then reads
//! the catalogue and the stored metric keys the caller validates against. Validation and
//! storage therefore see the same state, and a batch is stored whole or not at all.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use shared::aggregate::Window;
use shared::metrics::{
    MetricDef, MetricKind, MetricValue, ParsedWindow, Variant, default_catalogue,
};
use sqlx::{Any, AnyPool, Row, Transaction};

use super::{Error, Result};

/// Rows per INSERT statement. Few rows per statement cost round trips; many cost SQLite dearly:
/// sqlx looks up each parameter's name when binding (`sqlite3_bind_parameter_name`, linear in
/// the number of parameters), so binding is quadratic in the statement's size. 100 rows of 6
/// parameters is near the optimum measured on both databases (`benches/metrics.rs`).
const ROWS_PER_INSERT: usize = 100;

/// What stored windows fix about a metric: its kind and, for latency, the bucket bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredMetric {
    pub kind: MetricKind,
    pub le: Option<Vec<f64>>,
    /// For a mean metric, Σ |sum| + |sum_squares| over the windows accepted so far (see
    /// `shared::metrics::add_magnitudes`); 0 for the other kinds.
    pub magnitude: f64,
}

/// How an ingestion went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub accepted: u64,
    /// Windows that already existed and were replaced.
    pub replaced: u64,
}

/// A locked change, with what writes to it are validated against. Dropping it without
/// calling a write method rolls back (and unlocks).
pub struct Writer {
    tx: Transaction<'static, Any>,
    change_id: String,
    /// The change's catalogue: its own, or the default.
    pub catalogue: Vec<MetricDef>,
    /// Metrics with stored windows.
    pub stored: BTreeMap<String, StoredMetric>,
}

/// Raises the version the answers kept in memory are checked against, for a write outside the
/// windows that changes what they say (a complaint, which the complaints metric counts).
pub async fn bump_version(conn: &mut sqlx::AnyConnection, change_id: &str) -> Result<()> {
    sqlx::query("UPDATE changes SET metrics_version = metrics_version + 1 WHERE id = $1")
        .bind(change_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Locks `change_id` for writing; `None` when there is no such change.
pub async fn lock(pool: &AnyPool, change_id: &str) -> Result<Option<Writer>> {
    let mut tx = super::begin(pool).await?;
    // A write first, not a read: it takes the lock before anything is read, and on SQLite a
    // transaction that reads and then writes can fail with SQLITE_BUSY instead of waiting.
    // It also raises the version the answers kept in memory are checked against (a write that
    // is rolled back leaves it as it was).
    let locked =
        sqlx::query("UPDATE changes SET metrics_version = metrics_version + 1 WHERE id = $1")
            .bind(change_id)
            .execute(&mut *tx)
            .await?;
    if locked.rows_affected() == 0 {
        return Ok(None);
    }
    let text: Option<String> = sqlx::query("SELECT metric_catalogue FROM changes WHERE id = $1")
        .bind(change_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    let catalogue = parse_catalogue(change_id, text)?;
    let rows = sqlx::query(
        "SELECT metric, kind, latency_le, magnitude FROM metric_keys WHERE change_id = $1",
    )
    .bind(change_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut stored = BTreeMap::new();
    for row in rows {
        let metric: String = row.try_get(0)?;
        let kind: String = row.try_get(1)?;
        let le: Option<String> = row.try_get(2)?;
        let magnitude: f64 = row.try_get(3)?;
        let corrupt =
            || Error::internal(format!("change {change_id}: bad metric_keys row {metric}"));
        let kind = MetricKind::parse(&kind).ok_or_else(corrupt)?;
        let le = le
            .map(|t| serde_json::from_str::<Vec<f64>>(&t))
            .transpose()
            .map_err(|_| corrupt())?;
        stored.insert(
            metric,
            StoredMetric {
                kind,
                le,
                magnitude,
            },
        );
    }
    Ok(Some(Writer {
        tx,
        change_id: change_id.to_owned(),
        catalogue,
        stored,
    }))
}

impl Writer {
    /// Stores validated windows (replacing those with the same key) and records their metrics'
    /// kinds, bucket bounds and `magnitudes` (the new totals of the mean metrics), then commits.
    pub async fn store(
        mut self,
        windows: &[ParsedWindow],
        magnitudes: &BTreeMap<String, f64>,
        received_at: &str,
    ) -> Result<Stored> {
        let mut new_keys: BTreeMap<&str, &MetricValue> = BTreeMap::new();
        for w in windows {
            for (key, value) in &w.values {
                if !self.stored.contains_key(key) {
                    new_keys.entry(key.as_str()).or_insert(value);
                }
            }
        }
        for (key, value) in new_keys {
            let le = match value {
                MetricValue::Latency { le, .. } => Some(to_json(le)?),
                _ => None,
            };
            sqlx::query(
                "INSERT INTO metric_keys (change_id, metric, kind, latency_le) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (change_id, metric) DO NOTHING",
            )
            .bind(self.change_id.as_str())
            .bind(key)
            .bind(value.kind().as_str())
            .bind(le)
            .execute(&mut *self.tx)
            .await?;
        }
        for (key, magnitude) in magnitudes {
            sqlx::query(
                "UPDATE metric_keys SET magnitude = $1 WHERE change_id = $2 AND metric = $3",
            )
            .bind(magnitude)
            .bind(self.change_id.as_str())
            .bind(key)
            .execute(&mut *self.tx)
            .await?;
        }

        let mut replaced = 0;
        for chunk in windows.chunks(ROWS_PER_INSERT) {
            let mut sql = String::with_capacity(64 + chunk.len() * 48);
            sql.push_str(
                "INSERT INTO metric_windows (change_id, window_start, window_end, variant, \
                 segment, requests, metrics, received_at) VALUES ",
            );
            // $1 (the change) and $2 (the time) are shared by every row. Numbered by hand, not
            // with sqlx::QueryBuilder: on the `Any` driver it writes `?`, which PostgreSQL rejects.
            for i in 0..chunk.len() {
                let b = 2 + i * 6;
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "($1, ${}, ${}, ${}, ${}, ${}, ${}, $2)",
                    b + 1,
                    b + 2,
                    b + 3,
                    b + 4,
                    b + 5,
                    b + 6
                ));
            }
            sql.push_str(
                " ON CONFLICT (change_id, window_start, window_end, variant, segment) \
                 DO UPDATE SET requests = excluded.requests, metrics = excluded.metrics, \
                 received_at = excluded.received_at, sends = metric_windows.sends + 1 \
                 RETURNING sends",
            );
            let mut query = sqlx::query(&sql)
                .bind(self.change_id.as_str())
                .bind(received_at);
            for w in chunk {
                let requests = i64::try_from(w.requests)
                    .map_err(|_| Error::internal("requests above i64::MAX passed validation"))?;
                query = query
                    .bind(w.start)
                    .bind(w.end)
                    .bind(w.variant.as_str())
                    .bind(w.segment.as_str())
                    .bind(requests)
                    .bind(to_json(&w.values)?);
            }
            for row in query.fetch_all(&mut *self.tx).await? {
                if row.try_get::<i64, _>(0)? > 1 {
                    replaced += 1;
                }
            }
        }
        super::rollups::update(&mut self.tx, &self.change_id, windows).await?;
        self.tx.commit().await?;
        Ok(Stored {
            accepted: windows.len() as u64,
            replaced,
        })
    }

    /// Builds the change's rollups from its stored windows when it has none (see
    /// `super::rollups::backfill`), then commits; whether it built them.
    pub async fn rebuild_rollups_if_missing(mut self) -> Result<bool> {
        let built = super::rollups::rebuild_if_missing(&mut self.tx, &self.change_id).await?;
        self.tx.commit().await?;
        Ok(built)
    }

    /// Replaces the change's catalogue and records the edit in the audit log, then commits.
    /// With `new_plan_revision` the change also gets a new revision and plan revision, so
    /// that sign-off given on the old catalogue no longer counts (once the canary started).
    pub async fn set_catalogue(
        mut self,
        metrics: &[MetricDef],
        new_plan_revision: bool,
        who: &super::audit::Who,
        at: &str,
    ) -> Result<()> {
        let query = if new_plan_revision {
            sqlx::query(
                "UPDATE changes SET metric_catalogue = $1, revision = revision + 1, \
                 plan_revision = revision + 1, updated_at = $3 WHERE id = $2",
            )
            .bind(to_json(&metrics)?)
            .bind(self.change_id.as_str())
            .bind(at)
        } else {
            sqlx::query("UPDATE changes SET metric_catalogue = $1 WHERE id = $2")
                .bind(to_json(&metrics)?)
                .bind(self.change_id.as_str())
        };
        query.execute(&mut *self.tx).await?;
        super::audit::append(
            &mut self.tx,
            &super::audit::Record::new(
                who,
                "catalogue.update",
                "change",
                Some(&self.change_id),
                at,
            )
            .before_value(Some(serde_json::json!({ "metrics": self.catalogue })))
            .after_value(Some(serde_json::json!({
                "metrics": metrics,
                "new_plan_revision": new_plan_revision,
            }))),
        )
        .await?;
        self.tx.commit().await?;
        Ok(())
    }
}

/// The version of the change's metrics (see migration 0010); `None` when there is no such
/// change.
pub async fn version(pool: &AnyPool, change_id: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query("SELECT metrics_version FROM changes WHERE id = $1")
            .bind(change_id)
            .fetch_optional(pool)
            .await?
            .map(|row| row.try_get(0))
            .transpose()?,
    )
}

/// The change's catalogue (its own or the default); `None` when there is no such change.
pub async fn catalogue(pool: &AnyPool, change_id: &str) -> Result<Option<Vec<MetricDef>>> {
    let row = sqlx::query("SELECT metric_catalogue FROM changes WHERE id = $1")
        .bind(change_id)
        .fetch_optional(pool)
        .await?;
    match row {
        None => Ok(None),
        Some(row) => Ok(Some(parse_catalogue(change_id, row.try_get(0)?)?)),
    }
}

fn parse_catalogue(change_id: &str, text: Option<String>) -> Result<Vec<MetricDef>> {
    match text {
        None => Ok(default_catalogue()),
        Some(t) => serde_json::from_str(&t).map_err(|e| {
            Error::internal(format!(
                "change {change_id}: stored catalogue does not parse: {e}"
            ))
        }),
    }
}

/// Which windows to read: `window_start` in `[from, to)`, one segment or all.
#[derive(Debug, Clone, Copy, Default)]
pub struct Selection<'a> {
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub segment: Option<&'a str>,
}

/// The selected windows of a change as they were sent, oldest first, decoding only the metrics in `metrics`
/// (the others are skipped unparsed).
pub async fn windows(
    pool: &AnyPool,
    change_id: &str,
    sel: Selection<'_>,
    metrics: &[&str],
) -> Result<Vec<Window>> {
    let mut sql = String::from(
        "SELECT variant, segment, window_start, window_end, requests, metrics \
         FROM metric_windows WHERE change_id = $1",
    );
    let mut n = 1;
    let mut next = |column_op: &str| {
        n += 1;
        format!(" AND {column_op} ${n}")
    };
    if sel.from.is_some() {
        sql.push_str(&next("window_start >="));
    }
    if sel.to.is_some() {
        sql.push_str(&next("window_start <"));
    }
    if sel.segment.is_some() {
        sql.push_str(&next("segment ="));
    }
    sql.push_str(" ORDER BY window_start, window_end");
    let mut query = sqlx::query(&sql).bind(change_id);
    if let Some(from) = sel.from {
        query = query.bind(from);
    }
    if let Some(to) = sel.to {
        query = query.bind(to);
    }
    if let Some(segment) = sel.segment {
        query = query.bind(segment);
    }
    let rows = query.fetch_all(pool).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let variant: String = row.try_get(0)?;
        let start: i64 = row.try_get(2)?;
        let corrupt = |what: &dyn fmt::Display| {
            Error::internal(format!(
                "change {change_id}: stored window at {start} does not parse: {what}"
            ))
        };
        let requests: i64 = row.try_get(4)?;
        let text: String = row.try_get(5)?;
        let values = decode(&text, metrics).map_err(|e| corrupt(&e))?;
        out.push(Window::single(
            Variant::parse(&variant).ok_or_else(|| corrupt(&variant))?,
            row.try_get(1)?,
            start,
            row.try_get(3)?,
            u64::try_from(requests).map_err(|e| corrupt(&e))?,
            values,
        ));
    }
    Ok(out)
}

/// Stored windows of one change, for tests and the demo.
pub async fn count(pool: &AnyPool, change_id: &str) -> Result<i64> {
    Ok(
        sqlx::query("SELECT COUNT(*) FROM metric_windows WHERE change_id = $1")
            .bind(change_id)
            .fetch_one(pool)
            .await?
            .try_get(0)?,
    )
}

/// The latest `window_end` stored for a change, if any.
pub async fn latest_end(pool: &AnyPool, change_id: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query("SELECT MAX(window_end) FROM metric_windows WHERE change_id = $1")
            .bind(change_id)
            .fetch_one(pool)
            .await?
            .try_get(0)?,
    )
}

pub(super) fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::internal(format!("cannot serialize: {e}")))
}

/// Reads a stored `{key: MetricValue}` object whole.
pub(super) fn decode_all(text: &str) -> serde_json::Result<BTreeMap<String, MetricValue>> {
    let values: BTreeMap<String, StoredValue> = serde_json::from_str(text)?;
    Ok(values.into_iter().map(|(k, v)| (k, v.0)).collect())
}

/// Reads a stored `{key: MetricValue}` object, keeping only the keys in `wanted`.
pub(super) fn decode(text: &str, wanted: &[&str]) -> serde_json::Result<Vec<(usize, MetricValue)>> {
    let mut de = serde_json::Deserializer::from_str(text);
    let values = Wanted(wanted).deserialize(&mut de)?;
    de.end()?;
    Ok(values)
}

/// A map visitor that parses the values of wanted keys and skips the rest without building
/// them: the series reads one metric of windows that hold thirty. Keys are borrowed from the
/// text (metric keys are `[a-z0-9_]`, which JSON never escapes), so nothing is allocated
/// for them.
struct Wanted<'a>(&'a [&'a str]);

impl<'de> DeserializeSeed<'de> for Wanted<'_> {
    type Value = Vec<(usize, MetricValue)>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Wanted<'_> {
    type Value = Vec<(usize, MetricValue)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of metric values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<&'de str>()? {
            match self.0.iter().position(|k| *k == key) {
                Some(i) => out.push((i, map.next_value::<StoredValue>()?.0)),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}

/// A stored `MetricValue`, read without serde's buffering of internally tagged enums (which
/// made decoding the slowest part of a summary). Our writer puts the `kind` tag first, so the
/// fields that follow can be read straight into their types.
struct StoredValue(MetricValue);

impl<'de> serde::Deserialize<'de> for StoredValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(StoredVisitor)
    }
}

struct StoredVisitor;

impl<'de> Visitor<'de> for StoredVisitor {
    type Value = StoredValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a metric value with its `kind` first")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StoredValue, A::Error> {
        use serde::de::Error as _;
        let first = map.next_key::<&'de str>()?;
        if first != Some("kind") {
            return Err(A::Error::custom("`kind` is not the first field"));
        }
        let kind = map.next_value::<&'de str>()?;
        let kind = MetricKind::parse(kind).ok_or_else(|| A::Error::custom("unknown kind"))?;
        let (mut n, mut successes, mut sum, mut sum_squares) = (None, None, None, None);
        let (mut le, mut counts, mut categories) = (None, None, None);
        while let Some(key) = map.next_key::<&'de str>()? {
            match (kind, key) {
                (_, "n") => n = Some(map.next_value::<u64>()?),
                (_, "successes") => successes = Some(map.next_value::<u64>()?),
                (_, "sum") => sum = Some(map.next_value::<f64>()?),
                (_, "sum_squares") => sum_squares = Some(map.next_value::<f64>()?),
                (_, "le") => le = Some(map.next_value::<Vec<f64>>()?),
                (MetricKind::Categories, "counts") => {
                    categories = Some(map.next_value::<BTreeMap<String, u64>>()?)
                }
                (_, "counts") => counts = Some(map.next_value::<Vec<u64>>()?),
                (_, other) => return Err(A::Error::unknown_field(other, &[])),
            }
        }
        let missing = |f: &'static str| A::Error::missing_field(f);
        Ok(StoredValue(match kind {
            MetricKind::Rate => MetricValue::Rate {
                n: n.ok_or_else(|| missing("n"))?,
                successes: successes.ok_or_else(|| missing("successes"))?,
            },
            MetricKind::Mean => MetricValue::Mean {
                n: n.ok_or_else(|| missing("n"))?,
                sum: sum.ok_or_else(|| missing("sum"))?,
                sum_squares: sum_squares.ok_or_else(|| missing("sum_squares"))?,
            },
            MetricKind::Latency => MetricValue::Latency {
                le: le.ok_or_else(|| missing("le"))?,
                counts: counts.ok_or_else(|| missing("counts"))?,
            },
            MetricKind::Categories => MetricValue::Categories {
                counts: categories.ok_or_else(|| missing("counts"))?,
            },
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decoding_keeps_only_the_wanted_metrics() {
        let values: BTreeMap<String, MetricValue> = [
            ("a".to_string(), MetricValue::Rate { n: 3, successes: 1 }),
            (
                "b".to_string(),
                MetricValue::Latency {
                    le: vec![1.0, 2.0],
                    counts: vec![4, 5],
                },
            ),
        ]
        .into();
        let text = serde_json::to_string(&values).unwrap();
        let got = decode(&text, &["b"]).unwrap();
        for v in [
            MetricValue::Mean {
                n: 2,
                sum: 3.5,
                sum_squares: 7.25,
            },
            MetricValue::Categories {
                counts: [("timeout".to_string(), 3)].into(),
            },
        ] {
            let text = serde_json::to_string(&v).unwrap();
            assert_eq!(serde_json::from_str::<StoredValue>(&text).unwrap().0, v);
        }
        assert!(
            serde_json::from_str::<StoredValue>(r#"{"n": 1, "kind": "rate", "successes": 0}"#)
                .is_err()
        );
        assert_eq!(got, vec![(0, values["b"].clone())]);
        let got = decode(&text, &["x", "a", "b"]).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0], (1, values["a"].clone()));
        assert!(decode("[1]", &["a"]).is_err());
    }
}
