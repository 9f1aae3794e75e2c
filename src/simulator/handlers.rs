//! The operations themselves, as gather (read the body) -> decide (change the
//! appliance) -> render (per generation).

use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::appliance::{ApplianceState, JobExtras};
use super::errors::{ErrorKind, VapiError};
use super::jobs::JobKind;
use super::render::{job_details, job_status};
use super::requests::{
    ApiScheduleCreate, BackupRequest, PieceBody, RestScheduleBody, RunBody, ScheduleSpec,
    check_backup_request, known_parts, read_json, read_optional_json,
};
use super::routes::Op;
use super::schedule::LiveSchedule;
use super::sessions::Session;
use super::wire::{Generation, Keyed, Message, WireTime, success, void};

/// One authenticated call.
pub(crate) struct Call<'a> {
    pub generation: Generation,
    pub now: DateTime<Utc>,
    pub query: &'a [(String, String)],
    pub body: &'a [u8],
    pub session: Session,
}

type Outcome = Result<Response, VapiError>;

/// Runs an operation other than login and logout.
pub(crate) fn handle(op: Op, state: &mut ApplianceState, call: &Call<'_>) -> Outcome {
    let generation = call.generation;
    match op {
        Op::SessionInfo => Ok(success(
            generation,
            StatusCode::OK,
            &session_info(&call.session),
        )),
        Op::Version => Ok(success(generation, StatusCode::OK, &version(state))),
        Op::RecoveryInfo => Ok(success(
            generation,
            StatusCode::OK,
            &Supported { supported: true },
        )),
        Op::ListParts => Ok(success(generation, StatusCode::OK, &parts(state))),
        Op::PartSize(id) => part_size(state, call, &id),
        Op::Validate => validate(state, call),
        Op::ListJobs => list_jobs(state, call),
        Op::CreateJob => create_job(state, call),
        Op::JobDetails => Ok(details(state, call)),
        Op::JobStatus(id) => status(state, call, &id),
        Op::CancelJob(id) => cancel(state, call, &id),
        Op::ListSchedules => Ok(list_schedules(state, generation)),
        Op::GetSchedule(id) => get_schedule(state, generation, &id),
        Op::CreateSchedule(id) => create_schedule(state, call, id),
        Op::UpdateSchedule(id) => update_schedule(state, call, &id),
        Op::DeleteSchedule(id) => delete_schedule(state, generation, &id),
        Op::RunSchedule(id) => run_schedule(state, call, &id),
        Op::Login | Op::Logout => Err(VapiError::unauthenticated()),
    }
}

#[derive(Serialize)]
struct SessionInfo {
    user: String,
    created_time: WireTime,
    last_accessed_time: WireTime,
}

fn session_info(session: &Session) -> SessionInfo {
    SessionInfo {
        user: session.user.clone(),
        created_time: WireTime(session.created),
        last_accessed_time: WireTime(session.last_accessed),
    }
}

#[derive(Serialize)]
struct Supported {
    supported: bool,
}

#[derive(Serialize)]
struct VersionStruct {
    version: String,
    product: &'static str,
    build: String,
    #[serde(rename = "type")]
    kind: &'static str,
    summary: String,
    releasedate: String,
    install_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'static str>,
}

fn version(state: &ApplianceState) -> VersionStruct {
    let patched = state.version.patch > 0;
    let installed = super::jobs::time_of(0) + Duration::days(19_000 + (state.build.len() as i64));
    VersionStruct {
        version: state.config.version.clone(),
        product: "VMware vCenter Server",
        build: state.build.clone(),
        kind: "vCenter Server with an embedded Platform Services Controller",
        summary: if patched {
            format!("Patch for VMware vCenter Server {}", state.config.version)
        } else {
            String::new()
        },
        releasedate: if patched {
            "2024-06-25".to_owned()
        } else {
            String::new()
        },
        install_time: super::wire::format_time(installed),
        name: (state.version.major >= 9).then_some("vCenter Server"),
    }
}

#[derive(Serialize)]
struct Part {
    id: &'static str,
    name: Message,
    description: Message,
    selected_by_default: bool,
    optional: bool,
}

fn parts(state: &ApplianceState) -> Vec<Part> {
    known_parts(state.version)
        .iter()
        .map(|id| {
            let (name, description) = match *id {
                "common" => (
                    "Inventory and configuration",
                    "Core configuration and inventory data",
                ),
                "seat" => (
                    "Stats, Events, and Tasks",
                    "Historical statistics, events and tasks",
                ),
                _ => (
                    "Supervisors Control Plane",
                    "Supervisor cluster control plane state",
                ),
            };
            Part {
                id,
                name: Message::new("com.vmware.applmgmt.backup.parts.name", name),
                description: Message::new(
                    "com.vmware.applmgmt.backup.parts.description",
                    description,
                ),
                selected_by_default: true,
                optional: *id != "common",
            }
        })
        .collect()
}

/// Part sizes in MB, from the newest backup's size.
fn part_size(state: &ApplianceState, call: &Call<'_>, id: &str) -> Outcome {
    if !known_parts(state.version).contains(&id) {
        return Err(VapiError::part_not_found(id));
    }
    let newest_bytes = state
        .jobs(call.now)
        .map(|job| job.size_bytes)
        .max()
        .unwrap_or(3 << 30);
    let total_mb = (newest_bytes >> 20) as i64;
    let size = match id {
        "common" => total_mb * 3 / 5,
        "seat" => total_mb * 2 / 5,
        _ => 180,
    };
    Ok(success(call.generation, StatusCode::OK, &size))
}

#[derive(Serialize)]
struct ReturnResult {
    status: &'static str,
    messages: Vec<Message>,
}

/// Reads a `BackupRequest`: wrapped in `piece` on `/rest`, bare on `/api`.
fn backup_request(call: &Call<'_>) -> Result<BackupRequest, VapiError> {
    match call.generation {
        Generation::Api => read_json::<Option<BackupRequest>>(call.body)?
            .ok_or_else(|| VapiError::bad_body("a BackupRequest object is required")),
        Generation::Rest => read_json::<Option<PieceBody>>(call.body)?
            .and_then(|body| body.piece)
            .ok_or_else(|| VapiError::bad_body("the field piece is required")),
    }
}

fn validate(state: &mut ApplianceState, call: &Call<'_>) -> Outcome {
    let request = backup_request(call)?;
    if state.is_busy() {
        return Err(VapiError::feature_in_use());
    }
    check_backup_request(request, state.version)?;

    let result = ReturnResult {
        status: "OK",
        messages: Vec::new(),
    };
    Ok(success(call.generation, StatusCode::OK, &result))
}

fn list_jobs(state: &ApplianceState, call: &Call<'_>) -> Outcome {
    let ids: Vec<String> = state.jobs(call.now).map(|job| state.id_of(&job)).collect();
    Ok(success(call.generation, StatusCode::OK, &ids))
}

fn create_job(state: &mut ApplianceState, call: &Call<'_>) -> Outcome {
    let request = backup_request(call)?;
    if state.is_busy() {
        return Err(VapiError::feature_in_use());
    }
    let checked = check_backup_request(request, state.version)?;

    let extras = JobExtras {
        location: checked.location,
        location_user: checked.location_user,
        comment: checked.comment,
        user: Some(call.session.user.clone()),
    };
    let id = state.start_now(call.now, JobKind::Manual, extras)?;
    started(state, call, &id, StatusCode::CREATED)
}

/// The status of a job just started.
fn started(state: &ApplianceState, call: &Call<'_>, id: &str, api_status: StatusCode) -> Outcome {
    let view = state
        .find(id, call.now)
        .ok_or_else(|| VapiError::job_not_found(id))?;
    tracing::info!(appliance.name = %state.config.name, job.id = %id, "simulated backup started");
    Ok(success(
        call.generation,
        api_status,
        &job_status(state, &view),
    ))
}

fn status(state: &ApplianceState, call: &Call<'_>, id: &str) -> Outcome {
    let view = state
        .find(id, call.now)
        .ok_or_else(|| VapiError::job_not_found(id))?;
    Ok(success(
        call.generation,
        StatusCode::OK,
        &job_status(state, &view),
    ))
}

/// Job details, all of them or those named by the filter (`jobs=` on `/api`;
/// `filter.jobs=` or `filter.jobs.N=` on `/rest`). Unknown ids are left out.
fn details(state: &ApplianceState, call: &Call<'_>) -> Response {
    let wanted = filter_ids(call.generation, call.query);
    let entries = match wanted {
        None => state
            .jobs(call.now)
            .map(|job| (state.id_of(&job), job_details(state, &job)))
            .collect(),
        Some(mut ids) => {
            ids.sort();
            ids.dedup();
            ids.iter()
                .filter_map(|id| state.find(id, call.now).map(|job| (id.clone(), job)))
                .map(|(id, job)| (id, job_details(state, &job)))
                .collect()
        }
    };
    let map = Keyed {
        generation: call.generation,
        entries,
    };
    success(call.generation, StatusCode::OK, &map)
}

fn filter_ids(generation: Generation, query: &[(String, String)]) -> Option<Vec<String>> {
    let matches = |key: &str| match generation {
        Generation::Api => key == "jobs",
        Generation::Rest => {
            key == "filter.jobs"
                || key
                    .strip_prefix("filter.jobs.")
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        }
    };
    let ids: Vec<String> = query
        .iter()
        .filter(|(key, _)| matches(key))
        .map(|(_, value)| value.clone())
        .collect();
    (!ids.is_empty()).then_some(ids)
}

fn cancel(state: &mut ApplianceState, call: &Call<'_>, id: &str) -> Outcome {
    let result = match state.cancel(id, call.now) {
        None => return Err(VapiError::job_not_found(id)),
        Some(true) => ReturnResult {
            status: "OK",
            messages: vec![
                Message::new(
                    "com.vmware.applmgmt.backup.job.cancel.accepted",
                    format!("Cancel request for backup job {id} accepted."),
                )
                .with_args(vec![id.to_owned()]),
            ],
        },
        Some(false) => ReturnResult {
            status: "FAIL",
            messages: vec![
                Message::new(
                    "com.vmware.applmgmt.backup.job.not.running",
                    format!("Backup job {id} is not running and cannot be canceled."),
                )
                .with_args(vec![id.to_owned()]),
            ],
        },
    };
    Ok(success(call.generation, StatusCode::OK, &result))
}

fn list_schedules(state: &ApplianceState, generation: Generation) -> Response {
    let entries = state
        .schedule
        .iter()
        .map(|schedule| (schedule.id.clone(), schedule.info(state.version)))
        .collect();
    success(
        generation,
        StatusCode::OK,
        &Keyed {
            generation,
            entries,
        },
    )
}

fn the_schedule<'s>(state: &'s ApplianceState, id: &str) -> Result<&'s LiveSchedule, VapiError> {
    state
        .schedule
        .as_ref()
        .filter(|schedule| schedule.id == id)
        .ok_or_else(|| VapiError::schedule_not_found(id))
}

fn get_schedule(state: &ApplianceState, generation: Generation, id: &str) -> Outcome {
    let schedule = the_schedule(state, id)?;
    Ok(success(
        generation,
        StatusCode::OK,
        &schedule.info(state.version),
    ))
}

fn create_schedule(
    state: &mut ApplianceState,
    call: &Call<'_>,
    path_id: Option<String>,
) -> Outcome {
    let (id, spec) = match (call.generation, path_id) {
        (Generation::Rest, Some(id)) => (Some(id), rest_spec(call.body)?),
        _ => {
            let body: Option<ApiScheduleCreate> = read_json(call.body)?;
            let body = body.ok_or_else(|| VapiError::bad_body("schedule and spec are required"))?;
            (body.schedule, body.spec)
        }
    };
    let (Some(id), Some(spec)) = (id, spec) else {
        return Err(VapiError::invalid_argument(
            "com.vmware.applmgmt.backup.missing.field",
            "The fields schedule and spec are required.",
        ));
    };

    if let Some(existing) = &state.schedule {
        return Err(if existing.id == id {
            VapiError::new(
                ErrorKind::AlreadyExists,
                Message::new(
                    "com.vmware.applmgmt.backup.schedule.exists",
                    format!("A backup schedule with id {id} already exists."),
                )
                .with_args(vec![id.clone()]),
            )
        } else {
            VapiError::invalid_argument(
                "com.vmware.applmgmt.backup.schedule.only.one",
                "Only one backup schedule is supported; update or delete the existing one.",
            )
        });
    }

    state.schedule = Some(LiveSchedule::create(&id, spec, state.version)?);
    Ok(void(call.generation))
}

fn rest_spec(body: &[u8]) -> Result<Option<ScheduleSpec>, VapiError> {
    let body: Option<RestScheduleBody> = read_json(body)?;
    Ok(body.and_then(|body| body.spec))
}

fn update_schedule(state: &mut ApplianceState, call: &Call<'_>, id: &str) -> Outcome {
    the_schedule(state, id)?;
    let spec = match call.generation {
        Generation::Rest => rest_spec(call.body)?,
        Generation::Api => read_json(call.body)?,
    };
    let spec = spec.ok_or_else(|| {
        VapiError::invalid_argument(
            "com.vmware.applmgmt.backup.missing.field",
            "The spec is required.",
        )
    })?;

    let version = state.version;
    if let Some(schedule) = state.schedule.as_mut() {
        schedule.update(spec, version)?;
    }
    Ok(void(call.generation))
}

fn delete_schedule(state: &mut ApplianceState, generation: Generation, id: &str) -> Outcome {
    the_schedule(state, id)?;
    state.schedule = None;
    Ok(void(generation))
}

/// Runs the schedule now. The job counts as scheduled: it uses the schedule's location
/// and parts (which type the appliance reports here is not documented).
fn run_schedule(state: &mut ApplianceState, call: &Call<'_>, id: &str) -> Outcome {
    the_schedule(state, id)?;
    let body: RunBody = read_optional_json(call.body)?;
    if state.is_busy() {
        return Err(VapiError::feature_in_use());
    }

    let extras = state.default_extras(JobKind::Scheduled, body.comment.as_deref().unwrap_or(""));
    let id = state.start_now(call.now, JobKind::Scheduled, extras)?;
    started(state, call, &id, StatusCode::OK)
}
