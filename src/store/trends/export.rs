//! The job export: jobs matching a filter, newest first.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, QueryBuilder, Sqlite};

use super::sql::push_tag_filter;
use crate::store::overview::to_ms;
use crate::store::{Context, Store, StoreResult};

/// Which jobs an export or a filtered list covers; empty fields filter nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobFilter {
    /// Jobs started at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Jobs started before this time.
    pub to: Option<DateTime<Utc>>,
    /// Only appliances with this tag (ignoring case).
    pub tag: Option<String>,
    /// Only this appliance.
    pub appliance: Option<String>,
    /// Only jobs in this state word (`failed`, `succeeded`, ...).
    pub state: Option<String>,
    /// Only jobs whose first message is exactly this.
    pub message: Option<String>,
}

/// One exported job.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct ExportRow {
    /// Configured appliance name.
    pub appliance: String,
    /// The appliance's job id.
    pub job_id: String,
    /// Stored type word.
    pub job_type: String,
    /// Stored state word.
    pub state: String,
    /// Start, unix milliseconds.
    pub start_ms: Option<i64>,
    /// End, unix milliseconds.
    pub end_ms: Option<i64>,
    /// Seconds the job ran, as reported.
    pub duration_secs: Option<i64>,
    /// Bytes written.
    pub size_bytes: Option<i64>,
    /// Backup location URL.
    pub location: Option<String>,
    /// Version that ran the job.
    pub version: Option<String>,
    /// Build that ran the job.
    pub build: Option<String>,
    /// First message of the job.
    pub message: Option<String>,
}

impl Store {
    /// Jobs matching `filter`, newest first, at most `limit`.
    pub async fn export_jobs(&self, filter: &JobFilter, limit: u32) -> StoreResult<Vec<ExportRow>> {
        let mut query = QueryBuilder::<Sqlite>::new(concat!(
            "SELECT a.name AS appliance, j.job_id, j.job_type, j.state, j.start_ms, \
                   j.end_ms, j.duration_secs, j.size_bytes, ",
            crate::store::job_texts::job_text_columns!(),
            ", json_extract(j.messages, '$[0]') AS message
             FROM jobs AS j JOIN appliances AS a ON a.id = j.appliance_id
             WHERE a.configured = 1"
        ));
        if let Some(from) = filter.from {
            query.push(" AND j.start_ms >= ").push_bind(to_ms(from));
        }
        if let Some(to) = filter.to {
            query.push(" AND j.start_ms < ").push_bind(to_ms(to));
        }
        if let Some(tag) = &filter.tag {
            push_tag_filter(&mut query, tag);
        }
        if let Some(name) = &filter.appliance {
            query.push(" AND a.name = ").push_bind(name.clone());
        }
        if let Some(state) = &filter.state {
            query.push(" AND j.state = ").push_bind(state.clone());
        }
        if let Some(message) = &filter.message {
            query
                .push(" AND COALESCE(json_extract(j.messages, '$[0]'), '') = ")
                .push_bind(message.clone());
        }
        query
            .push(" ORDER BY j.start_ms DESC, j.id DESC LIMIT ")
            .push_bind(limit);

        query
            .build_query_as()
            .persistent(false)
            .fetch_all(&self.reader)
            .await
            .context("exporting jobs")
    }
}
