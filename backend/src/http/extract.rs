//! Request extractors that answer bad input with the API's JSON errors instead of axum's plain
//! text rejections: a JSON body, a query string and a path parameter.
//!
//! Every rejection here happens before a handler runs, so nothing is stored for bad input.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use shared::validate;

use crate::error::{Error, Result};

/// A JSON request body, or a JSON response.
///
/// Rejections: no `application/json` (or `+json`) content type → 415; body over the limit →
/// 413; not well-formed JSON → 400 `malformed_json`; not an object, wrong types, missing or
/// unknown fields → 422 `validation` naming the field by its path (`plan.ramp[1].percent`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T, S> FromRequest<S> for Json<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self> {
        if !is_json(req.headers()) {
            return Err(Error::UnsupportedMediaType);
        }
        let limit = req
            .extensions()
            .get::<super::BodyLimit>()
            .map_or(super::BODY_LIMIT, |l| l.0);
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Error::PayloadTooLarge {
                    limit_kib: limit / 1024,
                }
            } else {
                Error::BadRequest(format!("the request body could not be read: {e}"))
            }
        })?;
        parse_json(&bytes).map(Json)
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

pub(super) fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    match essence.split_once('/') {
        Some((kind, sub)) => {
            kind.eq_ignore_ascii_case("application")
                && (sub.eq_ignore_ascii_case("json") || sub.to_ascii_lowercase().ends_with("+json"))
        }
        None => false,
    }
}

/// Parses a JSON document into `T`, naming the field at fault on failure.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    // JSON can only carry U+0000 escaped (a raw control character is malformed), so a body
    // without `\u0000` needs no second look; one with it is read once more to name the field.
    if bytes.windows(6).any(|w| w == b"\\u0000")
        && let Ok(doc) = serde_json::from_slice::<serde_json::Value>(bytes)
    {
        validate::no_nul_in(&doc)?;
    }
    // Every request body of this API is an object. serde would also accept an array for a
    // struct (fields by position), which nobody means.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
            .map_err(|e| Error::MalformedJson(e.to_string()))?;
        return Err(Error::Validation {
            field: None,
            message: "the body must be a JSON object".to_owned(),
        });
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        // A type error may be met before a syntax error further on (`{} {`); the whole body
        // must be JSON before a field can be blamed.
        if let Err(syntax) = serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
            return Error::MalformedJson(syntax.to_string());
        }
        data_error(&e.path().to_string(), e.inner())
    })?;
    // Trailing data after the document (`{}{}`) is as malformed as a missing brace.
    de.end().map_err(|e| Error::MalformedJson(e.to_string()))?;
    Ok(value)
}

/// A well-formed document that does not fit `T`. serde_json reports some type mismatches
/// (e.g. `null` for an enum) as syntax errors ("expected value"), hence the generic wording
/// for those.
fn data_error(path: &str, e: &serde_json::Error) -> Error {
    let message = match e.classify() {
        serde_json::error::Category::Data => without_position(&e.to_string()),
        _ => "invalid value for this field".to_owned(),
    };
    let field = field_of(path, &message);
    let message = match &field {
        Some(f) => format!("{f}: {message}"),
        None => message,
    };
    Error::Validation { field, message }
}

/// serde reports "missing field `x`" at the enclosing object; the field people need to fix is
/// `x` itself.
fn field_of(path: &str, message: &str) -> Option<String> {
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split_once('`'))
        .map(|(name, _)| name);
    let parent = (path != ".").then_some(path);
    match (parent, named) {
        // An unknown key is already on the path; a missing one is not.
        (Some(p), Some(n)) if p == n || p.ends_with(&format!(".{n}")) => Some(p.to_owned()),
        (Some(p), Some(n)) => Some(format!("{p}.{n}")),
        (None, Some(n)) => Some(n.to_owned()),
        (Some(p), None) => Some(p.to_owned()),
        (None, None) => None,
    }
}

/// serde_json appends " at line 1 column 17"; for data errors the field path says more.
fn without_position(message: &str) -> String {
    match message.rsplit_once(" at line ") {
        Some((head, tail))
            if tail
                .split(" column ")
                .all(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())) =>
        {
            head.to_owned()
        }
        _ => message.to_owned(),
    }
}

/// A typed query string. Empty values (`?state=`) count as absent, which is what a form
/// with an "any" choice sends. A value that does not fit → 422 naming the parameter.
#[derive(Debug, Clone, Copy, Default)]
pub struct Query<T>(pub T);

impl<T, S> FromRequestParts<S> for Query<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self> {
        parse_query(parts.uri.query().unwrap_or_default()).map(Query)
    }
}

pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T> {
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        validate::no_nul(&name.replace('\0', "\\u0000"), &name)?;
        validate::no_nul(&name, &value)?;
    }
    let given: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form_urlencoded::parse(query.as_bytes()).filter(|(_, v)| !v.is_empty()))
        .finish();
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(given.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let message = e.into_inner().to_string();
        let field = field_of(&path, &message);
        Error::Validation {
            message: match &field {
                Some(f) => format!("query parameter {f}: {message}"),
                None => message,
            },
            field,
        }
    })
}

/// A path parameter. axum's own rejection (e.g. invalid percent-encoding) is plain text; this
/// one is the API's JSON 400.
#[derive(Debug, Clone)]
pub struct Path<T>(pub T);

impl<T, S> FromRequestParts<S> for Path<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        // A NUL would reach the database as part of an id; name the parameter that holds it.
        if parts.uri.path().contains("%00")
            && let Ok(params) = axum::extract::RawPathParams::from_request_parts(parts, state).await
        {
            for (name, value) in &params {
                validate::no_nul(name, value)?;
            }
        }
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|e| Error::BadRequest(format!("bad path parameter: {}", e.body_text())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        inner: Vec<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        percent: f64,
    }

    fn field(body: &str) -> (String, Option<String>) {
        match parse_json::<Outer>(body.as_bytes()) {
            Ok(_) => panic!("{body} parsed"),
            Err(e @ Error::MalformedJson(_)) => ("malformed_json".into(), e.to_string().into()),
            Err(Error::Validation { field, .. }) => ("validation".into(), field),
            Err(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn json_errors_name_the_field() {
        assert_eq!(
            field(r#"{"name": "x", "inner": [{"percent": 1}, {"percent": "5"}]}"#),
            ("validation".into(), Some("inner[1].percent".into()))
        );
        assert_eq!(
            field(r#"{"name": "x"}"#),
            ("validation".into(), Some("inner".into()))
        );
        assert_eq!(
            field(r#"{"name": "x", "inner": [{"percent": 1, "extra": 2}]}"#),
            ("validation".into(), Some("inner[0].extra".into()))
        );
        assert_eq!(
            field(r#"{"name": "x", "inner": [], "typo": 1}"#),
            ("validation".into(), Some("typo".into()))
        );
        assert_eq!(field("[]"), ("validation".into(), None));
    }

    #[test]
    fn broken_json_is_malformed() {
        for body in [
            "",
            "{",
            r#"{"name": }"#,
            r#"{"name": "x", "inner": []} {}"#,
            r#"{} {}"#,
            r#"{"name": 5, "#,
        ] {
            assert_eq!(field(body).0, "malformed_json", "{body}");
        }
    }

    #[test]
    fn positions_are_trimmed_from_data_errors() {
        assert_eq!(
            without_position("missing field `x` at line 1 column 12"),
            "missing field `x`"
        );
        assert_eq!(without_position("no position here"), "no position here");
    }

    #[test]
    fn content_types() {
        let mut h = HeaderMap::new();
        assert!(!is_json(&h));
        for (ct, ok) in [
            ("application/json", true),
            ("application/json; charset=utf-8", true),
            ("Application/JSON", true),
            ("application/merge-patch+json", true),
            ("text/plain", false),
            ("application/x-www-form-urlencoded", false),
            ("json", false),
        ] {
            h.insert(header::CONTENT_TYPE, ct.parse().unwrap());
            assert_eq!(is_json(&h), ok, "{ct}");
        }
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Q {
        page: Option<u32>,
        kind: Option<String>,
    }

    #[test]
    fn query_strings() {
        let q: Q = parse_query("page=2&kind=").unwrap();
        assert_eq!((q.page, q.kind), (Some(2), None));
        match parse_query::<Q>("page=two") {
            Err(Error::Validation { field, .. }) => assert_eq!(field.as_deref(), Some("page")),
            other => panic!("{other:?}"),
        }
    }
}
