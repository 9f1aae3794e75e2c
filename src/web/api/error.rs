//! Errors of the JSON API: `{ "error": { "code": "...", "message": "..." } }` with the
//! matching status. Causes of a 500 are logged once here and never sent.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::text::bounded;
use crate::web::error::WebError;

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// The code and the sentence of an error.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable word for programs: `bad_request`, `unauthorized`, `forbidden`,
    /// `not_found`, `conflict`, `appliance_refused`, `too_large` or `internal`.
    pub code: String,
    /// The same in words, for people; names the parameter when one is wrong.
    pub message: String,
}

/// An error answer of the API.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    /// An error with its status, code and sentence.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 about one query or body parameter: names it and says why.
    pub fn bad_param(name: &str, why: &str) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("parameter `{name}`: {why}"),
        )
    }

    /// 401 with the reason.
    pub fn unauthorized(why: &str) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", why)
    }

    /// 404 with what was not found.
    pub fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    /// 500; the cause goes to the log only.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "API request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "vbdash could not answer this request; the error is in the server log",
        )
    }

    /// The status sent.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

impl From<WebError> for ApiError {
    fn from(error: WebError) -> ApiError {
        match error {
            WebError::NotFound(what) => ApiError::not_found(what),
            WebError::BadRequest(why) => ApiError::new(StatusCode::BAD_REQUEST, "bad_request", why),
            WebError::Unauthorized(why) => ApiError::unauthorized(&why),
            WebError::Forbidden(why) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", why),
            WebError::TooLarge(why) => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", why)
            }
            WebError::Internal(cause) => ApiError::internal(cause),
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!(
                "the address is not understood: {}",
                bounded(&rejection.body_text(), 200)
            ),
        )
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> ApiError {
        let status = match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::new(
            status,
            "bad_request",
            format!(
                "the JSON body is not understood: {}",
                bounded(&rejection.body_text(), 300)
            ),
        )
    }
}

/// The answer to an `/api/v1` address that no route serves.
pub async fn no_route() -> ApiError {
    ApiError::not_found("there is no API endpoint at this address; see /api/v1/openapi.json")
}
