//! Validating a preset against an appliance: the appliance's verdict with every message.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::Audit;
use super::backup::appliance_href;
use super::form::{self, FormFields};
use crate::views::actions::{OutcomePage, Tone};
use crate::web::AppState;
use crate::web::auth::CurrentUser;
use crate::web::error::WebError;

/// The audit word of a validation.
pub const ACTION_VALIDATE: &str = "backup.validate";

/// `POST /appliances/{name}/validate`: asks the appliance whether the preset would work.
pub async fn validate(
    State(state): State<AppState>,
    user: CurrentUser,
    name: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Response, WebError> {
    let Path(name) = name?;
    let fields = FormFields::parse(&body);
    let (preset, request) = match form::checked_request(&state, &name, &fields).await {
        Ok(checked) => checked,
        Err(errors) => {
            return super::backup::refused_form(&state, name, &fields, errors).await;
        }
    };
    let client = super::client_of(&state.actions, &name)?;

    let audit = Audit {
        user: &user,
        appliance: Some(&name),
        action: ACTION_VALIDATE,
        detail: format!("preset {}", preset.name),
        reason: None,
    };
    let title = format!("Validation of preset {}", preset.name);

    let (status, page) = match client.validate_backup(&request).await {
        Ok(result) => {
            let tone = match result.status.as_str() {
                "OK" => Tone::Good,
                "WARNING" => Tone::Warning,
                _ => Tone::Bad,
            };
            let summary = match tone {
                Tone::Good => format!("{name} can back up to {}.", preset.name),
                Tone::Warning => format!(
                    "{name} can back up to {}, with the warnings below.",
                    preset.name
                ),
                Tone::Bad => format!("{name} cannot back up to {}.", preset.name),
            };
            let outcome = format!("{}: {}", result.status, result.messages.join("; "));
            audit
                .record(&state.store, tone != Tone::Bad, &outcome)
                .await?;
            let page = outcome_page(&name, title, result.status, tone, summary);
            (StatusCode::OK, page.with_messages(result.messages))
        }
        Err(err) => {
            let summary = format!("{name} did not validate the location: {err}.");
            audit.record(&state.store, false, &summary).await?;
            let page = outcome_page(&name, title, "Not checked".into(), Tone::Bad, summary);
            (StatusCode::BAD_GATEWAY, page)
        }
    };
    Ok((status, page).into_response())
}

fn outcome_page(
    name: &str,
    title: String,
    verdict: String,
    tone: Tone,
    summary: String,
) -> OutcomePage {
    OutcomePage {
        appliance: name.to_owned(),
        appliance_href: appliance_href(name),
        title,
        verdict,
        tone,
        summary,
        messages: Vec::new(),
        next: None,
    }
}

impl OutcomePage {
    fn with_messages(mut self, messages: Vec<String>) -> OutcomePage {
        self.messages = messages;
        self
    }
}
