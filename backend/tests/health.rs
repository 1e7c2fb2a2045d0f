//! `GET /api/v1/health`, and what every API route shares: JSON 404 and 405.

mod common;

use std::time::{Duration, Instant};

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
        assert_eq!(body["pool"]["available"], true);
        assert_eq!(body["pool"]["max"], app.backend.default_pool_size());
    })
    .await;
}

/// With every connection in use, health answers at once that the pool is busy instead of
/// waiting for a connection like any request that needs the database.
#[tokio::test]
async fn health_answers_quickly_when_every_connection_is_busy() {
    each_database(|app| async move {
        let max = app.pool.options().get_max_connections();
        let mut held = Vec::new();
        for _ in 0..max {
            held.push(app.pool.acquire().await.expect("a connection"));
        }
        let started = Instant::now();
        let res = app
            .anonymous(raw_request(Method::GET, "/api/v1/health", None, ""))
            .await;
        let took = started.elapsed();
        assert!(took < Duration::from_secs(1), "health took {took:?}");
        assert_eq!(res.status, StatusCode::OK);
        let body = res.json();
        assert_eq!(body["status"], "busy");
        assert_eq!(body["pool"]["available"], false);
        assert_eq!(body["pool"]["idle"], 0);
        assert_eq!(body["pool"]["size"], max);
        assert_eq!(body["pool"]["max"], max);

        // Connections go back to the pool in the background; health says so once they have.
        drop(held);
        let mut status = serde_json::Value::Null;
        for _ in 0..50 {
            status = app.get("/api/v1/health").await.json()["status"].clone();
            if status == "ok" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(status, "ok");
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
