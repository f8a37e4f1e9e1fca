//! Annual evaluation (团员教育评议) of a branch: `POST|GET /api/v1/orgs/{org}/evaluations/{year}`.

use super::support::{year_param, PathParams};
use crate::extract::{api, with_etag, Caller, Done, JsonBody};
use crate::problem::{ApiResult, Problem};
use crate::Shared;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tuanji_engine::evaluation::{EvaluationCommand, EvaluationView};
use tuanji_engine::with_engine;

/// An evaluation command for a branch's round of a year: `command` is one of `record`, `amend`, `approve`,
/// `reevaluate`, `advise_withdrawal`, `close`, with its fields (grades as `[[member, grade], …]`). The caller
/// needs a role the transition allows over the branch (approval: the superior committee). Rules:
/// `workflows/evaluation.v1.toml` (EVL_*).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/evaluations/{year}", tag = "evaluation",
    request_body = EvaluationCommand,
    params(("org" = String, Path, description = "branch code"), ("year" = i32, Path, description = "the year evaluated"),
           ("If-Match" = Option<String>, Header, description = "the round's version"),
           ("Idempotency-Key" = Option<String>, Header, description = "1–200 printable ASCII characters")),
    responses((status = 200, description = "what the command did (EvaluationOutcome); ETag: the round's new version", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn command(
    State(st): State<Shared>,
    caller: Caller,
    PathParams((branch, year)): PathParams<(String, i32)>,
    headers: HeaderMap,
    body: JsonBody<EvaluationCommand>,
) -> Response {
    let year = match year_param(year) {
        Ok(y) => y,
        Err(e) => return e.into_response(),
    };
    let (cmd, engine) = (body.value, st.clone());
    crate::extract::command(
        &st,
        &caller,
        &headers,
        body.sha256,
        "evaluation",
        |actor| async move {
            let out = api(
                with_engine!(&engine.engine, e => e.evaluation(&actor, &branch, year, &cmd).await),
            )?;
            let version = Some(out.round.version);
            Ok(Done {
                status: StatusCode::OK,
                body: out,
                version,
            })
        },
    )
    .await
}

/// A branch's round for a year: state, attendance, grades, approval, re-evaluations. Needs a binding (other than
/// `member`) over the branch.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/evaluations/{year}", tag = "evaluation",
    params(("org" = String, Path, description = "branch code"), ("year" = i32, Path, description = "the year evaluated")),
    responses((status = 200, description = "the round (EvaluationView); ETag: its version", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn show(
    State(st): State<Shared>,
    caller: Caller,
    PathParams((branch, year)): PathParams<(String, i32)>,
) -> ApiResult<Response> {
    let year = year_param(year)?;
    let v: EvaluationView = api(with_engine!(&st.engine, e => async {
        e.authorise_org(&caller.actor, &branch, &super::orgs::READERS).await?;
        e.evaluation_show(&branch, year).await
    }.await))?;
    let etag = Some(v.version);
    Ok(with_etag(v, etag))
}
