//! Canary-vs-control metrics of a change: its metric catalogue, ingestion of the windows
//! production apps send (`POST /changes/{id}/metrics`, authenticated by an ingestion token),
//! and the aggregates the console analyses (`…/metrics/summary`, `…/metrics/series`).
//!
//! Aggregation happens on the server (`app::metrics`, with the sums in `shared::aggregate`), so
//! the browser receives one cell per metric × segment × variant instead of thousands of
//! windows.
//!
//! Both aggregate reads are rate limited per session (`super::read_limit`). A 304 counts like
//! a 200: the server computes the whole aggregate to know its tag, so a revalidation saves
//! the transfer and the parsing, not the query the limit protects.

use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use shared::access::{AnyUser, Editors};
use shared::api::{ErrorBody, MetricCatalogue};
use shared::metrics::{MetricBatch, MetricSeries, MetricSummary};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;

use super::authz::Require;
use super::etag::{IfNoneMatch, Tagged};
use super::extract::{Json, Path, Query};
use super::ingest_auth::IngestToken;
use crate::AppState;
use crate::app::metrics;
use crate::error::Result;

/// Body limit of the ingestion route: a full batch (`shared::metrics::MAX_WINDOWS` windows of a
/// 30-metric catalogue) is about 30 MB of JSON. Every other route keeps the small limit.
pub const INGEST_BODY_LIMIT: usize = 32 * 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    let ingest = OpenApiRouter::new().routes(crate::route!(ingest_metrics));
    OpenApiRouter::new()
        .routes(crate::route!(get_catalogue))
        .routes(crate::route!(put_catalogue))
        .routes(crate::route!(metric_summary))
        .routes(crate::route!(metric_series))
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
    _caller: Require<AnyUser>,
) -> Result<Json<MetricCatalogue>> {
    let metrics = metrics::catalogue(&state.pool, &id).await?;
    Ok(Json(MetricCatalogue { metrics }))
}

/// Replaces the change's metric catalogue. Metrics may be added, renamed and reworded at any
/// time; once windows of a metric are stored it can neither be removed nor change kind.
#[utoipa::path(
    put,
    path = "/changes/{id}/catalogue",
    tag = "metrics",
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
    actor: Require<Editors>,
    Json(body): Json<MetricCatalogue>,
) -> Result<Json<MetricCatalogue>> {
    metrics::set_catalogue(&state.pool, &actor.actor(), &id, &body.metrics).await?;
    Ok(Json(body))
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
    let stored = metrics::ingest(&state.pool, &id, batch).await?;
    state.guardian.notify_one();
    tracing::debug!(change = %id, token = %token.id, accepted = stored.accepted,
                    replaced = stored.replaced, "metric windows stored");
    Ok(Json(IngestResult {
        accepted: stored.accepted,
        replaced: stored.replaced,
    }))
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
        (status = 200, description = "The aggregates", body = MetricSummary,
         headers(("ETag" = String, description = "Strong tag of this answer"))),
        (status = 304, description = "Unchanged since the tag sent in `If-None-Match`; no body",
         headers(("ETag" = String, description = "Strong tag of this answer"))),
        (status = 404, description = "No such change", body = ErrorBody),
        (status = 422, description = "`from` or `to` is not RFC 3339, or `to` is not after \
                                       `from`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: this session read the metric aggregates \
                                       more than 10 times a second (20 at once); a 304 counts \
                                       too", body = ErrorBody,
         headers(("Retry-After" = u64, description = "Seconds to wait, at least 1"))),
    )
)]
async fn metric_summary(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<SummaryQuery>,
    if_none_match: IfNoneMatch,
    caller: Require<AnyUser>,
) -> Result<Response> {
    state.read_limit.take(&caller.session_id)?;
    let version = metrics::version(&state.pool, &id).await?;
    let (from, to) = (query.from.as_deref(), query.to.as_deref());
    let key = format!("summary\0{id}\0{from:?}\0{to:?}");
    let answer = state
        .answers
        .get_or_compute(key, version, || async {
            Tagged::of(&metrics::summary(&state.pool, &id, from, to).await?)
        })
        .await?;
    Ok(answer.respond(&if_none_match))
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
        (status = 200, description = "The series", body = MetricSeries,
         headers(("ETag" = String, description = "Strong tag of this answer"))),
        (status = 304, description = "Unchanged since the tag sent in `If-None-Match`; no body",
         headers(("ETag" = String, description = "Strong tag of this answer"))),
        (status = 404, description = "No such change", body = ErrorBody),
        (status = 422, description = "Unknown metric, bad resolution or time", body = ErrorBody),
        (status = 429, description = "`rate_limited`: this session read the metric aggregates \
                                       more than 10 times a second (20 at once); a 304 counts \
                                       too", body = ErrorBody,
         headers(("Retry-After" = u64, description = "Seconds to wait, at least 1"))),
    )
)]
async fn metric_series(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<SeriesQuery>,
    if_none_match: IfNoneMatch,
    caller: Require<AnyUser>,
) -> Result<Response> {
    state.read_limit.take(&caller.session_id)?;
    let version = metrics::version(&state.pool, &id).await?;
    let key = format!(
        "series\0{id}\0{}\0{:?}\0{:?}\0{:?}\0{:?}",
        query.metric, query.segment, query.resolution, query.from, query.to
    );
    let request = metrics::SeriesRequest {
        metric: query.metric,
        segment: query.segment,
        resolution: query.resolution,
        from: query.from,
        to: query.to,
    };
    let answer = state
        .answers
        .get_or_compute(key, version, || async {
            Tagged::of(&metrics::series(&state.pool, &id, request).await?)
        })
        .await?;
    Ok(answer.respond(&if_none_match))
}
