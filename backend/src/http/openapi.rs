//! `GET /api/v1/openapi.json`: the OpenAPI 3 document of this API.
//!
//! Routes are registered through utoipa-axum's `OpenApiRouter` and `routes!`, which take the
//! path and method from each handler's `#[utoipa::path]`; a route therefore cannot be served
//! without being documented, and the schemas come from the same `shared::api` types the
//! handlers use.

use std::sync::Arc;

use axum::Extension;
use axum::http::{Method, header};
use axum::response::IntoResponse;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use super::authz::{self, Rule};
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
        (name = "eval", description = "Offline eval results the eval gate reads (uploaded by CI \
                                        with a service token of scope `ci`, or by an editor)"),
        (name = "metrics", description = "Canary-vs-control metrics: catalogue, ingestion, aggregates"),
        (name = "tokens", description = "Service tokens of production apps (scope `ingest`)"),
        (name = "session", description = "Signing in and out"),
        (name = "users", description = "Accounts and roles"),
        (name = "approvals", description = "Approval policies, gates, sign-off and the inbox"),
        (name = "audit", description = "The append-only audit log"),
        (name = "teams", description = "Teams told about changes: members, webhook, Atom feed"),
        (name = "notices", description = "Notices to teams, acknowledgements and read marks"),
        (name = "templates", description = "Plan templates"),
        (name = "reviews", description = "Post-deployment reviews and the complaints support records"),
        (name = "comments", description = "The discussion on a change and the teams it mentions"),
        (name = "figures", description = "Delivery figures: how often the team ships and rolls back"),
        (name = "health", description = "Liveness"),
        (name = "meta", description = "This document"),
        (name = "ofrep", description = "OpenFeature Remote Evaluation Protocol: which variant a \
                                        user gets (service token with the scope `evaluate`)"),
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
            authz::SESSION_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "rollgate_session",
                "The session cookie set by POST /api/v1/session. Writes also need the \
                 session's CSRF token in the X-CSRF-Token header. An operation's scopes name \
                 the roles it needs, any one of them; none means any signed-in user.",
            ))),
        );
        components.add_security_scheme(
            authz::TOKEN_SCHEME,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A service token from POST /api/v1/tokens; the operation's scope names \
                         the one it must hold (`ingest`, `evaluate`, `ci`)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            authz::API_KEY_SCHEME,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-API-Key",
                "A service token: the scope `evaluate` as OFREP's ApiKeyAuth sends it, or `ci` \
                 to upload eval results",
            ))),
        );
    }
}

/// Completes what each handler's `#[utoipa::path]` says with the answers that come from the
/// layers around it rather than from the handler, so that the document cannot drift from what
/// is enforced: who may call (the 401 and 403 of the rule each handler declares, which
/// [`authz::declared`] already wrote as the operation's security and the middleware applies) and a JSON body's rejections (the `Json` extractor's 400, 413, 415 and
/// 422). A response a handler already documents keeps its own, more specific description.
pub(super) fn complete(doc: &mut utoipa::openapi::OpenApi) {
    open_flattened_parts(doc);
    for (path, item) in doc.paths.paths.iter_mut() {
        let methods = [
            (Method::GET, &mut item.get),
            (Method::PUT, &mut item.put),
            (Method::POST, &mut item.post),
            (Method::DELETE, &mut item.delete),
            (Method::PATCH, &mut item.patch),
        ];
        for (method, op) in methods {
            let Some(op) = op.as_mut() else { continue };
            let rule = authz::rule(&method, path);
            // OFREP's answers are the protocol's, in its failure shape.
            if path.starts_with("/ofrep/") {
                for (status, text) in [
                    ("401", "`GENERAL`: no valid service token"),
                    (
                        "403",
                        "`GENERAL`: the token lacks the scope `evaluate`, or a session cookie \
                         was sent",
                    ),
                ] {
                    add_as(op, status, text, "OfrepFailure");
                }
                if op.request_body.is_some() {
                    add_as(
                        op,
                        "413",
                        "`GENERAL`: the body is too large",
                        "OfrepFailure",
                    );
                    add_as(
                        op,
                        "415",
                        "`GENERAL`: the body is not declared as JSON",
                        "OfrepFailure",
                    );
                }
                continue;
            }
            let cookie_write = method != Method::GET;
            match rule {
                Some(Rule::Public) | None => {}
                Some(Rule::AnyUser | Rule::Roles(_)) => {
                    add(op, "401", "Not signed in (no, expired or ended session)");
                    if let Some(Rule::Roles(roles)) = rule {
                        let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
                        add(op, "403", &format!("Needs the role {}", names.join(" or ")));
                    } else if cookie_write {
                        add(
                            op,
                            "403",
                            "`csrf`: no X-CSRF-Token, or sent from another site",
                        );
                    }
                }
                Some(Rule::ServiceToken(scope)) => {
                    add(op, "401", "No valid bearer token");
                    add(
                        op,
                        "403",
                        &format!("The token's scope is not `{scope}` or it is for another change"),
                    );
                }
            }
            if op.request_body.is_some() {
                add(
                    op,
                    "400",
                    "`malformed_json`: the body is not well-formed JSON",
                );
                add(op, "413", "The body is too large");
                add(op, "415", "The body is not declared as JSON");
                add(
                    op,
                    "422",
                    "`validation`: a field is missing, unknown, of the wrong type or breaks a \
                     rule; `field` names it",
                );
            }
        }
    }
}

/// A struct flattened into an answer (`#[serde(flatten)]`, written as `allOf`) whose own schema
/// denies unknown fields because it is also a request body (the eval upload in the eval
/// result) would deny the fields of the answer around it: each such part is written inline,
/// without that denial.
fn open_flattened_parts(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::RefOr;
    use utoipa::openapi::schema::{AdditionalProperties, Schema};
    let Some(components) = doc.components.as_mut() else {
        return;
    };
    let closed = |name: &str| match components.schemas.get(name) {
        Some(RefOr::T(Schema::Object(o)))
            if matches!(
                o.additional_properties.as_deref(),
                Some(AdditionalProperties::FreeForm(false))
            ) =>
        {
            let mut open = o.clone();
            open.additional_properties = None;
            Some(open)
        }
        _ => None,
    };
    let mut replacements = Vec::new();
    for (name, schema) in &components.schemas {
        let RefOr::T(Schema::AllOf(all)) = schema else {
            continue;
        };
        for (i, item) in all.items.iter().enumerate() {
            if let RefOr::Ref(r) = item
                && let Some(target) = r.ref_location.strip_prefix("#/components/schemas/")
                && let Some(open) = closed(target)
            {
                replacements.push((name.clone(), i, open));
            }
        }
    }
    for (name, i, open) in replacements {
        if let Some(RefOr::T(Schema::AllOf(all))) = components.schemas.get_mut(&name) {
            all.items[i] = RefOr::T(Schema::Object(open));
        }
    }
}

/// Documents `status` as an error answer unless the handler already did.
fn add(op: &mut utoipa::openapi::path::Operation, status: &str, description: &str) {
    add_as(op, status, description, "ErrorBody");
}

/// Documents `status` as an answer of the schema `schema` unless the handler already did.
fn add_as(
    op: &mut utoipa::openapi::path::Operation,
    status: &str,
    description: &str,
    schema: &str,
) {
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    op.responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name(schema)))
                        .build(),
                )
                .build()
                .into()
        });
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
    OpenApiRouter::new().routes(crate::route!(openapi_json))
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
