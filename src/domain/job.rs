//! One backup run on an appliance, as vbdash keeps it.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The appliance's own job id, such as `20261201-020000-24322735`.
///
/// Ids come from the appliance and end up in URLs and SQL, so only a conservative shape is
/// accepted: 1 to 64 characters of ASCII letters, digits, `-`, `_` and `.`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(String);

impl JobId {
    pub const MAX_LEN: usize = 64;

    /// Accepts an id of the safe shape, or `None` for anything else.
    pub fn parse(raw: &str) -> Option<JobId> {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        let ok = !raw.is_empty()
            && raw.len() <= Self::MAX_LEN
            && raw.chars().all(ok_char)
            && raw != "."
            && raw != "..";
        ok.then(|| JobId(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a job is in its life. Appliances speak two vocabularies (`cis.task.Status` in job
/// details, `BackupRestoreProcessState` in the per-job status call); both map here, and a
/// word neither knows is kept as sent.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JobState {
    Pending,
    Running,
    Succeeded,
    Failed,
    Canceled,
    Unknown(String),
}

impl JobState {
    /// Maps a word of either vocabulary; case-insensitive so that stored words round-trip.
    pub fn from_wire(word: &str) -> JobState {
        match word.to_ascii_uppercase().as_str() {
            "PENDING" | "NONE" | "BLOCKED" => JobState::Pending,
            "RUNNING" | "INPROGRESS" => JobState::Running,
            "SUCCEEDED" => JobState::Succeeded,
            "FAILED" => JobState::Failed,
            "CANCELED" | "CANCELLED" => JobState::Canceled,
            _ => JobState::Unknown(crate::domain::text::bounded(word, 40)),
        }
    }

    /// The word stored in the database and shown on pages.
    pub fn as_str(&self) -> &str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Canceled => "canceled",
            JobState::Unknown(word) => word,
        }
    }

    /// Reads back a word written by [`JobState::as_str`].
    pub fn from_stored(word: &str) -> JobState {
        match word {
            "pending" => JobState::Pending,
            "running" => JobState::Running,
            "succeeded" => JobState::Succeeded,
            "failed" => JobState::Failed,
            "canceled" => JobState::Canceled,
            other => JobState::Unknown(other.to_owned()),
        }
    }

    /// True once the job can no longer change: succeeded, failed or canceled.
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            JobState::Succeeded | JobState::Failed | JobState::Canceled
        )
    }
}

/// Whether the appliance's schedule or a person started the job.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum JobType {
    Scheduled,
    Manual,
    Unknown(String),
}

impl JobType {
    pub fn from_wire(word: &str) -> JobType {
        match word.to_ascii_uppercase().as_str() {
            "SCHEDULED" => JobType::Scheduled,
            "MANUAL" => JobType::Manual,
            _ => JobType::Unknown(crate::domain::text::bounded(word, 40)),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            JobType::Scheduled => "scheduled",
            JobType::Manual => "manual",
            JobType::Unknown(word) => word,
        }
    }

    pub fn from_stored(word: &str) -> JobType {
        match word {
            "scheduled" => JobType::Scheduled,
            "manual" => JobType::Manual,
            other => JobType::Unknown(other.to_owned()),
        }
    }
}

/// One backup job with everything the pages show. Optional fields are absent when the
/// appliance did not send them (a running job has no end time, a pending one no size).
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub job_type: JobType,
    pub state: JobState,
    /// Percent complete, 0 to 100.
    pub progress: Option<i64>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub duration_secs: Option<i64>,
    /// Bytes written to the backup location.
    pub size_bytes: Option<i64>,
    /// The backup folder URL, bounded in length.
    pub location: Option<String>,
    pub user: Option<String>,
    /// Every message the appliance gave for the job, in its order, bounded.
    pub messages: Vec<String>,
    /// The text of the progress message, when the appliance sent one.
    pub progress_message: Option<String>,
    /// Appliance version and build that ran the job (job details carry them from 6.7 U2).
    pub version: Option<String>,
    pub build: Option<String>,
    pub cancelable: Option<bool>,
}

impl Job {
    /// A job with only its id, type and state known; the rest is filled in by the caller.
    pub fn new(id: JobId, job_type: JobType, state: JobState) -> Job {
        Job {
            id,
            job_type,
            state,
            progress: None,
            start_time: None,
            end_time: None,
            duration_secs: None,
            size_bytes: None,
            location: None,
            user: None,
            messages: Vec::new(),
            progress_message: None,
            version: None,
            build: None,
            cancelable: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_id_accepts_the_appliance_shape() {
        assert!(JobId::parse("20261201-020000-24322735").is_some());
    }

    #[test]
    fn job_id_refuses_paths_markup_and_oversize() {
        for bad in ["", "..", "a/b", "<script>", "x y", &"9".repeat(65)] {
            assert!(JobId::parse(bad).is_none(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn both_state_vocabularies_meet() {
        assert_eq!(JobState::from_wire("INPROGRESS"), JobState::Running);
        assert_eq!(JobState::from_wire("RUNNING"), JobState::Running);
        assert_eq!(JobState::from_wire("NONE"), JobState::Pending);
        assert_eq!(JobState::from_wire("SUCCEEDED"), JobState::Succeeded);
        assert_eq!(
            JobState::from_wire("PAUSED"),
            JobState::Unknown("PAUSED".to_owned())
        );
        assert_eq!(JobState::from_wire("PAUSED").as_str(), "PAUSED");
    }

    #[test]
    fn stored_words_round_trip() {
        for state in [
            JobState::Pending,
            JobState::Running,
            JobState::Succeeded,
            JobState::Failed,
            JobState::Canceled,
            JobState::Unknown("PAUSED".into()),
        ] {
            assert_eq!(JobState::from_stored(state.as_str()), state);
        }
    }
}
