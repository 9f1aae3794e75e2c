//! Job retention: old jobs are pruned in small batches.

use chrono::{DateTime, Utc};

use crate::store::overview::to_ms;
use crate::store::{Context, Store, StoreResult};

impl Store {
    /// Deletes jobs that started before `before` and returns how many went. A job an
    /// appliance still lists, or one an appliance row points at (its newest job, newest
    /// finished, newest good or running job), is kept whatever its age, so the fleet page
    /// never loses what it shows. Rows go in small batches, each its own transaction.
    // Known gap: a job the appliance never gave a start time is kept for ever; such jobs
    // are pending ones and few.
    pub async fn prune_jobs(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        const BATCH: i64 = 1_000;
        let mut total = 0;
        loop {
            let done = sqlx::query(
                "DELETE FROM jobs WHERE id IN (
                   SELECT j.id FROM jobs AS j
                   WHERE j.start_ms < ?1 AND j.gone_since_ms IS NOT NULL
                     AND NOT EXISTS (
                       SELECT 1 FROM appliances AS a WHERE a.id = j.appliance_id
                         AND j.id IN (a.last_job_id, a.last_finished_job_id,
                                      a.last_good_job_id, a.running_job_id))
                   LIMIT ?2)",
            )
            .bind(to_ms(before))
            .bind(BATCH)
            .execute(&self.writer)
            .await
            .context("pruning old jobs")?;
            total += done.rows_affected();
            if done.rows_affected() < BATCH as u64 {
                self.daily_rates.forget_before(to_ms(before));
                return Ok(total);
            }
            tokio::task::yield_now().await;
        }
    }
}
