//! The organisation tree and quotas: `GET /api/v1/orgs/{org}/subtree`, `GET /api/v1/orgs/{org}/quotas/{year}`.

use super::support::{year_param, PathParams};
use crate::extract::{api, Caller};
use crate::problem::{ApiResult, Problem};
use crate::Shared;
use axum::extract::{Path, State};
use axum::Json;
use tuanji_engine::access::Role;
use tuanji_engine::quota::QuotaReport;
use tuanji_engine::with_engine;
use tuanji_store::OrgRow;

/// Roles that may read an organisation's subtree (everyone but a member).
pub(crate) const READERS: [Role; 4] = [
    Role::SystemAdmin,
    Role::CommitteeAdmin,
    Role::BranchSecretary,
    Role::Auditor,
];

/// The organisation and everything under it, ordered by path (团市委 → 团县委 → 团委 → 团总支 → 团支部).
/// Needs a binding (other than `member`) over the organisation.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/subtree", tag = "organisations",
    params(("org" = String, Path, description = "organisation code")),
    responses((status = 200, description = "the organisations", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(st): State<Shared>,
    caller: Caller,
    Path(org): Path<String>,
) -> ApiResult<Json<Vec<OrgRow>>> {
    let rows = api(with_engine!(&st.engine, e => async {
        e.authorise_org(&caller.actor, &org, &READERS).await?;
        e.list_orgs(Some(&org)).await
    }.await))?;
    Ok(Json(rows))
}

/// A committee's development-number quota for a year (按编号发展团员, 总量控制): allocated, used, left.
/// Needs a binding (other than `member`) over the committee.
#[utoipa::path(get, path = "/api/v1/orgs/{org}/quotas/{year}", tag = "organisations",
    params(("org" = String, Path, description = "committee code"), ("year" = i32, Path, description = "year")),
    responses((status = 200, description = "the quota (QuotaReport)", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn quota(
    State(st): State<Shared>,
    caller: Caller,
    PathParams((org, year)): PathParams<(String, i32)>,
) -> ApiResult<Json<QuotaReport>> {
    let year = year_param(year)?;
    let q = api(with_engine!(&st.engine, e => async {
        e.authorise_org(&caller.actor, &org, &READERS).await?;
        e.quota(&org, year).await
    }.await))?;
    Ok(Json(q))
}
