//! What htmx tells the server about a request, read from its `HX-*` headers.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

/// The htmx headers of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HxRequest {
    /// `HX-Request: true`: htmx sent it.
    pub is_htmx: bool,
    /// `HX-History-Restore-Request`: htmx wants a whole page to restore history.
    pub history_restore: bool,
    /// `HX-Trigger`: the id of the element that triggered the request.
    pub trigger: Option<String>,
}

impl HxRequest {
    /// Reads the headers; absent or odd values count as absent.
    pub fn from_headers(headers: &HeaderMap) -> HxRequest {
        let flag = |name: &str| headers.get(name).is_some_and(|v| v.as_bytes() == b"true");
        HxRequest {
            is_htmx: flag("hx-request"),
            history_restore: flag("hx-history-restore-request"),
            trigger: headers
                .get("hx-trigger")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        }
    }

    /// True when the answer should be a fragment rather than a whole page.
    pub fn wants_fragment(&self) -> bool {
        self.is_htmx && !self.history_restore
    }
}

impl<S: Send + Sync> FromRequestParts<S> for HxRequest {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(HxRequest::from_headers(&parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn history_restore_wants_a_page() {
        let mut headers = HeaderMap::new();
        headers.insert("hx-request", HeaderValue::from_static("true"));
        assert!(HxRequest::from_headers(&headers).wants_fragment());
        headers.insert(
            "hx-history-restore-request",
            HeaderValue::from_static("true"),
        );
        assert!(!HxRequest::from_headers(&headers).wants_fragment());
        assert!(!HxRequest::from_headers(&HeaderMap::new()).wants_fragment());
    }
}
