//! The `jobs` table: every backup job ever seen, updated in place, never deleted.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

use super::job_texts;
use super::overview::{JobRow, job_columns};
use super::{Context, Store, StoreResult};
use crate::domain::{Job, JobId};

/// Jobs per multi-row statement: 19 values each stays far below SQLite's variable limit,
/// and one statement of many rows is much faster than as many single-row ones.
const JOBS_PER_INSERT: usize = 400;

/// Job ids per `IN (...)` list.
const IDS_PER_UPDATE: usize = 500;

/// The most jobs one page may ask for.
const MAX_PAGE_LIMIT: u32 = 1_000;

/// A job with the times vbdash saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredJob {
    /// The job as last stored.
    pub job: Job,
    /// Start of the poll that first stored the job.
    pub first_seen_at: DateTime<Utc>,
    /// The last poll whose job list included the job.
    pub last_seen_at: DateTime<Utc>,
    /// Since when the appliance no longer lists the job; `None` while it does.
    pub gone_since: Option<DateTime<Utc>>,
}

/// Which slice of an appliance's jobs to read, newest first. A limit above 1,000 reads
/// 1,000.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobPage {
    /// Jobs to skip, counted from the newest.
    pub offset: u32,
    /// Jobs to return at most.
    pub limit: u32,
}

/// How the appliance's job list compared with the stored one.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct ListingChange {
    /// Jobs no longer listed, now marked gone.
    pub gone: u64,
    /// Jobs listed again after being marked gone.
    pub returned: u64,
}

impl ListingChange {
    pub(super) fn is_empty(self) -> bool {
        self.gone == 0 && self.returned == 0
    }
}

/// Inserts or updates `jobs` in place, keyed by (appliance, job id). A job seen again is
/// no longer gone; a fact the appliance stopped sending keeps its last known value.
pub(super) async fn upsert_jobs(
    conn: &mut SqliteConnection,
    appliance_id: i64,
    jobs: &[Job],
    seen_ms: i64,
) -> StoreResult<()> {
    if jobs.is_empty() {
        return Ok(());
    }
    let texts = job_texts::intern_texts(conn, jobs).await?;

    for chunk in jobs.chunks(JOBS_PER_INSERT) {
        let mut insert = QueryBuilder::<Sqlite>::new(
            "INSERT INTO jobs (appliance_id, job_id, job_type, state, progress, start_ms, \
             end_ms, duration_secs, size_bytes, location_folder, location_leaf, user_text, \
             messages, progress_message, version_text, build_text, cancelable, \
             first_seen_ms, last_seen_ms) ",
        );
        insert.push_values(chunk, |mut row, job| {
            let (folder, leaf) = match job.location.as_deref().map(job_texts::split_location) {
                Some((folder, leaf)) => (texts.of(folder), Some(leaf.to_owned())),
                None => (None, None),
            };
            row.push_bind(appliance_id)
                .push_bind(job.id.as_str().to_owned())
                .push_bind(job.job_type.as_str().to_owned())
                .push_bind(job.state.as_str().to_owned())
                .push_bind(job.progress)
                .push_bind(job.start_time.map(super::overview::to_ms))
                .push_bind(job.end_time.map(super::overview::to_ms))
                .push_bind(job.duration_secs)
                .push_bind(job.size_bytes)
                .push_bind(folder)
                .push_bind(leaf)
                .push_bind(texts.of(job.user.as_deref()))
                .push_bind(encode_messages(&job.messages))
                .push_bind(job.progress_message.clone())
                .push_bind(texts.of(job.version.as_deref()))
                .push_bind(texts.of(job.build.as_deref()))
                .push_bind(job.cancelable)
                .push_bind(seen_ms)
                .push_bind(seen_ms);
        });
        insert.push(
            " ON CONFLICT (appliance_id, job_id) DO UPDATE SET \
               job_type = excluded.job_type, \
               state = excluded.state, \
               progress = COALESCE(excluded.progress, progress), \
               start_ms = COALESCE(excluded.start_ms, start_ms), \
               end_ms = COALESCE(excluded.end_ms, end_ms), \
               duration_secs = COALESCE(excluded.duration_secs, duration_secs), \
               size_bytes = COALESCE(excluded.size_bytes, size_bytes), \
               location_folder = CASE WHEN excluded.location_leaf IS NULL \
                 THEN location_folder ELSE excluded.location_folder END, \
               location_leaf = COALESCE(excluded.location_leaf, location_leaf), \
               user_text = COALESCE(excluded.user_text, user_text), \
               messages = COALESCE(excluded.messages, messages), \
               progress_message = COALESCE(excluded.progress_message, progress_message), \
               version_text = COALESCE(excluded.version_text, version_text), \
               build_text = COALESCE(excluded.build_text, build_text), \
               cancelable = COALESCE(excluded.cancelable, cancelable), \
               last_seen_ms = MAX(last_seen_ms, excluded.last_seen_ms), \
               gone_since_ms = NULL",
        );

        insert
            .build()
            .persistent(false)
            .execute(&mut *conn)
            .await
            .context("storing jobs")?;
    }
    Ok(())
}

/// The messages as one compact JSON text, or `None` when there are none.
fn encode_messages(messages: &[String]) -> Option<String> {
    if messages.is_empty() {
        return None;
    }
    // Serialising a list of strings has no failure case; `ok()` only satisfies the type.
    serde_json::to_string(messages).ok()
}

/// Compares the appliance's job list with the jobs stored as listed: a stored job missing
/// from `seen` is marked gone since `now_ms` (its last sighting was the previous list, at
/// `previous_list_ms`), and a gone job listed again is listed once more.
pub(super) async fn reconcile_listing(
    conn: &mut SqliteConnection,
    appliance_id: i64,
    seen: &HashSet<&str>,
    now_ms: i64,
    previous_list_ms: Option<i64>,
) -> StoreResult<ListingChange> {
    let listed: Vec<String> = sqlx::query_scalar(
        "SELECT job_id FROM jobs WHERE appliance_id = ?1 AND gone_since_ms IS NULL",
    )
    .bind(appliance_id)
    .fetch_all(&mut *conn)
    .await
    .context("reading the listed jobs")?;
    let listed: HashSet<&str> = listed.iter().map(String::as_str).collect();

    let gone: Vec<&str> = listed.difference(seen).copied().collect();
    let maybe_returned: Vec<&str> = seen.difference(&listed).copied().collect();
    let mut change = ListingChange::default();

    for chunk in gone.chunks(IDS_PER_UPDATE) {
        let mut update = QueryBuilder::<Sqlite>::new("UPDATE jobs SET gone_since_ms = ");
        update
            .push_bind(now_ms)
            .push(", last_seen_ms = MAX(last_seen_ms, COALESCE(")
            .push_bind(previous_list_ms)
            .push(", last_seen_ms)) WHERE gone_since_ms IS NULL AND appliance_id = ")
            .push_bind(appliance_id);
        push_id_list(&mut update, chunk);
        let done = update.build().persistent(false).execute(&mut *conn).await;
        change.gone += done.context("marking jobs as gone")?.rows_affected();
    }

    // Ids listed without details in this poll and never stored match no row here.
    for chunk in maybe_returned.chunks(IDS_PER_UPDATE) {
        let mut update = QueryBuilder::<Sqlite>::new(
            "UPDATE jobs SET gone_since_ms = NULL WHERE gone_since_ms IS NOT NULL \
             AND appliance_id = ",
        );
        update.push_bind(appliance_id);
        push_id_list(&mut update, chunk);
        let done = update.build().persistent(false).execute(&mut *conn).await;
        change.returned += done
            .context("marking jobs as listed again")?
            .rows_affected();
    }

    Ok(change)
}

/// Appends ` AND job_id IN (?, ?, ...)` with every id bound.
fn push_id_list(query: &mut QueryBuilder<Sqlite>, ids: &[&str]) {
    query.push(" AND job_id IN (");
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(id.to_string());
    }
    query.push(")");
}

/// Points the appliance row at its newest jobs again after its jobs changed. Each
/// subquery walks the appliance's jobs newest first and stops at the first match.
pub(super) async fn refresh_newest(
    conn: &mut SqliteConnection,
    appliance_id: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE appliances SET
           last_job_id = (
             SELECT id FROM jobs WHERE appliance_id = ?1
             ORDER BY start_ms DESC, id DESC LIMIT 1),
           last_finished_job_id = (
             SELECT id FROM jobs WHERE appliance_id = ?1
               AND state IN ('succeeded', 'failed', 'canceled')
             ORDER BY start_ms DESC, id DESC LIMIT 1),
           last_good_job_id = (
             SELECT id FROM jobs WHERE appliance_id = ?1 AND state = 'succeeded'
             ORDER BY start_ms DESC, id DESC LIMIT 1),
           running_job_id = (
             SELECT id FROM jobs WHERE appliance_id = ?1 AND state = 'running'
               AND gone_since_ms IS NULL
             ORDER BY start_ms DESC, id DESC LIMIT 1),
           last_scheduled_start_ms = (
             SELECT start_ms FROM jobs WHERE appliance_id = ?1 AND job_type <> 'manual'
               AND start_ms IS NOT NULL
             ORDER BY start_ms DESC LIMIT 1)
         WHERE id = ?1",
    )
    .bind(appliance_id)
    .execute(&mut *conn)
    .await
    .context("updating the newest jobs of an appliance")?;
    Ok(())
}

impl Store {
    /// Ids of the finished jobs (succeeded, failed, canceled) that the appliance still
    /// lists: their details cannot change, so the poller need not fetch them again. An
    /// unknown appliance has none.
    pub async fn finished_job_ids(&self, appliance: &str) -> StoreResult<HashSet<JobId>> {
        let ids: Vec<String> = sqlx::query_scalar(
            // The appliance id is looked up first on purpose: written as a join, SQLite
            // without fresh statistics scanned every listed job of the fleet on each poll.
            "SELECT job_id FROM jobs
             WHERE appliance_id = (SELECT id FROM appliances WHERE name = ?1)
               AND gone_since_ms IS NULL
               AND state IN ('succeeded', 'failed', 'canceled')",
        )
        .bind(appliance)
        .fetch_all(&self.reader)
        .await
        .context("reading the finished jobs")?;

        // A stored id always has the safe shape; anything else is skipped, not trusted.
        Ok(ids.iter().filter_map(|id| JobId::parse(id)).collect())
    }

    /// One page of an appliance's jobs, newest start time first (jobs without a start time
    /// last), and the number of jobs in all. Gone jobs are included: history is kept.
    pub async fn list_jobs(
        &self,
        appliance: &str,
        page: JobPage,
    ) -> StoreResult<(Vec<StoredJob>, u64)> {
        let rows: Vec<JobRow> = sqlx::query_as(concat!(
            "SELECT ",
            job_columns!(),
            " FROM jobs AS j JOIN appliances AS a ON a.id = j.appliance_id \
              WHERE a.name = ?1 \
              ORDER BY j.start_ms DESC, j.id DESC \
              LIMIT ?2 OFFSET ?3"
        ))
        .bind(appliance)
        .bind(page.limit.min(MAX_PAGE_LIMIT))
        .bind(page.offset)
        .fetch_all(&self.reader)
        .await
        .context("listing jobs")?;

        let total: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM jobs AS j JOIN appliances AS a ON a.id = j.appliance_id
             WHERE a.name = ?1",
        )
        .bind(appliance)
        .fetch_one(&self.reader)
        .await
        .context("counting jobs")?;

        let jobs = rows
            .into_iter()
            .map(JobRow::into_stored)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((jobs, u64::try_from(total).unwrap_or(0)))
    }

    /// One job of an appliance, gone or not.
    pub async fn get_job(&self, appliance: &str, id: &JobId) -> StoreResult<Option<StoredJob>> {
        let row: Option<JobRow> = sqlx::query_as(concat!(
            "SELECT ",
            job_columns!(),
            " FROM jobs AS j JOIN appliances AS a ON a.id = j.appliance_id \
              WHERE a.name = ?1 AND j.job_id = ?2"
        ))
        .bind(appliance)
        .bind(id.as_str())
        .fetch_optional(&self.reader)
        .await
        .context("reading a job")?;

        row.map(JobRow::into_stored).transpose()
    }
}
