//! One person's record: `GET /api/v1/members/{member}`.

use crate::extract::{api, with_etag, Caller};
use crate::problem::{ApiResult, Problem};
use crate::Shared;
use axum::extract::{Path, State};
use axum::response::Response;
use tuanji_engine::with_engine;

/// A person's record (applicant or member): masked resident ID, branch, membership, the latest admission and the
/// current organisation relation, each with its instance version (the value `If-Match` names). Visible to the
/// person (member binding) and to bindings over their branch; anyone else gets 404, as for an unknown person.
#[utoipa::path(get, path = "/api/v1/members/{member}", tag = "members",
    params(("member" = String, Path, description = "resident ID, development number or instance id")),
    responses((status = 200, description = "the record (MemberView)", body = Object),
              (status = "4XX", description = "refused", body = Problem, content_type = "application/problem+json")))]
pub async fn show(
    State(st): State<Shared>,
    caller: Caller,
    Path(member): Path<String>,
) -> ApiResult<Response> {
    let view = api(with_engine!(&st.engine, e => async {
        e.gate_person(&caller.actor, &member).await?;
        e.member_view(&member).await
    }.await))?;
    let etag = view.admission.as_ref().map(|a| a.version);
    Ok(with_etag(view, etag))
}
