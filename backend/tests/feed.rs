//! `GET /api/v1/feed`: what is live or changed lately, filtered by words, area and audience,
//! and replayed at an earlier moment from the transition history.

mod common;

use axum::http::StatusCode;
use common::each_database;
use serde_json::{Value, json};

fn titles(feed: &Value) -> Vec<String> {
    feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_feed_filters_and_replays_the_past() {
    each_database(|app| async move {
        let mut body = common::new_change();
        body["title"] = json!("Model upgrade for chat");
        body["product_area"] = json!("  Chat ");
        let live = common::id_of(&app.create(&body).await);
        app.transition(&live, &json!({"action": "advance"})).await; // eval
        app.transition(&live, &json!({"action": "advance"})).await; // canary, notice published
        app.transition(&live, &json!({"action": "advance"})).await; // ramp step 0
        // When the canary started, as the history has it (the test moved the history back by
        // the canary's minimum time to advance).
        let history = app.get(&format!("/api/v1/changes/{live}")).await.json()["history"].clone();
        let canary_at = history
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["to"] == json!({"stage": "canary"}))
            .unwrap()["at"]
            .as_str()
            .unwrap()
            .to_owned();

        let mut body = common::new_change();
        body["title"] = json!("New refusal policy");
        body["expected_changes"] = json!("More polite refusals.");
        let draft = common::id_of(&app.create(&body).await);

        let feed = app.get("/api/v1/feed").await;
        assert_eq!(feed.status, StatusCode::OK, "{}", feed.text());
        let feed = feed.json();
        assert_eq!(
            titles(&feed),
            ["New refusal policy", "Model upgrade for chat"]
        );
        let item = &feed["items"][1];
        assert_eq!(item["state"], json!({"stage": "ramp", "step": 0}));
        assert_eq!(item["traffic_percent"], 10.0);
        assert_eq!(item["product_area"], "Chat");
        assert_eq!(item["audiences"][0]["team_name"], "Support");
        assert_eq!(
            item["latest_notice"]["expected_changes"],
            "Shorter answers in Spanish."
        );
        assert_eq!(feed["items"][0]["traffic_percent"], 0.0);

        // Words in notices, in any case; area; audience by name.
        assert_eq!(
            titles(&app.get("/api/v1/feed?q=spanish").await.json()),
            ["Model upgrade for chat"]
        );
        assert_eq!(
            titles(&app.get("/api/v1/feed?q=REFUSAL").await.json()).len(),
            2,
            "title and talking points"
        );
        assert_eq!(
            titles(&app.get("/api/v1/feed?area=chat").await.json()),
            ["Model upgrade for chat"]
        );
        assert_eq!(
            titles(&app.get("/api/v1/feed?audience=support").await.json()),
            ["Model upgrade for chat"]
        );
        assert!(titles(&app.get("/api/v1/feed?audience=Marketing").await.json()).is_empty());

        // At the moment the canary started: canary, 5 %, since then.
        let feed = app
            .get(&format!(
                "/api/v1/feed?at={}",
                canary_at.replace(':', "%3A")
            ))
            .await;
        assert_eq!(feed.status, StatusCode::OK, "{}", feed.text());
        let feed = feed.json();
        let item = feed["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["change_id"] == live.as_str())
            .unwrap()
            .clone();
        assert_eq!(item["state"], json!({"stage": "canary"}));
        assert_eq!(item["traffic_percent"], 5.0);
        assert_eq!(item["since"], canary_at.as_str());
        assert!(
            feed["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["change_id"] != draft.as_str()),
            "the draft did not exist yet"
        );

        app.get("/api/v1/feed?at=yesterday").await.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("at"),
        );
        app.get("/api/v1/feed?days=0").await.assert_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("days"),
        );
    })
    .await;
}
