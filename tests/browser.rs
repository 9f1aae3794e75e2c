//! End to end in headless Chromium: the demo fleet behind the real server, polled through
//! the real client from the simulator over HTTP, seen the way a person sees it.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). The paths can
//! be changed with `VBDASH_TEST_CHROMIUM` and `VBDASH_TEST_CHROMEDRIVER`.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use vbdash::app::{self, FirstPoll};
use vbdash::config::{AuthConfig, AuthMode};
use vbdash::demo::{self, DemoTuning};
use vbdash::secret::Secret;
use vbdash::store::Role;
use vbdash::web::auth::password;

/// Upper bound for anything the test waits for; the loops stop early when it happens.
const PATIENCE: Duration = Duration::from_secs(60);

struct Driver {
    _process: Child,
    addr: SocketAddr,
}

async fn start_chromedriver() -> Driver {
    let path = std::env::var("VBDASH_TEST_CHROMEDRIVER").unwrap_or("/usr/bin/chromedriver".into());
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let process = Command::new(&path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot start {path} ({e}); install it: apt-get install chromium chromium-driver"
            )
        });

    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "chromedriver did not start"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Driver {
        _process: process,
        addr,
    }
}

async fn open_browser(driver: &Driver) -> (Client, tempfile::TempDir) {
    let binary = std::env::var("VBDASH_TEST_CHROMIUM").unwrap_or("/usr/bin/chromium".into());
    let profile = tempfile::tempdir().unwrap();
    let options = json!({
        "binary": binary,
        "args": [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--window-size=1440,1000",
            format!("--user-data-dir={}", profile.path().display()),
        ],
    });
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), options);
    let client = ClientBuilder::rustls()
        .unwrap()
        .capabilities(caps)
        .connect(&format!("http://{}", driver.addr))
        .await
        .expect("a Chromium session");
    (client, profile)
}

/// The status word shown in the row of one appliance. Read in one script call, because
/// the rows are replaced every second and an element handle can go stale between calls.
async fn status_of(browser: &Client, appliance: &str) -> String {
    let script = "const cell = document.querySelector(\
                  `tr[data-appliance='${arguments[0]}'] .c-status`);\
                  return cell ? cell.textContent.trim() : '';";
    let value = browser
        .execute(script, vec![json!(appliance)])
        .await
        .unwrap();
    value.as_str().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_page_shows_every_status_and_follows_a_job_to_its_end() {
    let driver = start_chromedriver().await;
    let dir = tempfile::tempdir().unwrap();
    let tuning = DemoTuning {
        poll_interval: Duration::from_secs(2),
        running_interval: Duration::from_secs(1),
        refresh: Duration::from_secs(1),
        job_minutes: 240,
        history_days: 20,
    };
    let fleet = demo::prepare(
        dir.path().join("e2e.db"),
        "127.0.0.1:0".parse().unwrap(),
        &tuning,
    )
    .await
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = app::start(&fleet.config, listener, FirstPoll::BeforeServing)
        .await
        .unwrap();
    let (browser, _profile) = open_browser(&driver).await;

    browser
        .goto(&format!("http://{}/", server.addr))
        .await
        .unwrap();
    let expected = [
        ("vcsa-dr-01", "unreachable"),
        ("vcsa-fra-01", "failed"),
        ("vcsa-par-01", "missed"),
        ("vcsa-sgp-01", "late"),
        ("vcsa-nyc-01", "running"),
        ("vcsa-lab-01", "disabled"),
        ("vcsa-test-01", "unscheduled"),
        ("vcsa-ams-01", "good"),
        ("vcsa-lon-01", "good"),
    ];
    for (appliance, status) in expected {
        assert_eq!(status_of(&browser, appliance).await, status, "{appliance}");
    }
    let first = browser
        .execute(
            "return document.querySelector('tr[data-appliance]').dataset.appliance;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(first, json!("vcsa-dr-01"), "worst first");

    // A marker in the page proves the row changes by htmx, not by a reload.
    browser
        .execute("window.vbdashMarker = 7; return 0;", vec![])
        .await
        .unwrap();
    assert!(fleet.simulator.finish_running_job("vcsa-nyc-01", true));

    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if status_of(&browser, "vcsa-nyc-01").await == "good" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the finished job never showed"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let marker = browser
        .execute("return window.vbdashMarker || 0;", vec![])
        .await
        .unwrap();
    assert_eq!(
        marker,
        json!(7),
        "the page was reloaded instead of refreshed"
    );

    browser.close().await.unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_user_signs_in_through_the_form_and_out_again() {
    let driver = start_chromedriver().await;
    let dir = tempfile::tempdir().unwrap();
    let tuning = DemoTuning {
        history_days: 3,
        ..DemoTuning::default()
    };
    let mut fleet = demo::prepare(
        dir.path().join("login.db"),
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
    let server = app::start(&fleet.config, listener, FirstPoll::BeforeServing)
        .await
        .unwrap();
    let hash = password::hash(&Secret::new("browser test password")).unwrap();
    server
        .store
        .add_user("ann", Role::Operator, &hash, chrono::Utc::now())
        .await
        .unwrap();
    let (browser, _profile) = open_browser(&driver).await;

    let base = format!("http://{}", server.addr);
    browser
        .goto(&format!("{base}/appliances/vcsa-ams-01"))
        .await
        .unwrap();
    let url = browser.current_url().await.unwrap();
    assert_eq!(
        url.path(),
        "/login",
        "signed-out visitors go to the sign-in page"
    );

    let form = browser.form(Locator::Id("login-form")).await.unwrap();
    form.set_by_name("user", "ann").await.unwrap();
    form.set_by_name("password", "browser test password")
        .await
        .unwrap();
    form.submit_direct().await.unwrap();

    let deadline = tokio::time::Instant::now() + PATIENCE;
    while browser.current_url().await.unwrap().path() != "/appliances/vcsa-ams-01" {
        assert!(tokio::time::Instant::now() < deadline, "never got back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let who = browser.find(Locator::Css(".whoami-name")).await.unwrap();
    assert_eq!(who.text().await.unwrap(), "ann");

    browser
        .find(Locator::Css(".whoami button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while browser.current_url().await.unwrap().path() != "/login" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "sign-out did not lead to sign-in"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.goto(&format!("{base}/")).await.unwrap();
    assert_eq!(browser.current_url().await.unwrap().path(), "/login");

    browser.close().await.unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_up_now_starts_a_job_and_its_page_follows_it_to_success() {
    let driver = start_chromedriver().await;
    let dir = tempfile::tempdir().unwrap();
    let tuning = DemoTuning {
        poll_interval: Duration::from_secs(2),
        running_interval: Duration::from_secs(1),
        refresh: Duration::from_secs(1),
        job_minutes: 240,
        history_days: 3,
    };
    let mut fleet = demo::prepare(
        dir.path().join("action.db"),
        "127.0.0.1:0".parse().unwrap(),
        &tuning,
    )
    .await
    .unwrap();
    fleet.config.presets = vec![vbdash::config::Preset {
        name: "web".into(),
        url: url::Url::parse("https://backup-02.example.test/vcsa").unwrap(),
        location_type: vbdash::vcenter::location::LocationType::Https,
        user: None,
        password: None,
    }];
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = app::start(&fleet.config, listener, FirstPoll::BeforeServing)
        .await
        .unwrap();
    let (browser, _profile) = open_browser(&driver).await;

    let appliance = "vcsa-ams-01";
    browser
        .goto(&format!("http://{}/appliances/{appliance}", server.addr))
        .await
        .unwrap();
    browser
        .find(Locator::Id("back-up"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait()
        .for_element(Locator::Id("back-up-now"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    let deadline = tokio::time::Instant::now() + PATIENCE;
    let job_prefix = format!("/appliances/{appliance}/jobs/");
    loop {
        let url = browser.current_url().await.unwrap();
        if url.path().starts_with(&job_prefix) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no job page: {url}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(fleet.simulator.finish_running_job(appliance, true));

    let state = "const s = document.querySelector('.page-head .state');\
                 return s ? s.textContent.trim() : '';";
    loop {
        let shown = browser.execute(state, vec![]).await.unwrap();
        if shown.as_str() == Some("succeeded") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the job page never showed success: {shown}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }

    browser.close().await.unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledgement_from_the_appliance_page_marks_its_fleet_row() {
    let driver = start_chromedriver().await;
    let dir = tempfile::tempdir().unwrap();
    let tuning = DemoTuning {
        refresh: Duration::from_secs(1),
        history_days: 3,
        ..DemoTuning::default()
    };
    let fleet = demo::prepare(
        dir.path().join("ack.db"),
        "127.0.0.1:0".parse().unwrap(),
        &tuning,
    )
    .await
    .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = app::start(&fleet.config, listener, FirstPoll::BeforeServing)
        .await
        .unwrap();
    let (browser, _profile) = open_browser(&driver).await;
    let base = format!("http://{}", server.addr);

    let appliance = "vcsa-fra-01";
    browser
        .goto(&format!("{base}/appliances/{appliance}"))
        .await
        .unwrap();
    let form = browser
        .form(Locator::Css("#acknowledge form"))
        .await
        .unwrap();
    form.set_by_name("reason", "NAS fra-02 is being replaced")
        .await
        .unwrap();
    form.set_by_name("expires", "2d").await.unwrap();
    browser
        .find(Locator::Id("acknowledge-submit"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let panel = browser
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Id("acknowledgement"))
        .await
        .unwrap();
    let said = panel.text().await.unwrap();
    assert!(said.contains("NAS fra-02 is being replaced"), "{said}");
    assert_eq!(
        browser.current_url().await.unwrap().path(),
        format!("/appliances/{appliance}")
    );

    browser.goto(&format!("{base}/")).await.unwrap();
    // The rows are tagged, then read until htmx has swapped in fresh ones: the mark must
    // be there before and after a refresh.
    browser
        .execute(
            "document.querySelector('#fleet-rows').dataset.seen = 'old'; return 0;",
            vec![],
        )
        .await
        .unwrap();
    let script = "const row = document.querySelector(`tr[data-appliance='${arguments[0]}']`);\
                  const rows = document.querySelector('#fleet-rows');\
                  return [row ? row.className : '', row ? row.textContent : '',\
                          rows && rows.dataset.seen ? 'old' : 'fresh'];";
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let shown = browser
            .execute(script, vec![json!(appliance)])
            .await
            .unwrap();
        let class = shown[0].as_str().unwrap_or_default();
        let words = shown[1].as_str().unwrap_or_default();
        assert!(class.contains("status-failed"), "still not green: {class}");
        assert!(class.contains("row-quiet"), "not marked: {class}");
        assert!(words.contains("NAS fra-02 is being replaced"), "{words}");
        if shown[2] == json!("fresh") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "rows never refreshed"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let status = status_of(&browser, appliance).await;
    assert_eq!(status, "failed");

    browser.close().await.unwrap();
    server.stop().await;
}
