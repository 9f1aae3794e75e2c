//! Failed sign-ins, kept so that a lockout outlives a restart: one row per failure and per
//! key, a key being a user name or a client address. Nothing typed into the password field
//! is ever stored.

use chrono::{DateTime, Utc};

use super::overview::to_ms;
use super::{Context, Store, StoreResult};

/// Rows kept at most: a flood of made-up names or addresses stays bounded, losing only
/// the oldest failures.
const MAX_ROWS: i64 = 20_000;

/// What a failed sign-in is counted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignInKey<'a> {
    /// A user name, compared without regard to case.
    User(&'a str),
    /// A client address as the dashboard sees it.
    Address(&'a str),
}

impl SignInKey<'_> {
    /// The stored kind word and key.
    fn parts(self) -> (&'static str, String) {
        match self {
            SignInKey::User(name) => ("user", name.to_lowercase()),
            SignInKey::Address(address) => ("address", address.to_owned()),
        }
    }
}

impl Store {
    /// Counts one failed sign-in at `at` under each of `keys`, in one transaction.
    pub async fn record_sign_in_failure(
        &self,
        keys: &[SignInKey<'_>],
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self
            .writer
            .begin()
            .await
            .context("starting to record a failed sign-in")?;
        for key in keys {
            let (kind, key) = key.parts();
            sqlx::query("INSERT INTO sign_in_failures (kind, key, at_ms) VALUES (?1, ?2, ?3)")
                .bind(kind)
                .bind(key)
                .bind(to_ms(at))
                .execute(&mut *tx)
                .await
                .context("recording a failed sign-in")?;
        }
        sqlx::query(
            "DELETE FROM sign_in_failures \
             WHERE id <= (SELECT MAX(id) FROM sign_in_failures) - ?1",
        )
        .bind(MAX_ROWS)
        .execute(&mut *tx)
        .await
        .context("bounding the failed sign-ins")?;
        tx.commit().await.context("committing a failed sign-in")?;
        Ok(())
    }

    /// Failed sign-ins under `key` after `since`.
    pub async fn sign_in_failures_since(
        &self,
        key: SignInKey<'_>,
        since: DateTime<Utc>,
    ) -> StoreResult<u32> {
        let (kind, key) = key.parts();
        let count: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sign_in_failures WHERE kind = ?1 AND key = ?2 AND at_ms > ?3",
        )
        .bind(kind)
        .bind(key)
        .bind(to_ms(since))
        .fetch_one(&self.writer)
        .await
        .context("counting failed sign-ins")?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    /// Forgets every failed sign-in under `key`, as after a successful sign-in.
    pub async fn clear_sign_in_failures(&self, key: SignInKey<'_>) -> StoreResult<()> {
        let (kind, key) = key.parts();
        sqlx::query("DELETE FROM sign_in_failures WHERE kind = ?1 AND key = ?2")
            .bind(kind)
            .bind(key)
            .execute(&self.writer)
            .await
            .context("clearing failed sign-ins")?;
        Ok(())
    }

    /// Deletes the failed sign-ins made at or before `before`, which no longer count.
    /// Returns how many went.
    pub async fn forget_sign_in_failures(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM sign_in_failures WHERE at_ms <= ?1")
            .bind(to_ms(before))
            .execute(&self.writer)
            .await
            .context("forgetting expired sign-in failures")?;
        Ok(done.rows_affected())
    }
}
