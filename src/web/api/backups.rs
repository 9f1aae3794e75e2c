//! `POST /api/v1/appliances/{name}/backups`: start a backup to a preset location.
//!
//! The body goes through the same checks and the same start as the dashboard's form; the
//! encryption password is handed on to the appliance and kept nowhere.

use std::fmt;

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::auth::Caller;
use super::error::{ApiError, ErrorBody};
use super::model::JobSummary;
use crate::secret::Secret;
use crate::web::AppState;
use crate::web::actions::backup::{StartOutcome, start_from_fields};
use crate::web::actions::form::FormFields;

/// What to back up and where.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartBackupBody {
    /// Name of a configured preset (the backup location).
    pub preset: String,
    /// Optional parts to include, such as `seat`; the required ones are always included.
    #[serde(default)]
    pub parts: Vec<String>,
    /// Why the backup is taken; kept in the audit log. At most 200 characters.
    #[serde(default)]
    pub comment: Option<String>,
    /// Encrypts the backup: 8 to 20 characters with an upper-case and a lower-case
    /// letter, a digit and a special character. Sent to the appliance only; never stored,
    /// logged or returned.
    #[serde(default, deserialize_with = "secret")]
    #[schema(value_type = Option<String>, format = Password)]
    pub backup_password: Option<Secret>,
}

impl fmt::Debug for StartBackupBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StartBackupBody")
            .field("preset", &self.preset)
            .field("parts", &self.parts)
            .field("comment", &self.comment)
            .field("backup_password", &self.backup_password)
            .finish()
    }
}

fn secret<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Secret>, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.map(Secret::new))
}

impl StartBackupBody {
    /// The body as the fields of the dashboard's form, which carry the same checks.
    fn into_fields(self) -> FormFields {
        let mut pairs = vec![("preset".to_owned(), self.preset)];
        pairs.extend(self.parts.into_iter().map(|p| ("parts".to_owned(), p)));
        if let Some(comment) = self.comment {
            pairs.push(("comment".to_owned(), comment));
        }
        if let Some(password) = self.backup_password {
            pairs.push(("backup_password".to_owned(), password.expose().to_owned()));
        }
        FormFields::from_pairs(pairs)
    }
}

/// The job a start created.
#[derive(Debug, Serialize, ToSchema)]
pub struct StartAnswer {
    /// Configured appliance name.
    pub appliance: String,
    /// The job as the appliance returned it; follow `href` to see it progress.
    pub job: JobSummary,
}

/// Starts a backup on one appliance to a preset location. Recorded in the audit log with
/// the token's name as the actor.
#[utoipa::path(
    post,
    path = "/api/v1/appliances/{name}/backups",
    tag = "actions",
    params(("name" = String, Path, description = "Configured appliance name")),
    request_body = StartBackupBody,
    responses(
        (status = 201, description = "The appliance started the job", body = StartAnswer),
        (status = 400, description = "A field is wrong; nothing was sent", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 403, description = "The token has only the read scope", body = ErrorBody),
        (status = 404, description = "vbdash manages no such appliance", body = ErrorBody),
        (status = 409, description = "A backup or restore is running already",
            body = ErrorBody),
        (status = 502, description = "The appliance refused the start", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    name: Result<Path<String>, PathRejection>,
    body: Result<Json<StartBackupBody>, JsonRejection>,
) -> Result<(StatusCode, Json<StartAnswer>), ApiError> {
    let Path(name) = name?;
    let Json(body) = body?;
    let fields = body.into_fields();

    match start_from_fields(&state, &caller.actor(), &name, &fields).await? {
        StartOutcome::BadFields(errors) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            errors.sentence(),
        )),
        StartOutcome::Started(job) => {
            let summary = JobSummary::new(&name, &job);
            let answer = StartAnswer {
                appliance: name,
                job: summary,
            };
            Ok((StatusCode::CREATED, Json(answer)))
        }
        StartOutcome::Refused {
            status, summary, ..
        } => {
            let code = if status == StatusCode::CONFLICT {
                "conflict"
            } else {
                "appliance_refused"
            };
            Err(ApiError::new(status, code, summary))
        }
    }
}
