//! The route × role matrix: every route of the OpenAPI document, for an anonymous caller and
//! for a user of each role, is allowed or refused (401/403) exactly as the rule its handler
//! declares (`Require<…>`, read back by `http::authz::table`) says. A route added without a
//! declared rule fails here.

mod common;

use axum::http::{Method, StatusCode};
use common::{USERS, each_database, open_session, raw_request};
use rollgate::http::authz::{Rule, rule};
use shared::auth::Role;

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

#[tokio::test]
async fn every_route_allows_exactly_the_roles_of_its_rule() {
    each_database(|app| async move {
        let doc = app.get("/api/v1/openapi.json").await.json();
        let paths = doc["paths"].as_object().expect("paths").clone();
        let mut checked = 0;
        for (path, item) in &paths {
            for method in METHODS {
                if item.get(method).is_none() {
                    continue;
                }
                let m: Method = method.to_uppercase().parse().expect("method");
                let rule = rule(&m, path)
                    .unwrap_or_else(|| panic!("{method} {path} has no authorization rule"));
                let uri = path
                    .replace("{id}", "no-such-id")
                    .replace("{key}", "no-such-flag");
                let req = || raw_request(m.clone(), &uri, Some("application/json"), "{}");

                // Anonymous.
                let res = app.anonymous(req()).await;
                match rule {
                    Rule::Public => assert!(
                        res.status != StatusCode::UNAUTHORIZED
                            && res.status != StatusCode::FORBIDDEN,
                        "anonymous {method} {path}: {} {}",
                        res.status,
                        res.text()
                    ),
                    _ => assert_eq!(
                        res.status,
                        StatusCode::UNAUTHORIZED,
                        "anonymous {method} {path}: {}",
                        res.text()
                    ),
                }

                // One user per role, each with a fresh session (signing out ends it).
                for role in Role::ALL {
                    let email = common::email_of(role);
                    let user_id = app.session(email).user_id.clone();
                    let session = open_session(&app.pool, &user_id, email).await;
                    let res = app.anonymous(session.sign(req())).await;
                    let allowed = match rule {
                        Rule::Public | Rule::AnyUser => true,
                        Rule::Roles(roles) => roles.contains(&role),
                        Rule::ServiceToken(_) => false,
                    };
                    let what = format!(
                        "{} {method} {path}: {} {}",
                        role.as_str(),
                        res.status,
                        res.text()
                    );
                    if allowed {
                        assert!(
                            res.status != StatusCode::UNAUTHORIZED
                                && res.status != StatusCode::FORBIDDEN,
                            "{what}"
                        );
                    } else if rule == Rule::ServiceToken("evaluate") {
                        // A session is no service token; OFREP says so with a 403.
                        assert_eq!(res.status, StatusCode::FORBIDDEN, "{what}");
                        assert_eq!(res.json()["errorCode"], "GENERAL", "{what}");
                    } else if matches!(rule, Rule::ServiceToken(_)) {
                        // A session is no service token.
                        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{what}");
                    } else {
                        res.assert_error(StatusCode::FORBIDDEN, "forbidden", None);
                    }
                    checked += 1;
                }
            }
        }
        // The table has no rule for a route that does not exist either.
        assert_eq!(
            checked,
            rollgate::http::authz::table().len() * Role::ALL.len(),
            "routes in the document vs rules in the table"
        );
        assert_eq!(USERS.len(), 8);
    })
    .await;
}

/// A service token of scope `ci` on every route: the session routes of `CI_ROUTES` let it
/// through (whatever they then answer to an empty body), every other session route answers
/// 403, and the token routes want their own scope. Without the scope `ci`, a token reaches no
/// session route at all.
#[tokio::test]
async fn a_ci_token_reaches_exactly_its_routes() {
    each_database(|app| async move {
        let change = app.create_default().await;
        let token = |scopes: serde_json::Value| {
            let app = app.clone();
            async move {
                let res = app
                    .post(
                        "/api/v1/tokens",
                        &serde_json::json!({ "name": "pipeline", "scopes": scopes }),
                    )
                    .await;
                assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
                res.json()["secret"].as_str().expect("secret").to_owned()
            }
        };
        let ci = token(serde_json::json!(["ci"])).await;
        let ingest = token(serde_json::json!(["ingest", "evaluate"])).await;
        let mut reached = 0;
        for (m, path, rule) in rollgate::http::authz::table() {
            let uri = path
                .replace("{id}", &change)
                .replace("{key}", "no-such-flag");
            let req = |secret: &str| {
                let mut req = raw_request(m.clone(), &uri, Some("application/json"), "{}");
                req.headers_mut().insert(
                    axum::http::header::AUTHORIZATION,
                    format!("Bearer {secret}").parse().expect("header"),
                );
                req
            };
            let res = app.anonymous(req(&ci)).await;
            let what = format!("ci {m} {path}: {} {}", res.status, res.text());
            let refused =
                res.status == StatusCode::UNAUTHORIZED || res.status == StatusCode::FORBIDDEN;
            match rule {
                Rule::Public => {}
                Rule::ServiceToken(_) => assert_eq!(res.status, StatusCode::FORBIDDEN, "{what}"),
                Rule::AnyUser | Rule::Roles(_) => {
                    let open = rollgate::http::authz::ci_may_call(m, path);
                    assert_eq!(!refused, open, "{what}");
                    if open {
                        reached += 1;
                    } else {
                        res.assert_error(StatusCode::FORBIDDEN, "forbidden", None);
                    }
                    // A token without the scope `ci` is refused everywhere a session goes.
                    let res = app.anonymous(req(&ingest)).await;
                    res.assert_error(StatusCode::FORBIDDEN, "forbidden", None);
                    assert!(res.message().contains("`ci`"), "{}", res.text());
                }
            }
        }
        // Every route of the list exists (the eval uploads arrive with their own branch).
        let table = rollgate::http::authz::table();
        for (m, p) in rollgate::http::authz::CI_ROUTES {
            let exists = table.iter().any(|(tm, tp, _)| tm.as_str() == *m && tp == p);
            assert!(
                exists || p.ends_with("/eval-results"),
                "{m} {p} is no route"
            );
        }
        assert!(reached >= 10, "{reached}");
    })
    .await;
}

/// Spot checks of the table itself, so that a careless edit of a handler's `Require<…>` shows.
#[test]
fn the_table_says_what_the_issue_asks() {
    use Role::*;
    let roles = |m: Method, p: &str| match rule(&m, p) {
        Some(Rule::Roles(r)) => r.to_vec(),
        other => panic!("{m} {p}: {other:?}"),
    };
    assert_eq!(
        roles(Method::POST, "/api/v1/changes"),
        [Engineer, Pm, Admin]
    );
    assert_eq!(roles(Method::PUT, "/api/v1/policies"), [Admin]);
    assert_eq!(roles(Method::POST, "/api/v1/tokens"), [Admin]);
    assert_eq!(roles(Method::GET, "/api/v1/audit"), [Admin, Approver, Pm]);
    assert_eq!(rule(&Method::GET, "/api/v1/health"), Some(Rule::Public));
    assert_eq!(rule(&Method::POST, "/api/v1/session"), Some(Rule::Public));
    assert!(matches!(
        rule(&Method::POST, "/api/v1/changes/{id}/metrics"),
        Some(Rule::ServiceToken("ingest"))
    ));
    for path in ["/ofrep/v1/evaluate/flags", "/ofrep/v1/evaluate/flags/{key}"] {
        assert_eq!(
            rule(&Method::POST, path),
            Some(Rule::ServiceToken("evaluate"))
        );
    }
    assert_eq!(
        rule(&Method::GET, "/ofrep/v1/events"),
        Some(Rule::ServiceToken("evaluate"))
    );
    use rollgate::http::authz::transition_roles;
    use shared::rollout::TransitionAction::*;
    assert_eq!(transition_roles(Advance), [Engineer, Admin]);
    assert_eq!(transition_roles(Skip), [Admin]);
    assert_eq!(transition_roles(RollBack), [Engineer, Approver, Admin]);
}
