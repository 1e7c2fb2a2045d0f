//! Changes, their rollout and metrics, and the ingestion tokens that send them.

use gloo_net::http::Method;
use shared::api::{
    ChangeDetail, ChangePage, ChangeUpdate, NewChange, TemplateInfo, TransitionRequest,
};
use shared::metrics::{MetricSeries, MetricSummary};
use shared::paths;
use shared::tokens::{NewToken, TokenCreated, TokenInfo};

use super::{ApiResult, query, send};

/// Filter and page of the change list, as kept in the URL query.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    pub state: Option<String>,
    pub kind: Option<String>,
    /// Words searched in titles, flag keys and product areas.
    pub q: Option<String>,
    /// `title` or `health`; newest first when absent.
    pub sort: Option<String>,
    pub page: u32,
    pub per_page: u32,
}

pub async fn list_changes(q: &ListQuery) -> ApiResult<ChangePage> {
    let mut params: Vec<(&str, String)> = Vec::new();
    if let Some(s) = &q.state {
        params.push(("state", s.clone()));
    }
    if let Some(k) = &q.kind {
        params.push(("kind", k.clone()));
    }
    if let Some(w) = &q.q {
        params.push(("q", w.clone()));
    }
    if let Some(s) = &q.sort {
        params.push(("sort", s.clone()));
    }
    params.push(("page", q.page.max(1).to_string()));
    params.push(("per_page", q.per_page.max(1).to_string()));
    send(
        Method::GET,
        &format!("{}{}", paths::CHANGES, query(&params)),
        None::<&()>,
    )
    .await
}

pub async fn templates() -> ApiResult<Vec<TemplateInfo>> {
    send(Method::GET, paths::PLAN_TEMPLATES, None::<&()>).await
}

pub async fn get_change(id: &str) -> ApiResult<ChangeDetail> {
    send(Method::GET, &paths::change(id), None::<&()>).await
}

pub async fn create_change(body: &NewChange) -> ApiResult<ChangeDetail> {
    send(Method::POST, paths::CHANGES, Some(body)).await
}

pub async fn update_change(id: &str, body: &ChangeUpdate) -> ApiResult<ChangeDetail> {
    send(Method::PUT, &paths::change(id), Some(body)).await
}

pub async fn transition(id: &str, body: &TransitionRequest) -> ApiResult<ChangeDetail> {
    let path = paths::change_transitions(id);
    send(Method::POST, &path, Some(body)).await
}

/// Time span of a metrics query (RFC 3339 bounds; `None` is open-ended).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Span {
    pub from: Option<String>,
    pub to: Option<String>,
}

impl Span {
    fn params(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        if let Some(f) = &self.from {
            p.push(("from", f.clone()));
        }
        if let Some(t) = &self.to {
            p.push(("to", t.clone()));
        }
        p
    }
}

pub async fn metrics_summary(id: &str, span: &Span) -> ApiResult<MetricSummary> {
    let path = paths::change_metrics_summary(id) + &query(&span.params());
    send(Method::GET, &path, None::<&()>).await
}

/// One metric in one segment over time, cumulative per bucket of `resolution` seconds.
pub async fn metrics_series(
    id: &str,
    metric: &str,
    segment: &str,
    resolution: i64,
    span: &Span,
) -> ApiResult<MetricSeries> {
    let mut params = vec![
        ("metric", metric.to_string()),
        ("segment", segment.to_string()),
        ("resolution", resolution.to_string()),
    ];
    params.extend(span.params());
    let path = paths::change_metrics_series(id) + &query(&params);
    send(Method::GET, &path, None::<&()>).await
}

/// Ingestion tokens: those that may send windows for one change, or all of them.
pub async fn tokens(change_id: Option<&str>) -> ApiResult<Vec<TokenInfo>> {
    let params: Vec<(&str, String)> = change_id
        .map(|c| ("change_id", c.to_string()))
        .into_iter()
        .collect();
    send(
        Method::GET,
        &format!("{}{}", paths::TOKENS, query(&params)),
        None::<&()>,
    )
    .await
}

/// Creates a token; the answer carries the secret, which is never shown again.
pub async fn create_token(body: &NewToken) -> ApiResult<TokenCreated> {
    send(Method::POST, paths::TOKENS, Some(body)).await
}

pub async fn revoke_token(id: &str) -> ApiResult<()> {
    let _: serde::de::IgnoredAny = send(Method::DELETE, &paths::token(id), None::<&()>).await?;
    Ok(())
}
