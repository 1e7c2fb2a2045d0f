//! `GET /api/v1/openapi.json`: a valid OpenAPI 3 document listing every route we serve.

mod common;

use axum::http::{StatusCode, header};
use common::each_database;
use serde_json::Value;

/// Every API route the server answers, with its methods.
const ROUTES: &[(&str, &[&str])] = &[
    ("/api/v1/health", &["get"]),
    ("/api/v1/openapi.json", &["get"]),
    ("/api/v1/templates", &["get"]),
    ("/api/v1/changes", &["get", "post"]),
    ("/api/v1/changes/{id}", &["get", "put"]),
    ("/api/v1/changes/{id}/transitions", &["post"]),
    ("/api/v1/changes/{id}/catalogue", &["get", "put"]),
    ("/api/v1/changes/{id}/metrics", &["post"]),
    ("/api/v1/changes/{id}/metrics/summary", &["get"]),
    ("/api/v1/changes/{id}/metrics/series", &["get"]),
    ("/api/v1/tokens", &["get", "post"]),
    ("/api/v1/tokens/{id}", &["delete"]),
    ("/api/v1/session", &["get", "post", "delete"]),
    ("/api/v1/session/demo-users", &["get"]),
    ("/api/v1/users", &["get", "post"]),
    ("/api/v1/users/{id}", &["put"]),
    ("/api/v1/policies", &["get", "put"]),
    ("/api/v1/changes/{id}/gate", &["get"]),
    ("/api/v1/changes/{id}/approvals", &["post"]),
    ("/api/v1/approvals", &["get"]),
    ("/api/v1/audit", &["get"]),
    ("/api/v1/audit/export", &["get"]),
    ("/api/v1/teams", &["get", "post"]),
    ("/api/v1/teams/{id}", &["put"]),
    ("/api/v1/teams/{id}/secret", &["post"]),
    ("/api/v1/teams/{id}/feed-token", &["post"]),
    ("/api/v1/changes/{id}/notices", &["get", "post"]),
    ("/api/v1/notices/{id}", &["put"]),
    ("/api/v1/notices/{id}/publish", &["post"]),
    ("/api/v1/notices/{id}/acknowledgements", &["post"]),
    ("/api/v1/notices/{id}/read", &["post"]),
    ("/api/v1/notices/unread", &["get"]),
    ("/api/v1/feed", &["get"]),
    ("/api/v1/deliveries", &["get"]),
    ("/api/v1/deliveries/{id}/resend", &["post"]),
    ("/api/v1/teams/{id}/feed.atom", &["get"]),
];

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

#[tokio::test]
async fn the_document_is_openapi_3_and_lists_every_route() {
    each_database(|app| async move {
        let res = app.get("/api/v1/openapi.json").await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.header(header::CONTENT_TYPE), Some("application/json"));
        let doc = res.json();
        let version = doc["openapi"].as_str().expect("openapi version");
        assert!(version.starts_with("3."), "{version}");
        assert_eq!(doc["info"]["title"], "Rollgate API");
        assert!(doc["info"]["version"].is_string());

        let paths = doc["paths"].as_object().expect("paths");
        let mut documented: Vec<(String, Vec<String>)> = paths
            .iter()
            .map(|(path, item)| {
                let methods = METHODS
                    .iter()
                    .filter(|m| item.get(**m).is_some())
                    .map(|m| m.to_string())
                    .collect();
                (path.clone(), methods)
            })
            .collect();
        documented.sort();
        let mut expected: Vec<(String, Vec<String>)> = ROUTES
            .iter()
            .map(|(p, ms)| (p.to_string(), ms.iter().map(|m| m.to_string()).collect()))
            .collect();
        expected.sort();
        assert_eq!(documented, expected);

        // Every operation answers something, names its tag, and declares its path parameters.
        for (path, item) in paths {
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let responses = op["responses"].as_object().expect("responses");
                assert!(!responses.is_empty(), "{method} {path}");
                assert!(
                    op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                    "{method} {path}"
                );
                if path.contains("{id}") {
                    let params = op["parameters"].as_array().expect("parameters");
                    assert!(
                        params.iter().any(|p| p["name"] == "id"
                            && p["in"] == "path"
                            && p["required"] == true),
                        "{method} {path}"
                    );
                }
            }
        }

        // Every `$ref` resolves, so generators and viewers can read the document.
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        assert!(
            refs.iter().any(|r| r.ends_with("/ChangeDetail")),
            "{refs:?}"
        );
        assert!(refs.iter().any(|r| r.ends_with("/ErrorBody")), "{refs:?}");
        for r in refs {
            let pointer = r
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("external ref {r}"));
            assert!(doc.pointer(pointer).is_some(), "unresolved {r}");
        }

        // The request bodies are the shared API types.
        let post = &paths["/api/v1/changes"]["post"];
        assert_eq!(
            post["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/NewChange"
        );
        let list = &paths["/api/v1/changes"]["get"]["parameters"];
        let names: Vec<&str> = list
            .as_array()
            .expect("parameters")
            .iter()
            .map(|p| p["name"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(names, ["state", "kind", "page", "per_page"]);
    })
    .await;
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

/// The routes in the document are the routes the server answers: none is a 404.
#[tokio::test]
async fn every_documented_route_is_served() {
    each_database(|app| async move {
        let id = app.create_default().await;
        let token = app
            .post("/api/v1/tokens", &serde_json::json!({ "name": "t" }))
            .await
            .json()["id"]
            .as_str()
            .expect("token id")
            .to_owned();
        for (path, methods) in ROUTES {
            for method in *methods {
                let own = if path.starts_with("/api/v1/tokens/") {
                    &token
                } else {
                    &id
                };
                let uri = path.replace("{id}", own);
                let req = common::raw_request(
                    method.to_uppercase().parse().expect("method"),
                    &uri,
                    Some("application/json"),
                    "{}",
                );
                let res = app.request(req).await;
                if *path == "/api/v1/session/demo-users" {
                    // Served, but outside demo mode it answers its own 404.
                    assert!(
                        res.message().contains("not a demo workspace"),
                        "{}",
                        res.text()
                    );
                    continue;
                }
                // A resource's own 404 (a team or notice id that is a change's) is served;
                // the router's "route … not found" is not.
                let foreign_id = ["/api/v1/teams/", "/api/v1/notices/", "/api/v1/deliveries/"]
                    .iter()
                    .any(|p| path.starts_with(p));
                if foreign_id {
                    assert!(
                        res.status != StatusCode::NOT_FOUND || !res.message().starts_with("route "),
                        "{method} {uri}: {}",
                        res.text()
                    );
                } else {
                    assert_ne!(res.status, StatusCode::NOT_FOUND, "{method} {uri}");
                }
                assert_ne!(res.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
            }
        }
    })
    .await;
}
