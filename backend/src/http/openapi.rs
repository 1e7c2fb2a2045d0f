//! `GET /api/v1/openapi.json`: the OpenAPI 3 document of this API.
//!
//! Routes are registered through utoipa-axum's `OpenApiRouter` and `routes!`, which take the
//! path and method from each handler's `#[utoipa::path]`; a route therefore cannot be served
//! without being documented, and the schemas come from the same `shared::api` types the
//! handlers use.

use std::sync::Arc;

use axum::Extension;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Rollgate API",
        description = "Roll out AI changes (prompts, models, tools, routing) in stages: \
                       eval gate, canary, ramp, full, with pre-registered rollback criteria. \
                       Every error is `{\"error\": {\"code\", \"message\", \"field\"}}`."
    ),
    tags(
        (name = "changes", description = "AI changes and their rollouts"),
        (name = "metrics", description = "Canary-vs-control metrics: catalogue, ingestion, aggregates"),
        (name = "tokens", description = "Service tokens of production apps (scope `ingest`)"),
        (name = "session", description = "Signing in and out"),
        (name = "users", description = "Accounts and roles"),
        (name = "approvals", description = "Approval policies, gates, sign-off and the inbox"),
        (name = "audit", description = "The append-only audit log"),
        (name = "teams", description = "Teams told about changes: members, webhook, Atom feed"),
        (name = "notices", description = "Notices to teams, acknowledgements and read marks"),
        (name = "templates", description = "Plan templates"),
        (name = "health", description = "Liveness"),
        (name = "meta", description = "This document"),
    ),
    modifiers(&IngestTokenScheme)
)]
pub(super) struct ApiDoc;

/// The `ingest_token` security scheme the ingestion route names: a bearer token `rg_ing_…`.
struct IngestTokenScheme;

impl utoipa::Modify for IngestTokenScheme {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue};
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session_cookie",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "rollgate_session",
                "The session cookie set by POST /api/v1/session. Writes also need the \
                 session's CSRF token in the X-CSRF-Token header.",
            ))),
        );
        components.add_security_scheme(
            "ingest_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A service token (scope `ingest`) from POST /api/v1/tokens",
                    ))
                    .build(),
            ),
        );
    }
}

/// The finished document, serialized once at start-up.
#[derive(Clone)]
pub(super) struct Document(Arc<str>);

impl Document {
    pub(super) fn new(doc: &utoipa::openapi::OpenApi) -> Self {
        // Serializing a document built from our own types cannot fail; if it ever did, an
        // empty object still keeps the route answering JSON.
        let json = doc.to_json().unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot serialize the OpenAPI document");
            "{}".to_owned()
        });
        Document(json.into())
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openapi_json))
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3 document of this API", content_type = "application/json"))
)]
async fn openapi_json(Extension(doc): Extension<Document>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.0.to_string(),
    )
}
