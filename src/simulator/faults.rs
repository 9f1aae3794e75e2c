//! Scripted misbehaviour: proxy error pages, broken, stalled or oversized bodies, wrong
//! content types and dropped connections, the way appliances behind a reverse proxy show
//! them.

use std::io;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use futures::{StreamExt, stream};

use super::config::Fault;
use super::wire::plain_response;

/// How long a truncated body waits between its half and the drop.
const FLUSH_PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

/// Size of the body the huge-body fault sends.
const HUGE_BODY_BYTES: usize = 24 << 20;

/// A reply that replaces the real one before the appliance is asked, if the fault has one.
pub(crate) fn replacement(fault: &Fault) -> Option<Response> {
    match fault {
        Fault::Http500Html => Some(plain_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/html; charset=utf-8",
            "<html><head><title>500 Internal Server Error</title></head>\
             <body><h1>500 Internal Server Error</h1></body></html>",
        )),
        Fault::Http503 => Some(plain_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "upstream connect error or disconnect/reset before headers. \
             reset reason: connection failure",
        )),
        Fault::HugeBody => Some(huge_body()),
        Fault::EmptyBody => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::OK;
            Some(response)
        }
        Fault::ConnectionReset => Some(reset()),
        _ => None,
    }
}

/// Spoils a real reply the way the fault says; other faults leave it alone.
pub(crate) async fn spoil(fault: &Fault, response: Response) -> Response {
    match fault {
        Fault::MalformedJson => {
            let status = response.status();
            super::wire::json_response(status, "{\"value\":{\"state\":\"INPROGRESS\",,}".into())
        }
        Fault::WrongContentType => {
            let (mut parts, body) = response.into_parts();
            parts
                .headers
                .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
            Response::from_parts(parts, body)
        }
        Fault::TruncatedBody => truncate(response).await,
        Fault::HangAfterHeaders => stall(response),
        _ => response,
    }
}

/// Announces the full length, sends the first half, then fails the stream so the
/// connection closes early. The pause lets the half go out before the failure.
async fn truncate(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(length) = HeaderValue::from_str(&bytes.len().to_string()) {
        parts.headers.insert(header::CONTENT_LENGTH, length);
    }
    let half = bytes.slice(..bytes.len() / 2);
    let cut = stream::once(async {
        tokio::time::sleep(FLUSH_PAUSE).await;
        Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "simulated truncation",
        ))
    });
    let chunks = stream::iter([Ok(half)]).chain(cut);
    Response::from_parts(parts, Body::from_stream(chunks))
}

/// Keeps the status and headers of a reply but never sends its body. The length is
/// dropped so the head goes out at once, announcing a chunked body that never comes.
fn stall(response: Response) -> Response {
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    let never = stream::pending::<Result<Bytes, io::Error>>();
    Response::from_parts(parts, Body::from_stream(never))
}

/// Valid JSON of tens of megabytes, streamed from one shared chunk.
fn huge_body() -> Response {
    let chunk = Bytes::from(vec![b'x'; 64 * 1024]);
    let count = HUGE_BODY_BYTES / chunk.len();
    let head = std::iter::once(Bytes::from_static(b"{\"value\":\""));
    let middle = std::iter::repeat_n(chunk, count);
    let tail = std::iter::once(Bytes::from_static(b"\"}"));
    let chunks = head.chain(middle).chain(tail).map(Ok::<Bytes, io::Error>);
    let mut response = Response::new(Body::from_stream(stream::iter(chunks)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// A reply whose body fails at once: the server drops the connection before the head
/// goes out, so the client sees it close without an answer. The simulator's own
/// listeners reset the connection before this is reached; this is what a router served
/// some other way does instead.
// Known gap: a reset during the TCP handshake, before any request, is not simulated.
fn reset() -> Response {
    let chunks = vec![Err::<Bytes, io::Error>(io::Error::new(
        io::ErrorKind::ConnectionReset,
        "simulated connection reset",
    ))];
    let mut response = Response::new(Body::from_stream(stream::iter(chunks)));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
