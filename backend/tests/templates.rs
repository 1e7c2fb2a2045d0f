//! `GET /api/v1/templates`.

mod common;

use axum::http::StatusCode;
use common::each_database;

#[tokio::test]
async fn lists_the_three_templates_with_their_plans() {
    each_database(|app| async move {
        let res = app.get("/api/v1/templates").await;
        assert_eq!(res.status, StatusCode::OK);
        let body = res.json();
        let items = body.as_array().expect("array");
        let names: Vec<&str> = items
            .iter()
            .map(|t| t["template"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(names, ["standard", "model_upgrade", "low_stakes"]);
        assert_eq!(items[1]["label"], "Model upgrade");
        assert_eq!(items[1]["plan"]["canary"]["percent"], 1.0);
        assert_eq!(
            items[1]["plan"]["checklist"].as_array().map(Vec::len),
            Some(7)
        );
        for t in items {
            assert_eq!(t["plan"]["template"], t["template"]);
        }
    })
    .await;
}
