//! Failed sign-ins counted per user name and per client address; too many within a
//! window lock further attempts out until the window has passed.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures of one user name that lock it.
pub const USER_FAILURES: usize = 5;
/// Failures from one address that lock it (several users behind one office address).
pub const ADDRESS_FAILURES: usize = 20;
/// How long a failure counts.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Keys kept before old ones are dropped, so a flood of made-up names stays bounded.
const MAX_KEYS: usize = 10_000;

/// The failure counter, shared by every request.
// Known gap: the counts live in memory, so a restart forgets them.
#[derive(Debug, Default)]
pub struct Limiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// Which limit was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lockout {
    /// The user name failed too often.
    User,
    /// The client address failed too often.
    Address,
}

impl Limiter {
    /// `Some` while `user` or `address` has failed too often.
    pub fn locked(&self, user: &str, address: &str, now: Instant) -> Option<Lockout> {
        let mut failures = self.lock();
        if recent(&mut failures, &user_key(user), now) >= USER_FAILURES {
            return Some(Lockout::User);
        }
        if recent(&mut failures, &address_key(address), now) >= ADDRESS_FAILURES {
            return Some(Lockout::Address);
        }
        None
    }

    /// Counts one failed sign-in.
    pub fn record_failure(&self, user: &str, address: &str, now: Instant) {
        let mut failures = self.lock();
        if failures.len() >= MAX_KEYS {
            failures.retain(|_, times| times.back().is_some_and(|t| now - *t < WINDOW));
        }
        for key in [user_key(user), address_key(address)] {
            failures.entry(key).or_default().push_back(now);
        }
    }

    /// Forgets the failures of a user who has just signed in.
    pub fn clear_user(&self, user: &str) {
        self.lock().remove(&user_key(user));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        // A panic elsewhere while holding the lock leaves plain counters: keep using them.
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn user_key(user: &str) -> String {
    format!("user\0{}", user.to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("address\0{address}")
}

/// Failures of `key` within the window, dropping older ones.
fn recent(failures: &mut HashMap<String, VecDeque<Instant>>, key: &str, now: Instant) -> usize {
    let Some(times) = failures.get_mut(key) else {
        return 0;
    };
    while times
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW)
    {
        times.pop_front();
    }
    times.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_is_locked_after_repeated_failures_and_freed_later() {
        let limiter = Limiter::default();
        let start = Instant::now();
        for _ in 0..USER_FAILURES {
            assert_eq!(limiter.locked("ann", "10.0.0.1", start), None);
            limiter.record_failure("ann", "10.0.0.1", start);
        }
        assert_eq!(
            limiter.locked("ANN", "10.0.0.2", start),
            Some(Lockout::User)
        );
        assert_eq!(limiter.locked("bob", "10.0.0.1", start), None);
        assert_eq!(limiter.locked("ann", "10.0.0.1", start + WINDOW), None);
    }

    #[test]
    fn an_address_is_locked_after_failures_for_many_users() {
        let limiter = Limiter::default();
        let now = Instant::now();
        for n in 0..ADDRESS_FAILURES {
            limiter.record_failure(&format!("user{n}"), "10.0.0.9", now);
        }
        assert_eq!(
            limiter.locked("new", "10.0.0.9", now),
            Some(Lockout::Address)
        );
        assert_eq!(limiter.locked("new", "10.0.0.8", now), None);
    }
}
