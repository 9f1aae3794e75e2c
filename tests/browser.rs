//! End to end in headless Chromium: the demo fleet behind the real server, polled through
//! the real client from the simulator over HTTP, seen the way a person sees it.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). The paths can
//! be changed with `VBDASH_TEST_CHROMIUM` and `VBDASH_TEST_CHROMEDRIVER`.

mod common;

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use common::demo_app::{add_user, local_sign_in, serve_demo};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tempfile::TempDir;
use tokio::process::{Child, Command};
use vbdash::app::RunningApp;
use vbdash::config::Config;
use vbdash::demo::{DemoFleet, DemoTuning};
use vbdash::store::Role;

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

async fn open_browser(driver: &Driver) -> (Client, TempDir) {
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

/// The demo fleet behind the real server, with a headless Chromium to look at it.
struct DemoSession {
    fleet: DemoFleet,
    server: RunningApp,
    browser: Client,
    /// Where the server answers, as `http://address`.
    base: String,
    _profile: TempDir,
    _database: TempDir,
    _driver: Driver,
}

/// Starts chromedriver, prepares the demo fleet on a fresh database file named `database`,
/// lets `configure` change its configuration, serves it once it has been polled, and opens
/// a browser.
async fn open_demo(
    database: &str,
    tuning: DemoTuning,
    configure: impl FnOnce(&mut Config),
) -> DemoSession {
    let driver = start_chromedriver().await;
    let dir = tempfile::tempdir().unwrap();
    let (fleet, server) = serve_demo(dir.path().join(database), &tuning, configure).await;
    let (browser, profile) = open_browser(&driver).await;
    DemoSession {
        fleet,
        base: format!("http://{}", server.addr),
        server,
        browser,
        _profile: profile,
        _database: dir,
        _driver: driver,
    }
}

impl DemoSession {
    /// Closes the browser, then stops the server.
    async fn close(self) {
        self.browser.close().await.unwrap();
        self.server.stop().await;
    }
}

/// Demo timings quick enough to follow a job in a test: a poll every two seconds, a
/// refresh every second, and a running backup that only ends when told to.
fn quick_tuning(history_days: u32) -> DemoTuning {
    DemoTuning {
        poll_interval: Duration::from_secs(2),
        running_interval: Duration::from_secs(1),
        refresh: Duration::from_secs(1),
        job_minutes: 240,
        history_days,
    }
}

/// One preset, so that "Back up now" has somewhere to send backups.
fn add_web_preset(config: &mut Config) {
    config.presets = vec![vbdash::config::Preset {
        name: "web".into(),
        url: url::Url::parse("https://backup-02.example.test/vcsa").unwrap(),
        location_type: vbdash::vcenter::location::LocationType::Https,
        user: None,
        password: None,
    }];
}

/// Clicks the element `locator` finds.
async fn click(browser: &Client, locator: Locator<'_>) {
    browser.find(locator).await.unwrap().click().await.unwrap();
}

/// The text of the element `locator` finds.
async fn text_at(browser: &Client, locator: Locator<'_>) -> String {
    browser.find(locator).await.unwrap().text().await.unwrap()
}

/// Waits until the browser shows the page at `path`.
async fn wait_for_path(browser: &Client, path: &str, what: &str) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while browser.current_url().await.unwrap().path() != path {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
    let demo = open_demo("e2e.db", quick_tuning(20), |_| {}).await;
    let browser = &demo.browser;

    browser.goto(&format!("{}/", demo.base)).await.unwrap();
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
        assert_eq!(status_of(browser, appliance).await, status, "{appliance}");
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
    assert!(demo.fleet.simulator.finish_running_job("vcsa-nyc-01", true));

    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if status_of(browser, "vcsa-nyc-01").await == "good" {
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

    demo.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_user_signs_in_through_the_form_and_out_again() {
    let tuning = DemoTuning {
        history_days: 3,
        ..DemoTuning::default()
    };
    let demo = open_demo("login.db", tuning, local_sign_in).await;
    add_user(&demo.server, "ann", Role::Operator, "browser test password").await;
    let (browser, base) = (&demo.browser, &demo.base);
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

    wait_for_path(browser, "/appliances/vcsa-ams-01", "never got back").await;
    assert_eq!(text_at(browser, Locator::Css(".whoami-name")).await, "ann");

    click(browser, Locator::Css(".whoami button")).await;
    wait_for_path(browser, "/login", "sign-out did not lead to sign-in").await;
    browser.goto(&format!("{base}/")).await.unwrap();
    assert_eq!(browser.current_url().await.unwrap().path(), "/login");

    demo.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn back_up_now_starts_a_job_and_its_page_follows_it_to_success() {
    let demo = open_demo("action.db", quick_tuning(3), add_web_preset).await;
    let browser = &demo.browser;

    let appliance = "vcsa-ams-01";
    browser
        .goto(&format!("{}/appliances/{appliance}", demo.base))
        .await
        .unwrap();
    click(browser, Locator::Id("back-up")).await;
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
    assert!(demo.fleet.simulator.finish_running_job(appliance, true));

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

    demo.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acknowledgement_from_the_appliance_page_marks_its_fleet_row() {
    let tuning = DemoTuning {
        refresh: Duration::from_secs(1),
        history_days: 3,
        ..DemoTuning::default()
    };
    let demo = open_demo("ack.db", tuning, |_| {}).await;
    let (browser, base) = (&demo.browser, &demo.base);

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
    click(browser, Locator::Id("acknowledge-submit")).await;
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
    let status = status_of(browser, appliance).await;
    assert_eq!(status, "failed");

    demo.close().await;
}

/// Saves a screenshot of the page into the folder named by `VBDASH_TEST_SCREENSHOTS`, when
/// it is set, for people to look at; the test does not depend on it.
async fn keep_screenshot(browser: &Client, name: &str) {
    let Ok(dir) = std::env::var("VBDASH_TEST_SCREENSHOTS") else {
        return;
    };
    let png = browser.screenshot().await.unwrap();
    std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
}

/// The appliances whose tick box is ticked on the fleet page, read in one script call.
async fn ticked(browser: &Client) -> Vec<String> {
    let script = "return Array.from(document.querySelectorAll('input.row-pick:checked'))\
                  .map(b => b.value).sort();";
    let value = browser.execute(script, vec![]).await.unwrap();
    serde_json::from_value(value).unwrap()
}

/// Waits until `script` returns true.
async fn wait_until(browser: &Client, script: &str, what: &str) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if browser.execute(script, vec![]).await.unwrap() == json!(true) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_ticked_on_the_fleet_page_outlive_refreshes_and_back_up_together() {
    let demo = open_demo("bulk.db", quick_tuning(3), add_web_preset).await;
    let browser = &demo.browser;
    browser.goto(&format!("{}/", demo.base)).await.unwrap();

    // Tick two rows the way a click does (the rows are replaced every second, so the
    // box is found and clicked in one call).
    let picked = ["vcsa-ams-01", "vcsa-lon-01"];
    for name in picked {
        let click = "const box = document.querySelector(\
                     `tr[data-appliance='${arguments[0]}'] input.row-pick`);\
                     box.click(); return box.checked;";
        let checked = browser.execute(click, vec![json!(name)]).await.unwrap();
        assert_eq!(checked, json!(true), "{name}");
    }

    // Count the refreshes of the rows from now on, and wait for two.
    browser
        .execute(
            "window.vbdashRowSwaps = 0; document.body.addEventListener('htmx:afterSettle', \
             e => { if (e.target.id === 'fleet-rows') { window.vbdashRowSwaps += 1; } }); \
             return 0;",
            vec![],
        )
        .await
        .unwrap();
    wait_until(
        browser,
        "return (window.vbdashRowSwaps || 0) >= 2;",
        "the rows never refreshed",
    )
    .await;
    assert_eq!(
        ticked(browser).await,
        picked,
        "the ticks survive the refresh"
    );
    let count = text_at(browser, Locator::Id("fleet-pick-count")).await;
    assert_eq!(count, "2 selected");
    keep_screenshot(browser, "fleet-selection").await;
    browser
        .execute(
            "document.querySelector('input.row-pick:checked').scrollIntoView(); return 0;",
            vec![],
        )
        .await
        .unwrap();
    keep_screenshot(browser, "fleet-selection-rows").await;

    // Narrowing the filter hides one ticked row: it stays selected, and the button for the
    // whole filter follows the filter the rows were built with.
    browser
        .find(Locator::Css("#fleet-filter input[name=q]"))
        .await
        .unwrap()
        .send_keys("ams")
        .await
        .unwrap();
    wait_until(
        browser,
        "const b = document.getElementById('pick-filter');\
         return !!b && b.textContent.includes('1 row of this filter');",
        "the filter button never followed the filter",
    )
    .await;
    assert_eq!(ticked(browser).await, ["vcsa-ams-01"]);
    let count = text_at(browser, Locator::Id("fleet-pick-count")).await;
    assert_eq!(count, "2 selected (1 not shown)");
    keep_screenshot(browser, "fleet-selection-filtered").await;

    click(browser, Locator::Id("pick-selected")).await;
    let reason = browser
        .wait()
        .for_element(Locator::Id("reason"))
        .await
        .unwrap();
    let offered = browser
        .execute(
            "return Array.from(document.querySelectorAll('input[name=appliances]:checked'))\
             .map(b => b.value).sort();",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(offered, json!(picked), "both ticks reach the form");
    reason.send_keys("before the patch window").await.unwrap();
    click(browser, Locator::Id("bulk-review")).await;
    let count = browser
        .wait()
        .for_element(Locator::Id("bulk-count"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(count.starts_with("2 "), "{count}");
    keep_screenshot(browser, "bulk-confirm").await;
    click(browser, Locator::Id("bulk-start")).await;

    // Both backups start; the appliances finish them; the summary follows to the end.
    browser
        .wait()
        .for_element(Locator::Id("bulk-counts"))
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut finished = Vec::new();
    while finished.len() < picked.len() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the backups never ran"
        );
        for name in picked {
            if !finished.contains(&name) && demo.fleet.simulator.finish_running_job(name, true) {
                finished.push(name);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_until(
        browser,
        "const c = document.getElementById('bulk-counts');\
         return !!c && c.textContent.includes('2 succeeded') \
           && c.textContent.includes('finished');",
        "the summary never reached its outcomes",
    )
    .await;
    keep_screenshot(browser, "bulk-summary").await;

    demo.close().await;
}
