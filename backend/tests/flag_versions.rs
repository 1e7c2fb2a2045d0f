//! A flag's chain of versions: once a change is finished (rolled back, or reviewed after
//! Full), a new change on its flag key is the flag's next version, starting from what the
//! flag serves; the key is the flag's current version everywhere (`?flag_key=`, the CLI, OFREP).

mod common;

use axum::http::{Method, StatusCode};
use common::{each_database, id_of, json_request, new_change, update_of};
use serde_json::{Value, json};

/// A new change on the flag `key`, with `baseline` if given.
fn on_flag(key: &str, title: &str, baseline: Option<Value>) -> Value {
    let mut body = new_change();
    body["title"] = json!(title);
    body["flag_key"] = json!(key);
    body["candidate"] = json!({ "prompt_version": title });
    match baseline {
        Some(b) => body["baseline"] = b,
        None => {
            body.as_object_mut().map(|m| m.remove("baseline"));
        }
    }
    body
}

fn titles(detail: &Value) -> Vec<String> {
    detail["versions"]
        .as_array()
        .map(|v| {
            v.iter()
                .map(|x| {
                    format!(
                        "{} ({})",
                        x["title"].as_str().unwrap_or(""),
                        x["state"]["stage"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn finished_changes_hand_their_flag_to_the_next_version() {
    each_database(|app| async move {
        let first = app.create_default().await;
        let d = app.get(&format!("/api/v1/changes/{first}")).await.json();
        let key = d["change"]["flag_key"].as_str().expect("key").to_owned();
        let baseline = d["change"]["baseline"].clone();

        // While the first is unfinished, its key is its own.
        app.rejects(
            json_request(
                Method::POST,
                "/api/v1/changes",
                &on_flag(&key, "second", None),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("flag_key"),
        )
        .await;

        // Rolled back from its canary: the next version starts from the baseline it went
        // back to.
        for _ in 0..2 {
            app.transition(&first, &json!({ "action": "advance" }))
                .await;
        }
        app.transition(
            &first,
            &json!({ "action": "roll_back", "reason": "hard errors rose" }),
        )
        .await;
        app.rejects(
            json_request(
                Method::POST,
                "/api/v1/changes",
                &on_flag(
                    &key,
                    "second",
                    Some(json!({ "prompt_version": "elsewhere" })),
                ),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("baseline"),
        )
        .await;
        let second = app.create(&on_flag(&key, "second", None)).await;
        assert_eq!(second["change"]["flag_key"], key.as_str());
        assert_eq!(second["change"]["baseline"], baseline, "{second}");
        assert_eq!(
            titles(&second),
            [
                "Shorter system prompt for billing answers (rolled_back)",
                "second (draft)"
            ]
        );
        let second = id_of(&second);

        // The key now finds the second: it is the flag's current version.
        let page = app
            .get(&format!("/api/v1/changes?flag_key={key}"))
            .await
            .json();
        assert_eq!(page["total"], 1, "{page}");
        assert_eq!(page["items"][0]["id"], second.as_str());

        // At Full the second is not finished; once reviewed, the third starts from its
        // candidate.
        for _ in 0..7 {
            app.transition(&second, &json!({ "action": "advance" }))
                .await;
        }
        let at_full = app.get(&format!("/api/v1/changes/{second}")).await.json();
        assert_eq!(at_full["change"]["state"]["stage"], "full", "{at_full}");
        app.rejects(
            json_request(
                Method::POST,
                "/api/v1/changes",
                &on_flag(&key, "third", None),
            ),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("flag_key"),
        )
        .await;
        let res = app
            .put(
                &format!("/api/v1/changes/{second}/review"),
                &json!({ "users_noticed": "nothing", "lessons": "none", "revision": 0 }),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        app.transition(&second, &json!({ "action": "advance" }))
            .await;
        let third = app
            .create(&on_flag(
                &key,
                "third",
                Some(json!({ "prompt_version": "second" })),
            ))
            .await;
        assert_eq!(titles(&third).len(), 3, "{third}");
        let third = id_of(&third);

        // Every version lists the chain, oldest first.
        let d = app.get(&format!("/api/v1/changes/{first}")).await.json();
        assert_eq!(
            titles(&d),
            [
                "Shorter system prompt for billing answers (rolled_back)",
                "second (reviewed)",
                "third (draft)"
            ]
        );

        // Another draft cannot take the key while the third is unfinished, by edit either.
        let other = app.create_default().await;
        let d = app.get(&format!("/api/v1/changes/{other}")).await.json();
        let mut edit = update_of(&d);
        edit["flag_key"] = json!(key);
        edit["baseline"] = json!({ "prompt_version": "second" });
        app.rejects(
            json_request(Method::PUT, &format!("/api/v1/changes/{other}"), &edit),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation",
            Some("flag_key"),
        )
        .await;
        let page = app
            .get(&format!("/api/v1/changes?flag_key={key}"))
            .await
            .json();
        assert_eq!(page["items"][0]["id"], third.as_str());

        // OFREP serves the current version: the third, a draft, serves its baseline, which is
        // what the reviewed second shipped.
        let res = app
            .post(
                "/api/v1/tokens",
                &json!({ "name": "billing-api", "scopes": ["evaluate"] }),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        let secret = res.json()["secret"].as_str().expect("secret").to_owned();
        let res = app
            .anonymous(
                axum::http::Request::post(format!("/ofrep/v1/evaluate/flags/{key}"))
                    .header("content-type", "application/json")
                    .header("authorization", format!("Bearer {secret}"))
                    .body(axum::body::Body::from(
                        json!({ "context": { "targetingKey": "user-1" } }).to_string(),
                    ))
                    .expect("request"),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let answer = res.json();
        assert_eq!(
            answer["value"],
            json!({ "prompt_version": "second" }),
            "{answer}"
        );
        assert_eq!(answer["metadata"]["changeId"], third.as_str(), "{answer}");
    })
    .await;
}
