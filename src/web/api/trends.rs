//! `GET /api/v1/trends`: the fleet's daily success rate and each appliance's runs over
//! the last N days.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::query;
use crate::store::{DailyRate, RunSummary};
use crate::web::AppState;

/// Days covered when the query names none.
const DEFAULT_DAYS: u32 = 30;
/// The most days one answer covers.
const MAX_DAYS: u32 = 366;

/// How far back to look.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendsQuery {
    /// Days covered, 1 to 366, today (UTC) included; 30 when not given.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 366)]
    pub days: Option<String>,
}

/// The fleet's days and each appliance's runs over the range.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrendsAnswer {
    /// First day covered (UTC).
    pub from: NaiveDate,
    /// Last day covered (UTC): today.
    pub to: NaiveDate,
    /// One entry per day, oldest first, days without finished jobs included.
    pub daily: Vec<DayJson>,
    /// One entry per appliance, by name.
    pub appliances: Vec<ApplianceRunsJson>,
}

/// How one day went for the whole fleet.
#[derive(Debug, Serialize, ToSchema)]
pub struct DayJson {
    /// The day (UTC).
    pub day: NaiveDate,
    /// Appliances with at least one finished job that started that day.
    pub appliances_with_runs: i64,
    /// Of those, appliances with at least one succeeded job.
    pub appliances_succeeded: i64,
    /// `appliances_succeeded / appliances_with_runs`, 0 to 1; `null` on a day without
    /// finished jobs.
    pub success_rate: Option<f64>,
}

/// One appliance's jobs started in the range.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApplianceRunsJson {
    /// Configured appliance name.
    pub appliance: String,
    /// Jobs started, whatever their state.
    pub jobs: i64,
    /// Of those, succeeded.
    pub succeeded: i64,
    /// Of those, failed.
    pub failed: i64,
    /// Of those, canceled.
    pub canceled: i64,
    /// Succeeded out of finished, 0 to 1; `null` without finished jobs.
    pub success_rate: Option<f64>,
    /// Mean seconds of the succeeded jobs.
    pub mean_duration_secs: Option<f64>,
    /// Bytes written by the newest succeeded job.
    pub newest_size_bytes: Option<i64>,
}

/// The fleet's daily success rate and a summary per appliance over the last N days.
#[utoipa::path(
    get,
    path = "/api/v1/trends",
    tag = "trends",
    params(TrendsQuery),
    responses(
        (status = 200, description = "Days and appliances", body = TrendsAnswer),
        (status = 400, description = "`days` is wrong", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    query: Result<Query<TrendsQuery>, QueryRejection>,
) -> Result<Json<TrendsAnswer>, ApiError> {
    let Query(query) = query.map_err(query::rejected)?;
    let days = query::number("days", &query.days, 1, MAX_DAYS, DEFAULT_DAYS)?;

    let today = Utc::now().date_naive();
    let first = today - Duration::days(i64::from(days) - 1);
    let from = midnight(first);
    let to = midnight(today) + Duration::days(1);
    let (rates, summaries) = tokio::try_join!(
        state.store.daily_success(None, from, to, 0),
        state.store.run_summaries(from, to),
    )
    .map_err(ApiError::internal)?;

    Ok(Json(TrendsAnswer {
        from: first,
        to: today,
        daily: daily(first, days, &rates),
        appliances: summaries.into_iter().map(appliance_runs).collect(),
    }))
}

fn midnight(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(chrono::NaiveTime::MIN).and_utc()
}

/// Every day of the range, with the store's rates where there were runs.
fn daily(first: NaiveDate, days: u32, rates: &[DailyRate]) -> Vec<DayJson> {
    (0..i64::from(days))
        .map(|offset| {
            let day = first + Duration::days(offset);
            let epoch_day = midnight(day).timestamp().div_euclid(86_400);
            let rate = rates.iter().find(|r| r.day == epoch_day);
            let (with_runs, succeeded) = rate.map_or((0, 0), |r| (r.appliances, r.succeeded));
            DayJson {
                day,
                appliances_with_runs: with_runs,
                appliances_succeeded: succeeded,
                success_rate: ratio(succeeded, with_runs),
            }
        })
        .collect()
}

fn appliance_runs(s: RunSummary) -> ApplianceRunsJson {
    ApplianceRunsJson {
        success_rate: ratio(s.succeeded, s.succeeded + s.failed + s.canceled),
        appliance: s.appliance,
        jobs: s.jobs,
        succeeded: s.succeeded,
        failed: s.failed,
        canceled: s.canceled,
        mean_duration_secs: s.mean_duration_secs,
        newest_size_bytes: s.newest_size_bytes,
    }
}

fn ratio(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_day_is_listed_and_rates_land_on_their_day() {
        let first = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let epoch_day = midnight(first).timestamp() / 86_400 + 1;
        let rates = [DailyRate {
            day: epoch_day,
            appliances: 4,
            succeeded: 3,
        }];
        let days = daily(first, 3, &rates);
        assert_eq!(days.len(), 3);
        assert_eq!(days[0].success_rate, None);
        assert_eq!(days[1].day, NaiveDate::from_ymd_opt(2026, 12, 2).unwrap());
        assert_eq!(days[1].success_rate, Some(0.75));
        assert_eq!(days[2].appliances_with_runs, 0);
    }
}
