//! Principals, role bindings and API tokens: `GET /api/v1/me`, `POST|GET /api/v1/principals`,
//! `POST|DELETE /api/v1/principals/{name}/bindings`, `POST|GET /api/v1/principals/{name}/tokens`,
//! `DELETE /api/v1/tokens/{id}`.
//!
//! Who may do what (ARCHITECTURE.md "Access"):
//! - Principals and their bindings are managed only by a `system_admin` (系统管理员) bound on the root organisation
//!   (团中央): a binding is a power over a subtree, and a `committee_admin` (团委管理员) who could create principals
//!   or bind roles could hand out more than it holds.
//! - Any caller may create, list and revoke its own tokens; a root `system_admin` may do so for any principal.

use super::support::over_root;
use crate::extract::request_sha256;
use crate::extract::{api, Caller, Done, JsonBody};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::Shared;
use axum::body::Body;
use axum::extract::{FromRequest, Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use tuanji_engine::access::{Grant, Role};
use tuanji_engine::principals::{BindingView, PrincipalView, TokenView};
use tuanji_engine::with_engine;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The only role that manages principals and bindings, over the root organisation.
const ADMIN: [Role; 1] = [Role::SystemAdmin];

/// The caller as the server sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// Principal id.
    pub id: uuid::Uuid,
    /// Principal name.
    pub name: String,
    /// Role bindings: role, organisation (code and path) or, for `member`, the person.
    #[schema(value_type = Vec<Object>)]
    pub grants: Vec<Grant>,
}

/// Who the token belongs to and what it may do.
#[utoipa::path(get, path = "/api/v1/me", tag = "access",
    responses((status = 200, description = "the caller", body = Me),
              (status = 401, description = "no valid token", body = Problem, content_type = "application/problem+json")))]
pub async fn whoami(caller: Caller) -> Json<Me> {
    Json(Me {
        id: caller.principal,
        name: caller.actor.name.clone(),
        grants: caller
            .actor
            .grants
            .as_ref()
            .map(|g| g.as_ref().clone())
            .unwrap_or_default(),
    })
}

/// A new principal (a person or system that calls the API).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPrincipal {
    /// Unique name, 1–50 characters, no control characters (trimmed).
    pub name: String,
}

/// Creates a principal with no binding and no token. Needs `system_admin` over the root organisation. Refused
/// (422) for a bad or taken name.
#[utoipa::path(post, path = "/api/v1/principals", tag = "access",
    request_body = NewPrincipal,
    params(("Idempotency-Key" = Option<String>, Header, description = "1–200 printable ASCII characters")),
    responses((status = 201, description = "the principal (PrincipalView: id, name, created_at, disabled_at, bindings, tokens)", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    State(st): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<NewPrincipal>,
) -> Response {
    let sha = body.sha256;
    let name = body.value.name;
    let engine = st.clone();
    crate::extract::command(&st, &caller, &headers, sha, "access", |actor| async move {
        over_root(&engine, &actor, &ADMIN).await?;
        let view: PrincipalView =
            api(with_engine!(&engine.engine, e => e.principal_add(&name).await))?;
        Ok(Done {
            status: StatusCode::CREATED,
            body: view,
            version: None,
        })
    })
    .await
}

/// Every principal, by name, with its bindings (a member binding shows the member's masked resident ID) and the
/// number of its tokens not revoked; never a token. Needs `system_admin` over the root organisation.
#[utoipa::path(get, path = "/api/v1/principals", tag = "access",
    responses((status = 200, description = "the principals (PrincipalView)", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn list(State(st): State<Shared>, caller: Caller) -> ApiResult<Json<Vec<PrincipalView>>> {
    over_root(&st, &caller.actor, &ADMIN).await?;
    let all = api(with_engine!(&st.engine, e => e.principal_list().await))?;
    Ok(Json(all))
}

/// A role binding: `role` over an organisation (`org`, its code) or, for `member`, over a member's own record
/// (`member`: resident ID or development number). Exactly one of `org` and `member`.
#[derive(Debug, Deserialize, ToSchema, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    /// `system_admin`, `committee_admin`, `branch_secretary` (on a branch), `auditor` or `member`.
    #[schema(value_type = String)]
    #[param(value_type = String)]
    pub role: Role,
    /// Organisation code (every role but `member`).
    pub org: Option<String>,
    /// Member reference (role `member` only).
    pub member: Option<String>,
}

impl Binding {
    /// The engine's target: the organisation code, or the member reference for `member`.
    ///
    /// Errors: 422 when the target does not fit the role.
    fn target(&self) -> ApiResult<&str> {
        let unprocessable = |m: &str| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m);
        match (self.role, self.org.as_deref(), self.member.as_deref()) {
            (_, Some(_), Some(_)) => Err(unprocessable(
                "give either `org` (an organisation code) or `member` (for role member), not both",
            )),
            (Role::Member, Some(_), None) => Err(unprocessable(
                "a member binding covers a member's own record: give `member` (resident ID or development number), not `org`",
            )),
            (Role::Member, None, Some(m)) => Ok(m),
            (Role::Member, None, None) => Err(unprocessable(
                "a member binding needs `member` (resident ID or development number)",
            )),
            (role, None, Some(_)) => Err(unprocessable(&format!(
                "a {role} binding is on an organisation: give `org` (its code), not `member`"
            ))),
            (_, Some(o), None) => Ok(o),
            (role, None, None) => Err(unprocessable(&format!(
                "a {role} binding needs `org` (an organisation code)"
            ))),
        }
    }
}

/// Gives principal `name` a role binding (it acts from the next request of its tokens). Needs `system_admin`
/// over the root organisation. Refused (422) for a binding it holds already, a `branch_secretary` binding on an
/// organisation that is not a branch, a person who is not a member; 404 for an unknown principal, organisation or
/// member.
#[utoipa::path(post, path = "/api/v1/principals/{name}/bindings", tag = "access",
    request_body = Binding,
    params(("name" = String, Path, description = "principal name"),
           ("Idempotency-Key" = Option<String>, Header, description = "1–200 printable ASCII characters")),
    responses((status = 201, description = "the binding (BindingView: role, org_code, member masked)", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn bind(
    State(st): State<Shared>,
    caller: Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: JsonBody<Binding>,
) -> Response {
    let sha = body.sha256;
    let b = body.value;
    let engine = st.clone();
    crate::extract::command(&st, &caller, &headers, sha, "access", |actor| async move {
        over_root(&engine, &actor, &ADMIN).await?;
        let target = b.target()?;
        let view: BindingView =
            api(with_engine!(&engine.engine, e => e.grant(&name, b.role, target).await))?;
        Ok(Done {
            status: StatusCode::CREATED,
            body: view,
            version: None,
        })
    })
    .await
}

/// Takes back a binding of principal `name`, named in a JSON body or in the query string (`role`, `org` |
/// `member`). Needs `system_admin` over the root organisation. 404 for a binding the principal does not hold.
#[utoipa::path(delete, path = "/api/v1/principals/{name}/bindings", tag = "access",
    request_body(content = Option<Binding>, description = "the binding; or give it in the query string"),
    params(("name" = String, Path, description = "principal name"), Binding,
           ("Idempotency-Key" = Option<String>, Header, description = "1–200 printable ASCII characters")),
    responses((status = 200, description = "the binding taken back (BindingView)", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn unbind(
    State(st): State<Shared>,
    caller: Caller,
    Path(name): Path<String>,
    req: Request,
) -> Response {
    let headers = req.headers().clone();
    let uri = req.uri().clone();
    let has_body = headers.contains_key(header::CONTENT_TYPE)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0");
    let (b, sha) = if has_body {
        match JsonBody::<Binding>::from_request(req, &()).await {
            Ok(b) => (b.value, b.sha256),
            Err(e) => return e.into_response(),
        }
    } else {
        match Query::<Binding>::try_from_uri(&uri) {
            Ok(Query(b)) => (b, request_sha256("DELETE", &uri.to_string(), &[0u8; 32])),
            Err(e) => {
                return ApiError::bad_request(format!(
                "name the binding in a JSON body or in the query string (role, org | member): {}",
                e.body_text()
                    .replace("Failed to deserialize query string: ", "")
            ))
                .into_response()
            }
        }
    };
    let engine = st.clone();
    crate::extract::command(&st, &caller, &headers, sha, "access", |actor| async move {
        over_root(&engine, &actor, &ADMIN).await?;
        let target = b.target()?;
        let view: BindingView =
            api(with_engine!(&engine.engine, e => e.ungrant(&name, b.role, target).await))?;
        Ok(Done {
            status: StatusCode::OK,
            body: view,
            version: None,
        })
    })
    .await
}

/// A new API token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// Free text, at most 100 characters (default empty), e.g. the device it is for.
    #[serde(default)]
    pub label: String,
}

/// A token just created: its bearer secret, shown in this response only, and its description.
#[derive(Debug, Serialize)]
pub struct TokenCreated {
    /// The bearer token `tj_<id>_<secret>`, for `Authorization: Bearer …`. Shown once: it is stored only as an
    /// argon2id hash, and a replay of the request (same `Idempotency-Key`) answers `null` here.
    pub token: Option<String>,
    /// The token's id, principal, label and dates.
    #[serde(flatten)]
    pub view: TokenView,
}

/// Whether `caller` is the principal `name`, or else holds `system_admin` over the root.
///
/// Errors: 403 for another principal's tokens.
async fn own_or_admin(st: &Shared, caller: &Caller, name: &str) -> ApiResult<()> {
    if caller.actor.name == name.trim() {
        return Ok(());
    }
    over_root(st, &caller.actor, &ADMIN).await.map_err(|e| {
        if e.status() == StatusCode::FORBIDDEN {
            ApiError::forbidden(
                "a principal manages its own tokens; another principal's need system_admin over the root organisation",
            )
        } else {
            e
        }
    })?;
    Ok(())
}

/// Creates an API token for principal `name` (the caller itself, or any principal for a root `system_admin`):
/// 201 with the bearer token, shown this once. Refused (422) for a disabled principal or a bad label.
#[utoipa::path(post, path = "/api/v1/principals/{name}/tokens", tag = "access",
    request_body = NewToken,
    params(("name" = String, Path, description = "principal name"),
           ("Idempotency-Key" = Option<String>, Header, description = "1–200 printable ASCII characters; a replay answers `token: null`")),
    responses((status = 201, description = "the token (`token` and TokenView: id, principal, label, created_at, revoked_at, last_used_on)", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn create_token(
    State(st): State<Shared>,
    caller: Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: JsonBody<NewToken>,
) -> Response {
    let sha = body.sha256;
    let label = body.value.label;
    let engine = st.clone();
    let who = caller.clone();
    // The secret never reaches the stored (replayable) response: it is put into this response only.
    let secret: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
    let slot = secret.clone();
    let res = crate::extract::command(&st, &caller, &headers, sha, "access", |_| async move {
        own_or_admin(&engine, &who, &name).await?;
        let (view, token) =
            api(with_engine!(&engine.engine, e => e.token_create(&name, &label).await))?;
        if let Ok(mut s) = slot.lock() {
            *s = Some(token);
        }
        Ok(Done {
            status: StatusCode::CREATED,
            body: TokenCreated { token: None, view },
            version: None,
        })
    })
    .await;
    let token = secret.lock().ok().and_then(|mut s| s.take());
    match token {
        Some(token) => with_secret(res, token).await,
        None => res,
    }
}

/// `res` (a created token's JSON) with its `token` field set to the bearer token.
async fn with_secret(res: Response, token: String) -> Response {
    let (parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, crate::BODY_LIMIT).await else {
        return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "the response was lost")
            .into_response();
    };
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if let Some(obj) = value.as_object_mut() {
        obj.insert("token".into(), serde_json::Value::String(token));
    }
    let mut parts = parts;
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(value.to_string()))
}

/// Principal `name`'s tokens, revoked ones too, oldest first (never a secret). The caller's own, or any
/// principal's for a root `system_admin`.
#[utoipa::path(get, path = "/api/v1/principals/{name}/tokens", tag = "access",
    params(("name" = String, Path, description = "principal name")),
    responses((status = 200, description = "the tokens (TokenView)", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn list_tokens(
    State(st): State<Shared>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Vec<TokenView>>> {
    own_or_admin(&st, &caller, &name).await?;
    let tokens = api(with_engine!(&st.engine, e => e.tokens(&name).await))?;
    Ok(Json(tokens))
}

/// Revokes token `id` (the 32 hex digits after `tj_`, or the UUID): every request with it is refused from now
/// on. The caller's own token, or any token for a root `system_admin`; another principal's token is 404 as an
/// unknown one. Revoking a revoked token changes nothing.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "access",
    params(("id" = String, Path, description = "token id"),
           ("Idempotency-Key" = Option<String>, Header, description = "1–200 printable ASCII characters")),
    responses((status = 200, description = "the token (TokenView) with revoked_at", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_token(
    State(st): State<Shared>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Ok(token_id) = Uuid::parse_str(id.trim()) else {
        return ApiError::bad_request(format!(
            "`{}` is not a token id (the 32 hex digits after `tj_`)",
            id.chars().take(40).collect::<String>()
        ))
        .into_response();
    };
    let sha = request_sha256("DELETE", &format!("/api/v1/tokens/{token_id}"), &[0u8; 32]);
    let engine = st.clone();
    let who = caller.clone();
    crate::extract::command(&st, &caller, &headers, sha, "access", |_| async move {
        let own = api(with_engine!(&engine.engine, e => e.tokens(&who.actor.name).await))?
            .iter()
            .any(|t| t.id == token_id);
        if !own && over_root(&engine, &who.actor, &ADMIN).await.is_err() {
            return Err(ApiError::not_found(format!(
                "you hold no token with id {token_id}"
            )));
        }
        let view = api(with_engine!(&engine.engine, e => e.token_revoke(token_id).await))?;
        Ok(Done {
            status: StatusCode::OK,
            body: view,
            version: None,
        })
    })
    .await
}
