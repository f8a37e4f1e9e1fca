//! The Tuanji HTTP API (`tuanji serve`): the engine's commands and queries as REST resources under `/api/v1/`,
//! for branch secretaries, committee administrators, members and auditors at their own desks.
//!
//! - Every request names its caller with an API bearer token (`Authorization: Bearer tj_…`); the caller's role
//!   bindings on the organisation tree decide what it may see and do (ARCHITECTURE.md "Access").
//! - Every state change accepts `If-Match` with the instance version (412 when stale) and `Idempotency-Key`
//!   (a repeated key returns the first response and changes nothing; a key reused with another body is 422).
//! - Errors are RFC 9457 problem+json ([`problem::Problem`]) carrying the rule code and the rule's source.
//! - `/api/openapi.json` describes the API (OpenAPI 3.1), `/api/docs` is an interactive page, `/metrics` serves
//!   Prometheus metrics, `/healthz` answers when the database does.

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use tuanji_engine::AnyEngine;

mod api;
mod extract;
pub mod metrics;
pub mod openapi;
pub mod problem;

pub use extract::{Caller, JsonBody};
use problem::ApiError;

/// Largest request body accepted, in bytes (a roster of ~20,000 rows, or an application form PDF of 20 MB in
/// base64 does not fit: those go through the CLI). Larger bodies get 413.
pub const BODY_LIMIT: usize = 8 * 1024 * 1024;

/// How long a request may run before the server answers 408 (and the command's transaction is rolled back).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The state every handler shares: the engine over the database, and the metrics.
pub struct AppState {
    /// The engine (SQLite or PostgreSQL).
    pub engine: AnyEngine,
    /// Prometheus metrics.
    pub metrics: metrics::Metrics,
}

/// Shared handle of [`AppState`].
pub type Shared = Arc<AppState>;

/// The whole application: `/api/v1/…`, `/api/openapi.json`, `/api/docs`, `/metrics`, `/healthz`, with request
/// tracing, the timeout, the body limit and problem+json for unknown routes.
pub fn app(engine: AnyEngine) -> Router {
    let state = Arc::new(AppState {
        engine,
        metrics: metrics::Metrics::new(),
    });
    let (api, doc) = api::router().split_for_parts();
    Router::new()
        .merge(api)
        .merge(openapi::docs(doc))
        .route("/metrics", get(metrics::render))
        .route("/healthz", get(healthz))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), measure))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves [`app`] on `listener` until `shutdown` completes, then lets requests in flight finish.
///
/// Errors: the listener's I/O errors.
pub async fn serve(
    engine: AnyEngine,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(engine))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn healthz(State(st): State<Shared>) -> Result<&'static str, ApiError> {
    tuanji_engine::with_engine!(&st.engine, e => e.log(None, Some(1)).await)
        .map(|_| "ok")
        .map_err(|_| {
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "the database does not answer",
            )
        })
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no resource at {}", uri.path()))
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        format!("{} is not allowed on {}", method, uri.path()),
    )
}

/// Records each request's latency and status under its route template.
async fn measure(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    // Only the standard methods become label values: any other name would add a series per request.
    let method = match *req.method() {
        Method::GET
        | Method::POST
        | Method::PUT
        | Method::PATCH
        | Method::DELETE
        | Method::HEAD
        | Method::OPTIONS => req.method().as_str().to_owned(),
        _ => "other".to_owned(),
    };
    let start = Instant::now();
    let res = next.run(req).await.into_response();
    st.metrics
        .observe(&method, &route, res.status().as_u16(), start.elapsed());
    res
}
