//! `/api/v1/session`: signing in and out, cookie flags, CSRF, identical failures and the
//! sign-in rate limit.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{PASSWORD, TestApp, each_database, json_request, new_change};
use rollgate::AppState;
use serde_json::{Value, json};

fn login_request(email: &str, password: &str) -> Request<Body> {
    json_request(
        Method::POST,
        "/api/v1/session",
        &json!({ "email": email, "password": password }),
    )
}

/// The session cookie's `name=value` and its attributes.
fn cookie(res: &common::TestResponse) -> (String, Vec<String>) {
    let set = res
        .header(header::SET_COOKIE)
        .expect("set-cookie")
        .to_owned();
    let mut parts = set.split(';').map(|p| p.trim().to_owned());
    let pair = parts.next().expect("pair");
    (pair, parts.collect())
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    let page = app.get("/api/v1/audit?per_page=200").await.json();
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_cookie_and_signing_out_ends_the_session() {
    each_database(|app| async move {
        let res = app
            .anonymous(login_request("Pat@Example.com ", PASSWORD))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        let body = res.json();
        assert_eq!(body["user"]["email"], "pat@example.com");
        assert_eq!(body["user"]["roles"], json!(["pm"]));
        assert!(body["user"].get("password_hash").is_none());
        let csrf = body["csrf_token"].as_str().expect("csrf").to_owned();
        let (pair, attrs) = cookie(&res);
        assert!(
            pair.starts_with("rollgate_session=") && pair.len() > 40,
            "{pair}"
        );
        for a in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
            assert!(attrs.contains(&a.to_owned()), "{a} in {attrs:?}");
        }
        assert!(!attrs.iter().any(|a| a == "Secure"), "{attrs:?}");
        // The token is stored only as its hash.
        let token = pair.trim_start_matches("rollgate_session=").to_owned();
        let stored: i64 =
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sessions WHERE token_sha256 = $1")
                .bind(token.clone())
                .fetch_one(&app.pool)
                .await
                .expect("query");
        assert_eq!(stored, 0);

        let with_cookie = |req: Request<Body>| {
            let mut req = req;
            req.headers_mut()
                .insert(header::COOKIE, pair.parse().expect("cookie"));
            req
        };
        let me = app
            .anonymous(with_cookie(
                Request::get("/api/v1/session").body(Body::empty()).unwrap(),
            ))
            .await;
        assert_eq!(me.status, StatusCode::OK);
        assert_eq!(me.json()["csrf_token"], csrf.as_str());

        // Signing out needs the CSRF token too.
        let out = Request::delete("/api/v1/session")
            .body(Body::empty())
            .unwrap();
        app.anonymous(with_cookie(out))
            .await
            .assert_error(StatusCode::FORBIDDEN, "csrf", None);
        let mut out = with_cookie(
            Request::delete("/api/v1/session")
                .body(Body::empty())
                .unwrap(),
        );
        out.headers_mut()
            .insert("x-csrf-token", csrf.parse().unwrap());
        let res = app.anonymous(out).await;
        assert_eq!(res.status, StatusCode::NO_CONTENT);
        assert!(cookie(&res).1.contains(&"Max-Age=0".to_owned()));
        // The old cookie is dead on the server, not just in the browser.
        let me = app
            .anonymous(with_cookie(
                Request::get("/api/v1/session").body(Body::empty()).unwrap(),
            ))
            .await;
        me.assert_error(StatusCode::UNAUTHORIZED, "unauthorized", None);

        let actions = audit_actions(&app).await;
        assert!(actions.contains(&"login.success".to_owned()), "{actions:?}");
        assert!(actions.contains(&"logout".to_owned()), "{actions:?}");
    })
    .await;
}

#[tokio::test]
async fn the_cookie_is_secure_over_tls() {
    each_database(|app| async move {
        let mut req = login_request("pat@example.com", PASSWORD);
        req.headers_mut()
            .insert("x-forwarded-proto", "https".parse().unwrap());
        let res = app.anonymous(req).await;
        assert!(cookie(&res).1.contains(&"Secure".to_owned()));

        let dist = tempfile::tempdir().expect("tempdir");
        let secure = rollgate::app(
            AppState::new(app.pool.clone(), app.backend, dist.path())
                .with_passwords(rollgate::accounts::Passwords::cheap_for_tests())
                .with_secure_cookies(true),
        );
        let tls = TestApp {
            router: secure,
            ..app.clone()
        };
        let res = tls
            .anonymous(login_request("pat@example.com", PASSWORD))
            .await;
        assert_eq!(res.status, StatusCode::OK);
        assert!(cookie(&res).1.contains(&"Secure".to_owned()));
    })
    .await;
}

#[tokio::test]
async fn unknown_accounts_and_wrong_passwords_get_the_same_answer() {
    each_database(|app| async move {
        let unknown = app
            .anonymous(login_request("nobody@example.com", PASSWORD))
            .await;
        let wrong = app
            .anonymous(login_request("pat@example.com", "not the password"))
            .await;
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
        assert_eq!(unknown.status, wrong.status);
        assert_eq!(unknown.body, wrong.body);
        assert!(unknown.header(header::SET_COOKIE).is_none());
        // Failures are audited without the password.
        let page = app.get("/api/v1/audit?action=login.failure").await.json();
        assert_eq!(page["total"], 2);
        assert!(!page.to_string().contains("not the password"));
    })
    .await;
}

#[tokio::test]
async fn failures_are_rate_limited_per_account_without_locking_out_others() {
    each_database(|app| async move {
        for _ in 0..5 {
            let res = app
                .anonymous(login_request("pat@example.com", "wrong wrong wrong"))
                .await;
            assert_eq!(res.status, StatusCode::UNAUTHORIZED);
        }
        // Now even the right password waits.
        let res = app
            .anonymous(login_request("PAT@example.com", PASSWORD))
            .await;
        res.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited", None);
        let wait: u64 = res
            .header(header::RETRY_AFTER)
            .expect("retry-after")
            .parse()
            .expect("seconds");
        assert!((1..=900).contains(&wait), "{wait}");
        // Another account from the same address is not locked out.
        let res = app
            .anonymous(login_request("erin@example.com", PASSWORD))
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    })
    .await;
}

#[tokio::test]
async fn a_burst_of_parallel_guesses_gets_no_more_than_the_limit_checked() {
    each_database(|app| async move {
        let guesses = (0..20).map(|i| {
            app.anonymous(login_request(
                "pat@example.com",
                &format!("guess number {i}"),
            ))
        });
        let answers = futures_join_all(guesses).await;
        let checked = answers
            .iter()
            .filter(|r| r.status == StatusCode::UNAUTHORIZED)
            .count();
        let limited = answers
            .iter()
            .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
            .count();
        assert_eq!(checked + limited, 20);
        assert!(
            checked <= 5,
            "{checked} passwords were checked in one burst"
        );
    })
    .await;
}

/// Polls every future together on this task (the test app is not `Send`-bound to a runtime).
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let mut pending: Vec<_> = futures.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = (0..pending.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut done = true;
        for (i, f) in pending.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => done = false,
                }
            }
        }
        if done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

#[tokio::test]
async fn cross_site_requests_are_refused_and_store_nothing() {
    each_database(|app| async move {
        let mut req = login_request("pat@example.com", PASSWORD);
        req.headers_mut()
            .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        req.headers_mut()
            .insert(header::HOST, "rollgate.example.org".parse().unwrap());
        app.anonymous(req)
            .await
            .assert_error(StatusCode::FORBIDDEN, "csrf", None);

        // A cross-site form post riding on the cookie, without the CSRF token.
        let session = app.login_as(shared::auth::Role::Engineer).clone();
        let mut req = json_request(Method::POST, "/api/v1/changes", &new_change());
        req.headers_mut().insert(
            header::COOKIE,
            format!("rollgate_session={}", session.token)
                .parse()
                .unwrap(),
        );
        req.headers_mut()
            .insert("sec-fetch-site", "cross-site".parse().unwrap());
        app.rejects(req, StatusCode::FORBIDDEN, "csrf", None).await;
        // With the token but from another origin.
        let mut req = session.sign(json_request(Method::POST, "/api/v1/changes", &new_change()));
        req.headers_mut()
            .insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        req.headers_mut()
            .insert(header::HOST, "rollgate.example.org".parse().unwrap());
        app.rejects(req, StatusCode::FORBIDDEN, "csrf", None).await;
        // Same origin with the token works; the server itself speaks plain http.
        let from = |origin: &str, host: &str| {
            let mut req =
                session.sign(json_request(Method::POST, "/api/v1/changes", &new_change()));
            req.headers_mut()
                .insert(header::ORIGIN, origin.parse().unwrap());
            req.headers_mut()
                .insert(header::HOST, host.parse().unwrap());
            req
        };
        let same = from("http://rollgate.example.org", "rollgate.example.org");
        assert_eq!(app.anonymous(same).await.status, StatusCode::CREATED);
        let before = app.counts().await;
        // Same host, another scheme or port: another origin.
        for origin in [
            "https://rollgate.example.org",
            "http://rollgate.example.org:8080",
        ] {
            let req = from(origin, "rollgate.example.org");
            app.rejects(req, StatusCode::FORBIDDEN, "csrf", None).await;
        }

        // Published as https (`--public-url`): only that origin is the console's.
        let dist = tempfile::tempdir().expect("tempdir");
        let public = TestApp {
            router: rollgate::app(
                AppState::new(app.pool.clone(), app.backend, dist.path())
                    .with_passwords(rollgate::accounts::Passwords::cheap_for_tests())
                    .with_public_url(Some("https://rollgate.example.org".to_owned())),
            ),
            ..app.clone()
        };
        for (origin, host) in [
            ("http://rollgate.example.org", "rollgate.example.org"),
            ("http://10.0.0.5:3000", "10.0.0.5:3000"),
        ] {
            let req = from(origin, host);
            public
                .rejects(req, StatusCode::FORBIDDEN, "csrf", None)
                .await;
        }
        let mut login = login_request("pat@example.com", PASSWORD);
        login.headers_mut().insert(
            header::ORIGIN,
            "http://rollgate.example.org".parse().unwrap(),
        );
        public
            .anonymous(login)
            .await
            .assert_error(StatusCode::FORBIDDEN, "csrf", None);
        assert_eq!(app.counts().await, before);
        let ok = from("https://rollgate.example.org", "127.0.0.1:3000");
        assert_eq!(public.anonymous(ok).await.status, StatusCode::CREATED);
    })
    .await;
}

#[tokio::test]
async fn demo_users_are_listed_only_in_demo_mode() {
    each_database(|app| async move {
        app.anonymous(
            Request::get("/api/v1/session/demo-users")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found", None);
        let dist = tempfile::tempdir().expect("tempdir");
        let passwords = rollgate::accounts::Passwords::cheap_for_tests();
        rollgate::demo::seed(&app.pool, &passwords, false)
            .await
            .expect("seed");
        let demo = TestApp {
            router: rollgate::app(
                AppState::new(app.pool.clone(), app.backend, dist.path())
                    .with_passwords(passwords)
                    .with_demo(true),
            ),
            ..app.clone()
        };
        let res = demo
            .anonymous(
                Request::get("/api/v1/session/demo-users")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK);
        let body: Value = res.json();
        assert_eq!(body["password"], "rollgate-demo-password");
        let users = body["users"].as_array().expect("users");
        assert_eq!(users.len(), 6);
        // Every demo account signs in with that password.
        for u in users {
            let res = demo
                .anonymous(login_request(
                    u["email"].as_str().unwrap(),
                    "rollgate-demo-password",
                ))
                .await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        }
        // The demo changes are the engineer's, and their history names demo users.
        let list = demo.get("/api/v1/changes").await.json();
        for c in list["items"].as_array().expect("items") {
            assert_eq!(c["owner"], "erin.engineer@demo.rollgate");
            let d = demo
                .get(&format!("/api/v1/changes/{}", c["id"].as_str().unwrap()))
                .await
                .json();
            for h in d["history"].as_array().unwrap() {
                assert!(
                    h["actor"].as_str().unwrap().ends_with("@demo.rollgate"),
                    "{h}"
                );
            }
        }
    })
    .await;
}

#[tokio::test]
async fn ended_sessions_and_old_failures_are_purged() {
    use sqlx::Row;
    each_database(|app| async move {
        let user: String = sqlx::query("SELECT id FROM users ORDER BY id LIMIT 1")
            .fetch_one(&app.pool)
            .await
            .unwrap()
            .get(0);
        let now = time::OffsetDateTime::now_utc();
        let at = |days: i64| rollgate::db::timestamp(now + time::Duration::days(days));
        // (name, expires_at, revoked_at, kept?)
        let sessions = [
            ("expired-long-ago", at(-40), None, false),
            ("expired-lately", at(-3), None, true),
            ("signed-out-long-ago", at(10), Some(at(-31)), false),
            ("signed-out-lately", at(10), Some(at(-1)), true),
            ("live", at(1), None, true),
        ];
        for (name, expires, revoked, _) in &sessions {
            sqlx::query(
                "INSERT INTO sessions (id, token_sha256, user_id, csrf_token, created_at, \
                 expires_at, revoked_at) VALUES ($1, $2, $3, 'csrf', $4, $5, $6)",
            )
            .bind(*name)
            .bind(format!("sha-{name}"))
            .bind(&user)
            .bind(at(-60))
            .bind(expires)
            .bind(revoked.as_deref())
            .execute(&app.pool)
            .await
            .unwrap();
        }
        for (id, hours_ago) in [("old-failure", 30), ("recent-failure", 2)] {
            sqlx::query(
                "INSERT INTO login_failures (id, email_key, address, at) \
                 VALUES ($1, 'x@example.com', '127.0.0.1', $2)",
            )
            .bind(id)
            .bind(rollgate::db::timestamp(
                now - time::Duration::hours(hours_ago),
            ))
            .execute(&app.pool)
            .await
            .unwrap();
        }
        let before: i64 = sqlx::query("SELECT COUNT(*) FROM sessions")
            .fetch_one(&app.pool)
            .await
            .unwrap()
            .get(0);

        let purged = rollgate::accounts::purge_stale(&app.pool, now)
            .await
            .unwrap();
        assert_eq!(purged, (2, 1));

        let left: Vec<String> = sqlx::query("SELECT id FROM sessions ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        for (name, _, _, kept) in &sessions {
            assert_eq!(left.contains(&name.to_string()), *kept, "{name}: {left:?}");
        }
        assert_eq!(
            left.len() as i64,
            before - 2,
            "the test sessions of each role stay"
        );
        let failures: Vec<String> = sqlx::query("SELECT id FROM login_failures")
            .fetch_all(&app.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(failures, ["recent-failure"]);
        // The role sessions the other tests sign requests with still work.
        assert_eq!(app.get("/api/v1/session").await.status, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client_and_no_one_else_can() {
    each_database(|app| async move {
        use axum::extract::ConnectInfo;
        use std::net::SocketAddr;
        let behind = TestApp {
            router: rollgate::app(
                AppState::new(app.pool.clone(), app.backend, "dist")
                    .with_passwords(rollgate::accounts::Passwords::cheap_for_tests())
                    .with_trusted_proxies(vec!["10.0.0.0/8".parse().unwrap()]),
            ),
            ..app.clone()
        };
        let attempt = |app: TestApp, peer: &'static str, forwarded: &'static str| async move {
            let mut req = login_request("pat@example.com", "wrong wrong wrong");
            req.extensions_mut()
                .insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
            req.headers_mut()
                .insert("x-forwarded-for", forwarded.parse().unwrap());
            let res = app.anonymous(req).await;
            assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.text());
        };
        // Through the trusted proxy: the address it saw, not the one the client wrote.
        attempt(behind.clone(), "10.0.0.2:4000", "1.2.3.4, 198.51.100.7").await;
        // Straight from the internet: the header is ignored.
        attempt(behind.clone(), "203.0.113.9:4000", "198.51.100.8").await;
        // A server that trusts no proxy believes no header.
        attempt(app.clone(), "10.0.0.2:4000", "198.51.100.9").await;

        let page = app.get("/api/v1/audit?action=login.failure").await.json();
        let mut addresses: Vec<String> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["address"].as_str().unwrap().to_owned())
            .collect();
        addresses.sort();
        assert_eq!(addresses, ["10.0.0.2", "198.51.100.7", "203.0.113.9"]);
        let counted: Vec<String> =
            sqlx::query("SELECT address FROM login_failures ORDER BY address")
                .fetch_all(&app.pool)
                .await
                .unwrap()
                .iter()
                .map(|r| sqlx::Row::get(r, 0))
                .collect();
        assert_eq!(
            counted, addresses,
            "the sign-in limit counts the same addresses"
        );
    })
    .await;
}
