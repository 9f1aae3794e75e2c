//! Every appliance URL, for both API generations, built from one table.
//!
//! The generations differ in more than a prefix: `/rest` wraps some operations in sub-paths
//! (`job/{id}/cancel`, `schedules/update/{id}`) or uses `?~action=`, while `/api` uses
//! `?action=` everywhere; list filters are `filter.jobs.N=` on `/rest` and `jobs=` on `/api`.
//! Each endpoint is therefore spelled out once per generation below, never patched from the
//! other generation's string.

use std::fmt::Write as _;

use reqwest::Method;
use url::Url;

use crate::domain::{ApiGeneration, JobId};

/// One operation of the appliance API, with its path parameters.
#[derive(Debug, Clone, Copy)]
pub enum Endpoint<'a> {
    /// Create a session (login).
    SessionCreate,
    /// Who am I: details of the current session.
    SessionInfo,
    /// Delete the current session (logout).
    SessionDelete,
    /// Appliance version.
    Version,
    /// Whether the recovery subsystem is supported.
    RecoveryInfo,
    /// The parts a backup may include.
    Parts,
    /// Size of one part, in megabytes.
    PartSize(&'a str),
    /// Ids of all backup jobs.
    JobList,
    /// Start a backup job.
    JobCreate,
    /// Status of one backup job (`BackupJobStatus`).
    JobStatus(&'a JobId),
    /// Cancel one backup job.
    JobCancel(&'a JobId),
    /// Details of the given jobs; an empty slice asks for all jobs.
    JobDetails(&'a [JobId]),
    /// Check a backup request without starting it.
    BackupValidate,
    /// All schedules, keyed by schedule id.
    Schedules,
    /// Create a schedule: the id is in the path on `/rest`, in the body on `/api`.
    ScheduleCreate(&'a str),
    /// Change a schedule.
    ScheduleUpdate(&'a str),
    /// Delete a schedule.
    ScheduleDelete(&'a str),
    /// Start a backup with the settings of a schedule.
    ScheduleRun(&'a str),
}

/// A request line: method, path segments under the base URL and query pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The HTTP method.
    pub method: Method,
    /// Path segments under the base URL, unencoded.
    pub segments: Vec<String>,
    /// Keys are written as given (some hold `~` or dots), values are percent-encoded.
    pub query: Vec<(String, String)>,
}

const SESSION_REST: &[&str] = &["rest", "com", "vmware", "cis", "session"];
const SESSION_API: &[&str] = &["api", "session"];
const VERSION_REST: &[&str] = &["rest", "appliance", "system", "version"];
const VERSION_API: &[&str] = &["api", "appliance", "system", "version"];
const RECOVERY_REST: &[&str] = &["rest", "appliance", "recovery"];
const RECOVERY_API: &[&str] = &["api", "appliance", "recovery"];
const BACKUP_REST: &[&str] = &["rest", "appliance", "recovery", "backup"];
const BACKUP_API: &[&str] = &["api", "appliance", "recovery", "backup"];

impl Endpoint<'_> {
    /// The route of this endpoint in the given generation.
    pub fn route(&self, generation: ApiGeneration) -> Route {
        use ApiGeneration::{Api, Rest};
        use Endpoint::*;
        use Method as M;

        match (generation, *self) {
            (Rest, SessionCreate) => Route::new(M::POST, SESSION_REST, &[]),
            (Api, SessionCreate) => Route::new(M::POST, SESSION_API, &[]),
            (Rest, SessionInfo) => {
                Route::new(M::POST, SESSION_REST, &[]).with_query("~action", "get")
            }
            (Api, SessionInfo) => Route::new(M::GET, SESSION_API, &[]),
            (Rest, SessionDelete) => Route::new(M::DELETE, SESSION_REST, &[]),
            (Api, SessionDelete) => Route::new(M::DELETE, SESSION_API, &[]),

            (Rest, Version) => Route::new(M::GET, VERSION_REST, &[]),
            (Api, Version) => Route::new(M::GET, VERSION_API, &[]),
            (Rest, RecoveryInfo) => Route::new(M::GET, RECOVERY_REST, &[]),
            (Api, RecoveryInfo) => Route::new(M::GET, RECOVERY_API, &[]),

            (Rest, Parts) => Route::new(M::GET, BACKUP_REST, &["parts"]),
            (Api, Parts) => Route::new(M::GET, BACKUP_API, &["parts"]),
            (Rest, PartSize(id)) => Route::new(M::GET, BACKUP_REST, &["parts", id]),
            (Api, PartSize(id)) => Route::new(M::GET, BACKUP_API, &["parts", id]),

            (Rest, JobList) => Route::new(M::GET, BACKUP_REST, &["job"]),
            (Api, JobList) => Route::new(M::GET, BACKUP_API, &["job"]),
            (Rest, JobCreate) => Route::new(M::POST, BACKUP_REST, &["job"]),
            (Api, JobCreate) => Route::new(M::POST, BACKUP_API, &["job"]),
            (Rest, JobStatus(id)) => Route::new(M::GET, BACKUP_REST, &["job", id.as_str()]),
            (Api, JobStatus(id)) => Route::new(M::GET, BACKUP_API, &["job", id.as_str()]),
            (Rest, JobCancel(id)) => {
                Route::new(M::POST, BACKUP_REST, &["job", id.as_str(), "cancel"])
            }
            (Api, JobCancel(id)) => Route::new(M::POST, BACKUP_API, &["job", id.as_str()])
                .with_query("action", "cancel"),
            (Rest, JobDetails(ids)) => {
                // The 1-based indexed form is the one the official documentation shows.
                let route = Route::new(M::GET, BACKUP_REST, &["job", "details"]);
                ids.iter().enumerate().fold(route, |r, (n, id)| {
                    r.with_query(format!("filter.jobs.{}", n + 1), id.as_str())
                })
            }
            (Api, JobDetails(ids)) => {
                let route = Route::new(M::GET, BACKUP_API, &["job", "details"]);
                ids.iter()
                    .fold(route, |r, id| r.with_query("jobs", id.as_str()))
            }

            (Rest, BackupValidate) => Route::new(M::POST, BACKUP_REST, &["validate"]),
            (Api, BackupValidate) => {
                Route::new(M::POST, BACKUP_API, &[]).with_query("action", "validate")
            }

            (Rest, Schedules) => Route::new(M::GET, BACKUP_REST, &["schedules"]),
            (Api, Schedules) => Route::new(M::GET, BACKUP_API, &["schedules"]),
            (Rest, ScheduleCreate(id)) => Route::new(M::POST, BACKUP_REST, &["schedules", id]),
            (Api, ScheduleCreate(_)) => Route::new(M::POST, BACKUP_API, &["schedules"]),
            (Rest, ScheduleDelete(id)) => Route::new(M::DELETE, BACKUP_REST, &["schedules", id]),
            (Api, ScheduleDelete(id)) => Route::new(M::DELETE, BACKUP_API, &["schedules", id]),
            (Rest, ScheduleUpdate(id)) => {
                Route::new(M::PUT, BACKUP_REST, &["schedules", "update", id])
            }
            (Api, ScheduleUpdate(id)) => Route::new(M::PATCH, BACKUP_API, &["schedules", id]),
            // No tilde here on `/rest` either: run is a declared action of the service.
            (Rest, ScheduleRun(id)) => {
                Route::new(M::POST, BACKUP_REST, &["schedules", id]).with_query("action", "run")
            }
            (Api, ScheduleRun(id)) => {
                Route::new(M::POST, BACKUP_API, &["schedules", id]).with_query("action", "run")
            }
        }
    }
}

impl Route {
    fn new(method: Method, prefix: &[&str], rest: &[&str]) -> Route {
        let segments = prefix.iter().chain(rest).map(|s| (*s).to_owned()).collect();
        Route {
            method,
            segments,
            query: Vec::new(),
        }
    }

    fn with_query(mut self, key: impl Into<String>, value: &str) -> Route {
        self.query.push((key.into(), value.to_owned()));
        self
    }

    /// Path and query as sent, such as `/api/appliance/recovery/backup/job/details?jobs=X`.
    pub fn path_and_query(&self) -> String {
        let root = Url::parse("http://appliance.invalid/").expect("a fixed URL parses");
        self.url(&root)[url::Position::BeforePath..].to_owned()
    }

    /// The full URL under `base`, which may carry a path prefix of its own.
    pub fn url(&self, base: &Url) -> Url {
        let mut url = base.clone();
        url.set_fragment(None);
        url.set_query(None);

        // A base that cannot hold a path is refused when the target is built.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(&self.segments);
        }

        url.set_query(self.query_string().as_deref());
        url
    }

    fn query_string(&self) -> Option<String> {
        if self.query.is_empty() {
            return None;
        }

        // Built by hand: form encoding would turn the `~` of `~action` into `%7E`.
        let mut query = String::new();
        for (n, (key, value)) in self.query.iter().enumerate() {
            if n > 0 {
                query.push('&');
            }
            let value: String = url::form_urlencoded::byte_serialize(value.as_bytes()).collect();
            let _ = write!(query, "{key}={value}");
        }
        Some(query)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn joins_onto_a_base_with_a_path_prefix() {
        let route = Endpoint::Version.route(ApiGeneration::Api);
        let with_slash = route.url(&base("http://127.0.0.1:8000/vcsa-01/"));
        let without = route.url(&base("http://127.0.0.1:8000/vcsa-01"));
        let expected = "http://127.0.0.1:8000/vcsa-01/api/appliance/system/version";
        assert_eq!(with_slash.as_str(), expected);
        assert_eq!(without.as_str(), expected);
    }

    #[test]
    fn joins_onto_a_bare_host() {
        let route = Endpoint::SessionInfo.route(ApiGeneration::Rest);
        let url = route.url(&base("https://vcsa.example.test"));
        assert_eq!(
            url.as_str(),
            "https://vcsa.example.test/rest/com/vmware/cis/session?~action=get"
        );
    }

    #[test]
    fn schedule_ids_are_encoded_as_one_segment() {
        let route = Endpoint::ScheduleRun("a/b c").route(ApiGeneration::Api);
        let url = route.url(&base("https://vcsa.example.test/"));
        assert_eq!(
            url.path(),
            "/api/appliance/recovery/backup/schedules/a%2Fb%20c"
        );
    }
}
