//! The page of one job.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use chrono::Utc;

use super::AppState;
use super::appliances::{seen_job, unknown_appliance};
use super::error::WebError;
use crate::domain::JobId;
use crate::domain::text::bounded;
use crate::views::job::JobPage;

/// `GET /appliances/{name}/jobs/{job_id}`: every field and message of one job.
pub async fn show(
    State(state): State<AppState>,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<JobPage, WebError> {
    let Path((name, raw_id)) = path?;
    let id = JobId::parse(&raw_id).ok_or_else(|| {
        WebError::BadRequest(format!(
            "\u{201c}{}\u{201d} is not a job id: ids are 1 to {} letters, digits, \
             dashes, underscores or dots.",
            bounded(&raw_id, 80),
            JobId::MAX_LEN
        ))
    })?;

    let store = &state.store;
    let Some(stored) = store
        .get_job(&name, &id)
        .await
        .map_err(WebError::internal)?
    else {
        let known = store
            .appliance_overview(&name)
            .await
            .map_err(WebError::internal)?
            .is_some();
        return Err(if known {
            WebError::NotFound(format!(
                "Appliance {} has no job {id}.",
                bounded(&name, 100)
            ))
        } else {
            unknown_appliance(&name)
        });
    };

    let seen = seen_job(&stored);
    let finished = stored.job.state.is_finished();
    let page = JobPage::new(
        &name,
        seen.job,
        seen.seen,
        Utc::now(),
        state.settings.display_zone,
    );
    Ok(page.live(finished, state.settings.refresh_secs))
}
