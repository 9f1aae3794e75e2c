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
use crate::vcenter::VcError;
use crate::views::actions::{OutcomePage, Tone};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::WebError;

/// The audit word of a cancel.
pub const ACTION_CANCEL: &str = "backup.cancel";

/// What came of a cancel request.
pub(crate) struct CancelOutcome {
    /// The appliance took the request and accepted it.
    pub accepted: bool,
    /// The appliance answered at all; `false` when it could not be reached or refused.
    pub answered: bool,
    /// The appliance said it has no job of that id.
    pub unknown_job: bool,
    /// The appliance's status word, or "Refused" when it did not answer.
    pub verdict: String,
    /// What happened, in words.
    pub summary: String,
    /// The appliance's own messages.
    pub messages: Vec<String>,
}

/// `POST /appliances/{name}/jobs/{job_id}/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    user: CurrentUser,
    path: Result<Path<(String, String)>, PathRejection>,
) -> Result<Response, WebError> {
    let Path((name, raw_id)) = path?;
    let id = parse_job_id(&raw_id)?;
    let outcome = request_cancel(&state, &user, &name, &id).await?;

    let (status, tone) = match (outcome.answered, outcome.accepted) {
        (true, true) => (StatusCode::OK, Tone::Good),
        (true, false) => (StatusCode::OK, Tone::Bad),
        (false, _) => (StatusCode::BAD_GATEWAY, Tone::Bad),
    };
    let job_href = format!("{}/jobs/{id}", appliance_href(&name));
    let page = OutcomePage {
        appliance_href: appliance_href(&name),
        appliance: name,
        title: format!("Cancel job {id}"),
        verdict: outcome.verdict,
        tone,
        summary: outcome.summary,
        messages: outcome.messages,
        next: Some((job_href, "Back to the job".to_owned())),
    };
    Ok((status, page).into_response())
}

/// A job id from an address, or a 400 that quotes it.
pub(crate) fn parse_job_id(raw: &str) -> Result<JobId, WebError> {
    JobId::parse(raw).ok_or_else(|| {
        WebError::BadRequest(format!(
            "\u{201c}{}\u{201d} is not a job id.",
            bounded(raw, 80)
        ))
    })
}

/// Asks appliance `name` to cancel job `id` and writes the audit line with `user` as the
/// actor, however it ends. An appliance vbdash does not manage is a 404.
pub(crate) async fn request_cancel(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
    id: &JobId,
) -> Result<CancelOutcome, WebError> {
    let client = client_of(&state.actions, name)?;
    let audit = Audit {
        user,
        appliance: Some(name),
        action: ACTION_CANCEL,
        detail: format!("job {id}"),
        reason: None,
    };

    match client.cancel_job(id).await {
        Ok(result) => {
            let accepted = result.status == "OK";
            let summary = if accepted {
                format!(
                    "{name} accepted the request to cancel job {id}. Appliances report a \
                     cancelled job as failed, with a message saying it was cancelled; the job \
                     page shows that once a poll sees the job end."
                )
            } else {
                format!("{name} did not accept the request to cancel job {id}.")
            };
            let outcome = format!("{}: {}", result.status, result.messages.join("; "));
            audit.record(&state.store, accepted, &outcome).await?;
            Ok(CancelOutcome {
                accepted,
                answered: true,
                unknown_job: false,
                verdict: result.status,
                summary,
                messages: result.messages,
            })
        }
        Err(err) => {
            let summary = format!("{name} did not take the cancel request for job {id}: {err}.");
            audit.record(&state.store, false, &summary).await?;
            let unknown_job =
                matches!(&err, VcError::Appliance(fault) if fault.error_type == "NOT_FOUND");
            Ok(CancelOutcome {
                accepted: false,
                answered: false,
                unknown_job,
                verdict: "Refused".to_owned(),
                summary,
                messages: Vec::new(),
            })
        }
    }
}
