//! `GET /api/v1/health`, and what every API route shares: JSON 404 and 405.

mod common;

use axum::http::{Method, StatusCode, header};
use common::{each_database, raw_request};

#[tokio::test]
async fn health_reports_ok_version_and_database() {
    each_database(|app| async move {
        let res = app.get("/api/v1/health").await;
        assert_eq!(res.status, StatusCode::OK);
        let body = res.json();
        assert_eq!(body["status"], "ok");
        assert_eq!(body["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(body["database"], app.backend.name());
    })
    .await;
}

#[tokio::test]
async fn unknown_api_routes_are_json_404() {
    each_database(|app| async move {
        for uri in [
            "/api/v1/nope",
            "/api/v1/changes/x/y/z",
            "/api/v2/changes",
            "/api",
            "/api/",
        ] {
            app.rejects(
                raw_request(Method::GET, uri, None, ""),
                StatusCode::NOT_FOUND,
                "not_found",
                None,
            )
            .await;
        }
        app.rejects(
            common::json_request(Method::POST, "/api/v1/nope", &serde_json::json!({})),
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn wrong_methods_are_json_405_with_allow() {
    each_database(|app| async move {
        for (method, uri, allowed) in [
            (Method::DELETE, "/api/v1/health", "GET,HEAD"),
            (Method::POST, "/api/v1/templates", "GET,HEAD"),
            (Method::DELETE, "/api/v1/changes", "GET,HEAD,POST"),
            (Method::PATCH, "/api/v1/changes/some-id", "GET,HEAD,PUT"),
            (Method::GET, "/api/v1/changes/some-id/transitions", "POST"),
        ] {
            let res = app
                .rejects(
                    raw_request(method, uri, None, ""),
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method_not_allowed",
                    None,
                )
                .await;
            let allow = res
                .header(header::ALLOW)
                .unwrap_or_default()
                .replace(' ', "");
            let mut allow: Vec<&str> = allow.split(',').collect();
            allow.sort_unstable();
            assert_eq!(allow.join(","), allowed, "Allow of {uri}");
        }
    })
    .await;
}
