//! `/api/v1/changes`: create, read, list, edit, and every kind of bad input.

mod common;

use axum::http::{Method, StatusCode, header};
use common::{each_database, id_of, json_request, new_change, raw_request, update_of};
use serde_json::{Value, json};

fn with(mut body: Value, path: &[&str], value: Value) -> Value {
    let mut target = &mut body;
    for key in &path[..path.len() - 1] {
        target = match key.parse::<usize>() {
            Ok(i) => &mut target[i],
            Err(_) => &mut target[*key],
        };
    }
    target[path[path.len() - 1]] = value;
    body
}

#[tokio::test]
async fn create_returns_a_draft() {
    each_database(|app| async move {
        let res = app.post("/api/v1/changes", &new_change()).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let detail = res.json();
        let change = &detail["change"];
        let id = id_of(&detail);
        assert_eq!(
            res.header(header::LOCATION),
            Some(format!("/api/v1/changes/{id}").as_str())
        );
        assert_eq!(change["title"], "Shorter system prompt for billing answers");
        assert_eq!(change["state"], json!({ "stage": "draft" }));
        assert_eq!(change["revision"], 1);
        assert_eq!(change["traffic_percent"], 0.0);
        assert_eq!(change["plan"]["template"], "standard");
        assert_eq!(change["created_at"], change["updated_at"]);
        assert!(
            change["created_at"]
                .as_str()
                .is_some_and(|t| t.ends_with('Z')),
            "{change}"
        );
        assert_eq!(detail["history"], json!([]));
        assert_eq!(app.counts().await, (1, 0));

        let res = app.get(&format!("/api/v1/changes/{id}")).await;
        assert_eq!(res.status, StatusCode::OK);
        assert_eq!(res.json(), detail);
    })
    .await;
}

#[tokio::test]
async fn create_takes_a_template_or_a_plan() {
    each_database(|app| async move {
        let d = app
            .create(&with(new_change(), &["template"], json!("model_upgrade")))
            .await;
        assert_eq!(d["change"]["plan"]["template"], "model_upgrade");
        assert_eq!(d["change"]["plan"]["canary"]["percent"], 1.0);

        let templates = app.get("/api/v1/templates").await.json();
        let mut plan = templates[2]["plan"].clone();
        plan["canary"]["percent"] = json!(2.5);
        let d = app
            .create(&with(new_change(), &["plan"], plan.clone()))
            .await;
        assert_eq!(d["change"]["plan"], plan);
        assert_eq!(app.counts().await, (2, 0));
    })
    .await;
}

#[tokio::test]
async fn unknown_change_is_404() {
    each_database(|app| async move {
        for uri in [
            "/api/v1/changes/0193c3c4-7f5e-7000-8000-000000000000",
            "/api/v1/changes/not-an-id",
        ] {
            app.rejects(
                raw_request(Method::GET, uri, None, ""),
                StatusCode::NOT_FOUND,
                "not_found",
                None,
            )
            .await;
        }
        let update = with(
            update_of(&json!({ "change": new_change() })),
            &["revision"],
            json!(1),
        );
        let update = with(
            update,
            &["plan"],
            app.get("/api/v1/templates").await.json()[0]["plan"].clone(),
        );
        app.rejects(
            json_request(Method::PUT, "/api/v1/changes/nope", &update),
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        )
        .await;
    })
    .await;
}

/// Every way a body can be wrong, on create: a JSON error naming the problem, nothing stored.
#[tokio::test]
async fn bad_bodies_are_refused_and_nothing_is_stored() {
    each_database(|app| async move {
        app.create_default().await;
        let uri = "/api/v1/changes";
        let json = |body: Value| json_request(Method::POST, uri, &body);
        let raw =
            |ct: Option<&str>, body: &str| raw_request(Method::POST, uri, ct, body.to_owned());
        let bad = StatusCode::BAD_REQUEST;
        let invalid = StatusCode::UNPROCESSABLE_ENTITY;

        // Not JSON at all.
        for body in ["{", "", "{\"title\": }", "not json", "{} {}"] {
            app.rejects(
                raw(Some("application/json"), body),
                bad,
                "malformed_json",
                None,
            )
            .await;
        }
        // Content type missing or wrong.
        let body = new_change().to_string();
        for ct in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
        ] {
            app.rejects(
                raw(ct, &body),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                None,
            )
            .await;
        }
        // Too large.
        let huge = with(
            new_change(),
            &["expected_changes"],
            json!("x".repeat(300 * 1024)),
        );
        app.rejects(
            json(huge),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            None,
        )
        .await;
        // Wrong types, missing, unknown fields, unknown enum values: named by path.
        let cases: Vec<(Value, &str)> = vec![
            (with(new_change(), &["title"], json!(5)), "title"),
            (with(new_change(), &["kind"], json!("database")), "kind"),
            (with(new_change(), &["risk"], json!(null)), "risk"),
            (with(new_change(), &["colour"], json!("blue")), "colour"),
            (
                {
                    let mut b = new_change();
                    b.as_object_mut().map(|o| o.remove("owner"));
                    b
                },
                "owner",
            ),
            (
                with(new_change(), &["plan"], json!({ "template": "standard" })),
                "plan.eval_gate",
            ),
            (with(new_change(), &["template"], json!("yolo")), "template"),
        ];
        for (body, field) in cases {
            app.rejects(json(body), invalid, "validation", Some(field))
                .await;
        }
        let mut plan = app.get("/api/v1/templates").await.json()[0]["plan"].clone();
        plan["ramp"][1]["percent"] = json!("fifty");
        app.rejects(
            json(with(new_change(), &["plan"], plan.clone())),
            invalid,
            "validation",
            Some("plan.ramp[1].percent"),
        )
        .await;
        plan["ramp"][1]["percent"] = json!(25.0);
        plan["canary"]["surprise"] = json!(true);
        app.rejects(
            json(with(new_change(), &["plan"], plan.clone())),
            invalid,
            "validation",
            Some("plan.canary.surprise"),
        )
        .await;
        // A JSON value that is not an object.
        app.rejects(json(json!([1, 2])), invalid, "validation", None)
            .await;
        // Well-formed but breaking the rules of `shared::validate`.
        plan["canary"].as_object_mut().map(|o| o.remove("surprise"));
        plan["canary"]["percent"] = json!(10.0);
        let cases: Vec<(Value, &str)> = vec![
            (with(new_change(), &["title"], json!("   ")), "title"),
            (with(new_change(), &["owner"], json!("")), "owner"),
            (
                with(new_change(), &["product_area"], json!("x".repeat(61))),
                "product_area",
            ),
            (
                with(new_change(), &["product_area"], json!("Billing\nchat")),
                "product_area",
            ),
            (
                with(new_change(), &["candidate"], json!("gpt-x")),
                "candidate",
            ),
            (with(new_change(), &["plan"], plan), "plan.canary.percent"),
        ];
        for (body, field) in cases {
            app.rejects(json(body), invalid, "validation", Some(field))
                .await;
        }
        // A signed-in write without the session's CSRF token.
        let mut req = app.session(common::OWNER).sign(json(new_change()));
        req.headers_mut().remove("x-csrf-token");
        app.rejects(req, StatusCode::FORBIDDEN, "csrf", None).await;
        assert_eq!(app.counts().await, (1, 0));
    })
    .await;
}

#[tokio::test]
async fn list_is_newest_first_filtered_and_paged() {
    each_database(|app| async move {
        let mut ids = Vec::new();
        for (i, kind) in ["prompt", "model", "prompt", "tool", "prompt"]
            .iter()
            .enumerate()
        {
            let body = with(
                with(new_change(), &["kind"], json!(kind)),
                &["title"],
                json!(format!("Change {i}")),
            );
            ids.push(id_of(&app.create(&body).await));
        }
        app.transition(&ids[1], &json!({ "action": "advance" }))
            .await;
        app.transition(&ids[2], &json!({ "action": "advance" }))
            .await;

        let page = app.get("/api/v1/changes").await.json();
        assert_eq!(page["total"], 5);
        assert_eq!(page["page"], 1);
        assert_eq!(page["per_page"], 20);
        let listed: Vec<&str> = page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|c| c["id"].as_str().unwrap_or_default())
            .collect();
        let newest_first: Vec<&str> = ids.iter().rev().map(String::as_str).collect();
        assert_eq!(listed, newest_first);
        assert_eq!(page["items"][0]["state_label"], "Draft");
        assert_eq!(page["items"][0]["title"], "Change 4");

        let titles = |page: &Value| -> Vec<String> {
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|c| c["title"].as_str().unwrap_or_default().to_owned())
                .collect()
        };
        let page = app.get("/api/v1/changes?state=eval").await.json();
        assert_eq!(
            (page["total"].clone(), titles(&page)),
            (json!(2), vec!["Change 2".to_owned(), "Change 1".to_owned()])
        );
        assert_eq!(page["items"][0]["state_label"], "Eval gate");
        let page = app.get("/api/v1/changes?kind=prompt").await.json();
        assert_eq!(titles(&page), ["Change 4", "Change 2", "Change 0"]);
        let page = app
            .get("/api/v1/changes?kind=prompt&state=draft")
            .await
            .json();
        assert_eq!(titles(&page), ["Change 4", "Change 0"]);
        let page = app.get("/api/v1/changes?kind=architecture").await.json();
        assert_eq!(
            (page["total"].clone(), page["items"].clone()),
            (json!(0), json!([]))
        );
        // Empty values mean "any".
        let page = app
            .get("/api/v1/changes?state=&kind=&page=&per_page=")
            .await
            .json();
        assert_eq!(page["total"], 5);

        let page = app.get("/api/v1/changes?per_page=2").await.json();
        assert_eq!(titles(&page), ["Change 4", "Change 3"]);
        let page = app.get("/api/v1/changes?per_page=2&page=3").await.json();
        assert_eq!(
            (page["total"].clone(), titles(&page)),
            (json!(5), vec!["Change 0".to_owned()])
        );
        let page = app.get("/api/v1/changes?per_page=2&page=4").await.json();
        assert_eq!(page["items"], json!([]));
        let page = app.get("/api/v1/changes?per_page=200").await.json();
        assert_eq!(page["per_page"], 200);
        let page = app.get("/api/v1/changes?page=10000").await.json();
        assert_eq!(page["items"], json!([]));

        for (query, field) in [
            ("state=paused", "state"),
            ("kind=database", "kind"),
            ("page=0", "page"),
            ("page=abc", "page"),
            ("page=-1", "page"),
            ("per_page=0", "per_page"),
            ("per_page=201", "per_page"),
            ("page=10001", "page"),
            ("page=4294967296", "page"),
        ] {
            app.rejects(
                raw_request(Method::GET, &format!("/api/v1/changes?{query}"), None, ""),
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                Some(field),
            )
            .await;
        }
    })
    .await;
}

#[tokio::test]
async fn drafts_can_be_edited() {
    each_database(|app| async move {
        let detail = app.create(&new_change()).await;
        let id = id_of(&detail);
        let mut edit = update_of(&detail);
        edit["title"] = json!("Shorter billing answers, take two");
        edit["risk"] = json!("high");
        edit["plan"]["canary"]["percent"] = json!(2.0);
        let res = app.put(&format!("/api/v1/changes/{id}"), &edit).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let after = res.json();
        assert_eq!(
            after["change"]["title"],
            "Shorter billing answers, take two"
        );
        assert_eq!(after["change"]["risk"], "high");
        assert_eq!(after["change"]["plan"]["canary"]["percent"], 2.0);
        assert_eq!(after["change"]["revision"], 2);
        assert_eq!(
            after["change"]["created_at"],
            detail["change"]["created_at"]
        );
        assert_eq!(
            app.get(&format!("/api/v1/changes/{id}")).await.json(),
            after
        );
        assert_eq!(app.counts().await, (1, 0));
    })
    .await;
}

#[tokio::test]
async fn the_product_area_is_set_trimmed_and_cleared() {
    each_database(|app| async move {
        let detail = app.create(&new_change()).await;
        assert_eq!(detail["change"]["product_area"], Value::Null);
        let id = id_of(&detail);
        let uri = format!("/api/v1/changes/{id}");
        let mut edit = update_of(&detail);
        edit["product_area"] = json!("  Billing chat ");
        let res = app.put(&uri, &edit).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(res.json()["change"]["product_area"], "Billing chat");
        assert_eq!(
            app.get(&uri).await.json()["change"]["product_area"],
            "Billing chat"
        );
        let mut edit = update_of(&res.json());
        edit["product_area"] = json!("   ");
        let res = app.put(&uri, &edit).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(res.json()["change"]["product_area"], Value::Null);

        let mut body = new_change();
        body["product_area"] = json!("Returns");
        let created = app.create(&body).await;
        assert_eq!(created["change"]["product_area"], "Returns");
    })
    .await;
}

#[tokio::test]
async fn stale_edits_are_refused() {
    each_database(|app| async move {
        let detail = app.create(&new_change()).await;
        let id = id_of(&detail);
        let uri = format!("/api/v1/changes/{id}");
        let first = update_of(&detail);
        let res = app.put(&uri, &first).await;
        assert_eq!(res.status, StatusCode::OK);
        // The same edit again is now based on revision 1 while the change is at 2.
        let res = app
            .rejects(
                json_request(
                    Method::PUT,
                    &uri,
                    &with(first, &["title"], json!("Lost update")),
                ),
                StatusCode::CONFLICT,
                "conflict",
                None,
            )
            .await;
        assert!(
            res.message().contains("current revision is 2"),
            "{}",
            res.message()
        );
        let now = app.get(&uri).await.json();
        assert_eq!(now["change"]["revision"], 2);
        assert_eq!(now["change"]["title"], detail["change"]["title"]);
    })
    .await;
}

#[tokio::test]
async fn the_plan_is_frozen_once_the_rollout_starts() {
    each_database(|app| async move {
        let detail = app.create(&new_change()).await;
        let id = id_of(&detail);
        let uri = format!("/api/v1/changes/{id}");
        let started = app.transition(&id, &json!({ "action": "advance" })).await;
        let started_at = started["history"][0]["at"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let mut edit = update_of(&started);
        edit["plan"]["canary"]["percent"] = json!(1.0);
        let res = app
            .rejects(
                json_request(Method::PUT, &uri, &edit),
                StatusCode::CONFLICT,
                "frozen",
                None,
            )
            .await;
        let message = res.message();
        assert!(
            message.starts_with("the plan is frozen: the rollout started at "),
            "{message}"
        );
        assert!(message.contains(&started_at), "{message}");
        let now = app.get(&uri).await.json();
        assert_eq!(now, started);
    })
    .await;
}

#[tokio::test]
async fn bad_edits_are_refused() {
    each_database(|app| async move {
        let detail = app.create(&new_change()).await;
        let id = id_of(&detail);
        let uri = format!("/api/v1/changes/{id}");
        let edit = update_of(&detail);
        let invalid = StatusCode::UNPROCESSABLE_ENTITY;
        let cases: Vec<(Value, &str)> = vec![
            (with(edit.clone(), &["revision"], json!("one")), "revision"),
            (with(edit.clone(), &["title"], json!("")), "title"),
            (
                with(edit.clone(), &["product_area"], json!(7)),
                "product_area",
            ),
            (
                with(edit.clone(), &["template"], json!("standard")),
                "template",
            ),
            (
                with(
                    edit.clone(),
                    &["plan", "ramp"],
                    json!([{ "percent": 50, "min_duration_hours": 1 }]),
                ),
                "plan.ramp[0].percent",
            ),
            (
                {
                    let mut e = edit.clone();
                    e.as_object_mut().map(|o| o.remove("plan"));
                    e
                },
                "plan",
            ),
        ];
        for (body, field) in cases {
            app.rejects(
                json_request(Method::PUT, &uri, &body),
                invalid,
                "validation",
                Some(field),
            )
            .await;
        }
        app.rejects(
            raw_request(
                Method::PUT,
                &uri,
                Some("application/json"),
                "{\"revision\": 1,",
            ),
            StatusCode::BAD_REQUEST,
            "malformed_json",
            None,
        )
        .await;
        app.rejects(
            raw_request(Method::PUT, &uri, None, edit.to_string()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            None,
        )
        .await;
        let huge = with(
            edit.clone(),
            &["expected_changes"],
            json!("x".repeat(300 * 1024)),
        );
        app.rejects(
            json_request(Method::PUT, &uri, &huge),
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            None,
        )
        .await;
        assert_eq!(app.get(&uri).await.json(), detail);
    })
    .await;
}

/// U+0000 cannot be stored in PostgreSQL's text; wherever it comes (a JSON field at any depth,
/// a query parameter, a path parameter) the answer is a 422 naming where, not a 500.
#[tokio::test]
async fn nul_characters_are_refused_naming_the_field() {
    each_database(|app| async move {
        let id = app.create_default().await;
        let invalid = StatusCode::UNPROCESSABLE_ENTITY;
        let login = raw_request(
            Method::POST,
            "/api/v1/session",
            Some("application/json"),
            r#"{"email":"a\u0000@b.c","password":"x"}"#,
        );
        let res = app.anonymous(login).await;
        res.assert_error(invalid, "validation", Some("email"));
        for (body, field) in [
            (with(new_change(), &["title"], json!("a\u{0}b")), "title"),
            (
                with(
                    new_change(),
                    &["candidate", "prompt_version"],
                    json!("v\u{0}"),
                ),
                "candidate.prompt_version",
            ),
        ] {
            app.rejects(
                json_request(Method::POST, "/api/v1/changes", &body),
                invalid,
                "validation",
                Some(field),
            )
            .await;
        }
        let edit = with(
            update_of(&app.get(&format!("/api/v1/changes/{id}")).await.json()),
            &["owner"],
            json!("\u{0}"),
        );
        app.rejects(
            json_request(Method::PUT, &format!("/api/v1/changes/{id}"), &edit),
            invalid,
            "validation",
            Some("owner"),
        )
        .await;
        for (uri, field) in [
            ("/api/v1/changes?state=draft%00", "state"),
            ("/api/v1/audit?actor=a%00b", "actor"),
            ("/api/v1/changes/abc%00def", "id"),
        ] {
            app.rejects(
                raw_request(Method::GET, uri, None, ""),
                invalid,
                "validation",
                Some(field),
            )
            .await;
        }
        // A backslash before `u0000` is text, not a NUL.
        let body = with(new_change(), &["title"], json!("C:\\u0000 drive"));
        let res = app.post("/api/v1/changes", &body).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    })
    .await;
}
