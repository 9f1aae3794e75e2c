//! The fleet as it stood at a past moment, rebuilt from the stored history.
//!
//! What is known at a moment `t`:
//! - jobs by their start and end times: a job that started before `t` and ended after it
//!   was running at `t`; one that ended by `t` had its final state;
//! - the schedule from the schedule history (the newest observed by `t`; before the first
//!   observation, the first one);
//! - the newest poll that started by `t`, while the poll log still holds it. Once pruned, an
//!   appliance with history before `t` is taken as reachable then.
//!
//! Known gap: the version is today's; versions are not kept over time.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::FromRow;

use super::overview::{JobRow, decode_outcome, from_ms, job_columns, to_ms};
use super::{Context, Store, StoreError, StoreResult, schedules};
use crate::domain::{
    ApiGeneration, ApplianceOverview, Job, JobState, PollOutcome, PollRecord, VersionInfo,
};

#[derive(Debug, FromRow)]
struct AsOfRow {
    name: String,
    url: String,
    tags: String,
    time_zone: String,
    grace_secs: i64,
    generation: Option<String>,
    version: Option<String>,
    build: Option<String>,
    product: Option<String>,
    last_job_id: Option<i64>,
    last_finished_job_id: Option<i64>,
    last_good_job_id: Option<i64>,
    running_job_id: Option<i64>,
    last_scheduled_start_ms: Option<i64>,
    schedule: Option<String>,
    first_schedule: Option<String>,
    schedule_changed_ms: Option<i64>,
    first_observed_ms: Option<i64>,
    poll_ms: Option<i64>,
    poll_duration_ms: Option<i64>,
    poll_outcome: Option<String>,
    poll_message: Option<String>,
    last_ok_poll_ms: Option<i64>,
}

/// Each lookup walks one appliance's rows of one index newest first from `t` and stops at
/// the first match, so the cost follows the fleet, not its history.
const AS_OF_SELECT: &str = "
SELECT a.name, a.url, a.tags, a.time_zone, a.grace_secs, a.generation, a.version, a.build,
  a.product,
  (SELECT id FROM jobs WHERE appliance_id = a.id AND start_ms <= ?1
    ORDER BY start_ms DESC, id DESC LIMIT 1) AS last_job_id,
  (SELECT id FROM jobs WHERE appliance_id = a.id AND start_ms <= ?1
     AND state IN ('succeeded', 'failed', 'canceled') AND COALESCE(end_ms, start_ms) <= ?1
    ORDER BY start_ms DESC, id DESC LIMIT 1) AS last_finished_job_id,
  (SELECT id FROM jobs WHERE appliance_id = a.id AND start_ms <= ?1
     AND state = 'succeeded' AND COALESCE(end_ms, start_ms) <= ?1
    ORDER BY start_ms DESC, id DESC LIMIT 1) AS last_good_job_id,
  (SELECT id FROM jobs WHERE appliance_id = a.id AND start_ms <= ?1
     AND (end_ms > ?1 OR (end_ms IS NULL AND state IN ('running', 'pending')))
    ORDER BY start_ms DESC, id DESC LIMIT 1) AS running_job_id,
  (SELECT start_ms FROM jobs WHERE appliance_id = a.id AND start_ms <= ?1
     AND job_type <> 'manual'
    ORDER BY start_ms DESC LIMIT 1) AS last_scheduled_start_ms,
  (SELECT schedule FROM schedule_changes WHERE appliance_id = a.id AND observed_ms <= ?1
    ORDER BY observed_ms DESC, id DESC LIMIT 1) AS schedule,
  (SELECT schedule FROM schedule_changes WHERE appliance_id = a.id
    ORDER BY observed_ms, id LIMIT 1) AS first_schedule,
  (SELECT observed_ms FROM schedule_changes WHERE appliance_id = a.id AND observed_ms <= ?1
    ORDER BY observed_ms DESC, id DESC LIMIT 1 OFFSET 0) AS schedule_changed_ms,
  (SELECT MIN(observed_ms) FROM schedule_changes WHERE appliance_id = a.id)
    AS first_observed_ms,
  p.started_ms AS poll_ms, p.duration_ms AS poll_duration_ms, p.outcome AS poll_outcome,
  p.message AS poll_message,
  (SELECT MAX(started_ms) FROM polls WHERE appliance_id = a.id AND started_ms <= ?1
     AND outcome = 'ok') AS last_ok_poll_ms
FROM appliances AS a
LEFT JOIN polls AS p ON p.id = (
  SELECT id FROM polls WHERE appliance_id = a.id AND started_ms <= ?1
  ORDER BY started_ms DESC, id DESC LIMIT 1)
WHERE a.configured = 1
ORDER BY a.name";

impl Store {
    /// Every configured appliance as it stood at `at`, by name. See the module rules.
    pub async fn fleet_overview_as_of(
        &self,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<ApplianceOverview>> {
        let at_ms = to_ms(at);
        let rows: Vec<AsOfRow> = sqlx::query_as(AS_OF_SELECT)
            .bind(at_ms)
            .fetch_all(&self.reader)
            .await
            .context("reading the fleet at a past moment")?;

        let ids: Vec<i64> = rows
            .iter()
            .flat_map(|r| {
                [
                    r.last_job_id,
                    r.last_finished_job_id,
                    r.last_good_job_id,
                    r.running_job_id,
                ]
            })
            .flatten()
            .collect();
        let jobs = self.jobs_by_row_id(&ids).await?;

        rows.into_iter()
            .map(|row| row.into_overview(&jobs, at))
            .collect()
    }

    async fn jobs_by_row_id(&self, ids: &[i64]) -> StoreResult<HashMap<i64, Job>> {
        let mut jobs = HashMap::new();
        for chunk in ids.chunks(500) {
            let mut query = sqlx::QueryBuilder::<sqlx::Sqlite>::new(concat!(
                "SELECT ",
                job_columns!(),
                " FROM jobs AS j JOIN appliances AS a ON a.id = j.appliance_id \
                  WHERE j.id IN ("
            ));
            let mut list = query.separated(", ");
            for id in chunk {
                list.push_bind(*id);
            }
            query.push(")");
            let rows: Vec<JobRow> = query
                .build_query_as()
                .persistent(false)
                .fetch_all(&self.reader)
                .await
                .context("reading the jobs of a past moment")?;
            for row in rows {
                jobs.insert(row.id, row.into_job()?);
            }
        }
        Ok(jobs)
    }
}

impl AsOfRow {
    fn into_overview(
        self,
        jobs: &HashMap<i64, Job>,
        at: DateTime<Utc>,
    ) -> StoreResult<ApplianceOverview> {
        let pick = |id: Option<i64>| id.and_then(|id| jobs.get(&id).cloned());
        // A job still going at `at` is shown as it was then: running, progress unknown.
        let as_then = |job: Job| -> Job {
            if job.end_time.is_some_and(|end| end > at) {
                Job {
                    state: JobState::Running,
                    progress: None,
                    end_time: None,
                    duration_secs: None,
                    size_bytes: None,
                    messages: Vec::new(),
                    ..job
                }
            } else {
                job
            }
        };

        let tags = serde_json::from_str(&self.tags).map_err(|e| StoreError::Corrupt {
            what: "appliance tags",
            detail: e.to_string(),
        })?;
        let time_zone = Tz::from_str(&self.time_zone).map_err(|_| StoreError::Corrupt {
            what: "appliance time zone",
            detail: format!("{:?} is not a known zone", self.time_zone),
        })?;
        let schedule_text = self.schedule.as_ref().or(self.first_schedule.as_ref());
        let schedule = schedule_text.map(|t| schedules::decode(t)).transpose()?;

        let last_job = pick(self.last_job_id).map(as_then);
        let known_before =
            self.first_observed_ms.is_some_and(|ms| ms <= to_ms(at)) || last_job.is_some();
        let last_poll = match (self.poll_ms, self.poll_outcome.as_deref()) {
            (Some(ms), Some(word)) => Some(PollRecord {
                at: from_ms("poll time", ms)?,
                duration_ms: self.poll_duration_ms.unwrap_or(0),
                outcome: decode_outcome(word)?,
                message: self.poll_message,
            }),
            // The poll log was pruned, or the history came from the job list: the
            // appliance answered for that history, so it counts as reachable then.
            _ if known_before => Some(PollRecord {
                at,
                duration_ms: 0,
                outcome: PollOutcome::Ok,
                message: None,
            }),
            _ => None,
        };
        let last_ok_poll_at = match self.last_ok_poll_ms {
            Some(ms) => Some(from_ms("poll time", ms)?),
            None => last_poll
                .as_ref()
                .filter(|p| p.outcome.is_ok())
                .map(|p| p.at),
        };
        let schedule_changed_at = match (self.schedule_changed_ms, self.first_observed_ms) {
            (Some(changed), Some(first)) if changed > first => {
                Some(from_ms("schedule change time", changed)?)
            }
            _ => None,
        };

        Ok(ApplianceOverview {
            name: self.name,
            url: self.url,
            tags,
            time_zone,
            grace_secs: self.grace_secs,
            generation: self
                .generation
                .as_deref()
                .and_then(ApiGeneration::from_stored),
            version: self.version.map(|version| VersionInfo {
                version,
                build: self.build.unwrap_or_default(),
                product: self.product,
            }),
            schedule,
            schedule_changed_at,
            last_poll,
            last_ok_poll_at,
            last_job,
            last_finished_job: pick(self.last_finished_job_id),
            last_good_job: pick(self.last_good_job_id),
            running_job: pick(self.running_job_id).map(as_then),
            last_scheduled_start: self
                .last_scheduled_start_ms
                .map(|ms| from_ms("last scheduled start", ms))
                .transpose()?,
        })
    }
}
