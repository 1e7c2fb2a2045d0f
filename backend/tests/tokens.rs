//! `/api/v1/tokens` and the bearer-token authentication of metric ingestion.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{TestApp, each_database};
use serde_json::{Value, json};
use sqlx::Row;

/// Creates a token and returns its creation answer.
async fn create_token(app: &TestApp, change_id: Option<&str>) -> Value {
    let res = app
        .request_as(
            "admin@example.com",
            Request::post("/api/v1/tokens")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    json!({ "name": "billing-api prod", "change_id": change_id }).to_string(),
                ))
                .expect("request"),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    res.json()
}

fn ingest_request(change_id: &str, authorization: Option<&str>) -> Request<Body> {
    let mut req = Request::post(format!("/api/v1/changes/{change_id}/metrics"))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(a) = authorization {
        req = req.header(header::AUTHORIZATION, a);
    }
    let body = json!({ "windows": [{
        "variant": "control", "segment": "free / en",
        "window_start": "2025-01-01T00:00:00Z", "window_end": "2025-01-01T01:00:00Z",
        "requests": 10,
        "metrics": { "retry_rate": { "n": 10, "successes": 1 } }
    }]});
    req.body(Body::from(body.to_string())).expect("request")
}

async fn windows(app: &TestApp) -> i64 {
    sqlx::query("SELECT COUNT(*) FROM metric_windows")
        .fetch_one(&app.pool)
        .await
        .expect("count")
        .get(0)
}

#[tokio::test]
async fn created_tokens_show_their_secret_once() {
    each_database(|app| async move {
        let change = app.create_default().await;
        let created = create_token(&app, Some(&change)).await;
        let secret = created["secret"].as_str().expect("secret").to_owned();
        assert!(
            secret.starts_with("rg_ing_") && secret.len() == 50,
            "{secret}"
        );
        let prefix = created["prefix"].as_str().expect("prefix");
        assert!(secret.starts_with(prefix) && prefix.len() == 12, "{prefix}");
        assert_eq!(created["change_id"], change.as_str());
        assert_eq!(created["name"], "billing-api prod");
        assert_eq!(created["created_by"], "admin@example.com");
        assert!(created["revoked_at"].is_null());

        let list = app.get("/api/v1/tokens").await;
        assert_eq!(list.status, StatusCode::OK);
        assert!(!list.text().contains(&secret));
        let items = list.json();
        assert_eq!(items.as_array().map(Vec::len), Some(1));
        assert_eq!(items[0]["id"], created["id"]);
        assert!(items[0].get("secret").is_none());

        // A workspace-wide token, and the per-change filter.
        let all = create_token(&app, None).await;
        assert!(all["change_id"].is_null());
        let listed = |uri: String| {
            let app = app.clone();
            async move {
                app.get(&uri)
                    .await
                    .json()
                    .as_array()
                    .expect("list")
                    .iter()
                    .map(|t| t["id"].as_str().unwrap_or_default().to_owned())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(listed("/api/v1/tokens".into()).await.len(), 2);
        assert_eq!(
            listed(format!("/api/v1/tokens?change_id={change}")).await,
            [created["id"].as_str().unwrap_or_default()]
        );
    })
    .await;
}

#[tokio::test]
async fn secrets_are_stored_only_as_hashes() {
    each_database(|app| async move {
        let created = create_token(&app, None).await;
        let secret = created["secret"].as_str().expect("secret");
        let row = sqlx::query(
            "SELECT id, name, change_id, prefix, secret_sha256, created_by, created_at, \
             revoked_at, revoked_by FROM ingest_tokens",
        )
        .fetch_one(&app.pool)
        .await
        .expect("row");
        for i in 0..9 {
            let value: Option<String> = row.get(i);
            let value = value.unwrap_or_default();
            assert!(!value.contains(&secret[7..]), "column {i} holds the secret");
        }
        let stored: String = row.get("secret_sha256");
        assert_eq!(stored, rollgate::db::tokens::hash(secret));
        assert_eq!(stored.len(), 64);
    })
    .await;
}

#[tokio::test]
async fn bad_token_requests_are_refused() {
    each_database(|app| async move {
        let no_name = app.post("/api/v1/tokens", &json!({ "name": " " })).await;
        no_name.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation", Some("name"));
        let no_change = app
            .post(
                "/api/v1/tokens",
                &json!({ "name": "x", "change_id": "nope" }),
            )
            .await;
        no_change.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("change_id"),
        );
        let extra = app
            .post("/api/v1/tokens", &json!({ "name": "x", "scope": "all" }))
            .await;
        extra.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("scope"),
        );
        assert_eq!(app.get("/api/v1/tokens").await.json(), json!([]));
    })
    .await;
}

#[tokio::test]
async fn revoking_is_idempotent() {
    each_database(|app| async move {
        let created = create_token(&app, None).await;
        let id = created["id"].as_str().expect("id");
        let uri = format!("/api/v1/tokens/{id}");
        let delete = || Request::delete(&uri).body(Body::empty()).expect("request");
        let first = app.request(delete()).await;
        assert_eq!(first.status, StatusCode::OK, "{}", first.text());
        let revoked_at = first.json()["revoked_at"].clone();
        assert!(revoked_at.is_string());
        let second = app.request(delete()).await;
        assert_eq!(second.status, StatusCode::OK);
        assert_eq!(second.json()["revoked_at"], revoked_at);
        let listed = app.get("/api/v1/tokens").await.json();
        assert_eq!(listed[0]["revoked_at"], revoked_at);

        let missing = app
            .request(
                Request::delete("/api/v1/tokens/nope")
                    .body(Body::empty())
                    .expect("req"),
            )
            .await;
        missing.assert_error(StatusCode::NOT_FOUND, "not_found", None);
    })
    .await;
}

#[tokio::test]
async fn ingestion_needs_a_valid_token_for_the_change() {
    each_database(|app| async move {
        let change = app.create_default().await;
        let other = app.create_default().await;
        let scoped = create_token(&app, Some(&other)).await;
        let revoked = create_token(&app, Some(&change)).await;
        let revoked_id = revoked["id"].as_str().expect("id");
        let res = app
            .request(
                Request::delete(format!("/api/v1/tokens/{revoked_id}"))
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK);

        let unknown = format!("Bearer rg_ing_{}", "A".repeat(43));
        let cases = [
            (None, StatusCode::UNAUTHORIZED, "unauthorized"),
            (
                Some("Basic dXNlcjpwYXNz".to_owned()),
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            ),
            (
                Some("Bearer".to_owned()),
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            ),
            (
                Some("Bearer not-a-token".to_owned()),
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            ),
            (Some(unknown), StatusCode::UNAUTHORIZED, "unauthorized"),
            (
                Some(format!(
                    "Bearer {}",
                    revoked["secret"].as_str().unwrap_or_default()
                )),
                StatusCode::UNAUTHORIZED,
                "unauthorized",
            ),
            (
                Some(format!(
                    "Bearer {}",
                    scoped["secret"].as_str().unwrap_or_default()
                )),
                StatusCode::FORBIDDEN,
                "forbidden",
            ),
        ];
        for (auth, status, code) in cases {
            let res = app.request(ingest_request(&change, auth.as_deref())).await;
            eprintln!("{auth:?} → {} {}", res.status, res.text());
            res.assert_error(status, code, None);
            if status == StatusCode::UNAUTHORIZED {
                assert_eq!(res.header(header::WWW_AUTHENTICATE), Some("Bearer"));
            }
            assert_eq!(windows(&app).await, 0);
        }
        assert!(
            app.request(ingest_request(
                &change,
                Some(&format!(
                    "Bearer {}",
                    revoked["secret"].as_str().unwrap_or_default()
                ))
            ))
            .await
            .message()
            .contains("revoked")
        );

        // The scoped token works for its own change, a workspace-wide one for any.
        let auth = format!("Bearer {}", scoped["secret"].as_str().unwrap_or_default());
        let res = app.request(ingest_request(&other, Some(&auth))).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let all = create_token(&app, None).await;
        let auth = format!("bearer {}", all["secret"].as_str().unwrap_or_default());
        let res = app.request(ingest_request(&change, Some(&auth))).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(res.json(), json!({ "accepted": 1, "replaced": 0 }));
        assert_eq!(windows(&app).await, 2);

        // A valid token for a change that does not exist.
        let res = app.request(ingest_request("nope", Some(&auth))).await;
        res.assert_error(StatusCode::NOT_FOUND, "not_found", None);
    })
    .await;
}

/// Creates a token with the given body (as an admin) and returns the answer.
async fn create_with(app: &TestApp, body: Value) -> Value {
    let res = app.post("/api/v1/tokens", &body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    res.json()
}

#[tokio::test]
async fn tokens_hold_the_scopes_they_were_made_with() {
    each_database(|app| async move {
        let change = app.create_default().await;
        let plain = create_with(&app, json!({ "name": "default" })).await;
        assert_eq!(plain["scopes"], json!(["ingest"]));
        for scopes in [
            json!(["ingest"]),
            json!(["evaluate"]),
            json!(["ci"]),
            json!(["evaluate", "ingest", "ci"]),
        ] {
            let body = json!({ "name": "scoped", "change_id": change, "scopes": scopes });
            let created = create_with(&app, body).await;
            assert_eq!(created["scopes"], scopes);
            assert_eq!(created["change_id"], json!(change));
            let id = created["id"].as_str().expect("id");
            let listed = app.get("/api/v1/tokens").await.json();
            let row = listed
                .as_array()
                .expect("list")
                .iter()
                .find(|t| t["id"] == id)
                .expect("listed");
            assert_eq!(row["scopes"], scopes);
        }
    })
    .await;
}

#[tokio::test]
async fn bad_scopes_are_refused_and_nothing_is_stored() {
    each_database(|app| async move {
        let cases = [
            (json!(["ingest", "admin"]), "scopes[1]"),
            (json!(["ingest", "ci", "ingest"]), "scopes[2]"),
            (json!([]), "scopes"),
            (json!("ingest"), "scopes"),
        ];
        for (scopes, field) in cases {
            let res = app
                .post("/api/v1/tokens", &json!({ "name": "x", "scopes": scopes }))
                .await;
            res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation", Some(field));
        }
        assert_eq!(app.get("/api/v1/tokens").await.json(), json!([]));
        let stored: i64 = sqlx::query("SELECT COUNT(*) FROM ingest_tokens")
            .fetch_one(&app.pool)
            .await
            .expect("count")
            .get(0);
        assert_eq!(stored, 0);
    })
    .await;
}

#[tokio::test]
async fn ingestion_needs_the_ingest_scope() {
    each_database(|app| async move {
        let change = app.create_default().await;
        let evaluate = create_with(
            &app,
            json!({ "name": "flags", "scopes": ["evaluate", "ci"] }),
        )
        .await;
        let auth = format!("Bearer {}", evaluate["secret"].as_str().unwrap_or_default());
        let res = app.request(ingest_request(&change, Some(&auth))).await;
        res.assert_error(StatusCode::FORBIDDEN, "forbidden", None);
        assert!(res.message().contains("`ingest`"), "{}", res.text());
        assert_eq!(windows(&app).await, 0);
        // A server of the previous release reads the single `scope`: it must refuse too.
        let id = evaluate["id"].as_str().expect("id");
        let legacy: String = sqlx::query("SELECT scope FROM ingest_tokens WHERE id = $1")
            .bind(id)
            .fetch_one(&app.pool)
            .await
            .expect("scope")
            .get(0);
        assert_eq!(legacy, "evaluate");

        let both = create_with(
            &app,
            json!({ "name": "app", "scopes": ["evaluate", "ingest"] }),
        )
        .await;
        let auth = format!("Bearer {}", both["secret"].as_str().unwrap_or_default());
        let res = app.request(ingest_request(&change, Some(&auth))).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    })
    .await;
}

#[tokio::test]
async fn tokens_written_before_scopes_still_ingest() {
    each_database(|app| async move {
        let change = app.create_default().await;
        let secret = format!("rg_ing_{}", "B".repeat(43));
        // The insert the server made before migration 0009: one `scope`, no `scopes`.
        sqlx::query(
            "INSERT INTO ingest_tokens (id, name, change_id, prefix, secret_sha256, created_by, \
             created_at, scope) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind("old-token")
        .bind("old app")
        .bind(change.as_str())
        .bind("rg_ing_BBBBB")
        .bind(rollgate::db::tokens::hash(&secret))
        .bind("admin@example.com")
        .bind("2025-01-01T00:00:00.000000Z")
        .bind("ingest")
        .execute(&app.pool)
        .await
        .expect("insert");
        let listed = app.get("/api/v1/tokens").await.json();
        assert_eq!(listed[0]["id"], "old-token");
        assert_eq!(listed[0]["scopes"], json!(["ingest"]));
        let auth = format!("Bearer {secret}");
        let res = app.request(ingest_request(&change, Some(&auth))).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(windows(&app).await, 1);
    })
    .await;
}

#[tokio::test]
async fn the_document_names_the_scopes() {
    each_database(|app| async move {
        let doc = app.get("/api/v1/openapi.json").await.json();
        let schemas = &doc["components"]["schemas"];
        assert_eq!(
            schemas["TokenScope"]["enum"],
            json!(["ingest", "evaluate", "ci"]),
            "{}",
            schemas["TokenScope"]
        );
        for name in ["NewToken", "TokenInfo"] {
            assert_eq!(
                schemas[name]["properties"]["scopes"]["items"]["$ref"],
                "#/components/schemas/TokenScope",
                "{name}: {}",
                schemas[name]
            );
        }
        assert!(
            !schemas["NewToken"]["required"]
                .as_array()
                .expect("required")
                .contains(&json!("scopes"))
        );
        // The routes a `ci` token may call name it as a second way in; the others do not.
        let security = |path: &str, method: &str| doc["paths"][path][method]["security"].clone();
        assert_eq!(
            security("/api/v1/changes", "post")[1],
            json!({ "ingest_token": ["ci"] })
        );
        assert_eq!(
            security("/api/v1/changes/{id}/transitions", "post")[1],
            json!({ "ingest_token": ["ci"] })
        );
        for (path, method) in [
            ("/api/v1/tokens", "post"),
            ("/api/v1/changes/{id}/approvals", "post"),
        ] {
            assert_eq!(
                security(path, method).as_array().map(Vec::len),
                Some(1),
                "{path}"
            );
        }
    })
    .await;
}

/// `POST` to an OFREP evaluation route with `secret` for `targetingKey` `u1`.
async fn evaluate(app: &TestApp, uri: &str, secret: &str) -> common::TestResponse {
    let req = Request::post(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {secret}"))
        .body(Body::from(
            json!({ "context": { "targetingKey": "u1" } }).to_string(),
        ))
        .expect("request");
    app.anonymous(req).await
}

#[tokio::test]
async fn a_token_limited_to_some_changes_reaches_only_them() {
    each_database(|app| async move {
        let mut ids = Vec::new();
        let mut keys = Vec::new();
        for _ in 0..3 {
            let detail = app.create(&common::new_change()).await;
            ids.push(common::id_of(&detail));
            keys.push(detail["change"]["flag_key"].as_str().unwrap().to_owned());
        }
        let (a, b, c) = (&ids[0], &ids[1], &ids[2]);
        let created = create_with(
            &app,
            json!({ "name": "checkout", "scopes": ["evaluate", "ingest"], "change_ids": [b, a] }),
        )
        .await;
        // Ids are listed in order (UUIDv7: creation order); one change would also be `change_id`.
        assert_eq!(created["change_ids"], json!([a, b]));
        assert!(created["change_id"].is_null(), "{created}");
        let secret = created["secret"].as_str().unwrap().to_owned();
        let id = created["id"].as_str().unwrap().to_owned();

        // The list shows the limit; a change's list has the tokens that reach it.
        let listed = |query: String| {
            let app = app.clone();
            async move {
                let all = app.get(&format!("/api/v1/tokens{query}")).await.json();
                all.as_array().expect("list").clone()
            }
        };
        let all = listed(String::new()).await;
        assert_eq!(all[0]["change_ids"], json!([a, b]));
        assert_eq!(listed(format!("?change_id={b}")).await.len(), 1);
        assert_eq!(
            listed(format!("?change_id={a}")).await[0]["id"],
            id.as_str()
        );
        assert!(listed(format!("?change_id={c}")).await.is_empty());

        // Evaluation sees their flags only; the third is not found.
        let flags = "/ofrep/v1/evaluate/flags";
        for key in &keys[..2] {
            let res = evaluate(&app, &format!("{flags}/{key}"), &secret).await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        }
        let res = evaluate(&app, &format!("{flags}/{}", keys[2]), &secret).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text());
        assert_eq!(res.json()["errorCode"], "FLAG_NOT_FOUND");
        let bulk = evaluate(&app, flags, &secret).await.json();
        let mut seen: Vec<&str> = bulk["flags"]
            .as_array()
            .expect("flags")
            .iter()
            .map(|f| f["key"].as_str().unwrap())
            .collect();
        seen.sort_unstable();
        let mut want = vec![keys[0].as_str(), keys[1].as_str()];
        want.sort_unstable();
        assert_eq!(seen, want);

        // Ingestion is held to the same changes.
        let auth = format!("Bearer {secret}");
        for change in [a, b] {
            let res = app.anonymous(ingest_request(change, Some(&auth))).await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        }
        let res = app.anonymous(ingest_request(c, Some(&auth))).await;
        res.assert_error(StatusCode::FORBIDDEN, "forbidden", None);

        // A token of one change names it both ways.
        let one = create_with(&app, json!({ "name": "one", "change_ids": [c] })).await;
        assert_eq!(
            (&one["change_id"], &one["change_ids"]),
            (&json!(c), &json!([c]))
        );
    })
    .await;
}

#[tokio::test]
async fn bad_change_limits_are_named_and_nothing_is_stored() {
    each_database(|app| async move {
        let a = app.create_default().await;
        let cases = [
            (
                json!({ "name": "x", "change_ids": [a, "nope"] }),
                "change_ids[1]",
            ),
            (json!({ "name": "x", "change_ids": [] }), "change_ids"),
            (
                json!({ "name": "x", "change_ids": [a, a] }),
                "change_ids[1]",
            ),
            (
                json!({ "name": "x", "change_ids": [a, " "] }),
                "change_ids[1]",
            ),
            (
                json!({ "name": "x", "change_id": a, "change_ids": [a] }),
                "change_ids",
            ),
            (json!({ "name": "x", "change_ids": "all" }), "change_ids"),
        ];
        for (body, field) in cases {
            let res = app.post("/api/v1/tokens", &body).await;
            res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation", Some(field));
        }
        assert_eq!(app.get("/api/v1/tokens").await.json(), json!([]));
        let stored: i64 = sqlx::query("SELECT COUNT(*) FROM ingest_token_changes")
            .fetch_one(&app.pool)
            .await
            .expect("count")
            .get(0);
        assert_eq!(stored, 0);
    })
    .await;
}

/// A token the previous release wrote has its change in the old column only: it stays held
/// to that change, for ingestion and in the list.
#[tokio::test]
async fn a_token_of_the_previous_release_keeps_its_change() {
    each_database(|app| async move {
        let change = app.create_default().await;
        let other = app.create_default().await;
        let secret = format!("rg_ing_{}", "C".repeat(43));
        sqlx::query(
            "INSERT INTO ingest_tokens (id, name, change_id, prefix, secret_sha256, created_by, \
             created_at, scopes, scope) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind("old-token")
        .bind("old app")
        .bind(change.as_str())
        .bind("rg_ing_CCCCC")
        .bind(rollgate::db::tokens::hash(&secret))
        .bind("admin@example.com")
        .bind("2025-01-01T00:00:00.000000Z")
        .bind("ingest")
        .bind("ingest")
        .execute(&app.pool)
        .await
        .expect("insert");
        let listed = app
            .get(&format!("/api/v1/tokens?change_id={change}"))
            .await
            .json();
        assert_eq!(listed[0]["change_ids"], json!([change]));
        assert_eq!(listed[0]["change_id"], json!(change));
        let auth = format!("Bearer {secret}");
        let res = app.anonymous(ingest_request(&change, Some(&auth))).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let res = app.anonymous(ingest_request(&other, Some(&auth))).await;
        res.assert_error(StatusCode::FORBIDDEN, "forbidden", None);
    })
    .await;
}

/// `req` sent with `Authorization: Bearer secret` and a JSON body.
async fn as_token(
    app: &TestApp,
    secret: &str,
    method: axum::http::Method,
    uri: &str,
    body: &Value,
) -> common::TestResponse {
    app.anonymous(
        Request::builder()
            .method(method)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {secret}"))
            .body(Body::from(body.to_string()))
            .expect("request"),
    )
    .await
}

#[tokio::test]
async fn a_ci_token_drives_a_change_as_itself_and_never_signs_or_manages() {
    use axum::http::Method;
    each_database(|app| async move {
        let ci = create_with(&app, json!({ "name": "deploy", "scopes": ["ci"] })).await;
        let secret = ci["secret"].as_str().expect("secret").to_owned();

        // It creates a change; the audit log names the token.
        let res = as_token(
            &app,
            &secret,
            Method::POST,
            "/api/v1/changes",
            &common::new_change(),
        )
        .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let id = common::id_of(&res.json());
        let actor: String = sqlx::query(
            "SELECT actor FROM audit_log WHERE object_id = $1 AND action = 'change.create'",
        )
        .bind(&id)
        .fetch_one(&app.pool)
        .await
        .expect("audit row")
        .get(0);
        assert_eq!(actor, "token:deploy");

        // It advances (once people signed the gate) and the history names it.
        let advance = app
            .with_revision(&id, &json!({ "action": "advance" }))
            .await;
        app.sign_off_for(&id, &advance).await;
        let transitions = format!("/api/v1/changes/{id}/transitions");
        let res = as_token(&app, &secret, Method::POST, &transitions, &advance).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let history = res.json()["history"].clone();
        assert_eq!(history[0]["actor"], "token:deploy", "{history}");

        // Skipping is an admin's; signing a gate and managing anything is a person's.
        let skip = app
            .with_revision(&id, &json!({ "action": "skip", "reason": "in a hurry" }))
            .await;
        let res = as_token(&app, &secret, Method::POST, &transitions, &skip).await;
        res.assert_error(StatusCode::FORBIDDEN, "forbidden", None);
        for (method, uri, body) in [
            (
                Method::POST,
                "/api/v1/tokens".to_owned(),
                json!({ "name": "more" }),
            ),
            (Method::GET, "/api/v1/tokens".to_owned(), json!({})),
            (Method::POST, "/api/v1/users".to_owned(), json!({})),
            (Method::PUT, "/api/v1/policies".to_owned(), json!({})),
            (Method::POST, "/api/v1/teams".to_owned(), json!({})),
            (Method::GET, "/api/v1/audit".to_owned(), json!({})),
            (
                Method::POST,
                format!("/api/v1/changes/{id}/approvals"),
                json!({ "decision": "approve" }),
            ),
            (
                Method::POST,
                format!("/api/v1/changes/{id}/notices"),
                json!({}),
            ),
            (Method::GET, "/api/v1/session".to_owned(), json!({})),
        ] {
            let res = as_token(&app, &secret, method.clone(), &uri, &body).await;
            assert_eq!(
                res.status,
                StatusCode::FORBIDDEN,
                "{method} {uri}: {}",
                res.text()
            );
        }
        let tokens: i64 = sqlx::query("SELECT COUNT(*) FROM ingest_tokens")
            .fetch_one(&app.pool)
            .await
            .expect("count")
            .get(0);
        assert_eq!(tokens, 1);

        // Rolling back is an engineer's, so the token's.
        let back = app
            .with_revision(
                &id,
                &json!({ "action": "roll_back", "reason": "eval regressed" }),
            )
            .await;
        let res = as_token(&app, &secret, Method::POST, &transitions, &back).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(
            res.json()["change"]["state"],
            json!({ "stage": "rolled_back" })
        );

        // A revoked token stops at once.
        let revoke = format!("/api/v1/tokens/{}", ci["id"].as_str().expect("id"));
        let res = app.send(Method::DELETE, &revoke, &json!({})).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let res = as_token(
            &app,
            &secret,
            Method::GET,
            &format!("/api/v1/changes/{id}"),
            &json!({}),
        )
        .await;
        res.assert_error(StatusCode::UNAUTHORIZED, "unauthorized", None);
    })
    .await;
}

#[tokio::test]
async fn a_ci_token_limited_to_a_change_acts_only_on_it() {
    use axum::http::Method;
    each_database(|app| async move {
        let mine = app.create_default().await;
        let other = app.create_default().await;
        let ci = create_with(
            &app,
            json!({ "name": "deploy", "scopes": ["ci"], "change_id": mine }),
        )
        .await;
        let secret = ci["secret"].as_str().expect("secret").to_owned();
        let res = as_token(
            &app,
            &secret,
            Method::GET,
            &format!("/api/v1/changes/{mine}"),
            &json!({}),
        )
        .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        for (method, uri) in [
            (Method::GET, format!("/api/v1/changes/{other}")),
            (Method::POST, format!("/api/v1/changes/{other}/transitions")),
            (Method::POST, "/api/v1/changes".to_owned()),
        ] {
            let res = as_token(&app, &secret, method.clone(), &uri, &common::new_change()).await;
            res.assert_error(StatusCode::FORBIDDEN, "forbidden", None);
        }
        let (changes, _) = app.counts().await;
        assert_eq!(changes, 2);
    })
    .await;
}
