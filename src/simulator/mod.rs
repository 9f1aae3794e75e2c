//! A faithful simulation of the appliance backup API, both generations, many appliances
//! behind one listener. Used by tests, `vbdash demo`, `vbdash simulate` and benchmarks.
//!
//! Each appliance is served under its own prefix: `/{appliance}/api/...` and
//! `/{appliance}/rest/...`, so its base URL is `http://host:port/{appliance}`. The
//! simulator shares no code with the client in `vcenter`; it is written from the API
//! reference alone so that the client can be tested against it.

mod appliance;
mod auth;
mod certificates;
mod config;
mod connection;
mod errors;
mod faults;
mod handlers;
mod history;
mod jobs;
mod own_tls;
mod prng;
mod render;
mod requests;
mod routes;
mod schedule;
mod sessions;
mod tls;
mod version;
mod wire;

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use axum::{Extension, Router};
use chrono::{DateTime, Utc};

use appliance::ApplianceState;
use connection::{Entrance, ResetSwitch};
use errors::VapiError;
use jobs::{Ending, Failure, JobKind};
use own_tls::TlsSwitch;
use routes::Op;
use wire::{Generation, plain_response};

pub use certificates::WRONG_HOST_NAME;
pub use config::{
    DEFAULT_LOCATION, Fault, HOSTILE_HOST, Profile, SimAppliance, SimConfig, SimSchedule, SimTls,
};
pub use own_tls::TlsAppliances;
pub use tls::{TlsFront, TlsIdentity};

/// How long a request whose connection was reset waits for the connection to go away
/// before it answers the way a plain close looks, so that it never lingers.
const RESET_GRACE: Duration = Duration::from_secs(5);

/// The simulator: cheap to clone, all state shared behind an `Arc`.
#[derive(Clone)]
pub struct Simulator {
    inner: Arc<Inner>,
}

struct Inner {
    appliances: HashMap<String, Mutex<ApplianceState>>,
    names: Vec<String>,
    /// The appliances served with `tls`, on listeners of their own.
    tls: HashMap<String, TlsSwitch>,
    /// Added to the wall clock, so tests can move time forward.
    clock_offset_ms: AtomicI64,
    /// Requests answered for any appliance, for the stats route.
    requests: AtomicU64,
}

/// Totals over the whole simulated fleet, served as JSON at [`STATS_PATH`] so that a
/// benchmark in another process can count what the dashboard cost the appliances.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SimStats {
    /// Simulated appliances.
    pub appliances: u64,
    /// Successful logins, all appliances together.
    pub logins: u64,
    /// The most logins one appliance saw.
    pub max_logins: u64,
    /// Requests addressed to an appliance, answered or not.
    pub requests: u64,
}

/// Path of the fleet totals; two segments, so it can never be an appliance's API path.
pub const STATS_PATH: &str = "/_simulator/stats";

impl Simulator {
    /// A simulator for the configured appliances. A repeated name keeps its first entry.
    pub fn new(config: SimConfig) -> Simulator {
        let created = Utc::now();
        let mut appliances = HashMap::with_capacity(config.appliances.len());
        let mut names = Vec::with_capacity(config.appliances.len());
        let mut tls = HashMap::new();
        for appliance in config.appliances {
            if appliances.contains_key(&appliance.name) {
                let name = appliance.name.as_str();
                tracing::warn!(appliance.name = %name, "duplicate simulated appliance ignored");
                continue;
            }
            names.push(appliance.name.clone());
            if let Some(kind) = appliance.tls {
                let switch = TlsSwitch::new(kind, appliance.tls_listen);
                tls.insert(appliance.name.clone(), switch);
            }
            let name = appliance.name.clone();
            appliances.insert(name, Mutex::new(ApplianceState::new(appliance, created)));
        }
        Simulator {
            inner: Arc::new(Inner {
                appliances,
                names,
                tls,
                clock_offset_ms: AtomicI64::new(0),
                requests: AtomicU64::new(0),
            }),
        }
    }

    /// The router serving every appliance under its name.
    pub fn router(&self) -> Router {
        Router::new()
            .route(STATS_PATH, axum::routing::get(stats))
            .fallback(dispatch)
            .with_state(self.clone())
    }

    /// Totals over every appliance: logins and requests so far.
    pub fn stats(&self) -> SimStats {
        let mut stats = SimStats {
            appliances: self.inner.names.len() as u64,
            logins: 0,
            max_logins: 0,
            requests: self.inner.requests.load(Ordering::Relaxed),
        };
        for cell in self.inner.appliances.values() {
            let logins = lock(cell).logins;
            stats.logins += logins;
            stats.max_logins = stats.max_logins.max(logins);
        }
        stats
    }

    /// Serves the appliances without `tls` over plain HTTP on `listener` until the task
    /// is dropped, which also ends its connections. Never returns an error: a failed
    /// accept is logged and tried again.
    pub async fn serve(self, listener: tokio::net::TcpListener) -> std::io::Result<()> {
        connection::accept_loop(listener, self.router(), Entrance::Shared, None).await;
        Ok(())
    }

    /// Makes a `tls` appliance present `kind` from its next handshake on, dropping its
    /// open connections as a restart with a new certificate would. False for an unknown
    /// appliance or one without `tls`.
    pub fn set_tls(&self, appliance: &str, kind: SimTls) -> bool {
        let Some(switch) = self.inner.tls.get(appliance) else {
            return false;
        };
        switch.set(kind);
        tracing::debug!(appliance.name = %appliance, tls = kind.word(), "certificate replaced");
        true
    }

    /// Names of the appliances, in configuration order.
    pub fn appliance_names(&self) -> Vec<String> {
        self.inner.names.clone()
    }

    /// Sets the appliance's fault; false for an unknown appliance.
    pub fn set_fault(&self, appliance: &str, fault: Fault) -> bool {
        self.with_state(appliance, |state, _| state.fault = Some(fault))
            .is_some()
    }

    /// Clears the appliance's fault; false for an unknown appliance.
    pub fn clear_fault(&self, appliance: &str) -> bool {
        self.with_state(appliance, |state, _| state.fault = None)
            .is_some()
    }

    /// Sets how many sessions one user may hold; false for an unknown appliance. Sessions
    /// already open stay open.
    pub fn set_max_sessions(&self, appliance: &str, cap: usize) -> bool {
        self.with_state(appliance, |state, _| state.config.max_sessions = cap)
            .is_some()
    }

    /// Drops every session, so the next call with an old token gets 401.
    pub fn expire_sessions(&self, appliance: &str) -> bool {
        self.with_state(appliance, |state, _| state.sessions.clear())
            .is_some()
    }

    /// Ends the running job now; false when the appliance is unknown or idle.
    pub fn finish_running_job(&self, appliance: &str, succeed: bool) -> bool {
        let ending = if succeed {
            Ending::Succeeded
        } else {
            Ending::Failed(Failure::ManagerException)
        };
        self.with_state(appliance, |state, now| state.end_running(now, ending))
            .unwrap_or(false)
    }

    /// Starts a manual job now, as if someone pressed "backup now" on the appliance.
    /// Returns its id, or `None` when the appliance is unknown or busy.
    pub fn start_job(&self, appliance: &str, comment: &str) -> Option<String> {
        self.with_state(appliance, |state, now| {
            let extras = state.default_extras(JobKind::Manual, comment);
            state.start_now(now, JobKind::Manual, extras).ok()
        })
        .flatten()
    }

    /// Makes the appliance forget finished jobs that started before `cutoff`, as real
    /// appliances drop old history. Returns how many were forgotten.
    pub fn forget_jobs_before(&self, appliance: &str, cutoff: DateTime<Utc>) -> usize {
        self.with_state(appliance, |state, _| state.forget_before(cutoff))
            .unwrap_or(0)
    }

    /// Successful logins so far.
    pub fn login_count(&self, appliance: &str) -> u64 {
        self.with_state(appliance, |state, _| state.logins)
            .unwrap_or(0)
    }

    /// Sessions currently open (idle ones already dropped).
    pub fn open_sessions(&self, appliance: &str) -> usize {
        self.with_state(appliance, |state, now| {
            let idle = state.idle_limit();
            state.sessions.open_count(now, idle)
        })
        .unwrap_or(0)
    }

    /// Jobs the appliance remembers, the running one included.
    pub fn job_count(&self, appliance: &str) -> usize {
        self.with_state(appliance, |state, _| state.job_count())
            .unwrap_or(0)
    }

    /// Moves the simulator's clock forward: schedules fire, jobs progress and sessions
    /// idle as if that much time had passed.
    pub fn advance_clock(&self, by: chrono::Duration) {
        let offset = &self.inner.clock_offset_ms;
        offset.fetch_add(by.num_milliseconds(), Ordering::Relaxed);
    }

    /// The simulator's present: the wall clock plus any advance.
    pub fn now(&self) -> DateTime<Utc> {
        let offset = self.inner.clock_offset_ms.load(Ordering::Relaxed);
        Utc::now() + chrono::Duration::milliseconds(offset)
    }

    fn with_state<T>(
        &self,
        appliance: &str,
        act: impl FnOnce(&mut ApplianceState, DateTime<Utc>) -> T,
    ) -> Option<T> {
        let cell = self.inner.appliances.get(appliance)?;
        let now = self.now();
        let mut state = lock(cell);
        state.catch_up(now);
        Some(act(&mut state, now))
    }

    /// Answers one request to a known appliance, without the timing faults.
    fn answer(&self, request: &Request<'_>, state: &mut ApplianceState) -> Response {
        let generation = request.generation;
        let op = routes::route(generation, request.method, &request.path, &request.query);
        let now = self.now();
        state.catch_up(now);
        if let Some(response) = injected_failure(state, generation, op.as_ref(), now) {
            return response;
        }

        if generation == Generation::Api && !state.version.has_api() {
            return no_api_here();
        }
        let Some(op) = op else {
            return VapiError::unknown_url(generation, &request.relative_path())
                .into_response(generation);
        };
        if op == Op::Login {
            return auth::login(state, generation, request.headers, now);
        }

        let (token, session) = match auth::session_of(state, generation, request.headers, now) {
            Ok(found) => found,
            Err(err) => return err.into_response(generation),
        };
        if op == Op::Logout {
            return auth::logout(state, generation, &token);
        }
        if op.is_write() && state.config.read_only_users.contains(&session.login) {
            return VapiError::unauthorized().into_response(generation);
        }
        if op.needs_6_7() && !state.version.has_schedules_and_details() {
            return VapiError::unknown_url(generation, &request.relative_path())
                .into_response(generation);
        }

        let call = handlers::Call {
            generation,
            now,
            query: &request.query,
            body: request.body,
            session,
        };
        handlers::handle(op, state, &call).unwrap_or_else(|err| err.into_response(generation))
    }
}

/// What [`Simulator::answer`] needs of a request.
struct Request<'a> {
    generation: Generation,
    method: &'a Method,
    /// Path segments after `/{appliance}/{api|rest}/`.
    path: Vec<&'a str>,
    query: Vec<(String, String)>,
    headers: &'a HeaderMap,
    body: &'a [u8],
}

impl Request<'_> {
    fn relative_path(&self) -> String {
        format!("/{}", self.path.join("/"))
    }
}

/// Every request lands here: find the appliance, apply timing faults, answer, spoil.
async fn dispatch(
    State(sim): State<Simulator>,
    entrance: Option<Extension<Entrance>>,
    reset: Option<Extension<ResetSwitch>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    // Known gap: path segments are not percent-decoded; job and schedule ids in use are
    // plain words, so nothing needs it yet.
    let mut segments: Vec<&str> = uri.path().trim_start_matches('/').split('/').collect();
    if segments.len() > 1 && segments.last() == Some(&"") {
        segments.pop();
    }
    let (name, generation, path) = match segments.as_slice() {
        [name, "api", path @ ..] => (*name, Generation::Api, path.to_vec()),
        [name, "rest", path @ ..] => (*name, Generation::Rest, path.to_vec()),
        _ => return unknown_appliance(),
    };
    let Some(cell) = sim.inner.appliances.get(name) else {
        return unknown_appliance();
    };
    // A router served by hand has no entrance: it stands for the shared listener.
    let entrance = entrance.map_or(Entrance::Shared, |Extension(entrance)| entrance);
    if !entrance.admits(name, sim.inner.tls.contains_key(name)) {
        return unknown_appliance();
    }
    sim.inner.requests.fetch_add(1, Ordering::Relaxed);

    let fault = lock(cell).fault.clone();
    match &fault {
        Some(Fault::Hang) => std::future::pending::<()>().await,
        Some(Fault::Delay(pause)) => tokio::time::sleep(*pause).await,
        Some(Fault::ConnectionReset) => {
            if let Some(Extension(switch)) = &reset {
                switch.pull();
                tokio::time::sleep(RESET_GRACE).await;
            }
        }
        _ => {}
    }

    let request = Request {
        generation,
        method: &method,
        path,
        query: parse_query(uri.query()),
        headers: &headers,
        body: &body,
    };
    let response = sim.answer(&request, &mut lock(cell));
    let response = match &fault {
        Some(fault) => faults::spoil(fault, response).await,
        None => response,
    };

    tracing::debug!(
        appliance.name = %name,
        method = %method,
        path = %uri.path(),
        status = response.status().as_u16(),
        duration_ms = started.elapsed().as_millis() as u64,
        "simulated appliance answered"
    );
    response
}

async fn stats(State(sim): State<Simulator>) -> axum::Json<SimStats> {
    axum::Json(sim.stats())
}

/// Faults that answer in place of the appliance, on every path. The one-shot 401 spares
/// logins. The session faults change the session table and let the appliance answer as
/// it would with that table.
fn injected_failure(
    state: &mut ApplianceState,
    generation: Generation,
    op: Option<&Op>,
    now: DateTime<Utc>,
) -> Option<Response> {
    let fault = state.fault.as_ref()?;
    if let Some(response) = faults::replacement(fault) {
        return Some(response);
    }
    match fault {
        Fault::Forbidden403 => Some(VapiError::unauthorized().into_response(generation)),
        Fault::Unauthorized401OnNextCall if op != Some(&Op::Login) => {
            state.fault = None;
            Some(VapiError::unauthenticated().into_response(generation))
        }
        Fault::SessionExpiresMidPoll if op == Some(&Op::ListJobs) => {
            state.fault = None;
            state.sessions.clear();
            None
        }
        Fault::SessionsExhausted => {
            state.fault = None;
            exhaust_sessions(state, now);
            None
        }
        _ => None,
    }
}

/// Drops every session and fills the table with sessions of the configured user, as
/// other clients sharing the account would.
fn exhaust_sessions(state: &mut ApplianceState, now: DateTime<Utc>) {
    let idle = state.idle_limit();
    let cap = state.config.max_sessions;
    let login = state.config.username.clone();
    state.sessions.clear();
    let taken = state.sessions.fill(&login, now, idle, cap);
    tracing::debug!(appliance.name = %state.config.name, taken, "simulated sessions exhausted");
}

/// Before 7.0 U2 `/api` is not the REST front end at all: the proxy answers 404 with a
/// page, not a vAPI error.
fn no_api_here() -> Response {
    plain_response(
        StatusCode::NOT_FOUND,
        "text/html; charset=utf-8",
        "<html><head><title>404 Not Found</title></head>\
         <body><h1>404 Not Found</h1></body></html>",
    )
}

fn unknown_appliance() -> Response {
    plain_response(
        StatusCode::NOT_FOUND,
        "text/plain",
        "no such simulated appliance",
    )
}

/// Query pairs in order, repeated keys kept.
fn parse_query(query: Option<&str>) -> Vec<(String, String)> {
    let Some(query) = query else {
        return Vec::new();
    };
    url::form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

/// Locks an appliance; a panic elsewhere must not take the whole simulator down.
fn lock(cell: &Mutex<ApplianceState>) -> MutexGuard<'_, ApplianceState> {
    cell.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
