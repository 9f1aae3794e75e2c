//! How each day went for one appliance, from its jobs and its schedule history.
//!
//! The rules of a day, best outcome first:
//! - **succeeded**: a job that started that day succeeded.
//! - **running**: a job that started that day is still running (or pending), none succeeded.
//! - **failed**: jobs started that day and every one failed or was canceled.
//! - **missed**: no job started that day, the schedule in effect was due that day (in the
//!   appliance's zone), its grace period is over, and no job started between ten minutes
//!   before the due time and the end of the grace period.
//! - **no run due**: no job, and nothing was due (no schedule, a disabled one, a day the
//!   schedule skips, or a due time still within its grace period).
//! - **not polled**: no job, and the day ended before vbdash knew the appliance (its first
//!   successful poll or its oldest stored job, whichever came first).
//!
//! The schedule in effect on a day is the newest one observed before the day ended; days
//! before the first observation use the first observed schedule, the best knowledge there is.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::DayOutcome;
use crate::domain::JobState;
use crate::domain::calendar::{self, Recurrence};
use crate::store::trends::{JobMark, ScheduleMark, TrendAppliance};

/// A run counts for a due time when it started at most this long before it.
const CLOCK_SLACK: Duration = Duration::minutes(10);

/// One calendar day in a zone, as an instant range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaySpan {
    /// The date in the zone the days were cut in.
    pub date: NaiveDate,
    /// Midnight at its start.
    pub start: DateTime<Utc>,
    /// Midnight at its end.
    pub end: DateTime<Utc>,
}

/// The `count` days ending with `last` (inclusive), oldest first, cut at midnight in `zone`.
pub fn day_spans(last: NaiveDate, count: u32, zone: Tz) -> Vec<DaySpan> {
    let midnight = |date: NaiveDate| -> Option<DateTime<Utc>> {
        let wall = date.and_hms_opt(0, 0, 0)?;
        // A zone that skips midnight starts the day at the first hour that exists.
        (0..=3)
            .find_map(|h| {
                zone.from_local_datetime(&(wall + Duration::hours(h)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc))
    };

    (0..i64::from(count))
        .rev()
        .filter_map(|back| {
            let date = last.checked_sub_signed(Duration::days(back))?;
            let next = date.succ_opt()?;
            Some(DaySpan {
                date,
                start: midnight(date)?,
                end: midnight(next)?,
            })
        })
        .collect()
}

/// A day of one appliance: its outcome and how many jobs started in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCell {
    /// The best outcome of the day.
    pub outcome: DayOutcome,
    /// Jobs that started that day.
    pub runs: u32,
}

/// How each day of `spans` went for `appliance`, from its jobs (`marks`, oldest first)
/// and its schedule history (`schedules`, oldest first). See the module rules.
pub fn day_outcomes(
    appliance: &TrendAppliance,
    schedules: &[&ScheduleMark],
    marks: &[&JobMark],
    spans: &[DaySpan],
    now: DateTime<Utc>,
) -> Vec<DayCell> {
    let starts: Vec<DateTime<Utc>> = marks.iter().map(|m| m.start).collect();
    let grace = Duration::seconds(appliance.grace_secs.max(0));

    spans
        .iter()
        .map(|span| {
            let from = starts.partition_point(|s| *s < span.start);
            let to = starts.partition_point(|s| *s < span.end);
            let day_marks = &marks[from..to];
            let runs = u32::try_from(day_marks.len()).unwrap_or(u32::MAX);

            let outcome = if let Some(best) = best_of(day_marks) {
                best
            } else if appliance.known_since.is_none_or(|known| span.end <= known) {
                DayOutcome::NotPolled
            } else if was_missed(appliance.time_zone, grace, schedules, &starts, span, now) {
                DayOutcome::Missed
            } else {
                DayOutcome::NoRunDue
            };
            DayCell { outcome, runs }
        })
        .collect()
}

/// The best outcome among the jobs of a day, `None` without jobs.
fn best_of(marks: &[&JobMark]) -> Option<DayOutcome> {
    marks
        .iter()
        .map(|m| match m.state {
            JobState::Succeeded => DayOutcome::Succeeded,
            JobState::Running | JobState::Pending => DayOutcome::Running,
            JobState::Failed | JobState::Canceled | JobState::Unknown(_) => DayOutcome::Failed,
        })
        .min()
}

/// True when the schedule in effect was due in `span`, its grace is over, and no job
/// started for it.
fn was_missed(
    zone: Tz,
    grace: Duration,
    schedules: &[&ScheduleMark],
    starts: &[DateTime<Utc>],
    span: &DaySpan,
    now: DateTime<Utc>,
) -> bool {
    let in_effect = schedules
        .iter()
        .rev()
        .find(|s| s.observed_at < span.end)
        .or(schedules.first());
    let Some(schedule) = in_effect.and_then(|s| s.schedule.as_ref()) else {
        return false;
    };
    let Some((hour, minute)) = schedule.time.filter(|_| schedule.enabled) else {
        return false;
    };
    let rec = Recurrence {
        days: &schedule.days,
        hour,
        minute,
    };

    let mut cursor = span.start - Duration::seconds(1);
    while let Some(due) = calendar::next_due(rec, zone, cursor) {
        if due >= span.end {
            return false;
        }
        let window_end = due + grace;
        let started = {
            let from = starts.partition_point(|s| *s < due - CLOCK_SLACK);
            starts.get(from).is_some_and(|s| *s <= window_end)
        };
        if window_end <= now && !started {
            return true;
        }
        cursor = due;
    }
    false
}
