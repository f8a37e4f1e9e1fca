//! RFC 9457 problem details (`application/problem+json`): every error of the API, with the rule code, the facts
//! that failed and the rule's source when a League rule refused the command.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tuanji_engine::EngineError;
use utoipa::ToSchema;

/// A problem details object (RFC 9457). `type` is `about:blank` unless a rule refused the command, in which
/// case it names the rule (`urn:tuanji:rule:ADM_AGE_MIN`) and `rule`, `source` are set.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// `about:blank`, or `urn:tuanji:rule:CODE` for a rule refusal.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem (`Rule violated`, `Not found`, …).
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What happened, specific to this request (the facts that failed).
    pub detail: String,
    /// The rule code (`ADM_AGE_MIN`, …) when a League rule refused the command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// The rule's source (document and article, DOMAIN-SOURCES.md) when a rule refused the command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Bad rows of an imported file (line number and reason), when a file was refused.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<RowProblem>,
}

/// One bad row of a refused file.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RowProblem {
    /// Physical line number in the file (1 = header).
    pub line: usize,
    /// The column's header as written, when one column is at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The broken rule's code, where one applies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule: Option<String>,
    /// Why the row was refused.
    pub reason: String,
}

/// An error of the API; renders as problem+json.
#[derive(Debug)]
pub struct ApiError(pub Box<Problem>);

/// Result alias of the handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A problem with `status`, a title and a detail.
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        ApiError(Box::new(Problem {
            kind: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail: detail.into(),
            rule: None,
            source: None,
            errors: Vec::new(),
        }))
    }

    /// 400 Bad Request.
    pub fn bad_request(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, detail)
    }

    /// 404 Not Found.
    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, detail)
    }

    /// 403 Forbidden.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, detail)
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let status = match &e {
            EngineError::Rule(_) | EngineError::Rows(_) => StatusCode::UNPROCESSABLE_ENTITY,
            EngineError::Input(_) => StatusCode::UNPROCESSABLE_ENTITY,
            EngineError::Conflict(_) => StatusCode::CONFLICT,
            EngineError::Precondition(_) => StatusCode::PRECONDITION_FAILED,
            EngineError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            EngineError::Forbidden(_) => StatusCode::FORBIDDEN,
            EngineError::NotFound(_) => StatusCode::NOT_FOUND,
            EngineError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            EngineError::Workflow(_) | EngineError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut err = ApiError::new(status, e.to_string());
        match &e {
            EngineError::Rule(v) => {
                err.0.kind = format!("urn:tuanji:rule:{}", v.code.as_str());
                err.0.title = "Rule violated".into();
                err.0.rule = Some(v.code.as_str().to_owned());
                err.0.source = Some(v.code.source().to_owned());
            }
            EngineError::Rows(rows) => {
                err.0.errors = rows
                    .iter()
                    .map(|r| RowProblem {
                        line: r.line,
                        column: r.column.clone(),
                        rule: r.code.map(|c| c.as_str().to_owned()),
                        reason: r.reason.clone(),
                    })
                    .collect();
            }
            EngineError::Workflow(_) | EngineError::Store(_) => {
                // The cause goes to the server's log, not to the caller.
                tracing::error!(error = %e, "request failed");
                err.0.detail = "the server failed; nothing was written (see the server log)".into();
            }
            _ => {}
        }
        err
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&self.0).unwrap_or_default();
        let mut r = (status, body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            header::HeaderValue::from_static("application/problem+json"),
        );
        r
    }
}
