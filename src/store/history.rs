//! What the stored history means: how a day went, the usual size and length of a run,
//! failure streaks and success rates. Pure functions over rows the store has read.
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

use super::trends::{JobMark, RunPoint, ScheduleMark, TrendAppliance};
use crate::domain::calendar::{self, Recurrence};
use crate::domain::{JobState, JobType};

/// A run counts for a due time when it started at most this long before it.
const CLOCK_SLACK: Duration = Duration::minutes(10);

/// Runs of the same type the baseline takes its median from.
pub const BASELINE_RUNS: usize = 7;

/// Fewer earlier runs than this give no baseline: one odd run is not a norm.
const MIN_BASELINE_RUNS: usize = 3;

/// How one day went for one appliance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DayOutcome {
    /// At least one job that started that day succeeded.
    Succeeded,
    /// A job is still running, none succeeded.
    Running,
    /// Every job of the day failed or was canceled.
    Failed,
    /// A run was due and none started.
    Missed,
    /// Nothing was due and nothing ran.
    NoRunDue,
    /// Before vbdash knew the appliance.
    NotPolled,
}

impl DayOutcome {
    /// Every outcome, in legend order.
    pub const ALL: [DayOutcome; 6] = [
        DayOutcome::Succeeded,
        DayOutcome::Failed,
        DayOutcome::Running,
        DayOutcome::Missed,
        DayOutcome::NoRunDue,
        DayOutcome::NotPolled,
    ];

    /// The word used in CSS classes and the export.
    pub fn as_str(self) -> &'static str {
        match self {
            DayOutcome::Succeeded => "succeeded",
            DayOutcome::Running => "running",
            DayOutcome::Failed => "failed",
            DayOutcome::Missed => "missed",
            DayOutcome::NoRunDue => "idle",
            DayOutcome::NotPolled => "unknown",
        }
    }

    /// The words shown to people.
    pub fn label(self) -> &'static str {
        match self {
            DayOutcome::Succeeded => "succeeded",
            DayOutcome::Running => "running",
            DayOutcome::Failed => "failed only",
            DayOutcome::Missed => "missed",
            DayOutcome::NoRunDue => "no run due",
            DayOutcome::NotPolled => "not polled",
        }
    }

    /// The symbol drawn in the cell, so colour is never alone.
    pub fn symbol(self) -> &'static str {
        match self {
            DayOutcome::Succeeded => "\u{2713}",
            DayOutcome::Running => "\u{25B8}",
            DayOutcome::Failed => "\u{2715}",
            DayOutcome::Missed => "!",
            DayOutcome::NoRunDue => "\u{00B7}",
            DayOutcome::NotPolled => "?",
        }
    }
}

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

/// A run with its baseline and the flags it earned.
#[derive(Debug, Clone, PartialEq)]
pub struct RunAnalysis {
    /// The run itself.
    pub run: RunPoint,
    /// Median duration of the earlier succeeded runs of the same type, in seconds.
    pub baseline_secs: Option<f64>,
    /// Median size of the earlier succeeded runs of the same type, in bytes.
    pub baseline_bytes: Option<f64>,
    /// A succeeded run less than half the usual size.
    pub size_dropped: bool,
    /// A succeeded run that took more than three times as long as usual.
    pub duration_tripled: bool,
}

/// Baselines and flags for every run (oldest first). The baseline of a run is the median
/// of the last [`BASELINE_RUNS`] succeeded runs of the same type before it; failed runs
/// stop early and would drag it down, so they are left out. Only succeeded runs are flagged.
pub fn analyse_runs(runs: &[RunPoint]) -> Vec<RunAnalysis> {
    let mut earlier: Vec<(&JobType, Option<i64>, Option<i64>)> = Vec::new();

    runs.iter()
        .map(|run| {
            let same: Vec<_> = earlier
                .iter()
                .rev()
                .filter(|(t, _, _)| **t == run.job_type)
                .take(BASELINE_RUNS)
                .collect();
            let baseline_secs = median(same.iter().filter_map(|(_, d, _)| *d));
            let baseline_bytes = median(same.iter().filter_map(|(_, _, s)| *s));

            let good = run.state == JobState::Succeeded;
            let size_dropped = good && below(run.size_bytes, baseline_bytes, 0.5);
            let duration_tripled = good && above(run.duration_secs, baseline_secs, 3.0);

            if good {
                earlier.push((&run.job_type, run.duration_secs, run.size_bytes));
            }
            RunAnalysis {
                run: run.clone(),
                baseline_secs,
                baseline_bytes,
                size_dropped,
                duration_tripled,
            }
        })
        .collect()
}

/// True when `value` is under `share` of `baseline`.
fn below(value: Option<i64>, baseline: Option<f64>, share: f64) -> bool {
    matches!((value, baseline), (Some(v), Some(b)) if (v as f64) < b * share)
}

/// True when `value` is over `times` the `baseline`.
fn above(value: Option<i64>, baseline: Option<f64>, times: f64) -> bool {
    matches!((value, baseline), (Some(v), Some(b)) if (v as f64) > b * times)
}

/// The median of the values, `None` when there are too few for a norm.
fn median(values: impl Iterator<Item = i64>) -> Option<f64> {
    let mut sorted: Vec<i64> = values.collect();
    if sorted.len() < MIN_BASELINE_RUNS {
        return None;
    }
    sorted.sort_unstable();
    let mid = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] as f64 + sorted[mid] as f64) / 2.0
    } else {
        sorted[mid] as f64
    })
}

/// Runs of one type that failed in a row, up to the newest finished one.
#[derive(Debug, Clone, PartialEq)]
pub struct FailureStreak {
    /// The type of run that keeps failing.
    pub job_type: JobType,
    /// How many failed in a row.
    pub count: usize,
    /// When the first of them started.
    pub since: DateTime<Utc>,
    /// The percent every one of them stopped at, when they all stopped at the same one.
    pub same_progress: Option<i64>,
    /// The message every one of them gave, when they all gave the same.
    pub same_message: Option<String>,
}

/// The current failure streak of each run type that has one, longest first. Runs still
/// going do not break or extend a streak.
pub fn failure_streaks(runs: &[RunPoint]) -> Vec<FailureStreak> {
    let mut types: Vec<&JobType> = Vec::new();
    for run in runs {
        if !types.contains(&&run.job_type) {
            types.push(&run.job_type);
        }
    }

    let mut streaks: Vec<FailureStreak> = types
        .into_iter()
        .filter_map(|job_type| {
            let failed: Vec<&RunPoint> = runs
                .iter()
                .rev()
                .filter(|r| &r.job_type == job_type && r.state.is_finished())
                .take_while(|r| r.state != JobState::Succeeded)
                .collect();
            let first = failed.last()?;
            let all_same = |get: &dyn Fn(&RunPoint) -> Option<String>| {
                let value = get(failed[0])?;
                failed
                    .iter()
                    .all(|r| get(r).as_ref() == Some(&value))
                    .then_some(value)
            };
            Some(FailureStreak {
                job_type: job_type.clone(),
                count: failed.len(),
                since: first.start,
                same_progress: all_same(&|r| r.progress.map(|p| p.to_string()))
                    .and_then(|p| p.parse().ok()),
                same_message: all_same(&|r| r.message.clone()),
            })
        })
        .collect();
    streaks.sort_by_key(|s| std::cmp::Reverse(s.count));
    streaks
}

/// How often runs of one type succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeRate {
    /// The run type.
    pub job_type: JobType,
    /// Finished runs of the type.
    pub finished: usize,
    /// Of those, succeeded ones.
    pub succeeded: usize,
}

impl TypeRate {
    /// Succeeded runs per hundred finished ones.
    pub fn percent(&self) -> Option<f64> {
        (self.finished > 0).then(|| self.succeeded as f64 * 100.0 / self.finished as f64)
    }
}

/// Success rate per run type, scheduled first.
pub fn rates_by_type(runs: &[RunPoint]) -> Vec<TypeRate> {
    let mut rates: Vec<TypeRate> = Vec::new();
    for run in runs.iter().filter(|r| r.state.is_finished()) {
        let at = match rates.iter().position(|r| r.job_type == run.job_type) {
            Some(at) => at,
            None => {
                rates.push(TypeRate {
                    job_type: run.job_type.clone(),
                    finished: 0,
                    succeeded: 0,
                });
                rates.len() - 1
            }
        };
        rates[at].finished += 1;
        if run.state == JobState::Succeeded {
            rates[at].succeeded += 1;
        }
    }
    rates.sort_by_key(|r| match r.job_type {
        JobType::Scheduled => 0,
        JobType::Manual => 1,
        JobType::Unknown(_) => 2,
    });
    rates
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Schedule;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn run(day: u32, job_type: JobType, state: JobState, secs: i64, bytes: i64) -> RunPoint {
        RunPoint {
            job_id: format!("202611{day:02}-020000-1"),
            job_type,
            state,
            start: utc(&format!("2026-11-{day:02}T02:00:00Z")),
            duration_secs: Some(secs),
            size_bytes: Some(bytes),
            progress: None,
            message: None,
            build: None,
        }
    }

    #[test]
    fn baseline_is_the_median_of_earlier_good_runs_of_the_same_type() {
        let mut runs: Vec<RunPoint> = (1..=5)
            .map(|d| run(d, JobType::Scheduled, JobState::Succeeded, 600, 1_000))
            .collect();
        runs.push(run(6, JobType::Manual, JobState::Succeeded, 60, 10));
        runs.push(run(7, JobType::Scheduled, JobState::Succeeded, 2_000, 400));
        let analysis = analyse_runs(&runs);

        assert_eq!(analysis[2].baseline_secs, None, "two runs are no norm");
        assert_eq!(analysis[3].baseline_secs, Some(600.0));
        let last = &analysis[6];
        assert_eq!(last.baseline_bytes, Some(1_000.0));
        assert!(last.size_dropped && last.duration_tripled);
        assert!(
            !analysis[5].size_dropped,
            "the manual run has no baseline yet"
        );
    }

    #[test]
    fn streak_counts_failures_of_one_type_since_the_last_success() {
        let mut runs = vec![run(1, JobType::Scheduled, JobState::Succeeded, 1, 1)];
        for day in 2..=6 {
            let mut r = run(day, JobType::Scheduled, JobState::Failed, 1, 1);
            r.progress = Some(10);
            runs.push(r);
        }
        runs.push(run(7, JobType::Manual, JobState::Succeeded, 1, 1));
        let streaks = failure_streaks(&runs);
        assert_eq!(streaks.len(), 1);
        assert_eq!(streaks[0].count, 5);
        assert_eq!(streaks[0].since, utc("2026-11-02T02:00:00Z"));
        assert_eq!(streaks[0].same_progress, Some(10));

        let rates = rates_by_type(&runs);
        assert_eq!((rates[0].finished, rates[0].succeeded), (6, 1));
        assert_eq!(rates[1].percent(), Some(100.0));
    }

    #[test]
    fn days_follow_the_written_rules() {
        let appliance = TrendAppliance {
            id: 1,
            name: "a".into(),
            tags: vec![],
            time_zone: Tz::UTC,
            grace_secs: 3_600,
            known_since: Some(utc("2026-11-02T12:00:00Z")),
        };
        let schedule = ScheduleMark {
            appliance_id: 1,
            observed_at: utc("2026-11-05T12:00:00Z"),
            schedule: Some(Schedule {
                id: "default".into(),
                enabled: true,
                days: vec![],
                time: Some((2, 0)),
                retention: None,
                location: "nfs://nas/x".into(),
                location_user: None,
                parts: vec![],
            }),
        };
        let mark = |at: &str, state| JobMark {
            appliance_id: 1,
            start: utc(at),
            state,
        };
        let marks = [
            mark("2026-11-03T02:01:00Z", JobState::Failed),
            mark("2026-11-03T09:00:00Z", JobState::Succeeded),
            mark("2026-11-04T02:01:00Z", JobState::Failed),
            mark("2026-11-06T01:55:00Z", JobState::Running),
        ];
        let marks: Vec<&JobMark> = marks.iter().collect();
        let spans = day_spans(NaiveDate::from_ymd_opt(2026, 11, 7).unwrap(), 7, Tz::UTC);
        let now = utc("2026-11-07T02:30:00Z");
        let cells = day_outcomes(&appliance, &[&schedule], &marks, &spans, now);
        let outcomes: Vec<DayOutcome> = cells.iter().map(|c| c.outcome).collect();

        use DayOutcome::*;
        assert_eq!(
            outcomes,
            [
                NotPolled, Missed, Succeeded, Failed, Missed, Running, NoRunDue
            ]
        );
        assert_eq!(cells[2].runs, 2);
    }
}
