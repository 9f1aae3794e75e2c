//! `GET /metrics`: the fleet and the process in the Prometheus text format.
//!
//! Public like most exporters, so that a scraper needs no session. It therefore shows
//! appliance names, statuses and job facts (never URLs, users, messages or secrets) to
//! anyone who can reach the port. Never cached.
//!
//! Known gap: there is no setting to require sign-in for it or to turn it off; limit who
//! reaches `/metrics` with the network or the reverse proxy when that matters.

pub mod exposition;
pub mod fleet;
pub mod process;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::AppState;
use super::error::WebError;
use exposition::Exposition;

/// `GET /metrics`: one read of the fleet overview, written as text.
pub async fn show(State(state): State<AppState>) -> Result<Response, WebError> {
    let overview = state
        .store
        .fleet_overview()
        .await
        .map_err(WebError::internal)?;

    let mut out = Exposition::default();
    fleet::write(&mut out, &overview, Utc::now());
    process::write(&mut out);
    Ok((
        [
            (header::CONTENT_TYPE, exposition::CONTENT_TYPE),
            (header::CACHE_CONTROL, "no-store"),
        ],
        out.finish(),
    )
        .into_response())
}
