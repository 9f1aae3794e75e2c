//! Logging in and out, and finding the session a request carries: the
//! `vmware-api-session-id` header on both generations, or the cookie of the same name on
//! `/rest`.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};

use super::appliance::ApplianceState;
use super::errors::VapiError;
use super::sessions::Session;
use super::wire::{Generation, success, void};

const SESSION_HEADER: &str = "vmware-api-session-id";

/// `POST /api/session` (201, bare token) or `POST /rest/com/vmware/cis/session` (200,
/// wrapped token and a cookie unless `vmware-use-header-authn: true`).
pub(crate) fn login(
    state: &mut ApplianceState,
    generation: Generation,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Response {
    let Some((user, password)) = basic_credentials(headers) else {
        return VapiError::unauthenticated().into_response(generation);
    };
    let known_user = user == state.config.username || state.config.read_only_users.contains(&user);
    if !known_user || password != state.config.password {
        tracing::debug!(appliance.name = %state.config.name, "simulated login refused");
        return VapiError::unauthenticated().into_response(generation);
    }

    let idle = state.idle_limit();
    let cap = state.config.max_sessions;
    let Some(token) = state.sessions.open(&user, now, idle, cap) else {
        return VapiError::session_limit(&user, cap).into_response(generation);
    };
    state.logins += 1;

    match generation {
        Generation::Api => success(generation, StatusCode::CREATED, &token),
        Generation::Rest => {
            let mut response = success(generation, StatusCode::OK, &token);
            if !wants_header_only(headers) {
                let cookie = format!(
                    "{SESSION_HEADER}={token}; Path=/{}/rest; HttpOnly",
                    state.config.name
                );
                if let Ok(value) = HeaderValue::from_str(&cookie) {
                    response.headers_mut().insert(header::SET_COOKIE, value);
                }
            }
            response
        }
    }
}

/// The live session of a request, or `UNAUTHENTICATED`.
pub(crate) fn session_of(
    state: &mut ApplianceState,
    generation: Generation,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Result<(String, Session), VapiError> {
    let token = token_of(generation, headers).ok_or_else(VapiError::unauthenticated)?;
    let idle = state.idle_limit();
    let session = state
        .sessions
        .touch(&token, now, idle)
        .ok_or_else(VapiError::unauthenticated)?;
    Ok((token, session))
}

/// `DELETE` of the session: 200 with no body on `/rest`, 204 on `/api`.
pub(crate) fn logout(state: &mut ApplianceState, generation: Generation, token: &str) -> Response {
    state.sessions.close(token);
    void(generation)
}

fn token_of(generation: Generation, headers: &HeaderMap) -> Option<String> {
    if let Some(value) = headers.get(SESSION_HEADER).and_then(|v| v.to_str().ok()) {
        return Some(value.trim().to_owned());
    }
    if generation == Generation::Api {
        return None;
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_HEADER)
        .map(|(_, token)| token.to_owned())
}

fn wants_header_only(headers: &HeaderMap) -> bool {
    headers
        .get("vmware-use-header-authn")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// User and password of a `Basic` authorization header.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(decode_base64(encoded.trim())?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// Standard base64 with optional padding; `None` on any other character.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        match c {
            b'A'..=b'Z' => Some(u32::from(c - b'A')),
            b'a'..=b'z' => Some(u32::from(c - b'a') + 26),
            b'0'..=b'9' => Some(u32::from(c - b'0') + 52),
            b'+' => Some(62),
            b'/' => Some(63),
            _ => None,
        }
    }

    let digits = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut word = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            word |= value(*c)? << (18 - 6 * i);
        }
        let bytes = word.to_be_bytes();
        match chunk.len() {
            4 => out.extend_from_slice(&bytes[1..4]),
            3 => out.extend_from_slice(&bytes[1..3]),
            2 => out.push(bytes[1]),
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_every_padding() {
        assert_eq!(decode_base64("YWJj").unwrap(), b"abc");
        assert_eq!(decode_base64("YWI=").unwrap(), b"ab");
        assert_eq!(decode_base64("YQ==").unwrap(), b"a");
        assert_eq!(decode_base64("dXNlcjpwYXNz").unwrap(), b"user:pass");
        assert!(decode_base64("Y").is_none());
        assert!(decode_base64("a*b=").is_none());
    }
}
