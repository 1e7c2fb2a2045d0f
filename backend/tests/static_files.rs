//! The built console: files, SPA fallback, cache headers, and the not-built page.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{APP_JS, INDEX_HTML, TestApp, connect, each_database, raw_request};

async fn sqlite_app(dist: &std::path::Path) -> (TestApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("rollgate.db").display());
    (connect(&url, dist).await, dir)
}

#[tokio::test]
async fn the_shell_is_served_without_caching() {
    each_database(|app| async move {
        for uri in ["/", "/index.html"] {
            let res = app.get(uri).await;
            assert_eq!(res.status, StatusCode::OK, "{uri}");
            assert_eq!(res.text(), INDEX_HTML);
            assert!(
                res.header(header::CONTENT_TYPE)
                    .is_some_and(|t| t.starts_with("text/html"))
            );
            assert_eq!(res.header(header::CACHE_CONTROL), Some("no-cache"), "{uri}");
            assert_eq!(res.header(header::X_CONTENT_TYPE_OPTIONS), Some("nosniff"));
            assert_eq!(
                res.header(header::CONTENT_SECURITY_POLICY),
                Some("frame-ancestors 'none'"),
                "the console is never framed"
            );
        }
        // API answers (CSRF tokens, once-shown secrets) are never cached.
        let res = app.get("/api/v1/health").await;
        assert_eq!(res.header(header::CACHE_CONTROL), Some("no-store"));
    })
    .await;
}

#[tokio::test]
async fn client_side_routes_get_the_shell() {
    each_database(|app| async move {
        for uri in [
            "/changes/0193c3c4-7f5e-7000-8000-000000000000",
            "/changes/new",
            "/changes",
        ] {
            let res = app.get(uri).await;
            assert_eq!(res.status, StatusCode::OK, "{uri}");
            assert_eq!(res.text(), INDEX_HTML, "{uri}");
            assert_eq!(res.header(header::CACHE_CONTROL), Some("no-cache"));
        }
        // A missing file is a 404, not HTML pretending to be a script.
        let res = app.get("/pkg/missing.js").await;
        assert_eq!(res.status, StatusCode::NOT_FOUND);
        // Only reads fall back to the shell.
        let res = app
            .request(raw_request(Method::POST, "/changes/new", None, ""))
            .await;
        assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(app.counts().await, (0, 0));
    })
    .await;
}

#[tokio::test]
async fn assets_have_their_types_and_precompressed_variants() {
    each_database(|app| async move {
        let res = app.get("/pkg/app_bg.wasm").await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.header(header::CONTENT_TYPE), Some("application/wasm"));
        assert_eq!(&res.body[..], b"\0asm\x01\0\0\0");
        // Build directories are named after their contents: cached for good.
        assert_eq!(
            res.header(header::CACHE_CONTROL),
            Some("public, max-age=31536000, immutable")
        );
        let missing = app.get("/pkg/missing.wasm").await;
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert_eq!(missing.header(header::CACHE_CONTROL), None);

        let res = app.get("/pkg/app.js").await;
        assert_eq!(res.status, StatusCode::OK);
        assert!(
            res.header(header::CONTENT_TYPE)
                .is_some_and(|t| t.contains("javascript"))
        );
        assert_eq!(res.text(), APP_JS);

        let req = Request::get("/pkg/app.js")
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .expect("request");
        let res = app.request(req).await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.header(header::CONTENT_ENCODING), Some("gzip"));
        assert!(
            res.header(header::CONTENT_TYPE)
                .is_some_and(|t| t.contains("javascript"))
        );
        assert_eq!(&res.body[..2], &[0x1f, 0x8b]);
    })
    .await;
}

#[tokio::test]
async fn an_unbuilt_console_says_how_to_build_it() {
    let dist = tempfile::tempdir().expect("tempdir");
    let (app, _db) = sqlite_app(&dist.path().join("does-not-exist")).await;
    for uri in ["/", "/changes/abc"] {
        let res = app.get(uri).await;
        assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE, "{uri}");
        assert!(res.text().contains("cargo xtask build"), "{}", res.text());
        assert!(
            res.header(header::CONTENT_TYPE)
                .is_some_and(|t| t.starts_with("text/plain"))
        );
    }
    // The API does not depend on the console.
    assert_eq!(app.get("/api/v1/health").await.status, StatusCode::OK);

    // An empty dist directory is just as unbuilt.
    let (app, _db2) = sqlite_app(dist.path()).await;
    assert_eq!(app.get("/").await.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn api_answers_are_compressed_on_request() {
    each_database(|app| async move {
        let req = Request::get("/api/v1/openapi.json")
            .header(header::ACCEPT_ENCODING, "gzip")
            .body(Body::empty())
            .expect("request");
        let res = app.request(req).await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.header(header::CONTENT_ENCODING), Some("gzip"));
    })
    .await;
}
