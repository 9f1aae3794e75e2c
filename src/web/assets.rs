//! Static files embedded in the binary, served with a content-hash ETag.
//!
//! Pages link to assets with a `?v=<hash>` suffix, so a changed file gets a new URL and the
//! browser may keep each version for a year without asking again.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::body::Body;
use axum::extract::{Path, RawQuery};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use super::error::WebError;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Assets;

/// Cache lifetime for a versioned URL: one year, never revalidated.
const CACHE_VERSIONED: &str = "public, max-age=31536000, immutable";
/// Cache lifetime for an unversioned URL: a day, then revalidated with the ETag.
const CACHE_UNVERSIONED: &str = "public, max-age=86400";

/// Short content hashes of every asset, computed once.
static VERSIONS: LazyLock<HashMap<String, String>> = LazyLock::new(|| {
    Assets::iter()
        .filter_map(|path| {
            let file = Assets::get(&path)?;
            Some((path.into_owned(), short_hash(&file.metadata.sha256_hash())))
        })
        .collect()
});

fn short_hash(hash: &[u8; 32]) -> String {
    hash.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The URL of an asset with its content hash, such as `/static/css/app.css?v=1a2b...`.
/// Used by templates; an unknown path still gets a plain URL (and a 404 when fetched).
pub fn url(path: &str) -> String {
    match VERSIONS.get(path) {
        Some(version) => format!("/static/{path}?v={version}"),
        None => format!("/static/{path}"),
    }
}

/// `GET /static/{*path}`: the asset, `304 Not Modified` when the ETag still matches.
pub async fn show(
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let not_found = || WebError::NotFound(format!("no static file named {path}"));
    if path.contains("..") || path.contains('\\') {
        return Err(not_found());
    }
    let file = Assets::get(&path).ok_or_else(not_found)?;

    let hash = short_hash(&file.metadata.sha256_hash());
    let etag = format!("\"{hash}\"");
    let versioned = query.is_some_and(|q| q == format!("v={hash}"));
    let cache = if versioned {
        CACHE_VERSIONED
    } else {
        CACHE_UNVERSIONED
    };

    if etag_matches(&headers, &etag) {
        let headers = [
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache.to_owned()),
        ];
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }

    let mime = mime_guess::from_path(&path).first_or_octet_stream();
    let content_type = match mime.type_() {
        mime_guess::mime::TEXT => format!("{mime}; charset=utf-8"),
        _ if mime.subtype() == mime_guess::mime::JAVASCRIPT => format!("{mime}; charset=utf-8"),
        _ => mime.to_string(),
    };
    let mut response = Response::new(Body::from(file.data.into_owned()));
    let out = response.headers_mut();
    out.insert(header::CONTENT_TYPE, header_value(&content_type));
    out.insert(header::ETAG, header_value(&etag));
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Ok(response)
}

fn header_value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
}

/// True when `If-None-Match` lists `etag` (weak or strong) or is `*`.
fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versioned_urls_for_known_assets() {
        let css = url("css/app.css");
        assert!(css.starts_with("/static/css/app.css?v="), "{css}");
        assert_eq!(url("nope.txt"), "/static/nope.txt");
    }

    #[test]
    fn if_none_match_forms() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"a\", W/\"b\""),
        );
        assert!(etag_matches(&headers, "\"b\""));
        assert!(!etag_matches(&headers, "\"c\""));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(etag_matches(&headers, "\"c\""));
    }
}
