//! Organisation relations and transfers (组织关系转接): `POST /api/v1/members/{member}/relation`,
//! `GET /api/v1/orgs/{org}/transfers`.

use super::support::Params;
use crate::extract::{api, instance_command, Caller, JsonBody};
use crate::problem::{ApiResult, Problem};
use crate::Shared;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use tuanji_engine::access::Role;
use tuanji_engine::relation::{RelationCommand, TransferView};
use tuanji_engine::with_engine;
use utoipa::IntoParams;

/// A relation command for the member named by resident ID or development number: `command` is one of
/// `retain`, `request_transfer`, `approve`, `assign_branch`, `reject`, `cancel`, `record_contact`, `suspend`,
/// `report_in`, `accept_report_in`, `decline_report_in`, `delete`, with its fields. The caller needs a role the
/// transition allows over the organisation the command names (or the member's branch); a member may request
/// their own transfer and report in. `If-Match` names the relation instance's version. Rules:
/// `workflows/relation.v1.toml` (TRF_*).
#[utoipa::path(post, path = "/api/v1/members/{member}/relation", tag = "transfers",
    request_body = RelationCommand,
    params(("member" = String, Path, description = "resident ID or development number"),
           ("If-Match" = Option<String>, Header, description = "the relation instance's version"),
           ("Idempotency-Key" = Option<String>, Header, description = "1–200 printable ASCII characters")),
    responses((status = 200, description = "what the command did (RelationOutcome); ETag: the new version", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn command(
    State(st): State<Shared>,
    caller: Caller,
    Path(member): Path<String>,
    headers: HeaderMap,
    body: JsonBody<RelationCommand>,
) -> Response {
    let (cmd, engine) = (body.value, st.clone());
    instance_command(
        &st,
        &caller,
        &headers,
        body.sha256,
        "relation",
        Some(member.clone()),
        |actor| async move {
            with_engine!(&engine.engine, e => e.relation(&actor, &member, &cmd).await)
        },
    )
    .await
}

/// Which transfers of a subtree to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TransferFilter {
    /// Only transfers leaving the subtree.
    #[serde(default)]
    pub outgoing: bool,
    /// Only transfers arriving in the subtree.
    #[serde(default)]
    pub incoming: bool,
    /// Only overdue transfers (TRF_TIMEOUT).
    #[serde(default)]
    pub overdue: bool,
    /// Only open transfers.
    #[serde(default)]
    pub open: bool,
}

/// Transfers touching an organisation's subtree, oldest request first, with who acts next. Needs a committee
/// admin, branch secretary or auditor binding over the organisation.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/transfers", tag = "transfers",
    params(("org" = String, Path, description = "organisation code"), TransferFilter),
    responses((status = 200, description = "the transfers", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn list_transfers(
    State(st): State<Shared>,
    caller: Caller,
    Path(org): Path<String>,
    Params(f): Params<TransferFilter>,
) -> ApiResult<Json<Vec<TransferView>>> {
    let roles = [
        Role::SystemAdmin,
        Role::CommitteeAdmin,
        Role::BranchSecretary,
        Role::Auditor,
    ];
    let list = api(with_engine!(&st.engine, e => async {
        e.authorise_org(&caller.actor, &org, &roles).await?;
        e.transfer_list(&org, f.outgoing, f.incoming, f.overdue, f.open).await
    }.await))?;
    Ok(Json(list))
}
