//! The demo workspace: five changes at different points of their rollouts, seeded once.

mod common;

use common::each_database;
use serde_json::{Value, json};

#[tokio::test]
async fn demo_seeds_four_changes_once() {
    each_database(|app| async move {
        assert!(app.seed_demo().await);
        let counts = app.counts().await;
        assert_eq!(counts, (5, 13));

        let page = app.get("/api/v1/changes").await.json();
        let items = page["items"].as_array().expect("items").clone();
        let by_title = |prefix: &str| -> Value {
            items
                .iter()
                .find(|c| c["title"].as_str().is_some_and(|t| t.starts_with(prefix)))
                .cloned()
                .unwrap_or_else(|| panic!("no change titled {prefix}…"))
        };
        let prompt = by_title("Shorter billing answers (prompt billing-v13)");
        assert_eq!(
            (prompt["kind"].clone(), prompt["state"].clone()),
            (json!("prompt"), json!({ "stage": "canary" }))
        );
        assert_eq!(
            (
                prompt["state_label"].clone(),
                prompt["traffic_percent"].clone()
            ),
            (json!("Canary 5%"), json!(5.0))
        );
        let model = by_title("Upgrade support assistant");
        assert_eq!(model["state"], json!({ "stage": "ramp", "step": 1 }));
        assert_eq!(
            (model["risk"].clone(), model["traffic_percent"].clone()),
            (json!("high"), json!(25.0))
        );
        let tool = by_title("Add order-lookup tool");
        assert_eq!(tool["state"], json!({ "stage": "rolled_back" }));
        let routing = by_title("Route Spanish conversations");
        assert_eq!(
            (routing["kind"].clone(), routing["state"].clone()),
            (json!("routing"), json!({ "stage": "draft" }))
        );
        // Newest first: the draft was written last.
        assert_eq!(items[0]["id"], routing["id"]);

        let detail = |c: &Value| {
            let app = app.clone();
            let id = c["id"].as_str().unwrap_or_default().to_owned();
            async move { app.get(&format!("/api/v1/changes/{id}")).await.json() }
        };
        let d = detail(&prompt).await;
        let path: Vec<&str> = d["history"]
            .as_array()
            .expect("history")
            .iter()
            .map(|h| h["to_label"].as_str().unwrap_or_default())
            .collect();
        assert_eq!(path, ["Eval gate", "Canary 5%"]);
        assert!(
            d["history"]
                .as_array()
                .expect("history")
                .iter()
                .all(|h| h["actor"].as_str().is_some_and(|a| a.contains('@')))
        );
        let d = detail(&model).await;
        assert_eq!(d["change"]["plan"]["template"], "model_upgrade");
        assert_eq!(d["history"].as_array().map(Vec::len), Some(4));
        let d = detail(&tool).await;
        let last = &d["history"][2];
        assert_eq!(last["action"], "roll_back");
        assert!(
            last["reason"]
                .as_str()
                .is_some_and(|r| r.contains("hard_error_rate +1.8 pp"))
        );
        let d = detail(&routing).await;
        assert_eq!(d["history"], json!([]));
        for c in &items {
            let d = detail(c).await;
            assert!(
                d["change"]["candidate"]
                    .as_object()
                    .is_some_and(|o| !o.is_empty())
            );
            assert!(
                d["change"]["expected_changes"]
                    .as_str()
                    .is_some_and(|t| t.len() > 40)
            );
        }

        // A second start leaves the workspace alone.
        assert!(!app.seed_demo().await);
        assert_eq!(app.counts().await, counts);

        // Teams: Sam hears about changes for Support; the downstream team exists once.
        let teams = app.get("/api/v1/teams").await.json();
        let names: Vec<&str> = teams
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["Billing platform", "Marketing", "Support"]);
        let support = teams
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == "Support")
            .unwrap();
        assert_eq!(support["members"][0]["email"], "sam.support@demo.rollgate");
    })
    .await;
}

#[tokio::test]
async fn demo_does_not_seed_a_used_workspace() {
    each_database(|app| async move {
        app.create_default().await;
        assert!(!app.seed_demo().await);
        assert_eq!(app.counts().await, (1, 0));
    })
    .await;
}

/// Two servers started together on one PostgreSQL database both seed: they take turns, the
/// second finds the workspace the first seeded, and there is one workspace (the second used to
/// fail on a duplicate demo account). SQLite serves one instance per file.
#[tokio::test]
async fn two_instances_seed_one_workspace() {
    each_database(|app| async move {
        if app.backend != rollgate::db::Backend::Postgres {
            return;
        }
        let url = app.pool.connect_options().database_url.to_string();
        let (other, _) = rollgate::db::connect(&url).await.expect("second instance");
        let passwords = rollgate::accounts::Passwords::cheap_for_tests();
        let (a, b) = tokio::join!(
            rollgate::demo::seed(&app.pool, &passwords, false),
            rollgate::demo::seed(&other, &passwords, false),
        );
        let (a, b) = (a.expect("first seeds"), b.expect("second seeds"));
        assert!(a != b, "exactly one instance seeds: {a} {b}");
        assert_eq!(app.counts().await, (5, 13));
        let demo_accounts = app
            .get("/api/v1/users")
            .await
            .json()
            .as_array()
            .expect("users")
            .iter()
            .filter(|u| {
                u["email"]
                    .as_str()
                    .is_some_and(|e| e.ends_with("@demo.rollgate"))
            })
            .count();
        assert_eq!(demo_accounts, 6);
        let teams = app.get("/api/v1/teams").await.json();
        assert_eq!(teams.as_array().map(Vec::len), Some(3), "{teams}");
        other.close().await;
    })
    .await;
}

/// Rows in the tables seeding writes to: demo accounts, teams, team members, changes,
/// transitions, notices, audit log.
async fn seeded_rows(app: &common::TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for sql in [
        "SELECT COUNT(*) FROM users WHERE email LIKE '%@demo.rollgate'",
        "SELECT COUNT(*) FROM teams",
        "SELECT COUNT(*) FROM team_members",
        "SELECT COUNT(*) FROM changes",
        "SELECT COUNT(*) FROM transitions",
        "SELECT COUNT(*) FROM notices",
        "SELECT COUNT(*) FROM audit_log",
    ] {
        let (n,): (i64,) = sqlx::query_as(sql)
            .fetch_one(&app.pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        counts.push(n);
    }
    counts
}

/// Seeding is one transaction: when it fails midway (here the first transition, after the
/// accounts, teams and a change were written) nothing of it stays, and the next start seeds
/// the whole workspace.
#[tokio::test]
async fn a_seeding_that_fails_midway_leaves_nothing() {
    each_database(|app| async move {
        let before = seeded_rows(&app).await;
        let (create, drop) = match app.backend {
            rollgate::db::Backend::Sqlite => (
                vec![
                    "CREATE TRIGGER no_transitions BEFORE INSERT ON transitions \
                     BEGIN SELECT RAISE(ABORT, 'transitions refused by the test'); END",
                ],
                "DROP TRIGGER no_transitions",
            ),
            rollgate::db::Backend::Postgres => (
                vec![
                    "CREATE FUNCTION no_transitions() RETURNS trigger LANGUAGE plpgsql AS \
                     $$ BEGIN RAISE EXCEPTION 'transitions refused by the test'; END $$",
                    "CREATE TRIGGER no_transitions BEFORE INSERT ON transitions \
                     FOR EACH ROW EXECUTE FUNCTION no_transitions()",
                ],
                "DROP TRIGGER no_transitions ON transitions",
            ),
        };
        for sql in create {
            sqlx::query(sql).execute(&app.pool).await.expect(sql);
        }
        let passwords = rollgate::accounts::Passwords::cheap_for_tests();
        let err = rollgate::demo::seed(&app.pool, &passwords, false)
            .await
            .expect_err("seeding fails at the first transition");
        assert!(
            format!("{err:?}").contains("transitions refused by the test"),
            "{err:?}"
        );
        assert_eq!(seeded_rows(&app).await, before);

        sqlx::query(drop).execute(&app.pool).await.expect(drop);
        assert!(app.seed_demo().await);
        assert_eq!(app.counts().await, (5, 13));
    })
    .await;
}

#[tokio::test]
async fn demo_history_gives_the_figures_months_to_count() {
    each_database(|app| async move {
        assert!(app.seed_demo_with(true).await);
        let (changes, _) = app.counts().await;
        assert_eq!(changes, 5 + 24);

        // Twenty weeks cover the history: 130 days back to about two weeks ago.
        let from = time::OffsetDateTime::now_utc() - time::Duration::weeks(20);
        let from = from
            .format(&time::format_description::well_known::Rfc3339)
            .expect("format");
        let f = app.get(&format!("/api/v1/figures?from={from}")).await;
        assert_eq!(f.status, axum::http::StatusCode::OK, "{}", f.text());
        let f = f.json();
        let all = &f["overall"];
        // Of the 24: 3 rolled back by people, 3 by the guardian, one by people after a
        // guardian's hold, the other 17 shipped; the five in flight add the returns rollback.
        assert_eq!(all["shipped"], 17, "{all}");
        assert_eq!(all["automatic_rollbacks"], 3, "{all}");
        assert_eq!(all["manual_rollbacks"], 5, "{all}");
        assert_eq!(all["median_hold_to_rollback_hours"], 3.0, "{all}");
        assert!(
            all["skipped_share"].as_f64().is_some_and(|s| s > 0.0),
            "{all}"
        );
        let weeks_with_shipping = f["weeks"]
            .as_array()
            .expect("weeks")
            .iter()
            .filter(|w| w["shipped"].as_u64().is_some_and(|n| n > 0))
            .count();
        assert!(weeks_with_shipping >= 12, "{f}");
        for group in ["by_product_area", "by_kind", "by_risk"] {
            assert!(
                f[group].as_array().is_some_and(|g| g.len() >= 3),
                "{group}: {f}"
            );
        }

        // The five in flight are there as without history.
        let page = app.get("/api/v1/changes?state=canary").await.json();
        assert_eq!(page["total"], 1, "{page}");
    })
    .await;
}
