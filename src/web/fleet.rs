//! The fleet overview page and its self-refreshing rows.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;

use super::AppState;
use super::error::WebError;
use super::htmx::HxRequest;
use crate::views::fleet::{self, FleetFilter, FleetPage};

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
) -> Result<FleetPage, WebError> {
    let filter = query?.filter();

    let overviews = state
        .store
        .fleet_overview()
        .await
        .map_err(WebError::internal)?;

    let settings = &state.settings;
    Ok(fleet::page(
        &overviews,
        &filter,
        Some(&state.silencer()),
        Utc::now(),
        settings.display_zone,
        settings.refresh_secs,
    ))
}

/// `GET /fleet/rows`: the rows alone, for the periodic refresh and for filter changes.
/// A filter change also moves the address bar to the filtered fleet page.
pub async fn rows(
    State(state): State<AppState>,
    hx: HxRequest,
    query: Result<Query<FleetQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    let filter = query?.filter();

    let overviews = state
        .store
        .fleet_overview()
        .await
        .map_err(WebError::internal)?;
    let fragment = fleet::rows_fragment_silenced(
        &overviews,
        &filter,
        Some(&state.silencer()),
        Utc::now(),
        state.settings.display_zone,
    );

    let mut response = fragment.into_response();
    if hx.trigger.as_deref() == Some(FILTER_FORM_ID)
        && let Ok(url) = HeaderValue::from_str(&filter.href())
    {
        response.headers_mut().insert("hx-push-url", url);
    }
    Ok(response)
}
