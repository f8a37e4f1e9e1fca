//! Roster import (花名册): `POST /api/v1/orgs/{org}/roster`, a school's list of applicants and existing members
//! for one branch.

use super::orgs_admin::DryRun;
use super::support::{over_org, CsvBody, Params};
use crate::extract::{api, Caller, Done};
use crate::problem::Problem;
use crate::Shared;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tuanji_engine::access::Role;
use tuanji_engine::with_engine;

/// Roles that may see a branch to import into; the engine then checks each row's command (`apply`:
/// `branch_secretary`).
const IMPORTERS: [Role; 3] = [
    Role::SystemAdmin,
    Role::CommitteeAdmin,
    Role::BranchSecretary,
];

/// Imports a roster CSV (UTF-8 with or without BOM, or GB18030/GBK; the CLI's `tuanji roster import` file) into
/// branch `branch`, in one transaction: applicant rows run `apply` (ID_FORMAT, ID_CHECKSUM, ID_BIRTH_DATE,
/// ID_UNIQUE, ADM_AGE_MIN, ADM_AGE_MAX), member rows register existing members (IMP_LEGACY_AGE,
/// ADM_NUMBER_REQUIRED, ID_UNIQUE). One bad row and nothing is written: 422 with `errors`
/// [{line, column, rule, reason}]. Needs a role each row's command allows over the branch (`branch_secretary`
/// for applicants).
#[utoipa::path(post, path = "/api/v1/orgs/{org}/roster", tag = "admission",
    request_body(content = String, content_type = "text/csv", description = "the roster CSV"),
    params(("org" = String, Path, description = "branch code"), DryRun,
           ("Idempotency-Key" = Option<String>, Header, description = "1–200 printable ASCII characters")),
    responses((status = 201, description = "what was imported (RosterReport: branch, encoding, applicants, members, dry_run)", body = Object),
              (status = 200, description = "dry run: what would be imported", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn import(
    State(st): State<Shared>,
    caller: Caller,
    Path(branch): Path<String>,
    Params(q): Params<DryRun>,
    headers: HeaderMap,
    body: CsvBody,
) -> Response {
    let engine = st.clone();
    let bytes = body.bytes;
    crate::extract::command(
        &st,
        &caller,
        &headers,
        body.sha256,
        "admission",
        |actor| async move {
            over_org(&engine, &actor, &branch, &IMPORTERS).await?;
            let report = api(with_engine!(&engine.engine, e => e
            .import_roster(&actor, &branch, &bytes, q.dry_run)
            .await))?;
            Ok(Done {
                status: if q.dry_run {
                    StatusCode::OK
                } else {
                    StatusCode::CREATED
                },
                body: report,
                version: None,
            })
        },
    )
    .await
}
