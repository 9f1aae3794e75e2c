//! Starting a backup on one appliance: the form and the start itself.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

use super::Audit;
use super::form::{self, FormFields};
use crate::domain::text::bounded;
use crate::domain::{Job, JobType};
use crate::vcenter::backup::is_feature_in_use;
use crate::vcenter::{ApplianceClient, VcError};
use crate::views::actions::{
    BackupFormPage, FieldErrors, OutcomePage, PartChoice, PresetChoice, Tone, part_size_words,
};
use crate::views::format::path_segment;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::WebError;

/// The audit word of a start.
pub const ACTION_START: &str = "backup.start";

/// The address of an appliance page.
pub(crate) fn appliance_href(name: &str) -> String {
    format!("/appliances/{}", path_segment(name))
}

/// What a refused form brings back: the values typed (never a password) and the reasons.
#[derive(Default)]
pub(crate) struct Kept {
    /// Preset chosen.
    pub preset: String,
    /// Parts ticked; `None` shows the appliance's defaults.
    pub parts: Option<Vec<String>>,
    /// Comment typed.
    pub comment: String,
    /// Reasons, per field.
    pub errors: FieldErrors,
}

impl Kept {
    /// The values of `fields` with `errors`.
    pub fn from_form(fields: &FormFields, errors: FieldErrors) -> Kept {
        Kept {
            preset: fields.kept("preset"),
            parts: Some(fields.all("parts").into_iter().map(str::to_owned).collect()),
            comment: fields.kept("comment"),
            errors,
        }
    }
}

/// `GET /appliances/{name}/backup`: the form, with the presets this appliance's version
/// accepts and the parts it lists.
pub async fn form_page(
    State(state): State<AppState>,
    name: Result<Path<String>, PathRejection>,
) -> Result<BackupFormPage, WebError> {
    let Path(name) = name?;
    backup_form(&state, name, Kept::default()).await
}

/// The backup form of appliance `name`, filled with `kept`.
pub(crate) async fn backup_form(
    state: &AppState,
    name: String,
    kept: Kept,
) -> Result<BackupFormPage, WebError> {
    let overview = state
        .store
        .appliance_overview(&name)
        .await
        .map_err(WebError::internal)?
        .ok_or_else(|| crate::web::appliances::unknown_appliance(&name))?;
    let client = state.actions.client(&name);

    let version = match (overview.version, client) {
        (Some(v), _) => Some(v.version),
        (None, Some(client)) => client.version().await.ok().map(|v| v.version),
        (None, None) => None,
    };
    let (offered, hidden) = preset_choices(state, version.as_deref());
    let (mut parts, parts_problem) = part_choices(client).await;
    if let Some(ticked) = &kept.parts {
        for part in &mut parts {
            part.checked = !part.optional || ticked.contains(&part.id);
        }
    }

    Ok(BackupFormPage {
        appliance_href: appliance_href(&name),
        appliance: name,
        version,
        offered,
        hidden,
        parts,
        parts_problem,
        max_comment: form::MAX_COMMENT_CHARS,
        chosen_preset: kept.preset,
        comment: kept.comment,
        errors: kept.errors,
    })
}

fn preset_choices(
    state: &AppState,
    version: Option<&str>,
) -> (Vec<PresetChoice>, Vec<PresetChoice>) {
    state
        .actions
        .presets()
        .iter()
        .map(|p| PresetChoice {
            name: p.name.clone(),
            location: p.url.to_string(),
            location_type: p.location_type.as_wire(),
            hidden_because: p.location_type.supported_by(version).err(),
        })
        .partition(|choice| choice.hidden_because.is_none())
}

/// The parts the appliance lists, with their sizes, or why they cannot be listed.
pub(crate) async fn part_choices(
    client: Option<&Arc<ApplianceClient>>,
) -> (Vec<PartChoice>, Option<String>) {
    let Some(client) = client else {
        return (
            Vec::new(),
            Some("vbdash has no connection to this appliance".to_owned()),
        );
    };
    match list_parts(client).await {
        Ok(parts) => (parts, None),
        Err(err) => (Vec::new(), Some(err.to_string())),
    }
}

async fn list_parts(client: &ApplianceClient) -> Result<Vec<PartChoice>, VcError> {
    let parts = client.parts().await?;
    let mut choices = Vec::with_capacity(parts.len());
    for part in parts {
        // A size the appliance cannot give is not worth failing the form for.
        let size = client.part_size_mb(&part.id).await.ok();
        choices.push(PartChoice {
            size: part_size_words(size),
            checked: part.selected_by_default || !part.optional,
            optional: part.optional,
            id: part.id,
            name: part.name,
        });
    }
    Ok(choices)
}

/// `POST /appliances/{name}/backup`: checks the form, starts the backup, records the job
/// as the appliance returned it and sends the browser to the job page. Bad input shows the
/// form again with its reasons and sends nothing.
pub async fn start(
    State(state): State<AppState>,
    user: CurrentUser,
    name: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Response, WebError> {
    let Path(name) = name?;
    let fields = FormFields::parse(&body);

    match start_from_fields(&state, &user, &name, &fields).await? {
        StartOutcome::BadFields(errors) => refused_form(&state, name, &fields, errors).await,
        StartOutcome::Started(job) => {
            let href = format!("{}/jobs/{}", appliance_href(&name), job.id);
            Ok(Redirect::to(&href).into_response())
        }
        StartOutcome::Refused {
            status,
            verdict,
            summary,
            tone,
        } => {
            let page = OutcomePage {
                appliance_href: appliance_href(&name),
                appliance: name,
                title: "Backup not started".to_owned(),
                verdict: verdict.to_owned(),
                tone,
                summary,
                messages: Vec::new(),
                next: None,
            };
            Ok((status, page).into_response())
        }
    }
}

/// How a start ended.
pub(crate) enum StartOutcome {
    /// The fields were refused, each with its reason; nothing was sent or recorded.
    BadFields(FieldErrors),
    /// The appliance started the job; it is recorded.
    Started(Box<Job>),
    /// The appliance refused; the status and words say why.
    Refused {
        status: StatusCode,
        verdict: &'static str,
        summary: String,
        tone: Tone,
    },
}

/// Checks the fields of a start (a form, or the JSON API's body), starts the backup on
/// `name`, records the job as the appliance returned it, and writes the audit line with
/// `user` as the actor. Bad input is refused field by field and records nothing.
pub(crate) async fn start_from_fields(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
    fields: &FormFields,
) -> Result<StartOutcome, WebError> {
    // An appliance vbdash does not manage is a 404 before any field is judged: the
    // fields' checks would otherwise blame the preset for the unknown version.
    let client = super::client_of(&state.actions, name)?;
    let (preset, request) = match form::checked_request(state, name, fields).await {
        Ok(checked) => checked,
        Err(errors) => return Ok(StartOutcome::BadFields(errors)),
    };

    let audit = Audit {
        user,
        appliance: Some(name),
        action: ACTION_START,
        detail: format!(
            "preset {}, parts [{}]{}",
            preset.name,
            request.parts.join(", "),
            if request.backup_password.is_some() {
                ", encrypted"
            } else {
                ""
            }
        ),
        reason: request.comment.clone(),
    };

    match client.start_backup(&request).await {
        Ok(mut job) => {
            job.job_type = JobType::Manual;
            job.location = Some(bounded(&request.location, 500));
            state
                .store
                .record_started_job(name, &job, Utc::now())
                .await
                .map_err(WebError::internal)?;
            audit
                .record(&state.store, true, &format!("started job {}", job.id))
                .await?;
            Ok(StartOutcome::Started(Box::new(job)))
        }
        Err(err) => {
            let (status, verdict, summary, tone) = refused_words(name, &err);
            audit.record(&state.store, false, &summary).await?;
            Ok(StartOutcome::Refused {
                status,
                verdict,
                summary,
                tone,
            })
        }
    }
}

/// The backup form again, as a 400, with what was typed and why it was refused.
pub(crate) async fn refused_form(
    state: &AppState,
    name: String,
    fields: &FormFields,
    errors: FieldErrors,
) -> Result<Response, WebError> {
    tracing::info!(appliance.name = ?name, refused = ?errors.sentence(), "backup form refused");
    let page = backup_form(state, name, Kept::from_form(fields, errors)).await?;
    Ok((StatusCode::BAD_REQUEST, page).into_response())
}

/// Status and words of a start the appliance refused.
fn refused_words(name: &str, err: &VcError) -> (StatusCode, &'static str, String, Tone) {
    if is_feature_in_use(err) {
        return (
            StatusCode::CONFLICT,
            "Another backup is running",
            format!(
                "{name} is already running a backup or restore, so it did not start another \
                 one. Try again when that one has finished."
            ),
            Tone::Warning,
        );
    }
    (
        StatusCode::BAD_GATEWAY,
        "Refused",
        format!("{name} did not start the backup: {err}."),
        Tone::Bad,
    )
}
