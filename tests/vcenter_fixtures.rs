//! Every appliance payload in `tests/fixtures/vcsa/`, each held to the outcome it must have:
//! pure parsing through the `vcenter` layers, and over HTTP where the exchange matters.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use url::Url;

use vbdash::domain::{ApiGeneration, Job, JobId, JobState, JobType, PollOutcome};
use vbdash::secret::Secret;
use vbdash::vcenter::envelope::{parse_error, session_token, unwrap_success, void_result};
use vbdash::vcenter::mapping::{job_from_status, jobs_from_details, schedule_from_list};
use vbdash::vcenter::tls::{describe, describe_certificate, tls_failure};
use vbdash::vcenter::{ApplianceClient, Endpoint, Target, TlsMode, VcError};

use ApiGeneration::{Api, Rest};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/vcsa/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|err| panic!("fixture {name}: {err}"))
}

fn fixture_text(name: &str) -> String {
    String::from_utf8(fixture(name)).unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn id(s: &str) -> JobId {
    JobId::parse(s).unwrap()
}

const SUCCEEDED_ID: &str = "20240115-171000-21477706";
const FAILED_ID: &str = "20240116-171000-21477706";
const RUNNING_ID: &str = "20240117-171000-21477706";
const FAILURE_TEXT: &str = concat!(
    "BackupManager encountered an exception. ",
    "Please check logs for details."
);

// ---------------------------------------------------------------------------------------
// Job details

fn find<'a>(jobs: &'a [Job], wanted: &str) -> &'a Job {
    jobs.iter().find(|j| j.id.as_str() == wanted).unwrap()
}

#[test]
fn api_job_details_map_gives_both_jobs_keyed_by_id() {
    let jobs = jobs_from_details(Api, &fixture("api-job-details-map.json")).unwrap();

    let ids: Vec<&str> = jobs.iter().map(|j| j.id.as_str()).collect();
    assert_eq!(ids, [SUCCEEDED_ID, FAILED_ID]);

    let good = find(&jobs, SUCCEEDED_ID);
    assert_eq!(good.state, JobState::Succeeded);
    assert_eq!(good.job_type, JobType::Scheduled);
    assert_eq!(good.size_bytes, Some(48_318_382_080));
    assert_eq!(good.duration_secs, Some(1307));
    assert_eq!(good.start_time, Some(utc("2024-01-15T17:10:00.412Z")));
    assert_eq!(good.end_time, Some(utc("2024-01-15T17:31:47.905Z")));
    assert_eq!(good.progress, Some(100));
    assert_eq!(
        good.progress_message.as_deref(),
        Some("Backup job completed")
    );
    assert_eq!(
        good.location.as_deref(),
        Some("sftp://192.0.2.20/backups/vcsa-01/20240115-171000")
    );
    assert_eq!(good.user.as_deref(), Some("backup@example.test"));
    assert_eq!(good.version.as_deref(), Some("7.0.3.00000"));
    assert_eq!(good.build.as_deref(), Some("21477706"));
    assert_eq!(good.cancelable, Some(false));
    assert!(good.messages.is_empty());

    let bad = find(&jobs, FAILED_ID);
    assert_eq!(bad.state, JobState::Failed);
    assert_eq!(bad.messages, vec![FAILURE_TEXT.to_owned()]);
    assert_eq!(bad.size_bytes, Some(0));
    assert_eq!(bad.progress, Some(10));
    assert_eq!(bad.progress_message, None);
    assert_eq!(bad.user, None);
}

#[test]
fn rest_job_details_key_value_list_gives_the_same_records() {
    let from_rest = jobs_from_details(Rest, &fixture("rest-job-details-key-value-list.json"));
    let from_api = jobs_from_details(Api, &fixture("api-job-details-map.json"));
    assert_eq!(from_rest.unwrap(), from_api.unwrap());
}

#[test]
fn api_job_details_running_is_running_with_progress() {
    let jobs = jobs_from_details(Api, &fixture("api-job-details-running.json")).unwrap();
    assert_eq!(jobs.len(), 1);

    let job = &jobs[0];
    assert_eq!(job.id.as_str(), RUNNING_ID);
    assert_eq!(job.state, JobState::Running);
    assert!(!job.state.is_finished());
    assert_eq!(job.progress, Some(42));
    assert_eq!(job.end_time, None);
    assert_eq!(job.start_time, Some(utc("2024-01-17T17:10:00.271Z")));
    assert_eq!(job.size_bytes, Some(9_663_676_416));
    assert_eq!(job.cancelable, Some(true));
}

#[test]
fn rest_job_status_inprogress_is_running() {
    let job = job_from_status(Rest, &fixture("rest-job-status-inprogress.json")).unwrap();
    assert_eq!(job.id.as_str(), RUNNING_ID);
    assert_eq!(job.state, JobState::Running);
    assert_eq!(job.progress, Some(42));
    assert_eq!(job.end_time, None);
    assert_eq!(job.start_time, Some(utc("2024-01-17T17:10:00.271Z")));
}

#[test]
fn unknown_state_word_is_kept_as_sent() {
    let body = fixture_text("rest-job-status-inprogress.json").replace("INPROGRESS", "PAUSED");
    let job = job_from_status(Rest, body.as_bytes()).unwrap();
    assert_eq!(job.state, JobState::Unknown("PAUSED".into()));
    assert_eq!(job.state.as_str(), "PAUSED");

    let details = fixture_text("api-job-details-running.json").replace("RUNNING", "QUEUED");
    let jobs = jobs_from_details(Api, details.as_bytes()).unwrap();
    assert_eq!(jobs[0].state.as_str(), "QUEUED");
}

// ---------------------------------------------------------------------------------------
// Schedules

#[test]
fn api_schedules_map_reads_in_words() {
    let schedule = schedule_from_list(Api, &fixture("api-schedules-map.json"))
        .unwrap()
        .unwrap();
    assert_eq!(schedule.id, "default");
    assert!(schedule.enabled);
    assert_eq!(schedule.describe("UTC"), "Saturday 12:59 UTC, keep 3");
    assert_eq!(schedule.location_host().as_deref(), Some("192.0.2.10"));
    assert_eq!(schedule.location_user.as_deref(), Some("backupsvc"));
    assert_eq!(schedule.parts, ["common", "seat", "supervisors"]);
}

#[test]
fn empty_schedule_lists_mean_no_schedule() {
    assert_eq!(
        schedule_from_list(Api, &fixture("api-schedules-empty.json")).unwrap(),
        None
    );
    assert_eq!(
        schedule_from_list(Rest, &fixture("rest-schedules-empty.json")).unwrap(),
        None
    );
}

#[test]
fn rest_schedule_without_optional_fields_is_disabled_daily_keep_all() {
    let body = fixture("rest-schedules-no-optional-fields.json");
    let schedule = schedule_from_list(Rest, &body).unwrap().unwrap();
    assert!(!schedule.enabled);
    assert!(schedule.days.is_empty());
    assert_eq!(schedule.retention, None);
    assert_eq!(schedule.time, Some((2, 0)));
    assert_eq!(schedule.describe("UTC"), "daily 02:00 UTC, keep all");
}

// ---------------------------------------------------------------------------------------
// Errors

#[test]
fn api_error_500_shows_both_messages() {
    let fault = parse_error(500, &fixture("api-error-500-two-messages.json"));
    assert_eq!(fault.error_type, "INTERNAL_SERVER_ERROR");
    assert_eq!(fault.messages.len(), 2);

    let err = VcError::from_fault(fault);
    assert_eq!(err.kind(), PollOutcome::ApplianceError);
    let shown = err.to_string();
    assert!(shown.starts_with("INTERNAL_SERVER_ERROR: "), "{shown}");
    assert!(shown.contains("Provider method implementation threw unexpected exception"));
    assert!(shown.contains("; Unexpected error"), "{shown}");
}

#[test]
fn rest_error_404_takes_its_kind_from_error_type() {
    let body = fixture("rest-error-404-with-error-type.json");
    let fault = parse_error(404, &body);
    assert_eq!(fault.error_type, "NOT_FOUND");
    let url = "/com/vmware/vcenter/lcm/discovery/associated-products";
    assert_eq!(
        fault.messages,
        [format!("Unable to find operations for URL: {url}.")]
    );

    // `error_type` wins over the suffix of `type` and over the status when they differ.
    let text = String::from_utf8(body).unwrap();
    let mixed = text.replace("errors.not_found", "errors.error");
    assert_eq!(parse_error(500, mixed.as_bytes()).error_type, "NOT_FOUND");
    // Without `error_type`, the suffix of `type` decides, not the status.
    let suffix_only = text.replace(r#""error_type":"NOT_FOUND","#, "");
    assert_eq!(
        parse_error(500, suffix_only.as_bytes()).error_type,
        "NOT_FOUND"
    );
}

#[test]
fn rest_error_401_is_classified_unauthenticated() {
    let fault = parse_error(401, &fixture("rest-error-401-unauthenticated.json"));
    assert_eq!(fault.error_type, "UNAUTHENTICATED");
    assert_eq!(fault.messages, ["This method requires authentication."]);
    assert_eq!(
        VcError::from_fault(fault).kind(),
        PollOutcome::Authentication
    );
}

// ---------------------------------------------------------------------------------------
// Sessions and void answers

#[test]
fn session_create_tokens_of_both_generations() {
    let text = fixture_text("session-create-rest-vs-api.txt");
    let bodies: Vec<&str> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();

    let token = "3f2a9c1e0b7d4e5fa1c2d3e4f5a6b7c8";
    assert_eq!(
        session_token(Rest, bodies[0].as_bytes()).as_deref(),
        Some(token)
    );
    assert_eq!(
        session_token(Api, bodies[1].as_bytes()).as_deref(),
        Some(token)
    );

    // Scalars are wrapped on /rest and bare on /api, and read the same.
    let rest_scalar = bodies[2].strip_prefix("/rest:").unwrap().trim();
    let api_scalar = bodies[3].strip_prefix("/api :").unwrap().trim();
    let from_rest = unwrap_success(Rest, rest_scalar.as_bytes()).unwrap();
    assert_eq!(
        from_rest,
        unwrap_success(Api, api_scalar.as_bytes()).unwrap()
    );
    assert_eq!(from_rest, serde_json::Value::Bool(true));
}

#[test]
fn rest_void_200_empty_body_is_success() {
    let raw = fixture("rest-void-200-empty-body.http.txt");
    let (status, body) = split_http_response(&raw);
    assert_eq!(status, 200);
    assert!(body.is_empty());
    void_result(status, body).unwrap();
}

/// Status and body of a raw HTTP response.
fn split_http_response(raw: &[u8]) -> (u16, &[u8]) {
    let text = std::str::from_utf8(raw).unwrap();
    let status = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let head_end = text.find("\n\n").map(|n| n + 2).unwrap_or(raw.len());
    (status, &raw[head_end..])
}

// ---------------------------------------------------------------------------------------
// URLs per generation

#[test]
fn action_style_requests_come_from_the_url_table() {
    let text = fixture_text("action-style-requests.txt");
    let lines: Vec<String> = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            l.split('#')
                .next()
                .unwrap()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();

    let newer = id("20240116-171000-21477706");
    let older = id("20240115-171000-21477706");
    let both = [newer.clone(), older];
    let cases: [(ApiGeneration, Endpoint<'_>); 5] = [
        (Rest, Endpoint::SessionInfo),
        (Api, Endpoint::JobCancel(&newer)),
        (Rest, Endpoint::JobCancel(&newer)),
        (Rest, Endpoint::JobDetails(&both)),
        (Api, Endpoint::JobDetails(&both[..1])),
    ];
    assert_eq!(lines.len(), cases.len(), "{lines:?}");

    for ((generation, endpoint), line) in cases.iter().zip(&lines) {
        let route = endpoint.route(*generation);
        let built = format!("{} {}", route.method, route.path_and_query());
        let expected = line.replace("{id}", newer.as_str());
        assert_eq!(built, expected, "{generation:?} {endpoint:?}");
    }
}

#[test]
fn urls_join_under_a_path_prefix() {
    let base = Url::parse("http://127.0.0.1:9000/vcsa-01").unwrap();
    let url = Endpoint::SessionInfo.route(Rest).url(&base);
    assert_eq!(
        url.as_str(),
        "http://127.0.0.1:9000/vcsa-01/rest/com/vmware/cis/session?~action=get"
    );
}

// ---------------------------------------------------------------------------------------
// TLS

#[test]
fn tls_failures_name_the_failed_check() {
    use rustls::CertificateError as Cert;

    // What other clients print for the same three failures.
    let foreign = fixture_text("tls-error-strings.txt");
    assert!(foreign.contains("certificate signed by unknown authority"));
    assert!(foreign.contains("certificate is valid for 192.0.2.40, not 192.0.2.50"));
    assert!(foreign.contains("unable to get local issuer certificate"));

    assert_eq!(
        describe_certificate(&Cert::UnknownIssuer),
        "certificate signed by an unknown issuer"
    );
    assert_eq!(
        describe_certificate(&Cert::NotValidForName),
        "certificate is for another host name"
    );
    assert_eq!(
        describe_certificate(&Cert::Expired),
        "certificate has expired"
    );

    let wrong_name = Cert::NotValidForNameContext {
        expected: rustls::pki_types::ServerName::try_from("192.0.2.50")
            .unwrap()
            .to_owned(),
        presented: vec!["192.0.2.40".into()],
    };
    assert_eq!(
        describe_certificate(&wrong_name),
        "certificate is for another host name"
    );

    // Other rustls failures keep rustls' own reason.
    let other = rustls::Error::NoCertificatesPresented;
    assert_eq!(describe(&other), other.to_string());
}

#[test]
fn tls_failure_is_found_deep_in_the_error_chain() {
    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("client error (Connect)")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    let expired = rustls::Error::InvalidCertificate(rustls::CertificateError::Expired);
    let chain = Outer(std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        expired,
    ));
    assert_eq!(
        tls_failure(&chain).as_deref(),
        Some("certificate has expired")
    );
}

// ---------------------------------------------------------------------------------------
// Over HTTP: the exchanges these fixtures are about.

/// A stub speaking raw HTTP/1.1, one request per connection, so a fixture response can be
/// sent byte for byte. `script` gets the request line and session header, returns the bytes.
async fn raw_stub(
    script: impl Fn(&str, Option<&str>) -> Vec<u8> + Send + Sync + 'static,
) -> (Url, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen_in = seen.clone();
    let script = Arc::new(script);

    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let head = read_head(&mut socket).await;
            let request_line = head.lines().next().unwrap_or_default().to_owned();
            let session = head
                .lines()
                .find_map(|l| l.strip_prefix("vmware-api-session-id: "))
                .map(str::to_owned);
            seen_in
                .lock()
                .unwrap()
                .push(format!("{request_line} {session:?}"));
            let reply = script(&request_line, session.as_deref());
            let _ = socket.write_all(&reply).await;
            let _ = socket.shutdown().await;
        }
    });

    (Url::parse(&format!("http://{addr}/")).unwrap(), seen)
}

async fn read_head(socket: &mut tokio::net::TcpStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match socket.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

fn http(status: &str, body: &[u8]) -> Vec<u8> {
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n",
        body.len()
    );
    [head.as_bytes(), body].concat()
}

fn target(base: Url) -> Target {
    Target {
        name: "vcsa-fixture".into(),
        base_url: base,
        username: "svc-monitor@vsphere.local".into(),
        password: Secret::new("an-example-password"),
        tls: TlsMode::Verify,
        timeout: Duration::from_secs(5),
    }
}

/// The bodies of `session-create-rest-vs-api.txt`: (`/rest` login body, `/api` login body).
fn session_bodies() -> (String, String) {
    let text = fixture_text("session-create-rest-vs-api.txt");
    let mut bodies = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty());
    (
        bodies.next().unwrap().to_owned(),
        bodies.next().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn session_create_logs_in_on_both_generations() {
    let (rest_body, api_body) = session_bodies();

    let (api_base, _) = raw_stub(move |line, _| match line {
        l if l.starts_with("POST /api/session ") => http("201 Created", api_body.as_bytes()),
        _ => http("404 Not Found", b""),
    })
    .await;
    let api = ApplianceClient::new(target(api_base)).unwrap();
    assert_eq!(api.login().await.unwrap(), Api);

    let (rest_base, seen) = raw_stub(move |line, _| match line {
        l if l.starts_with("POST /rest/com/vmware/cis/session ") => {
            http("200 OK", rest_body.as_bytes())
        }
        _ => http("404 Not Found", b""),
    })
    .await;
    let rest = ApplianceClient::new(target(rest_base)).unwrap();
    assert_eq!(rest.login().await.unwrap(), Rest);
    assert_eq!(rest.logins(), 1);
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "one /api try, one /rest login"
    );
}

#[tokio::test]
async fn rest_void_200_empty_body_over_http_is_success() {
    let (rest_body, _) = session_bodies();
    let void = fixture("rest-void-200-empty-body.http.txt");

    let (base, seen) = raw_stub(move |line, _| match line {
        l if l.starts_with("POST /rest/com/vmware/cis/session ") => {
            http("200 OK", rest_body.as_bytes())
        }
        l if l.starts_with("PUT /rest/appliance/recovery/backup/schedules/update/default ") => {
            void.clone()
        }
        l if l.starts_with("DELETE /rest/com/vmware/cis/session ") => void.clone(),
        _ => http("404 Not Found", b""),
    })
    .await;
    let client = ApplianceClient::new(target(base)).unwrap();

    client
        .call_void(Endpoint::ScheduleUpdate("default"), |_| None)
        .await
        .unwrap();
    client.logout().await;

    let seen = seen.lock().unwrap().clone();
    let token = "Some(\"3f2a9c1e0b7d4e5fa1c2d3e4f5a6b7c8\")";
    assert!(
        seen[2].starts_with("PUT ") && seen[2].ends_with(token),
        "{seen:?}"
    );
    assert!(
        seen[3].starts_with("DELETE ") && seen[3].ends_with(token),
        "{seen:?}"
    );
}

#[tokio::test]
async fn rest_error_401_mid_session_renews_once_then_succeeds() {
    let expired = fixture("rest-error-401-unauthenticated.json");
    let schedules = fixture("rest-schedules-no-optional-fields.json");
    let logins = Arc::new(AtomicU64::new(0));
    let logins_in = logins.clone();

    let (base, seen) = raw_stub(move |line, session| match line {
        l if l.starts_with("POST /api/session ") => http("404 Not Found", b""),
        l if l.starts_with("POST /rest/com/vmware/cis/session ") => {
            let n = logins_in.fetch_add(1, Ordering::SeqCst) + 1;
            http("200 OK", format!(r#"{{"value":"token-{n}"}}"#).as_bytes())
        }
        // The first session has expired by the time the schedules are read.
        _ if session == Some("token-1") => http("401 Unauthorized", &expired),
        l if l.starts_with("GET /rest/appliance/recovery/backup/schedules ") => {
            http("200 OK", &schedules)
        }
        _ => http("404 Not Found", b""),
    })
    .await;
    let client = ApplianceClient::new(target(base)).unwrap();

    let schedule = client.schedule().await.unwrap().unwrap();
    assert!(!schedule.enabled);
    assert_eq!(client.logins(), 2);
    assert_eq!(logins.load(Ordering::SeqCst), 2);
    let reads = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.contains("/schedules "))
        .count();
    assert_eq!(reads, 2, "one refused read and one retry");
}

#[tokio::test]
async fn rest_error_401_after_a_fresh_login_is_an_authentication_failure() {
    let expired = fixture("rest-error-401-unauthenticated.json");
    let (base, seen) = raw_stub(move |line, _| match line {
        l if l.starts_with("POST /api/session ") => http("404 Not Found", b""),
        l if l.starts_with("POST /rest/com/vmware/cis/session ") => {
            http("200 OK", br#"{"value":"token"}"#)
        }
        _ => http("401 Unauthorized", &expired),
    })
    .await;
    let client = ApplianceClient::new(target(base)).unwrap();

    let err = client.job_ids().await.unwrap_err();
    assert_eq!(err.kind(), PollOutcome::Authentication);
    assert!(
        err.to_string()
            .contains("This method requires authentication."),
        "{err}"
    );
    let reads = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.starts_with("GET "))
        .count();
    assert_eq!(reads, 2, "retried once, not more");
}
