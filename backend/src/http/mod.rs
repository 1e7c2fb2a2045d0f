//! The HTTP layer: one module per resource, each with a `router()`, merged here under
//! `/api/v1`, plus the built console for everything else.
//!
//! A handler extracts (path, query, body, and its caller: `Require<…>` from [`authz`], the
//! ingestion token, or nothing for a public route), makes one call into `crate::app`, and
//! answers. Handler modules never import one another; what they share is plumbing:
//! [`extract`] (JSON, path and query with our error answers), [`authz`] (the caller
//! extractors, the derived authorization table and its middleware), [`ingest_auth`],
//! [`evaluate_auth`], [`client_ip`]. OpenFeature's protocol (OFREP) is served beside the API,
//! under `/ofrep/v1`, in that protocol's shapes.
//!
//! A new route: a handler in `http/<resource>.rs` with its `#[utoipa::path]` and its caller
//! in the signature, registered with `route!(handler)` in that module's `router()` (which
//! writes its rule into the OpenAPI document the authorization table is derived from); its
//! orchestration in `app/`, its queries in `db/`, its pure rules and wording in `shared`.

/// `routes!(handler)` with the rule the handler's signature declares (`Require<…>`, the
/// ingestion token, or none: public) written into its OpenAPI operation, which the
/// authorization table is derived from ([`authz::declared`]). One handler per call.
#[macro_export]
macro_rules! route {
    ($handler:ident) => {
        $crate::http::authz::declared(&$handler, ::utoipa_axum::routes!($handler))
    };
}

mod approvals;
mod assignments;
mod audit;
mod audit_csv;
pub mod authz;
mod changes;
pub mod client_ip;
mod comments;
mod console;
mod decisions;
mod deliveries;
pub mod etag;
mod eval_results;
pub mod evaluate_auth;
pub mod extract;
mod feed;
mod figures;
mod flag_rules;
mod health;
pub mod ingest_auth;
mod metrics;
mod notices;
mod ofrep;
mod openapi;
mod policies;
pub mod read_limit;
mod reviews;
mod session;
mod teams;
mod templates;
mod tokens;
mod transitions;
mod users;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnFailure, DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;
use crate::error::Error;

/// Largest accepted request body. A change with both configurations at their limit
/// (`shared::validate::MAX_CONFIG_BYTES`, 64 KiB each) and a full plan fits with room to spare.
pub const BODY_LIMIT: usize = 256 * 1024;

/// A route's own body limit, for routes that take more than [`BODY_LIMIT`] (metric batches).
/// The `Json` extractor reads it to name the right limit in its 413 answer.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// `router` with its own body limit: axum's (the innermost `DefaultBodyLimit` wins over the
/// application-wide one) and the marker the `Json` extractor reports.
fn with_body_limit(router: OpenApiRouter<AppState>, limit: usize) -> OpenApiRouter<AppState> {
    router
        .layer(DefaultBodyLimit::max(limit))
        .layer(Extension(BodyLimit(limit)))
}

/// The API's routes and their OpenAPI document, built from the same handler declarations.
fn v1_api() -> OpenApiRouter<AppState> {
    let v1 = OpenApiRouter::new()
        .merge(health::router())
        .merge(templates::router())
        .merge(changes::router())
        .merge(flag_rules::router())
        .merge(transitions::router())
        .merge(eval_results::router())
        .merge(metrics::router())
        .merge(tokens::router())
        .merge(session::router())
        .merge(users::router())
        .merge(policies::router())
        .merge(approvals::router())
        .merge(audit::router())
        .merge(teams::router())
        .merge(notices::router())
        .merge(feed::router())
        .merge(assignments::router())
        .merge(deliveries::router())
        .merge(reviews::router())
        .merge(decisions::router())
        .merge(comments::router())
        .merge(figures::router())
        .merge(openapi::router());
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi()).nest("/api/v1", v1)
}

/// OpenFeature's protocol under `/ofrep/v1`, with its own body limit.
fn ofrep_api() -> OpenApiRouter<AppState> {
    with_body_limit(ofrep::router(), ofrep::BODY_LIMIT)
}

/// Every route and the OpenAPI document: the API's and OFREP's.
pub fn api() -> OpenApiRouter<AppState> {
    v1_api().merge(ofrep_api())
}

/// The whole application: API, console, and the layers around them.
///
/// OFREP sits on a branch of its own, with only the layers it needs: an evaluation is the
/// hottest request a deployment serves (every request of the application it steers), its
/// token is checked by its extractor (the authorization middleware would only find that the
/// rule is a service token's and let it pass), it does not read the OpenAPI document, and its
/// request span is at debug level, so that at the default level no span is built for it.
/// Compression (only when the client asks), the no-store default, the security headers and
/// the body limit are the same as the API's.
pub fn router(state: AppState) -> Router {
    let (api, mut doc) = v1_api().split_for_parts();
    let (ofrep, ofrep_doc) = ofrep_api().split_for_parts();
    doc.merge(ofrep_doc);
    openapi::complete(&mut doc);
    let ofrep = security_headers(
        ofrep
            .route_layer(SetResponseHeaderLayer::if_not_present(
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store"),
            ))
            .method_not_allowed_fallback(method_not_allowed)
            .layer(CompressionLayer::new()),
    )
    .layer(
        TraceLayer::new_for_http()
            .make_span_with(DefaultMakeSpan::new().level(Level::DEBUG))
            .on_response(DefaultOnResponse::new().level(Level::DEBUG))
            .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
    );
    let api = api
        // After routing, so that the matched path is known; unmatched paths (the console, unknown
        // API routes) never reach it.
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            authz::authorize,
        ))
        // API answers carry sessions' CSRF tokens and once-shown secrets: never cache them.
        .route_layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(fallback)
        .layer(Extension(openapi::Document::new(&doc)))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(CompressionLayer::new());
    security_headers(api)
        .layer(
            // The span gives every log line of a request its method and path. Failures are
            // logged where they happen (`Error::into_response`), so the layer's own failure
            // event, which would also fire for the console's 503, stays at debug.
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(Level::INFO))
                .on_response(DefaultOnResponse::new().level(Level::DEBUG))
                .on_failure(DefaultOnFailure::new().level(Level::DEBUG)),
        )
        .merge(ofrep)
        .with_state(state)
}

/// The console is never framed (clickjacking) and no answer is content-sniffed.
fn security_headers(router: Router<AppState>) -> Router<AppState> {
    router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'none'"),
        ))
}

async fn method_not_allowed() -> Error {
    Error::MethodNotAllowed
}

/// Unknown `/api/…` routes get the API's JSON 404; every other path is the console's.
async fn fallback(State(state): State<AppState>, req: Request) -> Response {
    let path = req.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        return Error::NotFound(format!("route {} {path}", req.method())).into_response();
    }
    console::serve(&state.dist, req).await
}
