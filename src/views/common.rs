//! Pieces shared by several pages: badges, job lines and links.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::format::{self, Moment};
use crate::domain::{Job, JobState, Status};

/// A coloured word. The class picks the colour; the label always carries the meaning, so
/// the badge reads the same without colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Badge {
    /// CSS class, chosen from a fixed list (never from appliance text).
    pub class: &'static str,
    /// The word shown, always present so colour is never alone.
    pub label: String,
}

impl Badge {
    /// The badge of an appliance status.
    pub fn status(status: Status) -> Badge {
        Badge {
            class: status_class(status),
            label: status.label().to_owned(),
        }
    }

    /// The badge of a job state; a state word the appliance invented is shown as sent.
    pub fn job_state(state: &JobState) -> Badge {
        let class = match state {
            JobState::Pending => "state-pending",
            JobState::Running => "state-running",
            JobState::Succeeded => "state-succeeded",
            JobState::Failed => "state-failed",
            JobState::Canceled => "state-canceled",
            JobState::Unknown(_) => "state-unknown",
        };
        Badge {
            class,
            label: state.as_str().to_owned(),
        }
    }
}

/// The CSS class of a status, `status-` and its URL word.
pub fn status_class(status: Status) -> &'static str {
    match status {
        Status::Unreachable => "status-unreachable",
        Status::NotPolled => "status-not-polled",
        Status::Failed => "status-failed",
        Status::Missed => "status-missed",
        Status::Late => "status-late",
        Status::Running => "status-running",
        Status::Disabled => "status-disabled",
        Status::Unscheduled => "status-unscheduled",
        Status::Good => "status-good",
    }
}

/// Link to an appliance page.
pub fn appliance_href(name: &str) -> String {
    format!("/appliances/{}", format::path_segment(name))
}

/// Link to one job of an appliance.
pub fn job_href(appliance: &str, job: &str) -> String {
    format!(
        "{}/jobs/{}",
        appliance_href(appliance),
        format::path_segment(job)
    )
}

/// When a job was first and last listed, and since when the appliance no longer lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sighting {
    /// When vbdash first saw the job.
    pub first_seen_at: DateTime<Utc>,
    /// When the appliance last listed the job.
    pub last_seen_at: DateTime<Utc>,
    /// Since when the appliance no longer lists the job.
    pub gone_since: Option<DateTime<Utc>>,
}

/// One job as a table row or a summary: every value ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobLine {
    /// The appliance's job id.
    pub id: String,
    /// Link to the job page.
    pub href: String,
    /// "scheduled", "manual" or the word the appliance sent.
    pub job_type: String,
    /// State badge.
    pub state: Badge,
    /// When the job started.
    pub started: Option<Moment>,
    /// How long it ran, or has run so far.
    pub duration: Option<String>,
    /// Bytes written, in binary units.
    pub size: Option<String>,
    /// Percent done, only while the job is running.
    pub progress: Option<i64>,
    /// First line of the first message, cut short.
    pub message: Option<String>,
    /// Set when the appliance stopped listing the job.
    pub gone_since: Option<Moment>,
}

/// Longest message excerpt in job tables, in characters.
const MESSAGE_EXCERPT_CHARS: usize = 90;

impl JobLine {
    /// The line of `job` on `appliance`, with `gone_since` when the appliance forgot it.
    pub fn new(
        appliance: &str,
        job: &Job,
        gone_since: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        zone: Tz,
    ) -> JobLine {
        JobLine {
            id: job.id.to_string(),
            href: job_href(appliance, job.id.as_str()),
            job_type: job.job_type.as_str().to_owned(),
            state: Badge::job_state(&job.state),
            started: job.start_time.map(|at| Moment::new(at, now, zone)),
            duration: job_duration(job, now).map(format::duration),
            size: job.size_bytes.map(format::size),
            progress: running_progress(job),
            message: job
                .messages
                .first()
                .map(|m| format::excerpt(m, MESSAGE_EXCERPT_CHARS)),
            gone_since: gone_since.map(|at| Moment::new(at, now, zone)),
        }
    }
}

/// The job's length: as reported, else end minus start, else (while running) so far.
pub fn job_duration(job: &Job, now: DateTime<Utc>) -> Option<i64> {
    if let Some(secs) = job.duration_secs {
        return Some(secs);
    }

    let start = job.start_time?;
    match job.end_time {
        Some(end) => Some((end - start).num_seconds()),
        None if job.state == JobState::Running => Some((now - start).num_seconds().max(0)),
        None => None,
    }
}

/// The progress bar value of a running job: its percent, or 0 when it sent none.
pub fn running_progress(job: &Job) -> Option<i64> {
    (job.state == JobState::Running).then(|| format::percent(job.progress.unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{JobId, JobType};
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0)
            .single()
            .unwrap()
    }

    #[test]
    fn running_job_line_has_progress_and_elapsed_time() {
        let id = JobId::parse("20261204-114000-1").unwrap();
        let mut job = Job::new(id, JobType::Manual, JobState::Running);
        job.start_time = Some(now() - chrono::Duration::minutes(20));
        job.progress = Some(42);
        let line = JobLine::new("vc 1", &job, None, now(), Tz::UTC);
        assert_eq!(line.progress, Some(42));
        assert_eq!(line.duration.as_deref(), Some("20 min 0 s"));
        assert_eq!(line.href, "/appliances/vc%201/jobs/20261204-114000-1");
        assert_eq!(line.state.class, "state-running");
    }

    #[test]
    fn unknown_state_word_is_shown_with_a_neutral_class() {
        let badge = Badge::job_state(&JobState::Unknown("<b>PAUSED</b>".into()));
        assert_eq!(badge.class, "state-unknown");
        assert_eq!(badge.label, "<b>PAUSED</b>");
    }
}
