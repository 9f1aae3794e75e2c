//! Failed sign-ins counted per user name and per client address; too many within a
//! window lock further attempts out until the window has passed. The counts are kept in
//! the database, so a restart does not lift a lockout.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::store::{SignInKey, Store, StoreResult};

/// Failures of one user name that lock it.
pub const USER_FAILURES: u32 = 5;
/// Failures from one address that lock it (several users behind one office address).
pub const ADDRESS_FAILURES: u32 = 20;
/// How long a failure counts.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Which limit was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lockout {
    /// The user name failed too often.
    User,
    /// The client address failed too often.
    Address,
}

/// [`WINDOW`] as a span of wall-clock time.
pub fn window() -> chrono::Duration {
    chrono::Duration::from_std(WINDOW).unwrap_or(chrono::Duration::minutes(15))
}

/// `Some` while `user` or `address` has failed too often before `now`. The sign-in form
/// checks and counts in one turn (see `Auth::sign_in_turn`), so a burst cannot slip past.
pub async fn locked(
    store: &Store,
    user: &str,
    address: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<Lockout>> {
    let since = now - window();
    if store
        .sign_in_failures_since(SignInKey::User(user), since)
        .await?
        >= USER_FAILURES
    {
        return Ok(Some(Lockout::User));
    }
    if store
        .sign_in_failures_since(SignInKey::Address(address), since)
        .await?
        >= ADDRESS_FAILURES
    {
        return Ok(Some(Lockout::Address));
    }
    Ok(None)
}

/// Counts one failed sign-in of `user` from `address` at `now`.
pub async fn record_failure(
    store: &Store,
    user: &str,
    address: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let keys = [SignInKey::User(user), SignInKey::Address(address)];
    store.record_sign_in_failure(&keys, now).await
}

/// Forgets the failures of a user who has just signed in. Those of the address stay: one
/// good password does not vouch for everyone else behind it.
pub async fn clear_user(store: &Store, user: &str) -> StoreResult<()> {
    store.clear_sign_in_failures(SignInKey::User(user)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> Store {
        Store::open("sqlite::memory:").await.unwrap()
    }

    #[tokio::test]
    async fn a_user_is_locked_after_repeated_failures_and_freed_later() {
        let store = store().await;
        let start = Utc::now();
        for _ in 0..USER_FAILURES {
            assert_eq!(
                locked(&store, "ann", "10.0.0.1", start).await.unwrap(),
                None
            );
            record_failure(&store, "ann", "10.0.0.1", start)
                .await
                .unwrap();
        }
        assert_eq!(
            locked(&store, "ANN", "10.0.0.2", start).await.unwrap(),
            Some(Lockout::User)
        );
        assert_eq!(
            locked(&store, "bob", "10.0.0.1", start).await.unwrap(),
            None
        );
        let later = start + window();
        assert_eq!(
            locked(&store, "ann", "10.0.0.1", later).await.unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn an_address_is_locked_after_failures_for_many_users() {
        let store = store().await;
        let now = Utc::now();
        for n in 0..ADDRESS_FAILURES {
            record_failure(&store, &format!("user{n}"), "10.0.0.9", now)
                .await
                .unwrap();
        }
        assert_eq!(
            locked(&store, "new", "10.0.0.9", now).await.unwrap(),
            Some(Lockout::Address)
        );
        assert_eq!(locked(&store, "new", "10.0.0.8", now).await.unwrap(), None);
    }

    #[tokio::test]
    async fn signing_in_clears_the_user_but_not_the_address() {
        let store = store().await;
        let now = Utc::now();
        for _ in 0..ADDRESS_FAILURES {
            record_failure(&store, "Ann0", "10.0.0.7", now)
                .await
                .unwrap();
        }
        assert_eq!(
            locked(&store, "ann0", "10.0.0.1", now).await.unwrap(),
            Some(Lockout::User)
        );
        clear_user(&store, "ANN0").await.unwrap();
        assert_eq!(locked(&store, "ann0", "10.0.0.1", now).await.unwrap(), None);
        assert_eq!(
            locked(&store, "ann0", "10.0.0.7", now).await.unwrap(),
            Some(Lockout::Address)
        );
    }

    #[tokio::test]
    async fn expired_failures_are_forgotten_by_the_upkeep() {
        let store = store().await;
        let then = Utc::now() - window() - chrono::Duration::seconds(1);
        record_failure(&store, "ann", "10.0.0.1", then)
            .await
            .unwrap();
        record_failure(&store, "ann", "10.0.0.1", Utc::now())
            .await
            .unwrap();
        let gone = store
            .forget_sign_in_failures(Utc::now() - window())
            .await
            .unwrap();
        assert_eq!(gone, 2, "the user and the address row of the old failure");
        let since = Utc::now() - window();
        let left = store
            .sign_in_failures_since(SignInKey::User("ann"), since)
            .await
            .unwrap();
        assert_eq!(left, 1);
    }
}
