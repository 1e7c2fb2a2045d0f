//! `GET /api/v1/feed`: the support change feed. Every change live now (or at `at`) or moved
//! in the last `days`, with what users may notice, its audiences, traffic share, since when,
//! and its newest notice.
//!
//! `at` replays the transition history, so "what was live last Tuesday at 14:00" is answered
//! from the record, not from today's state.

use axum::extract::State;
use serde::Deserialize;
use shared::access::AnyUser;
use shared::api::ErrorBody;
use shared::feed::{self, DEFAULT_DAYS, Feed, FeedItem, MAX_DAYS};
use shared::notices::{Audience, NoticeStatus};
use shared::rollout::RolloutState;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use super::authz::Require;
use super::extract::{Json, Query};
use crate::AppState;
use crate::db;
use crate::error::{Error, Result};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(crate::route!(get_feed))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct FeedQuery {
    /// Words searched in titles, expected changes and notice texts, ignoring case.
    q: Option<String>,
    /// Product area, exactly (ignoring case).
    area: Option<String>,
    /// A team's id or name: changes whose notices went to it.
    audience: Option<String>,
    /// Look-back in days for changes that are not live (default 14, at most 365).
    days: Option<u32>,
    /// RFC 3339: describe that moment instead of now.
    at: Option<String>,
}

/// What is live or changed lately, for support staff.
#[utoipa::path(
    get,
    path = "/feed",
    tag = "notices",
    params(FeedQuery),
    responses(
        (status = 200, description = "The feed, newest stage first", body = Feed),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "A bad `at` or `days`", body = ErrorBody),
    )
)]
async fn get_feed(
    State(state): State<AppState>,
    Query(query): Query<FeedQuery>,
    _caller: Require<AnyUser>,
) -> Result<Json<Feed>> {
    let days = query.days.unwrap_or(DEFAULT_DAYS);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(Error::validation(
            "days",
            format!("give 1 to {MAX_DAYS} days"),
        ));
    }
    let now = match &query.at {
        None => OffsetDateTime::now_utc(),
        Some(at) => OffsetDateTime::parse(at, &Rfc3339).map_err(|_| {
            Error::validation("at", "give the time as RFC 3339, e.g. 2026-12-01T09:00:00Z")
        })?,
    };
    let at = db::timestamp(now);
    let from = db::timestamp(now - time::Duration::days(i64::from(days)));
    let needle = query.q.as_deref().unwrap_or("").trim().to_lowercase();
    let audience = query.audience.as_deref().map(|a| a.trim().to_lowercase());
    let area = query.area.as_deref().map(|a| a.trim().to_lowercase());

    let mut items = Vec::new();
    let mut conn = state.pool.acquire().await?;
    for change in db::changes::all(&state.pool).await? {
        if change.created_at > at {
            continue;
        }
        if let Some(area) = &area
            && change
                .product_area
                .as_deref()
                .map(str::to_lowercase)
                .as_deref()
                != Some(area.as_str())
        {
            continue;
        }
        let history = db::transitions::history(&state.pool, &change.id, &change.plan).await?;
        let past: Vec<_> = history.iter().filter(|t| t.at <= at).collect();
        let (stage, since) = match past.last() {
            Some(t) => (t.to, t.at.clone()),
            None => (RolloutState::Draft, change.created_at.clone()),
        };
        let traffic = stage.traffic_percent(&change.plan);
        let moved_lately = since >= from || change.created_at >= from;
        if traffic <= 0.0 && !moved_lately {
            continue;
        }
        let notices: Vec<_> = db::notices::for_change(&mut conn, &change.id)
            .await?
            .into_iter()
            .filter(|n| {
                n.status != NoticeStatus::Draft
                    && n.published_at.as_deref().is_some_and(|p| p <= at.as_str())
            })
            .collect();
        let mut audiences: Vec<Audience> = Vec::new();
        for n in &notices {
            for a in &n.audience {
                if !audiences.iter().any(|b| b.team_id == a.team_id) {
                    audiences.push(a.clone());
                }
            }
        }
        audiences.sort_by(|a, b| a.team_name.cmp(&b.team_name));
        if let Some(who) = &audience
            && !audiences
                .iter()
                .any(|a| a.team_id.to_lowercase() == *who || a.team_name.to_lowercase() == *who)
        {
            continue;
        }
        let mut texts = vec![change.title.as_str(), change.expected_changes.as_str()];
        for n in &notices {
            texts.push(&n.expected_changes);
            texts.push(&n.talking_points);
        }
        if !feed::matches_query(&needle, &texts) {
            continue;
        }
        let latest_notice = notices
            .iter()
            .max_by(|a, b| a.published_at.cmp(&b.published_at))
            .cloned();
        items.push(FeedItem {
            change_id: change.id.clone(),
            title: change.title.clone(),
            kind: change.kind,
            expected_changes: change.expected_changes.clone(),
            product_area: change.product_area.clone(),
            audiences,
            state: stage,
            state_label: stage.label(&change.plan),
            traffic_percent: traffic,
            since,
            latest_notice,
        });
    }
    items.sort_by(|a, b| b.since.cmp(&a.since));
    Ok(Json(Feed { at, days, items }))
}
