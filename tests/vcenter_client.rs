//! The appliance client against small stub servers on 127.0.0.1: generation detection,
//! session reuse and renewal, and every kind of failure.

use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use url::Url;

use vbdash::domain::{ApiGeneration, JobId, JobState, PollOutcome};
use vbdash::secret::Secret;
use vbdash::vcenter::{ApplianceClient, Endpoint, Target, TlsMode, VcError};

// ---------------------------------------------------------------------------------------
// A scripted stub: one closure decides every answer; every request is recorded.

#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: Option<String>,
    session: Option<String>,
    basic_auth: bool,
    header_authn: bool,
}

struct Reply {
    status: u16,
    content_type: Option<&'static str>,
    body: Vec<u8>,
    /// Sent in chunks without a length, so only a streaming reader can notice the size.
    chunked: bool,
}

impl Reply {
    fn json(status: u16, body: &str) -> Reply {
        Reply::raw(status, Some("application/json"), body.as_bytes().to_vec())
    }

    fn raw(status: u16, content_type: Option<&'static str>, body: Vec<u8>) -> Reply {
        Reply {
            status,
            content_type,
            body,
            chunked: false,
        }
    }

    fn empty(status: u16) -> Reply {
        Reply::raw(status, None, Vec::new())
    }
}

type Script = dyn Fn(&Seen) -> Reply + Send + Sync;

struct Stub {
    base: Url,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Stub {
    /// Serves `script` under `prefix` (such as `/vcsa-01`, or `` for none).
    async fn start(prefix: &str, script: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Stub {
        let script: Arc<Script> = Arc::new(script);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let prefix_owned = prefix.to_owned();
        let seen_in = seen.clone();

        let app = axum::Router::new().fallback(move |request: Request| {
            let script = script.clone();
            let seen = seen_in.clone();
            let prefix = prefix_owned.clone();
            async move { answer(&*script, &seen, &prefix, request) }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });

        let base = Url::parse(&format!("http://{addr}{prefix}")).unwrap();
        Stub { base, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    fn count(&self, method: &str, path: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.method == method && s.path == path)
            .count()
    }
}

fn answer(script: &Script, seen: &Mutex<Vec<Seen>>, prefix: &str, request: Request) -> Response {
    let headers: &HeaderMap = request.headers();
    let full_path = request.uri().path();
    let Some(path) = full_path.strip_prefix(prefix) else {
        return Response::builder().status(404).body(Body::empty()).unwrap();
    };
    let request_seen = Seen {
        method: request.method().to_string(),
        path: path.to_owned(),
        query: request.uri().query().map(str::to_owned),
        session: headers
            .get("vmware-api-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        basic_auth: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Basic ")),
        header_authn: headers.get("vmware-use-header-authn").is_some(),
    };
    seen.lock().unwrap().push(request_seen.clone());

    let reply = script(&request_seen);
    let mut builder = Response::builder().status(StatusCode::from_u16(reply.status).unwrap());
    if let Some(content_type) = reply.content_type {
        builder = builder.header(header::CONTENT_TYPE, content_type);
    }
    let body = if reply.chunked {
        let chunks: Vec<Result<Bytes, Infallible>> = reply
            .body
            .chunks(64 * 1024)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        Body::from_stream(futures::stream::iter(chunks))
    } else {
        Body::from(reply.body)
    };
    builder.body(body).unwrap()
}

fn target(base: &Url, timeout: Duration) -> Target {
    Target {
        name: "vcsa-test".into(),
        base_url: base.clone(),
        username: "svc-monitor@vsphere.local".into(),
        password: Secret::new("an-example-password"),
        tls: TlsMode::Verify,
        timeout,
    }
}

fn client(stub: &Stub) -> ApplianceClient {
    ApplianceClient::new(target(&stub.base, Duration::from_secs(5))).unwrap()
}

// ---------------------------------------------------------------------------------------
// Appliance behaviours used by several tests.

/// An `/api` error body with one message.
fn api_error(error_type: &str, text: &str, args: &[&str]) -> String {
    serde_json::json!({
        "error_type": error_type,
        "messages": [{"id": "example.message", "default_message": text, "args": args}],
    })
    .to_string()
}

const VERSION_API: &str = concat!(
    r#"{"version":"8.0.3.00400","product":"VMware vCenter Server","build":"24322735","#,
    r#""type":"vCenter Server","summary":"","releasedate":"","#,
    r#""install_time":"2026-01-01T00:00:00.000Z"}"#
);
const JOBS_API: &str = r#"["20261201-020000-24322735","20261130-020000-24322735"]"#;

/// A new-generation appliance whose sessions are `tok-1`, `tok-2`, ...; `valid` holds
/// the number of the one session it still accepts (0 = none).
fn api_appliance(valid: Arc<AtomicU64>) -> impl Fn(&Seen) -> Reply + Send + Sync {
    move |seen| {
        if seen.path == "/api/session" && seen.method == "POST" {
            let n = valid.fetch_add(1, Ordering::SeqCst) + 1;
            return Reply::json(201, &format!("\"tok-{n}\""));
        }
        let current = format!("tok-{}", valid.load(Ordering::SeqCst));
        if seen.session.as_deref() != Some(current.as_str()) {
            return Reply::json(
                401,
                &api_error("UNAUTHENTICATED", "Authentication required.", &[]),
            );
        }
        match (seen.method.as_str(), seen.path.as_str()) {
            ("GET", "/api/appliance/system/version") => Reply::json(200, VERSION_API),
            ("GET", "/api/appliance/recovery/backup/job") => Reply::json(200, JOBS_API),
            ("DELETE", "/api/session") => Reply::empty(204),
            _ => Reply::json(404, r#"{"error_type":"NOT_FOUND","messages":[]}"#),
        }
    }
}

/// An old-generation appliance: no `/api` (404), `/rest` session and wrapped bodies.
fn rest_appliance(logins: Arc<AtomicU64>) -> impl Fn(&Seen) -> Reply + Send + Sync {
    move |seen| match (seen.method.as_str(), seen.path.as_str()) {
        ("POST", "/api/session") => {
            Reply::raw(404, Some("text/html"), b"<html>404</html>".to_vec())
        }
        ("POST", "/rest/com/vmware/cis/session") => {
            let n = logins.fetch_add(1, Ordering::SeqCst) + 1;
            Reply::json(200, &format!(r#"{{"value":"rest-{n}"}}"#))
        }
        ("GET", "/rest/appliance/recovery/backup/job") => {
            Reply::json(200, &format!(r#"{{"value":{JOBS_API}}}"#))
        }
        ("GET", "/rest/appliance/recovery/backup/job/details") => {
            Reply::json(200, r#"{"value":[]}"#)
        }
        _ => Reply::json(
            404,
            r#"{"type":"com.vmware.vapi.std.errors.not_found","value":{"messages":[]}}"#,
        ),
    }
}

// ---------------------------------------------------------------------------------------
// Generation detection and sessions.

#[tokio::test]
async fn new_generation_is_detected_and_its_token_sent() {
    let stub = Stub::start("", api_appliance(Arc::new(AtomicU64::new(0)))).await;
    let client = client(&stub);

    assert_eq!(client.generation(), None);
    assert_eq!(client.login().await.unwrap(), ApiGeneration::Api);
    assert_eq!(client.generation(), Some(ApiGeneration::Api));

    let version = client.version().await.unwrap();
    assert_eq!(version.version, "8.0.3.00400");
    assert_eq!(version.build, "24322735");

    let seen = stub.seen();
    assert!(
        seen[0].basic_auth && seen[0].header_authn,
        "login uses Basic auth: {seen:?}"
    );
    assert_eq!(seen[1].session.as_deref(), Some("tok-1"));
    assert!(!seen[1].basic_auth, "the password is sent only to log in");
    assert_eq!(stub.count("POST", "/rest/com/vmware/cis/session"), 0);
}

#[tokio::test]
async fn missing_api_falls_back_to_rest() {
    let stub = Stub::start("", rest_appliance(Arc::new(AtomicU64::new(0)))).await;
    let client = client(&stub);

    assert_eq!(client.login().await.unwrap(), ApiGeneration::Rest);
    let ids = client.job_ids().await.unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0].as_str(), "20261130-020000-24322735");

    let last = stub.seen().pop().unwrap();
    assert_eq!(last.path, "/rest/appliance/recovery/backup/job");
    assert_eq!(last.session.as_deref(), Some("rest-1"));
}

#[tokio::test]
async fn non_json_success_on_api_session_also_means_rest() {
    let logins = Arc::new(AtomicU64::new(0));
    let rest = rest_appliance(logins);
    let stub = Stub::start("", move |seen| {
        if seen.path == "/api/session" {
            return Reply::raw(200, Some("text/html"), b"<html>vSphere</html>".to_vec());
        }
        rest(seen)
    })
    .await;

    assert_eq!(client(&stub).login().await.unwrap(), ApiGeneration::Rest);
}

#[tokio::test]
async fn first_call_logs_in_by_itself_and_the_session_is_reused() {
    let stub = Stub::start("", api_appliance(Arc::new(AtomicU64::new(0)))).await;
    let client = Arc::new(client(&stub));

    let calls = (0..6).map(|_| {
        let client = client.clone();
        tokio::spawn(async move { client.job_ids().await })
    });
    for call in futures::future::join_all(calls).await {
        assert_eq!(call.unwrap().unwrap().len(), 2);
    }
    client.version().await.unwrap();

    assert_eq!(client.logins(), 1);
    assert_eq!(stub.count("POST", "/api/session"), 1);
}

#[tokio::test]
async fn expired_session_is_renewed_once_mid_session() {
    let valid = Arc::new(AtomicU64::new(0));
    let stub = Stub::start("", api_appliance(valid.clone())).await;
    let client = client(&stub);

    client.version().await.unwrap();
    assert_eq!(client.logins(), 1);

    // The appliance forgets every session, as after its idle timeout.
    valid.store(100, Ordering::SeqCst);
    let ids = client.job_ids().await.unwrap();

    assert_eq!(ids.len(), 2);
    assert_eq!(client.logins(), 2);
    let seen = stub.seen();
    let job_calls: Vec<_> = seen
        .iter()
        .filter(|s| s.path.ends_with("/backup/job"))
        .collect();
    assert_eq!(job_calls.len(), 2, "one refused call, one retry: {seen:?}");
    assert_eq!(job_calls[1].session.as_deref(), Some("tok-101"));
}

#[tokio::test]
async fn refused_fresh_login_is_an_authentication_failure() {
    let logins = Arc::new(AtomicU64::new(0));
    let stub = Stub::start("", move |seen| match seen.path.as_str() {
        "/api/session" if logins.fetch_add(1, Ordering::SeqCst) == 0 => Reply::json(201, "\"t\""),
        "/api/session" => Reply::json(401, r#"{"error_type":"UNAUTHENTICATED","messages":[]}"#),
        _ => Reply::json(401, r#"{"error_type":"UNAUTHENTICATED","messages":[]}"#),
    })
    .await;
    let client = client(&stub);

    let err = client.job_ids().await.unwrap_err();
    assert_eq!(err.kind(), PollOutcome::Authentication, "{err}");
    assert_eq!(client.logins(), 1);
    assert_eq!(stub.count("GET", "/api/appliance/recovery/backup/job"), 1);
}

#[tokio::test]
async fn bad_credentials_are_final_and_do_not_try_rest() {
    let stub = Stub::start("", |_| {
        Reply::json(
            401,
            &api_error("UNAUTHENTICATED", "Invalid user name or password.", &[]),
        )
    })
    .await;

    let err = client(&stub).login().await.unwrap_err();
    assert_eq!(err.kind(), PollOutcome::Authentication);
    assert_eq!(
        err.to_string(),
        "login refused: Invalid user name or password."
    );
    assert_eq!(stub.count("POST", "/rest/com/vmware/cis/session"), 0);
    assert!(!err.to_string().contains("an-example-password"));
}

#[tokio::test]
async fn too_many_sessions_is_the_session_limit() {
    let stub = Stub::start("", |_| {
        Reply::json(
            503,
            &api_error(
                "SERVICE_UNAVAILABLE",
                "Session limit reached for user.",
                &[],
            ),
        )
    })
    .await;
    let err = client(&stub).login().await.unwrap_err();
    assert_eq!(err.kind(), PollOutcome::SessionLimit, "{err}");
}

#[tokio::test]
async fn other_unavailable_login_is_an_appliance_error() {
    let stub = Stub::start("", |_| {
        Reply::raw(503, Some("text/html"), b"<h1>503</h1>".to_vec())
    })
    .await;
    let err = client(&stub).login().await.unwrap_err();
    assert_eq!(err.kind(), PollOutcome::ApplianceError, "{err}");
    assert!(err.to_string().contains("503"), "{err}");
}

#[tokio::test]
async fn logout_deletes_the_session_and_the_next_call_logs_in_again() {
    let stub = Stub::start("", api_appliance(Arc::new(AtomicU64::new(0)))).await;
    let client = client(&stub);

    client.version().await.unwrap();
    client.logout().await;
    assert_eq!(stub.count("DELETE", "/api/session"), 1);
    let delete = stub.seen().pop().unwrap();
    assert_eq!(delete.session.as_deref(), Some("tok-1"));

    client.logout().await; // nothing to end: no request
    assert_eq!(stub.count("DELETE", "/api/session"), 1);

    client.version().await.unwrap();
    assert_eq!(client.logins(), 2);
}

#[tokio::test]
async fn login_keeps_a_session_already_held() {
    let stub = Stub::start("", api_appliance(Arc::new(AtomicU64::new(0)))).await;
    let client = client(&stub);

    assert_eq!(client.login().await.unwrap(), ApiGeneration::Api);
    assert_eq!(client.login().await.unwrap(), ApiGeneration::Api);
    assert_eq!(client.logins(), 1);
    assert_eq!(stub.count("POST", "/api/session"), 1);
}

#[tokio::test]
async fn base_url_path_prefix_is_kept() {
    let stub = Stub::start("/vcsa-01", api_appliance(Arc::new(AtomicU64::new(0)))).await;
    assert!(stub.base.path().ends_with("/vcsa-01"));
    let client = client(&stub);

    client.job_ids().await.unwrap();
    assert_eq!(stub.count("GET", "/api/appliance/recovery/backup/job"), 1);
}

#[tokio::test]
async fn job_detail_filters_per_generation() {
    let api_valid = Arc::new(AtomicU64::new(0));
    let api_script = api_appliance(api_valid);
    let api = Stub::start("", move |seen| {
        if seen.path == "/api/appliance/recovery/backup/job/details" {
            return Reply::json(200, "{}");
        }
        api_script(seen)
    })
    .await;
    let rest = Stub::start("", rest_appliance(Arc::new(AtomicU64::new(0)))).await;
    let ids = [
        JobId::parse("20261201-020000-24322735").unwrap(),
        JobId::parse("20261130-020000-24322735").unwrap(),
    ];

    assert!(client(&api).job_details(&ids).await.unwrap().is_empty());
    assert!(client(&rest).job_details(&ids).await.unwrap().is_empty());
    assert!(client(&rest).job_details(&[]).await.unwrap().is_empty());

    let api_query = api.seen().pop().unwrap().query;
    assert_eq!(
        api_query.as_deref(),
        Some("jobs=20261201-020000-24322735&jobs=20261130-020000-24322735")
    );
    let rest_seen = rest.seen();
    let rest_details: Vec<_> = rest_seen
        .iter()
        .filter(|s| s.path.ends_with("/details"))
        .collect();
    assert_eq!(
        rest_details[0].query.as_deref(),
        Some("filter.jobs.1=20261201-020000-24322735&filter.jobs.2=20261130-020000-24322735")
    );
    assert_eq!(rest_details[1].query, None, "no filter asks for every job");
}

// ---------------------------------------------------------------------------------------
// Answers that are not what the API defines.

/// An appliance that logs in on `/api` and answers every other call with `reply`.
async fn answering(reply: impl Fn() -> Reply + Send + Sync + 'static) -> (Stub, ApplianceClient) {
    let stub = Stub::start("", move |seen| {
        if seen.path == "/api/session" {
            return Reply::json(201, "\"tok\"");
        }
        reply()
    })
    .await;
    let client = client(&stub);
    (stub, client)
}

#[tokio::test]
async fn forbidden_is_a_permission_failure() {
    let (_stub, client) = answering(|| {
        Reply::json(
            403,
            &api_error(
                "UNAUTHORIZED",
                "Permission to perform this operation was denied.",
                &[],
            ),
        )
    })
    .await;
    let err = client.schedule().await.unwrap_err();
    assert_eq!(err.kind(), PollOutcome::Permission);
    assert!(
        err.to_string()
            .contains("Permission to perform this operation was denied.")
    );
}

#[tokio::test]
async fn html_server_error_is_reported_without_its_body() {
    let html = b"<html><body><h1>500 Internal Server Error</h1>secret-ish page</body></html>";
    let (_stub, client) =
        answering(move || Reply::raw(500, Some("text/html"), html.to_vec())).await;

    let err = client.version().await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            PollOutcome::ApplianceError | PollOutcome::BadResponse
        ),
        "{err}"
    );
    assert!(err.to_string().contains("500"), "{err}");
    assert!(!err.to_string().contains("<html>"), "{err}");
}

#[tokio::test]
async fn malformed_json_is_a_bad_response() {
    let (_stub, client) = answering(|| Reply::json(200, r#"{"version":"8.0.3","#)).await;
    let err = client.version().await.unwrap_err();
    assert_eq!(err.kind(), PollOutcome::BadResponse);
    assert!(
        err.to_string().starts_with("bad response: malformed JSON"),
        "{err}"
    );
}

#[tokio::test]
async fn wrong_shape_is_a_bad_response_naming_the_field() {
    let (_stub, client) = answering(|| Reply::json(200, r#"{"version":8,"build":"1"}"#)).await;
    let err = client.version().await.unwrap_err();
    assert_eq!(err.kind(), PollOutcome::BadResponse);
    assert!(err.to_string().contains("version"), "{err}");
}

#[tokio::test]
async fn oversize_body_with_a_length_is_refused() {
    let big = format!("[\"{}\"]", "9".repeat(vbdash::vcenter::MAX_BODY_BYTES));
    let (_stub, client) = answering(move || Reply::json(200, &big)).await;
    let err = client.job_ids().await.unwrap_err();
    assert_eq!(err.kind(), PollOutcome::BadResponse);
    assert!(err.to_string().contains("larger than 8 MiB"), "{err}");
}

#[tokio::test]
async fn oversize_streamed_body_is_refused() {
    let big = vec![b' '; vbdash::vcenter::MAX_BODY_BYTES + 1];
    let (_stub, client) = answering(move || Reply {
        chunked: true,
        ..Reply::raw(200, Some("application/json"), big.clone())
    })
    .await;
    let err = client.job_ids().await.unwrap_err();
    assert_eq!(err.kind(), PollOutcome::BadResponse);
    assert!(err.to_string().contains("larger than 8 MiB"), "{err}");
}

#[tokio::test]
async fn unknown_job_is_an_appliance_error() {
    let (_stub, client) = answering(|| {
        Reply::json(
            404,
            &api_error(
                "NOT_FOUND",
                "Backup job {0} was not found.",
                &["20261201-020000-1"],
            ),
        )
    })
    .await;
    let id = JobId::parse("20261201-020000-1").unwrap();
    let err = client.job_status(&id).await.unwrap_err();
    assert_eq!(err.kind(), PollOutcome::ApplianceError);
    assert_eq!(
        err.to_string(),
        "NOT_FOUND: Backup job 20261201-020000-1 was not found."
    );
}

#[tokio::test]
async fn job_status_reads_the_state_vocabulary() {
    let (_stub, client) = answering(|| {
        Reply::json(
            200,
            concat!(
                r#"{"id":"20261201-020000-24322735","state":"SUCCEEDED","messages":[],"#,
                r#""progress":100,"start_time":"2026-12-01T02:00:00.418Z","#,
                r#""end_time":"2026-12-01T02:11:37.902Z"}"#
            ),
        )
    })
    .await;
    let id = JobId::parse("20261201-020000-24322735").unwrap();
    let job = client.job_status(&id).await.unwrap();
    assert_eq!(job.state, JobState::Succeeded);
    assert_eq!(job.progress, Some(100));
    assert!(job.end_time.is_some());
}

#[tokio::test]
async fn void_calls_accept_204_and_empty_200() {
    let (_stub, client) = answering(|| Reply::empty(204)).await;
    client
        .call_void(Endpoint::ScheduleUpdate("default"), |_| None)
        .await
        .unwrap();

    let (_stub, client) = answering(|| Reply::empty(200)).await;
    client
        .call_void(Endpoint::ScheduleUpdate("default"), |_| None)
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------------------
// Transport failures.

#[tokio::test]
async fn silent_server_is_a_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accept connections and hold them open without a word.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });

    let base = Url::parse(&format!("http://{addr}/")).unwrap();
    let client = ApplianceClient::new(target(&base, Duration::from_millis(300))).unwrap();
    let started = std::time::Instant::now();
    let err = client.login().await.unwrap_err();

    assert_eq!(err.kind(), PollOutcome::Timeout, "{err}");
    assert_eq!(err.to_string(), "no answer within 300ms");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn closed_port_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);

    let base = Url::parse(&format!("http://{addr}/")).unwrap();
    let client = ApplianceClient::new(target(&base, Duration::from_secs(2))).unwrap();
    let err = client.version().await.unwrap_err();
    assert_eq!(err.kind(), PollOutcome::Unreachable, "{err}");
    assert!(
        err.to_string().starts_with("cannot reach the appliance: "),
        "{err}"
    );
}

#[tokio::test]
async fn settings_that_cannot_work_are_refused_up_front() {
    let ftp = Url::parse("ftp://vcsa.example.test/").unwrap();
    let err = ApplianceClient::new(target(&ftp, Duration::from_secs(1)))
        .err()
        .unwrap();
    assert!(matches!(err, VcError::InvalidTarget { .. }), "{err}");

    let https = Url::parse("https://vcsa.example.test/").unwrap();
    let mut with_ca = target(&https, Duration::from_secs(1));
    with_ca.tls = TlsMode::CaFile("tests/fixtures/vcsa/no-such-ca.pem".into());
    let err = ApplianceClient::new(with_ca).err().unwrap();
    assert_eq!(err.kind(), PollOutcome::Tls);
    assert!(err.to_string().contains("no-such-ca.pem"), "{err}");

    let mut not_pem = target(&https, Duration::from_secs(1));
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/vcsa/api-schedules-map.json"
    );
    not_pem.tls = TlsMode::CaFile(fixture.into());
    let err = ApplianceClient::new(not_pem).err().unwrap();
    assert!(err.to_string().contains("api-schedules-map.json"), "{err}");
}

// ---------------------------------------------------------------------------------------
// TLS: a real handshake against a rustls server, each certificate check failing in turn.
/// A test CA (valid 2020-2100) that signed every certificate below.
const TEST_CA: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBZTCCAQygAwIBAgICIAAwCgYIKoZIzj0EAwIwGTEXMBUGA1UEAwwOdmJkYXNo\n\
IHRlc3QgQ0EwIBcNMjAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBkxFzAV\n\
BgNVBAMMDnZiZGFzaCB0ZXN0IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n\
EHzO8FT8t9wY+2DT19hMzWk97oqk9dOA11V941M4VlL6tH0gsVH3pOaPfTRECS+k\n\
uChwRzdvVTg9EH2uX/9BrKNCMEAwDwYDVR0TAQH/BAUwAwEB/zAOBgNVHQ8BAf8E\n\
BAMCAQYwHQYDVR0OBBYEFD8CwdjlLF5jrTleM363+XXjbzEpMAoGCCqGSM49BAMC\n\
A0cAMEQCID4mfiRu0I/hNzchfBzeCpycuHMYe3pbfjuQ8i+RNPQxAiAMJOsTJfYS\n\
BKU3YrcDdcuAPdurqnWxsAoMYYaLy7bifA==\n\
-----END CERTIFICATE-----\n";
/// Issued to IP 127.0.0.1, valid 2020-2100.
const CERT_FOR_LOCALHOST: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBjTCCATOgAwIBAgICIAEwCgYIKoZIzj0EAwIwGTEXMBUGA1UEAwwOdmJkYXNo\n\
IHRlc3QgQ0EwIBcNMjAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMA8xDTAL\n\
BgNVBAMMBGdvb2QwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARY/f2ki+rQKItB\n\
OhU1xwnShfvzStTf8mvwx3R9C5FHoyOk4ekIS3F/7ywP2B1z2HRqXM6LsOhGF7QE\n\
lhVh+X+uo3MwcTAPBgNVHREECDAGhwR/AAABMAkGA1UdEwQCMAAwEwYDVR0lBAww\n\
CgYIKwYBBQUHAwEwHQYDVR0OBBYEFKhnHaonZ+vLvSkMYCtfDgHDfGFXMB8GA1Ud\n\
IwQYMBaAFD8CwdjlLF5jrTleM363+XXjbzEpMAoGCCqGSM49BAMCA0gAMEUCIFNR\n\
V12G0/5lQ+U9UzRt8WLF6E1O150sjW1pOpeBPigPAiEAhx53QCYw7pz85uHIAWrG\n\
5EY1M4Vhn9JI+iTDgvTzDCc=\n\
-----END CERTIFICATE-----\n";
/// Issued to `other.example.test` only.
const CERT_FOR_OTHER_NAME: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBojCCAUegAwIBAgICIAIwCgYIKoZIzj0EAwIwGTEXMBUGA1UEAwwOdmJkYXNo\n\
IHRlc3QgQ0EwIBcNMjAwMTAxMDAwMDAwWhgPMjEwMDAxMDEwMDAwMDBaMBQxEjAQ\n\
BgNVBAMMCW90aGVybmFtZTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABFj9/aSL\n\
6tAoi0E6FTXHCdKF+/NK1N/ya/DHdH0LkUejI6Th6QhLcX/vLA/YHXPYdGpczouw\n\
6EYXtASWFWH5f66jgYEwfzAdBgNVHREEFjAUghJvdGhlci5leGFtcGxlLnRlc3Qw\n\
CQYDVR0TBAIwADATBgNVHSUEDDAKBggrBgEFBQcDATAdBgNVHQ4EFgQUqGcdqidn\n\
68u9KQxgK18OAcN8YVcwHwYDVR0jBBgwFoAUPwLB2OUsXmOtOV4zfrf5deNvMSkw\n\
CgYIKoZIzj0EAwIDSQAwRgIhAJK9kooIQVz5x3MJ1bhuH/OeUeP234GQxc7uSfme\n\
sI67AiEAsmNNZ8+EqYCEUHgMCoyUeMKEw9R+6kPIJtImd6RpRZ8=\n\
-----END CERTIFICATE-----\n";
/// Issued to IP 127.0.0.1, expired at the start of 2021.
const CERT_EXPIRED: &str = "\
-----BEGIN CERTIFICATE-----\n\
MIIBjjCCATSgAwIBAgICIAMwCgYIKoZIzj0EAwIwGTEXMBUGA1UEAwwOdmJkYXNo\n\
IHRlc3QgQ0EwHhcNMjAwMTAxMDAwMDAwWhcNMjEwMTAxMDAwMDAwWjASMRAwDgYD\n\
VQQDDAdleHBpcmVkMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEWP39pIvq0CiL\n\
QToVNccJ0oX780rU3/Jr8Md0fQuRR6MjpOHpCEtxf+8sD9gdc9h0alzOi7DoRhe0\n\
BJYVYfl/rqNzMHEwDwYDVR0RBAgwBocEfwAAATAJBgNVHRMEAjAAMBMGA1UdJQQM\n\
MAoGCCsGAQUFBwMBMB0GA1UdDgQWBBSoZx2qJ2fry70pDGArXw4Bw3xhVzAfBgNV\n\
HSMEGDAWgBQ/AsHY5SxeY605XjN+t/l1428xKTAKBggqhkjOPQQDAgNIADBFAiAE\n\
JA9M1wRojBiZpid2rvoELnFxaK5w40uKuf9pfdOpoQIhALm9N+wxwsCDlv+9HBL7\n\
OG5XUMq/MHTI9segk2A0he9K\n\
-----END CERTIFICATE-----\n";
/// The key of all three server certificates; made for these tests only.
const LEAF_KEY: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgkRZhJYfH8Lyka7xo\n\
gUxsJHAM/VGeUdjk0oGbNB1tKUGhRANCAARY/f2ki+rQKItBOhU1xwnShfvzStTf\n\
8mvwx3R9C5FHoyOk4ekIS3F/7ywP2B1z2HRqXM6LsOhGF7QElhVh+X+u\n\
-----END PRIVATE KEY-----\n";

/// Serves HTTPS on 127.0.0.1 with `cert`; any request gets a new-generation session.
fn tls_server(cert: &'static str) -> Url {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::io::{Read, Write};

    let chain = vec![CertificateDer::from_pem_slice(cert.as_bytes()).unwrap()];
    let key = PrivateKeyDer::from_pem_slice(LEAF_KEY.as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let config = Arc::new(config);

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for socket in listener.incoming().flatten() {
            let connection = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut stream = rustls::StreamOwned::new(connection, socket);
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            // A refused handshake ends here with an error, which is the point of most tests.
            while !head.ends_with(b"\r\n\r\n") {
                match stream.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            let body = "\"tls-token\"";
            let reply = format!(
                "HTTP/1.1 201 Created\r\ncontent-type: application/json\r\n\
                 content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(reply.as_bytes());
            stream.conn.send_close_notify();
            let _ = stream.flush();
        }
    });
    Url::parse(&format!("https://{addr}/")).unwrap()
}

fn tls_client(base: &Url, tls: TlsMode) -> ApplianceClient {
    let mut target = target(base, Duration::from_secs(5));
    target.tls = tls;
    ApplianceClient::new(target).unwrap()
}

fn ca_file() -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    std::io::Write::write_all(&mut file, TEST_CA.as_bytes()).unwrap();
    file
}

#[tokio::test]
async fn ca_file_trusts_the_appliance_root() {
    let ca = ca_file();
    let client = tls_client(
        &tls_server(CERT_FOR_LOCALHOST),
        TlsMode::CaFile(ca.path().into()),
    );
    assert_eq!(client.login().await.unwrap(), ApiGeneration::Api);
}

#[tokio::test]
async fn unknown_issuer_is_named() {
    let client = tls_client(&tls_server(CERT_FOR_LOCALHOST), TlsMode::Verify);
    let err = client.login().await.unwrap_err();
    assert_eq!(err.kind(), PollOutcome::Tls, "{err}");
    assert_eq!(
        err.to_string(),
        "TLS handshake failed: certificate signed by an unknown issuer"
    );
}

#[tokio::test]
async fn wrong_host_name_is_named() {
    let ca = ca_file();
    let client = tls_client(
        &tls_server(CERT_FOR_OTHER_NAME),
        TlsMode::CaFile(ca.path().into()),
    );
    let err = client.login().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "TLS handshake failed: certificate is for another host name"
    );
}

#[tokio::test]
async fn expired_certificate_is_named() {
    let ca = ca_file();
    let client = tls_client(&tls_server(CERT_EXPIRED), TlsMode::CaFile(ca.path().into()));
    let err = client.login().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "TLS handshake failed: certificate has expired"
    );
}

#[tokio::test]
async fn insecure_mode_accepts_any_certificate() {
    let client = tls_client(&tls_server(CERT_FOR_OTHER_NAME), TlsMode::Insecure);
    assert_eq!(client.login().await.unwrap(), ApiGeneration::Api);
}
