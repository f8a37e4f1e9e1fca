//! League standing (团籍), dues and Party recommendation of one member:
//! `POST|GET /api/v1/members/{member}/standing`, `GET /api/v1/members/{member}/dues`,
//! `POST|GET /api/v1/members/{member}/party`, `GET /api/v1/orgs/{org}/party`.

use super::support::Params;
use crate::extract::{api, instance_command, with_etag, Caller, JsonBody};
use crate::problem::{ApiResult, Problem};
use crate::Shared;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use tuanji_engine::party::{PartyCommand, PartyView};
use tuanji_engine::standing::{DuesView, StandingCommand, StandingView};
use tuanji_engine::with_engine;
use utoipa::IntoParams;

/// A standing command for the member named by resident ID or development number: `command` is one of
/// `put_on_probation`, `end_probation`, `expel`, `record_appeal`, `decide_appeal`, `withdraw`, `remove`,
/// `record_death`, `join_party`, `record_dues`, `record_life`, `assign_post`, `end_post`, `age_out`, with its
/// fields (decisions name the branch meeting, the approving organisation and the effective date). The caller
/// needs a role the transition allows over the member's branch. `If-Match` names the standing instance's
/// version. Rules: `workflows/standing.v1.toml` (STD_*, DUE_STUDENT).
#[utoipa::path(post, path = "/api/v1/members/{member}/standing", tag = "standing",
    request_body = StandingCommand,
    params(("member" = String, Path, description = "resident ID or development number"),
           ("If-Match" = Option<String>, Header, description = "the standing instance's version"),
           ("Idempotency-Key" = Option<String>, Header, description = "1–200 printable ASCII characters")),
    responses((status = 200, description = "what the command did (StandingOutcome); ETag: the new version", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn command(
    State(st): State<Shared>,
    caller: Caller,
    Path(member): Path<String>,
    headers: HeaderMap,
    body: JsonBody<StandingCommand>,
) -> Response {
    let (cmd, engine) = (body.value, st.clone());
    instance_command(
        &st,
        &caller,
        &headers,
        body.sha256,
        "standing",
        Some(member.clone()),
        |actor| async move {
            with_engine!(&engine.engine, e => e.standing(&actor, &member, &cmd).await)
        },
    )
    .await
}

/// A member's standing: state, probation, posts, age-out month, appeals, Party, lapse and dues. Visible to the
/// member and to bindings over their branch; anyone else gets 404.
#[utoipa::path(get, path = "/api/v1/members/{member}/standing", tag = "standing",
    params(("member" = String, Path, description = "resident ID or development number")),
    responses((status = 200, description = "the standing (StandingView); ETag: the standing instance's version", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn show(
    State(st): State<Shared>,
    caller: Caller,
    Path(member): Path<String>,
) -> ApiResult<Response> {
    let v: StandingView = api(with_engine!(&st.engine, e => async {
        e.gate_person(&caller.actor, &member).await?;
        e.standing_show(&member).await
    }.await))?;
    let etag = v.version;
    Ok(with_etag(v, etag))
}

/// A member's dues (团费) today: months paid and arrears in months and yuan (DUE_STUDENT). Recording a payment is
/// the standing command `record_dues`.
#[utoipa::path(get, path = "/api/v1/members/{member}/dues", tag = "standing",
    params(("member" = String, Path, description = "resident ID or development number")),
    responses((status = 200, description = "the dues (DuesView)", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn dues(
    State(st): State<Shared>,
    caller: Caller,
    Path(member): Path<String>,
) -> ApiResult<Json<DuesView>> {
    let v = api(with_engine!(&st.engine, e => async {
        e.gate_person(&caller.actor, &member).await?;
        e.dues_show(&member).await
    }.await))?;
    Ok(Json(v))
}

/// A Party recommendation (推优入党) command for the member: `command` is one of `nominate`, `vote`, `publicise`,
/// `recommend`, `accept`, `decline`, `cancel`, with its fields. `If-Match` names the recommendation instance's
/// version. Rules: `workflows/party_recommendation.v1.toml` (PTY_*).
#[utoipa::path(post, path = "/api/v1/members/{member}/party", tag = "party",
    request_body = PartyCommand,
    params(("member" = String, Path, description = "resident ID or development number"),
           ("If-Match" = Option<String>, Header, description = "the recommendation instance's version"),
           ("Idempotency-Key" = Option<String>, Header, description = "1–200 printable ASCII characters")),
    responses((status = 200, description = "what the command did (PartyOutcome); ETag: the new version", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn party(
    State(st): State<Shared>,
    caller: Caller,
    Path(member): Path<String>,
    headers: HeaderMap,
    body: JsonBody<PartyCommand>,
) -> Response {
    let (cmd, engine) = (body.value, st.clone());
    instance_command(&st, &caller, &headers, body.sha256, "party_recommendation", Some(member.clone()), |actor| async move {
        with_engine!(&engine.engine, e => e.party(&actor, &member, &cmd).await)
    })
    .await
}

/// A member's Party recommendations, oldest first.
#[utoipa::path(get, path = "/api/v1/members/{member}/party", tag = "party",
    params(("member" = String, Path, description = "resident ID or development number")),
    responses((status = 200, description = "the recommendations (PartyView); ETag: the latest one's version", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn party_show(
    State(st): State<Shared>,
    caller: Caller,
    Path(member): Path<String>,
) -> ApiResult<Response> {
    let v: Vec<PartyView> = api(with_engine!(&st.engine, e => async {
        e.gate_person(&caller.actor, &member).await?;
        e.party_show(&member).await
    }.await))?;
    // The latest recommendation is the one commands act on.
    let etag = v.last().map(|p| p.version);
    Ok(with_etag(v, etag))
}

/// Which recommendations of a branch to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PartyFilter {
    /// Only recommendations in this state (`nominated`, `recommended`, …).
    pub state: Option<String>,
}

/// A branch's Party recommendations. Needs a binding (other than `member`) over the branch.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/party", tag = "party",
    params(("org" = String, Path, description = "branch code"), PartyFilter),
    responses((status = 200, description = "the recommendations (PartyView)", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn party_list(
    State(st): State<Shared>,
    caller: Caller,
    Path(branch): Path<String>,
    Params(f): Params<PartyFilter>,
) -> ApiResult<Json<Vec<PartyView>>> {
    let v = api(with_engine!(&st.engine, e => async {
        e.authorise_org(&caller.actor, &branch, &super::orgs::READERS).await?;
        e.party_list(&branch, f.state.as_deref()).await
    }.await))?;
    Ok(Json(v))
}
