//! The two cookies of vbdash: the session id and a random browser id that form tokens of
//! signed-out visitors are bound to.

use axum::http::{HeaderMap, HeaderValue, header};

/// Holds the session id of a signed-in user.
pub const SESSION: &str = "vbdash_session";
/// Holds a random id of the browser, for forms sent before signing in.
pub const BROWSER: &str = "vbdash_browser";

/// The value of cookie `name` in the request, if it looks like one of our tokens.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| is_token(value))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, for the whole site, `Secure` on HTTPS.
/// Without `max_age` the cookie lasts until the browser closes.
pub fn set(name: &str, value: &str, secure: bool, max_age: Option<u64>) -> HeaderValue {
    let mut text = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        text.push_str("; Secure");
    }
    if let Some(age) = max_age {
        text.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// A `Set-Cookie` value that deletes cookie `name`.
pub fn clear(name: &str, secure: bool) -> HeaderValue {
    set(name, "", secure, Some(0))
}

/// Our tokens are 64 hex digits; anything else is ignored rather than looked up.
fn is_token(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_named_cookie_and_ignores_odd_values() {
        let token = "a".repeat(64);
        let mut headers = HeaderMap::new();
        let cookie = format!("x=1; {SESSION}={token}; {BROWSER}=<script>");
        headers.insert(header::COOKIE, HeaderValue::from_str(&cookie).unwrap());
        assert_eq!(read(&headers, SESSION), Some(token));
        assert_eq!(read(&headers, BROWSER), None);
    }

    #[test]
    fn cookies_are_http_only_and_lax() {
        let value = set(SESSION, "abc", true, None);
        let text = value.to_str().unwrap();
        assert!(text.contains("HttpOnly") && text.contains("SameSite=Lax"));
        assert!(text.contains("Secure"));
        assert!(
            !set(SESSION, "abc", false, None)
                .to_str()
                .unwrap()
                .contains("Secure")
        );
    }
}
