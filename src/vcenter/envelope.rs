//! The envelopes around answers: the `{"value": ..}` wrapper of `/rest`, maps sent as JSON
//! objects or as `{key, value}` lists, session tokens, and the three error envelopes.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::error::{ApplianceFault, VcError};
use super::models::WireMessage;
use crate::domain::ApiGeneration;
use crate::domain::text;

/// Longest reason kept from a serde error, in characters.
const MAX_REASON_CHARS: usize = 160;
/// Bytes of a foreign error body looked at to say what it is.
const MAX_SNIFF_BYTES: usize = 4096;
/// Longest page title or text line quoted from a foreign error body, in characters.
const MAX_NOTE_CHARS: usize = 120;
/// Longest session token accepted; real ones are 32 hex characters.
const MAX_TOKEN_CHARS: usize = 4096;

/// Parses a success body and takes off the `/rest` `value` wrapper.
pub fn unwrap_success(generation: ApiGeneration, body: &[u8]) -> Result<Value, VcError> {
    let json = parse_json(body)?;
    match generation {
        ApiGeneration::Api => Ok(json),
        ApiGeneration::Rest => match json {
            Value::Object(mut object) => object
                .remove("value")
                .ok_or_else(|| VcError::bad_response("the /rest answer has no \"value\" wrapper")),
            other => Err(VcError::bad_response(format!(
                "the /rest answer is {} instead of an object",
                json_kind(&other)
            ))),
        },
    }
}

/// The outcome of a call that returns nothing: any 2xx is success whatever the body
/// (`/rest` answers 200 with an empty body and no content type, `/api` answers 204).
pub fn void_result(status: u16, body: &[u8]) -> Result<(), VcError> {
    if (200..300).contains(&status) {
        return Ok(());
    }
    Err(VcError::from_fault(parse_error(status, body)))
}

/// The unwrapped JSON of a call that returns a value, or the appliance's error.
pub fn value_result(api_gen: ApiGeneration, status: u16, body: &[u8]) -> Result<Value, VcError> {
    if !(200..300).contains(&status) {
        return Err(VcError::from_fault(parse_error(status, body)));
    }
    unwrap_success(api_gen, body)
}

/// Parses a body as JSON, with a short reason when it is not.
pub fn parse_json(body: &[u8]) -> Result<Value, VcError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(VcError::bad_response("empty body where JSON was expected"));
    }
    serde_json::from_slice(body).map_err(|err| {
        VcError::bad_response(format!(
            "malformed JSON at line {} column {}",
            err.line(),
            err.column()
        ))
    })
}

/// Reads a JSON value into a wire type; the reason names the field that did not fit.
pub fn decode<T: DeserializeOwned>(what: &str, value: Value) -> Result<T, VcError> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let cause = text::bounded(&err.into_inner().to_string(), MAX_REASON_CHARS);
        VcError::bad_response(format!("{what}: {path}: {cause}"))
    })
}

/// The entries of a map as the API sends it: a JSON object (`/api`) or a list of
/// `{"key": K, "value": V}` objects (`/rest`). Both shapes are accepted from either
/// generation; the order of a list is kept.
pub fn map_entries(what: &str, value: Value) -> Result<Vec<(String, Value)>, VcError> {
    match value {
        Value::Object(object) => Ok(object.into_iter().collect()),
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(n, item)| key_value_entry(what, n, item))
            .collect(),
        other => Err(VcError::bad_response(format!(
            "{what}: expected a map, got {}",
            json_kind(&other)
        ))),
    }
}

fn key_value_entry(what: &str, n: usize, item: Value) -> Result<(String, Value), VcError> {
    let Value::Object(mut entry) = item else {
        return Err(VcError::bad_response(format!(
            "{what}: entry {n} is not an object"
        )));
    };
    let key = match entry.remove("key") {
        Some(Value::String(key)) => key,
        _ => {
            return Err(VcError::bad_response(format!(
                "{what}: entry {n} has no string key"
            )));
        }
    };
    let value = entry
        .remove("value")
        .ok_or_else(|| VcError::bad_response(format!("{what}: entry {n} has no value")))?;
    Ok((key, value))
}

/// The session token of a login answer: a bare JSON string on `/api`, wrapped in `value`
/// on `/rest`. `None` when the body holds no usable token.
pub fn session_token(generation: ApiGeneration, body: &[u8]) -> Option<String> {
    let value = unwrap_success(generation, body).ok()?;
    let token = value.as_str()?;
    // The token goes into a header, so it must be short visible ASCII.
    let usable = !token.is_empty()
        && token.len() <= MAX_TOKEN_CHARS
        && token.bytes().all(|b| b.is_ascii_graphic());
    usable.then(|| token.to_owned())
}

/// Reads an error answer, whatever its envelope:
/// - `/api`: `{"error_type": "NOT_FOUND", "messages": [..]}`
/// - `/rest`: `{"type": "com.vmware.vapi.std.errors.not_found", "value": {"messages": [..]}}`
/// - newer `/rest`: the same with `value.error_type`.
///
/// The type comes from `error_type`, else from the last part of `type`, else from the HTTP
/// status (proxies answer with HTML or nothing at all).
pub fn parse_error(status: u16, body: &[u8]) -> ApplianceFault {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let envelope = json
        .as_ref()
        .and_then(Value::as_object)
        .and_then(read_envelope);

    let (error_type, messages, body_note) = match envelope {
        Some(env) => {
            let error_type = env
                .error_type
                .or_else(|| env.rest_type.as_deref().and_then(type_suffix))
                .unwrap_or_else(|| type_from_status(status).to_owned());
            (error_type, env.messages, None)
        }
        None => (
            type_from_status(status).to_owned(),
            Vec::new(),
            Some(describe_foreign_body(body)),
        ),
    };

    ApplianceFault {
        status,
        error_type: text::bounded(&error_type, 64),
        messages,
        body_note,
    }
}

/// A few words on a body that is no error envelope: empty, a web page (by its title), or
/// the first line of plain text, which is how proxies explain themselves.
fn describe_foreign_body(body: &[u8]) -> String {
    let head = String::from_utf8_lossy(&body[..body.len().min(MAX_SNIFF_BYTES)]);
    let trimmed = head.trim();
    if trimmed.is_empty() {
        return "an empty body".to_owned();
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return "JSON that is no error envelope".to_owned();
    }

    let lower = trimmed.to_ascii_lowercase();
    if lower.starts_with('<') {
        let title = lower.find("<title>").and_then(|open| {
            let start = open + "<title>".len();
            let end = start + lower[start..].find("</title>")?;
            // Lowercasing ASCII keeps every byte offset, so the original case can be cut.
            let title = trimmed.get(start..end)?.trim();
            (!title.is_empty()).then(|| text::bounded(title, MAX_NOTE_CHARS))
        });
        return match title {
            Some(title) => format!("a web page titled \"{title}\""),
            None => "a web page instead of an appliance answer".to_owned(),
        };
    }

    let first_line = trimmed.lines().next().unwrap_or_default().trim();
    format!("the text \"{}\"", text::bounded(first_line, MAX_NOTE_CHARS))
}

struct Envelope {
    error_type: Option<String>,
    rest_type: Option<String>,
    messages: Vec<String>,
}

fn read_envelope(object: &Map<String, Value>) -> Option<Envelope> {
    let rest_type = object.get("type").and_then(Value::as_str);
    let rest_value = object.get("value").and_then(Value::as_object);
    if let (Some(rest_type), Some(inner)) = (rest_type, rest_value) {
        return Some(Envelope {
            error_type: error_type_of(inner),
            rest_type: Some(rest_type.to_owned()),
            messages: messages_of(inner),
        });
    }

    if object.contains_key("error_type") || object.contains_key("messages") {
        return Some(Envelope {
            error_type: error_type_of(object),
            rest_type: None,
            messages: messages_of(object),
        });
    }
    None
}

fn error_type_of(object: &Map<String, Value>) -> Option<String> {
    let word = object.get("error_type")?.as_str()?.trim();
    (!word.is_empty()).then(|| word.to_ascii_uppercase())
}

/// `com.vmware.vapi.std.errors.not_found` -> `NOT_FOUND`.
fn type_suffix(rest_type: &str) -> Option<String> {
    let suffix = rest_type.rsplit('.').next()?.trim();
    (!suffix.is_empty()).then(|| suffix.to_ascii_uppercase())
}

fn messages_of(object: &Map<String, Value>) -> Vec<String> {
    let Some(Value::Array(items)) = object.get("messages") else {
        return Vec::new();
    };
    let texts = items.iter().filter_map(|item| match item {
        Value::String(text) => Some(text.clone()),
        Value::Object(_) => serde_json::from_value::<WireMessage>(item.clone())
            .ok()
            .map(|m| m.text()),
        _ => None,
    });
    text::bounded_messages(texts.filter(|t| !t.is_empty()))
}

/// The error type the vAPI runtime pairs with an HTTP status, for bodies without one.
fn type_from_status(status: u16) -> &'static str {
    match status {
        400 => "INVALID_REQUEST",
        401 => "UNAUTHENTICATED",
        403 => "UNAUTHORIZED",
        404 => "NOT_FOUND",
        409 => "CONCURRENT_CHANGE",
        500 => "INTERNAL_SERVER_ERROR",
        503 => "SERVICE_UNAVAILABLE",
        504 => "TIMED_OUT",
        _ => "ERROR",
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_type_suffix_gives_the_kind() {
        let body =
            br#"{"type":"com.vmware.vapi.std.errors.feature_in_use","value":{"messages":[]}}"#;
        assert_eq!(parse_error(400, body).error_type, "FEATURE_IN_USE");
    }

    #[test]
    fn html_body_falls_back_to_the_status() {
        let fault = parse_error(503, b"<html><body>upstream down</body></html>");
        assert_eq!(fault.error_type, "SERVICE_UNAVAILABLE");
        assert!(fault.messages.is_empty());
        assert_eq!(
            fault.joined_messages(),
            "HTTP 503 with a web page instead of an appliance answer"
        );
    }

    #[test]
    fn foreign_bodies_are_named_by_title_or_first_line() {
        let page = b"<HTML><head><TITLE> 502 Bad Gateway </TITLE></head></HTML>";
        assert_eq!(
            parse_error(502, page).joined_messages(),
            "HTTP 502 with a web page titled \"502 Bad Gateway\""
        );
        let text = b"upstream connect error\nsecond line";
        assert_eq!(
            parse_error(503, text).joined_messages(),
            "HTTP 503 with the text \"upstream connect error\""
        );
        assert_eq!(
            parse_error(500, b"").joined_messages(),
            "HTTP 500 with an empty body"
        );
        // A title cut inside a multi-byte character must not panic.
        let cut = "<title>é".repeat(700);
        assert!(parse_error(500, cut.as_bytes()).body_note.is_some());
    }

    #[test]
    fn token_must_be_a_plain_string() {
        assert_eq!(
            session_token(ApiGeneration::Api, br#""abc123""#).as_deref(),
            Some("abc123")
        );
        assert_eq!(
            session_token(ApiGeneration::Rest, br#"{"value":"abc123"}"#).as_deref(),
            Some("abc123")
        );
        assert!(session_token(ApiGeneration::Api, br#"{"value":"abc123"}"#).is_none());
        assert!(session_token(ApiGeneration::Api, br#""two words""#).is_none());
        assert!(session_token(ApiGeneration::Api, b"<html>").is_none());
    }

    #[test]
    fn both_map_shapes_give_the_same_entries() {
        let object: Value = serde_json::from_str(r#"{"a":1}"#).unwrap();
        let list: Value = serde_json::from_str(r#"[{"key":"a","value":1}]"#).unwrap();
        assert_eq!(
            map_entries("m", object).unwrap(),
            map_entries("m", list).unwrap()
        );
        assert!(map_entries("m", Value::from(3)).is_err());
    }
}
