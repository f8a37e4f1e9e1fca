//! The REST resources under `/api/v1/`, one module per concern. Each handler authenticates its caller
//! ([`Caller`]), reads or runs one engine use case, and leaves every rule to the engine.

use crate::openapi::ApiDoc;
use crate::Shared;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

mod admission;
mod audit_log;
mod evaluation;
mod members;
mod orgs;
mod orgs_admin;
mod principals;
mod relation;
mod roster;
mod standing;
mod support;

/// Every route of `/api/v1/`, with its OpenAPI description.
pub fn router() -> OpenApiRouter<Shared> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(admission::apply))
        .routes(routes!(admission::step))
        .routes(routes!(admission::replay))
        .routes(routes!(members::show))
        .routes(routes!(relation::command))
        .routes(routes!(standing::command, standing::show))
        .routes(routes!(standing::dues))
        .routes(routes!(standing::party, standing::party_show))
        .routes(routes!(standing::party_list))
        .routes(routes!(evaluation::command, evaluation::show))
        .routes(routes!(relation::list_transfers))
        .routes(routes!(orgs::list))
        .routes(routes!(orgs::quota))
        .routes(routes!(principals::whoami))
        .routes(routes!(principals::create, principals::list))
        .routes(routes!(principals::bind, principals::unbind))
        .routes(routes!(principals::create_token, principals::list_tokens))
        .routes(routes!(principals::revoke_token))
        .routes(routes!(orgs_admin::import))
        .routes(routes!(orgs_admin::allocate))
        .routes(routes!(orgs_admin::mark_graduating))
        .routes(routes!(orgs_admin::graduate))
        .routes(routes!(orgs_admin::sweep))
        .routes(routes!(roster::import))
        .routes(routes!(audit_log::log))
        .routes(routes!(audit_log::export))
        .routes(routes!(audit_log::verify))
        .routes(routes!(audit_log::prove))
        .routes(routes!(audit_log::checkpoints, audit_log::checkpoint))
}
