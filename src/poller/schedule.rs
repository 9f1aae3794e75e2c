//! When to poll an appliance next: jittered interval, faster while a job runs, and
//! exponential backoff with a cap while it keeps failing.

use std::time::Duration;

use rand::Rng;

use super::PollerSettings;
use crate::domain::{JobState, PollReport};

/// The first delay: random within `spread`, so a fleet's logins are spread out.
pub fn initial_delay(spread: Duration) -> Duration {
    if spread.is_zero() {
        return Duration::ZERO;
    }
    rand::rng().random_range(Duration::ZERO..=spread)
}

/// Doubles the wait after each failure in a row, up to a cap; a success resets it.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    failures: u32,
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff {
            base,
            cap: cap.max(base),
            failures: 0,
        }
    }

    /// Records a failure and gives the wait before the next try.
    pub fn fail(&mut self) -> Duration {
        self.failures = self.failures.saturating_add(1);
        let factor = 2u32.saturating_pow(self.failures.saturating_sub(1).min(16));
        self.base.saturating_mul(factor).min(self.cap)
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// The wait before the next poll after `report`.
pub fn next_delay(
    report: &PollReport,
    settings: &PollerSettings,
    backoff: &mut Backoff,
) -> Duration {
    if !report.outcome.is_ok() {
        return jitter(backoff.fail());
    }
    backoff.reset();

    let running = report
        .observation
        .as_ref()
        .is_some_and(|o| o.jobs.iter().any(|j| j.state == JobState::Running));
    if running {
        jitter(settings.running_interval.min(settings.interval))
    } else {
        jitter(settings.interval)
    }
}

/// Spreads a wait by ±10% so appliances polled together drift apart.
fn jitter(base: Duration) -> Duration {
    let factor = rand::rng().random_range(0.9..=1.1);
    Duration::try_from_secs_f64(base.as_secs_f64() * factor).unwrap_or(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_resets() {
        let mut b = Backoff::new(Duration::from_secs(60), Duration::from_secs(300));
        assert_eq!(b.fail(), Duration::from_secs(60));
        assert_eq!(b.fail(), Duration::from_secs(120));
        assert_eq!(b.fail(), Duration::from_secs(240));
        assert_eq!(b.fail(), Duration::from_secs(300));
        for _ in 0..100 {
            assert_eq!(b.fail(), Duration::from_secs(300));
        }
        b.reset();
        assert_eq!(b.fail(), Duration::from_secs(60));
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        for _ in 0..1000 {
            let d = jitter(Duration::from_secs(100));
            assert!(d >= Duration::from_secs(90) && d <= Duration::from_secs(110));
        }
    }
}
