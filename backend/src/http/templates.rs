//! `GET /api/v1/templates`: the plans a new change can start from.

use shared::api::TemplateInfo;
use shared::plan::PlanTemplate;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::Json;
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_templates))
}

/// Every plan template with the plan it proposes.
#[utoipa::path(
    get,
    path = "/templates",
    tag = "templates",
    responses((status = 200, description = "The plan templates", body = Vec<TemplateInfo>))
)]
async fn list_templates() -> Json<Vec<TemplateInfo>> {
    Json(
        PlanTemplate::ALL
            .into_iter()
            .map(|template| TemplateInfo {
                template,
                label: template.label().to_owned(),
                plan: template.plan(),
            })
            .collect(),
    )
}
