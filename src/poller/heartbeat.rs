//! A cheap sign of life from the poller, read by the readiness check.
//!
//! The poller's supervising loop stamps the time every few seconds while it runs and marks
//! itself stopped when it ends. A stamp that grows old means the loop no longer runs: it
//! died, or the runtime is too busy to schedule it.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// How often the poller stamps the heartbeat.
pub const BEAT_EVERY: Duration = Duration::from_secs(5);

/// A stamp older than this means the poller is not alive.
pub const STALE_AFTER: Duration = Duration::from_secs(30);

/// Stored instead of a time once the poller has ended.
const STOPPED: i64 = -1;

/// Stored before the first beat.
const NEVER: i64 = 0;

/// The poller's last sign of life, shared between the poller and the web server.
#[derive(Debug, Clone, Default)]
pub struct Heartbeat {
    /// Milliseconds since the epoch of the last beat, or [`NEVER`] or [`STOPPED`].
    last_beat_ms: Arc<AtomicI64>,
}

/// What the heartbeat says about the poller at some moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// It beat recently.
    Alive,
    /// It has not started yet.
    NotStarted,
    /// It ended (the dashboard is stopping).
    Stopped,
    /// Its last beat is this many seconds old.
    Silent { secs: i64 },
}

impl Heartbeat {
    /// Records a sign of life at `now`.
    pub fn beat(&self, now: DateTime<Utc>) {
        // A clock before 1970 would read as "never"; one millisecond after is close enough.
        let ms = now.timestamp_millis().max(1);
        self.last_beat_ms.store(ms, Ordering::Relaxed);
    }

    /// Records that the poller has ended on purpose.
    pub fn stop(&self) {
        self.last_beat_ms.store(STOPPED, Ordering::Relaxed);
    }

    /// The poller's state as seen at `now`.
    pub fn liveness(&self, now: DateTime<Utc>) -> Liveness {
        let last = self.last_beat_ms.load(Ordering::Relaxed);
        match last {
            NEVER => Liveness::NotStarted,
            STOPPED => Liveness::Stopped,
            _ => {
                let age_ms = now.timestamp_millis().saturating_sub(last);
                let stale_ms = i64::try_from(STALE_AFTER.as_millis()).unwrap_or(i64::MAX);
                if age_ms <= stale_ms {
                    Liveness::Alive
                } else {
                    Liveness::Silent {
                        secs: age_ms / 1000,
                    }
                }
            }
        }
    }
}

impl Liveness {
    /// A short sentence for the readiness answer; `None` when alive.
    pub fn problem(self) -> Option<String> {
        match self {
            Liveness::Alive => None,
            Liveness::NotStarted => Some("the poller has not started".to_owned()),
            Liveness::Stopped => Some("the poller has stopped".to_owned()),
            Liveness::Silent { secs } => {
                Some(format!("the poller has given no sign of life for {secs}s"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn a_new_heartbeat_has_not_started() {
        let heartbeat = Heartbeat::default();
        assert_eq!(heartbeat.liveness(at(0)), Liveness::NotStarted);
        assert!(heartbeat.liveness(at(0)).problem().is_some());
    }

    #[test]
    fn a_recent_beat_is_alive_and_an_old_one_is_silent() {
        let heartbeat = Heartbeat::default();
        heartbeat.beat(at(0));
        assert_eq!(heartbeat.liveness(at(29)), Liveness::Alive);
        assert_eq!(heartbeat.liveness(at(31)), Liveness::Silent { secs: 31 });
        assert_eq!(heartbeat.liveness(at(29)).problem(), None);
    }

    #[test]
    fn clones_share_one_beat_and_stop_wins() {
        let heartbeat = Heartbeat::default();
        let seen_by_web = heartbeat.clone();
        heartbeat.beat(at(0));
        assert_eq!(seen_by_web.liveness(at(1)), Liveness::Alive);
        heartbeat.stop();
        assert_eq!(seen_by_web.liveness(at(1)), Liveness::Stopped);
    }
}
