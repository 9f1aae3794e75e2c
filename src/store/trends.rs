//! Queries behind the history pages: appliances page by page, their jobs over a time range,
//! the fleet's daily success rate, failure causes, the job export and job retention.
//!
//! Every range query reads jobs by start time through an index, so the cost follows the
//! range and the page asked for, never the whole history.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::{FromRow, QueryBuilder, Sqlite};

use super::daily_rates::{self, DayCount, DayKey};
use super::overview::{from_ms, to_ms};
use super::{Context, Store, StoreError, StoreResult, schedules};
use crate::domain::schedule::location_host;
use crate::domain::{JobState, JobType, Schedule};

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// The most appliances one page of the grid may hold.
const MAX_APPLIANCES_PER_PAGE: u32 = 200;

/// The most cause groups returned per grouping.
const MAX_CAUSES: i64 = 50;

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

/// How one day went for the whole fleet (or one tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyRate {
    /// Days since the epoch in the shifted clock the query was asked with.
    pub day: i64,
    /// Appliances with at least one finished job that day.
    pub appliances: i64,
    /// Of those, appliances with at least one succeeded job that day.
    pub succeeded: i64,
}

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

/// Appends the condition "appliance `a` has tag `tag`", ignoring case.
fn push_tag_filter(query: &mut QueryBuilder<Sqlite>, tag: &str) {
    query
        .push(" AND EXISTS (SELECT 1 FROM json_each(a.tags) AS t WHERE lower(t.value) = lower(")
        .push_bind(tag.to_owned())
        .push("))");
}

/// Appends ` AND j.appliance_id IN (...)`.
fn push_appliance_ids(query: &mut QueryBuilder<Sqlite>, ids: &[i64]) {
    query.push(" AND j.appliance_id IN (");
    let mut list = query.separated(", ");
    for id in ids {
        list.push_bind(*id);
    }
    query.push(")");
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

    /// Per day in `[from, to)`: appliances with a finished job and those among them with a
    /// succeeded one. Days are cut at midnight of a clock `offset_secs` ahead of UTC.
    /// Whole days already counted are taken from memory; the rest are counted in as few
    /// range reads as there are runs of uncounted days.
    // Known gap: one fixed offset is used for the whole range, so in a zone with daylight
    // saving time the days on one side of a switch are cut an hour off.
    pub async fn daily_success(
        &self,
        tag: Option<&str>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        offset_secs: i64,
    ) -> StoreResult<Vec<DailyRate>> {
        let offset_ms = offset_secs * 1_000;
        let (from_ms, to_ms) = (to_ms(from), to_ms(to));
        if to_ms <= from_ms {
            return Ok(Vec::new());
        }
        let generation = self.daily_rates.generation();
        let key = |day| DayKey {
            tag: tag.map(str::to_owned),
            offset_ms,
            day,
        };

        let mut rates = Vec::new();
        let mut counted = Vec::new();
        let mut missing: Option<(i64, i64)> = None;
        let last_day = daily_rates::day_of(to_ms - 1, offset_ms);
        for day in daily_rates::day_of(from_ms, offset_ms)..=last_day {
            let (day_from, day_until) = daily_rates::bounds_of(day, offset_ms);
            let whole = day_from >= from_ms && day_until <= to_ms;
            let known = if whole {
                self.daily_rates.get(&key(day))
            } else {
                None
            };
            match known {
                Some(count) => {
                    if let Some((a, b)) = missing.take() {
                        let read = self.count_daily_success(tag, a, b, offset_ms).await?;
                        counted.push((a, b, read));
                    }
                    rates.push(rate_of(day, count));
                }
                None => {
                    let span = (day_from.max(from_ms), day_until.min(to_ms));
                    missing = Some(missing.map_or(span, |(a, _)| (a, span.1)));
                }
            }
        }
        if let Some((a, b)) = missing {
            let read = self.count_daily_success(tag, a, b, offset_ms).await?;
            counted.push((a, b, read));
        }

        let mut keep = Vec::new();
        for (a, b, read) in counted {
            let mut by_day: std::collections::HashMap<i64, DayCount> = read
                .iter()
                .map(|r| (r.day, (r.appliances, r.succeeded)))
                .collect();
            for day in daily_rates::day_of(a, offset_ms)..=daily_rates::day_of(b - 1, offset_ms) {
                let (day_from, day_until) = daily_rates::bounds_of(day, offset_ms);
                let count = by_day.remove(&day).unwrap_or((0, 0));
                if day_from >= from_ms && day_until <= to_ms {
                    keep.push((key(day), count));
                }
            }
            rates.extend(read);
        }
        self.daily_rates.keep(generation, keep);

        rates.retain(|rate| rate.appliances > 0);
        rates.sort_by_key(|rate| rate.day);
        Ok(rates)
    }

    /// Counts [`Store::daily_success`] for `[from_ms, to_ms)` from the jobs themselves.
    async fn count_daily_success(
        &self,
        tag: Option<&str>,
        from_ms: i64,
        to_ms: i64,
        offset_ms: i64,
    ) -> StoreResult<Vec<DailyRate>> {
        let mut query = QueryBuilder::<Sqlite>::new(
            "SELECT day, COUNT(*), SUM(ok) FROM (
               SELECT j.appliance_id, (j.start_ms + ",
        );
        query
            .push_bind(offset_ms)
            .push(") / ")
            .push(DAY_MS.to_string())
            .push(
                " AS day, MAX(j.state = 'succeeded') AS ok
                 FROM jobs AS j JOIN appliances AS a ON a.id = j.appliance_id
                 WHERE a.configured = 1 AND j.state IN ('succeeded', 'failed', 'canceled')
                   AND j.start_ms >= ",
            )
            .push_bind(from_ms)
            .push(" AND j.start_ms < ")
            .push_bind(to_ms);
        if let Some(tag) = tag {
            push_tag_filter(&mut query, tag);
        }
        query.push(" GROUP BY j.appliance_id, day) GROUP BY day ORDER BY day");

        let rows: Vec<(i64, i64, i64)> = query
            .build_query_as()
            .persistent(false)
            .fetch_all(&self.reader)
            .await
            .context("reading the daily success rate")?;
        Ok(rows
            .into_iter()
            .map(|(day, appliances, succeeded)| rate_of(day, (appliances, succeeded)))
            .collect())
    }

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

    /// Jobs matching `filter`, newest first, at most `limit`.
    pub async fn export_jobs(&self, filter: &JobFilter, limit: u32) -> StoreResult<Vec<ExportRow>> {
        let mut query = QueryBuilder::<Sqlite>::new(concat!(
            "SELECT a.name AS appliance, j.job_id, j.job_type, j.state, j.start_ms, \
                   j.end_ms, j.duration_secs, j.size_bytes, ",
            super::job_texts::job_text_columns!(),
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

fn rate_of(day: i64, (appliances, succeeded): DayCount) -> DailyRate {
    DailyRate {
        day,
        appliances,
        succeeded,
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
