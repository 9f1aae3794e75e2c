//! Sessions of local users: started at sign-in with a fresh id, kept in the database by
//! a digest of that id, ended by sign-out, idleness or age.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::tokens;
use super::{CurrentUser, Source};
use crate::config::AuthConfig;
use crate::store::{Store, StoreResult};

/// A signed-in user found from the session cookie.
#[derive(Debug, Clone)]
pub struct Resumed {
    /// Who the session belongs to.
    pub user: CurrentUser,
    /// The session id from the cookie; CSRF tokens are bound to it.
    pub token: String,
}

/// The user of session `token`, when it exists and has not expired. An expired session
/// is deleted; a live one is marked as used (at most every few seconds).
pub async fn resume(
    store: &Store,
    config: &AuthConfig,
    token: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<Resumed>> {
    let id_hash = tokens::digest(token);
    let Some(record) = store.session(&id_hash).await? else {
        return Ok(None);
    };

    let now_ms = now.timestamp_millis();
    let idle_ms = now_ms - record.last_seen_ms;
    let age_ms = now_ms - record.created_ms;
    if idle_ms > millis(config.session_idle) || age_ms > millis(config.session_absolute) {
        store.delete_session(&id_hash).await?;
        tracing::info!(user.name = %record.user_name, "session expired");
        return Ok(None);
    }

    // Writing on every request would queue behind the poller for nothing.
    let touch_every = millis(config.session_idle / 4).min(60_000);
    if idle_ms >= touch_every {
        store.touch_session(&id_hash, now).await?;
    }
    Ok(Some(Resumed {
        user: CurrentUser {
            name: record.user_name,
            role: record.role,
            source: Source::Session,
        },
        token: token.to_owned(),
    }))
}

/// Starts a session for user `user_id` and returns its id for the cookie. Expired
/// sessions of anyone are cleared on the way.
pub async fn start(
    store: &Store,
    config: &AuthConfig,
    user_id: i64,
    now: DateTime<Utc>,
) -> StoreResult<String> {
    let idle_cutoff = now - chrono::Duration::milliseconds(millis(config.session_idle));
    let age_cutoff = now - chrono::Duration::milliseconds(millis(config.session_absolute));
    store
        .delete_expired_sessions(idle_cutoff, age_cutoff)
        .await?;

    let token = tokens::random_token();
    store
        .create_session(&tokens::digest(&token), user_id, now)
        .await?;
    Ok(token)
}

/// Ends session `token`.
pub async fn end(store: &Store, token: &str) -> StoreResult<()> {
    store.delete_session(&tokens::digest(token)).await
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
