//! `/ofrep/v1`: the OpenFeature Remote Evaluation Protocol (open-feature/protocol,
//! `service/openapi.yaml`), so that an application asks which variant a user gets through any
//! OpenFeature SDK's OFREP provider. Each change is a flag (its `flag_key`) whose value is the
//! variant's configuration object. Answers come from the instance's in-memory snapshot
//! (`app::flags`), never from a database read.

use axum::extract::State;
use shared::ofrep::{OfrepBulk, OfrepEvaluation, OfrepFailure, OfrepRequest};
use utoipa_axum::router::OpenApiRouter;

use super::etag::{IfNoneMatch, Tagged};
use super::evaluate_auth::{EvaluateToken, OfrepBody, OfrepError};
use super::extract::{Json, Path};
use crate::{AppState, app};

/// Largest evaluation request. A context is a handful of attributes; anything near this is
/// a mistake or an attack, and is refused before it is parsed.
pub const BODY_LIMIT: usize = 64 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(crate::route!(evaluate_flag))
        .routes(crate::route!(evaluate_flags))
}

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
    Path(key): Path<String>,
    OfrepBody(body): OfrepBody,
) -> Result<Json<OfrepEvaluation>, OfrepError> {
    let context = shared::ofrep::read_request(&body)
        .map_err(|(code, details)| OfrepError::bad_request(code, details).with_key(&key))?;
    let snapshot = state.flags.current(&state.pool).await?;
    let answer = app::flags::evaluate_one(&snapshot, &key, token.change_id.as_deref(), &context)?;
    Ok(Json(answer))
}

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
    if_none_match: IfNoneMatch,
    OfrepBody(body): OfrepBody,
) -> Result<Tagged<OfrepBulk>, OfrepError> {
    let context = shared::ofrep::read_request(&body)
        .map_err(|(code, details)| OfrepError::bad_request(code, details))?;
    let snapshot = state.flags.current(&state.pool).await?;
    let flags = app::flags::evaluate_all(&snapshot, token.change_id.as_deref(), &context);
    Ok(Tagged::new(OfrepBulk { flags }, if_none_match))
}
