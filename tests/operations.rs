//! Running it in production: health checks, readiness and a clean stop, against the demo
//! fleet served by the real application.

mod common;

use std::time::Duration;

use axum::Extension;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::demo_app::{local_sign_in, serve_demo};
use tokio::net::TcpListener;
use tower::ServiceExt;
use vbdash::app::{self, FirstPoll, RunningApp};
use vbdash::demo::{DemoFleet, DemoTuning};
use vbdash::poller::Heartbeat;
use vbdash::store::Store;
use vbdash::web::auth::Auth;
use vbdash::web::{self, AppState, WebSettings};

/// The demo fleet with local sign-in on, polled once, served on a free port.
async fn running_demo(dir: &tempfile::TempDir) -> (DemoFleet, RunningApp) {
    let tuning = DemoTuning {
        history_days: 3,
        ..DemoTuning::default()
    };
    serve_demo(dir.path().join("ops.db"), &tuning, local_sign_in).await
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

#[tokio::test]
async fn health_and_readiness_answer_without_sign_in_and_are_never_cached() {
    let dir = tempfile::tempdir().unwrap();
    let (_fleet, app) = running_demo(&dir).await;
    let client = http();

    for (path, body) in [("/healthz", "ok"), ("/readyz", "ready")] {
        let answer = client
            .get(format!("http://{}{path}", app.addr))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), reqwest::StatusCode::OK, "{path}");
        assert_eq!(
            answer.headers()[reqwest::header::CACHE_CONTROL],
            "no-store",
            "{path}"
        );
        assert!(
            answer.headers()[reqwest::header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/plain"),
            "{path}"
        );
        assert_eq!(answer.text().await.unwrap(), body, "{path}");
    }

    app.stop().await;
}

async fn readyz(store: &Store, heartbeat: Option<&Heartbeat>) -> (StatusCode, String) {
    let state = AppState {
        store: store.clone(),
        settings: WebSettings::default(),
        auth: Auth::none(),
        actions: vbdash::web::actions::Actions::none(),
    };
    let mut router = web::router(state);
    if let Some(heartbeat) = heartbeat {
        router = router.layer(Extension(heartbeat.clone()));
    }
    let answer = router
        .oneshot(Request::get("/readyz").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = answer.status();
    assert_eq!(answer.headers()[header::CACHE_CONTROL], "no-store");
    let body = axum::body::to_bytes(answer.into_body(), 64 * 1024)
        .await
        .unwrap();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn readiness_follows_the_database_and_the_poller() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("ready.db").to_str().unwrap())
        .await
        .unwrap();
    let heartbeat = Heartbeat::default();

    let (status, body) = readyz(&store, Some(&heartbeat)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("the poller has not started"), "{body}");

    heartbeat.beat(chrono::Utc::now());
    let (status, body) = readyz(&store, Some(&heartbeat)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ready"));

    // A beat older than the staleness limit means the poller loop no longer runs.
    heartbeat.beat(chrono::Utc::now() - chrono::Duration::minutes(5));
    let (status, body) = readyz(&store, Some(&heartbeat)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("no sign of life for 300s"), "{body}");

    heartbeat.stop();
    let (_, body) = readyz(&store, Some(&heartbeat)).await;
    assert!(body.contains("the poller has stopped"), "{body}");

    let (_, body) = readyz(&store, None).await;
    assert!(body.contains("no poller runs"), "{body}");

    heartbeat.beat(chrono::Utc::now());
    store.close().await;
    let (status, body) = readyz(&store, Some(&heartbeat)).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("the database"), "{body}");
    assert!(!body.contains("poller"), "{body}");
}

/// One sample line of the text format, parsed.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

impl Sample {
    fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Parses `name{a="x",b="y"} value`, undoing the escapes of label values.
fn parse_sample(line: &str) -> Sample {
    let name_end = line.find(['{', ' ']).expect(line);
    let name = &line[..name_end];
    assert!(is_metric_name(name), "bad metric name in {line:?}");

    let mut labels = Vec::new();
    let mut rest = &line[name_end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices().peekable();
        loop {
            let (start, _) = *chars.peek().expect(line);
            let eq = inner[start..].find('=').expect(line) + start;
            let label = inner[start..eq].to_owned();
            assert!(is_metric_name(&label), "bad label name in {line:?}");
            while chars.next_if(|(i, _)| *i <= eq).is_some() {}
            assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line:?}");
            let mut value = String::new();
            loop {
                match chars.next().expect(line).1 {
                    '\\' => match chars.next().expect(line).1 {
                        'n' => value.push('\n'),
                        escaped @ ('\\' | '"') => value.push(escaped),
                        other => panic!("bad escape \\{other} in {line:?}"),
                    },
                    '"' => break,
                    '\n' => panic!("raw line feed in {line:?}"),
                    c => value.push(c),
                }
            }
            labels.push((label, value));
            match chars.next().expect(line) {
                (_, ',') => continue,
                (i, '}') => {
                    rest = &inner[i + 1..];
                    break;
                }
                (_, other) => panic!("unexpected {other:?} in {line:?}"),
            }
        }
    }

    let value = rest.strip_prefix(' ').expect(line);
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        other => other
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line:?}")),
    };
    Sample {
        name: name.to_owned(),
        labels,
        value,
    }
}

/// Checks the structure of a whole scrape and returns its samples.
fn parse_exposition(text: &str) -> Vec<Sample> {
    assert!(text.ends_with('\n'));
    let mut samples = Vec::new();
    let mut described = std::collections::BTreeSet::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if let Some(help) = line.strip_prefix("# HELP ") {
            let name = help.split(' ').next().unwrap();
            assert!(described.insert(name.to_owned()), "family {name} twice");
            current = Some(name.to_owned());
        } else if let Some(kind) = line.strip_prefix("# TYPE ") {
            let (name, kind) = kind.split_once(' ').expect(line);
            assert_eq!(Some(name), current.as_deref(), "TYPE without HELP: {line}");
            assert_eq!(kind, "gauge", "{line}");
        } else {
            let sample = parse_sample(line);
            assert_eq!(
                Some(sample.name.as_str()),
                current.as_deref(),
                "sample outside its family: {line}"
            );
            samples.push(sample);
        }
    }
    samples
}

fn values<'a>(samples: &'a [Sample], name: &str) -> Vec<&'a Sample> {
    samples.iter().filter(|s| s.name == name).collect()
}

fn value_of(samples: &[Sample], name: &str, appliance: &str) -> Option<f64> {
    values(samples, name)
        .into_iter()
        .find(|s| s.label("appliance") == Some(appliance))
        .map(|s| s.value)
}

#[tokio::test]
async fn metrics_describe_the_polled_fleet_in_the_text_format() {
    let dir = tempfile::tempdir().unwrap();
    let (_fleet, app) = running_demo(&dir).await;

    let answer = http()
        .get(format!("http://{}/metrics", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), reqwest::StatusCode::OK);
    assert_eq!(
        answer.headers()[reqwest::header::CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert_eq!(answer.headers()[reqwest::header::CACHE_CONTROL], "no-store");
    let text = answer.text().await.unwrap();
    let samples = parse_exposition(&text);

    let overview = app.store.fleet_overview().await.unwrap();
    let names: Vec<&str> = overview.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names.len(), 9);

    // Low cardinality: appliance names and fixed words only.
    for sample in &samples {
        for (label, value) in &sample.labels {
            match label.as_str() {
                "appliance" => assert!(names.contains(&value.as_str()), "{sample:?}"),
                "status" | "state" => assert!(value.len() < 20, "{sample:?}"),
                other => panic!("unexpected label {other} in {sample:?}"),
            }
        }
    }

    // The fleet counts add up, and each appliance has exactly one status, the page's.
    let counted: f64 = values(&samples, "vbdash_appliances")
        .iter()
        .map(|s| s.value)
        .sum();
    assert_eq!(counted, 9.0);
    let now = chrono::Utc::now();
    for appliance in &overview {
        let statuses: Vec<_> = values(&samples, "vbdash_appliance_status")
            .into_iter()
            .filter(|s| s.label("appliance") == Some(appliance.name.as_str()))
            .collect();
        assert_eq!(statuses.len(), 9, "{}", appliance.name);
        let current: Vec<_> = statuses.iter().filter(|s| s.value == 1.0).collect();
        assert_eq!(current.len(), 1, "{}", appliance.name);
        assert_eq!(
            current[0].label("status"),
            Some(appliance.verdict(now).status.as_str())
        );
    }

    // The unreachable appliance failed its poll; the simulated ones answered.
    assert_eq!(
        value_of(&samples, "vbdash_poll_up", "vcsa-dr-01"),
        Some(0.0)
    );
    assert_eq!(
        value_of(&samples, "vbdash_appliance_status", "vcsa-dr-01"),
        Some(1.0),
        "unreachable comes first among the statuses"
    );
    assert_eq!(
        value_of(&samples, "vbdash_poll_up", "vcsa-ams-01"),
        Some(1.0)
    );
    assert!(value_of(&samples, "vbdash_poll_duration_seconds", "vcsa-ams-01").unwrap() >= 0.0);

    // Job facts agree with the store, to the second.
    let ams = overview.iter().find(|a| a.name == "vcsa-ams-01").unwrap();
    let good = ams.last_good_job.as_ref().unwrap();
    let good_end = good
        .end_time
        .or(good.start_time)
        .unwrap()
        .timestamp_millis() as f64;
    assert_eq!(
        value_of(
            &samples,
            "vbdash_last_successful_backup_timestamp_seconds",
            "vcsa-ams-01"
        ),
        Some(good_end / 1000.0)
    );
    let finished = ams.last_finished_job.as_ref().unwrap();
    if let Some(size) = finished.size_bytes {
        assert_eq!(
            value_of(&samples, "vbdash_last_job_size_bytes", "vcsa-ams-01"),
            Some(size as f64)
        );
    }
    assert!(value_of(&samples, "vbdash_last_job_duration_seconds", "vcsa-ams-01").is_some());
    let states: Vec<_> = values(&samples, "vbdash_last_job_state")
        .into_iter()
        .filter(|s| s.label("appliance") == Some("vcsa-ams-01") && s.value == 1.0)
        .collect();
    assert_eq!(states.len(), 1);
    assert_eq!(
        states[0].label("state"),
        Some(ams.last_job.as_ref().unwrap().state.as_str())
    );
    let enabled = ams
        .schedule
        .as_ref()
        .map(|s| f64::from(u8::from(s.enabled)));
    assert_eq!(
        value_of(&samples, "vbdash_schedule_enabled", "vcsa-ams-01"),
        enabled
    );

    // The process families, where the platform tells them.
    let start = values(&samples, "process_start_time_seconds");
    assert_eq!(start.len(), 1);
    assert!(start[0].value <= now.timestamp() as f64 + 1.0);
    if cfg!(target_os = "linux") {
        assert!(values(&samples, "process_resident_memory_bytes")[0].value > 0.0);
        assert!(values(&samples, "process_open_fds")[0].value > 0.0);
    }

    app.stop().await;
}

/// Stopping gives every appliance session back and leaves the database closed cleanly:
/// no write-ahead log left to replay, every poll readable by the next start.
#[tokio::test]
async fn stopping_logs_out_of_every_appliance_and_closes_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let (fleet, app) = running_demo(&dir).await;
    let simulated: Vec<String> = fleet.simulator.appliance_names();
    assert!(!simulated.is_empty());
    for name in &simulated {
        assert_eq!(fleet.simulator.open_sessions(name), 1, "{name} before stop");
    }

    let store = app.store.clone();
    app.stop().await;

    for name in &simulated {
        assert_eq!(fleet.simulator.open_sessions(name), 0, "{name} after stop");
    }
    assert!(store.fleet_overview().await.is_err(), "the store is closed");
    let wal = dir.path().join("ops.db-wal");
    assert!(
        std::fs::metadata(&wal).map_or(true, |m| m.len() == 0),
        "the write-ahead log was checkpointed on close"
    );

    let reopened = Store::open(dir.path().join("ops.db").to_str().unwrap())
        .await
        .unwrap();
    let overview = reopened.fleet_overview().await.unwrap();
    assert_eq!(overview.len(), 9);
    assert!(overview.iter().all(|a| a.last_poll.is_some()));
    reopened.close().await;
}

/// Reads until the server closes the connection, or gives up after `limit`.
async fn closed_within(stream: &mut tokio::net::TcpStream, limit: Duration) -> bool {
    use tokio::io::AsyncReadExt;

    let mut buffer = [0u8; 1024];
    let read_all = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(limit, read_all).await.is_ok()
}

#[tokio::test]
async fn slow_or_idle_clients_are_disconnected_and_others_still_served() {
    use tokio::io::AsyncWriteExt;

    let dir = tempfile::tempdir().unwrap();
    let (mut fleet, first) = running_demo(&dir).await;
    first.stop().await;
    fleet.config.server.header_timeout = Duration::from_secs(1);
    fleet.config.server.max_connections = 16;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = app::start(&fleet.config, listener, FirstPoll::InBackground)
        .await
        .unwrap();

    // A client that never finishes its headers, and one that connects and says nothing.
    let mut trickle = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    trickle
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut silent = tokio::net::TcpStream::connect(app.addr).await.unwrap();

    // More connections than the cap, all idle: they wait rather than break the server.
    let mut idle = Vec::new();
    for _ in 0..24 {
        idle.push(tokio::net::TcpStream::connect(app.addr).await.unwrap());
    }

    // The generous limit only bounds a broken build; the deadline itself is one second.
    assert!(closed_within(&mut trickle, Duration::from_secs(20)).await);
    assert!(closed_within(&mut silent, Duration::from_secs(20)).await);

    // Once the idle ones are cut off, an ordinary request is answered.
    let answer = http()
        .get(format!("http://{}/healthz", app.addr))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    drop(idle);
}
