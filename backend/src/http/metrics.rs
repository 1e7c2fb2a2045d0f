//! Canary-vs-control metrics of a change: its metric catalogue, ingestion of the windows
//! production apps send (`POST /changes/{id}/metrics`, authenticated by an ingestion token),
//! and the aggregates the console analyses (`…/metrics/summary`, `…/metrics/series`).
//!
//! Aggregation happens here, on the server: sufficient statistics add up
//! ([`MetricValue::merge`]), so summing windows loses nothing the statistics need, and the
//! browser receives one cell per metric × segment × variant instead of thousands of windows.

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use serde::{Deserialize, Serialize};
use shared::api::{ErrorBody, MetricCatalogue};
use shared::metrics::{
    ALL_SEGMENTS, MetricBatch, MetricDef, MetricSeries, MetricSummary, MetricValue, ParsedWindow,
    SeriesPoint, SummaryCell, TrafficCell, Variant, parse_batch,
};
use sqlx::AnyPool;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::authz::AuthUser;
use super::extract::{Json, Path, Query};
use super::ingest_auth::IngestToken;
use crate::AppState;
use crate::db::{self, metrics::Selection, metrics::StoredMetric, metrics::StoredWindow};
use crate::error::{Error, Result};

/// Body limit of the ingestion route: a full batch (`shared::metrics::MAX_WINDOWS` windows of a
/// 30-metric catalogue) is about 30 MB of JSON. Every other route keeps the small limit.
pub const INGEST_BODY_LIMIT: usize = 32 * 1024 * 1024;
/// Largest catalogue.
pub const MAX_METRICS: usize = 100;
/// Longest metric key; keys are `[a-z0-9_]`.
pub const MAX_KEY: usize = 64;
/// Most points a series answers.
pub const MAX_POINTS: i64 = 5_000;
/// Points a series aims for when no resolution is asked.
pub const TARGET_POINTS: i64 = 200;

pub fn router() -> OpenApiRouter<AppState> {
    let ingest = OpenApiRouter::new().routes(routes!(ingest_metrics));
    OpenApiRouter::new()
        .routes(routes!(get_catalogue, put_catalogue))
        .routes(routes!(metric_summary))
        .routes(routes!(metric_series))
        .merge(super::with_body_limit(ingest, INGEST_BODY_LIMIT))
}

/// The change's metric catalogue: its own, or the default one.
#[utoipa::path(
    get,
    path = "/changes/{id}/catalogue",
    tag = "metrics",
    params(("id" = String, Path, description = "The change's id")),
    responses(
        (status = 200, description = "The catalogue", body = MetricCatalogue),
        (status = 404, description = "No such change", body = ErrorBody),
    )
)]
async fn get_catalogue(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<MetricCatalogue>> {
    let metrics = catalogue(&state.pool, &id).await?;
    Ok(Json(MetricCatalogue { metrics }))
}

/// Replaces the change's metric catalogue. Metrics may be added, renamed and reworded at any
/// time; once windows of a metric are stored it can neither be removed nor change kind.
#[utoipa::path(
    put,
    path = "/changes/{id}/catalogue",
    tag = "metrics",
    security(("session_cookie" = [])),
    params(("id" = String, Path, description = "The change's id")),
    request_body = MetricCatalogue,
    responses(
        (status = 200, description = "The stored catalogue", body = MetricCatalogue),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 404, description = "No such change", body = ErrorBody),
        (status = 409, description = "`conflict`: the edit removes a metric, or changes its \
                                       kind, that has stored windows", body = ErrorBody),
        (status = 415, description = "The body is not declared as JSON", body = ErrorBody),
        (status = 422, description = "A bad, repeated or missing key, or too many metrics \
                                       (field `metrics[i].key`…)", body = ErrorBody),
    )
)]
async fn put_catalogue(
    State(state): State<AppState>,
    Path(id): Path<String>,
    actor: AuthUser,
    Json(body): Json<MetricCatalogue>,
) -> Result<Json<MetricCatalogue>> {
    let writer = db::metrics::lock(&state.pool, &id)
        .await?
        .ok_or_else(|| Error::not_found("change"))?;
    validate_catalogue(&body.metrics)?;
    check_catalogue_keeps_data(&writer.stored, &body.metrics)?;
    writer
        .set_catalogue(&body.metrics, &actor.who(), &db::now())
        .await?;
    tracing::info!(actor = %actor.user.email, %id, metrics = body.metrics.len(), "metric catalogue replaced");
    Ok(Json(body))
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

/// Answer of the ingestion route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct IngestResult {
    /// Windows stored by this request.
    pub accepted: u64,
    /// Of those, windows that were already stored and have been replaced.
    pub replaced: u64,
}

/// Stores a batch of windows from a production app, authenticated by an ingestion token
/// (`Authorization: Bearer rg_ing_…`). The whole batch is checked first: one bad window
/// rejects it all, naming `windows[i].…`, and nothing is stored. A window is identified by
/// change, variant, segment, start and end; sending it again replaces it, so retries and
/// running totals never count twice.
#[utoipa::path(
    post,
    path = "/changes/{id}/metrics",
    tag = "metrics",
    params(("id" = String, Path, description = "The change's id")),
    request_body = MetricBatch,
    security(("ingest_token" = [])),
    responses(
        (status = 200, description = "Every window is stored", body = IngestResult),
        (status = 400, description = "The body is not JSON", body = ErrorBody),
        (status = 401, description = "No token, or an unknown or revoked one", body = ErrorBody,
         headers(("WWW-Authenticate" = String, description = "`Bearer`"))),
        (status = 403, description = "The token is for another change", body = ErrorBody),
        (status = 404, description = "No such change", body = ErrorBody),
        (status = 413, description = "The body is over 32 MiB", body = ErrorBody),
        (status = 415, description = "The body is not declared as JSON", body = ErrorBody),
        (status = 422, description = "A window breaks a rule; `field` names it, e.g. \
                                       `windows[3].metrics.latency_ms.le`", body = ErrorBody),
    )
)]
async fn ingest_metrics(
    State(state): State<AppState>,
    Path(id): Path<String>,
    token: IngestToken,
    Json(batch): Json<MetricBatch>,
) -> Result<Json<IngestResult>> {
    token.authorize(&id)?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    // Parse before taking the lock, so other writers to the change wait only for the
    // inserts; re-parse in the rare case the catalogue changed in between.
    let seen = catalogue(&state.pool, &id).await?;
    let mut windows = parse_batch(&batch, &seen, now, parse_time)?;
    let writer = db::metrics::lock(&state.pool, &id)
        .await?
        .ok_or_else(|| Error::not_found("change"))?;
    if writer.catalogue != seen {
        windows = parse_batch(&batch, &writer.catalogue, now, parse_time)?;
    }
    drop(batch);
    check_batch(&windows, &writer.stored)?;
    let stored = writer.store(&windows, &db::now()).await?;
    tracing::debug!(change = %id, token = %token.id, accepted = stored.accepted,
                    replaced = stored.replaced, "metric windows stored");
    Ok(Json(IngestResult {
        accepted: stored.accepted,
        replaced: stored.replaced,
    }))
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

/// Time span of the windows read; both ends optional, RFC 3339.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SummaryQuery {
    /// Windows starting at or after this time (RFC 3339).
    from: Option<String>,
    /// Windows starting before this time (RFC 3339).
    to: Option<String>,
}

/// Every metric of the change summed per segment and variant (plus the `all` aggregate), and
/// the requests per segment and variant, over windows starting in `[from, to)`.
#[utoipa::path(
    get,
    path = "/changes/{id}/metrics/summary",
    tag = "metrics",
    params(("id" = String, Path, description = "The change's id"), SummaryQuery),
    responses(
        (status = 200, description = "The aggregates", body = MetricSummary),
        (status = 404, description = "No such change", body = ErrorBody),
        (status = 422, description = "`from` or `to` is not RFC 3339, or `to` is not after \
                                       `from`", body = ErrorBody),
    )
)]
async fn metric_summary(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<SummaryQuery>,
) -> Result<Json<MetricSummary>> {
    let (from, to) = time_range(query.from.as_deref(), query.to.as_deref())?;
    let catalogue = catalogue(&state.pool, &id).await?;
    let keys: Vec<&str> = catalogue.iter().map(|d| d.key.as_str()).collect();
    let sel = Selection {
        from,
        to,
        segment: None,
    };
    let windows = db::metrics::windows(&state.pool, &id, sel, &keys).await?;
    Ok(Json(summarize(catalogue, &windows)?))
}

/// The summary over windows starting at or after `from` (Unix seconds), for approvals'
/// evidence.
pub(super) async fn summary_since(
    pool: &AnyPool,
    id: &str,
    from: Option<i64>,
) -> Result<MetricSummary> {
    let catalogue = catalogue(pool, id).await?;
    let keys: Vec<&str> = catalogue.iter().map(|d| d.key.as_str()).collect();
    let sel = Selection {
        from,
        to: None,
        segment: None,
    };
    let windows = db::metrics::windows(pool, id, sel, &keys).await?;
    summarize(catalogue, &windows)
}

/// Sums windows into a summary. A window whose segment is `all` (an app that does not
/// segment) counts towards the aggregate only.
pub fn summarize(catalogue: Vec<MetricDef>, windows: &[StoredWindow]) -> Result<MetricSummary> {
    // Segment indices: 0 is the aggregate.
    let mut segment_ids: HashMap<&str, usize> = HashMap::new();
    let mut names: Vec<&str> = vec![ALL_SEGMENTS];
    let mut cells: HashMap<(usize, usize, Variant), MetricValue> = HashMap::new();
    let mut traffic: HashMap<(usize, Variant), u64> = HashMap::new();
    let (mut first, mut last) = (i64::MAX, i64::MIN);
    for w in windows {
        first = first.min(w.start);
        last = last.max(w.end);
        let seg = if w.segment == ALL_SEGMENTS {
            0
        } else {
            *segment_ids.entry(w.segment.as_str()).or_insert_with(|| {
                names.push(w.segment.as_str());
                names.len() - 1
            })
        };
        let targets: &[usize] = if seg == 0 { &[0] } else { &[seg, 0] };
        for &s in targets {
            let t = traffic.entry((s, w.variant)).or_insert(0);
            *t = t.saturating_add(w.requests);
            for (m, value) in &w.values {
                match cells.entry((*m, s, w.variant)) {
                    std::collections::hash_map::Entry::Occupied(mut e) => {
                        e.get_mut().merge(value).map_err(|e| {
                            Error::internal(format!("stored windows do not add up: {e}"))
                        })?
                    }
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(value.clone());
                    }
                }
            }
        }
    }
    // Output order: catalogue order, then the aggregate and the segments sorted, control
    // before candidate.
    let mut order: Vec<usize> = (1..names.len()).collect();
    order.sort_by_key(|&i| names[i]);
    order.insert(0, 0);
    let mut out_cells = Vec::with_capacity(cells.len());
    for (m, def) in catalogue.iter().enumerate() {
        for &s in &order {
            for v in [Variant::Control, Variant::Candidate] {
                if let Some(value) = cells.remove(&(m, s, v)) {
                    out_cells.push(SummaryCell {
                        metric: def.key.clone(),
                        segment: names[s].to_owned(),
                        variant: v,
                        value,
                    });
                }
            }
        }
    }
    let mut out_traffic = Vec::new();
    for &s in &order {
        for v in [Variant::Control, Variant::Candidate] {
            if let Some(&requests) = traffic.get(&(s, v)) {
                out_traffic.push(TrafficCell {
                    segment: names[s].to_owned(),
                    variant: v,
                    requests,
                });
            }
        }
    }
    Ok(MetricSummary {
        catalogue,
        segments: order[1..].iter().map(|&s| names[s].to_owned()).collect(),
        from: (!windows.is_empty()).then(|| rfc3339(first)),
        to: (!windows.is_empty()).then(|| rfc3339(last)),
        windows: windows.len() as u64,
        cells: out_cells,
        traffic: out_traffic,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SeriesQuery {
    /// A metric key of the change's catalogue.
    metric: String,
    /// A segment, or `all` (the default) for every segment together.
    segment: Option<String>,
    /// Bucket width in seconds, 60 to 31 536 000; by default the smallest round width that
    /// gives at most about 200 points and is no finer than the windows.
    #[param(minimum = 60)]
    resolution: Option<i64>,
    /// Windows starting at or after this time (RFC 3339); the first bucket starts here.
    from: Option<String>,
    /// Windows starting before this time (RFC 3339).
    to: Option<String>,
}

/// One metric in one segment over time, per variant, cumulative: each point holds the totals
/// from the first bucket to the end of its own, so a chart shows the evidence building up.
#[utoipa::path(
    get,
    path = "/changes/{id}/metrics/series",
    tag = "metrics",
    params(("id" = String, Path, description = "The change's id"), SeriesQuery),
    responses(
        (status = 200, description = "The series", body = MetricSeries),
        (status = 404, description = "No such change", body = ErrorBody),
        (status = 422, description = "Unknown metric, bad resolution or time", body = ErrorBody),
    )
)]
async fn metric_series(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<SeriesQuery>,
) -> Result<Json<MetricSeries>> {
    let (from, to) = time_range(query.from.as_deref(), query.to.as_deref())?;
    if let Some(r) = query.resolution
        && !(60..=365 * 86_400).contains(&r)
    {
        return Err(Error::validation(
            "resolution",
            "must be between 60 and 31 536 000 seconds",
        ));
    }
    let catalogue = catalogue(&state.pool, &id).await?;
    if !catalogue.iter().any(|d| d.key == query.metric) {
        return Err(Error::validation(
            "metric",
            format!(
                "`{}` is not in this change's metric catalogue",
                query.metric
            ),
        ));
    }
    let segment = query.segment.unwrap_or_else(|| ALL_SEGMENTS.to_owned());
    let sel = Selection {
        from,
        to,
        segment: (segment != ALL_SEGMENTS).then_some(segment.as_str()),
    };
    let windows = db::metrics::windows(&state.pool, &id, sel, &[query.metric.as_str()]).await?;
    let points = series(&windows, from, query.resolution)?;
    Ok(Json(MetricSeries {
        metric: query.metric,
        segment,
        resolution_seconds: points.0,
        points: points.1,
    }))
}

/// Round bucket widths, in seconds, for the default resolution.
const NICE: [i64; 11] = [
    60, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
];

/// The smallest round width that is at least `min`.
fn nice_at_least(min: i64) -> i64 {
    NICE.into_iter()
        .find(|&n| n >= min)
        .unwrap_or_else(|| (min + 86_399) / 86_400 * 86_400)
}

/// Buckets windows (ordered by start) by their start and accumulates. Buckets are aligned to
/// `from` when given, else to multiples of the width since the Unix epoch (so hourly buckets
/// start on the hour). Returns the width and the points.
fn series(
    windows: &[StoredWindow],
    from: Option<i64>,
    resolution: Option<i64>,
) -> Result<(i64, Vec<SeriesPoint>)> {
    let (Some(first), Some(last)) = (windows.first(), windows.last()) else {
        return Ok((resolution.unwrap_or(3600), Vec::new()));
    };
    let (first, last) = (first.start, last.start);
    let width = match resolution {
        Some(r) => r,
        None => {
            let shortest = windows.iter().map(|w| w.end - w.start).min().unwrap_or(60);
            let span = last - first + 1;
            nice_at_least(shortest.max((span + TARGET_POINTS - 1) / TARGET_POINTS))
        }
    };
    let origin = from.unwrap_or(first.div_euclid(width) * width);
    let buckets = (last - origin) / width + 1;
    if buckets > MAX_POINTS {
        return Err(Error::validation(
            "resolution",
            format!(
                "gives {buckets} points; ask for at most {MAX_POINTS} (a coarser resolution or a \
                 shorter span)"
            ),
        ));
    }
    let mut points = Vec::with_capacity(usize::try_from(buckets).unwrap_or(0));
    let mut totals: [Option<MetricValue>; 2] = [None, None];
    let mut rest = windows.iter().peekable();
    for b in 0..buckets {
        let end = origin + (b + 1) * width;
        while let Some(w) = rest.next_if(|w| w.start < end) {
            let slot = &mut totals[usize::from(w.variant == Variant::Candidate)];
            for (_, value) in &w.values {
                match slot {
                    Some(t) => t.merge(value).map_err(|e| {
                        Error::internal(format!("stored windows do not add up: {e}"))
                    })?,
                    None => *slot = Some(value.clone()),
                }
            }
        }
        points.push(SeriesPoint {
            at: rfc3339(end),
            control: totals[0].clone(),
            candidate: totals[1].clone(),
        });
    }
    Ok((width, points))
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

fn rfc3339(unix: i64) -> String {
    OffsetDateTime::from_unix_timestamp(unix)
        .map(db::timestamp)
        .unwrap_or_default()
}

/// The change's catalogue, or 404.
async fn catalogue(pool: &AnyPool, id: &str) -> Result<Vec<MetricDef>> {
    db::metrics::catalogue(pool, id)
        .await?
        .ok_or_else(|| Error::not_found("change"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::metrics::MetricKind;

    fn n_of(v: &MetricValue) -> u64 {
        match v {
            MetricValue::Rate { n, .. } | MetricValue::Mean { n, .. } => *n,
            MetricValue::Latency { counts, .. } => counts.iter().sum(),
            MetricValue::Categories { counts } => counts.values().sum(),
        }
    }

    fn window(variant: Variant, segment: &str, start: i64, n: u64, s: u64) -> StoredWindow {
        StoredWindow {
            variant,
            segment: segment.into(),
            start,
            end: start + 3600,
            requests: n,
            values: vec![(0, MetricValue::Rate { n, successes: s })],
        }
    }

    fn rate_catalogue() -> Vec<MetricDef> {
        shared::metrics::default_catalogue()
            .into_iter()
            .filter(|d| d.kind == MetricKind::Rate)
            .take(1)
            .collect()
    }

    #[test]
    fn summaries_add_segments_and_the_aggregate() {
        use Variant::*;
        let windows = [
            window(Control, "b", 0, 100, 90),
            window(Control, "a", 0, 50, 40),
            window(Candidate, "a", 3600, 5, 4),
            window(Control, "a", 3600, 10, 1),
        ];
        let s = summarize(rate_catalogue(), &windows).unwrap();
        assert_eq!(s.segments, ["a", "b"]);
        assert_eq!(s.windows, 4);
        assert_eq!(s.from.as_deref(), Some("1970-01-01T00:00:00.000000Z"));
        assert_eq!(s.to.as_deref(), Some("1970-01-01T02:00:00.000000Z"));
        let cell = |seg: &str, v| {
            s.cells
                .iter()
                .find(|c| c.segment == seg && c.variant == v)
                .map(|c| c.value.clone())
        };
        assert_eq!(
            cell("all", Control),
            Some(MetricValue::Rate {
                n: 160,
                successes: 131
            })
        );
        assert_eq!(
            cell("a", Control),
            Some(MetricValue::Rate {
                n: 60,
                successes: 41
            })
        );
        assert_eq!(cell("b", Candidate), None);
        assert_eq!(s.cells[0].segment, "all");
        let traffic: Vec<(&str, u64)> = s
            .traffic
            .iter()
            .map(|t| (t.segment.as_str(), t.requests))
            .collect();
        assert_eq!(
            traffic,
            [("all", 160), ("all", 5), ("a", 60), ("a", 5), ("b", 100)]
        );
    }

    #[test]
    fn series_accumulate_per_bucket() {
        use Variant::*;
        let windows = [
            window(Control, "a", 0, 10, 5),
            window(Candidate, "a", 0, 2, 1),
            window(Control, "a", 7200, 10, 10),
        ];
        let (width, points) = series(&windows, None, None).unwrap();
        assert_eq!(width, 3600);
        assert_eq!(points.len(), 3);
        assert_eq!(points[0].at, "1970-01-01T01:00:00.000000Z");
        assert_eq!(points[1].control, points[0].control);
        assert_eq!(
            points[2].control,
            Some(MetricValue::Rate {
                n: 20,
                successes: 15
            })
        );
        assert_eq!(points[2].candidate.as_ref().map(n_of), Some(2));
        let (_, fine) = series(&windows, None, Some(600)).unwrap();
        assert_eq!(fine.len(), 13);
        assert!(series(&windows, Some(0), Some(60)).is_ok());
    }

    #[test]
    fn default_resolutions_are_round() {
        assert_eq!(nice_at_least(1), 60);
        assert_eq!(nice_at_least(3600), 3600);
        assert_eq!(nice_at_least(14 * 86_400 / 200), 7200);
        assert_eq!(nice_at_least(86_401), 172_800);
    }

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
