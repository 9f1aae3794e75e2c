//! One visit of the poller to one appliance and what it saw.

use chrono::{DateTime, Utc};

use super::{Job, JobId, Schedule};

/// Which REST generation an appliance speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiGeneration {
    /// Paths under `/rest/`, bodies wrapped in `value` (6.5 and later).
    Rest,
    /// Paths under `/api/`, bare bodies (7.0 U2 and later).
    Api,
}

impl ApiGeneration {
    pub fn as_str(self) -> &'static str {
        match self {
            ApiGeneration::Rest => "rest",
            ApiGeneration::Api => "api",
        }
    }

    pub fn from_stored(word: &str) -> Option<ApiGeneration> {
        match word {
            "rest" => Some(ApiGeneration::Rest),
            "api" => Some(ApiGeneration::Api),
            _ => None,
        }
    }
}

/// The appliance's version as `GET appliance/system/version` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// Dotted version, such as `8.0.3.00400`.
    pub version: String,
    pub build: String,
    pub product: Option<String>,
}

/// How a poll ended. Every failure kind is one a person can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PollOutcome {
    Ok,
    /// No connection: refused, reset, DNS, network down.
    Unreachable,
    Timeout,
    /// The certificate check failed; the message says which check.
    Tls,
    /// A fresh login was refused.
    Authentication,
    /// Logged in, but the account lacks the role for a read.
    Permission,
    /// The appliance refused a new session because too many are open.
    SessionLimit,
    /// The answer was not what the API defines: malformed JSON, wrong shape, too large.
    BadResponse,
    /// The appliance answered with one of its own errors (all messages kept).
    ApplianceError,
}

impl PollOutcome {
    pub const ALL: [PollOutcome; 9] = [
        PollOutcome::Ok,
        PollOutcome::Unreachable,
        PollOutcome::Timeout,
        PollOutcome::Tls,
        PollOutcome::Authentication,
        PollOutcome::Permission,
        PollOutcome::SessionLimit,
        PollOutcome::BadResponse,
        PollOutcome::ApplianceError,
    ];

    /// The word stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            PollOutcome::Ok => "ok",
            PollOutcome::Unreachable => "unreachable",
            PollOutcome::Timeout => "timeout",
            PollOutcome::Tls => "tls",
            PollOutcome::Authentication => "authentication",
            PollOutcome::Permission => "permission",
            PollOutcome::SessionLimit => "session_limit",
            PollOutcome::BadResponse => "bad_response",
            PollOutcome::ApplianceError => "appliance_error",
        }
    }

    pub fn from_stored(word: &str) -> Option<PollOutcome> {
        PollOutcome::ALL.into_iter().find(|o| o.as_str() == word)
    }

    /// A short label for pages, such as "certificate problem".
    pub fn label(self) -> &'static str {
        match self {
            PollOutcome::Ok => "ok",
            PollOutcome::Unreachable => "unreachable",
            PollOutcome::Timeout => "timed out",
            PollOutcome::Tls => "certificate problem",
            PollOutcome::Authentication => "login refused",
            PollOutcome::Permission => "permission denied",
            PollOutcome::SessionLimit => "session limit reached",
            PollOutcome::BadResponse => "bad response",
            PollOutcome::ApplianceError => "appliance error",
        }
    }

    pub fn is_ok(self) -> bool {
        self == PollOutcome::Ok
    }
}

/// What a successful poll read from the appliance.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub generation: ApiGeneration,
    pub version: Option<VersionInfo>,
    /// `None` when the appliance has no schedule configured.
    pub schedule: Option<Schedule>,
    /// Jobs whose details were fetched in this poll (new or still unfinished ones).
    pub jobs: Vec<Job>,
    /// Every job id the appliance listed; ids it stopped listing are marked as gone.
    pub listed_job_ids: Vec<JobId>,
}

/// The poller's account of one poll, handed to the store in one piece.
#[derive(Debug, Clone, PartialEq)]
pub struct PollReport {
    pub appliance: String,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    pub outcome: PollOutcome,
    /// The failure in words (every message of an appliance error); `None` when ok.
    pub message: Option<String>,
    pub observation: Option<Observation>,
}

/// A poll as stored and shown.
#[derive(Debug, Clone, PartialEq)]
pub struct PollRecord {
    pub at: DateTime<Utc>,
    pub duration_ms: i64,
    pub outcome: PollOutcome,
    pub message: Option<String>,
}
