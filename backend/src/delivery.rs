//! The webhook delivery worker: sends published notices to their teams' webhooks, signed,
//! retried with exponential backoff, from the `deliveries` table; and, the same way, the
//! messages that are no notice ([`Message`]): the guardian's holds to the teams a change
//! affects, and requests for sign-off to the approvers' teams. A guardian's rollback goes
//! out as its notice, said as the guardian's with its reason.
//!
//! Publishing only writes rows (in its own transaction), so a slow or dead receiver never
//! slows a request. The worker claims one due row at a time with a compare-and-set, so
//! several server instances can run it without sending twice.
//!
//! Body: the incoming-webhook shape chat tools accept (`text` plus `attachments` with
//! `fields`). Signature: `X-Rollgate-Timestamp: <unix seconds>` and
//! `X-Rollgate-Signature: v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>`; receivers
//! recompute it and reject old timestamps to stop replays.

use std::time::Duration;

use hmac::{Hmac, Mac};
use http_body_util::Full;
use hyper::body::Bytes;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::Sha256;
use shared::change::AiChange;
use shared::comments::Comment;
use shared::notices::{Notice, chat_text};
use shared::rollout::TransitionAction;
use sqlx::AnyPool;
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::db;

/// How the worker paces itself.
#[derive(Debug, Clone)]
pub struct Config {
    /// Wait before the 2nd attempt; doubled for each later one, up to `max_backoff`.
    pub base_backoff: Duration,
    pub max_backoff: Duration,
    /// Attempts before a delivery is marked failed.
    pub max_attempts: i64,
    /// Longest wait for a receiver's answer.
    pub timeout: Duration,
    /// How often the table is looked at when idle.
    pub poll: Duration,
    /// The console's public address, for links in messages (see [`body`]).
    pub public_url: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            base_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(300),
            max_attempts: 8,
            timeout: Duration::from_secs(10),
            poll: Duration::from_secs(1),
            public_url: None,
        }
    }
}

/// Wait after failed attempt number `attempt` (1-based): base · 2^(attempt−1), capped.
pub fn backoff(config: &Config, attempt: i64) -> Duration {
    let exp = u32::try_from(attempt.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    config
        .base_backoff
        .saturating_mul(2u32.saturating_pow(exp))
        .min(config.max_backoff)
}

/// `v1=<hex>` for `body` sent at `timestamp` (unix seconds).
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// The JSON a chat tool's incoming webhook accepts. The title links to the change page when
/// the console's public address is known (`public_url`, e.g. `https://rollgate.example.com`);
/// a chat tool cannot follow a relative link, so without it there is none. Every text people
/// wrote goes through [`chat_text`], so it reaches the chat as plain text: the only links and
/// mentions in a message are the server's own.
pub fn body(notice: &Notice, public_url: Option<&str>) -> Value {
    let kind = notice.kind.headline();
    let audience: Vec<String> = notice
        .audience
        .iter()
        .map(|a| chat_text(&a.team_name))
        .collect();
    let mut fields = vec![
        json!({"title": "What users may notice", "value": chat_text(&notice.expected_changes), "short": false}),
    ];
    if !notice.talking_points.is_empty() {
        fields.push(
            json!({"title": "Talking points", "value": chat_text(&notice.talking_points), "short": false}),
        );
    }
    if let Some(at) = &notice.planned_at {
        fields.push(json!({"title": "Planned", "value": chat_text(at), "short": true}));
    }
    fields.push(json!({"title": "Audience", "value": audience.join(", "), "short": true}));
    let title = chat_text(&notice.change_title);
    let mut attachment = json!({ "title": title, "fields": fields });
    if let Some(base) = public_url {
        attachment["title_link"] = json!(format!("{base}/changes/{}", notice.change_id));
    }
    json!({
        "text": format!("{kind}: {title}"),
        "attachments": [attachment],
        "rollgate": {"notice_id": notice.id, "change_id": notice.change_id, "kind": notice.kind},
    })
}

/// A message that is no notice, or what is said with one, frozen when it is queued (stored as
/// JSON in `deliveries.message`): the guardian's hold or rollback, a request for sign-off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// The message's first line, e.g. "Held by the guardian: Shorter billing answers".
    pub text: String,
    pub change_id: String,
    pub change_title: String,
    /// `(title, value)` pairs shown before a notice's own fields.
    pub fields: Vec<(String, String)>,
    /// Merged into the body's `rollgate` object, for receivers that act on it.
    pub rollgate: Value,
}

impl Message {
    /// The guardian's `action` on `change`, with its reason: a hold says what a person can
    /// do; a rollback is said with its notice.
    pub fn guardian(
        change: &AiChange,
        action: TransitionAction,
        reason: &str,
        stage: &str,
    ) -> Message {
        let mut fields = vec![("Why".to_owned(), reason.to_owned())];
        let text = if action == TransitionAction::Pause {
            let (headline, next) =
                shared::guardian::hold_message(&change.title, stage, change.traffic_percent);
            fields.push(("What a person can do".to_owned(), next));
            headline
        } else {
            format!("Rolled back by the guardian: {}", change.title)
        };
        Message {
            text,
            change_id: change.id.clone(),
            change_title: change.title.clone(),
            fields,
            rollgate: json!({
                "event": "guardian",
                "by": crate::guardian::ACTOR,
                "action": action.as_str(),
                "reason": reason,
            }),
        }
    }

    /// A request for sign-off of the gate of `stage` of `change`, waiting for `missing`
    /// (e.g. "1 approver") after `asked_by` signed.
    pub fn sign_off(
        change: &AiChange,
        stage_key: &str,
        stage: &str,
        missing: &str,
        asked_by: &str,
    ) -> Message {
        Message {
            text: format!("Sign-off requested: {}", change.title),
            change_id: change.id.clone(),
            change_title: change.title.clone(),
            fields: vec![
                ("Gate".to_owned(), format!("entering {stage}")),
                ("Waiting for".to_owned(), missing.to_owned()),
                ("Asked by".to_owned(), asked_by.to_owned()),
            ],
            rollgate: json!({ "event": "sign_off", "stage": stage_key }),
        }
    }

    /// A comment on its change that mentions the receiving team.
    pub fn mention(c: &Comment) -> Message {
        let teams: Vec<&str> = c.mentions.iter().map(|m| m.team_name.as_str()).collect();
        Message {
            text: format!(
                "{} mentioned your team on {}",
                c.author_name, c.change_title
            ),
            change_id: c.change_id.clone(),
            change_title: c.change_title.clone(),
            fields: vec![
                ("Comment".to_owned(), c.text.clone()),
                ("Mentions".to_owned(), teams.join(", ")),
            ],
            rollgate: json!({ "event": "mention", "comment_id": c.id }),
        }
    }
}

/// The body of a delivery: the notice's ([`body`]) said with `message` when there is one, or
/// `message` alone. Every text goes through [`chat_text`], as in [`body`].
pub fn message_body(notice: Option<&Notice>, message: &Message, public_url: Option<&str>) -> Value {
    let fields: Vec<Value> = message
        .fields
        .iter()
        .map(|(t, v)| json!({"title": t, "value": chat_text(v), "short": false}))
        .collect();
    let mut out = match notice {
        Some(n) => body(n, public_url),
        None => {
            let title = chat_text(&message.change_title);
            let mut attachment = json!({ "title": title, "fields": [] });
            if let Some(base) = public_url {
                attachment["title_link"] = json!(format!("{base}/changes/{}", message.change_id));
            }
            json!({
                "attachments": [attachment],
                "rollgate": {"change_id": message.change_id},
            })
        }
    };
    out["text"] = json!(chat_text(&message.text));
    if let Some(list) = out["attachments"][0]["fields"].as_array_mut() {
        list.splice(0..0, fields);
    }
    if let (Some(into), Some(from)) = (
        out["rollgate"].as_object_mut(),
        message.rollgate.as_object(),
    ) {
        for (k, v) in from {
            into.insert(k.clone(), v.clone());
        }
    }
    out
}

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// One pooled client for http and https URLs: rustls with the ring provider and the
/// webpki (Mozilla) roots.
fn client() -> Result<HttpClient, String> {
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
        .map_err(|e| e.to_string())?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

/// Starts the worker; it stops when `stop` turns true (graceful shutdown).
pub fn spawn(pool: AnyPool, config: Config, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let client = match client() {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "webhook deliveries are off: no TLS client");
                return;
            }
        };
        loop {
            if *stop.borrow() {
                return;
            }
            match work_one(&pool, &client, &config).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "webhook delivery worker"),
            }
            tokio::select! {
                _ = tokio::time::sleep(config.poll) => {}
                _ = stop.changed() => {}
            }
        }
    })
}

/// Sends the most overdue delivery, if one is due; whether one was.
async fn work_one(
    pool: &AnyPool,
    client: &HttpClient,
    config: &Config,
) -> crate::error::Result<bool> {
    let now = OffsetDateTime::now_utc();
    // The claim outlives the attempt's timeout, so nobody else sends it meanwhile.
    let until = now + config.timeout + Duration::from_secs(30);
    let Some(d) = db::deliveries::claim(pool, &db::timestamp(now), &db::timestamp(until)).await?
    else {
        return Ok(false);
    };
    let notice = match &d.notice_id {
        Some(id) => {
            let mut conn = pool.acquire().await?;
            Some(db::notices::find(&mut conn, id).await?)
        }
        None => None,
    };
    let message = d
        .message
        .as_deref()
        .map(serde_json::from_str::<Message>)
        .transpose();
    let public_url = config.public_url.as_deref();
    let payload = match (notice, message) {
        (_, Err(e)) => Err(format!("the stored message does not read: {e}")),
        (Some(None), _) => Err("the notice no longer exists".to_owned()),
        (Some(Some(n)), Ok(None)) => Ok(body(&n, public_url)),
        (Some(Some(n)), Ok(Some(m))) => Ok(message_body(Some(&n), &m, public_url)),
        (None, Ok(Some(m))) => Ok(message_body(None, &m, public_url)),
        (None, Ok(None)) => Err("the delivery has neither a notice nor a message".to_owned()),
    };
    let outcome = match payload {
        Ok(b) => send(client, config, &d.url, d.secret.as_deref(), &b).await,
        Err(e) => Err(e),
    };
    let at = db::now();
    match outcome {
        Ok(()) => {
            db::deliveries::delivered(pool, &d.id, &at).await?;
            tracing::info!(delivery = %d.id, team = %d.team_id, attempt = d.attempt, "webhook delivered");
        }
        Err(error) => {
            let next = (d.attempt < config.max_attempts)
                .then(|| db::timestamp(OffsetDateTime::now_utc() + backoff(config, d.attempt)));
            tracing::warn!(delivery = %d.id, attempt = d.attempt, %error, gave_up = next.is_none(), "webhook attempt failed");
            db::deliveries::attempt_failed(pool, &d.id, &error, next.as_deref(), &at).await?;
        }
    }
    Ok(true)
}

async fn send(
    client: &HttpClient,
    config: &Config,
    url: &str,
    secret: Option<&str>,
    body: &Value,
) -> Result<(), String> {
    let bytes = serde_json::to_vec(body).map_err(|e| e.to_string())?;
    let timestamp = OffsetDateTime::now_utc().unix_timestamp();
    let mut req = hyper::Request::post(url)
        .header("content-type", "application/json")
        .header("user-agent", "Rollgate-Webhooks/1")
        .header("x-rollgate-timestamp", timestamp.to_string());
    if let Some(secret) = secret {
        req = req.header("x-rollgate-signature", signature(secret, timestamp, &bytes));
    }
    let req = req
        .body(Full::new(Bytes::from(bytes)))
        .map_err(|e| format!("bad request: {e}"))?;
    match tokio::time::timeout(config.timeout, client.request(req)).await {
        Err(_) => Err(format!(
            "no answer within {} s",
            config.timeout.as_secs_f64()
        )),
        Ok(Err(e)) => Err(format!("cannot reach the receiver: {e}")),
        Ok(Ok(res)) if res.status().is_success() => Ok(()),
        Ok(Ok(res)) => Err(format!("the receiver answered {}", res.status())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tls_client_builds() {
        assert!(client().is_ok());
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let c = Config::default();
        let secs: Vec<u64> = (1..=10).map(|a| backoff(&c, a).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300]);
    }

    fn notice() -> Notice {
        Notice {
            id: "n1".into(),
            change_id: "c1".into(),
            change_title: "Shorter billing answers".into(),
            previous_id: None,
            status: shared::notices::NoticeStatus::Published,
            kind: shared::notices::NoticeKind::Rollback,
            audience: vec![],
            planned_at: None,
            planned_stage: None,
            expected_changes: "Answers are long again.".into(),
            talking_points: String::new(),
            created_by: None,
            created_at: "2026-11-26T10:00:00.000000Z".into(),
            published_at: Some("2026-11-26T10:00:00.000000Z".into()),
            acknowledgements: vec![],
        }
    }

    #[test]
    fn messages_link_to_the_change_only_under_a_public_address() {
        let with = body(&notice(), Some("https://rollgate.example.com"));
        assert_eq!(with["text"], "Rolled back: Shorter billing answers");
        assert_eq!(
            with["attachments"][0]["title_link"],
            "https://rollgate.example.com/changes/c1"
        );
        let without = body(&notice(), None);
        assert!(without["attachments"][0].get("title_link").is_none());
        assert_eq!(
            without["attachments"][0]["title"],
            "Shorter billing answers"
        );
    }

    #[test]
    fn signatures_match_a_reference() {
        // Python: hmac.new(b"key", b"1.{}", hashlib.sha256).hexdigest()
        assert_eq!(
            signature("key", 1, b"{}"),
            "v1=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
        );
    }
}
