//! One appliance's range in numbers: days covered and missed, failures, longest gap.

use chrono::{DateTime, Duration, Utc};

use super::{DayOutcome, DaySpan, day_outcomes};
use crate::domain::JobState;
use crate::store::trends::{JobMark, ScheduleMark, TrendAppliance};

/// One appliance's month (or any range) in numbers, for the printable report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeSummary {
    /// Days with a good backup.
    pub days_covered: usize,
    /// Days in the range (up to today).
    pub days: usize,
    /// Days on which a due run did not start.
    pub days_missed: usize,
    /// Failed or canceled jobs.
    pub failures: usize,
    /// The longest stretch without a good backup: from the range start (or the first
    /// known moment) to the first good backup, between good backups, and from the last
    /// one to the range end (or now).
    pub longest_gap: Duration,
}

/// Sums up `spans` (oldest first) for `appliance` from its jobs and schedules.
pub fn summarise_range(
    appliance: &TrendAppliance,
    schedules: &[&ScheduleMark],
    marks: &[&JobMark],
    spans: &[DaySpan],
    now: DateTime<Utc>,
) -> RangeSummary {
    let cells = day_outcomes(appliance, schedules, marks, spans, now);
    let (Some(first), Some(last)) = (spans.first(), spans.last()) else {
        return RangeSummary {
            days_covered: 0,
            days: 0,
            days_missed: 0,
            failures: 0,
            longest_gap: Duration::zero(),
        };
    };
    let start = appliance
        .known_since
        .map_or(first.start, |k| k.max(first.start));
    let end = last.end.min(now);

    let in_range = marks
        .iter()
        .filter(|m| m.start >= first.start && m.start < last.end);
    let failures = in_range
        .clone()
        .filter(|m| matches!(m.state, JobState::Failed | JobState::Canceled))
        .count();
    let mut edges: Vec<DateTime<Utc>> = vec![start];
    edges.extend(
        in_range
            .filter(|m| m.state == JobState::Succeeded)
            .map(|m| m.start),
    );
    edges.push(end);
    let longest_gap = edges
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_else(Duration::zero)
        .max(Duration::zero());

    RangeSummary {
        days_covered: cells
            .iter()
            .filter(|c| c.outcome == DayOutcome::Succeeded)
            .count(),
        days: cells.len(),
        days_missed: cells
            .iter()
            .filter(|c| c.outcome == DayOutcome::Missed)
            .count(),
        failures,
        longest_gap,
    }
}
