//! The users page: local users and their roles, for admins.

use axum::extract::State;
use chrono::Utc;

use super::AppState;
use super::error::WebError;
use crate::config::AuthMode;
use crate::views::auth::UsersPage;

/// `GET /users`: every local user with role and dates; no secrets. Admins only (the
/// router puts the role check in front).
pub async fn index(State(state): State<AppState>) -> Result<UsersPage, WebError> {
    let users = state.store.list_users().await.map_err(WebError::internal)?;
    Ok(UsersPage::new(
        &users,
        state.auth.config.mode == AuthMode::Local,
        Utc::now(),
        state.settings.display_zone,
    ))
}
