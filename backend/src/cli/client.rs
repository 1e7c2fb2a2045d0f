//! The client commands' one way to the server: JSON over HTTP(S) with a service token, through
//! the same hyper client and rustls setup the webhook deliveries use (nothing new in the
//! binary). Every failure is a [`Failure`] that says what went wrong and which exit code it is.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode, header};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde::de::DeserializeOwned;
use shared::api::ErrorBody;

use super::Exit;

/// How long one request may take before the command gives up on it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Why a client command stopped.
#[derive(Debug)]
pub enum Failure {
    /// The command line or its input is wrong: nothing was sent for it (exit 3).
    Usage(String),
    /// Problems in an input file, each with its path (`plan.ramp[2].percent`) (exit 3).
    Problems { file: String, problems: Vec<String> },
    /// The server answered with an error (exit 4).
    Server {
        status: StatusCode,
        code: String,
        message: String,
        field: Option<String>,
    },
    /// The server could not be reached, or its answer could not be read (exit 5).
    Network(String),
}

impl Failure {
    pub fn exit(&self) -> Exit {
        match self {
            Failure::Usage(_) | Failure::Problems { .. } => Exit::Usage,
            Failure::Server { .. } => Exit::Server,
            Failure::Network(_) => Exit::Network,
        }
    }

    /// Writes the failure to standard error, one problem a line.
    pub fn report(&self) {
        match self {
            Failure::Usage(message) | Failure::Network(message) => eprintln!("error: {message}"),
            Failure::Problems { file, problems } => {
                eprintln!(
                    "error: {file} has {} problem{}; nothing was sent:",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" }
                );
                for p in problems {
                    eprintln!("  {p}");
                }
            }
            Failure::Server {
                status,
                code,
                message,
                field,
            } => {
                let field = field
                    .as_deref()
                    .map(|f| format!(" [field `{f}`]"))
                    .unwrap_or_default();
                eprintln!(
                    "error: the server refused ({} {code}): {message}{field}",
                    status.as_u16()
                );
            }
        }
    }
}

pub type Result<T, E = Failure> = std::result::Result<T, E>;

/// A server and the token to call it with.
pub struct Client {
    base: String,
    token: String,
    http: HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// A 2xx answer's body.
pub struct Answer {
    pub body: Bytes,
}

impl Answer {
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Failure::Network(format!(
                "the server's answer is not what this client expects ({e}); is the server the \
                 same release as this client?"
            ))
        })
    }
}

impl Client {
    /// `url` is the server's address as people reach it (`https://rollgate.example.com`,
    /// optionally with a path prefix).
    pub fn new(url: &str, token: &str) -> Result<Client> {
        let base = url.trim().trim_end_matches('/').to_owned();
        let uri: hyper::Uri = base
            .parse()
            .map_err(|e| Failure::Usage(format!("--url / ROLLGATE_URL `{url}`: {e}")))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            return Err(Failure::Usage(format!(
                "--url / ROLLGATE_URL `{url}` must be an http:// or https:// address"
            )));
        }
        let token = token.trim().to_owned();
        if token.is_empty() {
            return Err(Failure::Usage(
                "no token: set ROLLGATE_TOKEN (or --token) to a service token of scope `ci`"
                    .to_owned(),
            ));
        }
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|e| Failure::Network(format!("no TLS client: {e}")))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Client {
            base,
            token,
            http: HyperClient::builder(TokioExecutor::new()).build(connector),
        })
    }

    /// The server's address, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The console page of a change.
    pub fn change_page(&self, id: &str) -> String {
        format!("{}/changes/{id}", self.base)
    }

    pub async fn get(&self, path: &str) -> Result<Answer> {
        self.send(Method::GET, path, None).await
    }

    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.get(path).await?.json()
    }

    pub async fn send_json<B: Serialize>(
        &self,
        method: Method,
        path: &str,
        body: &B,
    ) -> Result<Answer> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Failure::Usage(format!("cannot write the request: {e}")))?;
        self.send(method, path, Some(Bytes::from(bytes))).await
    }

    /// Sends one request to `/api/v1{path}`; a non-2xx answer is [`Failure::Server`] with the
    /// server's code, message and field.
    pub async fn send(&self, method: Method, path: &str, body: Option<Bytes>) -> Result<Answer> {
        let url = format!("{}/api/v1{path}", self.base);
        let mut req = Request::builder()
            .method(method)
            .uri(&url)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header(header::ACCEPT, "application/json")
            .header(
                header::USER_AGENT,
                concat!("rollgate-cli/", env!("CARGO_PKG_VERSION")),
            );
        if body.is_some() {
            req = req.header(header::CONTENT_TYPE, "application/json");
        }
        let req = req
            .body(Full::new(body.unwrap_or_default()))
            .map_err(|e| Failure::Usage(format!("cannot build a request to {url}: {e}")))?;
        let unreachable = |e: String| {
            Failure::Network(format!(
                "cannot reach the server at {} ({e}); check ROLLGATE_URL",
                self.base
            ))
        };
        let res = tokio::time::timeout(REQUEST_TIMEOUT, self.http.request(req))
            .await
            .map_err(|_| unreachable(format!("no answer within {} s", REQUEST_TIMEOUT.as_secs())))?
            .map_err(|e| unreachable(error_chain(&e)))?;
        let status = res.status();
        let body = tokio::time::timeout(REQUEST_TIMEOUT, res.into_body().collect())
            .await
            .map_err(|_| unreachable("the answer stopped arriving".to_owned()))?
            .map_err(|e| unreachable(error_chain(&e)))?
            .to_bytes();
        if status.is_success() {
            return Ok(Answer { body });
        }
        Err(match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(e) => Failure::Server {
                status,
                code: e.error.code,
                message: e.error.message,
                field: e.error.field,
            },
            // Not the API's error shape: a proxy's page, or another service at that address.
            Err(_) => Failure::Server {
                status,
                code: "http".to_owned(),
                message: format!(
                    "{url} answered {status} without the API's error body; is ROLLGATE_URL a \
                     Rollgate server?"
                ),
                field: None,
            },
        })
    }
}

/// An error and its sources on one line ("client error (Connect): tcp connect error: …").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

/// Percent-encodes a query or path value.
pub fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
