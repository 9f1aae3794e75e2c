//! The JSON API under `/api/v1`, for scripts and other tools.
//!
//! Every route but the OpenAPI document takes a bearer token (`Authorization: Bearer
//! <token>`) made with `vbdash token create`; cookies and CSRF tokens play no part. Read
//! tokens may call every `GET`; operate tokens may also start and cancel backups, through
//! the same code as the dashboard's forms and into the same audit log. Errors are JSON in
//! one shape (see [`error`]). The routes are listed in `web::router`; the OpenAPI document
//! is generated from the handlers' annotations by [`ApiDoc`].

pub mod appliances;
pub mod auth;
pub mod backups;
pub mod error;
pub mod jobs;
pub mod model;
pub mod query;
pub mod token_command;
pub mod trends;

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// Where the API lives.
pub const PREFIX: &str = "/api/v1";

/// True for addresses of the API: `/api/v1` and everything under it.
pub fn is_api_path(path: &str) -> bool {
    path.strip_prefix(PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// The OpenAPI document of every API route.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "vbdash API",
        description = "Backups of a fleet of vCenter Server Appliances: status, jobs, \
                       trends, and starting or cancelling backups."
    ),
    paths(
        appliances::list,
        appliances::show,
        jobs::list,
        jobs::show,
        jobs::cancel,
        backups::start,
        trends::show,
        openapi,
    ),
    modifiers(&BearerToken),
    tags(
        (name = "appliances", description = "Appliances and their status"),
        (name = "jobs", description = "Backup jobs"),
        (name = "trends", description = "History over days"),
        (name = "actions", description = "Start and cancel backups (operate scope)"),
        (name = "meta", description = "This document"),
    )
)]
pub struct ApiDoc;

/// Adds the bearer token scheme the routes name as `token`.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("A token made with `vbdash token create`"))
            .build();
        components.add_security_scheme("token", SecurityScheme::Http(scheme));
    }
}

/// The OpenAPI 3 document of this API. Needs no token.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI document", body = Object))
)]
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_are_recognised() {
        assert!(is_api_path("/api/v1"));
        assert!(is_api_path("/api/v1/jobs"));
        assert!(!is_api_path("/api/v10/jobs"));
        assert!(!is_api_path("/api"));
        assert!(!is_api_path("/appliances/api/v1"));
    }
}
