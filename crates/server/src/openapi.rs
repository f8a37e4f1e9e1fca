//! The OpenAPI 3.1 document (`/api/openapi.json`, built by utoipa from the handlers) and its interactive page
//! (`/api/docs`, Scalar).

use crate::Shared;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as Doc;
use utoipa::{Modify, OpenApi};
use utoipa_scalar::{Scalar, Servable};

/// The document's fixed part: title, version, bearer security. The paths come from the routes.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Tuanji",
        description = "The League membership register (团籍): admission, transfers, standing, Party recommendation, evaluation, dues, and the tamper-evident log. Every request carries `Authorization: Bearer tj_…`; state changes take `If-Match` (instance version) and `Idempotency-Key`; errors are RFC 9457 problem+json with the rule code and its source.",
        license(name = "MIT OR Apache-2.0")
    ),
    modifiers(&Bearer),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, doc: &mut Doc) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token from `tuanji token create` or POST /api/v1/principals/{name}/tokens",
                    ))
                    .build(),
            ),
        );
    }
}

/// The whole document (fixed part and every route), as served at `/api/openapi.json`.
pub fn document() -> Doc {
    crate::api::router().split_for_parts().1
}

/// `/api/openapi.json` and `/api/docs`.
pub fn docs(doc: Doc) -> Router<Shared> {
    let json = doc.clone();
    Router::new()
        .route("/api/openapi.json", get(move || async move { Json(json) }))
        .merge(Scalar::with_url("/api/docs", doc))
}
