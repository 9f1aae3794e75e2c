//! How each appliance's runs went over a range of days, in one grouped read.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::overview::to_ms;
use super::{Context, Store, StoreResult};

/// One appliance's jobs that started in a range, counted by outcome.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct RunSummary {
    /// Configured appliance name.
    pub appliance: String,
    /// Jobs started in the range, whatever their state.
    pub jobs: i64,
    /// Of those, succeeded.
    pub succeeded: i64,
    /// Of those, failed.
    pub failed: i64,
    /// Of those, canceled.
    pub canceled: i64,
    /// Mean seconds of the succeeded ones; `None` when none reported a duration.
    pub mean_duration_secs: Option<f64>,
    /// Bytes written by the newest succeeded one.
    pub newest_size_bytes: Option<i64>,
}

impl Store {
    /// Per configured appliance, by name: its jobs that started in `[from, to)`. An
    /// appliance without any is listed with zeros.
    pub async fn run_summaries(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<RunSummary>> {
        sqlx::query_as(
            "SELECT a.name AS appliance,
               COUNT(j.id) AS jobs,
               COALESCE(SUM(j.state = 'succeeded'), 0) AS succeeded,
               COALESCE(SUM(j.state = 'failed'), 0) AS failed,
               COALESCE(SUM(j.state = 'canceled'), 0) AS canceled,
               AVG(CASE WHEN j.state = 'succeeded' THEN j.duration_secs END)
                 AS mean_duration_secs,
               (SELECT n.size_bytes FROM jobs AS n
                 WHERE n.appliance_id = a.id AND n.state = 'succeeded'
                   AND n.start_ms >= ?1 AND n.start_ms < ?2
                 ORDER BY n.start_ms DESC LIMIT 1) AS newest_size_bytes
             FROM appliances AS a
             LEFT JOIN jobs AS j ON j.appliance_id = a.id
               AND j.start_ms >= ?1 AND j.start_ms < ?2
             WHERE a.configured = 1
             GROUP BY a.id ORDER BY a.name",
        )
        .bind(to_ms(from))
        .bind(to_ms(to))
        .fetch_all(&self.reader)
        .await
        .context("summarising runs per appliance")
    }
}
