//! One appliance's runs over a range, as the charts and baselines take them.

use chrono::{DateTime, Utc};

use crate::domain::{JobState, JobType};
use crate::store::overview::{from_ms, to_ms};
use crate::store::{Context, Store, StoreResult};

/// One run of an appliance, as the charts and baselines take it.
#[derive(Debug, Clone, PartialEq)]
pub struct RunPoint {
    /// The appliance's job id.
    pub job_id: String,
    /// Scheduled, manual, or the appliance's word.
    pub job_type: JobType,
    /// Where the job is or ended.
    pub state: JobState,
    /// When it started.
    pub start: DateTime<Utc>,
    /// Seconds it ran: as reported, else end minus start.
    pub duration_secs: Option<i64>,
    /// Bytes written.
    pub size_bytes: Option<i64>,
    /// Percent done when it ended (or so far).
    pub progress: Option<i64>,
    /// The first message the appliance gave, if any.
    pub message: Option<String>,
    /// Build that ran the job.
    pub build: Option<String>,
}

impl Store {
    /// The appliance's runs that started at or after `from`, oldest first.
    pub async fn run_history(
        &self,
        appliance: &str,
        from: DateTime<Utc>,
    ) -> StoreResult<Vec<RunPoint>> {
        type Row = (
            String,
            String,
            String,
            i64,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            Option<String>,
            Option<String>,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT j.job_id, j.job_type, j.state, j.start_ms,
               COALESCE(j.duration_secs, (j.end_ms - j.start_ms) / 1000),
               j.size_bytes, j.progress, json_extract(j.messages, '$[0]'),
               (SELECT t.text FROM job_texts AS t WHERE t.id = j.build_text)
             FROM jobs AS j JOIN appliances AS a ON a.id = j.appliance_id
             WHERE a.name = ?1 AND j.start_ms >= ?2
             ORDER BY j.start_ms, j.id",
        )
        .bind(appliance)
        .bind(to_ms(from))
        .fetch_all(&self.reader)
        .await
        .context("reading an appliance's runs")?;

        rows.into_iter()
            .map(|row| {
                let (job_id, job_type, state, start_ms, duration, size, progress, message, build) =
                    row;
                Ok(RunPoint {
                    job_id,
                    job_type: JobType::from_stored(&job_type),
                    state: JobState::from_stored(&state),
                    start: from_ms("job start time", start_ms)?,
                    duration_secs: duration,
                    size_bytes: size,
                    progress,
                    message,
                    build,
                })
            })
            .collect()
    }
}
