//! Failures grouped by shared cause: by first message and by backup target host.

use chrono::{DateTime, Utc};
use sqlx::{FromRow, QueryBuilder, Sqlite};

use super::sql::push_tag_filter;
use crate::domain::schedule::location_host;
use crate::store::overview::{from_ms, to_ms};
use crate::store::{Context, Store, StoreResult};

/// The most cause groups returned per grouping.
const MAX_CAUSES: i64 = 50;

/// Failures that share a cause, fleet-wide.
#[derive(Debug, Clone, PartialEq)]
pub struct CauseGroup {
    /// The shared cause: a message, or a backup target host.
    pub cause: String,
    /// Appliances that failed this way.
    pub appliances: Vec<String>,
    /// Failed jobs in all.
    pub failures: i64,
    /// The oldest and newest failure in the range.
    pub first: DateTime<Utc>,
    /// The newest failure in the range.
    pub last: DateTime<Utc>,
    /// The newest failed job: its appliance and job id.
    pub newest: (String, String),
}

/// Failures grouped two ways.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FailureCauses {
    /// By the first message of the job, most appliances first.
    pub by_message: Vec<CauseGroup>,
    /// By the host of the backup location, most appliances first.
    pub by_host: Vec<CauseGroup>,
}

impl Store {
    /// Failed jobs since `from`, grouped by their first message and by the host of their
    /// backup location, the causes hitting the most appliances first.
    pub async fn failure_causes(
        &self,
        tag: Option<&str>,
        from: DateTime<Utc>,
    ) -> StoreResult<FailureCauses> {
        // Grouped by (cause, appliance) in SQL so the rows follow the appliances that fail,
        // not the failures; the appliances of a cause are then folded together here.
        let by_message = self
            .grouped_failures(tag, from, "COALESCE(json_extract(j.messages, '$[0]'), '')")
            .await?;
        let by_location = self
            // The folder alone names the host; the leaf matters only without a folder.
            .grouped_failures(
                tag,
                from,
                "COALESCE((SELECT t.text FROM job_texts AS t WHERE t.id = j.location_folder), \
                 j.location_leaf, '')",
            )
            .await?;

        // Locations differ by path; what fails together is the host.
        let by_host = by_location
            .into_iter()
            .map(|mut row| {
                row.cause = location_host(&row.cause).unwrap_or_default();
                row
            })
            .collect();

        Ok(FailureCauses {
            by_message: fold_causes(by_message, "no message given"),
            by_host: fold_causes(by_host, "no location given"),
        })
    }

    async fn grouped_failures(
        &self,
        tag: Option<&str>,
        from: DateTime<Utc>,
        cause_sql: &'static str,
    ) -> StoreResult<Vec<CauseRow>> {
        let mut query = QueryBuilder::<Sqlite>::new("SELECT ");
        query
            .push(cause_sql)
            .push(
                " AS cause, a.name AS appliance, COUNT(*) AS failures,
                   MIN(j.start_ms) AS first_ms, MAX(j.start_ms) AS last_ms, j.job_id AS newest
                 FROM jobs AS j JOIN appliances AS a ON a.id = j.appliance_id
                 WHERE a.configured = 1 AND j.state = 'failed' AND j.start_ms >= ",
            )
            .push_bind(to_ms(from));
        if let Some(tag) = tag {
            push_tag_filter(&mut query, tag);
        }
        // SQLite takes the bare column `j.job_id` from the row holding MAX(start_ms).
        query.push(" GROUP BY cause, j.appliance_id");
        query
            .build_query_as()
            .persistent(false)
            .fetch_all(&self.reader)
            .await
            .context("grouping failures")
    }
}

/// Failures of one appliance for one cause.
#[derive(Debug, FromRow)]
struct CauseRow {
    cause: String,
    appliance: String,
    failures: i64,
    first_ms: i64,
    last_ms: i64,
    newest: String,
}

/// Folds (cause, appliance) rows into one group per cause, most appliances first.
fn fold_causes(rows: Vec<CauseRow>, blank: &str) -> Vec<CauseGroup> {
    let mut groups: Vec<CauseGroup> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = std::collections::HashMap::new();

    for row in rows {
        let cause = if row.cause.trim().is_empty() {
            blank.to_owned()
        } else {
            row.cause
        };
        let (Ok(first), Ok(last)) = (
            from_ms("failure time", row.first_ms),
            from_ms("failure time", row.last_ms),
        ) else {
            continue;
        };
        match index.get(&cause) {
            Some(&at) => {
                let group = &mut groups[at];
                group.appliances.push(row.appliance.clone());
                group.failures += row.failures;
                group.first = group.first.min(first);
                if last > group.last {
                    group.last = last;
                    group.newest = (row.appliance, row.newest);
                }
            }
            None => {
                index.insert(cause.clone(), groups.len());
                groups.push(CauseGroup {
                    cause,
                    appliances: vec![row.appliance.clone()],
                    failures: row.failures,
                    first,
                    last,
                    newest: (row.appliance, row.newest),
                });
            }
        }
    }

    for group in &mut groups {
        group.appliances.sort();
        group.appliances.dedup();
    }
    groups.sort_by(|a, b| {
        b.appliances
            .len()
            .cmp(&a.appliances.len())
            .then(b.failures.cmp(&a.failures))
            .then(b.last.cmp(&a.last))
    });
    groups.truncate(MAX_CAUSES as usize);
    groups
}
