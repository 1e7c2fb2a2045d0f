//! A webhook receiver on 127.0.0.1 and a delivery worker configuration that retries quickly.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use rollgate::delivery::Config;

/// What the receiver saw: every request, and how many it refused on purpose.
#[derive(Default)]
pub struct Seen {
    pub hits: usize,
    pub accepted: Vec<(HeaderMap, Vec<u8>)>,
}

/// A webhook receiver that answers 500 to its first `fail_first` requests, then 200; its URL
/// and what it saw.
pub async fn receiver(fail_first: usize) -> (String, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let s = seen.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let s = s.clone();
            async move {
                let mut seen = s.lock().unwrap();
                seen.hits += 1;
                if seen.hits <= fail_first {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                seen.accepted.push((headers, body.to_vec()));
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), seen)
}

/// A delivery worker that polls every 20 ms and retries within a second, with the console at
/// `public_url` (messages then link to it).
pub fn fast(public_url: Option<&str>) -> Config {
    Config {
        base_backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(400),
        max_attempts: 8,
        timeout: Duration::from_millis(500),
        poll: Duration::from_millis(20),
        public_url: public_url.map(str::to_owned),
    }
}
