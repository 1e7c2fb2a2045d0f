//! Changes at their canary and traffic sent to them through the real ingestion route.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};

use super::{TestApp, id_of};

/// `unix` seconds as the API writes times.
pub fn at(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map(rollgate::db::timestamp)
        .expect("time")
}

/// The change `new` (a creation body) at its 5 % canary, with an ingestion token for it.
pub async fn canary_of(app: &TestApp, new: Value) -> (String, String) {
    let id = id_of(&app.create(&new).await);
    app.transition(&id, &json!({ "action": "advance" })).await;
    let d = app.transition(&id, &json!({ "action": "advance" })).await;
    assert_eq!(d["change"]["state"], json!({ "stage": "canary" }));
    let res = app
        .post(
            "/api/v1/tokens",
            &json!({ "name": format!("traffic {}", rollgate::db::new_id()), "change_id": id }),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    (
        id,
        res.json()["secret"].as_str().expect("secret").to_owned(),
    )
}

/// One second of traffic after the canary started, ending now: `nc` control requests with
/// the `control` metrics and `nb` candidate requests with the `candidate` ones.
pub async fn second_of_traffic(
    (nc, control): (u64, Value),
    (nb, candidate): (u64, Value),
) -> Value {
    // Window times are whole seconds and may not lie in the future.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let end = time::OffsetDateTime::now_utc().unix_timestamp();
    let window = |variant: &str, n: u64, metrics: Value| {
        json!({
            "variant": variant,
            "segment": "all",
            "window_start": at(end - 1),
            "window_end": at(end),
            "requests": n,
            "metrics": metrics,
        })
    };
    json!({ "windows": [
        window("control", nc, control),
        window("candidate", nb, candidate),
    ] })
}

/// [`second_of_traffic`] of `cost_per_request` only: a mean cost of 0.004 on control and
/// `0.004 × (1 + lift)` on the candidate.
pub async fn cost_windows(control: u64, candidate: u64, lift: f64) -> Value {
    let cost = |n: u64, mean: f64| {
        json!({
            "cost_per_request": {
                "n": n,
                "sum": mean * n as f64,
                "sum_squares": (mean * mean + 0.001 * 0.001) * n as f64,
            },
        })
    };
    second_of_traffic(
        (control, cost(control, 0.004)),
        (candidate, cost(candidate, 0.004 * (1.0 + lift))),
    )
    .await
}

/// Reports the windows `body` for the change `id` with its ingestion `token`.
pub async fn send_windows(app: &TestApp, id: &str, token: &str, body: &Value) {
    let res = app
        .request(
            Request::post(format!("/api/v1/changes/{id}/metrics"))
                .header(header::CONTENT_TYPE, "application/json")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .body(Body::from(body.to_string()))
                .expect("request"),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
}

/// Sends [`cost_windows`] to the change `id` with its ingestion `token`.
pub async fn send_cost(
    app: &TestApp,
    id: &str,
    token: &str,
    control: u64,
    candidate: u64,
    lift: f64,
) {
    send_windows(
        app,
        id,
        token,
        &cost_windows(control, candidate, lift).await,
    )
    .await;
}
