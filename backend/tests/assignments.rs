//! `GET /api/v1/assignments`: what one user got from every live change at a moment, replayed
//! from the transition history; every bad parameter named; signed-in users only.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{TestApp, each_database, email_of, id_of, new_change};
use serde_json::{Value, json};
use shared::assignment::bucket;
use shared::auth::Role;

/// A targeting key whose bucket in `flag` satisfies `pred`.
fn user_where(flag: &str, pred: impl Fn(u16) -> bool) -> String {
    (0..)
        .map(|i| format!("user-{i}"))
        .find(|k| pred(bucket(flag, k)))
        .expect("some key")
}

/// `s` as a query value.
fn enc(s: &str) -> String {
    shared::paths::encode(s)
}

/// The lookup for `user` at `at` with `context`, as the support user.
async fn lookup(app: &TestApp, user: &str, at: &str, context: &Value) -> Value {
    let uri = format!(
        "/api/v1/assignments?targeting_key={}&at={}&context={}",
        enc(user),
        enc(at),
        enc(&context.to_string())
    );
    let req = Request::get(uri).body(Body::empty()).expect("request");
    let res = app.request_as(email_of(Role::Support), req).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()
}

/// The row of change `id` in a lookup's answer, if listed.
fn row<'a>(answer: &'a Value, id: &str) -> Option<&'a Value> {
    answer["assignments"]
        .as_array()
        .expect("assignments")
        .iter()
        .find(|a| a["change_id"] == id)
}

#[tokio::test]
async fn a_canary_user_had_the_candidate_until_the_rollback() {
    each_database(|app| async move {
        let detail = app.create(&new_change()).await;
        let id = id_of(&detail);
        let key = detail["change"]["flag_key"].as_str().unwrap().to_owned();
        // The standard plan's canary (5 %) reaches staff only.
        let inside = user_where(&key, |b| b < 500);
        let staff = json!({ "internal": true });

        app.transition(&id, &json!({ "action": "advance" })).await; // eval
        app.transition(&id, &json!({ "action": "advance" })).await; // canary
        app.transition(
            &id,
            &json!({ "action": "roll_back", "reason": "refusals up in the canary" }),
        )
        .await;
        let history = app.get(&format!("/api/v1/changes/{id}")).await.json()["history"].clone();
        let at = |i: usize| history[i]["at"].as_str().unwrap().to_owned();
        let (eval_at, canary_at, rollback_at) = (at(0), at(1), at(2));
        let created_at = detail["change"]["created_at"].as_str().unwrap();

        // Before the rollout started: a draft serves no one, so it is not listed.
        let answer = lookup(&app, &inside, created_at, &staff).await;
        assert!(row(&answer, &id).is_none(), "{answer}");

        // At the eval gate: listed, control for everyone.
        let answer = lookup(&app, &inside, &eval_at, &staff).await;
        let r = row(&answer, &id).expect("listed at eval");
        assert_eq!(
            (&r["variant"], &r["reason"]),
            (&json!("control"), &json!("DISABLED"))
        );

        // During the canary: the candidate, by the bucket, for a staff user inside it.
        let answer = lookup(&app, &inside, &canary_at, &staff).await;
        assert_eq!(answer["targeting_key"], inside.as_str());
        assert_eq!(answer["at"], canary_at.as_str());
        let r = row(&answer, &id).expect("listed during the canary");
        assert_eq!(r["variant"], "candidate", "{r}");
        assert_eq!(r["reason"], "SPLIT");
        assert_eq!(r["state"], json!({ "stage": "canary" }));
        assert_eq!(r["state_label"], "Canary 5%");
        assert_eq!(r["state_since"], canary_at.as_str());
        assert_eq!(r["paused"], false);
        assert_eq!(r["bucket"], bucket(&key, &inside));
        assert_eq!(r["candidate_percent"], 5.0);
        assert_eq!(r["flag_key"], key.as_str());
        let notices = r["notices"].as_array().expect("notices");
        assert!(!notices.is_empty(), "the canary's notice: {r}");
        for n in notices {
            assert!(
                n["subject"].as_str().unwrap().contains("billing answers"),
                "{n}"
            );
            assert!(
                n["sent_at"].as_str().is_some() && n["id"].as_str().is_some(),
                "{n}"
            );
        }
        // The same user outside the canary's audience, and the same moment for a user above
        // the canary's percentage: control, each for its reason.
        let answer = lookup(&app, &inside, &canary_at, &json!({ "plan": "free" })).await;
        assert_eq!(row(&answer, &id).unwrap()["reason"], "TARGETING_MATCH");
        let above = user_where(&key, |b| b >= 500);
        let answer = lookup(&app, &above, &canary_at, &staff).await;
        let r = row(&answer, &id).unwrap();
        assert_eq!(
            (&r["variant"], &r["reason"]),
            (&json!("control"), &json!("SPLIT"))
        );

        // After the rollback: control, and said so.
        let answer = lookup(&app, &inside, &rollback_at, &staff).await;
        let r = row(&answer, &id).expect("a recent rollback is listed");
        assert_eq!(r["variant"], "control", "{r}");
        assert_eq!(r["reason"], "DISABLED");
        assert_eq!(r["state"], json!({ "stage": "rolled_back" }));
        assert_eq!(r["state_since"], rollback_at.as_str());
        assert_eq!(r["candidate_percent"], 0.0);

        // Without `at`: now, which is after the rollback too.
        let req = Request::get(format!("/api/v1/assignments?targeting_key={inside}"))
            .body(Body::empty())
            .unwrap();
        let now = app.request(req).await;
        assert_eq!(now.status, StatusCode::OK, "{}", now.text());
        let now = now.json();
        assert!(now["at"].as_str().unwrap() >= rollback_at.as_str());
        assert_eq!(row(&now, &id).unwrap()["variant"], "control");
    })
    .await;
}

#[tokio::test]
async fn newest_change_first_and_drafts_left_out() {
    each_database(|app| async move {
        let older = app.create_default().await;
        app.transition(&older, &json!({ "action": "advance" }))
            .await;
        let mut body = new_change();
        body["title"] = json!("Routing to the small model");
        let newer = app.create_default().await;
        app.transition(&newer, &json!({ "action": "advance" }))
            .await;
        let draft = id_of(&app.create(&body).await);
        let answer = app
            .get("/api/v1/assignments?targeting_key=user-1")
            .await
            .json();
        let ids: Vec<&str> = answer["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["change_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [newer.as_str(), older.as_str()], "{answer}");
        assert!(row(&answer, &draft).is_none());
    })
    .await;
}

#[tokio::test]
async fn bad_parameters_are_named_and_callers_must_sign_in() {
    each_database(|app| async move {
        let future =
            rollgate::db::timestamp(time::OffsetDateTime::now_utc() + time::Duration::hours(1));
        let long = "k".repeat(257);
        let cases: [(String, &str); 10] = [
            ("".into(), "targeting_key"),
            ("targeting_key=".into(), "targeting_key"),
            (format!("targeting_key={long}"), "targeting_key"),
            ("targeting_key=u&at=yesterday".into(), "at"),
            ("targeting_key=u&at=2026-12-01".into(), "at"),
            (format!("targeting_key=u&at={}", enc(&future)), "at"),
            ("targeting_key=u&context=free".into(), "context"),
            (
                format!("targeting_key=u&context={}", enc("[1,2]")),
                "context",
            ),
            (
                format!("targeting_key=u&context={}", enc("{\"plan\":")),
                "context",
            ),
            ("targeting_key=u&colour=blue".into(), "colour"),
        ];
        for (query, field) in cases {
            let res = app.get(&format!("/api/v1/assignments?{query}")).await;
            res.assert_error(StatusCode::UNPROCESSABLE_ENTITY, "validation", Some(field));
        }

        let req = Request::get("/api/v1/assignments?targeting_key=u")
            .body(Body::empty())
            .unwrap();
        app.anonymous(req)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthorized", None);
        // Every role may look a user up.
        for role in [
            Role::Support,
            Role::Approver,
            Role::Pm,
            Role::Engineer,
            Role::Admin,
        ] {
            let req = Request::get("/api/v1/assignments?targeting_key=u")
                .body(Body::empty())
                .unwrap();
            let res = app.request_as(email_of(role), req).await;
            assert_eq!(res.status, StatusCode::OK, "{role:?}: {}", res.text());
        }
    })
    .await;
}
