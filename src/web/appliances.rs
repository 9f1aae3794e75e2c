//! The appliance page and its paged jobs table.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::Deserialize;

use super::AppState;
use super::error::WebError;
use super::htmx::HxRequest;
use crate::domain::text::bounded;
use crate::store::{JobPage, StoredJob};
use crate::views::appliance::{self, ApplianceFacts, AppliancePage, JobsFragment, Pager, SeenJob};
use crate::views::common::Sighting;
use crate::views::silence;

/// Jobs shown per page.
const JOBS_PER_PAGE: u32 = 25;
/// Highest page number accepted; beyond it the offset would not fit the store's type.
const MAX_PAGE: u32 = 100_000;
/// Recent polls shown under poll health.
const RECENT_POLLS: u32 = 15;
/// Schedule changes shown in the history.
const SCHEDULE_HISTORY: u32 = 20;

/// `?page=N`; anything that is not a positive number reads as the first page.
#[derive(Debug, Default, Deserialize)]
pub struct JobsQuery {
    /// Page number, 1-based.
    pub page: Option<String>,
}

impl JobsQuery {
    fn page(&self) -> u32 {
        self.page
            .as_deref()
            .and_then(|p| p.trim().parse::<u32>().ok())
            .unwrap_or(1)
            .clamp(1, MAX_PAGE)
    }
}

/// `GET /appliances/{name}`: the appliance page with the newest jobs.
pub async fn show(
    State(state): State<AppState>,
    name: Result<Path<String>, PathRejection>,
) -> Result<AppliancePage, WebError> {
    let Path(name) = name?;
    load_page(&state, &name, 1).await
}

/// `GET /appliances/{name}/jobs?page=N`: the whole page at job page N, or only the jobs
/// table when htmx asks for it while paging.
pub async fn jobs(
    State(state): State<AppState>,
    hx: HxRequest,
    name: Result<Path<String>, PathRejection>,
    query: Result<Query<JobsQuery>, QueryRejection>,
) -> Result<Response, WebError> {
    let Path(name) = name?;
    let page = query?.page();

    let mut response = if hx.wants_fragment() {
        load_jobs(&state, &name, page).await?.into_response()
    } else {
        load_page(&state, &name, page).await?.into_response()
    };

    // The same address answers with a page or a fragment; caches must keep them apart.
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("HX-Request"));
    Ok(response)
}

async fn load_page(state: &AppState, name: &str, page: u32) -> Result<AppliancePage, WebError> {
    let store = &state.store;
    let (overview, polls, history) = tokio::try_join!(
        store.appliance_overview(name),
        store.recent_polls(name, RECENT_POLLS),
        store.schedule_history(name, SCHEDULE_HISTORY),
    )
    .map_err(WebError::internal)?;
    let overview = overview.ok_or_else(|| unknown_appliance(name))?;
    let jobs = load_jobs(state, name, page).await?;

    let history: Vec<_> = history
        .into_iter()
        .map(|change| (change.observed_at, change.schedule))
        .collect();
    let now = Utc::now();
    let zone = state.settings.display_zone;
    let status = overview.verdict(now).status;
    let silence = silence::silence_of(&overview, status, &state.silencer(), now);

    let facts = ApplianceFacts {
        overview: &overview,
        polls: &polls,
        history: &history,
    };
    Ok(appliance::page(facts, jobs, now, zone).silenced(silence.as_ref(), now, zone))
}

async fn load_jobs(state: &AppState, name: &str, page: u32) -> Result<JobsFragment, WebError> {
    let fetch = |page: u32| {
        let request = JobPage {
            offset: (page - 1).saturating_mul(JOBS_PER_PAGE),
            limit: JOBS_PER_PAGE,
        };
        state.store.list_jobs(name, request)
    };
    let (mut stored, total) = fetch(page).await.map_err(WebError::internal)?;
    if total == 0 && page == 1 && !appliance_exists(state, name).await? {
        return Err(unknown_appliance(name));
    }

    // A page past the end (an old link, a hand-typed number) shows the last page.
    let last_page = u32::try_from(total.div_ceil(u64::from(JOBS_PER_PAGE))).unwrap_or(u32::MAX);
    let page = if page > last_page && last_page > 0 {
        stored = fetch(last_page).await.map_err(WebError::internal)?.0;
        last_page
    } else {
        page
    };

    let seen: Vec<SeenJob<'_>> = stored.iter().map(seen_job).collect();
    let pager = Pager::new(name, page, JOBS_PER_PAGE, seen.len(), total);
    Ok(appliance::jobs_fragment(
        name,
        &seen,
        pager,
        Utc::now(),
        state.settings.display_zone,
    ))
}

async fn appliance_exists(state: &AppState, name: &str) -> Result<bool, WebError> {
    let overview = state
        .store
        .appliance_overview(name)
        .await
        .map_err(WebError::internal)?;
    Ok(overview.is_some())
}

/// A stored job as the views take it.
pub(super) fn seen_job(stored: &StoredJob) -> SeenJob<'_> {
    SeenJob {
        job: &stored.job,
        seen: Sighting {
            first_seen_at: stored.first_seen_at,
            last_seen_at: stored.last_seen_at,
            gone_since: stored.gone_since,
        },
    }
}

/// The 404 of an appliance that is not in the configuration.
pub(super) fn unknown_appliance(name: &str) -> WebError {
    WebError::NotFound(format!(
        "No appliance named \u{201c}{}\u{201d} is configured.",
        bounded(name, 100)
    ))
}
