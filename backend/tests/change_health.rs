//! Each change's health (`shared::health`), read from the report the gates judge: the change
//! list, the change and the approvals inbox carry it; approving a change in breach needs the
//! signer's `seen_breach`, stored with the approval (and refused without it, storing nothing);
//! a hold reads Held and the guardian's rollback reads as its own health. Also the list's
//! search (title, flag key, product area) and its sorts (title, health).

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use common::{TestApp, each_database, json_request, traffic};
use serde_json::{Value, json};
use shared::auth::Role;

/// The change `title` (in the product area `area`) at its 5 % canary, with an ingestion token.
async fn canary(app: &TestApp, title: &str, area: &str) -> (String, String) {
    let mut new = common::new_change();
    new["title"] = json!(title);
    new["product_area"] = json!(area);
    traffic::canary_of(app, new).await
}

/// One second of traffic since the canary started: mean cost 0.004 on control and
/// `0.004 × (1 + lift)` on the candidate, 19 000 and 1 000 requests.
async fn send_cost(app: &TestApp, id: &str, token: &str, lift: f64) {
    traffic::send_cost(app, id, token, 19_000, 1_000, lift).await;
}

async fn list(app: &TestApp, query: &str) -> Vec<Value> {
    let res = app.get(&format!("/api/v1/changes{query}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()["items"].as_array().cloned().expect("items")
}

fn titles(items: &[Value]) -> Vec<&str> {
    items
        .iter()
        .map(|c| c["title"].as_str().expect("title"))
        .collect()
}

fn health_of<'a>(items: &'a [Value], id: &str) -> &'a Value {
    &items
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("{id} not in {items:?}"))["health"]
}

async fn approvals(app: &TestApp) -> i64 {
    rollgate::db::approvals::count(&app.pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn a_breach_shows_everywhere_and_approving_it_needs_the_confirmation() {
    each_database(|app| async move {
        let (id, token) = canary(&app, "Shorter billing answers", "Billing chat").await;
        send_cost(&app, &id, &token, 0.30).await;

        let items = list(&app, "").await;
        let health = health_of(&items, &id);
        assert_eq!(health["kind"], "breach", "{health}");
        assert_eq!(health["reason"], "Cost per request breaches its limit");
        let detail = app.get(&format!("/api/v1/changes/{id}")).await.json();
        assert_eq!(&detail["health"], health);

        // The ramp's gate waits for an approver: it is in their inbox, with the breach.
        let alex = common::email_of(Role::Approver);
        let inbox = app
            .request_as(
                alex,
                Request::get("/api/v1/approvals")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .json();
        let entry = inbox["items"]
            .as_array()
            .and_then(|i| i.iter().find(|e| e["change_id"] == id))
            .cloned()
            .unwrap_or_else(|| panic!("not in the inbox: {inbox}"));
        assert_eq!(&entry["health"], health);

        // Approving without the confirmation: 422 naming it, nothing stored.
        let revision = detail["change"]["revision"].clone();
        let uri = format!("/api/v1/changes/{id}/approvals");
        let approve = json!({ "decision": "approve", "role": "approver", "revision": revision });
        let before = approvals(&app).await;
        let mut unconfirmed = approve.clone();
        for seen in [None, Some(false)] {
            if let Some(seen) = seen {
                unconfirmed["seen_breach"] = json!(seen);
            }
            let res = app
                .request_as(alex, json_request(Method::POST, &uri, &unconfirmed))
                .await;
            res.assert_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation",
                Some("seen_breach"),
            );
            assert!(
                res.message().contains("Cost per request"),
                "{}",
                res.message()
            );
        }
        assert_eq!(
            approvals(&app).await,
            before,
            "a refused approval was stored"
        );

        // A rejection needs no confirmation, and stores none.
        let jo = "jo@example.com";
        let reject = json!({ "decision": "reject", "role": "approver", "revision": revision,
                             "comment": "cost is up 30 %" });
        let res = app
            .request_as(jo, json_request(Method::POST, &uri, &reject))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(res.json()["rejections"][0]["seen_breach"], false);

        // Confirmed, the approval is stored with the confirmation, shown with its evidence.
        let mut confirmed = approve.clone();
        confirmed["seen_breach"] = json!(true);
        let res = app
            .request_as(alex, json_request(Method::POST, &uri, &confirmed))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let gate = res.json();
        let signed = gate["approvals"]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["user"]["email"] == alex))
            .cloned()
            .unwrap_or_else(|| panic!("no approval by {alex}: {gate}"));
        assert_eq!(signed["seen_breach"], true, "{signed}");
        assert_eq!(signed["evidence"]["overall"], "breach", "{signed}");
        let again = app.get(&format!("/api/v1/changes/{id}/gate")).await.json();
        assert_eq!(again["approvals"], gate["approvals"]);
        let audit = app
            .get(&format!(
                "/api/v1/audit?object_id={id}&action=approval.approve"
            ))
            .await;
        assert!(
            audit.text().contains("\"seen_breach\":true"),
            "{}",
            audit.text()
        );
    })
    .await;
}

#[tokio::test]
async fn without_a_breach_approving_needs_no_confirmation_and_stores_none() {
    each_database(|app| async move {
        let (id, token) = canary(&app, "Warmer onboarding answers", "Onboarding").await;
        send_cost(&app, &id, &token, 0.0).await;
        let detail = app.get(&format!("/api/v1/changes/{id}")).await.json();
        assert_ne!(detail["health"]["kind"], "breach", "{}", detail["health"]);
        let body = json!({ "decision": "approve", "role": "approver",
                           "revision": detail["change"]["revision"], "seen_breach": true });
        let res = app
            .request_as(
                common::email_of(Role::Approver),
                json_request(
                    Method::POST,
                    &format!("/api/v1/changes/{id}/approvals"),
                    &body,
                ),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        assert_eq!(res.json()["approvals"][0]["seen_breach"], false);
    })
    .await;
}

#[tokio::test]
async fn drafts_have_no_data_a_hold_is_held_and_the_guardians_rollback_is_its_own() {
    each_database(|app| async move {
        let draft = app.create_default().await;
        let items = list(&app, "").await;
        assert_eq!(
            health_of(&items, &draft),
            &json!({ "kind": "no_data", "reason": "not started" })
        );

        // A canary without windows has no data; paused, it is held.
        let (held, _) = canary(&app, "Held canary", "Search").await;
        let h = app.get(&format!("/api/v1/changes/{held}")).await.json()["health"].clone();
        assert_eq!(h["kind"], "no_data", "{h}");
        let pause = app
            .transition(
                &held,
                &json!({ "action": "pause", "reason": "waiting for legal" }),
            )
            .await;
        assert_eq!(pause["health"]["kind"], "held", "{}", pause["health"]);
        assert!(
            pause["health"]["reason"]
                .as_str()
                .is_some_and(|r| r.ends_with(": waiting for legal")),
            "{}",
            pause["health"]
        );

        // The guardian rolls a breach back: its own health, with its reason.
        let (breach, breach_token) = canary(&app, "Breaching canary", "Billing chat").await;
        send_cost(&app, &breach, &breach_token, 0.30).await;
        let acted = rollgate::guardian::sweep(&app.pool).await.expect("sweep");
        assert!(acted.iter().any(|a| a.change_id == breach), "{acted:?}");
        let h = app.get(&format!("/api/v1/changes/{breach}")).await.json()["health"].clone();
        assert_eq!(h["kind"], "rolled_back", "{h}");
        assert!(
            h["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("cost_per_request in all: +30.0%")),
            "{h}"
        );

        // A person's rollback is a decision taken: no longer live, no data.
        let (manual, _) = canary(&app, "Rolled back by hand", "Search").await;
        let d = app
            .transition(
                &manual,
                &json!({ "action": "roll_back", "reason": "wrong prompt" }),
            )
            .await;
        assert_eq!(d["health"]["kind"], "no_data", "{}", d["health"]);
        assert_eq!(
            d["health"]["reason"],
            format!("rolled back by {}", common::OWNER)
        );
    })
    .await;
}

#[tokio::test]
async fn the_list_searches_titles_flag_keys_and_areas_and_sorts_by_title_or_health() {
    each_database(|app| async move {
        let (breach, breach_token) = canary(&app, "Zesty billing prompt", "Billing chat").await;
        send_cost(&app, &breach, &breach_token, 0.30).await;
        let mut new = common::new_change();
        new["title"] = json!("Add order-lookup tool");
        new["product_area"] = json!("Returns 100%_off");
        let lookup = common::id_of(&app.create(&new).await);
        new["title"] = json!("Model upgrade for search");
        new["product_area"] = json!("Search");
        app.create(&new).await;

        // Newest first by default.
        let all = list(&app, "").await;
        assert_eq!(
            titles(&all),
            [
                "Model upgrade for search",
                "Add order-lookup tool",
                "Zesty billing prompt"
            ]
        );
        // Title words, ignoring case; a flag key; a product area.
        assert_eq!(
            titles(&list(&app, "?q=BILLING").await),
            ["Zesty billing prompt"]
        );
        let key = app.get(&format!("/api/v1/changes/{lookup}")).await.json()["change"]["flag_key"]
            .as_str()
            .expect("flag key")
            .to_owned();
        assert_eq!(
            titles(&list(&app, &format!("?q={key}")).await),
            ["Add order-lookup tool"]
        );
        assert_eq!(
            titles(&list(&app, "?q=search").await),
            ["Model upgrade for search"]
        );
        // LIKE's wildcards are plain characters in a search.
        assert_eq!(
            titles(&list(&app, "?q=100%25_off").await),
            ["Add order-lookup tool"]
        );
        assert!(list(&app, "?q=%25%25").await.is_empty());
        let page = app.get("/api/v1/changes?q=nothing-like-this").await.json();
        assert_eq!(page["total"], 0);

        // By title; by health, the breach first and newest first among equals.
        assert_eq!(
            titles(&list(&app, "?sort=title").await),
            [
                "Add order-lookup tool",
                "Model upgrade for search",
                "Zesty billing prompt"
            ]
        );
        let by_health = list(&app, "?sort=health").await;
        assert_eq!(
            titles(&by_health),
            [
                "Zesty billing prompt",
                "Model upgrade for search",
                "Add order-lookup tool"
            ]
        );
        assert_eq!(by_health[0]["health"]["kind"], "breach");
        // Pages are cut after sorting.
        let second = app
            .get("/api/v1/changes?sort=health&per_page=1&page=2")
            .await
            .json();
        assert_eq!(second["total"], 3);
        assert_eq!(
            titles(second["items"].as_array().unwrap()),
            ["Model upgrade for search"]
        );
        // Sorting and searching together.
        assert_eq!(
            titles(&list(&app, "?sort=health&q=o").await).len(),
            3,
            "every title holds an o"
        );

        // Bad input names the parameter.
        app.rejects(
            Request::get("/api/v1/changes?sort=oldest")
                .body(Body::empty())
                .unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("sort"),
        )
        .await;
        let long = "x".repeat(201);
        app.rejects(
            Request::get(format!("/api/v1/changes?q={long}"))
                .body(Body::empty())
                .unwrap(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("q"),
        )
        .await;
    })
    .await;
}
