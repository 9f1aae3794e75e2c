//! Bulk backups from the fleet: the form, the start of a run and its live summary.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::Audit;
use super::bulk_run::ACTION_BULK;
use super::form::{self, FormFields, refuse};
use crate::domain::text::bounded;
use crate::views::bulk::{self, BulkChoice, BulkFormPage, BulkRowsFragment, BulkRunPage};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::WebError;

/// Longest reason accepted.
const MAX_REASON_CHARS: usize = 200;

/// `GET /fleet/backup`: choose appliances, a preset and a reason.
pub async fn form_page(State(state): State<AppState>) -> Result<BulkFormPage, WebError> {
    let fleet = state
        .store
        .fleet_overview()
        .await
        .map_err(WebError::internal)?;
    let appliances = fleet
        .iter()
        .filter(|o| state.actions.client(&o.name).is_some())
        .map(|o| BulkChoice {
            name: o.name.clone(),
            note: o
                .running_job
                .as_ref()
                .map(|j| format!("job {} is running", j.id)),
        })
        .collect();
    let presets = state
        .actions
        .presets()
        .iter()
        .map(|p| (p.name.clone(), format!("{}, {}", p.location_type, p.url)))
        .collect();
    Ok(BulkFormPage {
        appliances,
        presets,
        per_target_limit: state.actions.bulk().per_target_limit(),
    })
}

/// `POST /fleet/backup`: checks the whole request, then starts the run.
pub async fn start(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Bytes,
) -> Result<Response, WebError> {
    let fields = FormFields::parse(&body);
    let names = fields.all("appliances");
    if names.is_empty() {
        return Err(refuse("appliances", "select at least one appliance"));
    }
    let mut clients = Vec::with_capacity(names.len());
    for name in &names {
        let client = state.actions.client(name).ok_or_else(|| {
            refuse(
                "appliances",
                &format!("no appliance is named {}", bounded(name, 64)),
            )
        })?;
        if !clients
            .iter()
            .any(|c: &std::sync::Arc<_>| std::sync::Arc::ptr_eq(c, client))
        {
            clients.push(std::sync::Arc::clone(client));
        }
    }

    let preset = form::preset(&state.actions, &fields)?;
    let reason = fields
        .one("reason")
        .ok_or_else(|| refuse("reason", "say why these backups are needed"))?;
    if reason.chars().count() > MAX_REASON_CHARS || reason.chars().any(char::is_control) {
        return Err(refuse(
            "reason",
            &format!("keep it to one line of at most {MAX_REASON_CHARS} characters"),
        ));
    }
    if fields.one("confirm") != Some("yes") {
        return Err(refuse("confirm", "tick the box to confirm the run"));
    }
    let mut request = form::backup_request(preset, &fields)?;
    request.comment = Some(reason.to_owned());

    let id = state.actions.bulk().launch(
        state.store.clone(),
        clients.clone(),
        preset,
        request,
        &user.name,
        reason,
    );
    Audit {
        user: &user,
        appliance: None,
        action: ACTION_BULK,
        detail: format!(
            "run {id}: preset {} on {}",
            preset.name,
            clients
                .iter()
                .map(|c| c.name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        reason: Some(reason.to_owned()),
    }
    .record(
        &state.store,
        true,
        &format!("{} appliances queued", clients.len()),
    )
    .await?;

    Ok(Redirect::to(&format!("/fleet/backup/runs/{id}")).into_response())
}

/// `GET /fleet/backup/runs/{id}`: the summary, following itself while the run goes on.
pub async fn show(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<BulkRunPage, WebError> {
    let run = find_run(&state, id?)?;
    Ok(BulkRunPage {
        user: run.user.clone(),
        preset: run.preset.clone(),
        reason: run.reason.clone(),
        rows: bulk::rows(&run, state.settings.refresh_secs),
    })
}

/// `GET /fleet/backup/runs/{id}/rows`: the summary's lines, for htmx.
pub async fn rows(
    State(state): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<BulkRowsFragment, WebError> {
    let run = find_run(&state, id?)?;
    Ok(bulk::rows(&run, state.settings.refresh_secs))
}

fn find_run(
    state: &AppState,
    Path(raw): Path<String>,
) -> Result<crate::web::actions::bulk_run::BulkRun, WebError> {
    raw.parse::<u64>()
        .ok()
        .and_then(|id| state.actions.bulk().get(id))
        .ok_or_else(|| {
            WebError::NotFound(format!(
                "There is no bulk run {} in this process; runs are kept until vbdash \
                 restarts, and the audit log keeps every start.",
                bounded(&raw, 20)
            ))
        })
}
