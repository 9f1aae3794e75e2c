//! Tokens against cross-site request forgery: every request that changes something must
//! carry one, in the `csrf_token` form field or the `X-CSRF-Token` header (which
//! `static/js/app.js` adds to every htmx request from the page's `<meta>` tag).
//!
//! A signed-in user's token is derived from the session id, so it lasts as long as the
//! session, across restarts. Everyone else's is derived from the random browser cookie
//! and the user name under a key that lives as long as the process.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, Method, header};

use super::tokens;

/// Header that htmx requests carry the token in.
pub const HEADER: &str = "x-csrf-token";
/// Form field that plain forms carry the token in.
pub const FIELD: &str = "csrf_token";
/// Largest form body read to find the token; larger ones are refused.
const MAX_FORM_BYTES: usize = 64 * 1024;

/// What a token is bound to.
#[derive(Debug, Clone)]
pub enum Binding<'a> {
    /// The session id of a signed-in user.
    Session(&'a str),
    /// The browser cookie, the user name (empty when signed out) and the process key.
    Browser {
        /// The process key.
        key: &'a [u8],
        /// The browser cookie.
        browser: &'a str,
        /// The user name, empty when signed out.
        user: &'a str,
    },
}

/// The token of a binding.
pub fn token(binding: &Binding<'_>) -> String {
    match binding {
        Binding::Session(session) => tokens::mac(session.as_bytes(), &["csrf"]),
        Binding::Browser { key, browser, user } => tokens::mac(key, &["csrf", browser, user]),
    }
}

/// True for methods that may change something.
pub fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No token in the header or the form.
    Missing,
    /// A token that is not this session's.
    Wrong,
    /// A form too large to look into.
    TooLarge,
}

impl Refusal {
    /// The sentence on the 403 page.
    pub fn explain(self) -> &'static str {
        match self {
            Refusal::Missing => {
                "This request carried no security token, so vbdash did not act on it. \
                 Forms and buttons of vbdash pages send one; reload the page and try again."
            }
            Refusal::Wrong => {
                "This request carried a security token that does not belong to your session, \
                 so vbdash did not act on it. It may come from an old page or another site; \
                 reload the page and try again."
            }
            Refusal::TooLarge => "The form is larger than vbdash accepts.",
        }
    }
}

/// Checks the token of `request` against `expected`, reading a form body when the header
/// is absent; the body is put back for the handler.
pub async fn verify(request: Request, expected: &str) -> Result<Request, (Refusal, Request)> {
    if let Some(sent) = header_token(request.headers()) {
        return if tokens::same(&sent, expected) {
            Ok(request)
        } else {
            Err((Refusal::Wrong, request))
        };
    }
    if !is_form(request.headers()) {
        return Err((Refusal::Missing, request));
    }

    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
        return Err((Refusal::TooLarge, Request::from_parts(parts, Body::empty())));
    };
    let sent = url::form_urlencoded::parse(&bytes)
        .find(|(name, _)| name == FIELD)
        .map(|(_, value)| value.into_owned());
    let request = Request::from_parts(parts, Body::from(bytes));
    match sent {
        None => Err((Refusal::Missing, request)),
        Some(sent) if tokens::same(&sent, expected) => Ok(request),
        Some(_) => Err((Refusal::Wrong, request)),
    }
}

fn header_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/x-www-form-urlencoded"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(body: &str, header_token: Option<&str>) -> Request {
        let mut builder =
            Request::post("/x").header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(t) = header_token {
            builder = builder.header(HEADER, t);
        }
        builder.body(Body::from(body.to_owned())).unwrap()
    }

    #[tokio::test]
    async fn form_field_or_header_must_match() {
        let good = token(&Binding::Session("s"));
        assert!(
            verify(post(&format!("a=1&csrf_token={good}"), None), &good)
                .await
                .is_ok()
        );
        assert!(verify(post("a=1", Some(&good)), &good).await.is_ok());

        let missing = verify(post("a=1", None), &good).await.unwrap_err().0;
        assert_eq!(missing, Refusal::Missing);
        let wrong = verify(post("csrf_token=abc", None), &good)
            .await
            .unwrap_err()
            .0;
        assert_eq!(wrong, Refusal::Wrong);
        let wrong = verify(post("", Some("abc")), &good).await.unwrap_err().0;
        assert_eq!(wrong, Refusal::Wrong);
    }

    #[test]
    fn tokens_differ_by_session_and_browser() {
        let key = [7u8; 32];
        let a = token(&Binding::Browser {
            key: &key,
            browser: "b1",
            user: "",
        });
        let b = token(&Binding::Browser {
            key: &key,
            browser: "b2",
            user: "",
        });
        assert_ne!(a, b);
        assert_ne!(
            token(&Binding::Session("s1")),
            token(&Binding::Session("s2"))
        );
    }
}
