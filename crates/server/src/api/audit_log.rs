//! The transition log and its audit: `GET /api/v1/log`, `GET /api/v1/audit/export`, `GET /api/v1/audit/verify`,
//! `GET|POST /api/v1/audit/checkpoints`.
//!
//! Over the API the log is always masked, as the CLI's default export: resident ID numbers as
//! `110105********1234`, payloads without their personal fields (names, free text). An unmasked export is the
//! CLI's (`tuanji audit export --unmasked`), recorded in the log.

use super::support::{date_param, over_org, over_root, Params, PathParams};
use crate::extract::request_sha256;
use crate::extract::{api, Caller, Done};
use crate::problem::{ApiError, ApiResult, Problem};
use crate::Shared;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use tuanji_engine::access::Role;
use tuanji_engine::audit::{InclusionProof, VerifyReport};
use tuanji_engine::export::{ExportFormat, LogQuery};
use tuanji_engine::{with_engine, Actor, EngineError};
use tuanji_store::CheckpointRow;
use utoipa::IntoParams;

/// Roles that may read the log of a subtree.
const REVIEWERS: [Role; 3] = [Role::SystemAdmin, Role::CommitteeAdmin, Role::Auditor];

/// Roles that may verify the whole log and take checkpoints.
const AUDITORS: [Role; 2] = [Role::SystemAdmin, Role::Auditor];

/// Entries `GET /api/v1/log` returns when no `limit` is given.
pub const LOG_DEFAULT_LIMIT: i64 = 1_000;

/// Most entries one request of the log or of an export returns (narrow a larger selection with `from`/`to`).
pub const LOG_MAX_LIMIT: i64 = 100_000;

/// A selection of the log. Every condition given must hold; entries come oldest first.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogParams {
    /// Organisation code: entries of its subtree. Without it, the whole log, which needs the role over the root.
    pub org: Option<String>,
    /// A person: resident ID, development number or instance id.
    pub member: Option<String>,
    /// Workflow name (`admission`, `relation`, `standing`, …).
    pub workflow: Option<String>,
    /// Command name (`apply`, `approve`, …).
    pub command: Option<String>,
    /// Rule code the entry checked (`ADM_AGE_MIN`, any case).
    pub rule: Option<String>,
    /// Effective on or after this date, `YYYY-MM-DD` (China Standard Time).
    pub from: Option<String>,
    /// Effective on or before this date, `YYYY-MM-DD`.
    pub to: Option<String>,
    /// At most this many entries, 1..=100,000 (default 1,000 for the log, 100,000 for an export).
    pub limit: Option<i64>,
    /// Export only: `jsonl` (default) or `csv` (UTF-8 with BOM).
    #[param(inline)]
    pub format: Option<String>,
}

impl LogParams {
    /// The engine's query, with the dates parsed and the limit checked.
    ///
    /// Errors: 400 naming the parameter.
    fn query(&self, default_limit: i64) -> ApiResult<LogQuery> {
        let from = date_param("from", self.from.as_deref())?;
        let to = date_param("to", self.to.as_deref())?;
        if let (Some(f), Some(t)) = (from, to) {
            if f > t {
                return Err(ApiError::bad_request(format!(
                    "query parameter `from` ({f}) is after `to` ({t})"
                )));
            }
        }
        let limit = self.limit.unwrap_or(default_limit);
        if !(1..=LOG_MAX_LIMIT).contains(&limit) {
            return Err(ApiError::bad_request(format!(
                "query parameter `limit` must be between 1 and {LOG_MAX_LIMIT}; got {limit}"
            )));
        }
        let text = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        Ok(LogQuery {
            member: text(&self.member),
            org: text(&self.org),
            workflow: text(&self.workflow),
            command: text(&self.command),
            rule: text(&self.rule),
            actor: None,
            from,
            to,
            limit: Some(limit),
        })
    }
}

/// The masked entries of `q`, in `format`, after checking the caller's role over `q.org` (or the root). A
/// person the caller does not cover and who has no entry in the selection is 404 as an unknown one, so that the
/// answer does not tell whether a resident ID is on record elsewhere.
async fn select(
    st: &Shared,
    actor: &Actor,
    q: &LogQuery,
    format: ExportFormat,
) -> ApiResult<(usize, Vec<u8>)> {
    match &q.org {
        Some(org) => {
            over_org(st, actor, org, &REVIEWERS).await?;
        }
        None => {
            over_root(st, actor, &REVIEWERS).await.map_err(|e| {
                if e.status() == StatusCode::FORBIDDEN {
                    ApiError::forbidden(format!(
                        "{} Name the organisation whose log you read: ?org=CODE",
                        e.0.detail
                    ))
                } else {
                    e
                }
            })?;
        }
    }
    let hidden = |m: &str| {
        ApiError::not_found(format!(
            "no person on record for {}",
            tuanji_domain::mask_id_like(m.trim())
        ))
    };
    let mut out = Vec::new();
    let n = with_engine!(&st.engine, e => e.audit_export(actor, q, format, false, &mut out).await)
        .map_err(|e| match e {
            EngineError::NotFound(_) if q.member.is_some() => {
                hidden(q.member.as_deref().unwrap_or(""))
            }
            EngineError::Input(m) => ApiError::bad_request(m),
            EngineError::Rule(v) => ApiError::bad_request(format!("query parameter `member`: {v}")),
            other => ApiError::from(other),
        })?;
    if let (0, Some(m)) = (n, &q.member) {
        let seen = with_engine!(&st.engine, e => e.gate_person(actor, m).await);
        if seen.is_err() {
            return Err(hidden(m));
        }
    }
    Ok((n, out))
}

/// Log entries, oldest first, masked: resident IDs as `110105********1234`, payloads without their personal
/// fields. Needs `auditor`, `committee_admin` or `system_admin` over `org` (or over the root without `org`).
/// Bad parameters → 400 naming the parameter.
#[utoipa::path(get, path = "/api/v1/log", tag = "audit",
    params(LogParams),
    responses((status = 200, description = "the entries (seq, effective_date, recorded_at, workflow, command, from_state, to_state, actor, role, rule_codes, member (masked), org, payload (masked), leaf_hash, chain_hash)", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn log(
    State(st): State<Shared>,
    caller: Caller,
    Params(p): Params<LogParams>,
) -> ApiResult<Json<Vec<serde_json::Value>>> {
    if p.format.is_some() {
        return Err(ApiError::bad_request(
            "query parameter `format` belongs to /api/v1/audit/export",
        ));
    }
    let q = p.query(LOG_DEFAULT_LIMIT)?;
    let (_, bytes) = select(&st, &caller.actor, &q, ExportFormat::JsonLines).await?;
    let rows = String::from_utf8_lossy(&bytes)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<Vec<serde_json::Value>, _>>()
        .map_err(|e| {
            tracing::error!(error = %e, "an exported log line does not parse");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the server failed (see the server log)",
            )
        })?;
    Ok(Json(rows))
}

/// The log selection as a file: JSON Lines (`format=jsonl`, `application/x-ndjson`) or CSV (`format=csv`,
/// `text/csv`, UTF-8 with BOM, so Excel opens it), always masked over the API. Same roles and parameters as
/// `GET /api/v1/log`; the header `X-Entries` gives the number of entries.
#[utoipa::path(get, path = "/api/v1/audit/export", tag = "audit",
    params(LogParams),
    responses((status = 200, description = "the export file", content_type = "application/x-ndjson", body = String),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn export(
    State(st): State<Shared>,
    caller: Caller,
    Params(p): Params<LogParams>,
) -> ApiResult<Response> {
    let (format, kind, ext) = match p.format.as_deref().map(str::trim) {
        None | Some("jsonl") => (ExportFormat::JsonLines, "application/x-ndjson", "jsonl"),
        Some("csv") => (ExportFormat::Csv, "text/csv; charset=utf-8", "csv"),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "query parameter `format` must be `jsonl` or `csv`; got `{other}`"
            )))
        }
    };
    let q = p.query(LOG_MAX_LIMIT)?;
    let (n, bytes) = select(&st, &caller.actor, &q, format).await?;
    let mut r = bytes.into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"tuanji-log.{ext}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert("x-entries", HeaderValue::from(n as u64));
    Ok(r)
}

/// Verifies the whole log (`tuanji audit verify`): every leaf, the chain, the head, every checkpoint's root and
/// signature, and a replay of every entry through the workflow tables compared with the stored projections. The
/// report's `fault` is `null` when everything verified, else the first fault (seq, kind, detail). Needs `auditor`
/// or `system_admin` over the root organisation.
#[utoipa::path(get, path = "/api/v1/audit/verify", tag = "audit",
    responses((status = 200, description = "the report (VerifyReport: entries, checkpoints, instances, root, fault)", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn verify(State(st): State<Shared>, caller: Caller) -> ApiResult<Json<VerifyReport>> {
    over_root(&st, &caller.actor, &AUDITORS).await?;
    let report = api(with_engine!(&st.engine, e => e.audit_verify(None, &|_, _| {}).await))?;
    Ok(Json(report))
}

/// An inclusion proof of log entry `seq` against the latest stored checkpoint covering it (`tuanji audit prove`):
/// the signed checkpoint, the entry and its audit path, to be checked offline with `tuanji audit check-proof`.
/// 422 when no checkpoint covers the entry yet or there is no such entry. Needs `auditor` or `system_admin` over the
/// root organisation.
#[utoipa::path(get, path = "/api/v1/audit/proofs/{seq}", tag = "audit",
    params(("seq" = i64, Path, description = "the entry's sequence number, from 1")),
    responses((status = 200, description = "the proof (InclusionProof)", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn prove(
    State(st): State<Shared>,
    caller: Caller,
    PathParams(seq): PathParams<i64>,
) -> ApiResult<Json<InclusionProof>> {
    over_root(&st, &caller.actor, &AUDITORS).await?;
    let proof = api(with_engine!(&st.engine, e => e.audit_prove(seq).await))?;
    Ok(Json(proof))
}

/// The stored checkpoints (C2SP signed notes), oldest first. Needs `auditor`, `committee_admin` or
/// `system_admin` over the root organisation.
#[utoipa::path(get, path = "/api/v1/audit/checkpoints", tag = "audit",
    responses((status = 200, description = "the checkpoints (id, size, root, chain_head, key_name, note, reason, created_at)", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn checkpoints(
    State(st): State<Shared>,
    caller: Caller,
) -> ApiResult<Json<Vec<CheckpointRow>>> {
    over_root(&st, &caller.actor, &REVIEWERS).await?;
    let rows = api(with_engine!(&st.engine, e => e.audit_checkpoints().await))?;
    Ok(Json(rows))
}

/// Takes a signed checkpoint of the log as it is now (reason `on_demand`) with the server's signing key
/// (`TUANJI_AUDIT_KEY`); 409 when the server has none. Needs `auditor` or `system_admin` over the root
/// organisation.
#[utoipa::path(post, path = "/api/v1/audit/checkpoints", tag = "audit",
    params(("Idempotency-Key" = Option<String>, Header, description = "1–200 printable ASCII characters")),
    responses((status = 201, description = "the checkpoint", body = Object),
              (status = "4XX", description = "refused (409: no signing key)", body = Problem, content_type = "application/problem+json")))]
pub async fn checkpoint(State(st): State<Shared>, caller: Caller, headers: HeaderMap) -> Response {
    let sha = request_sha256("POST", "/api/v1/audit/checkpoints", &[0u8; 32]);
    let engine = st.clone();
    crate::extract::command(&st, &caller, &headers, sha, "audit", |actor| async move {
        over_root(&engine, &actor, &AUDITORS).await?;
        let row = api(with_engine!(&engine.engine, e => e.audit_checkpoint_configured().await))?;
        Ok(Done {
            status: StatusCode::CREATED,
            body: row,
            version: None,
        })
    })
    .await
}
