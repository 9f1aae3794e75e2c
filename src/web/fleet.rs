//! The fleet overview page and its self-refreshing rows.

use askama::Template;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderValue;
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use super::error::WebError;
use super::htmx::HxRequest;
use crate::store::FleetSnapshot;
use crate::views::fleet::{self, FleetFilter};

/// The id of the filter form; htmx names it in `HX-Trigger` when the filter changes.
const FILTER_FORM_ID: &str = "fleet-filter";

/// The filter as it arrives in the query string; every field may be blank.
#[derive(Debug, Default, Deserialize)]
pub struct FleetQuery {
    /// Status word.
    pub status: Option<String>,
    /// Tag.
    pub tag: Option<String>,
    /// Text to look for.
    pub q: Option<String>,
}

impl FleetQuery {
    fn filter(&self) -> FleetFilter {
        FleetFilter::from_query(
            self.status.as_deref(),
            self.tag.as_deref(),
            self.q.as_deref(),
        )
    }
}

/// `GET /`: the fleet page.
pub async fn index(
    State(state): State<AppState>,
    query: Result<Query<FleetQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    let filter = query?.filter();

    let snapshot = state
        .store
        .fleet_snapshot()
        .await
        .map_err(WebError::internal)?;

    // The page's data and its rendered rows are shared by every viewer of the snapshot
    // (the rows by role, as they hold role-dependent controls); only the text around the
    // rows is rendered per request, since it carries the viewer's name and form token.
    let settings = &state.settings;
    let page = snapshot.derived(&format!("page {}", filter.href()), || {
        fleet::page(
            &snapshot.overviews,
            &filter,
            Some(&state.silencer()),
            snapshot.taken_at,
            settings.display_zone,
            settings.refresh_secs,
        )
    });
    let role = crate::web::auth::page_context().role;
    let rows = rendered_once(
        &snapshot,
        &format!("page rows {role} {}", filter.href()),
        || page.fragment.render(),
    )?;
    let (before, after) = page.render_shell().map_err(WebError::internal)?;

    Ok(html_in_parts([
        Bytes::from(before),
        rows,
        Bytes::from(after),
    ]))
}

/// Text rendered once per snapshot and `key`, and shared by every viewer asking for it.
fn rendered_once(
    snapshot: &FleetSnapshot,
    key: &str,
    render: impl FnOnce() -> askama::Result<String>,
) -> Result<Bytes, WebError> {
    let rendered = snapshot.derived(key, || {
        render().map(Bytes::from).map_err(|err| err.to_string())
    });
    match rendered.as_ref() {
        Ok(bytes) => Ok(bytes.clone()),
        Err(err) => Err(WebError::internal(err.clone())),
    }
}

/// An HTML response whose body is `parts` one after the other, sent without copying
/// them into one buffer (the shared rows of a large fleet are over half a megabyte).
fn html_in_parts(parts: [Bytes; 3]) -> Response {
    let length: usize = parts.iter().map(Bytes::len).sum();
    let chunks = futures::stream::iter(parts.map(Ok::<_, std::convert::Infallible>));
    let mut response = Response::new(axum::body::Body::from_stream(chunks));
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        axum::http::header::CONTENT_LENGTH,
        HeaderValue::from(length),
    );
    response
}

/// `GET /fleet/rows`: the rows alone, for the periodic refresh and for filter changes.
/// A filter change also moves the address bar to the filtered fleet page.
pub async fn rows(
    State(state): State<AppState>,
    hx: HxRequest,
    query: Result<Query<FleetQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    let filter = query?.filter();

    let snapshot = state
        .store
        .fleet_snapshot()
        .await
        .map_err(WebError::internal)?;

    // The rows hold no form token, only controls that depend on the viewer's role, so the
    // rendered rows are shared by role.
    let role = crate::web::auth::page_context().role;
    let key = format!("rows {role} {}", filter.href());
    let body = rendered_once(&snapshot, &key, || {
        fleet::rows_fragment_silenced(
            &snapshot.overviews,
            &filter,
            Some(&state.silencer()),
            snapshot.taken_at,
            state.settings.display_zone,
        )
        .render()
    })?;

    let mut response = Html(body).into_response();
    if hx.trigger.as_deref() == Some(FILTER_FORM_ID)
        && let Ok(url) = HeaderValue::from_str(&filter.href())
    {
        response.headers_mut().insert("hx-push-url", url);
    }
    Ok(response)
}
