//! The `polls` table, and `record_poll`, which stores everything one poll learnt.

use std::collections::HashSet;
use std::time::Instant;

use chrono::{DateTime, Utc};
use sqlx::{FromRow, SqliteConnection};

use super::appliances::{self, PollTarget};
use super::jobs::{self, ListingChange};
use super::overview::{decode_outcome, from_ms, to_ms};
use super::{Context, Store, StoreResult, schedules};
use crate::domain::{Observation, PollRecord, PollReport};

/// The most polls one call returns.
const MAX_POLL_LIMIT: u32 = 1_000;

impl Store {
    /// Stores one poll in one transaction: the poll row, the appliance's newest poll and,
    /// with an observation, its version, jobs (updated in place, never duplicated), the
    /// jobs it no longer lists (kept, marked gone) and a schedule change if there was one.
    /// A failed poll changes nothing but the poll facts, so the last data stays visible.
    pub async fn record_poll(&self, report: &PollReport) -> StoreResult<()> {
        let clock = Instant::now();
        let mut tx = self
            .writer
            .begin()
            .await
            .context("starting to record a poll")?;

        let target = appliances::poll_target(&mut tx, &report.appliance).await?;
        let started_ms = to_ms(report.started_at);
        insert_poll(&mut tx, target.id, report, started_ms).await?;
        appliances::record_last_poll(&mut tx, target.id, report, started_ms).await?;

        let listing = match &report.observation {
            Some(observation) => {
                record_observation(&mut tx, &target, observation, started_ms).await?
            }
            None => ListingChange::default(),
        };

        tx.commit().await.context("committing a poll")?;
        if let Some(observation) = &report.observation {
            let starts = observation.jobs.iter().filter_map(|job| job.start_time);
            self.daily_rates.forget_starts(starts.map(to_ms));
        }
        tracing::debug!(
            appliance.name = %report.appliance,
            outcome = report.outcome.as_str(),
            jobs = report.observation.as_ref().map_or(0, |o| o.jobs.len()),
            gone = listing.gone,
            returned = listing.returned,
            duration_ms = clock.elapsed().as_millis() as u64,
            "poll recorded"
        );
        Ok(())
    }

    /// The appliance's newest polls, newest first, at most `limit` (capped at 1,000).
    pub async fn recent_polls(&self, appliance: &str, limit: u32) -> StoreResult<Vec<PollRecord>> {
        let rows: Vec<PollRow> = sqlx::query_as(
            "SELECT p.started_ms, p.duration_ms, p.outcome, p.message
             FROM polls AS p JOIN appliances AS a ON a.id = p.appliance_id
             WHERE a.name = ?1
             ORDER BY p.started_ms DESC, p.id DESC
             LIMIT ?2",
        )
        .bind(appliance)
        .bind(limit.min(MAX_POLL_LIMIT))
        .fetch_all(&self.reader)
        .await
        .context("reading recent polls")?;

        rows.into_iter().map(PollRow::into_record).collect()
    }

    /// Deletes the poll rows that started before `before` and returns how many went. Jobs,
    /// schedules and each appliance's newest poll are kept; only the poll log shrinks.
    /// Rows go in small batches, each its own transaction, so polls being recorded at the
    /// same time wait for one short batch at most.
    pub async fn prune_polls(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        const BATCH: i64 = 2_000;
        let mut total = 0;
        loop {
            let done = sqlx::query(
                "DELETE FROM polls WHERE rowid IN
                   (SELECT rowid FROM polls WHERE started_ms < ?1 LIMIT ?2)",
            )
            .bind(to_ms(before))
            .bind(BATCH)
            .execute(&self.writer)
            .await
            .context("pruning old polls")?;
            total += done.rows_affected();
            if done.rows_affected() < BATCH as u64 {
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }
}

/// The poll's own row.
async fn insert_poll(
    conn: &mut SqliteConnection,
    appliance_id: i64,
    report: &PollReport,
    started_ms: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO polls (appliance_id, started_ms, duration_ms, outcome, message)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .bind(appliance_id)
    .bind(started_ms)
    .bind(report.duration_ms)
    .bind(report.outcome.as_str())
    .bind(report.message.as_deref())
    .execute(&mut *conn)
    .await
    .context("storing a poll")?;
    Ok(())
}

/// Everything a successful read of the appliance changes.
async fn record_observation(
    conn: &mut SqliteConnection,
    target: &PollTarget,
    observation: &Observation,
    started_ms: i64,
) -> StoreResult<ListingChange> {
    jobs::upsert_jobs(conn, target.id, &observation.jobs, started_ms).await?;

    // A job whose details came in this poll was seen even if the list left it out.
    let seen: HashSet<&str> = observation
        .listed_job_ids
        .iter()
        .map(|id| id.as_str())
        .chain(observation.jobs.iter().map(|job| job.id.as_str()))
        .collect();
    let listing =
        jobs::reconcile_listing(conn, target.id, &seen, started_ms, target.listed_at_ms).await?;

    if !observation.jobs.is_empty() || !listing.is_empty() {
        jobs::refresh_newest(conn, target.id).await?;
    }

    schedules::record_schedule(
        conn,
        target.id,
        target.schedule_change_id,
        observation.schedule.as_ref(),
        started_ms,
    )
    .await?;
    appliances::record_observed_facts(conn, target.id, observation, started_ms).await?;
    Ok(listing)
}

/// One row of `polls`.
#[derive(Debug, FromRow)]
struct PollRow {
    started_ms: i64,
    duration_ms: i64,
    outcome: String,
    message: Option<String>,
}

impl PollRow {
    fn into_record(self) -> StoreResult<PollRecord> {
        Ok(PollRecord {
            at: from_ms("poll time", self.started_ms)?,
            duration_ms: self.duration_ms,
            outcome: decode_outcome(&self.outcome)?,
            message: self.message,
        })
    }
}
