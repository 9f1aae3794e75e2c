//! Cancelling a running job. The appliance's answer is shown as it came; the job's state
//! in vbdash changes only when a later poll sees the job end.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::backup::appliance_href;
use super::{Audit, client_of};
use crate::domain::JobId;
use crate::domain::text::bounded;
use crate::views::actions::{OutcomePage, Tone};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::WebError;

/// The audit word of a cancel.
pub const ACTION_CANCEL: &str = "backup.cancel";

/// `POST /appliances/{name}/jobs/{job_id}/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, WebError> {
    let Path((name, raw_id)) = path?;
    let id = JobId::parse(&raw_id).ok_or_else(|| {
        WebError::BadRequest(format!(
            "\u{201c}{}\u{201d} is not a job id.",
            bounded(&raw_id, 80)
        ))
    })?;
    let client = client_of(&state.actions, &name)?;

    let audit = Audit {
        user: &user,
        appliance: Some(&name),
        action: ACTION_CANCEL,
        detail: format!("job {id}"),
        reason: None,
    };
    let job_href = format!("{}/jobs/{id}", appliance_href(&name));

    let (status, verdict, tone, summary, messages) = match client.cancel_job(&id).await {
        Ok(result) => {
            let accepted = result.status == "OK";
            let summary = if accepted {
                format!(
                    "{name} accepted the request to cancel job {id}. The job page shows the \
                     job as canceled once a poll sees it end."
                )
            } else {
                format!("{name} did not accept the request to cancel job {id}.")
            };
            let outcome = format!("{}: {}", result.status, result.messages.join("; "));
            audit.record(&state.store, accepted, &outcome).await?;
            let tone = if accepted { Tone::Good } else { Tone::Bad };
            (
                StatusCode::OK,
                result.status,
                tone,
                summary,
                result.messages,
            )
        }
        Err(err) => {
            let summary = format!("{name} did not take the cancel request for job {id}: {err}.");
            audit.record(&state.store, false, &summary).await?;
            let verdict = "Refused".to_owned();
            (
                StatusCode::BAD_GATEWAY,
                verdict,
                Tone::Bad,
                summary,
                Vec::new(),
            )
        }
    };

    let page = OutcomePage {
        appliance_href: appliance_href(&name),
        appliance: name,
        title: format!("Cancel job {id}"),
        verdict,
        tone,
        summary,
        messages,
        next: Some((job_href, "Back to the job".to_owned())),
    };
    Ok((status, page).into_response())
}
