//! The appliances the history pages list, page by page, and the fleet's tags.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::{FromRow, QueryBuilder, Sqlite};

use super::sql::push_tag_filter;
use crate::store::overview::from_ms;
use crate::store::{Context, Store, StoreError, StoreResult};

/// The most appliances one page of the grid may hold.
const MAX_APPLIANCES_PER_PAGE: u32 = 200;

/// An appliance as the history pages list it.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendAppliance {
    /// Row id, used to fetch the appliance's jobs.
    pub id: i64,
    /// Configured name.
    pub name: String,
    /// Configured tags; the first one groups the grid.
    pub tags: Vec<String>,
    /// Zone the appliance's schedule fires in.
    pub time_zone: Tz,
    /// Seconds after a due time during which a run may still start.
    pub grace_secs: i64,
    /// Since when vbdash knows the appliance's history: the earlier of its first successful
    /// poll and its oldest stored job. `None` when neither exists.
    pub known_since: Option<DateTime<Utc>>,
}

#[derive(Debug, FromRow)]
struct ApplianceRow {
    id: i64,
    name: String,
    tags: String,
    time_zone: String,
    grace_secs: i64,
    first_observed_ms: Option<i64>,
    first_job_ms: Option<i64>,
}

impl ApplianceRow {
    fn into_trend(self) -> StoreResult<TrendAppliance> {
        let tags = serde_json::from_str(&self.tags).map_err(|e| StoreError::Corrupt {
            what: "appliance tags",
            detail: e.to_string(),
        })?;
        let time_zone = Tz::from_str(&self.time_zone).map_err(|_| StoreError::Corrupt {
            what: "appliance time zone",
            detail: format!("{:?} is not a known zone", self.time_zone),
        })?;
        let known_ms = match (self.first_observed_ms, self.first_job_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok(TrendAppliance {
            id: self.id,
            name: self.name,
            tags,
            time_zone,
            grace_secs: self.grace_secs,
            known_since: known_ms
                .map(|ms| from_ms("first known time", ms))
                .transpose()?,
        })
    }
}

impl Store {
    /// Every tag of a configured appliance, sorted, once each.
    pub async fn fleet_tags(&self) -> StoreResult<Vec<String>> {
        sqlx::query_scalar(
            "SELECT DISTINCT t.value FROM appliances AS a, json_each(a.tags) AS t
             WHERE a.configured = 1 ORDER BY t.value",
        )
        .fetch_all(&self.reader)
        .await
        .context("reading the fleet's tags")
    }

    /// One page of configured appliances, grouped by their first tag then by name, and
    /// how many match in all. `tag` keeps only appliances that carry it.
    pub async fn trend_appliances(
        &self,
        tag: Option<&str>,
        offset: u32,
        limit: u32,
    ) -> StoreResult<(Vec<TrendAppliance>, u64)> {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT a.id, a.name, a.tags, a.time_zone, a.grace_secs,
               (SELECT MIN(s.observed_ms) FROM schedule_changes AS s
                 WHERE s.appliance_id = a.id) AS first_observed_ms,
               (SELECT MIN(j.start_ms) FROM jobs AS j
                 WHERE j.appliance_id = a.id AND j.start_ms IS NOT NULL) AS first_job_ms
             FROM appliances AS a WHERE a.configured = 1",
        );
        if let Some(tag) = tag {
            push_tag_filter(&mut query, tag);
        }
        query
            .push(" ORDER BY COALESCE(json_extract(a.tags, '$[0]'), '') = '', ")
            .push("json_extract(a.tags, '$[0]'), a.name LIMIT ")
            .push_bind(limit.min(MAX_APPLIANCES_PER_PAGE))
            .push(" OFFSET ")
            .push_bind(offset);
        let rows: Vec<ApplianceRow> = query
            .build_query_as()
            .fetch_all(&self.reader)
            .await
            .context("reading a page of appliances")?;

        let mut count = QueryBuilder::<Sqlite>::new(
            "SELECT COUNT(*) FROM appliances AS a WHERE a.configured = 1",
        );
        if let Some(tag) = tag {
            push_tag_filter(&mut count, tag);
        }
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&self.reader)
            .await
            .context("counting appliances")?;

        let appliances = rows
            .into_iter()
            .map(ApplianceRow::into_trend)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((appliances, u64::try_from(total).unwrap_or(0)))
    }
}
