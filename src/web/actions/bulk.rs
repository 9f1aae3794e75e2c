//! Bulk backups from the fleet: choosing the appliances (rows picked, or every row of a
//! fleet filter, found again by the server when the run starts), the confirmation with the
//! count affected, the start, the live summary and Stop.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

use super::Audit;
use super::bulk_run::{ACTION_BULK, ACTION_STOP, SYSTEM_USER};
use super::form::{self, FormFields};
use crate::config::Preset;
use crate::domain::text::bounded;
use crate::domain::{ApplianceOverview, Status};
use crate::store::{BulkRunRecord, NewBulkRun};
use crate::vcenter::ApplianceClient;
use crate::views::actions::FieldErrors;
use crate::views::bulk::{
    BulkChoice, BulkConfirmPage, BulkFormPage, BulkRowsFragment, BulkRunPage, SelectionView,
};
use crate::views::fleet::FleetFilter;
use crate::views::silence::QuietKind;
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::WebError;

/// Appliances listed by name on the confirmation page; the rest are counted.
const MAX_LISTED: usize = 100;
/// Appliance names written into the audit line of a start; the rest are counted.
const MAX_AUDITED_NAMES: usize = 20;

/// How the appliances of a run are chosen.
enum Selection {
    /// Names ticked one by one, without repeats.
    Picked(Vec<String>),
    /// Every appliance the fleet filter shows when the run starts.
    Filter(FleetFilter),
}

impl Selection {
    fn from_fields(fields: &FormFields) -> Selection {
        if fields.one("scope") == Some("filter") {
            return Selection::Filter(FleetFilter::from_query(
                fields.one("status"),
                fields.one("tag"),
                fields.one("q"),
            ));
        }
        let mut names: Vec<String> = Vec::new();
        for name in fields.all("appliances") {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
        Selection::Picked(names)
    }

    fn words(&self) -> String {
        match self {
            Selection::Picked(names) => format!("{} picked", names.len()),
            Selection::Filter(filter) if *filter == FleetFilter::default() => {
                "every appliance".to_owned()
            }
            Selection::Filter(filter) => format!("every row of the filter {}", filter.words()),
        }
    }

    fn view(&self) -> SelectionView {
        match self {
            Selection::Picked(names) => SelectionView {
                picked: names.clone(),
                words: self.words(),
                ..SelectionView::default()
            },
            Selection::Filter(filter) => SelectionView {
                by_filter: true,
                status: filter
                    .status
                    .map(|s| s.as_str().to_owned())
                    .unwrap_or_default(),
                tag: filter.tag.clone().unwrap_or_default(),
                q: filter.q.clone().unwrap_or_default(),
                picked: Vec::new(),
                words: self.words(),
                filter_words: filter.words(),
            },
        }
    }
}

/// One appliance a run will ask, with what its pre-check will likely say.
struct Target {
    client: Arc<ApplianceClient>,
    note: Option<String>,
}

/// The appliances `selection` names now, in the order the fleet page shows them for a
/// filter and in the order picked otherwise. Unknown names land in `errors`.
async fn resolve(
    state: &AppState,
    selection: &Selection,
    preset: Option<&Preset>,
    errors: &mut FieldErrors,
) -> Result<Vec<Target>, WebError> {
    let fleet = state
        .store
        .fleet_overview()
        .await
        .map_err(WebError::internal)?;
    let now = Utc::now();
    let target = |o: &ApplianceOverview| {
        state.actions.client(&o.name).map(|client| Target {
            client: Arc::clone(client),
            note: pre_check_note(o, preset, now),
        })
    };

    let targets: Vec<Target> = match selection {
        Selection::Filter(filter) => {
            let targets: Vec<Target> = filter
                .select(&fleet, now)
                .into_iter()
                .filter_map(target)
                .collect();
            if targets.is_empty() {
                errors.add("appliances", "no appliance matches this filter now");
            }
            targets
        }
        Selection::Picked(names) if names.is_empty() => {
            errors.add("appliances", "select at least one appliance");
            Vec::new()
        }
        Selection::Picked(names) => {
            let mut targets = Vec::with_capacity(names.len());
            for name in names {
                match fleet.iter().find(|o| o.name == *name).and_then(target) {
                    Some(t) => targets.push(t),
                    None => errors.add(
                        "appliances",
                        format!("no appliance is named {}", bounded(name, 64)),
                    ),
                }
            }
            targets
        }
    };
    Ok(targets)
}

/// What the pre-check of `o` will likely say, from what the last poll saw.
fn pre_check_note(
    o: &ApplianceOverview,
    preset: Option<&Preset>,
    now: chrono::DateTime<Utc>,
) -> Option<String> {
    if let Some(job) = &o.running_job {
        return Some(format!("job {} is running now: it will be skipped", job.id));
    }
    if o.verdict(now).status == Status::Unreachable {
        return Some("unreachable at the last poll: its pre-check will likely fail".to_owned());
    }
    let version = o.version.as_ref().map(|v| v.version.as_str());
    preset
        .and_then(|p| p.location_type.supported_by(version).err())
        .map(|why| format!("{why}: its pre-check will fail"))
}

/// `GET /fleet/backup`: the form. The query may carry rows picked on the fleet page
/// (`appliances=`) or a fleet filter (`scope=filter&status=&tag=&q=`).
pub async fn form_page(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<BulkFormPage, WebError> {
    let fields = FormFields::from_query(query.as_deref());
    bulk_form(&state, &fields, FieldErrors::default()).await
}

async fn bulk_form(
    state: &AppState,
    fields: &FormFields,
    errors: FieldErrors,
) -> Result<BulkFormPage, WebError> {
    let selection = Selection::from_fields(fields);
    let fleet = state
        .store
        .fleet_overview()
        .await
        .map_err(WebError::internal)?;
    let managed = |o: &&ApplianceOverview| state.actions.client(&o.name).is_some();
    let note = |o: &ApplianceOverview| {
        o.running_job
            .as_ref()
            .map(|j| format!("job {} is running", j.id))
    };

    let (choices, filter_count) = match &selection {
        Selection::Filter(filter) => {
            let count = filter
                .select(&fleet, Utc::now())
                .into_iter()
                .filter(managed)
                .count();
            (Vec::new(), count)
        }
        Selection::Picked(names) => {
            let choices = fleet
                .iter()
                .filter(managed)
                .filter(|o| names.is_empty() || names.contains(&o.name))
                .map(|o| BulkChoice {
                    name: o.name.clone(),
                    note: note(o),
                    checked: names.contains(&o.name),
                })
                .collect();
            (choices, 0)
        }
    };

    Ok(BulkFormPage {
        selection: selection.view(),
        choices,
        filter_count,
        presets: state
            .actions
            .presets()
            .iter()
            .map(|p| (p.name.clone(), format!("{}, {}", p.location_type, p.url)))
            .collect(),
        chosen_preset: fields.kept("preset"),
        reason: fields.kept("reason"),
        errors,
        per_target_limit: state.actions.bulk().per_target_limit(),
    })
}

/// A checked bulk request: the preset, the reason and the appliances found now.
struct Checked<'a> {
    selection: Selection,
    preset: &'a Preset,
    reason: String,
    targets: Vec<Target>,
}

/// Checks every field of a bulk form; `Err` carries the form shown again as a 400.
async fn check<'a>(
    state: &'a AppState,
    fields: &FormFields,
) -> Result<Result<Checked<'a>, Response>, WebError> {
    let mut errors = FieldErrors::default();
    let selection = Selection::from_fields(fields);
    unknown_status_word(fields, &mut errors);
    let preset = form::preset(&state.actions, fields, &mut errors);
    let reason = form::reason(fields, &mut errors);
    let targets = resolve(state, &selection, preset, &mut errors).await?;

    match (preset, reason) {
        (Some(preset), Some(reason)) if errors.is_empty() => Ok(Ok(Checked {
            selection,
            preset,
            reason,
            targets,
        })),
        _ => {
            tracing::info!(refused = ?errors.sentence(), "bulk form refused");
            let page = bulk_form(state, fields, errors).await?;
            Ok(Err((StatusCode::BAD_REQUEST, page).into_response()))
        }
    }
}

/// A filter's status word that names no status: refused, since the filter would
/// otherwise drop it and select every appliance.
fn unknown_status_word(fields: &FormFields, errors: &mut FieldErrors) {
    if fields.one("scope") != Some("filter") {
        return;
    }
    if let Some(word) = fields.one("status")
        && Status::parse(word).is_none()
        && QuietKind::parse(word).is_none()
    {
        errors.add(
            "status",
            format!(
                "\u{201c}{}\u{201d} is not a status of the fleet page",
                bounded(word, 40)
            ),
        );
    }
}

/// `POST /fleet/backup/review`: the confirmation, with the count affected and what each
/// appliance's pre-check will likely say. Nothing starts here.
pub async fn review(State(state): State<AppState>, body: Bytes) -> Result<Response, WebError> {
    let fields = FormFields::parse(&body);
    let checked = match check(&state, &fields).await? {
        Ok(checked) => checked,
        Err(refused) => return Ok(refused),
    };
    Ok(confirm_page(&state, &checked, None).into_response())
}

fn confirm_page(
    state: &AppState,
    checked: &Checked<'_>,
    problem: Option<String>,
) -> BulkConfirmPage {
    let count = checked.targets.len();
    let with_note = |prefix: &str| {
        checked
            .targets
            .iter()
            .filter(|t| t.note.as_deref().is_some_and(|n| n.starts_with(prefix)))
            .count()
    };
    let mut notes = Vec::new();
    let running = with_note("job ");
    if running > 0 {
        notes.push(format!(
            "{} a backup now and will be skipped unless it ends first.",
            how_many(running, "runs", "run")
        ));
    }
    let unreachable = with_note("unreachable");
    if unreachable > 0 {
        notes.push(format!(
            "{} not be reached at the last poll.",
            how_many(unreachable, "could", "could")
        ));
    }
    let unsupported = checked
        .targets
        .iter()
        .filter(|t| t.note.is_some())
        .count()
        .saturating_sub(running + unreachable);
    if unsupported > 0 {
        notes.push(format!(
            "{} {} locations and will fail the pre-check.",
            how_many(unsupported, "does not take", "do not take"),
            checked.preset.location_type
        ));
    }

    let selection = checked.selection.view();
    BulkConfirmPage {
        change_href: selection.form_href(&checked.preset.name, &checked.reason),
        selection,
        count,
        preset: checked.preset.name.clone(),
        preset_words: format!("{}, {}", checked.preset.location_type, checked.preset.url),
        reason: checked.reason.clone(),
        shown: checked
            .targets
            .iter()
            .take(MAX_LISTED)
            .map(|t| BulkChoice {
                name: t.client.name().to_owned(),
                note: t.note.clone(),
                checked: true,
            })
            .collect(),
        more: count.saturating_sub(MAX_LISTED),
        notes,
        per_target_limit: state.actions.bulk().per_target_limit(),
        problem,
    }
}

/// "1 appliance runs" or "3 appliances run": a count with its noun and verb agreeing.
fn how_many(n: usize, verb_one: &str, verb_many: &str) -> String {
    if n == 1 {
        format!("1 appliance {verb_one}")
    } else {
        format!("{n} appliances {verb_many}")
    }
}

/// "1 appliance", "3 appliances".
fn appliances_word(count: usize) -> String {
    if count == 1 {
        "1 appliance".to_owned()
    } else {
        format!("{count} appliances")
    }
}

/// `POST /fleet/backup`: checks the whole request again, finds the appliances of a filter
/// again, and starts the run. A count that changed since the confirmation is shown for a
/// new confirmation instead of being started.
pub async fn start(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Bytes,
) -> Result<Response, WebError> {
    let fields = FormFields::parse(&body);
    let checked = match check(&state, &fields).await? {
        Ok(checked) => checked,
        Err(refused) => return Ok(refused),
    };
    if fields.one("confirm") != Some("yes") {
        let page = confirm_page(
            &state,
            &checked,
            Some("Nothing was started: press Start to confirm the run.".to_owned()),
        );
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    let count = checked.targets.len();
    // The confirmation page always sends the count it showed; without it nothing proves
    // that the user saw how many appliances a filter selects now.
    let Some(expected) = fields.one("expected").map(str::trim) else {
        let page = confirm_page(
            &state,
            &checked,
            Some(format!(
                "Nothing was started: the field \u{201c}expected\u{201d} (the number of \
                 appliances confirmed) is missing. The selection holds {} now; press \
                 Start to confirm it.",
                appliances_word(count)
            )),
        );
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    };
    let Ok(expected_count) = expected.parse::<usize>() else {
        let page = confirm_page(
            &state,
            &checked,
            Some(format!(
                "Nothing was started: the field \u{201c}expected\u{201d} holds \
                 \u{201c}{}\u{201d}, not a number of appliances.",
                bounded(expected, 12)
            )),
        );
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    };
    if expected_count != count {
        let page = confirm_page(
            &state,
            &checked,
            Some(format!(
                "Nothing was started: the selection now holds {count} appliances, not the \
                 {} shown before. Check the list and start again.",
                bounded(expected, 12)
            )),
        );
        return Ok((StatusCode::CONFLICT, page).into_response());
    }

    let mut errors = FieldErrors::default();
    let Some(mut request) = form::backup_request(Some(checked.preset), &fields, &mut errors) else {
        let page = bulk_form(&state, &fields, errors).await?;
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    };
    request.comment = Some(checked.reason.clone());

    let names: Vec<String> = checked
        .targets
        .iter()
        .map(|t| t.client.name().to_owned())
        .collect();
    let run = NewBulkRun {
        created_at: Utc::now(),
        user: user.name.clone(),
        preset: checked.preset.name.clone(),
        reason: checked.reason.clone(),
        selection: checked.selection.words(),
        appliances: names.clone(),
    };
    let id = state
        .store
        .create_bulk_run(&run)
        .await
        .map_err(WebError::internal)?;

    // The start is recorded before anything is sent; a run that cannot be recorded is
    // stopped before its first appliance.
    let mut listed = names
        .iter()
        .take(MAX_AUDITED_NAMES)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > MAX_AUDITED_NAMES {
        listed.push_str(&format!(" and {} more", names.len() - MAX_AUDITED_NAMES));
    }
    let recorded = Audit {
        user: &user,
        appliance: None,
        action: ACTION_BULK,
        detail: format!(
            "run {id}: preset {}, {}: {listed}",
            checked.preset.name,
            checked.selection.words()
        ),
        reason: Some(checked.reason.clone()),
    }
    .record(&state.store, true, &format!("{count} appliances queued"))
    .await;
    if let Err(err) = recorded {
        let _ = state.store.stop_bulk_run(id, SYSTEM_USER, Utc::now()).await;
        return Err(err);
    }

    let clients = checked.targets.into_iter().map(|t| t.client).collect();
    state
        .actions
        .bulk()
        .launch(&state.store, id, clients, checked.preset, request, &run);
    Ok(Redirect::to(&format!("/fleet/backup/runs/{id}")).into_response())
}

/// `GET /fleet/backup/runs/{id}`: the summary, following itself while the run goes on.
pub async fn show(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<BulkRunPage, WebError> {
    let run = find_run(&state, id?).await?;
    Ok(BulkRunPage::new(
        &run,
        state.settings.refresh_secs,
        Utc::now(),
        state.settings.display_zone,
    ))
}

/// `GET /fleet/backup/runs/{id}/rows`: the summary's lines, for htmx.
pub async fn rows(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<BulkRowsFragment, WebError> {
    let run = find_run(&state, id?).await?;
    Ok(crate::views::bulk::rows(
        &run,
        state.settings.refresh_secs,
        Utc::now(),
        state.settings.display_zone,
    ))
}

/// `POST /fleet/backup/runs/{id}/stop`: no appliance of the run starts any more; those
/// being checked or running go on. Recorded with who pressed it, when anything stopped.
pub async fn stop(
    State(state): State<AppState>,
    user: CurrentUser,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, WebError> {
    let run = find_run(&state, id?).await?;
    let stopped = state
        .actions
        .bulk()
        .stop(&state.store, run.id, &user.name)
        .await
        .map_err(WebError::internal)?;
    if stopped > 0 {
        Audit {
            user: &user,
            appliance: None,
            action: ACTION_STOP,
            detail: format!("run {} of {}, preset {}", run.id, run.user, run.preset),
            reason: None,
        }
        .record(
            &state.store,
            true,
            &format!("stopped: {stopped} appliances not started"),
        )
        .await?;
    }
    Ok(Redirect::to(&format!("/fleet/backup/runs/{}", run.id)).into_response())
}

async fn find_run(state: &AppState, Path(raw): Path<String>) -> Result<BulkRunRecord, WebError> {
    let not_found = || {
        WebError::NotFound(format!(
            "There is no bulk run {}; the audit log keeps every start.",
            bounded(&raw, 20)
        ))
    };
    let Ok(id) = raw.parse::<i64>() else {
        return Err(not_found());
    };
    state
        .store
        .bulk_run(id)
        .await
        .map_err(WebError::internal)?
        .ok_or_else(not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(query: &str) -> FormFields {
        FormFields::from_query(Some(query))
    }

    #[test]
    fn a_selection_is_a_filter_or_names_without_repeats() {
        let picked = Selection::from_fields(&fields("appliances=a&appliances=b&appliances=a"));
        assert_eq!(picked.words(), "2 picked");
        assert_eq!(picked.view().picked, ["a", "b"]);

        let filter = Selection::from_fields(&fields(
            "scope=filter&status=failed&tag=prod&q=&appliances=a",
        ));
        assert_eq!(
            filter.words(),
            "every row of the filter status failed, tag prod"
        );
        let view = filter.view();
        assert!(view.by_filter && view.picked.is_empty());
        assert_eq!(
            view.form_href("nas", "why not"),
            "/fleet/backup?scope=filter&status=failed&tag=prod&q=&preset=nas&reason=why+not"
        );

        let everything = Selection::from_fields(&fields("scope=filter"));
        assert_eq!(everything.words(), "every appliance");
    }

    #[test]
    fn counts_agree_with_their_verbs() {
        assert_eq!(how_many(1, "runs", "run"), "1 appliance runs");
        assert_eq!(how_many(3, "runs", "run"), "3 appliances run");
    }
}
