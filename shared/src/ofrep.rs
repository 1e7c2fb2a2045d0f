//! The answers of the OpenFeature Remote Evaluation Protocol (OFREP, `service/openapi.yaml` of
//! open-feature/protocol) under `/ofrep/v1`: a change is a flag whose variants are `control`
//! (its baseline configuration) and `candidate`, and whose value is the variant's
//! configuration object. The field names are the protocol's (camelCase), not the API's.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::assignment::{EvaluationContext, Reason};
use crate::metrics::Variant;

/// OpenFeature's error codes, as OFREP sends them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OfrepErrorCode {
    /// 400: the body is not JSON, or not an object.
    ParseError,
    /// 400: the context has no `targetingKey` (or an empty one), so no bucket can be drawn.
    TargetingKeyMissing,
    /// 400: the context is not an object, or its `targetingKey` is not a string.
    InvalidContext,
    /// 404: no change has this flag key (or the token may not see it).
    FlagNotFound,
    /// Anything else: credentials (401/403), a body too large (413) or not JSON (415), a
    /// flag whose stored rollout cannot be evaluated (500).
    General,
}

/// Where the answer came from: the change behind the flag and its rollout position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OfrepMetadata {
    pub change_id: String,
    /// The rollout state's stored name: `draft`, `canary`, `ramp`, `rolled_back`, …
    pub stage: String,
    /// The state as people read it, e.g. "Ramp 25%".
    pub stage_label: String,
    /// The revision of the approved plan (bumped by every edit of a draft).
    pub plan_revision: i64,
    /// The change's revision: bumped by every edit and every move of the rollout.
    pub revision: i64,
    /// Whether the rollout is paused: held at its stage, every context keeping the variant
    /// it had, until someone resumes or rolls back. The reason stays the one the stage
    /// gives (`SPLIT`, `TARGETING_MATCH`, …): a pause changes no assignment.
    #[serde(default)]
    pub paused: bool,
    /// When it was paused (RFC 3339, UTC); absent while it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_at: Option<String>,
    /// The context's bucket in 0..10 000 (`shared::assignment::bucket`).
    pub bucket: u16,
}

/// A successful evaluation (`serverEvaluationSuccess` with an object value).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfrepEvaluation {
    /// The flag key.
    pub key: String,
    /// The variant's configuration: the change's baseline for `control`, its candidate for
    /// `candidate`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub value: Value,
    pub reason: Reason,
    pub variant: Variant,
    pub metadata: OfrepMetadata,
}

/// A failed evaluation (`evaluationFailure`, `flagNotFound`, `bulkEvaluationFailure`,
/// `generalErrorResponse`): the flag key when one flag was asked for, OpenFeature's code and
/// a sentence for the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OfrepFailure {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    pub error_code: OfrepErrorCode,
    pub error_details: String,
}

/// One flag of a bulk answer: its evaluation or why it has none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum OfrepBulkItem {
    Evaluated(OfrepEvaluation),
    Failed(OfrepFailure),
}

/// `POST /ofrep/v1/evaluate/flags` (`bulkEvaluationSuccess`): every flag the token may see,
/// and where to hear that they changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OfrepBulk {
    pub flags: Vec<OfrepBulkItem>,
    /// Server-sent event streams announcing changes (OFREP ADR 0008): a client re-fetches the
    /// bulk evaluation when one sends `refetchEvaluation`.
    #[serde(default)]
    pub event_streams: Vec<OfrepEventStream>,
}

/// A push channel of flag changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OfrepEventStream {
    /// `sse`, the one kind defined.
    #[serde(rename = "type")]
    pub kind: String,
    /// Where to connect, with the same service token as the evaluations.
    pub url: String,
    /// Seconds of client inactivity after which the client may close the stream.
    pub inactivity_delay_sec: u32,
}

/// The data of an event on the stream: `{"type": "refetchEvaluation", "lastModified": …}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct OfrepStreamEvent {
    /// `refetchEvaluation`: flags changed, evaluate again.
    #[serde(rename = "type")]
    pub kind: String,
    /// When the flags changed, Unix seconds.
    pub last_modified: i64,
}

/// The request body of both routes (`evaluationRequest`), as documented; the server reads it
/// by hand so that each defect gets its OFREP code rather than a generic parse error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfrepRequest {
    /// `{"targetingKey": "user-1", …}`: every other field is an attribute the audiences and
    /// segments are read from (`internal`, `email`, `plan`, `locale`, …).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub context: Value,
}

/// Reads an evaluation request's body into the context to evaluate for, or says what is wrong
/// with it in OFREP's terms: not JSON or not an object → `PARSE_ERROR`; a `context` that is
/// not an object, or a `targetingKey` that is not a string → `INVALID_CONTEXT`; no
/// `targetingKey`, or a blank one → `TARGETING_KEY_MISSING` (every flag is bucketed by it).
/// An absent or null `context` is an empty one; unknown top-level fields are ignored, as the
/// protocol may add some.
pub fn read_request(body: &[u8]) -> Result<EvaluationContext, (OfrepErrorCode, String)> {
    let parse = |message: String| (OfrepErrorCode::ParseError, message);
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| parse(format!("the request body is not valid JSON: {e}")))?;
    let Value::Object(mut request) = value else {
        return Err(parse(
            "the request body must be a JSON object: {\"context\": {…}}".to_owned(),
        ));
    };
    let mut context = match request.remove("context") {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(context)) => context,
        Some(_) => {
            return Err((
                OfrepErrorCode::InvalidContext,
                "`context` must be an object: {\"targetingKey\": \"…\", …}".to_owned(),
            ));
        }
    };
    let targeting_key = match context.remove("targetingKey") {
        Some(Value::String(key)) if !key.trim().is_empty() => key,
        None | Some(Value::Null) | Some(Value::String(_)) => {
            return Err((
                OfrepErrorCode::TargetingKeyMissing,
                "`context.targetingKey` is missing: send the user's, account's or session's \
                 id, which decides the variant"
                    .to_owned(),
            ));
        }
        Some(_) => {
            return Err((
                OfrepErrorCode::InvalidContext,
                "`context.targetingKey` must be a string".to_owned(),
            ));
        }
    };
    Ok(EvaluationContext {
        targeting_key,
        attributes: context.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(body: &str) -> OfrepErrorCode {
        read_request(body.as_bytes()).unwrap_err().0
    }

    #[test]
    fn each_defect_has_its_code() {
        use OfrepErrorCode::*;
        assert_eq!(code("{\"context\": "), ParseError);
        assert_eq!(code(""), ParseError);
        assert_eq!(code("[]"), ParseError);
        assert_eq!(code("{\"context\": 5}"), InvalidContext);
        assert_eq!(code("{\"context\": [\"u1\"]}"), InvalidContext);
        assert_eq!(
            code("{\"context\": {\"targetingKey\": 42}}"),
            InvalidContext
        );
        assert_eq!(code("{}"), TargetingKeyMissing);
        assert_eq!(code("{\"context\": null}"), TargetingKeyMissing);
        assert_eq!(
            code("{\"context\": {\"plan\": \"free\"}}"),
            TargetingKeyMissing
        );
        assert_eq!(
            code("{\"context\": {\"targetingKey\": \"  \"}}"),
            TargetingKeyMissing
        );
    }

    #[test]
    fn the_rest_of_the_context_is_attributes() {
        let c = read_request(
            br#"{"context": {"targetingKey": "u1", "plan": "free", "internal": true}, "x": 1}"#,
        )
        .unwrap();
        assert_eq!(c.targeting_key, "u1");
        assert_eq!(c.attribute("plan"), Some(&Value::from("free")));
        assert_eq!(c.attribute("internal"), Some(&Value::Bool(true)));
        assert_eq!(c.attribute("targetingKey"), None);
    }

    #[test]
    fn answers_use_the_protocols_names() {
        let f = OfrepFailure {
            key: None,
            error_code: OfrepErrorCode::TargetingKeyMissing,
            error_details: "d".into(),
        };
        assert_eq!(
            serde_json::to_value(&f).unwrap(),
            serde_json::json!({"errorCode": "TARGETING_KEY_MISSING", "errorDetails": "d"})
        );
    }
}
