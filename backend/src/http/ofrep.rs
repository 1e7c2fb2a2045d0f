//! `/ofrep/v1`: the OpenFeature Remote Evaluation Protocol (open-feature/protocol,
//! `service/openapi.yaml`), so that an application asks which variant a user gets through any
//! OpenFeature SDK's OFREP provider. Each change is a flag (its `flag_key`) whose value is the
//! variant's configuration object. Answers come from the instance's in-memory snapshot
//! (`app::flags`), never from a database read.

use std::convert::Infallible;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream::Stream;
use shared::ofrep::{
    OfrepBulk, OfrepEvaluation, OfrepEventStream, OfrepFailure, OfrepRequest, OfrepStreamEvent,
};
use utoipa_axum::router::OpenApiRouter;

use super::etag::etag_of;
use super::evaluate_auth::{EvaluateToken, OfrepBody, OfrepError, OfrepKey};
use crate::error::Error;
use crate::{AppState, app};

/// Largest evaluation request. A context is a handful of attributes; anything near this is
/// a mistake or an attack, and is refused before it is parsed.
pub const BODY_LIMIT: usize = 64 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(crate::route!(evaluate_flag))
        .routes(crate::route!(evaluate_flags))
        .routes(crate::route!(flag_events))
}

/// How long a client may keep the event stream open while idle before closing it (it
/// evaluates again when it comes back).
const INACTIVITY_DELAY_SEC: u32 = 120;

/// Evaluates one flag for a context (OFREP single flag evaluation). The value is the variant's
/// configuration: the change's baseline for `control`, its candidate for `candidate`. The
/// reason says why: `SPLIT` (the bucket decided), `TARGETING_MATCH` (the context is outside
/// the audiences this stage reaches), `DISABLED` (draft, eval, rolled back), `STATIC` (full).
#[utoipa::path(
    post,
    path = "/ofrep/v1/evaluate/flags/{key}",
    tag = "ofrep",
    params(("key" = String, Path, description = "The change's flag key")),
    request_body = OfrepRequest,
    responses(
        (status = 200, description = "The variant the context gets", body = OfrepEvaluation),
        (status = 400, description = "`PARSE_ERROR`, `TARGETING_KEY_MISSING` or \
         `INVALID_CONTEXT`", body = OfrepFailure),
        (status = 404, description = "`FLAG_NOT_FOUND`: no change has this key, or the token \
         is for another change", body = OfrepFailure),
        (status = 500, description = "`GENERAL`: the flag's stored rollout cannot be evaluated",
         body = OfrepFailure),
    )
)]
async fn evaluate_flag(
    token: EvaluateToken,
    State(state): State<AppState>,
    OfrepKey(key): OfrepKey,
    OfrepBody(body): OfrepBody,
) -> Result<Response, OfrepError> {
    let context = shared::ofrep::read_request(&body)
        .map_err(|(code, details)| OfrepError::bad_request(code, details).with_key(&key))?;
    let snapshot = state.flags.current(&state.pool).await?;
    let mut answer = Vec::with_capacity(1024);
    app::flags::write_one(&snapshot, &key, token.change_ids(), &context, &mut answer)?;
    Ok(([(header::CONTENT_TYPE, APPLICATION_JSON)], answer).into_response())
}

const APPLICATION_JSON: HeaderValue = HeaderValue::from_static("application/json");

/// Evaluates every flag the token may see for a context (OFREP bulk evaluation), with an
/// `ETag`: a client sending it back in `If-None-Match` gets `304 Not Modified` while no flag
/// changed for that context.
#[utoipa::path(
    post,
    path = "/ofrep/v1/evaluate/flags",
    tag = "ofrep",
    params(("If-None-Match" = Option<String>, Header, description = "The ETag of the answer \
            the client holds")),
    request_body = OfrepRequest,
    responses(
        (status = 200, description = "Every flag's variant, with an `ETag`", body = OfrepBulk),
        (status = 304, description = "Not modified: the client's `If-None-Match` is current"),
        (status = 400, description = "`PARSE_ERROR`, `TARGETING_KEY_MISSING` or \
         `INVALID_CONTEXT`", body = OfrepFailure),
        (status = 500, description = "`GENERAL`: the flags were never read", body = OfrepFailure),
    )
)]
async fn evaluate_flags(
    token: EvaluateToken,
    State(state): State<AppState>,
    headers: HeaderMap,
    OfrepBody(body): OfrepBody,
) -> Result<Response, OfrepError> {
    let context = shared::ofrep::read_request(&body)
        .map_err(|(code, details)| OfrepError::bad_request(code, details))?;
    let snapshot = state.flags.current(&state.pool).await?;
    let event_streams = [OfrepEventStream {
        kind: "sse".to_owned(),
        url: events_url(&state, &headers),
        inactivity_delay_sec: INACTIVITY_DELAY_SEC,
    }];
    // `OfrepBulk` as serde writes it, from each flag's pre-serialised answer.
    let mut answer = Vec::with_capacity(snapshot.flags.len() * 640 + 256);
    answer.extend_from_slice(b"{\"flags\":");
    let written = app::flags::write_all(&snapshot, token.change_ids(), &context, &mut answer)
        .and_then(|()| {
            answer.extend_from_slice(b",\"eventStreams\":");
            serde_json::to_writer(&mut answer, &event_streams)
        });
    if let Err(e) = written {
        return Err(Error::internal(format!("bulk answer not serialisable: {e}")).into());
    }
    answer.push(b'}');
    Ok(tagged(answer, &headers))
}

/// A bulk answer with its strong tag (the SHA-256 of the body, as the API's polled answers
/// have), or `304 Not Modified` to a client whose `If-None-Match` holds it. Not compressed
/// here: the compression layer does it for a client that asks.
fn tagged(body: Vec<u8>, headers: &HeaderMap) -> Response {
    let etag = etag_of(&body);
    let Ok(etag_value) = HeaderValue::from_str(&etag) else {
        return Error::internal("an ETag that is no header value").into_response();
    };
    let cache = [
        (header::ETAG, etag_value),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-cache"),
        ),
        (header::VARY, HeaderValue::from_static("accept-encoding")),
    ];
    if none_match(headers, &etag) {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (cache, [(header::CONTENT_TYPE, APPLICATION_JSON)], body).into_response()
}

/// Whether `etag` (quoted) is among the `If-None-Match` tags the client sent: the weak
/// comparison (RFC 9110 §13.1.2), so `W/"x"` matches `"x"`; `*` matches any answer.
fn none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

/// The event stream's absolute address: under `--public-url` when set, else at the `Host` the
/// request was sent to (the server speaks plain HTTP itself).
fn events_url(state: &AppState, headers: &HeaderMap) -> String {
    let path = format!(
        "{}{}",
        shared::paths::OFREP_BASE,
        shared::paths::OFREP_EVENTS
    );
    match state.public_url.as_deref() {
        Some(base) => format!("{}{path}", base.trim_end_matches('/')),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|h| h.to_str().ok())
                .unwrap_or("localhost");
            format!("http://{host}{path}")
        }
    }
}

/// Server-sent events announcing that flags changed (OFREP ADR 0008): each rebuild of this
/// instance's snapshot that changed a flag sends `{"type": "refetchEvaluation", …}` with the
/// snapshot's generation as the event id, and the client evaluates again. Nothing is sent
/// for the state at connection time: a client evaluates after connecting. Comments keep the
/// connection alive every 15 s.
#[utoipa::path(
    get,
    path = "/ofrep/v1/events",
    tag = "ofrep",
    responses(
        (status = 200, description = "An endless `text/event-stream` of `refetchEvaluation` \
         events", content_type = "text/event-stream", body = OfrepStreamEvent),
    )
)]
async fn flag_events(
    _token: EvaluateToken,
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let mut changes = state.flags.subscribe();
    changes.mark_unchanged();
    let events = futures_util::stream::unfold(changes, |mut changes| async move {
        changes.changed().await.ok()?;
        let generation = *changes.borrow_and_update();
        let data = OfrepStreamEvent {
            kind: "refetchEvaluation".to_owned(),
            last_modified: time::OffsetDateTime::now_utc().unix_timestamp(),
        };
        let event = Event::default()
            .id(generation.to_string())
            .json_data(&data)
            .unwrap_or_else(|_| Event::default().data("{\"type\":\"refetchEvaluation\"}"));
        Some((Ok(event), changes))
    });
    Sse::new(events).keep_alive(KeepAlive::default())
}
