//! The history pages and the job export.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Offset, Utc};
use serde::Deserialize;

use super::AppState;
use super::appliances::unknown_appliance;
use super::error::WebError;
use crate::store::JobFilter;
use crate::store::history::{self, day_spans};
use crate::views::trends::{
    self, ApplianceTrendsPage, AsOfPage, CAUSE_RANGES, CausesPage, GridFacts, RANGES, ReportPage,
    TrendsFilter, TrendsPage,
};

/// Appliances per page of the grid.
const APPLIANCES_PER_PAGE: u32 = 50;
/// Days shown when the query names none.
const DEFAULT_DAYS: u32 = 90;
/// Days of failures grouped when the query names none.
const DEFAULT_CAUSE_DAYS: u32 = 7;
/// Runs before the range read for an appliance, so its first baselines and a streak that
/// began earlier are known.
// Known gap: a streak older than the range and this lead-in is counted from the lead-in.
const LEAD_IN_DAYS: i64 = 60;
/// Ranges the export accepts: those of every page.
const EXPORT_RANGES: [u32; 5] = [1, 7, 30, 90, 365];
/// Rows one export holds at most.
// Known gap: an export is built in memory and capped; a streamed export would lift the cap.
const EXPORT_LIMIT: u32 = 200_000;

/// `?days=&tag=&page=`; blank or unknown values read as the defaults.
#[derive(Debug, Default, Deserialize)]
pub struct TrendsQuery {
    /// Days shown.
    pub days: Option<String>,
    /// Tag filter.
    pub tag: Option<String>,
    /// Page of appliances.
    pub page: Option<String>,
}

impl TrendsQuery {
    fn filter(&self, allowed: &[u32], default_days: u32) -> TrendsFilter {
        TrendsFilter::from_query(
            self.days.as_deref(),
            self.tag.as_deref(),
            self.page.as_deref(),
            allowed,
            default_days,
        )
    }
}

/// `GET /trends`: the fleet's days as a grid, with the daily success rate above it.
pub async fn index(
    State(state): State<AppState>,
    query: Result<Query<TrendsQuery>, QueryRejection>,
) -> Result<TrendsPage, WebError> {
    let filter = query?.filter(&RANGES, DEFAULT_DAYS);
    let (now, zone) = (Utc::now(), state.settings.display_zone);
    let (today, from) = trends::range_of(filter.days, now, zone);
    let spans = day_spans(today, filter.days, zone);
    let to = spans.last().map_or(now, |s| s.end);
    let tag = filter.tag.as_deref();
    let store = &state.store;

    let offset = (filter.page - 1).saturating_mul(APPLIANCES_PER_PAGE);
    let (appliances, total) = store
        .trend_appliances(tag, offset, APPLIANCES_PER_PAGE)
        .await
        .map_err(WebError::internal)?;
    let ids: Vec<i64> = appliances.iter().map(|a| a.id).collect();

    // The day before the range too: a run due late on it may have started after midnight.
    let offset_secs = utc_offset_secs(now, zone);
    let (marks, schedules, rates, tags, fleet) = tokio::try_join!(
        store.job_marks(&ids, from - Duration::days(1), to),
        store.schedule_marks(&ids),
        store.daily_success(tag, from, to, offset_secs),
        store.fleet_tags(),
        store.fleet_snapshot(),
    )
    .map_err(WebError::internal)?;

    let facts = GridFacts {
        appliances: &appliances,
        total,
        per_page: APPLIANCES_PER_PAGE,
        marks: &marks,
        schedules: &schedules,
        rates: &rates,
        rate_offset_secs: offset_secs,
        tags: &tags,
        fleet: &fleet.overviews,
    };
    Ok(trends::grid_page(facts, &filter, &spans, now, zone))
}

/// Seconds `zone` is ahead of UTC at `now`: the clock the daily rates cut days in.
fn utc_offset_secs(now: chrono::DateTime<Utc>, zone: chrono_tz::Tz) -> i64 {
    i64::from(now.with_timezone(&zone).offset().fix().local_minus_utc())
}

/// Counts the fleet's daily success rate over the longest range once, in the background
/// after a start, so that the first viewer of the trends page does not wait while a year
/// of jobs is read. The days stay remembered by the store until a write changes them.
pub async fn warm_daily_rates(store: crate::store::Store, zone: chrono_tz::Tz) {
    let started = std::time::Instant::now();
    let now = Utc::now();
    let longest = RANGES.iter().copied().max().unwrap_or(DEFAULT_DAYS);
    let (_, from) = trends::range_of(longest, now, zone);
    let offset_secs = utc_offset_secs(now, zone);

    match store.daily_success(None, from, now, offset_secs).await {
        Ok(days) => tracing::info!(
            days = days.len(),
            duration_ms = started.elapsed().as_millis() as u64,
            "daily success rates counted"
        ),
        Err(e) => tracing::warn!(error = %e, "could not count the daily success rates"),
    }
}

/// `GET /appliances/{name}/trends`: one appliance's runs over time.
pub async fn appliance(
    State(state): State<AppState>,
    name: Result<Path<String>, PathRejection>,
    query: Result<Query<TrendsQuery>, QueryRejection>,
) -> Result<ApplianceTrendsPage, WebError> {
    let Path(name) = name?;
    let filter = query?.filter(&RANGES, DEFAULT_DAYS);
    let (now, zone) = (Utc::now(), state.settings.display_zone);
    let (_, from) = trends::range_of(filter.days, now, zone);

    let (overview, runs) = tokio::try_join!(
        state.store.appliance_overview(&name),
        state
            .store
            .run_history(&name, from - Duration::days(LEAD_IN_DAYS)),
    )
    .map_err(WebError::internal)?;
    let overview = overview.ok_or_else(|| unknown_appliance(&name))?;

    Ok(trends::appliance_page(
        &overview, &runs, &filter, from, now, zone,
    ))
}

/// `GET /trends/causes`: failures grouped by message and by backup target.
pub async fn causes(
    State(state): State<AppState>,
    query: Result<Query<TrendsQuery>, QueryRejection>,
) -> Result<CausesPage, WebError> {
    let filter = query?.filter(&CAUSE_RANGES, DEFAULT_CAUSE_DAYS);
    let now = Utc::now();
    let from = now - Duration::days(i64::from(filter.days));

    let (causes, tags) = tokio::try_join!(
        state.store.failure_causes(filter.tag.as_deref(), from),
        state.store.fleet_tags(),
    )
    .map_err(WebError::internal)?;

    Ok(trends::causes_page(
        &causes,
        &filter,
        &tags,
        now,
        state.settings.display_zone,
    ))
}

/// The export's query: the page filters plus an appliance, a state and a message.
#[derive(Debug, Default, Deserialize)]
pub struct ExportQuery {
    /// Days back from now.
    pub days: Option<String>,
    /// Tag filter.
    pub tag: Option<String>,
    /// One appliance.
    pub appliance: Option<String>,
    /// One state word.
    pub state: Option<String>,
    /// One first message, exactly.
    pub message: Option<String>,
}

/// `GET /trends/export.csv`: the job history with the filters of the pages.
pub async fn export(
    State(state): State<AppState>,
    query: Result<Query<ExportQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    let Query(q) = query?;
    let filter = TrendsFilter::from_query(
        q.days.as_deref(),
        q.tag.as_deref(),
        None,
        &EXPORT_RANGES,
        DEFAULT_DAYS,
    );
    let present = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
    let now = Utc::now();
    let jobs = JobFilter {
        from: Some(now - Duration::days(i64::from(filter.days))),
        to: None,
        tag: filter.tag.clone(),
        appliance: present(q.appliance),
        state: present(q.state),
        message: q.message.filter(|m| !m.is_empty()),
    };

    let rows = state
        .store
        .export_jobs(&jobs, EXPORT_LIMIT)
        .await
        .map_err(WebError::internal)?;
    let body = crate::views::export::jobs_csv(&rows).map_err(WebError::internal)?;

    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"vbdash-jobs.csv\""),
    );
    Ok(response)
}

/// `?at=2026-11-20T10:00` in the display zone, or RFC 3339.
#[derive(Debug, Default, Deserialize)]
pub struct AsOfQuery {
    /// The moment; a week ago when absent.
    pub at: Option<String>,
}

/// `GET /trends/as-of`: the fleet page as it stood at a past moment.
pub async fn as_of(
    State(state): State<AppState>,
    query: Result<Query<AsOfQuery>, QueryRejection>,
) -> Result<AsOfPage, WebError> {
    let Query(q) = query?;
    let (now, zone) = (Utc::now(), state.settings.display_zone);
    let at = match q.at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => now - Duration::days(7),
        Some(raw) => trends::parse_moment(raw, zone, now).ok_or_else(|| {
            WebError::BadRequest(
                "The moment is not a date and time; write it like 2026-11-20T10:00.".into(),
            )
        })?,
    };

    let fleet = state
        .store
        .fleet_overview_as_of(at)
        .await
        .map_err(WebError::internal)?;
    Ok(trends::as_of_page(&fleet, at, zone))
}

/// `?tag=&month=2026-11`; the current month when absent.
#[derive(Debug, Default, Deserialize)]
pub struct ReportQuery {
    /// Tag reported on; every appliance when absent.
    pub tag: Option<String>,
    /// Month as `YYYY-MM`.
    pub month: Option<String>,
}

/// `GET /trends/report`: the printable monthly report of one tag.
pub async fn report(
    State(state): State<AppState>,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<ReportPage, WebError> {
    let Query(q) = query?;
    let tag = q.tag.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let (now, zone) = (Utc::now(), state.settings.display_zone);
    let today = now.with_timezone(&zone).date_naive();
    let first = trends::parse_month(q.month.as_deref(), today).map_err(WebError::BadRequest)?;
    let days = trends::month_days(first, today);
    let spans = day_spans(first + Duration::days(i64::from(days) - 1), days, zone);
    let (Some(from), Some(to)) = (spans.first().map(|s| s.start), spans.last().map(|s| s.end))
    else {
        return Err(WebError::BadRequest("The month has no days.".into()));
    };

    // Every appliance of the tag, a page at a time, each page with one read of its jobs.
    let mut lines = Vec::new();
    let mut offset = 0;
    loop {
        let (appliances, total) = state
            .store
            .trend_appliances(tag, offset, REPORT_PAGE)
            .await
            .map_err(WebError::internal)?;
        let ids: Vec<i64> = appliances.iter().map(|a| a.id).collect();
        let (marks, schedules) = tokio::try_join!(
            state.store.job_marks(&ids, from - Duration::days(1), to),
            state.store.schedule_marks(&ids),
        )
        .map_err(WebError::internal)?;

        for appliance in appliances {
            let marks: Vec<_> = marks
                .iter()
                .filter(|m| m.appliance_id == appliance.id)
                .collect();
            let schedules: Vec<_> = schedules
                .iter()
                .filter(|s| s.appliance_id == appliance.id)
                .collect();
            let summary = history::summarise_range(&appliance, &schedules, &marks, &spans, now);
            lines.push((appliance, summary));
        }

        offset += REPORT_PAGE;
        if u64::from(offset) >= total {
            break;
        }
    }
    lines.sort_by(|(a, _), (b, _)| a.name.cmp(&b.name));

    let tags = state.store.fleet_tags().await.map_err(WebError::internal)?;
    Ok(trends::report_page(
        &lines, tag, &tags, first, today, now, zone,
    ))
}

/// Appliances read per step of the report.
const REPORT_PAGE: u32 = 200;
