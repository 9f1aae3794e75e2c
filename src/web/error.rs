//! The one error type of the web layer.
//!
//! Where each error style belongs: `anyhow` at startup and in the poller loop, the
//! `thiserror` types of `vcenter` and `store` inside those modules, and [`WebError`] in
//! handlers. A handler returns `Result<_, WebError>`; expected cases (unknown appliance,
//! malformed id) become pages in words, anything else a 500 with a generic message, logged
//! once here and nowhere else.

use askama::Template;
use axum::extract::Request;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use super::htmx::HxRequest;
use crate::views::error::{ErrorFragment, ErrorPage};

/// Any boxed error, kept as the cause of a 500.
pub type Cause = Box<dyn std::error::Error + Send + Sync>;

/// What can go wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum WebError {
    /// 404: the appliance, job or page does not exist; the text says which.
    #[error("{0}")]
    NotFound(String),
    /// 400: the request itself is malformed; the text says how.
    #[error("{0}")]
    BadRequest(String),
    /// 401: the request needs a signed-in user; the text says so.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: the user may not do this, or the CSRF token is missing or wrong; the text
    /// says why.
    #[error("{0}")]
    Forbidden(String),
    /// 413: the request body is larger than accepted.
    #[error("{0}")]
    TooLarge(String),
    /// 500: anything unexpected (the store failed, a template broke). The cause is logged,
    /// never shown.
    #[error("internal error: {0}")]
    Internal(#[source] Cause),
}

impl WebError {
    /// Wraps an unexpected error, such as a store error, as a 500.
    pub fn internal(cause: impl Into<Cause>) -> WebError {
        WebError::Internal(cause.into())
    }

    fn status(&self) -> StatusCode {
        match self {
            WebError::NotFound(_) => StatusCode::NOT_FOUND,
            WebError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WebError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            WebError::Forbidden(_) => StatusCode::FORBIDDEN,
            WebError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            WebError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn words(&self) -> ErrorWords {
        let (title, detail) = match self {
            WebError::NotFound(what) => ("Not found", what.clone()),
            WebError::BadRequest(why) => ("Bad request", why.clone()),
            WebError::Unauthorized(why) => ("Sign in", why.clone()),
            WebError::Forbidden(why) => ("Not allowed", why.clone()),
            WebError::TooLarge(why) => ("Too large", why.clone()),
            WebError::Internal(_) => (
                "Something went wrong",
                "vbdash could not answer this request. The error is in the server log; \
                 try again in a moment."
                    .to_owned(),
            ),
        };
        ErrorWords {
            title: title.to_owned(),
            detail,
        }
    }
}

impl From<QueryRejection> for WebError {
    fn from(rejection: QueryRejection) -> Self {
        WebError::BadRequest(format!("the query string is not understood: {rejection}"))
    }
}

impl From<PathRejection> for WebError {
    fn from(rejection: PathRejection) -> Self {
        WebError::BadRequest(format!("the address is not understood: {rejection}"))
    }
}

impl From<askama::Error> for WebError {
    fn from(error: askama::Error) -> Self {
        WebError::internal(error)
    }
}

/// The title and sentence of an error, kept on the response so that [`htmx_errors`] can
/// turn the page into a fragment.
#[derive(Debug, Clone)]
struct ErrorWords {
    title: String,
    detail: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let WebError::Internal(cause) = &self {
            tracing::error!(error = %cause, "request failed");
        }

        let words = self.words();
        let page = ErrorPage {
            code: status.as_u16(),
            title: words.title.clone(),
            detail: words.detail.clone(),
        };
        let body = page.render().unwrap_or_else(|_| words.detail.clone());

        let mut response = (status, Html(body)).into_response();
        response.extensions_mut().insert(words);
        response
    }
}

/// Middleware: for htmx requests, replaces an error page with a small alert fragment that
/// `static/js/app.js` shows above the content, so a failed refresh keeps the page as it is.
pub async fn htmx_errors(request: Request, next: Next) -> Response {
    let hx = HxRequest::from_headers(request.headers());
    let response = next.run(request).await;
    if !hx.wants_fragment() {
        return response;
    }
    let Some(words) = response.extensions().get::<ErrorWords>().cloned() else {
        return response;
    };

    let fragment = ErrorFragment {
        title: words.title,
        detail: words.detail,
    };
    let body = fragment.render().unwrap_or_default();
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Response::from_parts(parts, body.into())
}

/// Fallback for addresses no route knows.
pub async fn no_route() -> WebError {
    WebError::NotFound("There is no page at this address.".to_owned())
}
