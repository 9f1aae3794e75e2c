//! Jobs on the wire: `BackupJobStatus` and `Details.Info`, with exactly the fields each
//! status carries (no `end_time` while running, `error` only on failure, never `null`).

use serde::Serialize;

use super::appliance::{ApplianceState, JobView, ViewState};
use super::jobs::{Failure, JobKind, start_stamp, time_of};
use super::version::ApplianceVersion;
use super::wire::{Message, WireTime};

/// `BackupJobStatus`.
#[derive(Serialize)]
pub(crate) struct JobStatus {
    id: String,
    state: &'static str,
    messages: Vec<Message>,
    progress: i64,
    start_time: WireTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time: Option<WireTime>,
}

/// `Details.Info`.
#[derive(Serialize)]
pub(crate) struct JobDetails {
    location: String,
    location_user: String,
    #[serde(rename = "type")]
    kind: &'static str,
    messages: Vec<Message>,
    description: Message,
    service: &'static str,
    operation: &'static str,
    status: &'static str,
    cancelable: bool,
    duration: i64,
    size: i64,
    progress: Progress,
    start_time: WireTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time: Option<WireTime>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    build: Option<BuildInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fast_backup: Option<bool>,
}

/// `cis.task.Progress`. Failed jobs carry no progress message, as real appliances show.
#[derive(Serialize)]
struct Progress {
    total: i64,
    completed: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Message>,
}

#[derive(Serialize)]
struct BuildInfo {
    version_name: String,
    version: String,
    build_number: String,
}

/// The per-job status reply.
pub(crate) fn job_status(state: &ApplianceState, view: &JobView) -> JobStatus {
    let (word, messages) = match view.state {
        ViewState::Running => ("INPROGRESS", vec![progress_message(view.progress)]),
        ViewState::Succeeded => ("SUCCEEDED", vec![done_message()]),
        ViewState::Failed(failure) => (
            "FAILED",
            vec![failure_message(failure, &job_location(state, view).0)],
        ),
    };
    JobStatus {
        id: state.id_of(view),
        state: word,
        messages,
        progress: i64::from(view.progress),
        start_time: WireTime(time_of(view.start_ms)),
        end_time: view.end_ms.map(|ms| WireTime(time_of(ms))),
    }
}

/// One entry of the job details map.
pub(crate) fn job_details(state: &ApplianceState, view: &JobView) -> JobDetails {
    let (base, location_user) = job_location(state, view);
    let (status, messages, progress_text, error) = match view.state {
        ViewState::Running => (
            "RUNNING",
            vec![],
            Some(progress_message(view.progress)),
            None,
        ),
        ViewState::Succeeded => ("SUCCEEDED", vec![], Some(done_message()), None),
        ViewState::Failed(failure) => (
            "FAILED",
            vec![failure_message(failure, &base)],
            None,
            Some(serde_json::json!({})),
        ),
    };
    let user = match view.kind {
        JobKind::Manual => state
            .extras(view.start_ms)
            .and_then(|extras| extras.user.clone())
            .or_else(|| Some(super::appliance::display_login(&state.config.username))),
        JobKind::Scheduled => None,
    };

    JobDetails {
        location: backup_folder(state, view, &base),
        location_user: location_user.unwrap_or_default(),
        kind: match view.kind {
            JobKind::Scheduled => "SCHEDULED",
            JobKind::Manual => "MANUAL",
        },
        messages,
        description: Message::new("com.vmware.applmgmt.backup.job.description", "Backup job"),
        service: "com.vmware.appliance.recovery.backup.job",
        operation: "create",
        status,
        cancelable: view.state == ViewState::Running,
        duration: i64::from(view.duration_s),
        size: i64::try_from(view.size_bytes).unwrap_or(i64::MAX),
        progress: Progress {
            total: 100,
            completed: i64::from(view.progress),
            message: progress_text,
        },
        start_time: WireTime(time_of(view.start_ms)),
        end_time: view.end_ms.map(|ms| WireTime(time_of(ms))),
        error,
        user,
        build: state.version.has_build_info().then(|| {
            let (version, build) = state.build_at(view.start_ms);
            let name = ApplianceVersion::parse(version)
                .map_or_else(|| state.version.version_name(), |v| v.version_name());
            BuildInfo {
                version_name: name,
                version: version.to_owned(),
                build_number: build.to_owned(),
            }
        }),
        fast_backup: state.version.has_fast_backup_info().then_some(false),
    }
}

/// The base location and user a job wrote to.
fn job_location(state: &ApplianceState, view: &JobView) -> (String, Option<String>) {
    match state.extras(view.start_ms) {
        Some(extras) => (extras.location.clone(), extras.location_user.clone()),
        None => {
            let (location, user) = state.seeded_location(view.kind);
            (location.to_owned(), user.map(str::to_owned))
        }
    }
}

/// `<base>/vCenter/sn_<host>/<S|M>_<version>_<YYYYMMDD-hhmmss>_`, the folder the
/// appliance shows for a backup.
fn backup_folder(state: &ApplianceState, view: &JobView, base: &str) -> String {
    let name = &state.config.name;
    let host = if name.contains('.') {
        name.clone()
    } else {
        format!("{name}.example.test")
    };
    let prefix = match view.kind {
        JobKind::Scheduled => 'S',
        JobKind::Manual => 'M',
    };
    format!(
        "{}/vCenter/sn_{host}/{prefix}_{}_{}_",
        base.trim_end_matches('/'),
        state.config.version,
        start_stamp(view.start_ms)
    )
}

fn progress_message(progress: u8) -> Message {
    let text = match progress {
        0..10 => "Preparing the backup",
        10..40 => "Backing up the inventory database",
        40..80 => "Backing up configuration, statistics, events and tasks",
        _ => "Uploading the backup files to the backup location",
    };
    Message::new("com.vmware.applmgmt.backup.job.progress", text)
}

fn done_message() -> Message {
    Message::new(
        "com.vmware.applmgmt.backup.job.finished",
        "Backup job completed",
    )
}

fn failure_message(failure: Failure, location: &str) -> Message {
    match failure {
        Failure::ServerUnreachable => {
            let host = location_host(location);
            Message::new(
                "com.vmware.applmgmt.backup.location.unreachable",
                format!("Unable to connect to the backup server {host}: connection timed out"),
            )
            .with_args(vec![host])
        }
        Failure::NoSpace => Message::new(
            "com.vmware.applmgmt.backup.location.no.space",
            "Insufficient space on the backup location",
        ),
        Failure::ManagerException => Message::new(
            "com.vmware.applmgmt.backup.manager.exception",
            "BackupManager encountered an exception. Please check logs for details.",
        ),
        Failure::Canceled => Message::new(
            "com.vmware.applmgmt.backup.job.canceled",
            "The backup job was canceled by the user.",
        ),
    }
}

/// The host part of a location URL, or the whole text when it has none.
fn location_host(location: &str) -> String {
    let rest = location
        .split_once("://")
        .map_or(location, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    host.split(':').next().unwrap_or(host).to_owned()
}
