//! The grid's marks: when each job started and how it stands, and the schedule history.

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite};

use super::sql::push_appliance_ids;
use crate::domain::{JobState, Schedule};
use crate::store::overview::{from_ms, to_ms};
use crate::store::{Context, Store, StoreResult, schedules};

/// The start and state of one job, enough to colour a day.
#[derive(Debug, Clone, PartialEq)]
pub struct JobMark {
    /// Row id of the appliance.
    pub appliance_id: i64,
    /// When the job started.
    pub start: DateTime<Utc>,
    /// Where the job is or ended.
    pub state: JobState,
}

/// A schedule as first observed, for one appliance.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleMark {
    /// Row id of the appliance.
    pub appliance_id: i64,
    /// Start of the poll that first saw this state.
    pub observed_at: DateTime<Utc>,
    /// `None` when the appliance had no schedule.
    pub schedule: Option<Schedule>,
}

impl Store {
    /// Start and state of every job of the given appliances that started in
    /// `[from, to)`, oldest first. One indexed range read per appliance, in one statement.
    pub async fn job_marks(
        &self,
        appliance_ids: &[i64],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> StoreResult<Vec<JobMark>> {
        if appliance_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT j.appliance_id, j.start_ms, j.state FROM jobs AS j WHERE j.start_ms >= ",
        );
        query
            .push_bind(to_ms(from))
            .push(" AND j.start_ms < ")
            .push_bind(to_ms(to));
        push_appliance_ids(&mut query, appliance_ids);
        query.push(" ORDER BY j.start_ms");

        let rows: Vec<(i64, i64, String)> = query
            .build_query_as()
            .persistent(false)
            .fetch_all(&self.reader)
            .await
            .context("reading job starts")?;
        rows.into_iter()
            .map(|(appliance_id, start_ms, state)| {
                Ok(JobMark {
                    appliance_id,
                    start: from_ms("job start time", start_ms)?,
                    state: JobState::from_stored(&state),
                })
            })
            .collect()
    }

    /// The whole schedule history of the given appliances, oldest first.
    pub async fn schedule_marks(&self, appliance_ids: &[i64]) -> StoreResult<Vec<ScheduleMark>> {
        if appliance_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT j.appliance_id, j.observed_ms, j.schedule FROM schedule_changes AS j \
             WHERE 1 = 1",
        );
        push_appliance_ids(&mut query, appliance_ids);
        query.push(" ORDER BY j.observed_ms, j.id");

        let rows: Vec<(i64, i64, Option<String>)> = query
            .build_query_as()
            .persistent(false)
            .fetch_all(&self.reader)
            .await
            .context("reading schedule histories")?;
        rows.into_iter()
            .map(|(appliance_id, observed_ms, schedule)| {
                Ok(ScheduleMark {
                    appliance_id,
                    observed_at: from_ms("schedule change time", observed_ms)?,
                    schedule: schedule.as_deref().map(schedules::decode).transpose()?,
                })
            })
            .collect()
    }
}
