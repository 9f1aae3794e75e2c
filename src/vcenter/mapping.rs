//! From wire types to the shared domain types. Every text that arrives here is bounded
//! before it leaves, and job ids of an unsafe shape are dropped with a warning.

use chrono::{DateTime, Utc, Weekday};
use serde_json::Value;

use super::envelope::{decode, map_entries, unwrap_success};
use super::error::VcError;
use super::models::{WireJobDetails, WireJobStatus, WireMessage, WireSchedule, WireVersion};
use crate::domain::schedule::parse_day;
use crate::domain::text::{self, MAX_FIELD_CHARS, MAX_MESSAGE_CHARS};
use crate::domain::{ApiGeneration, Job, JobId, JobState, JobType, Schedule, VersionInfo};

/// The schedule id the appliance's own UI creates.
const DEFAULT_SCHEDULE_ID: &str = "default";

/// `appliance/system/version`.
pub fn version_from(generation: ApiGeneration, body: &[u8]) -> Result<VersionInfo, VcError> {
    let wire: WireVersion = decode("version", unwrap_success(generation, body)?)?;
    Ok(VersionInfo {
        version: text::bounded(&wire.version, MAX_FIELD_CHARS),
        build: text::bounded(&wire.build, MAX_FIELD_CHARS),
        product: wire.product.map(|p| text::bounded(&p, MAX_FIELD_CHARS)),
    })
}

/// The job list: ids of every job the appliance keeps, sorted.
pub fn job_ids_from_list(generation: ApiGeneration, body: &[u8]) -> Result<Vec<JobId>, VcError> {
    // Entries are read one by one, so that one odd entry (a null, a number, an id of an
    // unsafe shape) is dropped instead of failing the whole list.
    let raw: Vec<serde_json::Value> = decode("job list", unwrap_success(generation, body)?)?;
    let mut dropped = Dropped::default();
    let mut ids: Vec<JobId> = raw
        .iter()
        .filter_map(|v| dropped.keep(v.as_str().and_then(JobId::parse), v))
        .collect();
    dropped.log("job list");

    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// `job/details`: one job per id, sorted by id (which is chronological). An entry that
/// cannot be read (unsafe id, missing status, impossible date) is dropped and counted in
/// one warning, so one bad job does not hide every other job of the appliance.
pub fn jobs_from_details(generation: ApiGeneration, body: &[u8]) -> Result<Vec<Job>, VcError> {
    let entries = map_entries("job details", unwrap_success(generation, body)?)?;

    let mut dropped = Dropped::default();
    let mut jobs = Vec::with_capacity(entries.len());
    for (raw_id, value) in entries {
        let Some(id) = dropped.keep(JobId::parse(&raw_id), &raw_id) else {
            continue;
        };
        let job = decode::<WireJobDetails>(&format!("job {id}"), value)
            .and_then(|wire| job_from_details(id, wire));
        match job {
            Ok(job) => jobs.push(job),
            Err(e) => dropped.note(&e.to_string()),
        }
    }
    dropped.log("job details");

    jobs.sort_by(|a, b| a.id.cmp(&b.id));
    jobs.dedup_by(|later, earlier| later.id == earlier.id);
    Ok(jobs)
}

/// Counts entries dropped from one answer and logs them once, with one example, rather
/// than once per entry: an appliance must not be able to flood the log.
#[derive(Default)]
struct Dropped {
    count: usize,
    example: Option<String>,
}

impl Dropped {
    fn keep<T>(&mut self, value: Option<T>, raw: &dyn std::fmt::Display) -> Option<T> {
        if value.is_none() {
            self.note(&raw.to_string());
        }
        value
    }

    fn note(&mut self, what: &str) {
        self.count += 1;
        if self.example.is_none() {
            self.example = Some(text::bounded(what, 120));
        }
    }

    fn log(&self, answer: &str) {
        if let Some(example) = &self.example {
            // `?` quotes the text, so an appliance cannot start a fake log line.
            tracing::warn!(
                count = self.count,
                example = ?example,
                "dropped unreadable entries from the {answer}"
            );
        }
    }
}

/// The per-job status call (`BackupJobStatus`). That answer does not say whether the
/// schedule or a person started the job, so the type is `Unknown("")`.
pub fn job_from_status(generation: ApiGeneration, body: &[u8]) -> Result<Job, VcError> {
    let wire: WireJobStatus = decode("job status", unwrap_success(generation, body)?)?;
    let id = JobId::parse(&wire.id)
        .ok_or_else(|| VcError::bad_response("job status: the job id has an unsafe shape"))?;
    let what = format!("job {id}");

    let mut job = Job::new(
        id,
        JobType::Unknown(String::new()),
        JobState::from_wire(&wire.state),
    );
    job.progress = wire.progress.map(|p| p.clamp(0, 100));
    job.start_time = parse_time(&what, "start_time", wire.start_time.as_deref())?;
    job.end_time = parse_time(&what, "end_time", wire.end_time.as_deref())?;
    job.messages = text::bounded_messages(wire.messages.iter().map(WireMessage::text));
    Ok(job)
}

/// The schedules list. `None` when no schedule is configured; with several, the one named
/// `default` wins, else the first (for an `/api` map: the first id in sorted order).
pub fn schedule_from_list(
    generation: ApiGeneration,
    body: &[u8],
) -> Result<Option<Schedule>, VcError> {
    let mut entries = map_entries("schedules", unwrap_success(generation, body)?)?;

    let chosen = entries
        .iter()
        .position(|(id, _)| id == DEFAULT_SCHEDULE_ID)
        .or_else(|| (!entries.is_empty()).then_some(0));
    let Some(index) = chosen else {
        return Ok(None);
    };

    let (id, value) = entries.swap_remove(index);
    let id = text::bounded(&id, MAX_FIELD_CHARS);
    let wire: WireSchedule = decode(&format!("schedule {id}"), value)?;
    schedule_from_wire(id, wire).map(Some)
}

fn job_from_details(id: JobId, wire: WireJobDetails) -> Result<Job, VcError> {
    let what = format!("job {id}");
    let job_type = JobType::from_wire(wire.job_type.as_deref().unwrap_or_default());
    let mut job = Job::new(id, job_type, JobState::from_wire(&wire.status));

    job.start_time = parse_time(&what, "start_time", wire.start_time.as_deref())?;
    job.end_time = parse_time(&what, "end_time", wire.end_time.as_deref())?;
    job.duration_secs = wire.duration;
    job.size_bytes = wire.size;
    job.location = bounded_field(wire.location);
    job.user = bounded_field(wire.user);
    job.cancelable = wire.cancelable;

    if let Some(progress) = &wire.progress {
        job.progress = percent(progress.completed, progress.total);
        job.progress_message = progress
            .message
            .as_ref()
            .map(|m| text::bounded(&m.text(), MAX_MESSAGE_CHARS))
            .filter(|m| !m.is_empty());
    }
    if let Some(build) = wire.build {
        job.version = bounded_field(build.version);
        job.build = bounded_field(build.build_number);
    }

    let mut messages: Vec<String> = wire.messages.iter().map(WireMessage::text).collect();
    for extra in wire.error.as_ref().map(error_texts).unwrap_or_default() {
        if !messages.contains(&extra) {
            messages.push(extra);
        }
    }
    job.messages = text::bounded_messages(messages.iter().filter(|m| !m.is_empty()));
    Ok(job)
}

/// The messages inside a failed job's opaque `error`: a plain string, or an error struct
/// with its own `messages`.
fn error_texts(error: &Value) -> Vec<String> {
    match error {
        Value::String(text) if !text.is_empty() => vec![text.clone()],
        Value::Object(object) => match object.get("messages") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|item| serde_json::from_value::<WireMessage>(item.clone()).ok())
                .map(|m| m.text())
                .collect(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn schedule_from_wire(id: String, wire: WireSchedule) -> Result<Schedule, VcError> {
    let what = format!("schedule {id}");

    let (days, time) = match &wire.recurrence_info {
        Some(rec) => {
            let days = rec
                .days
                .iter()
                .map(|word| {
                    parse_day(word).ok_or_else(|| {
                        VcError::bad_response(format!("{what}: unknown day of the week"))
                    })
                })
                .collect::<Result<Vec<Weekday>, VcError>>()?;
            (days, Some(clock_time(&what, rec.hour, rec.minute)?))
        }
        None => (Vec::new(), None),
    };

    Ok(Schedule {
        id,
        enabled: wire.enable,
        days,
        time,
        retention: wire.retention_info.map(|r| r.max_count),
        location: text::bounded(&wire.location, MAX_FIELD_CHARS),
        location_user: bounded_field(wire.location_user),
        parts: wire
            .parts
            .iter()
            .take(text::MAX_MESSAGES)
            .map(|p| text::bounded(p, MAX_FIELD_CHARS))
            .collect(),
    })
}

fn clock_time(what: &str, hour: i64, minute: i64) -> Result<(u32, u32), VcError> {
    let in_range = (0..24).contains(&hour) && (0..60).contains(&minute);
    match (u32::try_from(hour), u32::try_from(minute)) {
        (Ok(h), Ok(m)) if in_range => Ok((h, m)),
        _ => Err(VcError::bad_response(format!(
            "{what}: time of day out of range"
        ))),
    }
}

/// `completed` of `total` as a percentage; the appliance is believed to send `total` 100.
fn percent(completed: Option<i64>, total: Option<i64>) -> Option<i64> {
    let completed = completed?;
    let value = match total {
        Some(total) if total > 0 && total != 100 => {
            i64::try_from(i128::from(completed) * 100 / i128::from(total)).unwrap_or(100)
        }
        _ => completed,
    };
    Some(value.clamp(0, 100))
}

fn parse_time(
    what: &str,
    field: &str,
    raw: Option<&str>,
) -> Result<Option<DateTime<Utc>>, VcError> {
    let Some(raw) = raw else {
        return Ok(None);
    };
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|_| VcError::bad_response(format!("{what}: {field} is not an RFC 3339 time")))
}

fn bounded_field(value: Option<String>) -> Option<String> {
    value.map(|v| text::bounded(&v, MAX_FIELD_CHARS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_job_ids_are_dropped() {
        let body = br#"["20240115-171000-21477706","../../etc","a b"]"#;
        let ids = job_ids_from_list(ApiGeneration::Api, body).unwrap();
        assert_eq!(ids.len(), 1);
        assert_eq!(ids[0].as_str(), "20240115-171000-21477706");
    }

    #[test]
    fn progress_is_a_percentage_of_total() {
        assert_eq!(percent(Some(42), Some(100)), Some(42));
        assert_eq!(percent(Some(1), Some(4)), Some(25));
        assert_eq!(percent(Some(250), None), Some(100));
        assert_eq!(percent(None, Some(100)), None);
    }

    #[test]
    fn a_job_with_a_bad_time_is_dropped_and_the_others_kept() {
        let body = br#"{"j-1":{"status":"RUNNING","start_time":"yesterday"},
            "j-2":{"status":"SUCCEEDED","start_time":"2026-12-01T02:00:00.000Z"},
            "j-3":{"start_time":"2026-12-01T02:00:00.000Z"}}"#;
        let jobs = jobs_from_details(ApiGeneration::Api, body).unwrap();
        let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
        assert_eq!(ids, ["j-2"]);
    }

    #[test]
    fn odd_entries_in_the_job_list_are_dropped() {
        let body = br#"["j-1",null,7,"../x","j-2"]"#;
        let ids = job_ids_from_list(ApiGeneration::Api, body).unwrap();
        assert_eq!(ids.len(), 2);
    }

    #[test]
    fn error_struct_messages_join_the_job_messages() {
        let body = br#"{"j-1":{"status":"FAILED","messages":[],
            "error":{"messages":[{"id":"x","default_message":"disk full","args":[]}]}}}"#;
        let jobs = jobs_from_details(ApiGeneration::Api, body).unwrap();
        assert_eq!(jobs[0].messages, vec!["disk full".to_owned()]);
    }

    #[test]
    fn out_of_range_schedule_time_is_refused() {
        let body = br#"{"default":{"location":"nfs://h/x","enable":true,
            "recurrence_info":{"hour":25,"minute":0}}}"#;
        assert!(schedule_from_list(ApiGeneration::Api, body).is_err());
    }
}
