//! `/api/v1/audit`: the audit log, read and exported. Nothing edits or deletes it.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shared::access::Auditors;
use shared::api::ErrorBody;
use shared::audit::AuditPage;
use shared::validate;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use super::audit_csv;
use super::authz::Require;
use super::extract::{Json, Query};
use crate::AppState;
use crate::db;
use crate::error::{Error, Result};

pub const DEFAULT_PER_PAGE: u32 = 50;
/// Most rows one export holds; narrow the filter for more.
pub const MAX_EXPORT: i64 = 100_000;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(crate::route!(list_audit))
        .routes(crate::route!(export_audit))
}

/// Filters of the audit log; empty values count as absent.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditQuery {
    /// The actor's e-mail (any case) or user id.
    actor: Option<String>,
    /// e.g. `login.failure`, `change.update`, `approval.approve`.
    action: Option<String>,
    /// The object's id (a change, user, token, session).
    object_id: Option<String>,
    /// Rows at or after this time (RFC 3339).
    from: Option<String>,
    /// Rows before this time (RFC 3339).
    to: Option<String>,
    /// 1-based page, at most 10 000; default 1.
    #[param(minimum = 1, maximum = 10_000)]
    page: Option<u32>,
    /// Rows per page, 1–200; default 50.
    #[param(minimum = 1, maximum = 200)]
    per_page: Option<u32>,
    /// Export format: `csv` (default) or `json`. Ignored by the paged list.
    format: Option<String>,
}

impl AuditQuery {
    fn filter(&self) -> Result<db::audit::Filter> {
        let time = |name: &str, v: &Option<String>| -> Result<Option<String>> {
            v.as_deref()
                .map(|t| {
                    OffsetDateTime::parse(t, &Rfc3339)
                        .map(db::timestamp)
                        .map_err(|_| {
                            Error::validation(name, format!("`{t}` is not an RFC 3339 time"))
                        })
                })
                .transpose()
        };
        Ok(db::audit::Filter {
            actor: self.actor.clone(),
            action: self.action.clone(),
            object_id: self.object_id.clone(),
            from: time("from", &self.from)?,
            to: time("to", &self.to)?,
        })
    }
}

/// The audit log, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/audit",
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of the log", body = AuditPage),
        (status = 403, description = "Not an admin, approver or PM", body = ErrorBody),
        (status = 422, description = "A bad time or page", body = ErrorBody),
    )
)]
async fn list_audit(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
    _caller: Require<Auditors>,
) -> Result<Json<AuditPage>> {
    let filter = query.filter()?;
    let (page, per_page) = validate::paging(query.page, query.per_page, DEFAULT_PER_PAGE)?;
    let offset = (i64::from(page) - 1) * i64::from(per_page);
    let (items, total) =
        db::audit::list(&state.pool, &filter, Some(i64::from(per_page)), offset).await?;
    Ok(Json(AuditPage {
        items,
        total,
        page,
        per_page,
    }))
}

/// The whole filtered log (newest first, at most 100 000 rows) as a download: CSV with a
/// header row (RFC 4180 quoting) or a JSON array.
#[utoipa::path(
    get,
    path = "/audit/export",
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "The rows", content_type = "text/csv"),
        (status = 403, description = "Not an admin, approver or PM", body = ErrorBody),
        (status = 422, description = "A bad time or format", body = ErrorBody),
    )
)]
async fn export_audit(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
    _caller: Require<Auditors>,
) -> Result<Response> {
    let filter = query.filter()?;
    let format = query.format.as_deref().unwrap_or("csv");
    if !matches!(format, "csv" | "json") {
        return Err(Error::validation("format", "must be `csv` or `json`"));
    }
    let (items, _) = db::audit::list(&state.pool, &filter, Some(MAX_EXPORT), 0).await?;
    let disposition = format!("attachment; filename=\"rollgate-audit.{format}\"");
    if format == "json" {
        return Ok(([(header::CONTENT_DISPOSITION, disposition)], Json(items)).into_response());
    }
    let csv = audit_csv::write(&items)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        csv,
    )
        .into_response())
}
