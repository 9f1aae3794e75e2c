//! `GET /notifications`: what was sent where, and how each attempt went. For operators
//! and admins, like the audit log: channel names and delivery errors are operating detail,
//! and operators are the ones who act when the team was not told.

use axum::extract::State;

use crate::views::notifications::{self, NotificationsPage};
use crate::web::AppState;
use crate::web::error::WebError;

/// Lines shown on the page.
const PAGE_LIMIT: u32 = 500;

/// `GET /notifications`.
pub async fn index(State(state): State<AppState>) -> Result<NotificationsPage, WebError> {
    let lines = state
        .store
        .delivery_lines(PAGE_LIMIT)
        .await
        .map_err(WebError::internal)?;
    let waiting = state
        .store
        .waiting_deliveries()
        .await
        .map_err(WebError::internal)?;
    Ok(NotificationsPage {
        rows: notifications::rows(&lines, state.settings.display_zone),
        waiting,
        limit: PAGE_LIMIT,
    })
}
