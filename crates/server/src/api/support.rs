//! Helpers of the administrative resources (principals, organisation import, quotas, rosters, log and audit):
//! query strings and CSV bodies with problem+json refusals, and the check for a role over the root organisation (团中央).

use crate::extract::{api, read_body};
use crate::problem::{ApiError, ApiResult};
use crate::Shared;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;
use tuanji_domain::Date;
use tuanji_engine::access::Role;
use tuanji_engine::{with_engine, Actor, EngineResult};
use tuanji_store::{OrgRow, Store, StoreTx};

/// A query string `T`, refused with a 400 problem naming the parameter (an unknown parameter, a value of the wrong
/// kind) instead of axum's plain-text rejection.
pub struct Params<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(v)| Params(v))
            .map_err(|e| {
                ApiError::bad_request(
                    e.body_text()
                        .replace("Failed to deserialize query string: ", "bad query string: "),
                )
            })
    }
}

/// Path parameters `T` (such as a year), refused with a 400 problem naming the parameter instead of axum's
/// plain-text rejection.
pub struct PathParams<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for PathParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| PathParams(v))
            .map_err(|e| {
                ApiError::bad_request(e.body_text().replace(
                    "Invalid URL: Cannot parse",
                    "bad path parameter: cannot parse",
                ))
            })
    }
}

/// A CSV request body (`Content-Type: text/csv`, 415 otherwise; at most [`crate::BODY_LIMIT`] bytes, 413
/// otherwise) kept as bytes: the engine detects the encoding (UTF-8 with or without BOM, GB18030/GBK).
pub struct CsvBody {
    /// The body's bytes.
    pub bytes: Bytes,
    /// SHA-256 of the request (method, path, query string and body; see [`crate::extract::request_sha256`]), for
    /// `Idempotency-Key`.
    pub sha256: [u8; 32],
}

impl<S: Send + Sync> FromRequest<S> for CsvBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let csv = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("text/csv"));
        if !csv {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the body must be a CSV file: Content-Type: text/csv",
            ));
        }
        let (bytes, sha256) = read_body(req, state).await?;
        Ok(CsvBody { bytes, sha256 })
    }
}

/// A calendar date (China Standard Time) given in the query parameter `name` as `YYYY-MM-DD`.
///
/// Errors: 400 naming the parameter and the value.
pub fn date_param(name: &str, value: Option<&str>) -> ApiResult<Option<Date>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => {
            // Exactly YYYY-MM-DD: chrono alone also reads `2026-1-5` and `+2026-11-23`.
            let shaped = v.len() == 10 && v.as_bytes()[4] == b'-' && v.as_bytes()[7] == b'-';
            shaped
                .then(|| Date::parse_from_str(v, "%Y-%m-%d").ok())
                .flatten()
                .map(Some)
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "query parameter `{name}` must be a date YYYY-MM-DD; got `{v}`"
                    ))
                })
        }
    }
}

/// A year named in a path (`/quotas/{year}`, `/evaluations/{year}`): 1949 to 9999.
///
/// Errors: 400 naming the value.
pub fn year_param(year: i32) -> ApiResult<i32> {
    if (1949..=9999).contains(&year) {
        Ok(year)
    } else {
        Err(ApiError::bad_request(format!(
            "path parameter `year` must be a year from 1949 to 9999; got {year}"
        )))
    }
}

/// The root organisation (团中央), after checking that the caller holds one of `roles` over it: the check of
/// everything that concerns the whole register (principals, the organisation import, the sweep, verification and
/// checkpoints).
///
/// Errors: 403 when the caller holds none of `roles` over the root, or when there is no organisation yet (the
/// first tree is imported with the CLI, `tuanji org import`, which also makes the bootstrap binding possible).
pub async fn over_root(st: &Shared, actor: &Actor, roles: &[Role]) -> ApiResult<OrgRow> {
    let root: EngineResult<Option<OrgRow>> = with_engine!(&st.engine, e => async {
        let mut tx = e.store().begin_read().await?;
        let root = tx.root_org().await?;
        tx.commit().await?;
        Ok(root)
    }
    .await);
    let names = roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    match api(root)? {
        Some(root) => {
            api(with_engine!(&st.engine, e => e.authorise_org(actor, &root.code, roles).await))
        }
        None => Err(ApiError::forbidden(format!(
            "this needs one of the roles {names} over the root organisation, and there is none yet: import the \
             organisation tree with `tuanji org import`"
        ))),
    }
}

/// The organisation named `code`, after checking that the caller holds one of `roles` over it.
///
/// Errors: 404 for an unknown code, 403 when no binding in one of `roles` covers the organisation.
pub async fn over_org(st: &Shared, actor: &Actor, code: &str, roles: &[Role]) -> ApiResult<OrgRow> {
    api(with_engine!(&st.engine, e => e.authorise_org(actor, code, roles).await))
}

/// The organisation with id `id` (its code is what the engine's commands take).
///
/// Errors: 500 when the id names no organisation (a foreign key the database holds).
pub async fn org_by_id(st: &Shared, id: uuid::Uuid) -> ApiResult<OrgRow> {
    let found: EngineResult<Option<OrgRow>> = with_engine!(&st.engine, e => async {
        let mut tx = e.store().begin_read().await?;
        let org = tx.org_by_id(id).await?;
        tx.commit().await?;
        Ok(org)
    }
    .await);
    api(found)?.ok_or_else(|| {
        tracing::error!(%id, "organisation row missing");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "the server failed; nothing was written (see the server log)",
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_param_names_the_parameter() {
        assert_eq!(
            date_param("from", Some("2026-02-29"))
                .err()
                .map(|e| e.0.detail),
            Some("query parameter `from` must be a date YYYY-MM-DD; got `2026-02-29`".to_owned())
        );
        assert_eq!(
            date_param("to", Some("2026-02-28")).ok().flatten(),
            Date::from_ymd_opt(2026, 2, 28)
        );
        assert_eq!(date_param("to", None).ok().flatten(), None);
        for loose in ["2026-1-5", "+2026-11-23", "2026-11-5"] {
            assert_eq!(
                date_param("from", Some(loose)).err().map(|e| e.0.detail),
                Some(format!(
                    "query parameter `from` must be a date YYYY-MM-DD; got `{loose}`"
                )),
                "{loose}"
            );
        }
    }

    #[test]
    fn year_param_keeps_to_1949_through_9999() {
        assert_eq!(year_param(2026).ok(), Some(2026));
        assert_eq!(
            year_param(-1).err().map(|e| e.0.detail),
            Some("path parameter `year` must be a year from 1949 to 9999; got -1".to_owned())
        );
        assert!(year_param(100_000).is_err());
    }
}
