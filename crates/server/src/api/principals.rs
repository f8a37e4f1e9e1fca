//! Principals and tokens: `GET /api/v1/me`.

use crate::extract::Caller;
use crate::problem::Problem;
use axum::Json;
use serde::Serialize;
use tuanji_engine::access::Grant;
use utoipa::ToSchema;

/// The caller as the server sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// Principal id.
    pub id: uuid::Uuid,
    /// Principal name.
    pub name: String,
    /// Role bindings: role, organisation (code and path) or, for `member`, the person.
    #[schema(value_type = Vec<Object>)]
    pub grants: Vec<Grant>,
}

/// Who the token belongs to and what it may do.
#[utoipa::path(get, path = "/api/v1/me", tag = "access",
    responses((status = 200, description = "the caller", body = Me),
              (status = 401, description = "no valid token", body = Problem, content_type = "application/problem+json")))]
pub async fn whoami(caller: Caller) -> Json<Me> {
    Json(Me {
        id: caller.principal,
        name: caller.actor.name.clone(),
        grants: caller
            .actor
            .grants
            .as_ref()
            .map(|g| g.as_ref().clone())
            .unwrap_or_default(),
    })
}
