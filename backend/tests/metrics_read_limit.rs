//! The per-session read limit of `…/metrics/summary` and `…/metrics/series`: past the burst a
//! session gets 429 with `Retry-After`, other sessions read on, and the bucket refills.

mod common;

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::{TestApp, each_database};
use rollgate::{AppState, app};

/// Two reads a second, three at once: small enough to reach in a test, slow enough that
/// the time the requests themselves take does not refill the bucket.
fn limited(test: &TestApp) -> TestApp {
    TestApp {
        router: app(
            AppState::new(test.pool.clone(), test.backend, std::env::temp_dir())
                .with_read_limit(2.0, 3.0),
        ),
        pool: test.pool.clone(),
        backend: test.backend,
        sessions: test.sessions.clone(),
    }
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("request")
}

#[tokio::test]
async fn a_burst_past_the_limit_gets_429_until_the_bucket_refills() {
    each_database(|test| async move {
        let change = test.create_default().await;
        let app = limited(&test);
        let summary = format!("/api/v1/changes/{change}/metrics/summary");
        let series = format!("/api/v1/changes/{change}/metrics/series?metric=retry_rate");

        let first = app.get(&summary).await;
        assert_eq!(first.status, StatusCode::OK);
        // A revalidation counts too: it costs the same query.
        let etag = first.header(header::ETAG).expect("etag").to_owned();
        let res = app
            .request(
                Request::get(&summary)
                    .header(header::IF_NONE_MATCH, &etag)
                    .body(Body::empty())
                    .expect("request"),
            )
            .await;
        assert_eq!(res.status, StatusCode::NOT_MODIFIED);
        assert_eq!(app.get(&summary).await.status, StatusCode::OK);

        // Both routes draw on the same bucket.
        let res = app.get(&series).await;
        res.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited", None);
        let retry_after: u64 = res
            .header(header::RETRY_AFTER)
            .expect("Retry-After")
            .parse()
            .expect("whole seconds");
        assert!(retry_after >= 1, "Retry-After {retry_after}");
        assert_eq!(
            app.get(&summary).await.status,
            StatusCode::TOO_MANY_REQUESTS
        );

        // Another session is unaffected.
        let other = app.request_as("pat@example.com", get(&summary)).await;
        assert_eq!(other.status, StatusCode::OK);

        // One request back after 1/rate s.
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(app.get(&series).await.status, StatusCode::OK);
    })
    .await;
}

#[tokio::test]
async fn the_default_limit_leaves_polling_alone() {
    each_database(|app| async move {
        let change = app.create_default().await;
        // The console's poll reads both aggregates; a dozen at once is well within the burst.
        for _ in 0..12 {
            let res = app
                .get(&format!("/api/v1/changes/{change}/metrics/summary"))
                .await;
            assert_eq!(res.status, StatusCode::OK);
        }
    })
    .await;
}
