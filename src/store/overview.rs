//! Stored rows mapped to domain types, and the per-appliance overview built from them.
//!
//! The overview of the whole fleet takes two queries whatever the fleet's size: one for the
//! appliance rows (with their current schedule) and one for every job those rows point to.

use std::collections::HashMap;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use futures::TryStreamExt;
use sqlx::FromRow;

use super::jobs::StoredJob;
use super::{Context, Store, StoreError, StoreResult, schedules};
use crate::domain::{
    ApiGeneration, ApplianceOverview, Job, JobId, JobState, JobType, PollOutcome, PollRecord,
    VersionInfo,
};

/// The columns of a job row, read from `jobs AS j` joined with `appliances AS a`.
///
/// A job the appliance still lists was last seen at the appliance's newest job list, which
/// is kept on the appliance row instead of being written to every listed job on every poll.
macro_rules! job_columns {
    () => {
        concat!(
            "j.id, j.job_id, j.job_type, j.state, j.progress, j.start_ms, j.end_ms, \
             j.duration_secs, j.size_bytes, j.messages, j.progress_message, j.cancelable, \
             j.first_seen_ms, j.gone_since_ms, ",
            $crate::store::job_texts::job_text_columns!(),
            ", CASE WHEN j.gone_since_ms IS NULL \
                  THEN MAX(j.last_seen_ms, COALESCE(a.listed_at_ms, 0)) \
                  ELSE j.last_seen_ms END AS last_seen_ms"
        )
    };
}
pub(super) use job_columns;

/// Unix milliseconds as stored.
pub(super) fn to_ms(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// A stored time read back; out-of-range values mean a damaged file.
pub(super) fn from_ms(what: &'static str, ms: i64) -> StoreResult<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt {
        what,
        detail: format!("{ms} is not a time"),
    })
}

fn opt_from_ms(what: &'static str, ms: Option<i64>) -> StoreResult<Option<DateTime<Utc>>> {
    ms.map(|ms| from_ms(what, ms)).transpose()
}

/// One row of `jobs`, as selected by [`job_columns`].
#[derive(Debug, FromRow)]
pub(super) struct JobRow {
    pub id: i64,
    job_id: String,
    job_type: String,
    state: String,
    progress: Option<i64>,
    start_ms: Option<i64>,
    end_ms: Option<i64>,
    duration_secs: Option<i64>,
    size_bytes: Option<i64>,
    location: Option<String>,
    user_name: Option<String>,
    messages: Option<String>,
    progress_message: Option<String>,
    version: Option<String>,
    build: Option<String>,
    cancelable: Option<bool>,
    first_seen_ms: i64,
    gone_since_ms: Option<i64>,
    last_seen_ms: i64,
}

impl JobRow {
    /// Start of the job as stored, unix milliseconds: the sort key of job lists.
    pub(super) fn start_ms(&self) -> Option<i64> {
        self.start_ms
    }

    /// The job with its bookkeeping times.
    pub(super) fn into_stored(self) -> StoreResult<StoredJob> {
        let first_seen_at = from_ms("job first-seen time", self.first_seen_ms)?;
        let last_seen_at = from_ms("job last-seen time", self.last_seen_ms)?;
        let gone_since = opt_from_ms("job gone-since time", self.gone_since_ms)?;
        Ok(StoredJob {
            job: self.into_job()?,
            first_seen_at,
            last_seen_at,
            gone_since,
        })
    }

    /// The job as the domain knows it.
    pub(super) fn into_job(self) -> StoreResult<Job> {
        let id = JobId::parse(&self.job_id).ok_or_else(|| StoreError::Corrupt {
            what: "job id",
            detail: "not of the appliance's id shape".to_owned(),
        })?;
        let messages = match self.messages.as_deref() {
            None => Vec::new(),
            Some(text) => serde_json::from_str(text).map_err(|e| StoreError::Corrupt {
                what: "job messages",
                detail: e.to_string(),
            })?,
        };

        Ok(Job {
            id,
            job_type: JobType::from_stored(&self.job_type),
            state: JobState::from_stored(&self.state),
            progress: self.progress,
            start_time: opt_from_ms("job start time", self.start_ms)?,
            end_time: opt_from_ms("job end time", self.end_ms)?,
            duration_secs: self.duration_secs,
            size_bytes: self.size_bytes,
            location: self.location,
            user: self.user_name,
            messages,
            progress_message: self.progress_message,
            version: self.version,
            build: self.build,
            cancelable: self.cancelable,
        })
    }
}

/// One row of `appliances` with its current schedule, as [`APPLIANCE_COLUMNS`] selects it.
#[derive(Debug, FromRow)]
struct ApplianceRow {
    name: String,
    url: String,
    tags: String,
    time_zone: String,
    grace_secs: i64,
    generation: Option<String>,
    version: Option<String>,
    build: Option<String>,
    product: Option<String>,
    last_poll_ms: Option<i64>,
    last_poll_duration_ms: Option<i64>,
    last_poll_outcome: Option<String>,
    last_poll_message: Option<String>,
    last_ok_poll_ms: Option<i64>,
    last_job_id: Option<i64>,
    last_finished_job_id: Option<i64>,
    last_good_job_id: Option<i64>,
    running_job_id: Option<i64>,
    last_scheduled_start_ms: Option<i64>,
    schedule_changed_ms: Option<i64>,
    schedule: Option<String>,
}

macro_rules! appliance_select {
    () => {
        "SELECT a.name, a.url, a.tags, a.time_zone, a.grace_secs, a.generation, a.version, \
                a.build, a.product, a.last_poll_ms, a.last_poll_duration_ms, \
                a.last_poll_outcome, a.last_poll_message, a.last_ok_poll_ms, a.last_job_id, \
                a.last_finished_job_id, a.last_good_job_id, a.running_job_id, \
                a.last_scheduled_start_ms, a.schedule_changed_ms, s.schedule \
         FROM appliances AS a \
         LEFT JOIN schedule_changes AS s ON s.id = a.schedule_change_id "
    };
}

impl ApplianceRow {
    /// The row ids of the jobs the appliance points at.
    fn job_ids(&self) -> [Option<i64>; 4] {
        [
            self.last_job_id,
            self.last_finished_job_id,
            self.last_good_job_id,
            self.running_job_id,
        ]
    }

    /// The overview, taking the pointed-to jobs from `pick` (given a row id).
    fn into_overview(
        self,
        mut pick: impl FnMut(Option<i64>) -> Option<Job>,
    ) -> StoreResult<ApplianceOverview> {
        let tags = serde_json::from_str(&self.tags).map_err(|e| StoreError::Corrupt {
            what: "appliance tags",
            detail: e.to_string(),
        })?;
        let time_zone = Tz::from_str(&self.time_zone).map_err(|_| StoreError::Corrupt {
            what: "appliance time zone",
            detail: format!("{:?} is not a known zone", self.time_zone),
        })?;
        let version = self.version.map(|version| VersionInfo {
            version,
            build: self.build.unwrap_or_default(),
            product: self.product,
        });
        let schedule = match self.schedule.as_deref() {
            Some(text) => Some(schedules::decode(text)?),
            None => None,
        };
        let last_poll = match (self.last_poll_ms, self.last_poll_outcome.as_deref()) {
            (Some(at), Some(word)) => Some(PollRecord {
                at: from_ms("last poll time", at)?,
                duration_ms: self.last_poll_duration_ms.unwrap_or(0),
                outcome: decode_outcome(word)?,
                message: self.last_poll_message,
            }),
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
            version,
            schedule,
            schedule_changed_at: opt_from_ms("schedule change time", self.schedule_changed_ms)?,
            last_poll,
            last_ok_poll_at: opt_from_ms("last good poll time", self.last_ok_poll_ms)?,
            last_job: pick(self.last_job_id),
            last_finished_job: pick(self.last_finished_job_id),
            last_good_job: pick(self.last_good_job_id),
            running_job: pick(self.running_job_id),
            last_scheduled_start: opt_from_ms(
                "last scheduled start",
                self.last_scheduled_start_ms,
            )?,
        })
    }
}

/// A poll outcome word read back.
pub(super) fn decode_outcome(word: &str) -> StoreResult<PollOutcome> {
    PollOutcome::from_stored(word).ok_or_else(|| StoreError::Corrupt {
        what: "poll outcome",
        detail: format!("unknown word {word:?}"),
    })
}

/// Jobs keyed by row id, each with the number of appliance pointers still to serve.
#[derive(Default)]
struct JobPool {
    jobs: HashMap<i64, Job>,
    uses: HashMap<i64, u32>,
}

impl JobPool {
    /// The job with row id `id`: a copy while other pointers still need it, the job itself
    /// for the last one.
    fn take(&mut self, id: Option<i64>) -> Option<Job> {
        let id = id?;
        let uses = self.uses.get_mut(&id)?;
        *uses = uses.saturating_sub(1);
        if *uses > 0 {
            self.jobs.get(&id).cloned()
        } else {
            self.jobs.remove(&id)
        }
    }
}

/// Jobs keyed by row id.
fn index_jobs(rows: Vec<JobRow>) -> StoreResult<HashMap<i64, Job>> {
    rows.into_iter()
        .map(|row| Ok((row.id, row.into_job()?)))
        .collect()
}

impl Store {
    /// Every configured appliance with its newest poll, jobs and schedule, by name.
    pub async fn fleet_overview(&self) -> StoreResult<Vec<ApplianceOverview>> {
        // At thousands of appliances every copy counts: rows become values as they stream
        // in, and each job goes to the last appliance row that points at it instead of
        // being copied from a table kept until the end.
        let mut rows = Vec::new();
        let mut appliance_rows = sqlx::query_as::<_, ApplianceRow>(concat!(
            appliance_select!(),
            "WHERE a.configured = 1 ORDER BY a.name"
        ))
        .fetch(&self.reader);
        while let Some(row) = appliance_rows
            .try_next()
            .await
            .context("reading the appliances of the overview")?
        {
            rows.push(row);
        }
        drop(appliance_rows);

        let mut pool = JobPool::default();
        for id in rows.iter().flat_map(ApplianceRow::job_ids).flatten() {
            *pool.uses.entry(id).or_default() += 1;
        }
        // One lookup by row id per pointer, so the cost follows the fleet, not its history.
        let mut job_rows = sqlx::query_as::<_, JobRow>(concat!(
            "SELECT ",
            job_columns!(),
            " FROM jobs AS j JOIN appliances AS a ON a.id = j.appliance_id \
              WHERE j.id IN ( \
                SELECT last_job_id FROM appliances WHERE configured = 1 \
                UNION SELECT last_finished_job_id FROM appliances WHERE configured = 1 \
                UNION SELECT last_good_job_id FROM appliances WHERE configured = 1 \
                UNION SELECT running_job_id FROM appliances WHERE configured = 1)"
        ))
        .fetch(&self.reader);
        while let Some(row) = job_rows
            .try_next()
            .await
            .context("reading the jobs of the overview")?
        {
            pool.jobs.insert(row.id, row.into_job()?);
        }
        drop(job_rows);

        rows.into_iter()
            .map(|row| row.into_overview(|id| pool.take(id)))
            .collect()
    }

    /// One configured appliance's overview; `None` for a name that is not configured.
    pub async fn appliance_overview(&self, name: &str) -> StoreResult<Option<ApplianceOverview>> {
        let row: Option<ApplianceRow> = sqlx::query_as(concat!(
            appliance_select!(),
            "WHERE a.configured = 1 AND a.name = ?1"
        ))
        .bind(name)
        .fetch_optional(&self.reader)
        .await
        .context("reading an appliance")?;
        let Some(row) = row else {
            return Ok(None);
        };

        let jobs: Vec<JobRow> = sqlx::query_as(concat!(
            "SELECT ",
            job_columns!(),
            " FROM jobs AS j JOIN appliances AS a ON a.id = j.appliance_id \
              WHERE j.id IN (?1, ?2, ?3, ?4)"
        ))
        .bind(row.last_job_id)
        .bind(row.last_finished_job_id)
        .bind(row.last_good_job_id)
        .bind(row.running_job_id)
        .fetch_all(&self.reader)
        .await
        .context("reading the jobs of an appliance")?;

        let jobs = index_jobs(jobs)?;
        row.into_overview(|id| id.and_then(|id| jobs.get(&id).cloned()))
            .map(Some)
    }
}
