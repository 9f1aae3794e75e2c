//! The fleet's daily success rate, kept in memory for whole days already counted.

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, Sqlite};

use super::sql::push_tag_filter;
use crate::store::daily_rates::{self, DayCount, DayKey};
use crate::store::overview::to_ms;
use crate::store::{Context, Store, StoreResult};

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

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

impl Store {
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
}

fn rate_of(day: i64, (appliances, succeeded): DayCount) -> DailyRate {
    DailyRate {
        day,
        appliances,
        succeeded,
    }
}
