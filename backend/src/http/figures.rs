//! `GET /api/v1/figures`: delivery figures over a period.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use shared::access::AnyUser;
use shared::api::ErrorBody;
use shared::figures::{self as delivery, Figures};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;

use super::authz::Require;
use super::extract::{Json, Query};
use crate::AppState;
use crate::app::figures::{self, Period};
use crate::error::Result;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(crate::route!(get_figures))
        .routes(crate::route!(figures_markdown))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct FiguresQuery {
    /// Start of the period (RFC 3339, inclusive); twelve weeks before `to` when absent.
    from: Option<String>,
    /// End of the period (RFC 3339, exclusive); now when absent. At most 731 days after `from`.
    to: Option<String>,
}

impl FiguresQuery {
    fn period(self) -> Period {
        Period {
            from: self.from,
            to: self.to,
        }
    }
}

/// How the team delivers: changes shipped and rolled back per week (automatic and manual),
/// the rollback rate, the median lead time from eval to Full, how long a held rollout waited
/// for its rollback, how long a rolled-back candidate served, and the share of changes that
/// skipped a stage; overall and by product area, kind and risk tier.
#[utoipa::path(
    get,
    path = "/figures",
    tag = "figures",
    params(FiguresQuery),
    responses(
        (status = 200, description = "The figures over the period", body = Figures),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "A bound is not RFC 3339, or the period is empty or too \
                                       long; `field` names it", body = ErrorBody),
    )
)]
async fn get_figures(
    State(state): State<AppState>,
    _caller: Require<AnyUser>,
    Query(q): Query<FiguresQuery>,
) -> Result<Json<Figures>> {
    Ok(Json(figures::figures(&state.pool, &q.period()).await?))
}

/// The same figures as a Markdown document: the headline figures of the period, then a table
/// per grouping (product area, kind, risk tier), for a wiki page or a team's retrospective.
#[utoipa::path(
    get,
    path = "/figures.md",
    tag = "figures",
    params(FiguresQuery),
    responses(
        (status = 200, description = "The figures as Markdown", content_type = "text/markdown"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 422, description = "A bound is not RFC 3339, or the period is empty or too \
                                       long; `field` names it", body = ErrorBody),
    )
)]
async fn figures_markdown(
    State(state): State<AppState>,
    _caller: Require<AnyUser>,
    Query(q): Query<FiguresQuery>,
) -> Result<Response> {
    let f = figures::figures(&state.pool, &q.period()).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
        delivery::to_markdown(&f),
    )
        .into_response())
}
