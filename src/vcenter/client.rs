//! One client per appliance: a single reused session, generation detection, bounded
//! answers and errors sorted into kinds a person can act on.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, HeaderValue};
use serde_json::Value;

use super::envelope::{self, parse_error, session_token};
use super::error::VcError;
use super::mapping;
use super::paths::{Endpoint, Route};
use super::target::Target;
use super::tls;
use crate::domain::text;
use crate::domain::{ApiGeneration, Job, JobId, Schedule, VersionInfo};
use crate::secret::Secret;

/// Largest answer body read; anything bigger is a bad response.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Most job ids asked for in one `job/details` request, to keep the URL short.
const DETAILS_IDS_PER_REQUEST: usize = 100;

const SESSION_HEADER: &str = "vmware-api-session-id";
/// Asks the appliance not to set a session cookie; the token travels in a header.
const HEADER_AUTHN: &str = "vmware-use-header-authn";
const USER_AGENT: &str = concat!("vbdash/", env!("CARGO_PKG_VERSION"));

/// HTTP clients already built, by certificate checks and timeout, for
/// [`ApplianceClient::sharing`].
#[derive(Default)]
pub struct HttpClients {
    built: HashMap<(String, Duration), reqwest::Client>,
}

/// The client of one appliance. Cheap to share behind an `Arc`: every call reuses one
/// session, and a lost session is renewed once per call.
pub struct ApplianceClient {
    target: Target,
    http: reqwest::Client,
    session: Mutex<SessionState>,
    /// Held while logging in, so that concurrent calls share one new session.
    login_lock: tokio::sync::Mutex<()>,
    logins: AtomicU64,
}

#[derive(Default)]
struct SessionState {
    token: Option<Secret>,
    generation: Option<ApiGeneration>,
    /// Counts logins, so a call holding an old token can tell that a newer one exists.
    epoch: u64,
}

#[derive(Clone)]
struct Session {
    token: Secret,
    generation: ApiGeneration,
    epoch: u64,
}

/// How a request proves who sends it.
enum Auth<'a> {
    Basic,
    Session(&'a Secret),
}

/// A whole answer: status and at most [`MAX_BODY_BYTES`] of body.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Answer {
    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

impl ApplianceClient {
    /// Builds the client with an HTTP client of its own; no connection is made yet.
    pub fn new(target: Target) -> Result<ApplianceClient, VcError> {
        ApplianceClient::sharing(target, &mut HttpClients::default())
    }

    /// Builds the client, reusing the HTTP client of `shared` made for the same certificate
    /// checks and timeout. Each HTTP client holds its own trust roots and connection
    /// pools, which a fleet of thousands should not pay for once per appliance. Sessions
    /// travel in a header of each request, never in a cookie, so sharing mixes none.
    pub fn sharing(target: Target, shared: &mut HttpClients) -> Result<ApplianceClient, VcError> {
        target.validate()?;

        let key = (tls_key(&target.tls), target.timeout);
        let http = match shared.built.get(&key) {
            Some(http) => {
                if target.tls == super::TlsMode::Insecure {
                    tracing::warn!(
                        appliance.name = %target.name,
                        "certificate checks are switched off for this appliance"
                    );
                }
                http.clone()
            }
            None => {
                let http = build_http(&target)?;
                shared.built.insert(key, http.clone());
                http
            }
        };

        Ok(ApplianceClient {
            target,
            http,
            session: Mutex::new(SessionState::default()),
            login_lock: tokio::sync::Mutex::new(()),
            logins: AtomicU64::new(0),
        })
    }

    /// The appliance's name from the configuration.
    pub fn name(&self) -> &str {
        &self.target.name
    }

    /// The API generation, known after the first login.
    pub fn generation(&self) -> Option<ApiGeneration> {
        self.state().generation
    }

    /// How many logins succeeded so far.
    pub fn logins(&self) -> u64 {
        self.logins.load(Ordering::Relaxed)
    }

    /// Logs in, detecting the generation: `/api/session` first, then `/rest` when the
    /// appliance has no `/api`. A session already held is kept and its generation returned,
    /// because appliances cap open sessions; `logout` first to detect afresh (after an
    /// appliance upgrade, say).
    #[tracing::instrument(skip(self), fields(appliance.name = %self.name()))]
    pub async fn login(&self) -> Result<ApiGeneration, VcError> {
        let _guard = self.login_lock.lock().await;
        if let Some(session) = self.current_session() {
            return Ok(session.generation);
        }

        let session = self.detect_and_login().await?;
        Ok(session.generation)
    }

    /// The appliance's version.
    #[tracing::instrument(skip(self), fields(appliance.name = %self.name()))]
    pub async fn version(&self) -> Result<VersionInfo, VcError> {
        let (generation, body) = self.fetch(Endpoint::Version).await?;
        mapping::version_from(generation, &body)
    }

    /// The backup schedule; `None` when none is configured.
    #[tracing::instrument(skip(self), fields(appliance.name = %self.name()))]
    pub async fn schedule(&self) -> Result<Option<Schedule>, VcError> {
        let (generation, body) = self.fetch(Endpoint::Schedules).await?;
        mapping::schedule_from_list(generation, &body)
    }

    /// Ids of every backup job the appliance keeps, sorted.
    #[tracing::instrument(skip(self), fields(appliance.name = %self.name()))]
    pub async fn job_ids(&self) -> Result<Vec<JobId>, VcError> {
        let (generation, body) = self.fetch(Endpoint::JobList).await?;
        mapping::job_ids_from_list(generation, &body)
    }

    /// Details of the given jobs, or of every job when `ids` is empty; sorted by id.
    #[tracing::instrument(skip_all, fields(appliance.name = %self.name(), count = ids.len()))]
    pub async fn job_details(&self, ids: &[JobId]) -> Result<Vec<Job>, VcError> {
        if ids.len() <= DETAILS_IDS_PER_REQUEST {
            let (generation, body) = self.fetch(Endpoint::JobDetails(ids)).await?;
            return mapping::jobs_from_details(generation, &body);
        }

        let mut jobs = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(DETAILS_IDS_PER_REQUEST) {
            let (generation, body) = self.fetch(Endpoint::JobDetails(chunk)).await?;
            jobs.extend(mapping::jobs_from_details(generation, &body)?);
        }
        jobs.sort_by(|a, b| a.id.cmp(&b.id));
        jobs.dedup_by(|later, earlier| later.id == earlier.id);
        Ok(jobs)
    }

    /// The per-job status call (`BackupJobStatus`), which says less than the details.
    #[tracing::instrument(skip_all, fields(appliance.name = %self.name(), job.id = %id))]
    pub async fn job_status(&self, id: &JobId) -> Result<Job, VcError> {
        let (generation, body) = self.fetch(Endpoint::JobStatus(id)).await?;
        mapping::job_from_status(generation, &body)
    }

    /// Calls an endpoint that answers with a value and returns it unwrapped (no `/rest`
    /// `value` wrapper). `body` builds the request body for the generation in use.
    #[tracing::instrument(skip_all, fields(appliance.name = %self.name()))]
    pub async fn call_json<F>(
        &self,
        endpoint: Endpoint<'_>,
        body: F,
    ) -> Result<(ApiGeneration, Value), VcError>
    where
        F: Fn(ApiGeneration) -> Option<Value> + Sync,
    {
        let (generation, answer) = self.call(endpoint, &body).await?;
        let value = envelope::value_result(generation, answer.status, &answer.body)?;
        Ok((generation, value))
    }

    /// Calls an endpoint that answers with nothing: `/rest` 200 with an empty body, `/api`
    /// 204. `body` builds the request body for the generation in use.
    #[tracing::instrument(skip_all, fields(appliance.name = %self.name()))]
    pub async fn call_void<F>(&self, endpoint: Endpoint<'_>, body: F) -> Result<(), VcError>
    where
        F: Fn(ApiGeneration) -> Option<Value> + Sync,
    {
        let (_, answer) = self.call(endpoint, &body).await?;
        envelope::void_result(answer.status, &answer.body)
    }

    /// Ends the session, if any. Best effort: a failure is logged and forgotten.
    #[tracing::instrument(skip(self), fields(appliance.name = %self.name()))]
    pub async fn logout(&self) {
        let taken = {
            let mut state = self.state();
            state.token.take().zip(state.generation)
        };
        let Some((token, generation)) = taken else {
            return;
        };

        let route = Endpoint::SessionDelete.route(generation);
        match self.send(&route, Auth::Session(&token), None).await {
            Ok(answer) if answer.is_success() => tracing::debug!("logged out"),
            Ok(answer) => tracing::debug!(status = answer.status, "logout refused"),
            Err(err) => tracing::debug!(error = %err, "logout failed"),
        }
    }

    /// A successful answer's generation and body, or the appliance's error.
    async fn fetch(&self, endpoint: Endpoint<'_>) -> Result<(ApiGeneration, Vec<u8>), VcError> {
        let (generation, answer) = self.call(endpoint, &|_| None).await?;
        if !answer.is_success() {
            return Err(VcError::from_fault(parse_error(
                answer.status,
                &answer.body,
            )));
        }
        Ok((generation, answer.body))
    }

    /// Sends one call with the session, logging in first if needed. On a 401 the session
    /// is renewed once and the call repeated once; a second 401 is returned as it came.
    async fn call(
        &self,
        endpoint: Endpoint<'_>,
        body: &(dyn Fn(ApiGeneration) -> Option<Value> + Sync),
    ) -> Result<(ApiGeneration, Answer), VcError> {
        let session = self.session().await?;
        let route = endpoint.route(session.generation);
        let answer = self
            .send(
                &route,
                Auth::Session(&session.token),
                body(session.generation).as_ref(),
            )
            .await?;
        if answer.status != 401 {
            return Ok((session.generation, answer));
        }

        tracing::debug!("session no longer accepted, logging in again");
        let fresh = self.renew(session.epoch).await?;
        let route = endpoint.route(fresh.generation);
        let answer = self
            .send(
                &route,
                Auth::Session(&fresh.token),
                body(fresh.generation).as_ref(),
            )
            .await?;
        Ok((fresh.generation, answer))
    }

    /// The current session, logging in when there is none.
    async fn session(&self) -> Result<Session, VcError> {
        if let Some(session) = self.current_session() {
            return Ok(session);
        }

        let _guard = self.login_lock.lock().await;
        if let Some(session) = self.current_session() {
            return Ok(session);
        }
        match self.generation() {
            Some(generation) => self.login_with(generation).await,
            None => self.detect_and_login().await,
        }
    }

    /// A new session in place of the one numbered `stale_epoch`, unless another call
    /// already renewed it.
    async fn renew(&self, stale_epoch: u64) -> Result<Session, VcError> {
        let _guard = self.login_lock.lock().await;
        if let Some(session) = self.current_session().filter(|s| s.epoch != stale_epoch) {
            return Ok(session);
        }

        self.state().token = None;
        match self.generation() {
            Some(generation) => self.login_with(generation).await,
            None => self.detect_and_login().await,
        }
    }

    /// Section 1.1 of the API notes: a JSON string from `/api/session` means the new
    /// generation; 401 and 503 are final; anything else means "no `/api`, try `/rest`".
    /// The caller holds `login_lock`.
    async fn detect_and_login(&self) -> Result<Session, VcError> {
        let route = Endpoint::SessionCreate.route(ApiGeneration::Api);
        let answer = self.send(&route, Auth::Basic, None).await?;

        match answer.status {
            200 | 201 => {
                if let Some(token) = session_token(ApiGeneration::Api, &answer.body) {
                    return Ok(self.store_session(token, ApiGeneration::Api));
                }
            }
            401 | 503 => return Err(login_failure(&answer)),
            _ => {}
        }

        tracing::debug!(
            status = answer.status,
            "no /api session endpoint, trying /rest"
        );
        self.login_with(ApiGeneration::Rest).await
    }

    /// Logs in on a known generation. The caller holds `login_lock`.
    async fn login_with(&self, generation: ApiGeneration) -> Result<Session, VcError> {
        let route = Endpoint::SessionCreate.route(generation);
        let answer = self.send(&route, Auth::Basic, None).await?;
        if !answer.is_success() {
            return Err(login_failure(&answer));
        }

        let token = session_token(generation, &answer.body)
            .ok_or_else(|| VcError::bad_response("the login answer holds no session token"))?;
        Ok(self.store_session(token, generation))
    }

    fn store_session(&self, token: String, generation: ApiGeneration) -> Session {
        let token = Secret::new(token);
        let mut state = self.state();
        state.token = Some(token.clone());
        state.generation = Some(generation);
        state.epoch += 1;
        self.logins.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(generation = generation.as_str(), "logged in");

        Session {
            token,
            generation,
            epoch: state.epoch,
        }
    }

    fn current_session(&self) -> Option<Session> {
        let state = self.state();
        Some(Session {
            token: state.token.clone()?,
            generation: state.generation?,
            epoch: state.epoch,
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, SessionState> {
        // The state stays consistent even if a holder panicked: every write is one step.
        self.session
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sends one request and reads the whole answer, bounded.
    async fn send(
        &self,
        route: &Route,
        auth: Auth<'_>,
        body: Option<&Value>,
    ) -> Result<Answer, VcError> {
        let started = Instant::now();
        let url = route.url(&self.target.base_url);
        let mut request = self
            .http
            .request(route.method.clone(), url.clone())
            .header(ACCEPT, "application/json");

        request = match auth {
            Auth::Basic => request
                .basic_auth(&self.target.username, Some(self.target.password.expose()))
                .header(HEADER_AUTHN, "true"),
            Auth::Session(token) => request.header(SESSION_HEADER, session_header(token)?),
        };
        if let Some(body) = body {
            request = request.json(body);
        }

        let response = request
            .send()
            .await
            .map_err(|err| self.transport_error(&err))?;
        let status = response.status().as_u16();
        let body = self.read_body(response).await?;

        tracing::debug!(
            method = %route.method,
            path = url.path(),
            status,
            bytes = body.len(),
            duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            "appliance call"
        );
        Ok(Answer { status, body })
    }

    async fn read_body(&self, mut response: reqwest::Response) -> Result<Vec<u8>, VcError> {
        let too_large =
            || VcError::bad_response(format!("body larger than {} MiB", MAX_BODY_BYTES >> 20));
        if response
            .content_length()
            .is_some_and(|n| n > MAX_BODY_BYTES as u64)
        {
            return Err(too_large());
        }

        let announced = response.content_length();
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.body_error(&e, body.len(), announced))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// Sorts a failure while the body arrives: the head came, so this is a stall or a
    /// dropped connection, said with how much of the answer arrived.
    fn body_error(&self, err: &reqwest::Error, received: usize, total: Option<u64>) -> VcError {
        if err.is_timeout() {
            return VcError::Stalled {
                after: self.target.timeout,
            };
        }
        if tls::tls_failure(err).is_some() {
            return self.transport_error(err);
        }
        let amount = match total {
            Some(total) => format!("{received} of {total} bytes"),
            None => format!("{received} bytes"),
        };
        VcError::ConnectionLost {
            detail: format!("the answer broke off after {amount}: {}", root_cause(err)),
        }
    }

    /// Sorts a failure below HTTP into timeout, TLS or unreachable.
    fn transport_error(&self, err: &reqwest::Error) -> VcError {
        if err.is_timeout() {
            return VcError::Timeout {
                after: self.target.timeout,
            };
        }
        if let Some(check) = tls::tls_failure(err) {
            return VcError::Tls { check };
        }
        if closed_before_answering(err) {
            return VcError::ConnectionLost {
                detail: "the connection closed before an answer arrived".to_owned(),
            };
        }
        if err.is_body() || err.is_decode() {
            return VcError::Unreachable {
                detail: format!(
                    "connection lost while reading the answer: {}",
                    root_cause(err)
                ),
            };
        }
        VcError::Unreachable {
            detail: root_cause(err),
        }
    }
}

/// Why a login failed: 401 is a refused login, 503 about sessions is the session limit.
fn login_failure(answer: &Answer) -> VcError {
    let fault = parse_error(answer.status, &answer.body);
    match answer.status {
        401 => VcError::Authentication {
            detail: if fault.messages.is_empty() {
                "the appliance did not accept the user name and password".to_owned()
            } else {
                fault.joined_messages()
            },
        },
        503 if mentions_session_limit(&fault.messages) => VcError::SessionLimit {
            detail: fault.joined_messages(),
        },
        _ => VcError::from_fault(fault),
    }
}

fn mentions_session_limit(messages: &[String]) -> bool {
    messages.iter().any(|m| {
        let lower = m.to_lowercase();
        lower.contains("session") || lower.contains("limit")
    })
}

/// True when the connection ended before the answer's head was complete: the appliance
/// or a proxy dropped it mid-request.
fn closed_before_answering(err: &(dyn StdError + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(err) = current {
        if let Some(hyper_err) = err.downcast_ref::<hyper::Error>() {
            return hyper_err.is_incomplete_message();
        }
        current = err.source();
    }
    false
}

fn session_header(token: &Secret) -> Result<HeaderValue, VcError> {
    let mut value = HeaderValue::from_str(token.expose())
        .map_err(|_| VcError::bad_response("the session token is not a valid header value"))?;
    value.set_sensitive(true);
    Ok(value)
}

/// The innermost cause of an error, in one bounded line.
fn root_cause(err: &(dyn StdError + 'static)) -> String {
    let mut cause = err;
    while let Some(source) = cause.source() {
        cause = source;
    }

    // Socket errors read better by kind than by their operating-system text.
    if let Some(io) = cause.downcast_ref::<std::io::Error>() {
        use std::io::ErrorKind as K;
        let words = match io.kind() {
            K::ConnectionRefused => Some("connection refused (nothing listens on that port)"),
            K::ConnectionReset => Some("connection reset by the appliance or a proxy"),
            K::ConnectionAborted => Some("connection aborted"),
            K::HostUnreachable => Some("no route to the host"),
            K::NetworkUnreachable => Some("the network is unreachable"),
            K::AddrNotAvailable => Some("the address is not available"),
            K::TimedOut => Some("the connection timed out"),
            _ => None,
        };
        if let Some(words) = words {
            return words.to_owned();
        }
    }

    let text = cause.to_string();
    let text = match text.find(" (os error ") {
        Some(at) => &text[..at],
        None => &text,
    };
    text::bounded(text, 200)
}

/// The reqwest client for one target's certificate checks and timeout.
fn build_http(target: &Target) -> Result<reqwest::Client, VcError> {
    let builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(target.timeout)
        .timeout(target.timeout)
        // Credentials must never follow a redirect to another place.
        .redirect(reqwest::redirect::Policy::none());
    let builder = tls::configure(builder, &target.tls, &target.name)?;
    builder.build().map_err(|err| match &target.tls {
        super::TlsMode::CaFile(path) => VcError::CaFile {
            path: path.display().to_string(),
            reason: "the certificates cannot be used as trust roots".to_owned(),
        },
        _ => VcError::Tls {
            check: format!("cannot set up TLS: {}", root_cause(&err)),
        },
    })
}

/// Which HTTP clients may be shared: the same way of checking certificates.
fn tls_key(mode: &super::TlsMode) -> String {
    match mode {
        super::TlsMode::Verify => "verify".to_owned(),
        super::TlsMode::CaFile(path) => format!("ca:{}", path.display()),
        super::TlsMode::Insecure => "insecure".to_owned(),
    }
}
