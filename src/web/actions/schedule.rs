//! Creating, changing and deleting an appliance's backup schedule (admins). The schedule
//! shown by vbdash changes when the next poll reads it back, never on the call alone.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::backup::appliance_href;
use super::form::{self, FormFields, refuse};
use super::{Audit, client_of};
use crate::vcenter::backup::ScheduleSpec;
use crate::views::actions::{OutcomePage, Tone};
use crate::views::schedule_form::ScheduleFormPage;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::WebError;

/// The id the appliance's own interface gives its one schedule.
const DEFAULT_SCHEDULE_ID: &str = "default";

/// Day names as the appliance spells them.
pub const DAYS: [&str; 7] = [
    "MONDAY",
    "TUESDAY",
    "WEDNESDAY",
    "THURSDAY",
    "FRIDAY",
    "SATURDAY",
    "SUNDAY",
];

/// `GET /appliances/{name}/schedule`: the schedule form.
pub async fn form_page(
    State(state): State<AppState>,
    name: Result<Path<String>, PathRejection>,
) -> Result<ScheduleFormPage, WebError> {
    let Path(name) = name?;
    let overview = state
        .store
        .appliance_overview(&name)
        .await
        .map_err(WebError::internal)?
        .ok_or_else(|| crate::web::appliances::unknown_appliance(&name))?;
    let version = overview.version.map(|v| v.version);
    let presets = state
        .actions
        .presets()
        .iter()
        .filter(|p| p.location_type.supported_by(version.as_deref()).is_ok())
        .map(|p| p.name.clone())
        .collect();
    Ok(ScheduleFormPage {
        appliance_href: appliance_href(&name),
        appliance: name,
        existing: overview.schedule.map(|s| s.id),
        presets,
        days: DAYS.to_vec(),
    })
}

/// `POST /appliances/{name}/schedule`: creates the schedule, or replaces the one there.
pub async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    name: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Response, WebError> {
    let Path(name) = name?;
    let fields = FormFields::parse(&body);
    let preset = form::preset(&state.actions, &fields)?;
    let spec = spec_from(&fields, preset)?;
    let client = client_of(&state.actions, &name)?;
    form::check_supported(
        preset,
        form::known_version(&state.store, client).await.as_deref(),
    )?;

    let existing = state
        .store
        .appliance_overview(&name)
        .await
        .map_err(WebError::internal)?
        .and_then(|o| o.schedule)
        .map(|s| s.id);
    let (action, result) = match &existing {
        Some(id) => ("schedule.update", client.update_schedule(id, &spec).await),
        None => (
            "schedule.create",
            client.create_schedule(DEFAULT_SCHEDULE_ID, &spec).await,
        ),
    };
    let detail = format!(
        "preset {}, {:02}:{:02}, days [{}], keep {}, {}",
        preset.name,
        spec.hour,
        spec.minute,
        if spec.days.is_empty() {
            "every day".to_owned()
        } else {
            spec.days.join(", ")
        },
        spec.max_count.map_or("all".to_owned(), |n| n.to_string()),
        if spec.enable { "enabled" } else { "disabled" }
    );
    finish(&state, &user, &name, action, detail, result).await
}

/// `POST /appliances/{name}/schedule/delete`.
pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    name: Result<Path<String>, PathRejection>,
) -> Result<Response, WebError> {
    let Path(name) = name?;
    let client = client_of(&state.actions, &name)?;
    let id = state
        .store
        .appliance_overview(&name)
        .await
        .map_err(WebError::internal)?
        .and_then(|o| o.schedule)
        .map(|s| s.id)
        .ok_or_else(|| {
            WebError::BadRequest(format!(
                "{name} has no schedule as of the last poll; nothing was sent."
            ))
        })?;
    let result = client.delete_schedule(&id).await;
    finish(
        &state,
        &user,
        &name,
        "schedule.delete",
        format!("schedule {id}"),
        result,
    )
    .await
}

async fn finish(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
    action: &'static str,
    detail: String,
    result: Result<(), crate::vcenter::VcError>,
) -> Result<Response, WebError> {
    let audit = Audit {
        user,
        appliance: Some(name),
        action,
        detail: detail.clone(),
        reason: None,
    };
    let (status, tone, verdict, summary) = match result {
        Ok(()) => (
            StatusCode::OK,
            Tone::Good,
            "Done",
            format!(
                "{name} accepted the change ({detail}). The schedule and its history here \
                 show it after the next poll."
            ),
        ),
        Err(err) => (
            StatusCode::BAD_GATEWAY,
            Tone::Bad,
            "Refused",
            format!("{name} refused the change: {err}."),
        ),
    };
    audit
        .record(&state.store, tone == Tone::Good, &summary)
        .await?;
    let page = OutcomePage {
        appliance: name.to_owned(),
        appliance_href: appliance_href(name),
        title: format!("Schedule of {name}"),
        verdict: verdict.to_owned(),
        tone,
        summary,
        messages: Vec::new(),
        next: None,
    };
    Ok((status, page).into_response())
}

/// The schedule settings of the form, every field checked.
fn spec_from(
    fields: &FormFields,
    preset: &crate::config::Preset,
) -> Result<ScheduleSpec, WebError> {
    let number = |key: &str, max: u32| -> Result<u32, WebError> {
        let raw = fields
            .one(key)
            .ok_or_else(|| refuse(key, "it is required"))?;
        raw.parse::<u32>()
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| refuse(key, &format!("use a whole number from 0 to {max}")))
    };
    let hour = number("hour", 23)?;
    let minute = number("minute", 59)?;

    let mut days = Vec::new();
    for day in fields.all("days") {
        let upper = day.to_ascii_uppercase();
        let Some(known) = DAYS.iter().find(|d| **d == upper) else {
            return Err(refuse("days", "use day names such as MONDAY"));
        };
        if !days.contains(&known.to_string()) {
            days.push(known.to_string());
        }
    }

    let max_count = match fields.one("max_count") {
        None => None,
        Some(raw) => Some(
            raw.parse::<u32>()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| {
                    refuse(
                        "max_count",
                        "use a number from 1 to 1000, or leave it empty",
                    )
                })?,
        ),
    };
    let parts = form::backup_request(preset, fields)?.parts;

    Ok(ScheduleSpec {
        parts,
        location: preset.url.to_string(),
        location_user: preset.user.clone(),
        location_password: preset.password.clone(),
        enable: fields.one("enable") == Some("yes"),
        hour: u8::try_from(hour).unwrap_or(0),
        minute: u8::try_from(minute).unwrap_or(0),
        days,
        max_count,
    })
}
