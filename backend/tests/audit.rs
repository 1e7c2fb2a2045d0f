//! The audit log: a row for each kind of write, filters, the export, and who may read it;
//! plus the users admin API.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{each_database, json_request, new_change, update_of};
use serde_json::json;

#[tokio::test]
async fn every_write_leaves_an_audit_row() {
    each_database(|app| async move {
        let detail = app.create(&new_change()).await;
        let id = common::id_of(&detail);
        let res = app
            .put(&format!("/api/v1/changes/{id}"), &update_of(&detail))
            .await;
        assert_eq!(res.status, StatusCode::OK);
        let catalogue = app
            .get(&format!("/api/v1/changes/{id}/catalogue"))
            .await
            .json();
        let res = app
            .put(&format!("/api/v1/changes/{id}/catalogue"), &catalogue)
            .await;
        assert_eq!(res.status, StatusCode::OK);
        app.transition(&id, &json!({ "action": "advance" })).await;
        app.transition(&id, &json!({ "action": "advance" })).await; // signs the canary gate
        app.transition(&id, &json!({ "action": "roll_back", "reason": "errors" }))
            .await;
        let token = app
            .post("/api/v1/tokens", &json!({ "name": "t" }))
            .await
            .json();
        let tid = token["id"].as_str().unwrap();
        let revoke = Request::delete(format!("/api/v1/tokens/{tid}"))
            .body(Body::empty())
            .unwrap();
        assert_eq!(app.request(revoke).await.status, StatusCode::OK);
        let user = app
            .post(
                "/api/v1/users",
                &json!({ "email": "New@Example.com", "name": "New Person",
                         "roles": ["support"], "password": "twelve chars!" }),
            )
            .await;
        assert_eq!(user.status, StatusCode::CREATED, "{}", user.text());
        let uid = user.json()["id"].as_str().unwrap().to_owned();
        let res = app
            .put(
                &format!("/api/v1/users/{uid}"),
                &json!({ "name": "New P.", "roles": ["pm"], "disabled": true }),
            )
            .await;
        assert_eq!(res.json()["roles"], json!(["pm"]));
        let policies = app.get("/api/v1/policies").await.json();
        let res = app.put("/api/v1/policies", &policies).await;
        assert_eq!(res.status, StatusCode::OK);

        for (query, field) in [
            ("page=0", "page"),
            ("page=10001", "page"),
            ("per_page=0", "per_page"),
            ("per_page=201", "per_page"),
            ("per_page=500", "per_page"),
        ] {
            app.rejects(
                common::raw_request(Method::GET, &format!("/api/v1/audit?{query}"), None, ""),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                Some(field),
            )
            .await;
        }
        let page = app.get("/api/v1/audit?per_page=200").await.json();
        let actions: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for a in [
            "change.create",
            "change.update",
            "catalogue.update",
            "change.advance",
            "approval.approve",
            "change.roll_back",
            "token.create",
            "token.revoke",
            "user.create",
            "user.update",
            "policy.update",
        ] {
            assert!(actions.contains(&a), "{a} missing from {actions:?}");
        }
        // Actors are the signed-in users; edits carry before and after.
        let edits = app
            .get(&format!(
                "/api/v1/audit?action=change.update&object_id={id}"
            ))
            .await
            .json();
        assert_eq!(edits["total"], 1);
        let e = &edits["items"][0];
        assert_eq!(e["actor"], common::OWNER);
        assert_eq!(e["before"]["revision"], 1);
        assert_eq!(e["after"]["revision"], 1);
        let by_pat = app
            .get("/api/v1/audit?actor=PAT@example.com&action=approval.approve")
            .await
            .json();
        assert_eq!(by_pat["total"], 1);
        assert!(by_pat["items"][0]["after"]["evidence"].is_object());
        let user_edit = app.get("/api/v1/audit?action=user.update").await.json();
        assert_eq!(user_edit["items"][0]["before"]["disabled"], false);
        assert_eq!(user_edit["items"][0]["after"]["disabled"], true);
        // A disabled user cannot sign in.
        let res = app
            .anonymous(json_request(
                Method::POST,
                "/api/v1/session",
                &json!({ "email": "new@example.com", "password": "twelve chars!" }),
            ))
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    })
    .await;
}

#[tokio::test]
async fn the_export_is_csv_with_a_header_or_json_and_only_auditors_read_it() {
    each_database(|app| async move {
        let mut body = new_change();
        body["title"] = json!("Quotes \"and\", commas");
        app.create(&body).await;
        let res = app
            .get("/api/v1/audit/export?format=csv&action=change.create")
            .await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(
            res.header(header::CONTENT_TYPE),
            Some("text/csv; charset=utf-8")
        );
        let text = res.text();
        let mut lines = text.split("\r\n");
        assert_eq!(
            lines.next(),
            Some("id,at,actor_id,actor,action,object_type,object_id,before,after,address")
        );
        let row = lines.next().unwrap();
        // The JSON of the new change, quoted once for JSON and doubled for CSV.
        assert!(row.contains(r#"Quotes \""and\"", commas"#), "{row}");
        assert!(row.contains(",change.create,change,"), "{row}");
        let res = app
            .get("/api/v1/audit/export?format=json&action=change.create")
            .await;
        assert_eq!(res.json().as_array().unwrap().len(), 1);
        app.get("/api/v1/audit/export?format=xml")
            .await
            .assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                Some("format"),
            );
        app.get("/api/v1/audit?from=yesterday").await.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("from"),
        );
        for (email, status) in [
            ("erin@example.com", StatusCode::FORBIDDEN),
            ("sam@example.com", StatusCode::FORBIDDEN),
            ("pat@example.com", StatusCode::OK),
            ("alex@example.com", StatusCode::OK),
            ("admin@example.com", StatusCode::OK),
        ] {
            let req = Request::get("/api/v1/audit").body(Body::empty()).unwrap();
            assert_eq!(app.request_as(email, req).await.status, status, "{email}");
        }
        // No route edits or deletes the log.
        for m in [Method::PUT, Method::DELETE, Method::POST] {
            let res = app
                .request(json_request(m.clone(), "/api/v1/audit", &json!({})))
                .await;
            assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED, "{m}");
        }
    })
    .await;
}

#[tokio::test]
async fn users_are_unique_by_email_in_any_case() {
    each_database(|app| async move {
        let new = json!({ "email": "ERIN@example.com", "name": "Erin Again", "roles": ["pm"],
                          "password": "long enough password" });
        app.post("/api/v1/users", &new)
            .await
            .assert_error(StatusCode::CONFLICT, "conflict", None);
        let mut short = new.clone();
        short["email"] = json!("x@example.com");
        short["password"] = json!("short");
        app.post("/api/v1/users", &short).await.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("password"),
        );
        let mut bad = short.clone();
        bad["password"] = json!("long enough password");
        bad["roles"] = json!(["root"]);
        app.post("/api/v1/users", &bad).await.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("roles[0]"),
        );
        // Admins cannot lock themselves out.
        let me = app.session("admin@example.com").user_id.clone();
        let req = json_request(
            Method::PUT,
            &format!("/api/v1/users/{me}"),
            &json!({ "name": "Ada", "roles": ["pm"], "disabled": false }),
        );
        app.request_as("admin@example.com", req).await.assert_error(
            StatusCode::CONFLICT,
            "conflict",
            None,
        );
        let list = app.get("/api/v1/users").await.json();
        assert_eq!(list.as_array().unwrap().len(), common::USERS.len());
    })
    .await;
}

#[tokio::test]
async fn the_database_refuses_to_rewrite_the_audit_log() {
    each_database(|app| async move {
        app.create_default().await;
        let count = || async {
            sqlx::query("SELECT COUNT(*) FROM audit_log")
                .fetch_one(&app.pool)
                .await
                .map(|r| sqlx::Row::get::<i64, _>(&r, 0))
                .unwrap()
        };
        let before = count().await;
        assert!(before > 0);
        for sql in [
            "UPDATE audit_log SET actor = 'someone else'",
            "DELETE FROM audit_log",
        ] {
            let err = sqlx::query(sql)
                .execute(&app.pool)
                .await
                .expect_err(sql)
                .to_string();
            assert!(err.contains("the audit log is append-only"), "{sql}: {err}");
        }
        if app.backend == rollgate::db::Backend::Postgres {
            let err = sqlx::query("TRUNCATE audit_log")
                .execute(&app.pool)
                .await
                .expect_err("truncate")
                .to_string();
            assert!(err.contains("append-only"), "{err}");
        }
        assert_eq!(count().await, before);
        // Appending still works.
        app.create_default().await;
        assert!(count().await > before);
    })
    .await;
}
