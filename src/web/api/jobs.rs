//! Jobs: the fleet's jobs filtered and paged, one job, and cancelling one.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::appliances::unknown_appliance;
use super::auth::Caller;
use super::error::{ApiError, ErrorBody};
use super::model::JobJson;
use super::query::{self, present};
use crate::domain::JobId;
use crate::domain::text::bounded;
use crate::store::{JobSearch, MAX_SEARCH_LIMIT};
use crate::views::format::query_value;
use crate::web::AppState;
use crate::web::actions::cancel::request_cancel;

/// Jobs per page when the query names no limit.
const DEFAULT_LIMIT: u32 = 50;

/// Job states a filter may name.
const STATES: [&str; 5] = ["pending", "running", "succeeded", "failed", "canceled"];
/// Job types a filter may name.
const TYPES: [&str; 2] = ["scheduled", "manual"];

/// Filters and paging of the job list; blank values filter nothing.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct JobsQuery {
    /// Only jobs of this appliance.
    pub appliance: Option<String>,
    /// Only jobs in this state: pending, running, succeeded, failed or canceled.
    pub state: Option<String>,
    /// Only jobs of this type: scheduled or manual.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub job_type: Option<String>,
    /// Only jobs started at or after this time (RFC 3339, or a date for midnight UTC):
    /// `since` is inclusive.
    pub since: Option<String>,
    /// Only jobs started strictly before this time (RFC 3339, or a date for midnight UTC):
    /// `until` is exclusive, so `until=2026-12-02` ends with the last job of December 1.
    /// It may not lie before `since`.
    pub until: Option<String>,
    /// Jobs per page, 1 to 500; 50 when not given.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    pub limit: Option<String>,
    /// Where to go on: the `cursor` of the previous page's `next` link.
    pub cursor: Option<String>,
}

/// One page of jobs, newest start first.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobsAnswer {
    /// The jobs of this page.
    pub jobs: Vec<JobJson>,
    /// The address of the next page with the same filters; `null` on the last page.
    pub next: Option<String>,
}

/// What an accepted cancel request came to.
#[derive(Debug, Serialize, ToSchema)]
pub struct CancelAnswer {
    /// Always `true` in a 200: a request the appliance does not accept is a 409. The
    /// job's state changes only once a poll sees the job end.
    pub accepted: bool,
    /// The appliance's status word.
    pub status: String,
    /// What happened, in words.
    pub summary: String,
    /// The appliance's own messages.
    pub messages: Vec<String>,
}

/// The fleet's jobs, newest start first (jobs without a start time last), filtered and
/// paged by cursor: follow `next` until it is `null` to see every job exactly once.
#[utoipa::path(
    get,
    path = "/api/v1/jobs",
    tag = "jobs",
    params(JobsQuery),
    responses(
        (status = 200, description = "One page of jobs", body = JobsAnswer),
        (status = 400, description = "A parameter is wrong; the message names it",
            body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<JobsQuery>, QueryRejection>,
) -> Result<Json<JobsAnswer>, ApiError> {
    let Query(query) = query.map_err(query::rejected)?;
    let limit = query::number("limit", &query.limit, 1, MAX_SEARCH_LIMIT, DEFAULT_LIMIT)?;
    let (since, until) = query::time_range(&query.since, &query.until)?;
    let search = JobSearch {
        appliance: present(&query.appliance).map(str::to_owned),
        state: query::word("state", &query.state, &STATES)?,
        job_type: query::word("type", &query.job_type, &TYPES)?,
        since,
        until,
        after: query::cursor("cursor", &query.cursor)?,
        // One more than asked tells whether another page follows.
        limit: limit + 1,
    };
    if let Some(name) = &search.appliance {
        let known = state
            .store
            .appliance_overview(name)
            .await
            .map_err(ApiError::internal)?;
        if known.is_none() {
            return Err(ApiError::bad_param(
                "appliance",
                &format!("no appliance is named {}", bounded(name, 100)),
            ));
        }
    }

    let mut found = state
        .store
        .search_jobs(&search)
        .await
        .map_err(ApiError::internal)?;

    let more = found.len() > limit as usize;
    found.truncate(limit as usize);
    let next = found
        .last()
        .filter(|_| more)
        .map(|last| next_href(&query, limit, &query::encode_cursor(last.cursor)));
    let now = Utc::now();
    let jobs = found
        .iter()
        .map(|f| JobJson::new(&f.appliance, &f.stored, now))
        .collect();
    Ok(Json(JobsAnswer { jobs, next }))
}

/// The address of the page after `cursor`, with the filters of `query`.
fn next_href(query: &JobsQuery, limit: u32, cursor: &str) -> String {
    let mut pairs = Vec::new();
    let filters = [
        ("appliance", &query.appliance),
        ("state", &query.state),
        ("type", &query.job_type),
        ("since", &query.since),
        ("until", &query.until),
    ];
    for (name, value) in filters {
        if let Some(value) = present(value) {
            pairs.push(format!("{name}={}", query_value(value)));
        }
    }
    pairs.push(format!("limit={limit}"));
    pairs.push(format!("cursor={}", query_value(cursor)));
    format!("/api/v1/jobs?{}", pairs.join("&"))
}

/// One job of an appliance, gone from the appliance or not.
#[utoipa::path(
    get,
    path = "/api/v1/appliances/{name}/jobs/{job_id}",
    tag = "jobs",
    params(
        ("name" = String, Path, description = "Configured appliance name"),
        ("job_id" = String, Path, description = "The appliance's job id"),
    ),
    responses(
        (status = 200, description = "The job", body = JobJson),
        (status = 400, description = "The job id is malformed", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No such appliance or job", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<JobJson>, ApiError> {
    let Path((name, raw_id)) = path?;
    let id = job_id(&raw_id)?;

    let store = &state.store;
    let stored = store
        .get_job(&name, &id)
        .await
        .map_err(ApiError::internal)?;
    let Some(stored) = stored else {
        let known = store
            .appliance_overview(&name)
            .await
            .map_err(ApiError::internal)?;
        return Err(match known {
            Some(_) => {
                ApiError::not_found(format!("appliance {} has no job {id}", bounded(&name, 100)))
            }
            None => unknown_appliance(&name),
        });
    };
    Ok(Json(JobJson::new(&name, &stored, Utc::now())))
}

/// Asks the appliance to cancel a job. Recorded in the audit log with the token's name.
#[utoipa::path(
    post,
    path = "/api/v1/appliances/{name}/jobs/{job_id}/cancel",
    tag = "actions",
    params(
        ("name" = String, Path, description = "Configured appliance name"),
        ("job_id" = String, Path, description = "The appliance's job id"),
    ),
    responses(
        (status = 200, description = "The appliance accepted the request", body = CancelAnswer),
        (status = 400, description = "The job id is malformed", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token has only the read scope", body = ErrorBody),
        (status = 404, description = "vbdash manages no such appliance, or the appliance \
            has no job of that id", body = ErrorBody),
        (status = 409, description = "The appliance answered but did not accept the request, \
            such as for a job that is no longer running; the message says why \
            (code `conflict`)", body = ErrorBody),
        (status = 502, description = "The appliance did not take the request",
            body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Json<CancelAnswer>, ApiError> {
    let Path((name, raw_id)) = path?;
    let id = job_id(&raw_id)?;

    let outcome = request_cancel(&state, &caller.actor(), &name, &id).await?;
    if outcome.unknown_job {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            outcome.summary,
        ));
    }
    if !outcome.answered {
        return Err(ApiError::new(
            StatusCode::BAD_GATEWAY,
            "appliance_refused",
            outcome.summary,
        ));
    }
    if !outcome.accepted {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            refusal_words(&outcome.summary, &outcome.messages),
        ));
    }
    Ok(Json(CancelAnswer {
        accepted: outcome.accepted,
        status: outcome.verdict,
        summary: outcome.summary,
        messages: outcome.messages,
    }))
}

/// The summary of a refused cancel with the appliance's own reasons after it.
fn refusal_words(summary: &str, messages: &[String]) -> String {
    if messages.is_empty() {
        return summary.to_owned();
    }
    let said: Vec<String> = messages.iter().map(|m| bounded(m, 300)).collect();
    format!("{summary} The appliance said: {}", said.join("; "))
}

fn job_id(raw: &str) -> Result<JobId, ApiError> {
    JobId::parse(raw).ok_or_else(|| {
        ApiError::bad_param(
            "job_id",
            &format!(
                "\u{201c}{}\u{201d} is not a job id: 1 to {} letters, digits, '-', '_' or '.'",
                bounded(raw, 80),
                JobId::MAX_LEN
            ),
        )
    })
}
