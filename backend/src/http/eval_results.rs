//! A change's offline eval results (`/changes/{id}/eval-results`): a CI pipeline uploads the
//! eval bench's run with a service token of scope `ci` (`rollgate eval upload`), or a person who
//! may edit the change uploads it from a session; anyone signed in reads them.
//!
//! The rules (only in `eval`, validation, the gate's judgement) are `app::eval_results`.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::access::{AnyUser, EDITORS, Rule};
use shared::api::ErrorBody;
use shared::eval::{EvalResult, EvalUpload};
use shared::tokens::{SECRET_PREFIX, TokenScope};
use utoipa::openapi::security::SecurityRequirement;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};

use super::authz::{self, AuthUser, Caller, ClientAddress, Require};
use super::evaluate_auth::API_KEY_HEADER;
use super::extract::{Json, Path};
use super::ingest_auth::{LAST_USE_PRECISION, bearer};
use crate::AppState;
use crate::app::eval_results::{self, Uploader};
use crate::db::{self, audit::Who};
use crate::error::{Error, Result};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(with_ci_token(crate::route!(upload_eval_result)))
        .routes(crate::route!(list_eval_results))
}

/// The upload's operation with the service token as a second way in: the route's rule (read
/// from the first requirement) stays the editors' session, and the document also says a token
/// of scope `ci` is taken, as the extractor does.
fn with_ci_token(
    (schemas, mut paths, router): UtoipaMethodRouter<AppState>,
) -> UtoipaMethodRouter<AppState> {
    let ci = TokenScope::Ci.as_str();
    for item in paths.paths.values_mut() {
        if let Some(op) = item.post.as_mut() {
            op.security.get_or_insert_with(Vec::new).extend([
                SecurityRequirement::new(authz::TOKEN_SCHEME, [ci]),
                SecurityRequirement::new(authz::API_KEY_SCHEME, [ci]),
            ]);
        }
    }
    (schemas, paths, router)
}

/// Who uploads an eval result: a signed-in engineer, PM or admin, or a service token with the
/// scope `ci` sent as `Authorization: Bearer rg_ing_…` or `X-API-Key: rg_ing_…`.
#[derive(Debug, Clone)]
pub enum EvalUploader {
    Person(AuthUser),
    Token {
        id: String,
        name: String,
        /// The changes it may upload for; empty for every change.
        change_ids: Vec<String>,
        address: String,
    },
}

impl Caller for EvalUploader {
    const RULE: Option<Rule> = Some(Rule::Roles(EDITORS));
}

impl EvalUploader {
    /// The uploader as the use case records it; 403 when a token is limited to other changes.
    fn uploader_for(&self, change_id: &str) -> Result<Uploader> {
        match self {
            EvalUploader::Person(user) => Ok(Uploader {
                who: user.who(),
                label: user.user.name.clone(),
                user_id: Some(user.user.id.clone()),
                token_id: None,
            }),
            EvalUploader::Token {
                id,
                name,
                change_ids,
                address,
            } => {
                if !change_ids.is_empty() && !change_ids.iter().any(|c| c == change_id) {
                    return Err(Error::forbidden(format!(
                        "the service token \"{name}\" is for other changes; create a token for \
                         this change or a workspace-wide one"
                    )));
                }
                let label = format!("token:{name}");
                Ok(Uploader {
                    who: Who {
                        id: None,
                        label: label.clone(),
                        address: Some(address.clone()),
                    },
                    label,
                    user_id: None,
                    token_id: Some(id.clone()),
                })
            }
        }
    }
}

impl FromRequestParts<AppState> for EvalUploader {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self> {
        // A session was checked (cookie, CSRF, same site) by `authz::authorize`, which put the
        // user there.
        if let Some(user) = parts.extensions.get::<AuthUser>().cloned() {
            user.actor().require(EDITORS, "uploading an eval result")?;
            return Ok(EvalUploader::Person(user));
        }
        let secret = match parts.headers.get(header::AUTHORIZATION) {
            Some(value) => bearer(value.as_bytes()).ok_or_else(|| {
                Error::unauthorized(format!(
                    "the Authorization header must be `Bearer {SECRET_PREFIX}…`"
                ))
            })?,
            None => parts
                .headers
                .get(API_KEY_HEADER)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .ok_or_else(|| {
                    Error::unauthorized(format!(
                        "sign in as an engineer, PM or admin, or send a service token with the \
                         scope `ci` as `Authorization: Bearer {SECRET_PREFIX}…`"
                    ))
                })?,
        };
        let unknown = || Error::unauthorized("unknown service token");
        if !db::tokens::looks_like_secret(secret) {
            return Err(unknown());
        }
        let (token, last_used) = db::tokens::find_for_use(&state.pool, secret)
            .await?
            .ok_or_else(unknown)?;
        if let Some(at) = token.revoked_at {
            return Err(Error::unauthorized(format!(
                "the service token \"{}\" ({}…) was revoked at {at}",
                token.name, token.prefix
            )));
        }
        if !token.scopes.contains(&TokenScope::Ci) {
            return Err(Error::forbidden(format!(
                "the service token \"{}\" lacks the scope `{}`; create a token with it to \
                 upload eval results",
                token.name,
                TokenScope::Ci.as_str()
            )));
        }
        record_use(state, &token.id, last_used.as_deref()).await;
        let ClientAddress(address) = match ClientAddress::from_request_parts(parts, state).await {
            Ok(a) => a,
            Err(never) => match never {},
        };
        Ok(EvalUploader::Token {
            id: token.id,
            name: token.name,
            change_ids: token.change_ids,
            address,
        })
    }
}

/// Records the token's use at most once a minute, as the ingestion route does; a failure is
/// logged and the upload goes on (bookkeeping, not a check).
async fn record_use(state: &AppState, id: &str, last_used: Option<&str>) {
    let now = time::OffsetDateTime::now_utc();
    if last_used.is_some_and(|at| at >= db::timestamp(now - LAST_USE_PRECISION).as_str()) {
        return;
    }
    if let Err(e) = db::tokens::mark_used(&state.pool, id, &db::timestamp(now)).await {
        tracing::warn!(error = %e, token = %id, "the token's last use was not recorded");
    }
}

/// Uploads the eval bench's run for a change in `eval`; the answer says whether it meets the
/// plan's eval gate, which the canary needs (the newest upload counts).
#[utoipa::path(
    post,
    path = "/changes/{id}/eval-results",
    tag = "eval",
    params(("id" = String, Path, description = "The change's id")),
    request_body = EvalUpload,
    responses(
        (status = 201, description = "The stored result, judged against the plan's eval gate",
         body = EvalResult,
         headers(("Location" = String, description = "The change's eval results"))),
        (status = 403, description = "Not an engineer, PM or admin; a token without the \
                                      scope `ci` or limited to other changes", body = ErrorBody),
        (status = 404, description = "No such change", body = ErrorBody),
        (status = 409, description = "The change is not in eval", body = ErrorBody),
        (status = 422, description = "A bad field, named", body = ErrorBody),
    )
)]
async fn upload_eval_result(
    State(state): State<AppState>,
    Path(id): Path<String>,
    caller: EvalUploader,
    Json(upload): Json<EvalUpload>,
) -> Result<Response> {
    let by = caller.uploader_for(&id)?;
    let result = eval_results::upload(&state.pool, &by, &id, &upload).await?;
    Ok((
        StatusCode::CREATED,
        [(
            header::LOCATION,
            format!(
                "{}{}",
                shared::paths::BASE,
                shared::paths::change_eval_results(&id)
            ),
        )],
        Json(result),
    )
        .into_response())
}

/// A change's uploaded eval results, newest first, each judged against the plan's eval gate.
#[utoipa::path(
    get,
    path = "/changes/{id}/eval-results",
    tag = "eval",
    params(("id" = String, Path, description = "The change's id")),
    responses(
        (status = 200, description = "The results, newest first", body = Vec<EvalResult>),
        (status = 404, description = "No such change", body = ErrorBody),
    )
)]
async fn list_eval_results(
    State(state): State<AppState>,
    Path(id): Path<String>,
    _caller: Require<AnyUser>,
) -> Result<Json<Vec<EvalResult>>> {
    Ok(Json(eval_results::list(&state.pool, &id).await?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Request;

    async fn caller(state: &AppState, header: Option<(&str, &str)>) -> Result<EvalUploader> {
        let mut req = Request::post("/api/v1/changes/c/eval-results");
        if let Some((name, value)) = header {
            req = req.header(name, value);
        }
        let (mut parts, ()) = req.body(()).expect("request").into_parts();
        EvalUploader::from_request_parts(&mut parts, state).await
    }

    async fn token(state: &AppState, scopes: &[TokenScope], changes: &[&str]) -> String {
        token_with_id(state, scopes, changes).await.0
    }

    async fn token_with_id(
        state: &AppState,
        scopes: &[TokenScope],
        changes: &[&str],
    ) -> (String, String) {
        let secret = db::tokens::new_secret().expect("secret");
        let changes: Vec<String> = changes.iter().map(|c| (*c).to_owned()).collect();
        let info = db::tokens::create(
            &state.pool,
            "pipeline",
            &changes,
            scopes,
            &secret,
            &Who::system(),
            &db::now(),
        )
        .await
        .expect("token");
        (secret, info.id)
    }

    /// The token half of the extractor (the session half is `authz::authorize`'s, tested
    /// through the router): a `ci` token by either header; 401 for none, an unknown or a
    /// revoked one; 403 for another scope or, at upload, another change.
    #[tokio::test]
    async fn ci_tokens_are_taken_by_either_header_and_others_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let (pool, backend) = db::connect(&url).await.expect("database");
        let state = AppState::new(pool, backend, "dist");

        let ci = token(&state, &[TokenScope::Ci], &[]).await;
        for header in [
            ("authorization", format!("Bearer {ci}")),
            (API_KEY_HEADER, ci.clone()),
        ] {
            let by = caller(&state, Some((header.0, &header.1)))
                .await
                .expect("ci");
            let up = by.uploader_for("any-change").expect("every change");
            assert_eq!(up.label, "token:pipeline");
            assert!(up.token_id.is_some() && up.user_id.is_none());
        }

        let status = |r: Result<EvalUploader>| r.expect_err("refused").status();
        assert_eq!(status(caller(&state, None).await), StatusCode::UNAUTHORIZED);
        let unknown = db::tokens::new_secret().expect("secret");
        let bearer = format!("Bearer {unknown}");
        assert_eq!(
            status(caller(&state, Some(("authorization", &bearer))).await),
            StatusCode::UNAUTHORIZED
        );
        let (revoked, id) = token_with_id(&state, &[TokenScope::Ci], &[]).await;
        db::tokens::revoke(&state.pool, &id, &Who::system(), &db::now())
            .await
            .expect("revoke");
        let bearer = format!("Bearer {revoked}");
        assert_eq!(
            status(caller(&state, Some(("authorization", &bearer))).await),
            StatusCode::UNAUTHORIZED
        );
        let ingest = token(&state, &[TokenScope::Ingest], &[]).await;
        let bearer = format!("Bearer {ingest}");
        assert_eq!(
            status(caller(&state, Some(("authorization", &bearer))).await),
            StatusCode::FORBIDDEN
        );
        // A token limited to one change uploads for that change only.
        let limited = EvalUploader::Token {
            id: "t".into(),
            name: "pipeline".into(),
            change_ids: vec!["change-a".into()],
            address: "unknown".into(),
        };
        assert!(limited.uploader_for("change-a").is_ok());
        assert_eq!(
            limited
                .uploader_for("change-b")
                .expect_err("other change")
                .status(),
            StatusCode::FORBIDDEN
        );
    }
}
