//! Running it in production: health checks, readiness and a clean stop, against the demo
//! fleet served by the real application.

use std::time::Duration;

use axum::Extension;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use tokio::net::TcpListener;
use tower::ServiceExt;
use vbdash::app::{self, FirstPoll, RunningApp};
use vbdash::config::{AuthConfig, AuthMode};
use vbdash::demo::{self, DemoFleet, DemoTuning};
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
    let mut fleet = demo::prepare(
        dir.path().join("ops.db"),
        "127.0.0.1:0".parse().unwrap(),
        &tuning,
    )
    .await
    .unwrap();
    fleet.config.auth = AuthConfig {
        mode: AuthMode::Local,
        ..AuthConfig::default()
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app = app::start(&fleet.config, listener, FirstPoll::BeforeServing)
        .await
        .unwrap();
    (fleet, app)
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
