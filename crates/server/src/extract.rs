//! Request extractors: the authenticated caller, JSON bodies (with precise 400/413/415/422 problems) and the
//! command runner that applies `If-Match` and `Idempotency-Key`.

use crate::problem::{ApiError, ApiResult};
use crate::Shared;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::de::DeserializeOwned;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tuanji_engine::principals::Claim;
use tuanji_engine::{with_engine, Actor, EngineResult};
use uuid::Uuid;

/// The authenticated caller of a request: from `Authorization: Bearer tj_…`. Missing, malformed, unknown or
/// revoked tokens get 401 with `WWW-Authenticate: Bearer`.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The principal.
    pub principal: Uuid,
    /// The actor the engine sees: the principal's name and grants.
    pub actor: Actor,
}

impl FromRequestParts<Shared> for Caller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &Shared) -> Result<Self, Self::Rejection> {
        let unauthorised = |detail: String| {
            let mut r = ApiError::new(StatusCode::UNAUTHORIZED, detail).into_response();
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            r
        };
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(unauthorised(
                "this needs an API token: Authorization: Bearer tj_… (tuanji token create)".into(),
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                // The scheme name is case-insensitive (RFC 9110, section 11.1).
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then_some(token)
            })
            .map(str::trim)
            .ok_or_else(|| unauthorised("the Authorization header is not `Bearer TOKEN`".into()))?;
        let who = with_engine!(&st.engine, e => e.authenticate(token).await)
            .map_err(|e| unauthorised(e.to_string()))?;
        let actor = who.actor();
        Ok(Caller {
            principal: who.principal_id,
            actor,
        })
    }
}

/// A JSON request body `T` and the hash of the request (method, path, query and body; [`request_sha256`]) that
/// its `Idempotency-Key` is bound to. Requires
/// `Content-Type: application/json` (415), at most [`crate::BODY_LIMIT`] bytes (413), valid JSON (400) of the
/// right shape, without unknown fields (422, naming the field and its position).
pub struct JsonBody<T> {
    /// The parsed body.
    pub value: T,
    /// [`request_sha256`] of the request.
    pub sha256: [u8; 32],
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                let v = v.trim();
                v.eq_ignore_ascii_case("application/json")
                    || (v.starts_with("application/") && v.ends_with("+json"))
            });
        if !json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the body must be JSON: Content-Type: application/json",
            ));
        }
        let (bytes, sha256) = read_body(req, state).await?;
        let value = match Json::<T>::from_bytes(&bytes) {
            Ok(Json(v)) => {
                // chrono also reads `+2026-11-23` and `2026-1-5` as dates: only YYYY-MM-DD is accepted.
                let loose = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| bad_date(&v, ""));
                if let Some(detail) = loose {
                    return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, detail));
                }
                v
            }
            Err(JsonRejection::JsonDataError(e)) => {
                let detail = serde_json::from_slice::<serde_json::Value>(&bytes)
                    .ok()
                    .and_then(|v| bad_date(&v, ""))
                    .unwrap_or_else(|| {
                        e.body_text().replace(
                            "Failed to deserialize the JSON body into the target type: ",
                            "",
                        )
                    });
                return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, detail));
            }
            Err(e) => {
                return Err(ApiError::bad_request(e.body_text().replace(
                    "Failed to parse the request body as JSON: ",
                    "malformed JSON: ",
                )))
            }
        };
        Ok(JsonBody { value, sha256 })
    }
}

/// Buffers a request body of at most [`crate::BODY_LIMIT`] bytes (413 beyond) and hashes the request with
/// [`request_sha256`].
pub async fn read_body<S: Send + Sync>(req: Request, state: &S) -> ApiResult<(Bytes, [u8; 32])> {
    let method = req.method().clone();
    let uri = req.uri().clone();
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(|e: BytesRejection| match e {
            BytesRejection::FailedToBufferBody(inner)
                if inner.status() == StatusCode::PAYLOAD_TOO_LARGE =>
            {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the body is larger than {} bytes", crate::BODY_LIMIT),
                )
            }
            other => ApiError::bad_request(other.body_text()),
        })?;
    let sha256 = request_sha256(
        method.as_str(),
        &uri.to_string(),
        &Sha256::digest(&bytes).into(),
    );
    Ok((bytes, sha256))
}

/// The hash an `Idempotency-Key` is bound to: SHA-256 of the method, the path with its query string, and the
/// SHA-256 of the body, separated by NUL bytes. A key reused on another resource, or with another query (such as
/// `dry_run`), is then a different request (422), not a replay of the first.
pub fn request_sha256(method: &str, path_and_query: &str, body_sha256: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update([0]);
    h.update(path_and_query.as_bytes());
    h.update([0]);
    h.update(body_sha256);
    h.finalize().into()
}

/// The first field of a body (at any depth) whose text has the shape of a date but is not a calendar date written
/// `YYYY-MM-DD` (`2026-02-30`, `2026-1-5`, `+2026-11-23`, `2026-11-23 `), named by its JSON path: serde's own message
/// for it ("input is out of range") names no field, and chrono accepts the loose forms.
fn bad_date(v: &serde_json::Value, path: &str) -> Option<String> {
    match v {
        serde_json::Value::String(t) => {
            let strict = t.len() == 10
                && t.bytes().enumerate().all(|(i, b)| {
                    if i == 4 || i == 7 {
                        b == b'-'
                    } else {
                        b.is_ascii_digit()
                    }
                });
            // Sign, 1–6 digits, `-`, 1–2 digits, `-`, 1–2 digits, surrounding spaces: what a date was meant to be.
            let core = t.trim().trim_start_matches(['+', '-']);
            let parts: Vec<&str> = core.split('-').collect();
            let date_like = parts.len() == 3
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                && parts[0].len() <= 6
                && parts[1].len() <= 2
                && parts[2].len() <= 2;
            let bad = if strict {
                chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").is_err()
            } else {
                date_like
            };
            bad.then(|| {
                format!(
                    "`{path}`: {t} is not a calendar date written YYYY-MM-DD (China Standard Time)"
                )
            })
        }
        serde_json::Value::Object(m) => m.iter().find_map(|(k, x)| {
            let p = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            bad_date(x, &p)
        }),
        serde_json::Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, x)| bad_date(x, &format!("{path}[{i}]"))),
        _ => None,
    }
}

/// The `If-Match` version of a request: `"7"`, `W/"7"` or `7`; `*` or no header: none.
///
/// Errors: 400 for anything else.
pub fn if_match(headers: &HeaderMap) -> ApiResult<Option<i64>> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = v.to_str().unwrap_or("").trim();
    if text == "*" {
        return Ok(None);
    }
    let bare = text.trim_start_matches("W/").trim_matches('"');
    bare.parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "If-Match must be an instance version such as \"7\" (from the ETag of a read), not `{text}`"
            ))
        })
}

/// The `Idempotency-Key` of a request: 1–200 printable ASCII characters.
///
/// Errors: 400 for anything else.
pub fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match v.to_str() {
        Ok(k)
            if !k.is_empty() && k.len() <= 200 && k.bytes().all(|b| (0x20..0x7f).contains(&b)) =>
        {
            Ok(Some(k.to_owned()))
        }
        _ => Err(ApiError::bad_request(
            "Idempotency-Key must be 1–200 printable ASCII characters",
        )),
    }
}

/// A command's response: its status, its JSON body and, when known, the instance version after it (`ETag`).
pub struct Done<T> {
    /// 200 or 201.
    pub status: StatusCode,
    /// The body.
    pub body: T,
    /// The version of the instance acted on, after the command.
    pub version: Option<i64>,
}

/// How long a request with the same `Idempotency-Key` waits for the first one to finish before answering 409.
const PENDING_WAIT: Duration = Duration::from_secs(20);

/// Runs a state-changing command for `caller`: the actor gets `If-Match` and `Idempotency-Key` from the headers;
/// with a key, the first response is stored and a repeated request (same principal, key and body) gets it back
/// without running again (`Idempotent-Replayed: true`); a different body under the same key is 422; a repeat
/// while the first still runs waits for it. Rule refusals are responses like any other and are replayed too;
/// a failure of the server releases the key so the request can be retried.
pub async fn command<T, F, Fut>(
    st: &Shared,
    caller: &Caller,
    headers: &HeaderMap,
    body_sha256: [u8; 32],
    workflow: &'static str,
    run: F,
) -> Response
where
    T: Serialize,
    F: FnOnce(Actor) -> Fut,
    Fut: std::future::Future<Output = ApiResult<Done<T>>>,
{
    match command_inner(st, caller, headers, body_sha256, workflow, run).await {
        Ok(r) | Err(r) => r,
    }
}

async fn command_inner<T, F, Fut>(
    st: &Shared,
    caller: &Caller,
    headers: &HeaderMap,
    body_sha256: [u8; 32],
    workflow: &'static str,
    run: F,
) -> Result<Response, Response>
where
    T: Serialize,
    F: FnOnce(Actor) -> Fut,
    Fut: std::future::Future<Output = ApiResult<Done<T>>>,
{
    let mut actor = caller.actor.clone();
    actor.if_version = if_match(headers).map_err(IntoResponse::into_response)?;
    // With If-Match, losing a race to another change of the same instance is a failed precondition too.
    let named = actor.if_version;
    let run = move |actor: Actor| {
        let fut = run(actor);
        async move {
            match (fut.await, named) {
                (Err(e), Some(v)) if e.status() == StatusCode::CONFLICT => Err(ApiError::new(
                    StatusCode::PRECONDITION_FAILED,
                    format!("the instance changed while this command ran: it is no longer at version {v} (If-Match); read it again and resubmit"),
                )),
                (other, _) => other,
            }
        }
    };
    let key = idempotency_key(headers).map_err(IntoResponse::into_response)?;
    actor.idempotency_key = key.clone();
    let Some(key) = key else {
        let res = run(actor).await;
        st.metrics.command(workflow, &res);
        return Ok(render(res).1);
    };
    let principal = caller.principal;
    let deadline = tokio::time::Instant::now() + PENDING_WAIT;
    loop {
        let claim =
            with_engine!(&st.engine, e => e.idempotency_claim(principal, &key, body_sha256).await)
                .map_err(|e| ApiError::from(e).into_response())?;
        match claim {
            Claim::Owned => break,
            Claim::Replay { status, body } => return Ok(replayed(status, body)),
            Claim::Mismatch => {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!(
                        "Idempotency-Key `{key}` was used before with a different request (method, path, query or body)"
                    ),
                )
                .into_response())
            }
            Claim::Pending if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Claim::Pending => {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    format!("a request with Idempotency-Key `{key}` is still running; retry later"),
                )
                .into_response())
            }
        }
    }
    let res = run(actor).await;
    st.metrics.command(workflow, &res);
    let server_failed = matches!(&res, Err(e) if e.status().is_server_error());
    let (stored, response) = render(res);
    let saved = if server_failed {
        with_engine!(&st.engine, e => e.idempotency_release(principal, &key).await)
    } else {
        with_engine!(&st.engine, e => e.idempotency_complete(principal, &key, stored.0, &stored.1).await)
    };
    saved.map_err(|e| ApiError::from(e).into_response())?;
    Ok(response)
}

/// Runs an engine command on one workflow instance through [`command`] and answers 200 with its outcome; the
/// `ETag` is the version of `reference`'s latest `workflow` instance afterwards (none without a reference).
pub async fn instance_command<T, F, Fut>(
    st: &Shared,
    caller: &Caller,
    headers: &HeaderMap,
    body_sha256: [u8; 32],
    workflow: &'static str,
    reference: Option<String>,
    run: F,
) -> Response
where
    T: Serialize,
    F: FnOnce(Actor) -> Fut,
    Fut: std::future::Future<Output = EngineResult<T>>,
{
    let engine = st.clone();
    command(
        st,
        caller,
        headers,
        body_sha256,
        workflow,
        |actor| async move {
            let body = api(run(actor.clone()).await)?;
            let version = match reference {
                Some(r) => version_after(&engine, &actor, &r, workflow).await,
                None => None,
            };
            Ok(Done {
                status: StatusCode::OK,
                body,
                version,
            })
        },
    )
    .await
}

/// The version of the person's latest `workflow` instance after a command (for the response's `ETag`); `None`
/// when it cannot be read (the command's own response stands).
async fn version_after(st: &Shared, actor: &Actor, reference: &str, workflow: &str) -> Option<i64> {
    let found: EngineResult<Option<i64>> = with_engine!(&st.engine, e => async {
        let p = e.gate_person(actor, reference).await?;
        e.instance_version(p, workflow).await
    }.await);
    found.ok().flatten()
}

/// The stored form (status, body text) and the response of a command's result.
fn render<T: Serialize>(res: ApiResult<Done<T>>) -> ((u16, String), Response) {
    match res {
        Ok(done) => {
            let body = serde_json::to_string(&done.body).unwrap_or_default();
            let mut r = (done.status, body.clone()).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            if let Some(v) = done.version {
                if let Ok(h) = HeaderValue::from_str(&format!("\"{v}\"")) {
                    r.headers_mut().insert(header::ETAG, h);
                }
            }
            ((done.status.as_u16(), body), r)
        }
        Err(e) => {
            let body = serde_json::to_string(&e.0).unwrap_or_default();
            ((e.0.status, body), e.into_response())
        }
    }
}

/// A stored response given back for a repeated `Idempotency-Key`.
fn replayed(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let kind = if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    };
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    r.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    r
}

/// A read's JSON body with the `ETag` of the instance it shows (its version, the value `If-Match` names), if any.
pub fn with_etag<T: Serialize>(body: T, version: Option<i64>) -> Response {
    let mut r = Json(body).into_response();
    if let Some(v) = version.and_then(|v| HeaderValue::from_str(&format!("\"{v}\"")).ok()) {
        r.headers_mut().insert(header::ETAG, v);
    }
    r
}

/// `EngineResult` to `ApiResult`.
pub fn api<T>(r: EngineResult<T>) -> ApiResult<T> {
    r.map_err(ApiError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_date_names_the_field_of_impossible_and_loose_dates() {
        let body =
            |d: &str| serde_json::json!({"command": "record_life", "note": "2026", "date": d});
        for d in [
            "2026-02-30",
            "2026-1-5",
            "+2026-11-23",
            "2026-11-23 ",
            "20261-11-23",
        ] {
            assert_eq!(
                bad_date(&body(d), ""),
                Some(format!(
                    "`date`: {d} is not a calendar date written YYYY-MM-DD (China Standard Time)"
                )),
                "{d}"
            );
        }
        for fine in ["2026-11-23", "2024-02-29"] {
            assert_eq!(bad_date(&body(fine), ""), None, "{fine}");
        }
        // Text that is not date-shaped is left alone, at any depth.
        let v = serde_json::json!({"grades": [["110105200801011234", "qualified"]], "summary": "2026年11月"});
        assert_eq!(bad_date(&v, ""), None);
        assert_eq!(
            bad_date(&serde_json::json!({"m": {"d": ["2026-13-01"]}}), ""),
            Some("`m.d[0]`: 2026-13-01 is not a calendar date written YYYY-MM-DD (China Standard Time)".to_owned())
        );
    }

    #[test]
    fn request_hash_differs_by_method_path_query_and_body() {
        let body = [7u8; 32];
        let a = request_sha256("POST", "/orgs/import?dry_run=true", &body);
        assert_ne!(a, request_sha256("POST", "/orgs/import", &body));
        assert_ne!(
            a,
            request_sha256("DELETE", "/orgs/import?dry_run=true", &body)
        );
        assert_ne!(
            a,
            request_sha256("POST", "/orgs/import?dry_run=true", &[8u8; 32])
        );
        assert_eq!(
            a,
            request_sha256("POST", "/orgs/import?dry_run=true", &body)
        );
    }
}
