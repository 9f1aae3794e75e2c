//! The status of an appliance, derived from its last poll, its schedule and its jobs.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::calendar::{self, Recurrence};
use super::{ApiGeneration, Job, JobState, JobType, PollRecord, Schedule, VersionInfo};

/// Status words, ordered worst first so that sorting puts trouble on top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    /// The last poll failed; the data shown is as old as the last good poll.
    Unreachable,
    /// Never polled yet (just added, or the first poll is still under way).
    NotPolled,
    /// The last finished job failed.
    Failed,
    /// A run was due by the schedule, its grace period is over, and none started.
    Missed,
    /// A run is due and still within its grace period.
    Late,
    Running,
    /// A schedule exists but is switched off.
    Disabled,
    /// No schedule is configured.
    Unscheduled,
    Good,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Unreachable,
        Status::NotPolled,
        Status::Failed,
        Status::Missed,
        Status::Late,
        Status::Running,
        Status::Disabled,
        Status::Unscheduled,
        Status::Good,
    ];

    /// The word used in URLs, CSS classes and filters.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unreachable => "unreachable",
            Status::NotPolled => "not-polled",
            Status::Failed => "failed",
            Status::Missed => "missed",
            Status::Late => "late",
            Status::Running => "running",
            Status::Disabled => "disabled",
            Status::Unscheduled => "unscheduled",
            Status::Good => "good",
        }
    }

    /// The word shown to people.
    pub fn label(self) -> &'static str {
        match self {
            Status::NotPolled => "not polled yet",
            other => other.as_str(),
        }
    }

    pub fn parse(word: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == word)
    }
}

/// A status with the sentence that explains it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub status: Status,
    pub reason: String,
}

/// Everything the store knows about one appliance, enough to show its row and derive its
/// status. Built by the store from the newest poll, schedule and jobs.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplianceOverview {
    pub name: String,
    pub url: String,
    pub tags: Vec<String>,
    pub time_zone: Tz,
    /// How long after its due time a run may start before it counts as missed.
    pub grace_secs: i64,
    pub generation: Option<ApiGeneration>,
    pub version: Option<VersionInfo>,
    pub schedule: Option<Schedule>,
    /// When the schedule last changed, if it changed after vbdash first saw it.
    pub schedule_changed_at: Option<DateTime<Utc>>,
    pub last_poll: Option<PollRecord>,
    pub last_ok_poll_at: Option<DateTime<Utc>>,
    /// Newest job by start time, whatever its state.
    pub last_job: Option<Job>,
    /// Newest finished job by start time.
    pub last_finished_job: Option<Job>,
    /// Newest succeeded job by start time.
    pub last_good_job: Option<Job>,
    pub running_job: Option<Job>,
    /// Newest start time of a job that the schedule (or an unknown trigger) started.
    pub last_scheduled_start: Option<DateTime<Utc>>,
}

impl ApplianceOverview {
    /// The appliance's status at `now`.
    pub fn verdict(&self, now: DateTime<Utc>) -> Verdict {
        derive(&StatusInput::from(self), now)
    }
}

/// The facts that decide a status, borrowed from wherever they are kept.
#[derive(Debug, Clone)]
pub struct StatusInput<'a> {
    pub last_poll: Option<&'a PollRecord>,
    pub schedule: Option<&'a Schedule>,
    pub schedule_changed_at: Option<DateTime<Utc>>,
    pub time_zone: Tz,
    pub grace: Duration,
    pub last_finished: Option<&'a Job>,
    pub running: Option<&'a Job>,
    pub last_scheduled_start: Option<DateTime<Utc>>,
}

impl<'a> From<&'a ApplianceOverview> for StatusInput<'a> {
    fn from(o: &'a ApplianceOverview) -> Self {
        StatusInput {
            last_poll: o.last_poll.as_ref(),
            schedule: o.schedule.as_ref(),
            schedule_changed_at: o.schedule_changed_at,
            time_zone: o.time_zone,
            grace: Duration::seconds(o.grace_secs.max(0)),
            last_finished: o.last_finished_job.as_ref(),
            running: o.running_job.as_ref(),
            last_scheduled_start: o.last_scheduled_start,
        }
    }
}

/// A run counts as started for a due time when it began at most this long before it, to
/// allow for clocks that disagree by a few minutes.
const CLOCK_SLACK_MINUTES: i64 = 10;

/// Derives the status, worst first: unreachable, not polled, failed, missed, late,
/// running, disabled, unscheduled, good.
pub fn derive(input: &StatusInput<'_>, now: DateTime<Utc>) -> Verdict {
    let verdict = |status, reason: String| Verdict { status, reason };

    match input.last_poll {
        None => return verdict(Status::NotPolled, "waiting for the first poll".into()),
        Some(poll) if !poll.outcome.is_ok() => {
            // The message already says what failed; the label alone is the fallback.
            let cause = poll
                .message
                .clone()
                .unwrap_or_else(|| poll.outcome.label().to_owned());
            return verdict(Status::Unreachable, cause);
        }
        Some(_) => {}
    }

    if let Some(job) = input.last_finished
        && job.state == JobState::Failed
    {
        let why = job
            .messages
            .first()
            .map_or("no message given", String::as_str);
        return verdict(Status::Failed, format!("last backup failed: {why}"));
    }

    if let Some(due) = missed_or_late(input, now) {
        return due;
    }

    if let Some(job) = input.running {
        let progress = job
            .progress
            .map(|p| format!(" at {p}%"))
            .unwrap_or_default();
        return verdict(
            Status::Running,
            format!("backup {} running{progress}", job.id),
        );
    }

    match input.schedule {
        None => verdict(Status::Unscheduled, "no backup schedule configured".into()),
        Some(s) if !s.enabled => verdict(Status::Disabled, "backup schedule is disabled".into()),
        Some(_) => verdict(Status::Good, "last scheduled run started on time".into()),
    }
}

/// `Missed` or `Late` when an enabled schedule's last due run has not started.
fn missed_or_late(input: &StatusInput<'_>, now: DateTime<Utc>) -> Option<Verdict> {
    let schedule = input.schedule.filter(|s| s.enabled)?;
    let (hour, minute) = schedule.time?;
    let rec = Recurrence {
        days: &schedule.days,
        hour,
        minute,
    };
    let due = calendar::last_due(rec, input.time_zone, now)?;

    // A schedule changed after its due time was not yet in force then.
    if input
        .schedule_changed_at
        .is_some_and(|changed| changed > due)
    {
        return None;
    }

    let slack = Duration::minutes(CLOCK_SLACK_MINUTES);
    let started = input
        .last_scheduled_start
        .is_some_and(|start| start >= due - slack)
        || input
            .running
            .and_then(|job| job.start_time.filter(|_| job.job_type != JobType::Manual))
            .is_some_and(|start| start >= due - slack);
    if started {
        return None;
    }

    let local = due
        .with_timezone(&input.time_zone)
        .format("%a %d %b %H:%M %Z");
    if now < due + input.grace {
        Some(Verdict {
            status: Status::Late,
            reason: format!("run due {local} has not started yet"),
        })
    } else {
        Some(Verdict {
            status: Status::Missed,
            reason: format!("run due {local} never started"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{JobId, PollOutcome};
    use chrono::Weekday;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn ok_poll() -> PollRecord {
        PollRecord {
            at: utc("2026-12-04T12:00:00Z"),
            duration_ms: 40,
            outcome: PollOutcome::Ok,
            message: None,
        }
    }

    fn daily_at_two() -> Schedule {
        Schedule {
            id: "default".into(),
            enabled: true,
            days: vec![],
            time: Some((2, 0)),
            retention: Some(7),
            location: "nfs://nas/x".into(),
            location_user: None,
            parts: vec![],
        }
    }

    fn job(state: JobState, start: &str) -> Job {
        let mut j = Job::new(
            JobId::parse("20261204-020000-1").unwrap(),
            JobType::Scheduled,
            state,
        );
        j.start_time = Some(utc(start));
        j
    }

    fn input<'a>(poll: &'a PollRecord, schedule: Option<&'a Schedule>) -> StatusInput<'a> {
        StatusInput {
            last_poll: Some(poll),
            schedule,
            schedule_changed_at: None,
            time_zone: Tz::UTC,
            grace: Duration::hours(2),
            last_finished: None,
            running: None,
            last_scheduled_start: None,
        }
    }

    #[test]
    fn failed_poll_is_unreachable_with_its_cause() {
        let mut poll = ok_poll();
        poll.outcome = PollOutcome::Timeout;
        poll.message = Some("no answer within 20s".into());
        let v = derive(&input(&poll, None), utc("2026-12-04T12:00:00Z"));
        assert_eq!(v.status, Status::Unreachable);
        assert!(v.reason.contains("no answer within 20s"));
    }

    #[test]
    fn on_time_run_is_good() {
        let poll = ok_poll();
        let sched = daily_at_two();
        let mut i = input(&poll, Some(&sched));
        i.last_scheduled_start = Some(utc("2026-12-04T02:00:03Z"));
        assert_eq!(derive(&i, utc("2026-12-04T12:00:00Z")).status, Status::Good);
    }

    #[test]
    fn late_within_grace_then_missed() {
        let poll = ok_poll();
        let sched = daily_at_two();
        let mut i = input(&poll, Some(&sched));
        i.last_scheduled_start = Some(utc("2026-12-03T02:00:03Z"));
        assert_eq!(derive(&i, utc("2026-12-04T03:00:00Z")).status, Status::Late);
        assert_eq!(
            derive(&i, utc("2026-12-04T04:30:00Z")).status,
            Status::Missed
        );
    }

    #[test]
    fn schedule_changed_after_due_time_is_not_missed() {
        let poll = ok_poll();
        let sched = daily_at_two();
        let mut i = input(&poll, Some(&sched));
        i.schedule_changed_at = Some(utc("2026-12-04T09:00:00Z"));
        assert_eq!(derive(&i, utc("2026-12-04T12:00:00Z")).status, Status::Good);
        // The next due time after the change does count.
        assert_eq!(
            derive(&i, utc("2026-12-05T05:00:00Z")).status,
            Status::Missed
        );
    }

    #[test]
    fn failed_last_job_wins_over_missed() {
        let poll = ok_poll();
        let sched = daily_at_two();
        let failed = job(JobState::Failed, "2026-12-01T02:00:00Z");
        let mut i = input(&poll, Some(&sched));
        i.last_finished = Some(&failed);
        assert_eq!(
            derive(&i, utc("2026-12-04T12:00:00Z")).status,
            Status::Failed
        );
    }

    #[test]
    fn running_scheduled_job_counts_as_started() {
        let poll = ok_poll();
        let sched = daily_at_two();
        let running = job(JobState::Running, "2026-12-04T02:00:01Z");
        let mut i = input(&poll, Some(&sched));
        i.running = Some(&running);
        assert_eq!(
            derive(&i, utc("2026-12-04T02:30:00Z")).status,
            Status::Running
        );
    }

    #[test]
    fn disabled_and_unscheduled() {
        let poll = ok_poll();
        let mut sched = daily_at_two();
        sched.enabled = false;
        let now = utc("2026-12-04T12:00:00Z");
        assert_eq!(
            derive(&input(&poll, Some(&sched)), now).status,
            Status::Disabled
        );
        assert_eq!(derive(&input(&poll, None), now).status, Status::Unscheduled);
    }

    #[test]
    fn weekly_schedule_is_not_due_midweek() {
        let poll = ok_poll();
        let mut sched = daily_at_two();
        sched.days = vec![Weekday::Sat];
        let mut i = input(&poll, Some(&sched));
        i.last_scheduled_start = Some(utc("2026-11-28T02:00:00Z"));
        // Friday 2026-12-04: last due was Saturday 2026-11-28, which ran.
        assert_eq!(derive(&i, utc("2026-12-04T12:00:00Z")).status, Status::Good);
    }

    #[test]
    fn statuses_sort_worst_first() {
        let mut all = Status::ALL.to_vec();
        all.reverse();
        all.sort();
        assert_eq!(all.first(), Some(&Status::Unreachable));
        assert_eq!(all.last(), Some(&Status::Good));
    }
}
