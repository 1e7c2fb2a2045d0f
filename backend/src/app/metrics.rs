//! Metrics of a change: its catalogue, ingestion of the windows production apps send, and
//! the aggregates the console analyses. The sums themselves are `shared::aggregate`; this
//! module checks what is asked, reads the windows and hands them over.

use std::collections::{BTreeMap, HashMap};

use shared::aggregate::{self, AggregateError};
use shared::metrics::{
    ALL_SEGMENTS, MetricBatch, MetricDef, MetricKind, MetricSeries, MetricSummary, MetricValue,
    ParsedWindow, Variant, parse_batch,
};
use sqlx::AnyPool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::Actor;
use crate::db::{self, metrics::Selection, metrics::Stored, metrics::StoredMetric};
use crate::error::{Error, Result};

/// Largest catalogue.
pub const MAX_METRICS: usize = 100;
/// Longest metric key; keys are `[a-z0-9_]`.
pub const MAX_KEY: usize = 64;

/// The version of the change's metrics: raised by every ingestion and catalogue edit, so an
/// aggregate computed at one version stays right while it stands; 404 when there is no change.
pub async fn version(pool: &AnyPool, id: &str) -> Result<i64> {
    db::metrics::version(pool, id)
        .await?
        .ok_or_else(|| Error::not_found("change"))
}

/// The change's catalogue, or 404.
pub async fn catalogue(pool: &AnyPool, id: &str) -> Result<Vec<MetricDef>> {
    db::metrics::catalogue(pool, id)
        .await?
        .ok_or_else(|| Error::not_found("change"))
}

/// Replaces the change's metric catalogue. Metrics may be added, renamed and reworded at any
/// time; once windows of a metric are stored it can neither be removed nor change kind. Once
/// the canary has started the catalogue the criteria are judged on is part of what people
/// signed: an edit then makes a new plan revision, and sign-off given before no longer counts
/// (the criteria themselves are in the plan, which is frozen from the eval gate on).
pub async fn set_catalogue(
    pool: &AnyPool,
    actor: &Actor,
    id: &str,
    metrics: &[MetricDef],
) -> Result<()> {
    let writer = db::metrics::lock(pool, id)
        .await?
        .ok_or_else(|| Error::not_found("change"))?;
    validate_catalogue(metrics)?;
    check_catalogue_keeps_data(&writer.stored, metrics)?;
    let canary_started = db::transitions::entered_at(pool, id, "canary")
        .await?
        .is_some();
    writer
        .set_catalogue(metrics, canary_started, &actor.who(), &db::now())
        .await?;
    tracing::info!(actor = %actor.user.email, %id, metrics = metrics.len(), "metric catalogue replaced");
    Ok(())
}

/// Keys unique and `[a-z0-9_]{1,64}`, names present, at most [`MAX_METRICS`].
fn validate_catalogue(metrics: &[MetricDef]) -> Result<()> {
    if metrics.is_empty() || metrics.len() > MAX_METRICS {
        return Err(Error::validation(
            "metrics",
            format!("must hold 1 to {MAX_METRICS} metrics"),
        ));
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, m) in metrics.iter().enumerate() {
        let valid = !m.key.is_empty()
            && m.key.len() <= MAX_KEY
            && m.key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(Error::validation(
                format!("metrics[{i}].key"),
                format!(
                    "`{}` is not a metric key: use 1–{MAX_KEY} of a–z, 0–9 and _",
                    m.key
                ),
            ));
        }
        if let Some(first) = seen.insert(&m.key, i) {
            return Err(Error::validation(
                format!("metrics[{i}].key"),
                format!("`{}` is already metrics[{first}]", m.key),
            ));
        }
        let name = m.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::validation(
                format!("metrics[{i}].name"),
                "must be 1–100 characters",
            ));
        }
        if m.unit.chars().count() > 20 {
            return Err(Error::validation(
                format!("metrics[{i}].unit"),
                "must be at most 20 characters",
            ));
        }
    }
    Ok(())
}

/// 409 when the new catalogue drops a metric with stored windows or changes its kind: the
/// stored windows would no longer be readable against it.
fn check_catalogue_keeps_data(
    stored: &BTreeMap<String, StoredMetric>,
    metrics: &[MetricDef],
) -> Result<()> {
    for (key, s) in stored {
        match metrics.iter().find(|m| &m.key == key) {
            None => {
                return Err(Error::conflict(format!(
                    "`{key}` cannot be removed: windows with it are stored for this change"
                )));
            }
            Some(m) if m.kind != s.kind => {
                return Err(Error::conflict(format!(
                    "`{key}` cannot become a {} metric: windows with it are stored as {}",
                    m.kind.as_str(),
                    s.kind.as_str()
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Stores a batch of windows for the change `id`. The whole batch is checked first: one bad
/// window rejects it all, naming `windows[i].…`, and nothing is stored. Sending a window again
/// replaces it. Who may send is the caller's business (the ingestion token).
pub async fn ingest(pool: &AnyPool, id: &str, batch: MetricBatch) -> Result<Stored> {
    let now = OffsetDateTime::now_utc().unix_timestamp();
    // Parse before taking the lock, so other writers to the change wait only for the
    // inserts; re-parse in the rare case the catalogue changed in between.
    let seen = catalogue(pool, id).await?;
    let mut windows = parse_batch(&batch, &seen, now, parse_time)?;
    let writer = db::metrics::lock(pool, id)
        .await?
        .ok_or_else(|| Error::not_found("change"))?;
    if writer.catalogue != seen {
        windows = parse_batch(&batch, &writer.catalogue, now, parse_time)?;
    }
    drop(batch);
    check_batch(&windows, &writer.stored)?;
    // The stored totals of the metrics this batch sends; the others are left as they are.
    let mut magnitudes: BTreeMap<String, f64> = BTreeMap::new();
    for key in windows.iter().flat_map(|w| w.values.keys()) {
        if let Some(s) = writer.stored.get(key)
            && s.kind == MetricKind::Mean
        {
            magnitudes.entry(key.clone()).or_insert(s.magnitude);
        }
    }
    shared::metrics::add_magnitudes(&windows, &mut magnitudes)?;
    Ok(writer.store(&windows, &magnitudes, &db::now()).await?)
}

/// RFC 3339 to Unix seconds (sub-second parts are dropped).
fn parse_time(s: &str) -> Option<i64> {
    OffsetDateTime::parse(s, &Rfc3339)
        .ok()
        .map(OffsetDateTime::unix_timestamp)
}

/// Rules `parse_batch` cannot check alone: what fits the database, windows repeated in one
/// batch, and latency bucket bounds that must match the stored windows' (else they cannot be
/// added up).
fn check_batch(windows: &[ParsedWindow], stored: &BTreeMap<String, StoredMetric>) -> Result<()> {
    let mut keys: HashMap<(Variant, &str, i64, i64), usize> = HashMap::with_capacity(windows.len());
    let mut bounds: HashMap<&str, &[f64]> = HashMap::new();
    for (i, w) in windows.iter().enumerate() {
        if i64::try_from(w.requests).is_err() {
            return Err(Error::validation(
                format!("windows[{i}].requests"),
                "is too large",
            ));
        }
        if let Some(first) = keys.insert((w.variant, w.segment.as_str(), w.start, w.end), i) {
            return Err(Error::validation(
                format!("windows[{i}]"),
                format!(
                    "repeats windows[{first}] (same variant, segment, start and end); send \
                     each window once"
                ),
            ));
        }
        for (key, value) in &w.values {
            let at = format!("windows[{i}].metrics.{key}");
            if let Some(s) = stored.get(key)
                && s.kind != value.kind()
            {
                return Err(Error::validation(
                    at,
                    format!("is stored as a {} metric", s.kind.as_str()),
                ));
            }
            let MetricValue::Latency { le, .. } = value else {
                continue;
            };
            let expected = match stored.get(key).and_then(|s| s.le.as_deref()) {
                Some(le) => le,
                None => bounds.entry(key.as_str()).or_insert(le.as_slice()),
            };
            if expected != le.as_slice() {
                return Err(Error::validation(
                    format!("{at}.le"),
                    format!(
                        "bucket bounds must be the same in every window of a change, so that \
                         histograms add up; this change's are {expected:?}"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Every metric of the change summed per segment and variant (plus the `all` aggregate), over
/// windows starting in `[from, to)` (RFC 3339, both optional).
pub async fn summary(
    pool: &AnyPool,
    id: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<MetricSummary> {
    let (from, to) = time_range(from, to)?;
    summary_between(pool, id, from, to).await
}

/// The summary over windows starting at or after `from` (Unix seconds), for approvals'
/// evidence.
pub async fn summary_since(pool: &AnyPool, id: &str, from: Option<i64>) -> Result<MetricSummary> {
    summary_between(pool, id, from, None).await
}

async fn summary_between(
    pool: &AnyPool,
    id: &str,
    from: Option<i64>,
    to: Option<i64>,
) -> Result<MetricSummary> {
    let catalogue = catalogue(pool, id).await?;
    let keys: Vec<&str> = catalogue.iter().map(|d| d.key.as_str()).collect();
    let sel = Selection {
        from,
        to,
        segment: None,
    };
    let windows = db::rollups::read(pool, id, sel, &keys, None, false).await?;
    let complaints_tracked = keys.contains(&shared::metrics::COMPLAINTS_METRIC);
    let mut summary = aggregate::summarize(catalogue, &windows).map_err(aggregate_error)?;
    if complaints_tracked && let (Some(from), Some(to)) = (&summary.from, &summary.to) {
        let mut conn = pool.acquire().await?;
        let counts = db::reviews::complaints_per_variant(&mut conn, id, from, to).await?;
        summary.count_complaints(|v| {
            counts
                .iter()
                .find(|(variant, _)| *variant == v)
                .map_or(0, |(_, n)| *n)
        });
    }
    Ok(summary)
}

/// What a series is asked for.
#[derive(Debug, Clone, Default)]
pub struct SeriesRequest {
    pub metric: String,
    /// A segment, or `None`/`all` for every segment together.
    pub segment: Option<String>,
    /// Bucket width in seconds; by default a round width giving about 200 points.
    pub resolution: Option<i64>,
    /// RFC 3339; the first bucket starts here.
    pub from: Option<String>,
    pub to: Option<String>,
}

/// One metric in one segment over time, per variant, cumulative.
pub async fn series(pool: &AnyPool, id: &str, request: SeriesRequest) -> Result<MetricSeries> {
    let (from, to) = time_range(request.from.as_deref(), request.to.as_deref())?;
    if let Some(r) = request.resolution
        && !(60..=365 * 86_400).contains(&r)
    {
        return Err(Error::validation(
            "resolution",
            "must be between 60 and 31 536 000 seconds",
        ));
    }
    let catalogue = catalogue(pool, id).await?;
    if !catalogue.iter().any(|d| d.key == request.metric) {
        return Err(Error::validation(
            "metric",
            format!(
                "`{}` is not in this change's metric catalogue",
                request.metric
            ),
        ));
    }
    let segment = request.segment.unwrap_or_else(|| ALL_SEGMENTS.to_owned());
    let sel = Selection {
        from,
        to,
        segment: (segment != ALL_SEGMENTS).then_some(segment.as_str()),
    };
    // The width first, from the coarsest rows (their times are the windows'), then the
    // metric from the widest rollups that fit in the series' buckets (all segments together
    // have rollups of their own).
    let together = sel.segment.is_none();
    let outline = db::rollups::read(pool, id, sel, &[], None, false).await?;
    let widest = aggregate::series_width(&outline, request.resolution)
        .and_then(|width| aggregate::widest_for_series(width, from))
        .unwrap_or(0);
    let windows = db::rollups::read(
        pool,
        id,
        sel,
        &[request.metric.as_str()],
        Some(widest),
        together,
    )
    .await?;
    let (width, mut points) =
        aggregate::series(&windows, from, request.resolution).map_err(aggregate_error)?;
    if request.metric == shared::metrics::COMPLAINTS_METRIC {
        if together {
            count_complaints(pool, id, &mut points).await?;
        } else {
            // Complaints name no segment: the metric has no series per segment.
            points.clear();
        }
    }
    Ok(MetricSeries {
        metric: request.metric,
        segment,
        resolution_seconds: width,
        points,
    })
}

/// Fills the complaints metric's cumulative series: at each point, the complaints recorded
/// against each variant up to its time (at most the users exposed by then).
async fn count_complaints(
    pool: &AnyPool,
    id: &str,
    points: &mut [shared::metrics::SeriesPoint],
) -> Result<()> {
    let mut conn = pool.acquire().await?;
    let complaints = db::reviews::complaints(&mut conn, id).await?;
    drop(conn);
    let unix = |t: &str| {
        OffsetDateTime::parse(t, &Rfc3339)
            .map(|t| t.unix_timestamp())
            .ok()
    };
    let at: Vec<(Option<i64>, Option<&str>)> = complaints
        .iter()
        .map(|c| (unix(&c.at), c.variant.as_deref()))
        .collect();
    for p in points.iter_mut() {
        let Some(end) = unix(&p.at) else { continue };
        let upto = |variant: &str| {
            at.iter()
                .filter(|(t, v)| t.is_some_and(|t| t <= end) && *v == Some(variant))
                .count() as u64
        };
        for (value, variant) in [(&mut p.control, "control"), (&mut p.candidate, "candidate")] {
            if let Some(MetricValue::Rate { n, successes }) = value {
                *successes = upto(variant).min(*n);
            }
        }
    }
    Ok(())
}

/// Too many points is the caller's resolution at fault (422); windows that do not add up are
/// stored data gone wrong (500).
fn aggregate_error(e: AggregateError) -> Error {
    match e {
        AggregateError::TooManyPoints { .. } => Error::validation("resolution", e.to_string()),
        AggregateError::DoNotAddUp(_) => Error::internal(e.to_string()),
    }
}

/// `from` and `to` as Unix seconds; 422 on the parameter at fault.
fn time_range(from: Option<&str>, to: Option<&str>) -> Result<(Option<i64>, Option<i64>)> {
    let parse = |name: &str, value: Option<&str>| {
        value
            .map(|v| {
                parse_time(v).ok_or_else(|| {
                    Error::validation(name, format!("`{v}` is not an RFC 3339 time"))
                })
            })
            .transpose()
    };
    let (from, to) = (parse("from", from)?, parse("to", to)?);
    if let (Some(f), Some(t)) = (from, to)
        && t <= f
    {
        return Err(Error::validation("to", "must be after `from`"));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_rules() {
        let mut c = shared::metrics::default_catalogue();
        assert!(validate_catalogue(&c).is_ok());
        c[3].key = "Bad-Key".into();
        let field = |c: &[MetricDef]| match validate_catalogue(c) {
            Err(Error::Validation { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(&c).as_deref(), Some("metrics[3].key"));
        c[3].key = c[0].key.clone();
        assert_eq!(field(&c).as_deref(), Some("metrics[3].key"));
        assert_eq!(field(&[]).as_deref(), Some("metrics"));
    }
}
