//! What the API answers with: plain JSON shapes built from the domain types, each with
//! its OpenAPI schema. Times are RFC 3339 in UTC; missing facts are `null`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::{ApplianceOverview, Job, PollRecord, Schedule};
use crate::store::{Acknowledgement, StoredJob};
use crate::views::common::job_duration;
use crate::views::fleet::schedule_words;
use crate::views::format::path_segment;

/// An appliance with the facts and the status the fleet page shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplianceJson {
    /// Configured name, the appliance's key.
    pub name: String,
    /// Address vbdash reaches the appliance at.
    pub url: String,
    /// Configured tags.
    pub tags: Vec<String>,
    /// Status word, worst first: `unreachable`, `not-polled`, `failed`, `missed`, `late`,
    /// `running`, `disabled`, `unscheduled` or `good`.
    pub status: String,
    /// Why the appliance has its status, in words.
    pub reason: String,
    /// Dotted appliance version, once read.
    pub version: Option<String>,
    /// Appliance build number, once read.
    pub build: Option<String>,
    /// `rest` or `api`, once detected.
    pub api_generation: Option<String>,
    /// Zone the schedule runs in.
    pub time_zone: String,
    /// The schedule in words, "no schedule", or "not known yet" before a good poll.
    pub schedule_words: String,
    /// The schedule, when the appliance has one.
    pub schedule: Option<ScheduleJson>,
    /// The newest succeeded job.
    pub last_good_backup: Option<JobSummary>,
    /// Seconds since the newest succeeded job started.
    pub last_good_backup_age_secs: Option<i64>,
    /// The newest job, whatever its state.
    pub last_backup: Option<JobSummary>,
    /// The job running now.
    pub running_job: Option<JobSummary>,
    /// The newest poll and how it ended.
    pub last_poll: Option<PollJson>,
    /// The newest poll that succeeded: how old the data shown is.
    pub last_ok_poll_at: Option<DateTime<Utc>>,
    /// Who acknowledged the appliance's trouble and until when; `null` when nobody has,
    /// or the acknowledgement has ended.
    pub acknowledgement: Option<AcknowledgementJson>,
    /// This appliance in the API.
    pub href: String,
}

/// An operator's word that an appliance's trouble is known about. It silences the
/// appliance's notifications and is shown on the fleet page until it ends.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcknowledgementJson {
    /// The dashboard user who acknowledged it.
    pub user: String,
    /// Why, as the user wrote it.
    pub reason: String,
    /// The status word the appliance had when it was acknowledged.
    pub status: String,
    /// When it was acknowledged.
    pub since: DateTime<Utc>,
    /// When it ends by itself (it also ends once the appliance is good again).
    pub until: DateTime<Utc>,
}

/// An appliance's backup schedule.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleJson {
    /// Whether the schedule runs.
    pub enabled: bool,
    /// Days it runs on (`mon` ... `sun`); empty means every day.
    pub days: Vec<String>,
    /// Time of day it runs, `HH:MM` in the appliance's zone; `null` when it never fires.
    pub time: Option<String>,
    /// Backups kept; `null` keeps all.
    pub retention: Option<i64>,
    /// Backup location URL.
    pub location: String,
    /// Host of the backup location.
    pub location_host: Option<String>,
}

/// A job in brief, as appliance listings show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobSummary {
    /// The appliance's job id.
    pub id: String,
    /// `scheduled`, `manual`, or the appliance's word.
    #[serde(rename = "type")]
    pub job_type: String,
    /// `pending`, `running`, `succeeded`, `failed`, `canceled`, or the appliance's word.
    pub state: String,
    /// Percent done.
    pub progress: Option<i64>,
    /// When it started.
    pub start_time: Option<DateTime<Utc>>,
    /// When it ended.
    pub end_time: Option<DateTime<Utc>>,
    /// The job in the API.
    pub href: String,
}

/// The newest poll of an appliance.
#[derive(Debug, Serialize, ToSchema)]
pub struct PollJson {
    /// When it started.
    pub at: DateTime<Utc>,
    /// `ok`, or the kind of failure: `unreachable`, `timeout`, `tls`, `authentication`,
    /// `permission`, `session_limit`, `bad_response`, `appliance_error`.
    pub outcome: String,
    /// The failure in words.
    pub message: Option<String>,
    /// How long it took.
    pub duration_ms: i64,
}

/// One job with every fact vbdash keeps.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobJson {
    /// Configured name of the appliance.
    pub appliance: String,
    /// The appliance's job id.
    pub id: String,
    /// `scheduled`, `manual`, or the appliance's word.
    #[serde(rename = "type")]
    pub job_type: String,
    /// `pending`, `running`, `succeeded`, `failed`, `canceled`, or the appliance's word.
    pub state: String,
    /// Percent done.
    pub progress: Option<i64>,
    /// When it started.
    pub start_time: Option<DateTime<Utc>>,
    /// When it ended.
    pub end_time: Option<DateTime<Utc>>,
    /// Seconds it ran (so far, while running).
    pub duration_secs: Option<i64>,
    /// Bytes written.
    pub size_bytes: Option<i64>,
    /// Backup location URL.
    pub location: Option<String>,
    /// Appliance account that started it.
    pub user: Option<String>,
    /// The appliance's messages.
    pub messages: Vec<String>,
    /// What the job is doing now.
    pub progress_message: Option<String>,
    /// Version that ran it.
    pub version: Option<String>,
    /// Build that ran it.
    pub build: Option<String>,
    /// Whether the appliance said it can be canceled.
    pub cancelable: Option<bool>,
    /// First poll that stored it.
    pub first_seen_at: DateTime<Utc>,
    /// Last poll that listed it.
    pub last_seen_at: DateTime<Utc>,
    /// Since when the appliance no longer lists it (vbdash keeps it).
    pub gone_since: Option<DateTime<Utc>>,
    /// The job in the API.
    pub href: String,
}

/// Address of an appliance in the API.
pub fn appliance_href(name: &str) -> String {
    format!("/api/v1/appliances/{}", path_segment(name))
}

/// Address of a job in the API.
pub fn job_href(appliance: &str, id: &str) -> String {
    format!("{}/jobs/{}", appliance_href(appliance), path_segment(id))
}

impl ApplianceJson {
    /// The appliance as seen at `now`, with its acknowledgement active at `now`, if any.
    pub fn new(
        o: &ApplianceOverview,
        ack: Option<&Acknowledgement>,
        now: DateTime<Utc>,
    ) -> ApplianceJson {
        let verdict = o.verdict(now);
        let summary = |job: &Job| JobSummary::new(&o.name, job);
        let last_good_start = o
            .last_good_job
            .as_ref()
            .and_then(|j| j.start_time.or(j.end_time));

        ApplianceJson {
            name: o.name.clone(),
            url: o.url.clone(),
            tags: o.tags.clone(),
            status: verdict.status.as_str().to_owned(),
            reason: verdict.reason,
            version: o.version.as_ref().map(|v| v.version.clone()),
            build: o.version.as_ref().map(|v| v.build.clone()),
            api_generation: o.generation.map(|g| g.as_str().to_owned()),
            time_zone: o.time_zone.name().to_owned(),
            schedule_words: schedule_words(o),
            schedule: o.schedule.as_ref().map(ScheduleJson::new),
            last_good_backup: o.last_good_job.as_ref().map(summary),
            last_good_backup_age_secs: last_good_start.map(|at| (now - at).num_seconds().max(0)),
            last_backup: o.last_job.as_ref().map(summary),
            running_job: o.running_job.as_ref().map(summary),
            last_poll: o.last_poll.as_ref().map(PollJson::new),
            last_ok_poll_at: o.last_ok_poll_at,
            acknowledgement: ack.map(AcknowledgementJson::new),
            href: appliance_href(&o.name),
        }
    }
}

impl AcknowledgementJson {
    fn new(ack: &Acknowledgement) -> AcknowledgementJson {
        AcknowledgementJson {
            user: ack.user.clone(),
            reason: ack.reason.clone(),
            status: ack.status.as_str().to_owned(),
            since: ack.since,
            until: ack.until,
        }
    }
}

impl ScheduleJson {
    fn new(s: &Schedule) -> ScheduleJson {
        ScheduleJson {
            enabled: s.enabled,
            days: s
                .days
                .iter()
                .map(|d| d.to_string().to_lowercase())
                .collect(),
            time: s.time.map(|(h, m)| format!("{h:02}:{m:02}")),
            retention: s.retention,
            location: s.location.clone(),
            location_host: s.location_host(),
        }
    }
}

impl JobSummary {
    /// A job of `appliance` in brief.
    pub fn new(appliance: &str, job: &Job) -> JobSummary {
        JobSummary {
            id: job.id.to_string(),
            job_type: job.job_type.as_str().to_owned(),
            state: job.state.as_str().to_owned(),
            progress: job.progress,
            start_time: job.start_time,
            end_time: job.end_time,
            href: job_href(appliance, job.id.as_str()),
        }
    }
}

impl PollJson {
    fn new(poll: &PollRecord) -> PollJson {
        PollJson {
            at: poll.at,
            outcome: poll.outcome.as_str().to_owned(),
            message: poll.message.clone(),
            duration_ms: poll.duration_ms,
        }
    }
}

impl JobJson {
    /// A stored job of `appliance` as seen at `now`.
    pub fn new(appliance: &str, stored: &StoredJob, now: DateTime<Utc>) -> JobJson {
        let job = &stored.job;
        JobJson {
            appliance: appliance.to_owned(),
            id: job.id.to_string(),
            job_type: job.job_type.as_str().to_owned(),
            state: job.state.as_str().to_owned(),
            progress: job.progress,
            start_time: job.start_time,
            end_time: job.end_time,
            duration_secs: job_duration(job, now),
            size_bytes: job.size_bytes,
            location: job.location.clone(),
            user: job.user.clone(),
            messages: job.messages.clone(),
            progress_message: job.progress_message.clone(),
            version: job.version.clone(),
            build: job.build.clone(),
            cancelable: job.cancelable,
            first_seen_at: stored.first_seen_at,
            last_seen_at: stored.last_seen_at,
            gone_since: stored.gone_since,
            href: job_href(appliance, job.id.as_str()),
        }
    }
}
