//! One poll of one appliance: log in if needed, read version, schedule and job list, fetch
//! details only for jobs not already stored as finished, and account for the outcome.

use std::collections::HashSet;
use std::time::Instant;

use chrono::Utc;
use tracing::{debug, info, warn};

use crate::domain::{JobId, Observation, PollOutcome, PollReport};
use crate::store::Store;
use crate::vcenter::{ApplianceClient, VcError};

/// Job ids asked for in one details call; keeps request URLs short.
const DETAILS_BATCH: usize = 100;

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
            debug!(appliance.name = %client.name(), error = %e, duration_ms, "poll failed");
            PollReport {
                appliance: client.name().to_owned(),
                started_at,
                duration_ms,
                outcome: e.kind(),
                message: Some(e.to_string()),
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

    Ok(Observation {
        generation,
        version: Some(version),
        schedule,
        jobs,
        listed_job_ids: listed,
    })
}
