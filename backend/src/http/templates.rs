//! `GET /api/v1/templates`: the plans a new change can start from.

use shared::access::AnyUser;
use shared::api::TemplateInfo;
use shared::plan::PlanTemplate;
use utoipa_axum::router::OpenApiRouter;

use super::authz::Require;
use super::extract::Json;
use crate::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(crate::route!(list_templates))
}

/// Every plan template with the plan it proposes.
#[utoipa::path(
    get,
    path = "/templates",
    tag = "templates",
    responses((status = 200, description = "The plan templates", body = Vec<TemplateInfo>))
)]
async fn list_templates(_caller: Require<AnyUser>) -> Json<Vec<TemplateInfo>> {
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
