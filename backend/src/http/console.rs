//! The built console (`dist/`): static files, with `index.html` for every other GET so that
//! client-side routes such as `/changes/{id}` survive a reload.

use std::path::Path;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};

const NOT_BUILT: &str = "The Rollgate console has not been built yet.\n\n\
Run `cargo xtask build` to build it into dist/, then reload this page.\n\
The API is up meanwhile: see /api/v1/health and /api/v1/openapi.json.\n";

/// Serves `req` from `dist`. Known files are served as they are (a `.gz` sibling when the
/// client accepts gzip; MIME types from the extension, `application/wasm` included); other
/// GETs get `index.html`, or 503 with instructions when the console is not built.
pub async fn serve(dist: &Path, req: Request) -> Response {
    let method = req.method().clone();
    let headers = req.headers().clone();
    let path = req.uri().path().to_owned();

    let served = ServeDir::new(dist)
        .precompressed_gzip()
        .oneshot(req)
        .await
        .map(|res| res.map(Body::new));
    let res = match served {
        Ok(res) => res,
        Err(never) => match never {},
    };
    if res.status() != StatusCode::NOT_FOUND {
        return if path.ends_with('/') || path.ends_with("/index.html") {
            no_cache(res)
        } else if path.starts_with("/pkg/") {
            immutable(res)
        } else {
            res
        };
    }
    if !(method == Method::GET || method == Method::HEAD) || looks_like_a_file(&path) {
        // A missing script or wasm module answered with HTML would fail in confusing ways.
        return res;
    }

    let index = dist.join("index.html");
    if !tokio::fs::try_exists(&index).await.unwrap_or(false) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            NOT_BUILT,
        )
            .into_response();
    }
    let mut index_req = Request::new(Body::empty());
    *index_req.method_mut() = method;
    *index_req.headers_mut() = headers;
    match ServeFile::new(index)
        .precompressed_gzip()
        .oneshot(index_req)
        .await
    {
        Ok(res) => no_cache(res.map(Body::new)),
        Err(never) => match never {},
    }
}

/// The shell must be revalidated on every load so a new build's asset names are picked up.
fn no_cache(mut res: Response) -> Response {
    if res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    res
}

/// `pkg/` holds one directory per build, named after its contents (`cargo xtask build`), so a
/// file there never changes: browsers may keep it without asking again.
fn immutable(mut res: Response) -> Response {
    if res.status().is_success() {
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        );
    }
    res
}

/// `/pkg/app.wasm` is a file; `/changes/0193…` is a client-side route.
fn looks_like_a_file(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_routes() {
        assert!(looks_like_a_file("/pkg/rollgate_bg.wasm"));
        assert!(looks_like_a_file("/favicon.ico"));
        assert!(!looks_like_a_file(
            "/changes/0193c3c4-7f5e-7000-8000-000000000000"
        ));
        assert!(!looks_like_a_file("/"));
        assert!(!looks_like_a_file("/changes/new"));
    }
}
