//! Applications and the admission procedure (团员发展): `POST /api/v1/applications`,
//! `POST /api/v1/applications/{applicant}/steps`.

use crate::extract::{api, command, instance_command, Caller, Done, JsonBody};
use crate::problem::{ApiResult, Problem};
use crate::Shared;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use tuanji_engine::admission::{AdmissionCommand, Application};
use tuanji_engine::query::ReplayReport;
use tuanji_engine::with_engine;

/// Receive a written application (入团申请书) at a branch: creates the person (or reuses them after an earlier
/// rejected or withdrawn application) and an admission instance in state `applicant`. Rules: ID_FORMAT,
/// ID_CHECKSUM, ID_BIRTH_DATE, ID_UNIQUE, ADM_AGE_MIN (14 on the application date), ADM_AGE_MAX.
#[utoipa::path(post, path = "/api/v1/applications", tag = "admission",
    request_body = Application,
    params(("If-Match" = Option<String>, Header, description = "ignored: a new instance has no version"),
           ("Idempotency-Key" = Option<String>, Header, description = "1–200 printable ASCII characters")),
    responses((status = 201, description = "the step taken (StepOutcome)", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn apply(
    State(st): State<Shared>,
    caller: Caller,
    headers: HeaderMap,
    body: JsonBody<Application>,
) -> Response {
    let app = body.value;
    let engine = st.clone();
    command(
        &st,
        &caller,
        &headers,
        body.sha256,
        "admission",
        |actor| async move {
            let out = api(with_engine!(&engine.engine, e => e.apply(&actor, &app).await))?;
            Ok(Done {
                status: StatusCode::CREATED,
                body: out,
                version: Some(1),
            })
        },
    )
    .await
}

/// One step of the admission procedure for the applicant named by resident ID, development number or instance
/// id: the body names the step in `command` (`record_talk`, `approve_activist`, `assign_mentors`,
/// `record_class`, `determine_target`, `prereview`, `publicise`, `record_objection`, `resolve_objection`,
/// `submit_form`, `hold_meeting`, `approve`, `record_oath`, `file_archive`, `annul`, `reject`, `withdraw`) with its
/// fields. `If-Match` names the admission instance's version. Rules: `workflows/admission.v1.toml`.
#[utoipa::path(post, path = "/api/v1/applications/{applicant}/steps", tag = "admission",
    request_body = AdmissionCommand,
    params(("applicant" = String, Path, description = "resident ID, development number or instance id"),
           ("If-Match" = Option<String>, Header, description = "the admission instance's version"),
           ("Idempotency-Key" = Option<String>, Header, description = "1–200 printable ASCII characters")),
    responses((status = 200, description = "the step taken (StepOutcome); ETag: the new version", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn step(
    State(st): State<Shared>,
    caller: Caller,
    Path(applicant): Path<String>,
    headers: HeaderMap,
    body: JsonBody<AdmissionCommand>,
) -> Response {
    let (cmd, engine) = (body.value, st.clone());
    instance_command(&st, &caller, &headers, body.sha256, "admission", Some(applicant.clone()), |actor| async move {
        with_engine!(&engine.engine, e => e.step(&actor, &applicant, &cmd).await)
    })
    .await
}

/// Replays the person's admission log from nothing and compares the result with the stored instance and member
/// row (`tuanji admission replay`): `matches` and the differences, if any. Visible to the person and to bindings
/// over their branch; anyone else gets 404, as for an unknown person.
#[utoipa::path(get, path = "/api/v1/applications/{applicant}/replay", tag = "admission",
    params(("applicant" = String, Path, description = "resident ID, development number or instance id")),
    responses((status = 200, description = "the replay (ReplayReport: entries, matches, differences)", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn replay(
    State(st): State<Shared>,
    caller: Caller,
    Path(applicant): Path<String>,
) -> ApiResult<Json<ReplayReport>> {
    let r = api(with_engine!(&st.engine, e => async {
        e.gate_person(&caller.actor, &applicant).await?;
        e.replay_admission(&applicant).await
    }.await))?;
    Ok(Json(r))
}
