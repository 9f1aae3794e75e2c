//! Creating, changing and deleting an appliance's backup schedule (admins). The schedule
//! shown by vbdash changes when the next poll reads it back, never on the call alone.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::backup::{appliance_href, part_choices};
use super::form::{self, FormFields};
use super::{Audit, client_of};
use crate::config::Preset;
use crate::domain::Schedule;
use crate::domain::text::bounded;
use crate::vcenter::backup::ScheduleSpec;
use crate::views::actions::{FieldErrors, OutcomePage, Tone};
use crate::views::schedule_form::{DayChoice, ScheduleFormPage, day_label};
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

/// What the form shows: the schedule the appliance has, or what was typed.
struct Shown {
    preset: String,
    location_note: Option<String>,
    hour: String,
    minute: String,
    days: Vec<String>,
    max_count: String,
    enabled: bool,
    /// Parts ticked; `None` shows the appliance's defaults.
    parts: Option<Vec<String>>,
    errors: FieldErrors,
}

impl Shown {
    /// The settings of `schedule`, or a daily 02:00 suggestion when there is none.
    fn current(schedule: Option<&Schedule>, presets: &[Preset]) -> Shown {
        let Some(schedule) = schedule else {
            return Shown {
                preset: String::new(),
                location_note: None,
                hour: "2".to_owned(),
                minute: "0".to_owned(),
                days: Vec::new(),
                max_count: String::new(),
                enabled: true,
                parts: None,
                errors: FieldErrors::default(),
            };
        };
        let preset = presets
            .iter()
            .find(|p| same_location(p.url.as_str(), &schedule.location));
        let (hour, minute) = schedule
            .time
            .map_or((String::new(), String::new()), |(h, m)| {
                (h.to_string(), m.to_string())
            });
        Shown {
            preset: preset.map(|p| p.name.clone()).unwrap_or_default(),
            location_note: preset.is_none().then(|| {
                format!(
                    "The schedule writes to {} now, which no preset names; saving moves it \
                     to the preset chosen.",
                    bounded(&schedule.location, 200)
                )
            }),
            hour,
            minute,
            days: schedule
                .days
                .iter()
                .filter_map(|d| DAYS.get(d.num_days_from_monday() as usize))
                .map(|d| (*d).to_owned())
                .collect(),
            max_count: schedule
                .retention
                .filter(|n| *n > 0)
                .map(|n| n.to_string())
                .unwrap_or_default(),
            enabled: schedule.enabled,
            parts: Some(schedule.parts.clone()),
            errors: FieldErrors::default(),
        }
    }

    /// What was typed, with why it was refused. The password is never shown again.
    fn typed(fields: &FormFields, errors: FieldErrors) -> Shown {
        Shown {
            preset: fields.kept("preset"),
            location_note: None,
            hour: fields.kept("hour"),
            minute: fields.kept("minute"),
            days: fields
                .all("days")
                .into_iter()
                .map(str::to_ascii_uppercase)
                .collect(),
            max_count: fields.kept("max_count"),
            enabled: fields.one("enable") == Some("yes"),
            parts: Some(fields.all("parts").into_iter().map(str::to_owned).collect()),
            errors,
        }
    }
}

/// True when a preset URL and a schedule location name the same place; the appliance may
/// add or drop a trailing slash.
fn same_location(preset: &str, location: &str) -> bool {
    preset
        .trim_end_matches('/')
        .eq_ignore_ascii_case(location.trim_end_matches('/'))
}

/// `GET /appliances/{name}/schedule`: the schedule form, filled with the schedule the
/// appliance has as of the last poll.
pub async fn form_page(
    State(state): State<AppState>,
    name: Result<Path<String>, PathRejection>,
) -> Result<ScheduleFormPage, WebError> {
    let Path(name) = name?;
    schedule_form(&state, name, None).await
}

async fn schedule_form(
    state: &AppState,
    name: String,
    typed: Option<Shown>,
) -> Result<ScheduleFormPage, WebError> {
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
    let shown = typed
        .unwrap_or_else(|| Shown::current(overview.schedule.as_ref(), state.actions.presets()));

    let (mut parts, parts_problem) = part_choices(state.actions.client(&name)).await;
    if let Some(ticked) = &shown.parts {
        for part in &mut parts {
            part.checked = !part.optional || ticked.contains(&part.id);
        }
    }

    Ok(ScheduleFormPage {
        appliance_href: appliance_href(&name),
        appliance: name,
        existing: overview.schedule.map(|s| s.id),
        presets,
        chosen_preset: shown.preset,
        location_note: shown.location_note,
        hour: shown.hour,
        minute: shown.minute,
        days: DAYS
            .iter()
            .map(|d| DayChoice::new(d, shown.days.iter().any(|s| s == d)))
            .collect(),
        max_count: shown.max_count,
        enabled: shown.enabled,
        parts,
        parts_problem,
        errors: shown.errors,
    })
}

/// `POST /appliances/{name}/schedule`: creates the schedule, or replaces the one there.
/// Bad input shows the form again with its reasons and sends nothing.
pub async fn save(
    State(state): State<AppState>,
    user: CurrentUser,
    name: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Response, WebError> {
    let Path(name) = name?;
    let fields = FormFields::parse(&body);
    let mut errors = FieldErrors::default();
    let preset = form::preset(&state.actions, &fields, &mut errors);
    if let Some(preset) = preset {
        let client = state.actions.client(&name).map(|c| &**c);
        let version = form::known_version(&state.store, &name, client).await;
        form::check_supported(preset, version.as_deref(), &mut errors);
    }
    let spec = spec_from(&fields, preset, &mut errors);
    let (Some(preset), Some(spec)) = (preset, spec) else {
        return refused(&state, name, &fields, errors).await;
    };
    if !errors.is_empty() {
        return refused(&state, name, &fields, errors).await;
    }
    let client = client_of(&state.actions, &name)?;

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
        "preset {}, {:02}:{:02}, days [{}], keep {}, parts [{}], {}{}",
        preset.name,
        spec.hour,
        spec.minute,
        if spec.days.is_empty() {
            "every day".to_owned()
        } else {
            spec.days
                .iter()
                .map(|d| day_label(d))
                .collect::<Vec<_>>()
                .join(", ")
        },
        spec.max_count.map_or("all".to_owned(), |n| n.to_string()),
        spec.parts.join(", "),
        if spec.enable { "enabled" } else { "disabled" },
        if spec.backup_password.is_some() {
            ", encrypted"
        } else {
            ""
        }
    );
    finish(&state, &user, &name, action, detail, result).await
}

/// The form again, as a 400, with what was typed and why it was refused.
async fn refused(
    state: &AppState,
    name: String,
    fields: &FormFields,
    errors: FieldErrors,
) -> Result<Response, WebError> {
    tracing::info!(appliance.name = ?name, refused = ?errors.sentence(), "schedule form refused");
    let page = schedule_form(state, name, Some(Shown::typed(fields, errors))).await?;
    Ok((StatusCode::BAD_REQUEST, page).into_response())
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

/// The schedule settings of the form, every field checked; `None` when a field is
/// refused (its reason is in `errors`).
fn spec_from(
    fields: &FormFields,
    preset: Option<&Preset>,
    errors: &mut FieldErrors,
) -> Option<ScheduleSpec> {
    let mut number = |key: &'static str, max: u8| -> Option<u8> {
        let Some(raw) = fields.one(key) else {
            errors.add(key, "it is required");
            return None;
        };
        let parsed = raw.parse::<u8>().ok().filter(|n| *n <= max);
        if parsed.is_none() {
            errors.add(key, format!("use a whole number from 0 to {max}"));
        }
        parsed
    };
    let hour = number("hour", 23);
    let minute = number("minute", 59);

    let mut days: Vec<String> = Vec::new();
    for day in fields.all("days") {
        let upper = day.to_ascii_uppercase();
        match DAYS.iter().find(|d| **d == upper) {
            Some(known) if !days.iter().any(|d| d == known) => days.push((*known).to_owned()),
            Some(_) => {}
            None => errors.add("days", "pick days from the list, Monday to Sunday"),
        }
    }

    let max_count = fields.one("max_count").and_then(|raw| {
        let parsed = raw.parse::<u32>().ok().filter(|n| (1..=1000).contains(n));
        if parsed.is_none() {
            errors.add(
                "max_count",
                "use a number from 1 to 1000, or leave it empty",
            );
        }
        parsed
    });
    let parts = form::parts(fields, errors);
    let backup_password = form::backup_password(fields, errors);

    let (preset, hour, minute) = (preset?, hour?, minute?);
    errors.is_empty().then(|| ScheduleSpec {
        parts,
        location: preset.url.to_string(),
        location_user: preset.user.clone(),
        location_password: preset.password.clone(),
        backup_password,
        enable: fields.one("enable") == Some("yes"),
        hour,
        minute,
        days,
        max_count,
    })
}
