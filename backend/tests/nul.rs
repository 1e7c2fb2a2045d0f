//! U+0000 in any string a route reads: every operation of the served OpenAPI document gets a
//! NUL in each path parameter, each query parameter and a string field of its JSON body, and
//! answers 422 `validation` naming that parameter or field (never a 500 from the database,
//! which PostgreSQL gives for a NUL in text). The check is central, in the JSON, query and path
//! extractors (`http/extract.rs`), so a route added later is covered by this walk.
//!
//! Requests are sent as the user holding every role (an admin), so that authentication and
//! CSRF let them through to the extractors; each is also sent anonymously, where it must be
//! refused all the same. No operation is an exception: the Atom feed, which takes its token
//! in the query string rather than a session, refuses a NUL in that token with the same 422.
//! OpenFeature's routes (`/ofrep/v1`, with an `evaluate` token) answer in their protocol's
//! shape instead: a 4xx with an OFREP `errorCode` (no flag key holds a NUL, and a body
//! without a targeting key is refused before anything is read for it).

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{TestApp, each_database};
use serde_json::{Map, Value, json};

const METHODS: [&str; 5] = ["get", "put", "post", "patch", "delete"];

#[tokio::test]
async fn every_string_a_route_reads_refuses_nul() {
    each_database(|app| async move {
        let id = app.create_default().await;
        let token = app.post("/api/v1/tokens", &json!({ "name": "app" })).await;
        assert_eq!(token.status, StatusCode::CREATED, "{}", token.text());
        let secret = token.json()["secret"].as_str().expect("secret").to_owned();
        let evaluate = json!({ "name": "flags", "scopes": ["evaluate"] });
        let evaluator = app.post("/api/v1/tokens", &evaluate).await.json()["secret"]
            .as_str()
            .expect("secret")
            .to_owned();
        let doc = app.get("/api/v1/openapi.json").await.json();
        let before = app.counts().await;
        let mut failures = Vec::new();
        let mut checked = 0;
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in METHODS {
                let Some(op) = item.get(method) else { continue };
                let route = Route {
                    doc: &doc,
                    path,
                    method,
                    op,
                    id: &id,
                    secret: &secret,
                    evaluator: &evaluator,
                };
                for param in route.params("path") {
                    let name = param["name"].as_str().expect("name");
                    let uri = route.uri(Some(name), None);
                    let res = route.send(&app, &uri, None).await;
                    checked += 1;
                    expect_nul_rejected(&mut failures, &route, &uri, name, &res);
                }
                for param in route.params("query") {
                    let name = param["name"].as_str().expect("name");
                    let uri = route.uri(None, Some(name));
                    let res = route.send(&app, &uri, None).await;
                    checked += 1;
                    expect_nul_rejected(&mut failures, &route, &uri, name, &res);
                }
                if let Some(schema) = route.json_body() {
                    // A body whose strings are all nested (a catalogue, a metric batch, the
                    // policies) gets an unknown field: the NUL check reads the whole document
                    // before its shape, so that reaches it as well, and still names the field.
                    let field = first_string_field(&doc, schema).unwrap_or_else(|| "x".to_owned());
                    let uri = route.uri(None, None);
                    let body = json!({ field.as_str(): "before\u{0}after" });
                    let res = route.send(&app, &uri, Some(&body)).await;
                    checked += 1;
                    expect_nul_rejected(&mut failures, &route, &uri, &field, &res);
                }
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {checked} requests with a NUL were not refused:\n{}",
            failures.len(),
            failures.join("\n")
        );
        assert!(checked >= 40, "only {checked} requests sent");
        assert_eq!(
            app.counts().await,
            before,
            "a request with a NUL stored rows"
        );
    })
    .await;
}

/// One operation of the document, and the values that let a request reach its extractors.
struct Route<'a> {
    doc: &'a Value,
    path: &'a str,
    method: &'a str,
    op: &'a Value,
    /// A change id, for `{id}` (other resources' ids need not exist: extraction comes first).
    id: &'a str,
    /// An ingestion token's secret, for the route whose security is `ingest_token`.
    secret: &'a str,
    /// An `evaluate` token's secret, for the OFREP routes.
    evaluator: &'a str,
}

impl Route<'_> {
    /// The operation's parameters that are `in` the path or the query.
    fn params(&self, r#in: &str) -> Vec<&Value> {
        self.op["parameters"]
            .as_array()
            .map(|ps| ps.iter().filter(|p| p["in"] == r#in).collect())
            .unwrap_or_default()
    }

    /// The request URI: a plausible value for every path parameter and required query
    /// parameter, and a NUL in `nul_path` or in the query parameter `nul_query`.
    fn uri(&self, nul_path: Option<&str>, nul_query: Option<&str>) -> String {
        let mut uri = self.path.to_owned();
        for p in self.params("path") {
            let name = p["name"].as_str().expect("name");
            let value = if name == "id" && self.path.starts_with("/api/v1/changes/") {
                self.id.to_owned()
            } else {
                plausible(self.doc, &p["schema"])
            };
            let value = if nul_path == Some(name) {
                format!("{value}%00x")
            } else {
                value
            };
            uri = uri.replace(&format!("{{{name}}}"), &value);
        }
        let mut query = form_urlencoded::Serializer::new(String::new());
        for p in self.params("query") {
            let name = p["name"].as_str().expect("name");
            if nul_query == Some(name) {
                query.append_pair(name, "before\0after");
            } else if p["required"] == true {
                query.append_pair(name, &plausible(self.doc, &p["schema"]));
            }
        }
        let query = query.finish();
        if query.is_empty() {
            uri
        } else {
            format!("{uri}?{query}")
        }
    }

    /// The schema of the operation's JSON request body, if it takes one.
    fn json_body(&self) -> Option<&Value> {
        let schema = &self.op["requestBody"]["content"]["application/json"]["schema"];
        schema.is_object().then_some(schema)
    }

    /// The request, without credentials.
    fn request(&self, uri: &str, body: Option<&Value>) -> Request<Body> {
        let method: Method = self.method.to_uppercase().parse().expect("method");
        match body {
            Some(b) => common::json_request(method, uri, b),
            None => Request::builder()
                .method(method)
                .uri(uri)
                .body(Body::empty())
                .expect("request"),
        }
    }

    /// Sends the request as it must be sent to get past authentication: as the user holding
    /// every role (an admin), or with the ingestion token where the route asks for one.
    /// Sent anonymously first, it must be refused too: 401 or 403 where authentication
    /// answers before the input is read, 422 where it does not (signing in, the Atom feed's
    /// token in its query string), never an error of the server.
    async fn send(&self, app: &TestApp, uri: &str, body: Option<&Value>) -> common::TestResponse {
        let anonymous = app.anonymous(self.request(uri, body)).await;
        assert!(
            [
                StatusCode::UNAUTHORIZED,
                StatusCode::FORBIDDEN,
                StatusCode::UNPROCESSABLE_ENTITY
            ]
            .contains(&anonymous.status),
            "{} {uri} anonymously → {} {}",
            self.method.to_uppercase(),
            anonymous.status,
            anonymous.text()
        );
        let mut req = self.request(uri, body);
        let scope = &self.op["security"][0]["ingest_token"][0];
        if scope.is_string() {
            let secret = if scope == "evaluate" {
                self.evaluator
            } else {
                self.secret
            };
            req.headers_mut().insert(
                header::AUTHORIZATION,
                format!("Bearer {secret}").parse().expect("header"),
            );
        }
        app.request(req).await
    }
}

/// 422 `validation` naming `field`, or a line in `failures` saying what came instead.
fn expect_nul_rejected(
    failures: &mut Vec<String>,
    route: &Route<'_>,
    uri: &str,
    field: &str,
    res: &common::TestResponse,
) {
    let body: Value = serde_json::from_slice(&res.body).unwrap_or(Value::Null);
    if route.path.starts_with("/ofrep/") {
        if !(res.status.is_client_error() && body["errorCode"].is_string()) {
            failures.push(format!(
                "{} {uri} (NUL in {field}) → {} {}",
                route.method.to_uppercase(),
                res.status,
                res.text()
            ));
        }
        return;
    }
    let ok = res.status == StatusCode::UNPROCESSABLE_ENTITY
        && body["error"]["code"] == "validation"
        && body["error"]["field"] == field
        && body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("NUL"));
    if !ok {
        failures.push(format!(
            "{} {uri} (NUL in {field}) → {} {}",
            route.method.to_uppercase(),
            res.status,
            res.text()
        ));
    }
}

/// A value of `schema` a parameter can hold: the first of an enum, a number, or a word.
fn plausible(doc: &Value, schema: &Value) -> String {
    let schema = resolve(doc, schema);
    if let Some(first) = schema["enum"].get(0) {
        return first.as_str().map_or(first.to_string(), str::to_owned);
    }
    let is = |t: &str| {
        schema["type"] == t
            || schema["type"]
                .as_array()
                .is_some_and(|ts| ts.contains(&json!(t)))
    };
    if is("integer") || is("number") {
        "1".to_owned()
    } else if is("boolean") {
        "true".to_owned()
    } else {
        "x".to_owned()
    }
}

/// The first property of an object schema that holds a string (by its type or a string
/// enum), if there is one.
fn first_string_field(doc: &Value, schema: &Value) -> Option<String> {
    let schema = resolve(doc, schema);
    let empty = Map::new();
    let properties = schema["properties"].as_object().unwrap_or(&empty);
    properties.iter().find_map(|(name, property)| {
        let p = resolve(doc, property);
        let string = p["type"] == "string"
            || p["type"]
                .as_array()
                .is_some_and(|ts| ts.contains(&json!("string")))
            || p["enum"].get(0).is_some_and(Value::is_string);
        string.then(|| name.clone())
    })
}

/// `schema`, or what its `$ref` points at.
fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("unresolved {r}")),
        None => schema,
    }
}
