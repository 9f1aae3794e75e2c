//! Wire conventions of both generations: the `.sssZ` time format, the `value` envelope
//! of `/rest`, maps as objects (`/api`) or key/value lists (`/rest`), compact JSON, and
//! the success status codes.

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

/// Which front end a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Generation {
    /// `/rest`: wrapped in `value`, maps as key/value lists, 200 for everything.
    Rest,
    /// `/api`: bare bodies, maps as objects, 201 and 204 where due.
    Api,
}

/// A date-time as the appliance writes it: UTC, milliseconds, literal `Z`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WireTime(pub DateTime<Utc>);

impl Serialize for WireTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_time(self.0))
    }
}

/// `2026-12-01T02:00:04.512Z`.
pub(crate) fn format_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A message with id, English text and arguments, the shape shared by the recovery and
/// the standard message types (the optional standard extras are never sent).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Message {
    pub id: &'static str,
    pub default_message: String,
    pub args: Vec<String>,
}

impl Message {
    pub fn new(id: &'static str, text: impl Into<String>) -> Message {
        Message {
            id,
            default_message: text.into(),
            args: Vec::new(),
        }
    }

    pub fn with_args(mut self, args: Vec<String>) -> Message {
        self.args = args;
        self
    }
}

/// A map keyed by string, rendered per generation.
pub(crate) struct Keyed<T> {
    pub generation: Generation,
    pub entries: Vec<(String, T)>,
}

#[derive(Serialize)]
struct KeyValue<'a, T> {
    key: &'a str,
    value: &'a T,
}

impl<T: Serialize> Serialize for Keyed<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.generation {
            Generation::Api => {
                let mut map = serializer.serialize_map(Some(self.entries.len()))?;
                for (key, value) in &self.entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
            Generation::Rest => {
                let mut seq = serializer.serialize_seq(Some(self.entries.len()))?;
                for (key, value) in &self.entries {
                    seq.serialize_element(&KeyValue { key, value })?;
                }
                seq.end()
            }
        }
    }
}

#[derive(Serialize)]
struct Envelope<'a, T> {
    value: &'a T,
}

/// A successful reply: wrapped with 200 on `/rest`, bare with `api_status` on `/api`.
pub(crate) fn success<T: Serialize>(
    generation: Generation,
    api_status: StatusCode,
    value: &T,
) -> Response {
    let (status, text) = match generation {
        Generation::Rest => (StatusCode::OK, serde_json::to_string(&Envelope { value })),
        Generation::Api => (api_status, serde_json::to_string(value)),
    };
    match text {
        Ok(text) => json_response(status, text),
        Err(err) => {
            tracing::error!(error = %err, "simulator reply did not serialise");
            plain_response(
                StatusCode::INTERNAL_SERVER_ERROR,
                "text/plain",
                "serialisation",
            )
        }
    }
}

/// A void success: 200 with no body and no content type on `/rest`, 204 on `/api`.
pub(crate) fn void(generation: Generation) -> Response {
    let status = match generation {
        Generation::Rest => StatusCode::OK,
        Generation::Api => StatusCode::NO_CONTENT,
    };
    let mut response = Response::new(Body::empty());
    *response.status_mut() = status;
    response
}

/// Compact JSON text with its content type.
pub(crate) fn json_response(status: StatusCode, text: String) -> Response {
    plain_response(status, "application/json", text)
}

/// A body with an explicit content type.
pub(crate) fn plain_response(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Body>,
) -> Response {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_have_milliseconds_and_z() {
        let t = Utc.timestamp_millis_opt(1_796_090_404_512).unwrap();
        assert_eq!(format_time(t), "2026-12-01T02:00:04.512Z");
        let whole = Utc.timestamp_opt(1_796_090_400, 0).unwrap();
        assert_eq!(format_time(whole), "2026-12-01T02:00:00.000Z");
    }

    #[test]
    fn maps_render_per_generation() {
        let entries = vec![("a".to_owned(), 1), ("b".to_owned(), 2)];
        let rest = Keyed {
            generation: Generation::Rest,
            entries: entries.clone(),
        };
        let api = Keyed {
            generation: Generation::Api,
            entries,
        };
        assert_eq!(
            serde_json::to_string(&rest).unwrap(),
            r#"[{"key":"a","value":1},{"key":"b","value":2}]"#
        );
        assert_eq!(serde_json::to_string(&api).unwrap(), r#"{"a":1,"b":2}"#);
    }
}
