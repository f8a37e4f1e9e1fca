//! Administering the organisation tree: `POST /api/v1/orgs/import` (organisation CSV),
//! `POST /api/v1/orgs/{org}/quotas` (development-number allocation), `POST /api/v1/orgs/{org}/graduating`,
//! `POST /api/v1/orgs/{org}/graduation`, and `POST /api/v1/sweep`.

use super::support::{org_by_id, over_org, over_root, CsvBody, Params};
use crate::extract::{api, Caller, Done, JsonBody};
use crate::problem::Problem;
use crate::Shared;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;
use tuanji_domain::Date;
use tuanji_engine::access::Role;
use tuanji_engine::{with_engine, Actor};
use utoipa::{IntoParams, ToSchema};

/// Roles that may allocate development numbers from a committee.
const ALLOCATORS: [Role; 2] = [Role::SystemAdmin, Role::CommitteeAdmin];

/// Roles that may mark a branch graduating.
const GRADUATION_MARKERS: [Role; 3] = [
    Role::SystemAdmin,
    Role::CommitteeAdmin,
    Role::BranchSecretary,
];

/// The `dry_run` flag of a file import.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DryRun {
    /// `true`: run every check and write nothing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Imports organisations from an organisation CSV (the CLI's `tuanji org import` file: header
/// `code,name,kind,parent[,approves_admissions,school_level,graduating,class_size,mobile_members]`), in one
/// transaction: every row or none. Needs `system_admin` over the root organisation (团中央), so the first tree is
/// imported with the CLI. Bad rows → 422 with `errors` [{line, column, reason}]; nothing is written then.
#[utoipa::path(post, path = "/api/v1/orgs/import", tag = "organisations",
    request_body(content = String, content_type = "text/csv", description = "the organisation CSV (UTF-8)"),
    params(DryRun, ("Idempotency-Key" = Option<String>, Header, description = "1–200 printable ASCII characters")),
    responses((status = 201, description = "what was imported (OrgImportReport: inserted, by_kind)", body = Object),
              (status = 200, description = "dry run: what would be imported", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn import(
    State(st): State<Shared>,
    caller: Caller,
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
        "organisations",
        |actor| async move {
            over_root(&engine, &actor, &[Role::SystemAdmin]).await?;
            let report =
                api(with_engine!(&engine.engine, e => e.import_org_csv(&bytes, q.dry_run).await))?;
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

/// An allocation of development numbers (按编号发展团员, 总量控制; 中青发〔2016〕6号).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Allocation {
    /// Admission year (2017 or later, at most next year).
    pub year: i32,
    /// Numbers allocated, 1..=99,999,999.
    pub count: i64,
    /// Code of the allocating committee, a strict superior of the organisation; default its parent.
    pub by: Option<String>,
    /// Date of the allocation (China Standard Time), not after today.
    pub date: Date,
}

/// Allocates `count` development numbers of `year` to committee `org`, granted by committee `by` (default its
/// parent). Needs `committee_admin` or `system_admin` over the allocating committee. Refused (422) for a branch,
/// an allocator that is not a strict superior, a count outside 1..=99,999,999, a year before 2017 or after next
/// year, a date after today.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/quotas", tag = "organisations",
    request_body = Allocation,
    params(("org" = String, Path, description = "code of the committee receiving the numbers"),
           ("Idempotency-Key" = Option<String>, Header, description = "1–200 printable ASCII characters")),
    responses((status = 201, description = "the committee's quota for the year after it (QuotaReport)", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn allocate(
    State(st): State<Shared>,
    caller: Caller,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: JsonBody<Allocation>,
) -> Response {
    let sha = body.sha256;
    let a = body.value;
    let engine = st.clone();
    crate::extract::command(
        &st,
        &caller,
        &headers,
        sha,
        "organisations",
        |actor| async move {
            let allocator = match &a.by {
                Some(by) => by.trim().to_owned(),
                None => {
                    // Readable by anyone who may see the organisation at all; the role check is on its parent.
                    let target = over_org(&engine, &actor, &org, &Role::ALL).await?;
                    match target.parent_id {
                        Some(p) => org_by_id(&engine, p).await?.code,
                        None => target.code,
                    }
                }
            };
            over_org(&engine, &actor, &allocator, &ALLOCATORS).await?;
            let report = api(with_engine!(&engine.engine, e => e
            .allocate_quota(&org, a.year, a.count, a.by.as_deref(), a.date)
            .await))?;
            Ok(Done {
                status: StatusCode::CREATED,
                body: report,
                version: None,
            })
        },
    )
    .await
}

/// A date of the graduation procedure.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct On {
    /// The graduation date (China Standard Time).
    pub on: Date,
}

/// Marks a branch graduating (毕业班) with its graduation date. Needs `branch_secretary`, `committee_admin` or
/// `system_admin` over the branch. Refused (422) for an organisation that is not a branch.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/graduating", tag = "organisations",
    request_body = On,
    params(("org" = String, Path, description = "branch code"),
           ("Idempotency-Key" = Option<String>, Header, description = "1–200 printable ASCII characters")),
    responses((status = 200, description = "the branch (OrgRow) with graduating and graduation_date", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn mark_graduating(
    State(st): State<Shared>,
    caller: Caller,
    Path(branch): Path<String>,
    headers: HeaderMap,
    body: JsonBody<On>,
) -> Response {
    let sha = body.sha256;
    let on = body.value.on;
    let engine = st.clone();
    crate::extract::command(
        &st,
        &caller,
        &headers,
        sha,
        "organisations",
        |actor| async move {
            over_org(&engine, &actor, &branch, &GRADUATION_MARKERS).await?;
            let row = api(with_engine!(&engine.engine, e => e.mark_graduating(&branch, on).await))?;
            Ok(Done {
                status: StatusCode::OK,
                body: row,
                version: None,
            })
        },
    )
    .await
}

/// Graduates every member of a graduating branch on `on` (one transaction): each member at the branch moves to
/// `graduated_pending_transfer` (TRF_NO_DELETE from then on); members already graduated or in a transfer are
/// counted in `skipped`. Needs a role the `graduate` transition allows (`branch_secretary`, `committee_admin`)
/// over the branch. Refused (422) for a branch not marked graduating, a date before its graduation date or after
/// today.
#[utoipa::path(post, path = "/api/v1/orgs/{org}/graduation", tag = "organisations",
    request_body = On,
    params(("org" = String, Path, description = "branch code"),
           ("Idempotency-Key" = Option<String>, Header, description = "1–200 printable ASCII characters")),
    responses((status = 200, description = "what was done (GraduationReport: branch, date, graduated, skipped, last_seq)", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn graduate(
    State(st): State<Shared>,
    caller: Caller,
    Path(branch): Path<String>,
    headers: HeaderMap,
    body: JsonBody<On>,
) -> Response {
    let sha = body.sha256;
    let on = body.value.on;
    let engine = st.clone();
    crate::extract::command(
        &st,
        &caller,
        &headers,
        sha,
        "relation",
        |actor| async move {
            let report = api(with_engine!(&engine.engine, e => e
            .graduate(&actor, &branch, on, &|_, _| {})
            .await))?;
            Ok(Done {
                status: StatusCode::OK,
                body: report,
                version: None,
            })
        },
    )
    .await
}

/// The date a sweep runs for.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AsOf {
    /// The date swept (China Standard Time), not after today.
    pub as_of: Date,
}

/// The sweep of `tuanji sweep` for `as_of`: relation deadlines (TRF_TIMEOUT, TRF_RETENTION, TRF_LOST_CONTACT),
/// then standing (STD_AGE_OUT, STD_PROBATION, STD_LAPSE, PTY_VALIDITY), each in one transaction. Idempotent: a
/// second run for the same date writes nothing. Needs `system_admin` over the root organisation; the entries are
/// recorded under the caller's name in the role `system_admin`.
#[utoipa::path(post, path = "/api/v1/sweep", tag = "organisations",
    request_body = AsOf,
    params(("Idempotency-Key" = Option<String>, Header, description = "1–200 printable ASCII characters")),
    responses((status = 200, description = "what the sweep did (FullSweepReport)", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn sweep(
    State(st): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<AsOf>,
) -> Response {
    let sha = body.sha256;
    let as_of = body.value.as_of;
    let engine = st.clone();
    crate::extract::command(&st, &caller, &headers, sha, "sweep", |actor| async move {
        over_root(&engine, &actor, &[Role::SystemAdmin]).await?;
        // The sweep's transitions are the system's, not tied to one organisation: checked over the root above,
        // they run as the trusted CLI's do, in the role system_admin.
        let system = Actor {
            grants: None,
            role: Some(Role::SystemAdmin.as_str().to_owned()),
            ..actor
        };
        let report = api(with_engine!(&engine.engine, e => e
            .sweep_all(&system, as_of, &|_, _, _| {})
            .await))?;
        Ok(Done {
            status: StatusCode::OK,
            body: report,
            version: None,
        })
    })
    .await
}
