//! Which status changes are announced: the status after a poll against what was last seen.

use chrono::{DateTime, Duration, Utc};

use crate::domain::Status;
use crate::store::NotifyState;

/// What an announcement is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The last finished backup failed.
    Failed,
    /// A scheduled backup never started.
    Missed,
    /// The appliance cannot be polled.
    Unreachable,
    /// A problem announced before is gone: the appliance is good again.
    Recovered,
    /// The appliance runs another build than the one of its last good backup.
    Patched,
}

impl EventKind {
    /// The word stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Failed => "failed",
            EventKind::Missed => "missed",
            EventKind::Unreachable => "unreachable",
            EventKind::Recovered => "recovered",
            EventKind::Patched => "patched",
        }
    }

    /// Reads back a stored word.
    pub fn parse(word: &str) -> Option<EventKind> {
        [
            EventKind::Failed,
            EventKind::Missed,
            EventKind::Unreachable,
            EventKind::Recovered,
            EventKind::Patched,
        ]
        .into_iter()
        .find(|k| k.as_str() == word)
    }

    /// The problem a status stands for, if it is one people are told about.
    fn problem_of(status: Status) -> Option<EventKind> {
        match status {
            Status::Failed => Some(EventKind::Failed),
            Status::Missed => Some(EventKind::Missed),
            Status::Unreachable => Some(EventKind::Unreachable),
            _ => None,
        }
    }
}

/// The state to keep and the announcements to make, with whether each repeats one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// What to remember until the next poll.
    pub state: NotifyState,
    /// Announcements, each with `true` when it repeats a standing problem.
    pub events: Vec<(EventKind, bool)>,
}

/// Compares the status after a poll with what was last seen.
///
/// A new problem, or a change from one problem to another, is announced at once; the
/// same problem again only once `repeat` has passed since it was last announced. Only a
/// `good` status ends a problem: a running backup or a late one may still fail.
pub fn decide(
    previous: Option<&NotifyState>,
    status: Status,
    patched: bool,
    now: DateTime<Utc>,
    repeat: Duration,
) -> Decision {
    let standing = previous
        .and_then(|p| p.problem.as_deref())
        .and_then(EventKind::parse);
    let announced_at = previous.and_then(|p| p.announced_at);
    let mut events = Vec::new();

    let (problem, announced_at) = match (standing, EventKind::problem_of(status)) {
        (Some(old), Some(new)) if old == new => {
            let due = announced_at.is_none_or(|at| now >= at + repeat);
            if due {
                events.push((old, true));
                (Some(old), Some(now))
            } else {
                (Some(old), announced_at)
            }
        }
        (_, Some(new)) => {
            events.push((new, false));
            (Some(new), Some(now))
        }
        (Some(_), None) if status == Status::Good => {
            events.push((EventKind::Recovered, false));
            (None, None)
        }
        (old, None) => (old, announced_at),
    };

    let was_patched = previous.is_some_and(|p| p.patched);
    if patched && !was_patched {
        events.push((EventKind::Patched, false));
    }

    Decision {
        state: NotifyState {
            status: status.as_str().to_owned(),
            problem: problem.map(|p| p.as_str().to_owned()),
            announced_at,
            patched,
        },
        events,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::minutes(minutes)
    }

    fn step(prev: Option<&NotifyState>, status: Status, minutes: i64) -> Decision {
        decide(prev, status, false, at(minutes), Duration::hours(4))
    }

    #[test]
    fn a_first_failure_is_announced_once_until_the_repeat_interval() {
        let first = step(None, Status::Failed, 0);
        assert_eq!(first.events, [(EventKind::Failed, false)]);

        let second = step(Some(&first.state), Status::Failed, 5);
        assert!(second.events.is_empty());
        assert_eq!(second.state.announced_at, Some(at(0)));

        let later = step(Some(&second.state), Status::Failed, 240);
        assert_eq!(later.events, [(EventKind::Failed, true)]);
        assert_eq!(later.state.announced_at, Some(at(240)));
    }

    #[test]
    fn good_ends_a_problem_but_running_does_not() {
        let failed = step(None, Status::Failed, 0);
        let running = step(Some(&failed.state), Status::Running, 1);
        assert!(running.events.is_empty());
        assert_eq!(running.state.problem.as_deref(), Some("failed"));

        let good = step(Some(&running.state), Status::Good, 2);
        assert_eq!(good.events, [(EventKind::Recovered, false)]);
        assert_eq!(good.state.problem, None);

        let quiet = step(Some(&good.state), Status::Good, 3);
        assert!(quiet.events.is_empty());
    }

    #[test]
    fn one_problem_turning_into_another_is_announced() {
        let unreachable = step(None, Status::Unreachable, 0);
        let failed = step(Some(&unreachable.state), Status::Failed, 1);
        assert_eq!(failed.events, [(EventKind::Failed, false)]);
    }

    #[test]
    fn good_on_first_sight_is_silent_and_patched_is_told_once() {
        assert!(step(None, Status::Good, 0).events.is_empty());
        let patched = decide(None, Status::Good, true, at(0), Duration::hours(4));
        assert_eq!(patched.events, [(EventKind::Patched, false)]);
        let again = decide(
            Some(&patched.state),
            Status::Good,
            true,
            at(1),
            Duration::hours(4),
        );
        assert!(again.events.is_empty());
    }
}
