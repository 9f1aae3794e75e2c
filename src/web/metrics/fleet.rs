//! The series about appliances and the fleet, from one read of the fleet overview.
//!
//! Labels are the appliance name and small fixed sets of words (statuses, job states);
//! job ids never become labels, so the number of series grows with the fleet alone. A
//! series whose value is not known yet (no poll, no job) is left out rather than faked.

use chrono::{DateTime, Utc};

use super::exposition::{Exposition, Kind};
use crate::domain::{ApplianceOverview, Job, JobState, Status};

/// Job states as exported; words the appliance invented all count as `unknown`.
const JOB_STATES: [&str; 6] = [
    "pending",
    "running",
    "succeeded",
    "failed",
    "canceled",
    "unknown",
];

/// Writes every appliance and fleet family for `fleet` as seen at `now`.
pub fn write(out: &mut Exposition, fleet: &[ApplianceOverview], now: DateTime<Utc>) {
    let statuses: Vec<Status> = fleet.iter().map(|a| a.verdict(now).status).collect();

    out.family(
        "vbdash_appliances",
        Kind::Gauge,
        "Configured appliances by dashboard status.",
    );
    for status in Status::ALL {
        let count = statuses.iter().filter(|s| **s == status).count();
        out.sample(
            "vbdash_appliances",
            &[("status", status.as_str())],
            count as f64,
        );
    }

    out.family(
        "vbdash_appliance_status",
        Kind::Gauge,
        "Dashboard status of the appliance: 1 for its current status, 0 for the others.",
    );
    for (appliance, current) in fleet.iter().zip(&statuses) {
        for status in Status::ALL {
            let labels = [
                ("appliance", appliance.name.as_str()),
                ("status", status.as_str()),
            ];
            out.sample(
                "vbdash_appliance_status",
                &labels,
                one_if(status == *current),
            );
        }
    }

    per_appliance(
        out,
        fleet,
        "vbdash_poll_up",
        "Whether the last poll of the appliance succeeded (1) or failed (0).",
        |a| a.last_poll.as_ref().map(|p| one_if(p.outcome.is_ok())),
    );
    per_appliance(
        out,
        fleet,
        "vbdash_poll_duration_seconds",
        "How long the last poll of the appliance took.",
        |a| a.last_poll.as_ref().map(|p| p.duration_ms as f64 / 1000.0),
    );
    per_appliance(
        out,
        fleet,
        "vbdash_last_poll_timestamp_seconds",
        "When the last poll of the appliance started, in seconds since the epoch.",
        |a| a.last_poll.as_ref().map(|p| seconds(p.at)),
    );
    per_appliance(
        out,
        fleet,
        "vbdash_schedule_enabled",
        "Whether the appliance has an enabled backup schedule (1) or not (0).",
        // Without a successful poll the schedule is not known, not absent.
        |a| match (&a.schedule, &a.last_ok_poll_at) {
            (Some(schedule), _) => Some(one_if(schedule.enabled)),
            (None, Some(_)) => Some(0.0),
            (None, None) => None,
        },
    );
    per_appliance(
        out,
        fleet,
        "vbdash_last_successful_backup_timestamp_seconds",
        "When the newest succeeded backup job ended, in seconds since the epoch.",
        |a| a.last_good_job.as_ref().and_then(finished_at).map(seconds),
    );
    per_appliance(
        out,
        fleet,
        "vbdash_last_job_duration_seconds",
        "How long the newest finished backup job ran.",
        |a| a.last_finished_job.as_ref().and_then(duration_secs),
    );
    per_appliance(
        out,
        fleet,
        "vbdash_last_job_size_bytes",
        "Size of the newest finished backup job, as the appliance reports it.",
        |a| {
            a.last_finished_job
                .as_ref()
                .and_then(|j| j.size_bytes)
                .map(|b| b as f64)
        },
    );

    out.family(
        "vbdash_last_job_state",
        Kind::Gauge,
        "State of the newest backup job: 1 for its state, 0 for the others.",
    );
    for appliance in fleet {
        let Some(job) = &appliance.last_job else {
            continue;
        };
        let current = state_word(&job.state);
        for state in JOB_STATES {
            let labels = [("appliance", appliance.name.as_str()), ("state", state)];
            out.sample("vbdash_last_job_state", &labels, one_if(state == current));
        }
    }
}

/// One gauge family with a sample per appliance that has a value.
fn per_appliance(
    out: &mut Exposition,
    fleet: &[ApplianceOverview],
    name: &str,
    help: &str,
    value: impl Fn(&ApplianceOverview) -> Option<f64>,
) {
    out.family(name, Kind::Gauge, help);
    for appliance in fleet {
        if let Some(value) = value(appliance) {
            out.sample(name, &[("appliance", appliance.name.as_str())], value);
        }
    }
}

fn one_if(condition: bool) -> f64 {
    if condition { 1.0 } else { 0.0 }
}

fn seconds(at: DateTime<Utc>) -> f64 {
    at.timestamp_millis() as f64 / 1000.0
}

/// The end of a job, or its start when the appliance gave no end.
fn finished_at(job: &Job) -> Option<DateTime<Utc>> {
    job.end_time.or(job.start_time)
}

/// The job's length: as reported, else from its start and end.
fn duration_secs(job: &Job) -> Option<f64> {
    if let Some(secs) = job.duration_secs {
        return Some(secs as f64);
    }
    let (start, end) = (job.start_time?, job.end_time?);
    Some((end - start).num_milliseconds().max(0) as f64 / 1000.0)
}

fn state_word(state: &JobState) -> &'static str {
    match state {
        JobState::Pending => "pending",
        JobState::Running => "running",
        JobState::Succeeded => "succeeded",
        JobState::Failed => "failed",
        JobState::Canceled => "canceled",
        JobState::Unknown(_) => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{JobId, JobType};

    fn never_polled(name: &str) -> ApplianceOverview {
        ApplianceOverview {
            name: name.to_owned(),
            url: "https://x.example".to_owned(),
            tags: vec![],
            time_zone: chrono_tz::UTC,
            grace_secs: 3600,
            generation: None,
            version: None,
            schedule: None,
            schedule_changed_at: None,
            last_poll: None,
            last_ok_poll_at: None,
            last_job: None,
            last_finished_job: None,
            last_good_job: None,
            running_job: None,
            last_scheduled_start: None,
        }
    }

    fn scrape(fleet: &[ApplianceOverview]) -> String {
        let mut out = Exposition::default();
        write(&mut out, fleet, Utc::now());
        out.finish()
    }

    #[test]
    fn unknown_values_are_left_out_and_statuses_still_counted() {
        let text = scrape(&[never_polled("a")]);
        assert!(text.contains("vbdash_appliances{status=\"not-polled\"} 1\n"));
        assert!(text.contains("vbdash_appliance_status{appliance=\"a\",status=\"not-polled\"} 1"));
        for family in [
            "vbdash_poll_up",
            "vbdash_schedule_enabled",
            "vbdash_last_job_state",
        ] {
            assert!(!text.contains(&format!("{family}{{")), "{family} in {text}");
        }
    }

    #[test]
    fn a_job_state_the_appliance_invented_counts_as_unknown() {
        let mut appliance = never_polled("a\"b");
        appliance.last_job = Some(Job::new(
            JobId::parse("20261204-020000-1").unwrap(),
            JobType::Scheduled,
            JobState::Unknown("PAUSED".to_owned()),
        ));
        let text = scrape(&[appliance]);
        assert!(text.contains("vbdash_last_job_state{appliance=\"a\\\"b\",state=\"unknown\"} 1"));
        assert!(!text.contains("PAUSED"));
    }
}
