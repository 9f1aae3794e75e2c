//! Errors of the JSON API: `{ "error": { "code": "...", "message": "..." } }` with the
//! matching status. Causes of a 500 are logged once here and never sent. Errors that the
//! shared layers answer before a handler runs (wrong method, time limit, body too large)
//! are given the same shape by [`json_errors`].

use axum::Json;
use axum::extract::Request;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
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
    /// `not_found`, `method_not_allowed`, `timeout`, `conflict`, `too_large`,
    /// `unsupported_media_type`, `appliance_refused` or `internal`.
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
            code_for(status),
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

/// The stable code of an error status.
fn code_for(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::REQUEST_TIMEOUT => "timeout",
        StatusCode::CONFLICT => "conflict",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    }
}

/// The sentence of an error that a shared layer answered without one.
fn layer_message(status: StatusCode, method: &Method, allow: Option<&HeaderValue>) -> String {
    match status {
        // The router adds the `Allow` header only after every layer, so it may be missing.
        StatusCode::METHOD_NOT_ALLOWED => match allow.and_then(|v| v.to_str().ok()) {
            Some(allowed) if !allowed.is_empty() => {
                format!("{method} is not allowed at this address; it takes {allowed}")
            }
            _ => format!(
                "{method} is not allowed at this address; the `Allow` header lists the \
                 methods it takes"
            ),
        },
        StatusCode::REQUEST_TIMEOUT => format!(
            "the request took longer than {} seconds and was stopped",
            crate::web::REQUEST_TIMEOUT.as_secs()
        ),
        StatusCode::PAYLOAD_TOO_LARGE => format!(
            "the request body is larger than the {} KiB accepted",
            crate::web::MAX_BODY_BYTES / 1024
        ),
        other => format!(
            "the request was refused: {}",
            other.canonical_reason().unwrap_or("error")
        ),
    }
}

/// Middleware: under `/api/v1`, an error answer that is not already JSON (one made by a
/// shared layer, such as 405, 408 or 413) is replaced by the JSON error shape with the
/// same status and headers. Pages elsewhere keep their HTML errors.
pub async fn json_errors(request: Request, next: Next) -> Response {
    if !super::is_api_path(request.uri().path()) {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let response = next.run(request).await;

    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(&response) {
        return response;
    }
    let message = layer_message(status, &method, response.headers().get(header::ALLOW));
    let (mut parts, _) = response.into_parts();
    let answer = ApiError::new(status, code_for(status), message).into_response();
    let (fresh, body) = answer.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in &fresh.headers {
        parts.headers.insert(name, value.clone());
    }
    Response::from_parts(parts, body)
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    async fn answer(router: Router, path: &str) -> (StatusCode, String, String) {
        let request = Request::builder().uri(path).body(Body::empty()).unwrap();
        let response = router
            .layer(axum::middleware::from_fn(json_errors))
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let kind = response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        (status, kind, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn a_bare_timeout_under_the_api_becomes_json() {
        let router = Router::new().route(
            "/api/v1/slow",
            get(|| async { StatusCode::REQUEST_TIMEOUT }),
        );
        let (status, kind, body) = answer(router, "/api/v1/slow").await;
        assert_eq!(status, StatusCode::REQUEST_TIMEOUT);
        assert_eq!(kind, "application/json");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["error"]["code"], "timeout");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("30 seconds")
        );
    }

    #[tokio::test]
    async fn pages_and_json_errors_are_left_alone() {
        let router = Router::new()
            .route("/slow", get(|| async { StatusCode::REQUEST_TIMEOUT }))
            .route(
                "/api/v1/gone",
                get(|| async { ApiError::not_found("no such thing") }),
            );
        let (status, kind, body) = answer(router.clone(), "/slow").await;
        assert_eq!(
            (status, kind, body),
            (StatusCode::REQUEST_TIMEOUT, String::new(), String::new())
        );
        let (_, _, body) = answer(router, "/api/v1/gone").await;
        assert!(body.contains("no such thing"), "{body}");
    }
}
