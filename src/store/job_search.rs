//! Jobs of the whole fleet, filtered and read page by page with a cursor, for the JSON API.
//!
//! Pages are cut by keyset rather than by offset: the cursor is the sort key of the last
//! job returned, so a walk through every page sees each job exactly once even while the
//! poller adds newer jobs in front of it.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, QueryBuilder, Sqlite};

use super::jobs::StoredJob;
use super::overview::{JobRow, job_columns, to_ms};
use super::{Context, Store, StoreResult};

/// The most jobs one page may hold.
pub const MAX_SEARCH_LIMIT: u32 = 500;

/// Where the previous page ended: the sort key of its last job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobCursor {
    /// Start of that job, unix milliseconds; `None` for a job without a start time (those
    /// come after every job that has one).
    pub start_ms: Option<i64>,
    /// Its row id, which breaks ties between equal start times.
    pub row_id: i64,
}

/// Which jobs to read, newest start first. Empty fields filter nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobSearch {
    /// Only this appliance.
    pub appliance: Option<String>,
    /// Only this state word (`running`, `failed`, ...).
    pub state: Option<String>,
    /// Only this type word (`scheduled`, `manual`).
    pub job_type: Option<String>,
    /// Only jobs started at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only jobs started before this time.
    pub until: Option<DateTime<Utc>>,
    /// Continue after this job.
    pub after: Option<JobCursor>,
    /// Jobs to return at most (capped at [`MAX_SEARCH_LIMIT`]).
    pub limit: u32,
}

/// One job found, with its appliance and the cursor that continues after it.
#[derive(Debug, Clone, PartialEq)]
pub struct FoundJob {
    /// Configured appliance name.
    pub appliance: String,
    /// The job.
    pub stored: StoredJob,
    /// Where a page ending with this job ends.
    pub cursor: JobCursor,
}

#[derive(FromRow)]
struct FoundRow {
    appliance: String,
    #[sqlx(flatten)]
    job: JobRow,
}

impl Store {
    /// One page of jobs matching `search`, newest start first, jobs without a start last.
    pub async fn search_jobs(&self, search: &JobSearch) -> StoreResult<Vec<FoundJob>> {
        let mut query = QueryBuilder::<Sqlite>::new(concat!(
            "SELECT a.name AS appliance, ",
            job_columns!(),
            " FROM jobs AS j JOIN appliances AS a ON a.id = j.appliance_id \
              WHERE a.configured = 1"
        ));
        if let Some(name) = &search.appliance {
            query.push(" AND a.name = ").push_bind(name.clone());
        }
        if let Some(state) = &search.state {
            query.push(" AND j.state = ").push_bind(state.clone());
        }
        if let Some(job_type) = &search.job_type {
            query.push(" AND j.job_type = ").push_bind(job_type.clone());
        }
        if let Some(since) = search.since {
            query.push(" AND j.start_ms >= ").push_bind(to_ms(since));
        }
        if let Some(until) = search.until {
            query.push(" AND j.start_ms < ").push_bind(to_ms(until));
        }
        push_after(&mut query, search.after);
        // SQLite sorts NULL lowest, so jobs without a start time come last here.
        query
            .push(" ORDER BY j.start_ms DESC, j.id DESC LIMIT ")
            .push_bind(search.limit.min(MAX_SEARCH_LIMIT));

        let rows: Vec<FoundRow> = query
            .build_query_as()
            .persistent(false)
            .fetch_all(&self.reader)
            .await
            .context("searching jobs")?;
        rows.into_iter()
            .map(|row| {
                let cursor = JobCursor {
                    start_ms: row.job.start_ms(),
                    row_id: row.job.id,
                };
                Ok(FoundJob {
                    appliance: row.appliance,
                    stored: row.job.into_stored()?,
                    cursor,
                })
            })
            .collect()
    }
}

/// Appends the condition "sorts after `after`" in the order of [`Store::search_jobs`].
fn push_after(query: &mut QueryBuilder<Sqlite>, after: Option<JobCursor>) {
    let Some(after) = after else {
        return;
    };
    match after.start_ms {
        Some(start) => {
            query
                .push(" AND (j.start_ms < ")
                .push_bind(start)
                .push(" OR (j.start_ms = ")
                .push_bind(start)
                .push(" AND j.id < ")
                .push_bind(after.row_id)
                .push(") OR j.start_ms IS NULL)");
        }
        None => {
            query
                .push(" AND j.start_ms IS NULL AND j.id < ")
                .push_bind(after.row_id);
        }
    }
}
