//! Every operation of both generations, with its exact method and path, in one table.
//! Paths are relative to the generation root (`/rest/` or `/api/`).
//!
//! Known gap: system names and archives at a location, restore and reconciliation are
//! not simulated; their paths answer 404 like any unknown path.

use axum::http::Method;

use super::wire::Generation;

/// One operation the simulated appliance answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    Login,
    SessionInfo,
    Logout,
    Version,
    RecoveryInfo,
    ListParts,
    PartSize(String),
    Validate,
    ListJobs,
    CreateJob,
    JobDetails,
    JobStatus(String),
    CancelJob(String),
    ListSchedules,
    GetSchedule(String),
    /// `/rest` names the schedule in the path, `/api` in the body.
    CreateSchedule(Option<String>),
    UpdateSchedule(String),
    DeleteSchedule(String),
    RunSchedule(String),
}

impl Op {
    /// Operations that change something: the appliance wants an admin role for these.
    pub fn is_write(&self) -> bool {
        matches!(
            self,
            Op::Validate
                | Op::CreateJob
                | Op::CancelJob(_)
                | Op::CreateSchedule(_)
                | Op::UpdateSchedule(_)
                | Op::DeleteSchedule(_)
                | Op::RunSchedule(_)
        )
    }

    /// Operations that arrived in 6.7: recovery info, job details and schedules.
    pub fn needs_6_7(&self) -> bool {
        matches!(
            self,
            Op::RecoveryInfo
                | Op::JobDetails
                | Op::ListSchedules
                | Op::GetSchedule(_)
                | Op::CreateSchedule(_)
                | Op::UpdateSchedule(_)
                | Op::DeleteSchedule(_)
                | Op::RunSchedule(_)
        )
    }
}

/// The operation at `method` + `path`, or `None` for a path nothing answers.
pub(crate) fn route(
    generation: Generation,
    method: &Method,
    path: &[&str],
    query: &[(String, String)],
) -> Option<Op> {
    match generation {
        Generation::Rest => route_rest(method, path, query),
        Generation::Api => route_api(method, path, action(query, "action")),
    }
}

fn route_rest(method: &Method, path: &[&str], query: &[(String, String)]) -> Option<Op> {
    if path == ["com", "vmware", "cis", "session"] {
        return match (method, action(query, "~action")) {
            (&Method::POST, None) => Some(Op::Login),
            (&Method::POST, Some("get")) => Some(Op::SessionInfo),
            (&Method::DELETE, None) => Some(Op::Logout),
            _ => None,
        };
    }
    if let Some(op) = route_common(method, path) {
        return Some(op);
    }

    let backup = path.strip_prefix(&["appliance", "recovery", "backup"])?;
    let m = method;
    let op = match backup {
        ["validate"] if m == Method::POST => Op::Validate,
        ["job"] if m == Method::POST => Op::CreateJob,
        ["job", id, "cancel"] if m == Method::POST => Op::CancelJob(id.to_string()),
        ["schedules", "update", id] if m == Method::PUT => Op::UpdateSchedule(id.to_string()),
        // Schedule run takes the plain `action`, not the tilde form.
        ["schedules", id] if m == Method::POST => match action(query, "action") {
            Some("run") => Op::RunSchedule(id.to_string()),
            None => Op::CreateSchedule(Some(id.to_string())),
            Some(_) => return None,
        },
        _ => return route_backup_reads(method, backup),
    };
    Some(op)
}

fn route_api(method: &Method, path: &[&str], action: Option<&str>) -> Option<Op> {
    if path == ["session"] {
        return match (method, action) {
            (&Method::POST, None) => Some(Op::Login),
            (&Method::GET, None) => Some(Op::SessionInfo),
            (&Method::DELETE, None) => Some(Op::Logout),
            _ => None,
        };
    }
    if let Some(op) = route_common(method, path) {
        return Some(op);
    }

    let backup = path.strip_prefix(&["appliance", "recovery", "backup"])?;
    let m = method;
    let op = match (backup, action) {
        ([], Some("validate")) if m == Method::POST => Op::Validate,
        (["job"], None) if m == Method::POST => Op::CreateJob,
        (["job", id], Some("cancel")) if m == Method::POST => Op::CancelJob(id.to_string()),
        (["schedules"], None) if m == Method::POST => Op::CreateSchedule(None),
        (["schedules", id], None) if m == Method::PATCH => Op::UpdateSchedule(id.to_string()),
        (["schedules", id], Some("run")) if m == Method::POST => Op::RunSchedule(id.to_string()),
        (_, None) => return route_backup_reads(method, backup),
        _ => return None,
    };
    Some(op)
}

/// Paths with the same shape in both generations.
fn route_common(method: &Method, path: &[&str]) -> Option<Op> {
    match path {
        ["appliance", "system", "version"] if method == Method::GET => Some(Op::Version),
        ["appliance", "recovery"] if method == Method::GET => Some(Op::RecoveryInfo),
        _ => None,
    }
}

/// Reads and deletes under `appliance/recovery/backup`, the same in both generations.
fn route_backup_reads(method: &Method, backup: &[&str]) -> Option<Op> {
    let op = match (method, backup) {
        (&Method::GET, ["parts"]) => Op::ListParts,
        (&Method::GET, ["parts", id]) => Op::PartSize(id.to_string()),
        (&Method::GET, ["job"]) => Op::ListJobs,
        (&Method::GET, ["job", "details"]) => Op::JobDetails,
        (&Method::GET, ["job", id]) => Op::JobStatus(id.to_string()),
        (&Method::GET, ["schedules"]) => Op::ListSchedules,
        (&Method::GET, ["schedules", id]) => Op::GetSchedule(id.to_string()),
        (&Method::DELETE, ["schedules", id]) => Op::DeleteSchedule(id.to_string()),
        _ => return None,
    };
    Some(op)
}

/// The value of the action selector, if the query has one.
fn action<'q>(query: &'q [(String, String)], key: &str) -> Option<&'q str> {
    query
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn path(p: &str) -> Vec<&str> {
        p.split('/').collect()
    }

    #[test]
    fn the_same_operation_has_different_addresses() {
        let rest = Generation::Rest;
        let api = Generation::Api;
        let cancel_rest = path("appliance/recovery/backup/job/J/cancel");
        assert_eq!(
            route(rest, &Method::POST, &cancel_rest, &[]),
            Some(Op::CancelJob("J".into()))
        );
        let cancel_api = path("appliance/recovery/backup/job/J");
        let action = q(&[("action", "cancel")]);
        assert_eq!(
            route(api, &Method::POST, &cancel_api, &action),
            Some(Op::CancelJob("J".into()))
        );
        let update_rest = path("appliance/recovery/backup/schedules/update/default");
        assert_eq!(
            route(rest, &Method::PUT, &update_rest, &[]),
            Some(Op::UpdateSchedule("default".into()))
        );
        let update_api = path("appliance/recovery/backup/schedules/default");
        assert_eq!(
            route(api, &Method::PATCH, &update_api, &[]),
            Some(Op::UpdateSchedule("default".into()))
        );
        let session = path("com/vmware/cis/session");
        let get = q(&[("~action", "get")]);
        assert_eq!(
            route(rest, &Method::POST, &session, &get),
            Some(Op::SessionInfo)
        );
        assert_eq!(route(api, &Method::POST, &cancel_rest, &[]), None);
    }
}
