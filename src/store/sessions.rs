//! The `sessions` table: who is signed in. Rows are keyed by a digest of the session id,
//! never by the id itself, so the database cannot be used to take over a session.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::users::{Role, parse_role};
use super::{Context, Store, StoreResult};

/// A stored session with its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub user_name: String,
    pub role: Role,
    /// When the user signed in, unix milliseconds.
    pub created_ms: i64,
    /// Last request seen, unix milliseconds.
    pub last_seen_ms: i64,
}

#[derive(FromRow)]
struct SessionRow {
    name: String,
    role: String,
    created_ms: i64,
    last_seen_ms: i64,
}

impl Store {
    /// Records a new session of user `user_id` under the digest of its id.
    pub async fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, created_ms, last_seen_ms) VALUES (?, ?, ?, ?)",
        )
        .bind(id_hash)
        .bind(user_id)
        .bind(now.timestamp_millis())
        .bind(now.timestamp_millis())
        .execute(&self.writer)
        .await
        .context("starting a session")?;
        Ok(())
    }

    /// The session with this digest and its user, expired or not.
    pub async fn session(&self, id_hash: &str) -> StoreResult<Option<SessionRecord>> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT users.name, users.role, sessions.created_ms, sessions.last_seen_ms \
             FROM sessions JOIN users ON users.id = sessions.user_id WHERE id_hash = ?",
        )
        .bind(id_hash)
        .fetch_optional(&self.reader)
        .await
        .context("reading a session")?;
        row.map(|row| {
            Ok(SessionRecord {
                role: parse_role(&row.role)?,
                user_name: row.name,
                created_ms: row.created_ms,
                last_seen_ms: row.last_seen_ms,
            })
        })
        .transpose()
    }

    /// Notes that the session was used at `now`.
    pub async fn touch_session(&self, id_hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_ms = ? WHERE id_hash = ?")
            .bind(now.timestamp_millis())
            .bind(id_hash)
            .execute(&self.writer)
            .await
            .context("touching a session")?;
        Ok(())
    }

    /// Ends one session.
    pub async fn delete_session(&self, id_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = ?")
            .bind(id_hash)
            .execute(&self.writer)
            .await
            .context("ending a session")?;
        Ok(())
    }

    /// Deletes sessions idle since before `idle_cutoff` or begun before `absolute_cutoff`;
    /// returns how many.
    pub async fn delete_expired_sessions(
        &self,
        idle_cutoff: DateTime<Utc>,
        absolute_cutoff: DateTime<Utc>,
    ) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sessions WHERE last_seen_ms < ? OR created_ms < ?")
            .bind(idle_cutoff.timestamp_millis())
            .bind(absolute_cutoff.timestamp_millis())
            .execute(&self.writer)
            .await
            .context("deleting expired sessions")?;
        Ok(done.rows_affected())
    }
}
