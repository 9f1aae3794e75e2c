//! One poll of one appliance: log in if needed, read version, schedule and job list, fetch
//! details only for jobs not already stored as finished, and account for the outcome.

use std::collections::HashSet;
use std::time::Instant;

use chrono::Utc;
use tracing::{debug, info, warn};

use crate::domain::text::bounded;
use crate::domain::{Job, JobId, Observation, PollOutcome, PollReport};
use crate::store::Store;
use crate::vcenter::{ApplianceClient, VcError};

/// Job ids asked for in one details call; keeps request URLs short.
const DETAILS_BATCH: usize = 100;

/// Longest failure text kept for one poll: every message of an appliance error fits,
/// but a flood of them does not swell every page that shows the poll.
const MAX_POLL_MESSAGE_CHARS: usize = 4_000;

/// How far in the future a job may start before its clock is distrusted.
const FUTURE_SLACK_HOURS: i64 = 24;

/// Polls `client` once and returns the report; never fails, a failure is an outcome.
pub async fn poll_once(client: &ApplianceClient, store: &Store) -> PollReport {
    let started_at = Utc::now();
    let timer = Instant::now();

    let result = observe(client, store).await;
    let duration_ms = i64::try_from(timer.elapsed().as_millis()).unwrap_or(i64::MAX);

    match result {
        Ok(observation) => {
            info!(
                appliance.name = %client.name(),
                generation = observation.generation.as_str(),
                jobs.listed = observation.listed_job_ids.len(),
                jobs.fetched = observation.jobs.len(),
                duration_ms,
                "polled appliance"
            );
            PollReport {
                appliance: client.name().to_owned(),
                started_at,
                duration_ms,
                outcome: PollOutcome::Ok,
                message: None,
                observation: Some(observation),
            }
        }
        Err(e) => {
            // `?` quotes the text: appliance messages must not be able to fake log lines.
            let error = e.to_string();
            debug!(appliance.name = %client.name(), error = ?error, duration_ms, "poll failed");
            PollReport {
                appliance: client.name().to_owned(),
                started_at,
                duration_ms,
                outcome: e.kind(),
                message: Some(bounded(&e.to_string(), MAX_POLL_MESSAGE_CHARS)),
                observation: None,
            }
        }
    }
}

async fn observe(client: &ApplianceClient, store: &Store) -> Result<Observation, VcError> {
    let generation = match client.generation() {
        Some(generation) => generation,
        None => client.login().await?,
    };

    let version = client.version().await?;
    let schedule = client.schedule().await?;
    let listed = client.job_ids().await?;

    let finished = match store.finished_job_ids(client.name()).await {
        Ok(ids) => ids,
        Err(e) => {
            // Fetching everything again is slower but loses nothing.
            warn!(appliance.name = %client.name(), error = %e, "could not read stored jobs");
            HashSet::new()
        }
    };
    let wanted: Vec<JobId> = listed
        .iter()
        .filter(|id| !finished.contains(*id))
        .cloned()
        .collect();

    let mut jobs = Vec::with_capacity(wanted.len());
    for batch in wanted.chunks(DETAILS_BATCH) {
        jobs.extend(client.job_details(batch).await?);
    }
    keep_plausible_jobs(client.name(), &mut jobs, &wanted);

    Ok(Observation {
        generation,
        version: Some(version),
        schedule,
        jobs,
        listed_job_ids: listed,
    })
}

/// Drops jobs the appliance was not asked about (it may not add to its own history
/// unasked) and jobs that claim to start more than a day in the future: one such job
/// would otherwise count as the newest run forever and hide every later failure.
fn keep_plausible_jobs(appliance: &str, jobs: &mut Vec<Job>, wanted: &[JobId]) {
    let asked: HashSet<&JobId> = wanted.iter().collect();
    let latest_start = Utc::now() + chrono::Duration::hours(FUTURE_SLACK_HOURS);
    let before = jobs.len();

    jobs.retain(|job| {
        asked.contains(&job.id) && job.start_time.is_none_or(|start| start <= latest_start)
    });

    let dropped = before - jobs.len();
    if dropped > 0 {
        warn!(
            appliance.name = %appliance,
            count = dropped,
            "ignored jobs not asked for or dated in the future"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{JobState, JobType};

    fn job(id: &str, start: chrono::DateTime<Utc>) -> Job {
        let mut job = Job::new(
            JobId::parse(id).unwrap(),
            JobType::Scheduled,
            JobState::Succeeded,
        );
        job.start_time = Some(start);
        job
    }

    #[test]
    fn future_and_unasked_jobs_are_dropped() {
        let now = Utc::now();
        let mut jobs = vec![
            job("past", now - chrono::Duration::hours(3)),
            job("far-future", now + chrono::Duration::days(365 * 900)),
            job("skewed", now + chrono::Duration::hours(2)),
            job("unasked", now),
        ];
        let wanted: Vec<JobId> = ["past", "far-future", "skewed"]
            .iter()
            .map(|id| JobId::parse(id).unwrap())
            .collect();

        keep_plausible_jobs("vcsa-01", &mut jobs, &wanted);

        let kept: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
        assert_eq!(kept, ["past", "skewed"]);
    }
}
