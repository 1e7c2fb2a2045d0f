//! `GET /api/v1/openapi.json`: a valid OpenAPI 3 document listing every route we serve.

mod common;

use axum::http::{StatusCode, header};
use common::each_database;
use serde_json::{Value, json};

/// Every API route the server answers, with its methods.
const ROUTES: &[(&str, &[&str])] = &[
    ("/api/v1/health", &["get"]),
    ("/api/v1/openapi.json", &["get"]),
    ("/api/v1/templates", &["get"]),
    ("/api/v1/changes", &["get", "post"]),
    ("/api/v1/changes/{id}", &["get", "put"]),
    ("/api/v1/changes/{id}/transitions", &["post"]),
    ("/api/v1/changes/{id}/eval-results", &["get", "post"]),
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
    ("/api/v1/changes/{id}/review", &["get", "put"]),
    ("/api/v1/changes/{id}/review.md", &["get"]),
    ("/api/v1/changes/{id}/decision", &["get", "post"]),
    ("/api/v1/changes/{id}/complaints", &["get", "post"]),
    ("/api/v1/figures", &["get"]),
    ("/api/v1/figures.md", &["get"]),
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
    ("/api/v1/assignments", &["get"]),
    ("/api/v1/changes/{id}/flag-rules", &["put"]),
    ("/api/v1/deliveries", &["get"]),
    ("/api/v1/deliveries/{id}/resend", &["post"]),
    ("/api/v1/teams/{id}/feed.atom", &["get"]),
    ("/api/v1/changes/{id}/comments", &["get", "post"]),
    ("/api/v1/mentions", &["get"]),
    ("/ofrep/v1/evaluate/flags", &["post"]),
    ("/ofrep/v1/evaluate/flags/{key}", &["post"]),
    ("/ofrep/v1/events", &["get"]),
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
        assert_eq!(
            names,
            ["state", "kind", "flag_key", "q", "sort", "page", "per_page"]
        );

        // Every paged route states the bounds the server enforces.
        for path in ["/api/v1/changes", "/api/v1/audit"] {
            let params = paths[path]["get"]["parameters"].as_array().expect("params");
            for (name, max) in [("page", 10_000), ("per_page", 200)] {
                let p = params.iter().find(|p| p["name"] == name).expect(name);
                assert_eq!(p["schema"]["minimum"], 1, "{path} {name}");
                assert_eq!(p["schema"]["maximum"], max, "{path} {name}");
            }
        }
    })
    .await;
}

/// The text limits a client learns from the document are the ones the server enforces.
#[tokio::test]
async fn request_schemas_state_the_enforced_text_limits() {
    use shared::validate::{MAX_OWNER, MAX_PRODUCT_AREA, MAX_TEXT, MAX_TITLE};
    each_database(|app| async move {
        let doc = app.get("/api/v1/openapi.json").await.json();
        for schema in ["NewChange", "ChangeUpdate"] {
            let fields = &doc["components"]["schemas"][schema]["properties"];
            for (field, min, max) in [
                ("title", Some(1), MAX_TITLE),
                ("owner", Some(1), MAX_OWNER),
                ("expected_changes", None, MAX_TEXT),
                ("product_area", None, MAX_PRODUCT_AREA),
            ] {
                let f = &fields[field];
                assert_eq!(
                    f["maxLength"].as_u64(),
                    Some(max as u64),
                    "{schema}.{field}"
                );
                assert_eq!(f["minLength"].as_u64(), min, "{schema}.{field}");
            }
        }
        // One character over the documented limit is refused, naming the field.
        let mut body = common::new_change();
        body["title"] = Value::from("t".repeat(MAX_TITLE + 1));
        app.post("/api/v1/changes", &body).await.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("title"),
        );
    })
    .await;
}

/// A transition without `revision` is refused (422 naming it), so the document must not let a
/// generated client leave it out: `TransitionRequest` lists it as required.
#[tokio::test]
async fn transition_requests_require_a_revision() {
    each_database(|app| async move {
        let doc = app.get("/api/v1/openapi.json").await.json();
        let schema = &doc["components"]["schemas"]["TransitionRequest"];
        let required: Vec<&str> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        assert!(required.contains(&"revision"), "{schema}");
        assert!(required.contains(&"action"), "{schema}");
        assert!(!required.contains(&"reason"), "{schema}");
        let id = app.create_default().await;
        app.post(
            &format!("/api/v1/changes/{id}/transitions"),
            &json!({ "action": "advance" }),
        )
        .await
        .assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("revision"),
        );
    })
    .await;
}

/// An ingestion token, as `POST /api/v1/tokens` answers it (its secret shown once).
async fn new_token(app: &common::TestApp) -> Value {
    app.post("/api/v1/tokens", &serde_json::json!({ "name": "app" }))
        .await
        .json()
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
        let token = new_token(&app).await["id"]
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
                let uri = path.replace("{id}", own).replace("{key}", "some-flag");
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

/// The document describes what the server really answers: every JSON answer the demo
/// workspace gives to the GET routes, as an admin and with real ids, validates against the
/// response schema documented for its status. (Two shared types once had one schema name, and
/// notices were documented with the rollout plan's audience.)
#[tokio::test]
async fn answers_match_their_documented_schemas() {
    each_database(|app| async move {
        assert!(app.seed_demo().await);
        rollgate::demo_traffic::prepare(
            &app.router,
            &app.pool,
            &rollgate::demo_traffic::Instance::generate(),
            1_749_981_750,
        )
        .await
        .expect("backfill");
        let doc = app.get("/api/v1/openapi.json").await.json();
        let admin = common::email_of(shared::auth::Role::Admin);

        let changes = app.get("/api/v1/changes?per_page=100").await.json();
        let change_ids: Vec<String> = changes["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| c["id"].as_str().expect("id").to_owned())
            .collect();
        assert!(change_ids.len() >= 4, "{changes}");
        let mut checked = 0;
        for (path, item) in doc["paths"].as_object().expect("paths") {
            let Some(op) = item.get("get") else { continue };
            // Not JSON: the document itself, the CSV/JSON export download, the Atom feed and the
            // review and the figures as Markdown.
            if [
                "/openapi.json",
                "/audit/export",
                "/feed.atom",
                "/review.md",
                "/figures.md",
            ]
            .iter()
            .any(|p| path.ends_with(p))
            {
                continue;
            }
            let mut uris: Vec<String> = if path.contains("{id}") {
                change_ids
                    .iter()
                    .map(|id| path.replace("{id}", id))
                    .collect()
            } else {
                vec![path.clone()]
            };
            // With its required metric (a rate, a mean and a histogram) as well as without.
            if path.ends_with("/metrics/series") {
                let with: Vec<String> = ["shadow_eval_pass_rate", "cost_per_request", "latency_ms"]
                    .iter()
                    .flat_map(|m| uris.iter().map(move |u| format!("{u}?metric={m}")))
                    .collect();
                uris.extend(with);
            }
            for uri in uris {
                let req = axum::http::Request::get(&uri)
                    .body(axum::body::Body::empty())
                    .expect("request");
                let res = app.request_as(admin, req).await;
                let status = res.status.as_u16().to_string();
                let schema = &op["responses"][&status]["content"]["application/json"]["schema"];
                assert!(
                    schema.is_object(),
                    "GET {uri} answered {status}, which its operation does not document: {}",
                    res.text()
                );
                let mut errors = Vec::new();
                validate(&doc, schema, &res.json(), "$", &mut errors);
                assert!(
                    errors.is_empty(),
                    "GET {uri} ({status}) does not match its schema:\n{}",
                    errors.join("\n")
                );
                checked += 1;
            }
        }
        assert!(checked >= 30, "only {checked} answers checked");
    })
    .await;
}

/// Every error the layers in front of a handler give is documented on the operations they
/// guard: anonymous calls (401), and a JSON body that is malformed (400), not declared as JSON
/// (415) or too large (413).
#[tokio::test]
async fn rejections_before_the_handler_are_documented() {
    each_database(|app| async move {
        let id = app.create_default().await;
        let token = new_token(&app).await["secret"]
            .as_str()
            .expect("secret")
            .to_owned();
        let evaluator = app
            .post(
                "/api/v1/tokens",
                &serde_json::json!({ "name": "app", "scopes": ["evaluate"] }),
            )
            .await
            .json()["secret"]
            .as_str()
            .expect("secret")
            .to_owned();
        let doc = app.get("/api/v1/openapi.json").await.json();
        let documented = |path: &str, method: &str, status: StatusCode| {
            let op = &doc["paths"][path][method];
            assert!(
                op["responses"][status.as_str()]["content"]["application/json"]["schema"]
                    .is_object(),
                "{method} {path} answers {status} but does not document it"
            );
        };
        // Over every route's limit, the metric batches' 32 MiB included.
        let big = format!("{{\"x\": \"{}\"}}", "a".repeat(33 * 1024 * 1024));
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let uri = path.replace("{id}", &id).replace("{key}", "some-flag");
                let verb: axum::http::Method = method.to_uppercase().parse().expect("method");
                let anonymous = common::raw_request(verb.clone(), &uri, None, "");
                let res = app.anonymous(anonymous).await;
                if res.status == StatusCode::UNAUTHORIZED {
                    documented(path, method, res.status);
                    assert!(op["security"].is_array(), "{method} {path}: no security");
                }
                if op.get("requestBody").is_none() {
                    continue;
                }
                let cases = [
                    (
                        Some("application/json"),
                        "{\"title\": ",
                        StatusCode::BAD_REQUEST,
                    ),
                    (Some("text/plain"), "{}", StatusCode::UNSUPPORTED_MEDIA_TYPE),
                    (
                        Some("application/json"),
                        big.as_str(),
                        StatusCode::PAYLOAD_TOO_LARGE,
                    ),
                ];
                for (content_type, body, expected) in cases {
                    let mut req =
                        common::raw_request(verb.clone(), &uri, content_type, body.to_owned());
                    // Token routes take a service token of their scope, not the session.
                    let scope = &op["security"][0]["ingest_token"][0];
                    if scope.is_string() {
                        let secret = if scope == "evaluate" {
                            &evaluator
                        } else {
                            &token
                        };
                        req.headers_mut().insert(
                            axum::http::header::AUTHORIZATION,
                            format!("Bearer {secret}").parse().expect("header"),
                        );
                    }
                    let res = app.request(req).await;
                    // The session route answers before reading a body it does not need.
                    if path != "/api/v1/session" || method == "post" {
                        assert_eq!(res.status, expected, "{method} {uri}: {}", res.text());
                    }
                    documented(path, method, res.status);
                }
            }
        }
    })
    .await;
}

/// Checks `value` against `schema`, the subset of JSON Schema that utoipa writes: `$ref`,
/// `type` (one or a list), `properties`, `required`, `additionalProperties`, `items`,
/// `oneOf`, `anyOf`, `allOf`, `enum` and `const`. Adds one line per mismatch to `errors`.
fn validate(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema["$ref"].as_str() {
        let target = doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("unresolved {r}"));
        return validate(doc, target, value, at, errors);
    }
    if let Some(types) = schema.get("type") {
        let names: Vec<&str> = match types {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let fits = |t: &str| match t {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "string" => value.is_string(),
            "number" => value.is_number(),
            "integer" => value.as_i64().is_some() || value.as_u64().is_some(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => true,
        };
        if !names.iter().any(|t| fits(t)) {
            errors.push(format!("{at}: {value} is not of type {names:?}"));
            return;
        }
    }
    if let Some(options) = schema["enum"].as_array()
        && !options.contains(value)
    {
        errors.push(format!("{at}: {value} is not one of {options:?}"));
    }
    if let Some(c) = schema.get("const")
        && c != value
    {
        errors.push(format!("{at}: {value} is not {c}"));
    }
    for (key, need) in [("oneOf", Some(1)), ("anyOf", None)] {
        let Some(options) = schema[key].as_array() else {
            continue;
        };
        let matching = options
            .iter()
            .filter(|o| {
                let mut e = Vec::new();
                validate(doc, o, value, at, &mut e);
                e.is_empty()
            })
            .count();
        let ok = match need {
            Some(n) => matching == n,
            None => matching > 0,
        };
        if !ok {
            errors.push(format!(
                "{at}: {} matches {matching} of the {} schemas of `{key}`",
                short(value),
                options.len()
            ));
        }
    }
    for part in schema["allOf"].as_array().into_iter().flatten() {
        validate(doc, part, value, at, errors);
    }
    if let Value::Object(fields) = value {
        for name in schema["required"].as_array().into_iter().flatten() {
            let name = name.as_str().unwrap_or_default();
            if !fields.contains_key(name) {
                errors.push(format!("{at}: required field `{name}` is missing"));
            }
        }
        let properties = schema["properties"].as_object();
        for (name, v) in fields {
            let path = format!("{at}.{name}");
            match (
                properties.and_then(|p| p.get(name)),
                &schema["additionalProperties"],
            ) {
                (Some(s), _) => validate(doc, s, v, &path, errors),
                (None, Value::Bool(false)) => {
                    errors.push(format!("{path}: not a documented field"));
                }
                (None, extra) if extra.is_object() => validate(doc, extra, v, &path, errors),
                (None, _) => {}
            }
        }
    }
    if let (Value::Array(items), Some(item)) = (value, schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            validate(doc, item, v, &format!("{at}[{i}]"), errors);
        }
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(120) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text,
    }
}

/// The console builds its requests from `shared::paths`; the paths it knows are exactly the
/// ones the server documents, so a route renamed on one side fails here, not in a browser.
#[tokio::test]
async fn the_consoles_paths_are_the_documented_ones() {
    use std::collections::BTreeSet;

    use shared::paths::{BASE, OFREP_BASE, OFREP_TEMPLATES, OPENAPI, TEMPLATES};
    each_database(|app| async move {
        let doc = app.get(&format!("{BASE}{OPENAPI}")).await.json();
        let paths = doc["paths"].as_object().expect("paths");
        // OpenFeature's protocol is served beside the API, at its own base.
        let ofrep: BTreeSet<&str> = paths
            .keys()
            .filter_map(|p| p.strip_prefix(OFREP_BASE))
            .collect();
        assert_eq!(ofrep, OFREP_TEMPLATES.iter().copied().collect());
        let documented: BTreeSet<&str> = paths
            .keys()
            .filter(|p| !p.starts_with(OFREP_BASE))
            .map(|p| {
                p.strip_prefix(BASE)
                    .unwrap_or_else(|| panic!("{p} is outside {BASE}"))
            })
            .collect();
        let known: BTreeSet<&str> = TEMPLATES.iter().copied().collect();
        assert_eq!(known.len(), TEMPLATES.len(), "a template listed twice");
        let unknown: Vec<_> = documented.difference(&known).collect();
        assert!(unknown.is_empty(), "not in shared::paths: {unknown:?}");
        let stale: Vec<_> = known.difference(&documented).collect();
        assert!(stale.is_empty(), "not served: {stale:?}");
    })
    .await;
}
