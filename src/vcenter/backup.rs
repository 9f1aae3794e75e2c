//! Actions on an appliance's backups: parts, start, validate, cancel and schedule changes,
//! each with the body shape of the generation in use.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::client::ApplianceClient;
use super::envelope::decode;
use super::error::VcError;
use super::location::LocationType;
use super::mapping;
use super::models::WireMessage;
use super::paths::Endpoint;
use crate::domain::text;
use crate::domain::{ApiGeneration, Job, JobId};
use crate::secret::Secret;

/// What to back up and where (`BackupRequest`). Secrets stay masked until the body is built.
#[derive(Debug, Clone)]
pub struct BackupRequest {
    /// Optional parts to include; `common` is always included by the appliance.
    pub parts: Vec<String>,
    /// Encrypts the backup when given; already checked against the appliance's rule.
    pub backup_password: Option<Secret>,
    /// The protocol of `location`.
    pub location_type: LocationType,
    /// The location URL.
    pub location: String,
    /// User at the location.
    pub location_user: Option<String>,
    /// Password at the location.
    pub location_password: Option<Secret>,
    /// Free text kept with the backup.
    pub comment: Option<String>,
}

impl BackupRequest {
    /// The request body: wrapped in `piece` on `/rest`, bare on `/api`.
    pub fn body(&self, generation: ApiGeneration) -> Value {
        let mut request = Map::new();
        request.insert("parts".into(), json!(self.parts));
        request.insert("location_type".into(), json!(self.location_type.as_wire()));
        request.insert("location".into(), json!(self.location));
        if let Some(user) = &self.location_user {
            request.insert("location_user".into(), json!(user));
        }
        if let Some(password) = &self.location_password {
            request.insert("location_password".into(), json!(password.expose()));
        }
        if let Some(password) = &self.backup_password {
            request.insert("backup_password".into(), json!(password.expose()));
        }
        if let Some(comment) = &self.comment {
            request.insert("comment".into(), json!(comment));
        }

        match generation {
            ApiGeneration::Rest => json!({ "piece": request }),
            ApiGeneration::Api => Value::Object(request),
        }
    }
}

/// A part a backup may include.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInfo {
    /// The part id sent in `parts`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// False for the part the appliance always includes.
    pub optional: bool,
    /// Whether the appliance's own form ticks it.
    pub selected_by_default: bool,
}

/// The verdict of a validate or cancel call (`ReturnResult`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnResult {
    /// `OK`, `WARNING` or `FAIL`, as sent.
    pub status: String,
    /// Every message, in the appliance's order.
    pub messages: Vec<String>,
}

/// One schedule as written by a create or an update (`CreateSpec` / `UpdateSpec`).
#[derive(Debug, Clone)]
pub struct ScheduleSpec {
    /// Optional parts to include.
    pub parts: Vec<String>,
    /// Location URL.
    pub location: String,
    /// User at the location.
    pub location_user: Option<String>,
    /// Password at the location.
    pub location_password: Option<Secret>,
    /// Encrypts the scheduled backups; `None` leaves them unencrypted.
    pub backup_password: Option<Secret>,
    /// Whether the schedule runs.
    pub enable: bool,
    /// Hour, 0 to 23.
    pub hour: u8,
    /// Minute, 0 to 59.
    pub minute: u8,
    /// Upper-case day names; empty means every day.
    pub days: Vec<String>,
    /// Backups to keep; `None` keeps all.
    pub max_count: Option<u32>,
}

impl ScheduleSpec {
    fn spec(&self) -> Value {
        let mut spec = Map::new();
        spec.insert("parts".into(), json!(self.parts));
        spec.insert("location".into(), json!(self.location));
        if let Some(user) = &self.location_user {
            spec.insert("location_user".into(), json!(user));
        }
        if let Some(password) = &self.location_password {
            spec.insert("location_password".into(), json!(password.expose()));
        }
        if let Some(password) = &self.backup_password {
            spec.insert("backup_password".into(), json!(password.expose()));
        }
        spec.insert("enable".into(), json!(self.enable));
        let mut recurrence = json!({ "hour": self.hour, "minute": self.minute });
        if !self.days.is_empty() {
            recurrence["days"] = json!(self.days);
        }
        spec.insert("recurrence_info".into(), recurrence);
        if let Some(max_count) = self.max_count {
            spec.insert("retention_info".into(), json!({ "max_count": max_count }));
        }
        Value::Object(spec)
    }

    /// The create body: `{"spec"}` on `/rest` (id in the path), `{"schedule", "spec"}` on
    /// `/api`.
    pub fn create_body(&self, generation: ApiGeneration, id: &str) -> Value {
        match generation {
            ApiGeneration::Rest => json!({ "spec": self.spec() }),
            ApiGeneration::Api => json!({ "schedule": id, "spec": self.spec() }),
        }
    }

    /// The update body: `{"spec"}` on `/rest`, the bare spec on `/api`.
    pub fn update_body(&self, generation: ApiGeneration) -> Value {
        match generation {
            ApiGeneration::Rest => json!({ "spec": self.spec() }),
            ApiGeneration::Api => self.spec(),
        }
    }
}

#[derive(Deserialize)]
struct WirePart {
    id: String,
    #[serde(default)]
    name: WireMessage,
    #[serde(default)]
    description: WireMessage,
    #[serde(default)]
    optional: Option<bool>,
    #[serde(default)]
    selected_by_default: Option<bool>,
}

#[derive(Deserialize)]
struct WireReturnResult {
    status: String,
    #[serde(default)]
    messages: Vec<WireMessage>,
}

impl ApplianceClient {
    /// The parts a backup may include.
    #[tracing::instrument(skip(self), fields(appliance.name = %self.name()))]
    pub async fn parts(&self) -> Result<Vec<PartInfo>, VcError> {
        let (_, value) = self.call_json(Endpoint::Parts, |_| None).await?;
        let wire: Vec<WirePart> = decode("parts", value)?;
        Ok(wire
            .into_iter()
            .map(|p| PartInfo {
                id: text::bounded(&p.id, 64),
                name: text::bounded(&p.name.text(), 200),
                description: text::bounded(&p.description.text(), 400),
                optional: p.optional.unwrap_or(true),
                selected_by_default: p.selected_by_default.unwrap_or(false),
            })
            .collect())
    }

    /// The size of one part in megabytes; 0 means the appliance does not know.
    #[tracing::instrument(skip(self), fields(appliance.name = %self.name()))]
    pub async fn part_size_mb(&self, id: &str) -> Result<i64, VcError> {
        let (_, value) = self.call_json(Endpoint::PartSize(id), |_| None).await?;
        decode("part size", value)
    }

    /// Starts a backup and returns its first status (`BackupJobStatus`).
    #[tracing::instrument(skip_all, fields(appliance.name = %self.name()))]
    pub async fn start_backup(&self, request: &BackupRequest) -> Result<Job, VcError> {
        let (_, value) = self
            .call_json(Endpoint::JobCreate, |g| Some(request.body(g)))
            .await?;
        job_from_value(value)
    }

    /// Checks a backup request without starting it.
    #[tracing::instrument(skip_all, fields(appliance.name = %self.name()))]
    pub async fn validate_backup(&self, request: &BackupRequest) -> Result<ReturnResult, VcError> {
        let (_, value) = self
            .call_json(Endpoint::BackupValidate, |g| Some(request.body(g)))
            .await?;
        return_result("validation", value)
    }

    /// Asks the appliance to cancel a job; the answer says whether it accepted.
    #[tracing::instrument(skip_all, fields(appliance.name = %self.name(), job.id = %id))]
    pub async fn cancel_job(&self, id: &JobId) -> Result<ReturnResult, VcError> {
        let (_, value) = self.call_json(Endpoint::JobCancel(id), |_| None).await?;
        return_result("cancel", value)
    }

    /// Creates the schedule `id`.
    #[tracing::instrument(skip_all, fields(appliance.name = %self.name()))]
    pub async fn create_schedule(&self, id: &str, spec: &ScheduleSpec) -> Result<(), VcError> {
        self.call_void(Endpoint::ScheduleCreate(id), |g| {
            Some(spec.create_body(g, id))
        })
        .await
    }

    /// Replaces the settings of the schedule `id`.
    #[tracing::instrument(skip_all, fields(appliance.name = %self.name()))]
    pub async fn update_schedule(&self, id: &str, spec: &ScheduleSpec) -> Result<(), VcError> {
        self.call_void(Endpoint::ScheduleUpdate(id), |g| Some(spec.update_body(g)))
            .await
    }

    /// Deletes the schedule `id`.
    #[tracing::instrument(skip_all, fields(appliance.name = %self.name()))]
    pub async fn delete_schedule(&self, id: &str) -> Result<(), VcError> {
        self.call_void(Endpoint::ScheduleDelete(id), |_| None).await
    }
}

/// A `BackupJobStatus` already unwrapped from its generation's envelope.
fn job_from_value(value: Value) -> Result<Job, VcError> {
    // The value is bare now, which is the `/api` shape the mapping reads.
    let bytes = serde_json::to_vec(&value)
        .map_err(|_| VcError::bad_response("the job status cannot be read"))?;
    mapping::job_from_status(ApiGeneration::Api, &bytes)
}

fn return_result(what: &str, value: Value) -> Result<ReturnResult, VcError> {
    let wire: WireReturnResult = decode(what, value)?;
    Ok(ReturnResult {
        status: text::bounded(&wire.status, 20),
        messages: text::bounded_messages(wire.messages.iter().map(WireMessage::text)),
    })
}

/// True when the appliance refused because another backup or restore is running.
pub fn is_feature_in_use(err: &VcError) -> bool {
    matches!(err, VcError::Appliance(fault) if fault.error_type == "FEATURE_IN_USE")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> BackupRequest {
        BackupRequest {
            parts: vec!["seat".into()],
            backup_password: None,
            location_type: LocationType::Sftp,
            location: "sftp://h/p".into(),
            location_user: None,
            location_password: None,
            comment: Some("c".into()),
        }
    }

    #[test]
    fn rest_wraps_the_request_in_piece_and_api_does_not() {
        let rest = request().body(ApiGeneration::Rest);
        assert_eq!(rest["piece"]["location_type"], "SFTP");
        let api = request().body(ApiGeneration::Api);
        assert_eq!(api["parts"], json!(["seat"]));
        assert!(api.get("piece").is_none());
        assert!(api.get("backup_password").is_none());
    }

    #[test]
    fn schedule_bodies_follow_each_generation() {
        let spec = ScheduleSpec {
            parts: vec![],
            location: "nfs://h/p".into(),
            location_user: None,
            location_password: None,
            backup_password: None,
            enable: true,
            hour: 2,
            minute: 0,
            days: vec!["MONDAY".into()],
            max_count: Some(7),
        };
        let rest = spec.create_body(ApiGeneration::Rest, "default");
        assert!(rest.get("schedule").is_none());
        assert!(rest["spec"].get("backup_password").is_none());
        assert_eq!(rest["spec"]["recurrence_info"]["days"], json!(["MONDAY"]));
        let api = spec.create_body(ApiGeneration::Api, "default");
        assert_eq!(api["schedule"], "default");
        assert_eq!(api["spec"]["retention_info"]["max_count"], 7);
        assert!(spec.update_body(ApiGeneration::Api).get("spec").is_none());
        assert!(spec.update_body(ApiGeneration::Rest).get("spec").is_some());
        let routes = |g| {
            [
                Endpoint::ScheduleCreate("default").route(g),
                Endpoint::ScheduleUpdate("default").route(g),
            ]
            .map(|r| format!("{} {}", r.method, r.path_and_query()))
        };
        assert_eq!(
            routes(ApiGeneration::Rest),
            [
                "POST /rest/appliance/recovery/backup/schedules/default",
                "PUT /rest/appliance/recovery/backup/schedules/update/default",
            ]
        );
        assert_eq!(
            routes(ApiGeneration::Api),
            [
                "POST /api/appliance/recovery/backup/schedules",
                "PATCH /api/appliance/recovery/backup/schedules/default",
            ]
        );
    }
}
