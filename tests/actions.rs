//! Actions end to end: the real router, a real SQLite file and the simulator on
//! 127.0.0.1, on both API generations.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use scraper::{Html, Selector};
use tower::ServiceExt;
use url::Url;

use common::SimServer;
use vbdash::config::Preset;
use vbdash::domain::{ApplianceOverview, JobId, JobState};
use vbdash::secret::Secret;
use vbdash::simulator::SimAppliance;
use vbdash::store::{AuditFilter, BulkRunRecord, BulkState, Store, StoredJob};
use vbdash::vcenter::ApplianceClient;
use vbdash::vcenter::location::LocationType;
use vbdash::web::actions::Actions;
use vbdash::web::actions::bulk_run::{BulkSettings, recover_after_restart};
use vbdash::web::auth::Auth;
use vbdash::web::{self, AppState, WebSettings};

const API: &str = "vc-api";
const REST: &str = "vc-rest";
const BACKUP_PASSWORD: &str = "Xk7#pLq2mW";
const LOCATION_PASSWORD: &str = "location-secret-42";

struct Site {
    router: Router,
    actions: Arc<Actions>,
    store: Store,
    sim: SimServer,
    clients: Vec<Arc<ApplianceClient>>,
    cookie: String,
    csrf: String,
    _dir: tempfile::TempDir,
}

struct Answer {
    status: StatusCode,
    location: String,
    body: String,
}

fn presets() -> Vec<Preset> {
    let preset = |name: &str, url: &str, user: Option<&str>, password: Option<&str>| Preset {
        name: name.to_owned(),
        url: Url::parse(url).unwrap(),
        location_type: LocationType::from_scheme(url.split(':').next().unwrap()).unwrap(),
        user: user.map(str::to_owned),
        password: password.map(Secret::new),
    };
    vec![
        preset("nas", "nfs://nas-01.example.test/export/vcsa", None, None),
        preset(
            "offsite",
            "sftp://backup-01.example.test/srv/vcsa",
            Some("svc-backup"),
            Some(LOCATION_PASSWORD),
        ),
        preset("web", "https://backup-02.example.test/vcsa", None, None),
    ]
}

/// The two appliances most tests act on: one on the current API, one on 6.7 U1 (before
/// NFS and SMB), with the usual presets.
async fn site() -> Site {
    let appliances = vec![
        SimAppliance::new(API, "8.0.3.00400").history_days(3),
        SimAppliance::new(REST, "6.7.0.20000").history_days(3),
    ];
    site_over(appliances, |clients| Actions::new(clients, presets())).await
}

/// A site over the simulated `appliances`, polled once, whose actions `actions` makes from
/// the clients, with a browser session open.
async fn site_over(
    appliances: Vec<SimAppliance>,
    actions: impl FnOnce(&[Arc<ApplianceClient>]) -> Arc<Actions>,
) -> Site {
    let names: Vec<String> = appliances.iter().map(|a| a.name.clone()).collect();
    let sim = SimServer::start(appliances).await;
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (store, dir) = common::fresh_store(&refs).await;
    let clients: Vec<_> = names
        .iter()
        .map(|name| sim.client(name, Duration::from_secs(5)))
        .collect();
    vbdash::poller::poll_all_once(&store, &clients, clients.len().min(8)).await;

    let mut site = Site {
        router: Router::new(),
        actions: Actions::none(),
        store,
        sim,
        clients,
        cookie: String::new(),
        csrf: String::new(),
        _dir: dir,
    };
    site.mount(actions(&site.clients));
    site.open_session().await;
    site
}

/// An appliance on 8.0 without a schedule, whose history is a day long.
fn unscheduled(name: &str) -> SimAppliance {
    SimAppliance::new(name, "8.0.3.00400")
        .history_days(1)
        .schedule(None)
}

/// How bulk runs go in tests: `per_target_limit` backups at once, followed every 30 ms.
fn quick_bulk(per_target_limit: usize) -> BulkSettings {
    BulkSettings {
        per_target_limit,
        follow_every: Duration::from_millis(30),
    }
}

/// The first element `css` finds in `doc`; the test fails without one.
fn element(doc: &Html, css: &str) -> scraper::node::Element {
    doc.select(&Selector::parse(css).unwrap())
        .next()
        .unwrap_or_else(|| panic!("{css} missing"))
        .value()
        .clone()
}

impl Site {
    /// Serves `actions` through a fresh router over the current store.
    fn mount(&mut self, actions: Arc<Actions>) {
        self.router = web::router(AppState {
            store: self.store.clone(),
            settings: WebSettings::default(),
            auth: Auth::none(),
            actions: Arc::clone(&actions),
        });
        self.actions = actions;
    }

    /// The SQLite file the site's store writes.
    fn database_path(&self) -> std::path::PathBuf {
        self._dir.path().join("vbdash.db")
    }

    /// Visits a page as a browser does and keeps its cookie and CSRF token.
    async fn open_session(&mut self) {
        let response = self
            .router
            .clone()
            .oneshot(Request::get("/").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let cookie = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("vbdash_browser="))
            .and_then(|v| v.split(';').next())
            .unwrap()
            .to_owned();
        let body = axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .unwrap();
        let doc = Html::parse_document(&String::from_utf8_lossy(&body));
        let meta = Selector::parse("meta[name=csrf-token]").unwrap();
        self.csrf = doc
            .select(&meta)
            .next()
            .and_then(|m| m.attr("content"))
            .unwrap()
            .to_owned();
        self.cookie = cookie;
    }

    async fn send(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .unwrap();
        Answer {
            status,
            location,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    }

    async fn get(&self, uri: &str) -> Answer {
        let request = Request::get(uri)
            .header(header::COOKIE, &self.cookie)
            .body(Body::empty())
            .unwrap();
        self.send(request).await
    }

    /// Posts `form` with the session's CSRF token added.
    async fn post(&self, uri: &str, form: &str) -> Answer {
        let body = format!("csrf_token={}&{form}", self.csrf);
        self.post_raw(uri, &body).await
    }

    async fn post_raw(&self, uri: &str, body: &str) -> Answer {
        let request = Request::post(uri)
            .header(header::COOKIE, &self.cookie)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .unwrap();
        self.send(request).await
    }

    /// The job as the store has it; the test fails if it is not there.
    async fn stored_job(&self, appliance: &str, id: &JobId) -> StoredJob {
        self.store.get_job(appliance, id).await.unwrap().unwrap()
    }

    /// The appliance as the store has it; the test fails if it is not there.
    async fn overview(&self, appliance: &str) -> ApplianceOverview {
        self.store
            .appliance_overview(appliance)
            .await
            .unwrap()
            .unwrap()
    }

    async fn poll(&self) {
        vbdash::poller::poll_all_once(&self.store, &self.clients, 2).await;
    }

    async fn audit(&self) -> Vec<vbdash::store::AuditEntry> {
        let filter = AuditFilter {
            limit: 100,
            ..AuditFilter::default()
        };
        self.store.audit_entries(&filter).await.unwrap()
    }
}

fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test]
async fn the_form_offers_what_the_version_accepts_and_lists_parts() {
    let site = site().await;

    let api = site.get(&format!("/appliances/{API}/backup")).await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    for name in ["nas", "offsite", "web"] {
        assert!(
            api.body.contains(&format!("<option value=\"{name}\"")),
            "{name}"
        );
    }
    assert!(api.body.contains("value=\"seat\""), "{}", api.body);
    assert!(!api.body.contains(LOCATION_PASSWORD));

    let rest = site.get(&format!("/appliances/{REST}/backup")).await;
    assert_eq!(rest.status, StatusCode::OK);
    assert!(rest.body.contains("<option value=\"web\""));
    assert!(!rest.body.contains("<option value=\"nas\""));
    assert!(!rest.body.contains("<option value=\"offsite\""));
    assert!(
        rest.body.contains("NFS needs version 6.7.2 or later"),
        "{}",
        rest.body
    );
    assert!(rest.body.contains("SFTP needs version 7.0.0 or later"));
}

async fn start_and_follow(site: &Site, appliance: &str, preset: &str) {
    let jobs_before = site.sim.simulator.job_count(appliance);
    let form = format!(
        "preset={preset}&parts=seat&comment=before+upgrade&backup_password={}",
        encode(BACKUP_PASSWORD)
    );
    let started = site
        .post(&format!("/appliances/{appliance}/backup"), &form)
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    assert_eq!(site.sim.simulator.job_count(appliance), jobs_before + 1);

    let prefix = format!("/appliances/{appliance}/jobs/");
    let id = started.location.strip_prefix(&prefix).unwrap();
    let stored = site
        .store
        .get_job(appliance, &JobId::parse(id).unwrap())
        .await
        .unwrap()
        .expect("the job is recorded before any poll");
    assert_eq!(stored.job.state, JobState::Running);

    let page = site.get(&started.location).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("hx-trigger=\"every"),
        "the page follows the job"
    );
    assert!(
        page.body.contains("id=\"cancel-job\""),
        "a running job can be canceled"
    );
    let appliance_page = site.get(&format!("/appliances/{appliance}")).await;
    assert!(appliance_page.body.contains("id=\"back-up\""));

    // A second start while the first runs is an outcome in words, and records nothing.
    let again = site
        .post(&format!("/appliances/{appliance}/backup"), &form)
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.body);
    assert!(again.body.contains("already running a backup"));
    assert_eq!(site.sim.simulator.job_count(appliance), jobs_before + 1);

    let audit = site.audit().await;
    assert!(audit[0].outcome.contains("already running"));
    assert!(!audit[0].ok);
    assert!(audit[1].ok && audit[1].outcome.contains(id));
    let everything = format!("{audit:?}");
    assert!(!everything.contains(BACKUP_PASSWORD) && !everything.contains(LOCATION_PASSWORD));
}

#[tokio::test]
async fn a_backup_starts_on_both_generations() {
    let site = site().await;
    start_and_follow(&site, API, "offsite").await;
    start_and_follow(&site, REST, "web").await;
}

#[tokio::test]
async fn bad_input_is_refused_with_field_and_reason_and_nothing_sent() {
    let site = site().await;
    let jobs_before = site.sim.simulator.job_count(API);
    let uri = format!("/appliances/{API}/backup");

    let cases = [
        (
            "preset=web&backup_password=short",
            "backup_password",
            "8 to 20",
        ),
        (
            "preset=web&backup_password=abcdefgh1%21",
            "backup_password",
            "upper-case",
        ),
        ("parts=seat", "preset", "choose"),
        ("preset=nope", "preset", "no preset"),
        ("preset=web&parts=a%2Fb", "parts", "not a part id"),
    ];
    for (form, field, words) in cases {
        let answer = site.post(&uri, form).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{form}");
        assert!(answer.body.contains(field), "{form}: {}", answer.body);
        assert!(answer.body.contains(words), "{form}: {}", answer.body);
        assert!(answer.body.contains("Nothing was sent"));
    }

    let rest = site
        .post(&format!("/appliances/{REST}/backup"), "preset=nas")
        .await;
    assert_eq!(rest.status, StatusCode::BAD_REQUEST);
    assert!(rest.body.contains("6.7.2"));

    assert_eq!(site.sim.simulator.job_count(API), jobs_before);
    assert!(
        site.audit().await.is_empty(),
        "nothing half-done is recorded"
    );
}

#[tokio::test]
async fn the_csrf_token_is_required() {
    let site = site().await;
    let answer = site
        .post_raw(&format!("/appliances/{API}/backup"), "preset=web")
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    let answer = site
        .post_raw(&format!("/appliances/{API}/validate"), "preset=web")
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn validation_shows_the_verdict_on_both_generations() {
    let site = site().await;
    for (appliance, preset) in [(API, "offsite"), (REST, "web")] {
        let answer = site
            .post(
                &format!("/appliances/{appliance}/validate"),
                &format!("preset={preset}"),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        assert!(answer.body.contains(">OK<"), "{}", answer.body);
        assert!(answer.body.contains("can back up to"));
    }
    let audit = site.audit().await;
    assert_eq!(audit.len(), 2);
    assert!(audit.iter().all(|e| e.action == "backup.validate" && e.ok));
}

#[tokio::test]
async fn cancel_shows_the_answer_and_waits_for_a_poll() {
    let site = site().await;
    for (appliance, preset) in [(API, "offsite"), (REST, "web")] {
        let started = site
            .post(
                &format!("/appliances/{appliance}/backup"),
                &format!("preset={preset}"),
            )
            .await;
        assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
        let id = started.location.rsplit('/').next().unwrap().to_owned();
        let job_id = JobId::parse(&id).unwrap();

        let cancel = site.post(&format!("{}/cancel", started.location), "").await;
        assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.body);
        assert!(cancel.body.contains("accepted the request to cancel"));
        assert!(
            cancel.body.contains("accepted."),
            "the appliance's own message"
        );

        let stored = site.stored_job(appliance, &job_id).await;
        assert_eq!(stored.job.state, JobState::Running, "not on the 200 alone");

        site.poll().await;
        let stored = site.stored_job(appliance, &job_id).await;
        assert_ne!(stored.job.state, JobState::Running);

        let again = site.post(&format!("{}/cancel", started.location), "").await;
        assert!(again.body.contains("did not accept"), "{}", again.body);
    }
}

#[tokio::test]
async fn the_audit_log_is_shown_filtered_and_exported() {
    let site = site().await;
    let validated = site
        .post(&format!("/appliances/{API}/validate"), "preset=web")
        .await;
    assert_eq!(validated.status, StatusCode::OK);
    let started = site
        .post(
            &format!("/appliances/{REST}/backup"),
            "preset=web&comment=%3DHYPERLINK%28%22x%22%29",
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);

    let page = site.get("/audit").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("backup.validate") && page.body.contains("backup.start"));
    let filtered = site.get("/audit?action=backup.start").await;
    assert!(!filtered.body.contains("backup.validate"));
    assert!(filtered.body.contains(REST));

    let csv = site.get("/audit.csv?appliance=vc-rest").await;
    assert_eq!(csv.status, StatusCode::OK);
    let mut lines = csv.body.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("at_utc,user,appliance,action")
    );
    let line = lines.next().unwrap();
    assert!(line.contains(",local,vc-rest,backup.start,"), "{line}");
    assert!(line.contains("'=HYPERLINK"), "formula defused: {line}");
    assert!(lines.next().is_none());

    // The log is append-only: the database itself refuses changes and deletions.
    let path = site.database_path();
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let update = sqlx::query("UPDATE audit_log SET outcome = 'x'")
        .execute(&pool)
        .await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM audit_log").execute(&pool).await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    assert_eq!(site.audit().await.len(), 2);
}

#[tokio::test]
async fn a_bulk_run_over_twenty_appliances_keeps_two_per_target() {
    let names: Vec<String> = (1..=20).map(|n| format!("vc-{n:02}")).collect();
    let appliances = names
        .iter()
        .enumerate()
        .map(|(n, name)| {
            let version = if n % 2 == 0 {
                "8.0.3.00400"
            } else {
                "6.7.0.44000"
            };
            SimAppliance::new(name, version)
                .history_days(1)
                .schedule(None)
                .job_minutes(600)
        })
        .collect();
    let site = site_over(appliances, |clients| {
        Actions::with_settings(clients, presets(), quick_bulk(2))
    })
    .await;

    let form = page_form(&site, &names);
    let missing_reason = site
        .post("/fleet/backup", &form.replace("reason=", "x="))
        .await;
    assert_eq!(missing_reason.status, StatusCode::BAD_REQUEST);
    assert!(missing_reason.body.contains("reason"));
    let unconfirmed = site
        .post("/fleet/backup", &form.replace("confirm=yes", ""))
        .await;
    assert_eq!(unconfirmed.status, StatusCode::BAD_REQUEST);

    let started = site.post("/fleet/backup", &form).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let summary = site.get(&started.location).await;
    assert!(
        summary.body.contains("hx-trigger=\"every"),
        "{}",
        summary.body
    );

    // Each sweep ends every backup running at that moment: their number is the concurrency.
    let mut most = 0;
    let mut finished = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while finished < names.len() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the run did not end"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
        let running = names
            .iter()
            .filter(|n| site.sim.simulator.finish_running_job(n, true))
            .count();
        most = most.max(running);
        finished += running;
    }
    assert!(most <= 2, "{most} backups ran at once at one target");
    assert_eq!(most, 2, "the cap is used");

    let rows_uri = format!("{}/rows", started.location);
    let mut rows = site.get(&rows_uri).await;
    while rows.body.contains("hx-trigger") {
        assert!(tokio::time::Instant::now() < deadline, "{}", rows.body);
        tokio::time::sleep(Duration::from_millis(50)).await;
        rows = site.get(&rows_uri).await;
    }
    assert!(rows.body.contains("20 succeeded"), "{}", rows.body);

    let audit = site.audit().await;
    let starts = audit.iter().filter(|e| e.action == "backup.start").count();
    assert_eq!(starts, 20);
    assert!(
        audit
            .iter()
            .all(|e| e.reason.as_deref() == Some("before patching"))
    );
}

/// The bulk form for every appliance, preset `web`, with a reason and the confirmation.
fn page_form(_site: &Site, names: &[String]) -> String {
    let mut form: String = names.iter().map(|n| format!("appliances={n}&")).collect();
    form.push_str(&format!(
        "preset=web&reason=before+patching&expected={}&confirm=yes",
        names.len()
    ));
    form
}

#[tokio::test]
async fn schedules_are_created_changed_and_deleted_on_both_generations() {
    let appliances = vec![
        unscheduled(API),
        SimAppliance::new(REST, "6.7.0.44000")
            .history_days(1)
            .schedule(None),
    ];
    let site = site_over(appliances, |clients| Actions::new(clients, presets())).await;

    for appliance in [API, REST] {
        let uri = format!("/appliances/{appliance}/schedule");
        let form = site.get(&uri).await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.body.contains("saving creates one"));

        let bad = site.post(&uri, "preset=web&hour=24&minute=0").await;
        assert_eq!(bad.status, StatusCode::BAD_REQUEST);
        assert!(bad.body.contains("hour"));
        let bad_day = site
            .post(&uri, "preset=web&hour=2&minute=0&days=funday")
            .await;
        assert_eq!(bad_day.status, StatusCode::BAD_REQUEST);
        assert!(
            bad_day.body.contains("Monday to Sunday"),
            "{}",
            bad_day.body
        );

        let created = site
            .post(
                &uri,
                &format!(
                    "preset=web&hour=2&minute=30&days=monday&days=FRIDAY&max_count=7\
                     &enable=yes&parts=seat&backup_password={}",
                    encode(BACKUP_PASSWORD)
                ),
            )
            .await;
        assert_eq!(created.status, StatusCode::OK, "{}", created.body);
        assert!(created.body.contains("after the next poll"));
        // Days are said as people write them; only the values sent keep the appliance's case.
        assert!(
            created.body.contains("days [Monday, Friday]"),
            "{}",
            created.body
        );
        assert!(!created.body.contains("MONDAY"), "{}", created.body);
        let before = site.overview(appliance).await;
        assert!(
            before.schedule.is_none(),
            "not on the strength of the answer alone"
        );

        site.poll().await;
        let now = site.overview(appliance).await;
        let schedule = now.schedule.expect("the poll reads the new schedule");
        assert_eq!(schedule.time, Some((2, 30)));
        assert_eq!(schedule.days.len(), 2);
        assert_eq!(schedule.retention, Some(7));
        assert!(schedule.enabled);

        // The form now shows the schedule the appliance has, parts with their sizes.
        let form = site.get(&uri).await;
        let doc = Html::parse_document(&form.body);
        let attr = |css: &str, name: &str| {
            doc.select(&Selector::parse(css).unwrap())
                .next()
                .unwrap_or_else(|| panic!("{css} missing"))
                .value()
                .attr(name)
                .map(str::to_owned)
        };
        assert_eq!(attr("#hour", "value").as_deref(), Some("2"));
        assert_eq!(attr("#minute", "value").as_deref(), Some("30"));
        assert_eq!(attr("#max_count", "value").as_deref(), Some("7"));
        for (day, ticked) in [("MONDAY", true), ("FRIDAY", true), ("SUNDAY", false)] {
            let css = format!("input[value={day}]");
            assert_eq!(attr(&css, "checked").is_some(), ticked, "{day}");
        }
        let day_labels: Vec<String> = doc
            .select(&Selector::parse("#days label").unwrap())
            .map(|l| l.text().collect::<String>().trim().to_owned())
            .collect();
        assert_eq!(
            day_labels,
            [
                "Monday",
                "Tuesday",
                "Wednesday",
                "Thursday",
                "Friday",
                "Saturday",
                "Sunday"
            ]
        );
        assert!(attr("input[name=enable]", "checked").is_some());
        assert!(attr("option[value=web]", "selected").is_some());
        assert!(attr("input[value=seat]", "checked").is_some());
        assert!(form.body.contains(" MiB)") || form.body.contains(" GiB)"));
        assert!(!form.body.contains(BACKUP_PASSWORD));

        let updated = site
            .post(&uri, "preset=web&hour=4&minute=0&max_count=3")
            .await;
        assert_eq!(updated.status, StatusCode::OK, "{}", updated.body);
        site.poll().await;
        let history = site.store.schedule_history(appliance, 10).await.unwrap();
        let newest = history[0]
            .schedule
            .as_ref()
            .expect("the change is in the history");
        assert_eq!(newest.time, Some((4, 0)));
        assert!(!newest.enabled);

        let deleted = site.post(&format!("{uri}/delete"), "").await;
        assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
        site.poll().await;
        let gone = site.overview(appliance).await;
        assert!(gone.schedule.is_none());
    }

    let audit = site.audit().await;
    assert!(!format!("{audit:?}").contains(BACKUP_PASSWORD));
    assert!(audit.iter().any(|e| e.detail.contains("encrypted")));
    let actions: Vec<String> = audit.into_iter().map(|e| e.action).collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| a.starts_with("schedule."))
            .count(),
        6,
        "{actions:?}"
    );
}

#[tokio::test]
async fn a_read_only_appliance_account_is_refused_in_words() {
    let appliances = vec![unscheduled(API).read_only_user(common::USER)];
    let site = site_over(appliances, |clients| Actions::new(clients, presets())).await;

    let jobs_before = site.sim.simulator.job_count(API);
    let answer = site
        .post(&format!("/appliances/{API}/backup"), "preset=web")
        .await;
    assert_eq!(answer.status, StatusCode::BAD_GATEWAY, "{}", answer.body);
    assert!(
        answer
            .body
            .contains("did not start the backup: permission denied")
    );
    assert_eq!(site.sim.simulator.job_count(API), jobs_before);
    let audit = site.audit().await;
    assert_eq!(audit.len(), 1);
    assert!(!audit[0].ok);
}

/// A site over `names` (all on 8.0, no schedule, long jobs) whose bulk runs allow
/// `per_target_limit` backups at once, on the SQLite file in `dir`.
async fn bulk_site(names: &[&str], per_target_limit: usize) -> Site {
    let appliances = names
        .iter()
        .map(|name| unscheduled(name).job_minutes(600))
        .collect();
    site_over(appliances, |clients| {
        Actions::with_settings(clients, presets(), quick_bulk(per_target_limit))
    })
    .await
}

impl Site {
    /// Builds the router again over the current store, as a fresh process does.
    fn serve(&mut self, per_target_limit: usize) {
        let settings = quick_bulk(per_target_limit);
        self.mount(Actions::with_settings(&self.clients, presets(), settings));
    }

    /// Waits until run `id` has items in `state` as many as `count`.
    async fn wait_for(&self, id: i64, state: BulkState, count: usize) -> BulkRunRecord {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let run = self.store.bulk_run(id).await.unwrap().unwrap();
            if run.items.iter().filter(|i| i.state == state).count() == count {
                return run;
            }
            assert!(tokio::time::Instant::now() < deadline, "{run:?}");
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
    }
}

fn run_id(location: &str) -> i64 {
    location
        .strip_prefix("/fleet/backup/runs/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("not a run page: {location}"))
}

#[tokio::test]
async fn a_bulk_run_survives_a_restart_with_unfinished_items_marked_interrupted() {
    let names = ["vc-r1", "vc-r2", "vc-r3"];
    let mut site = bulk_site(&names, 1).await;
    let form = "appliances=vc-r1&appliances=vc-r2&appliances=vc-r3&preset=web\
                &reason=before+patching&expected=3&confirm=yes";
    let started = site.post("/fleet/backup", form).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let id = run_id(&started.location);
    site.wait_for(id, BulkState::Started, 1).await;
    let run = site.wait_for(id, BulkState::Queued, 2).await;
    let running = run
        .items
        .iter()
        .find(|i| i.state == BulkState::Started)
        .unwrap()
        .appliance
        .clone();
    let jobs_before: Vec<usize> = names
        .iter()
        .map(|n| site.sim.simulator.job_count(n))
        .collect();

    // The process goes away: its runs write nothing more, the database is closed, and a
    // new process opens the same file.
    site.actions.bulk().shutdown();
    site.store.close().await;
    let path = site.database_path();
    site.store = Store::open(path.to_str().unwrap()).await.unwrap();
    assert_eq!(recover_after_restart(&site.store).await.unwrap(), 1);
    site.serve(1);

    let page = site.get(&started.location).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("3 interrupted"), "{}", page.body);
    assert!(page.body.contains("finished"));
    assert!(!page.body.contains("hx-trigger"), "nothing left to follow");
    assert!(
        page.body
            .contains("interrupted by restart before its start")
    );
    assert!(page.body.contains("interrupted by restart while job"));
    assert!(
        page.body.contains("job page"),
        "the started job stays linked"
    );
    assert!(page.body.contains("before patching"));

    // Nothing is run again: the appliances never see another start.
    assert_eq!(recover_after_restart(&site.store).await.unwrap(), 0);
    site.sim.simulator.finish_running_job(&running, true);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let jobs_after: Vec<usize> = names
        .iter()
        .map(|n| site.sim.simulator.job_count(n))
        .collect();
    assert_eq!(jobs_before, jobs_after);

    let audit = site.audit().await;
    let sweep = audit
        .iter()
        .find(|e| e.action == "bulk.interrupted")
        .expect("the sweep is audited");
    assert_eq!(sweep.user, "vbdash");
    assert!(
        sweep
            .outcome
            .contains("2 not started, 1 no longer followed")
    );
}

#[tokio::test]
async fn stop_stops_the_appliances_not_yet_started_and_says_who() {
    let names = ["vc-s1", "vc-s2", "vc-s3"];
    let site = bulk_site(&names, 1).await;
    let form = "appliances=vc-s1&appliances=vc-s2&appliances=vc-s3&preset=web\
                &reason=patch+window&expected=3&confirm=yes";
    let started = site.post("/fleet/backup", form).await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let id = run_id(&started.location);
    site.wait_for(id, BulkState::Started, 1).await;
    let summary = site.get(&started.location).await;
    assert!(
        summary.body.contains("id=\"bulk-stop\""),
        "{}",
        summary.body
    );

    let stop = site.post(&format!("{}/stop", started.location), "").await;
    assert_eq!(stop.status, StatusCode::SEE_OTHER, "{}", stop.body);
    let run = site.wait_for(id, BulkState::Stopped, 2).await;
    assert_eq!(run.stopped.as_ref().map(|(u, _)| u.as_str()), Some("local"));
    let running = run
        .items
        .iter()
        .find(|i| i.state == BulkState::Started)
        .expect("the backup already running goes on")
        .appliance
        .clone();

    assert!(site.sim.simulator.finish_running_job(&running, true));
    site.wait_for(id, BulkState::Succeeded, 1).await;
    let rows = site.get(&format!("{}/rows", started.location)).await;
    assert!(
        rows.body.contains("1 succeeded, 2 stopped"),
        "{}",
        rows.body
    );
    assert!(rows.body.contains("stopped by local"));
    assert!(!rows.body.contains("hx-trigger"));
    assert!(
        !rows.body.contains("id=\"bulk-stop\""),
        "nothing left to stop"
    );
    for name in names.iter().filter(|n| **n != running) {
        assert!(
            !site.sim.simulator.finish_running_job(name, true),
            "{name} was started after Stop"
        );
    }

    let audit = site.audit().await;
    let stop = audit.iter().find(|e| e.action == "bulk.stop").unwrap();
    assert_eq!(stop.user, "local");
    assert!(
        stop.outcome.contains("2 appliances not started"),
        "{stop:?}"
    );
    assert_eq!(
        audit.iter().filter(|e| e.action == "backup.start").count(),
        1
    );
}

#[tokio::test]
async fn a_filter_selection_is_resolved_by_the_server_when_the_run_starts() {
    let names = ["vc-a1", "vc-a2", "vc-b1"];
    let site = bulk_site(&names, 2).await;

    // The fleet page: a tick per row and a button for every row of the filter, which the
    // refreshed rows carry along with the filter they were built with.
    let fleet = site.get("/").await;
    assert_eq!(fleet.body.matches("class=\"row-pick\"").count(), 3);
    assert!(
        fleet.body.contains("Back up all 3 appliances"),
        "{}",
        fleet.body
    );
    let rows = site.get("/fleet/rows?q=vc-a").await;
    assert!(
        rows.body
            .contains("id=\"fleet-pick-filter\" class=\"pick-filter\" hx-swap-oob")
    );
    assert!(rows.body.contains("name=\"q\" value=\"vc-a\""));
    assert!(
        rows.body.contains("Back up all 2 rows of this filter"),
        "{}",
        rows.body
    );

    let form = site.get("/fleet/backup?scope=filter&q=vc-a").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("2 now"), "{}", form.body);

    let chosen = "scope=filter&status=&tag=&q=vc-a&preset=web&reason=filter+run";
    let review = site.post("/fleet/backup/review", chosen).await;
    assert_eq!(review.status, StatusCode::OK, "{}", review.body);
    assert!(review.body.contains("Start 2 backups"), "{}", review.body);
    assert!(
        !review.body.contains("name=\"appliances\""),
        "the filter travels, not the names"
    );
    assert!(review.body.contains("name=\"expected\" value=\"2\""));

    // "Change…" leads back to the form with the same choices, and no token in the address.
    let change = Html::parse_document(&review.body)
        .select(&Selector::parse("#bulk-change").unwrap())
        .next()
        .and_then(|a| a.value().attr("href").map(str::to_owned))
        .unwrap();
    assert!(!change.contains("csrf"), "{change}");
    let again = site.get(&change).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(
        again.body.contains("value=\"filter run\""),
        "{}",
        again.body
    );
    assert!(again.body.contains("2 now"));

    // Between the confirmation and the start the filter came to match another number:
    // nothing starts, and the count is shown again.
    let stale = site
        .post("/fleet/backup", &format!("{chosen}&expected=3&confirm=yes"))
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    assert!(stale.body.contains("now holds 2 appliances, not the 3"));
    assert!(site.audit().await.is_empty());

    let started = site
        .post("/fleet/backup", &format!("{chosen}&expected=2&confirm=yes"))
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let run = site
        .store
        .bulk_run(run_id(&started.location))
        .await
        .unwrap()
        .unwrap();
    let asked: Vec<&str> = run.items.iter().map(|i| i.appliance.as_str()).collect();
    assert_eq!(asked, ["vc-a1", "vc-a2"]);
    assert!(run.selection.contains("vc-a"), "{}", run.selection);
    site.wait_for(run.id, BulkState::Started, 2).await;
    assert!(!site.sim.simulator.finish_running_job("vc-b1", true));
}

#[tokio::test]
async fn a_start_without_the_confirmed_count_starts_nothing() {
    let names = ["vc-e1", "vc-e2"];
    let site = bulk_site(&names, 2).await;
    let chosen = "scope=filter&status=&tag=&q=vc-e&preset=web&reason=filter+run";

    let missing = site
        .post("/fleet/backup", &format!("{chosen}&confirm=yes"))
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST, "{}", missing.body);
    assert!(missing.body.contains("expected"), "{}", missing.body);
    assert!(missing.body.contains("is missing"), "{}", missing.body);
    // The page shown is the confirmation again, with the count it holds now.
    assert!(missing.body.contains("name=\"expected\" value=\"2\""));

    let junk = site
        .post(
            "/fleet/backup",
            &format!("{chosen}&expected=all&confirm=yes"),
        )
        .await;
    assert_eq!(junk.status, StatusCode::BAD_REQUEST, "{}", junk.body);
    assert!(junk.body.contains("not a number"), "{}", junk.body);

    let picked = site
        .post(
            "/fleet/backup",
            "appliances=vc-e1&preset=web&reason=one&confirm=yes",
        )
        .await;
    assert_eq!(picked.status, StatusCode::BAD_REQUEST, "{}", picked.body);

    assert!(site.store.bulk_run(1).await.unwrap().is_none());
    assert!(site.audit().await.is_empty(), "nothing was started");
    for name in names {
        assert!(!site.sim.simulator.finish_running_job(name, true), "{name}");
    }
}

#[tokio::test]
async fn a_bulk_reason_or_comment_with_a_direction_control_is_refused() {
    let names = ["vc-d1"];
    let site = bulk_site(&names, 1).await;

    let reason = "appliances=vc-d1&preset=web&reason=ok%E2%80%AEyaw&expected=1&confirm=yes";
    for uri in ["/fleet/backup/review", "/fleet/backup"] {
        let answer = site.post(uri, reason).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{uri}: {}",
            answer.body
        );
        assert!(answer.body.contains("U+202E"), "{uri}: {}", answer.body);
    }
    let comment = site
        .post(
            "/appliances/vc-d1/backup",
            "preset=web&comment=nightly%E2%81%A7x",
        )
        .await;
    assert_eq!(comment.status, StatusCode::BAD_REQUEST, "{}", comment.body);
    assert!(comment.body.contains("U+2067"), "{}", comment.body);

    assert!(site.store.bulk_run(1).await.unwrap().is_none());
    assert!(site.audit().await.is_empty(), "nothing was started");
}

#[tokio::test]
async fn a_filter_with_an_unknown_status_word_selects_nothing() {
    let names = ["vc-s1", "vc-s2"];
    let site = bulk_site(&names, 2).await;

    // Dropping the unknown word would leave an empty filter: every appliance.
    for word in ["bogus", "FAILED", "faild"] {
        let chosen = format!("scope=filter&status={word}&preset=web&reason=typo");
        let review = site.post("/fleet/backup/review", &chosen).await;
        assert_eq!(review.status, StatusCode::BAD_REQUEST, "{}", review.body);
        assert!(review.body.contains("id=\"status-error\"") || review.body.contains("#status"));
        assert!(review.body.contains(word), "{}", review.body);

        let start = site
            .post("/fleet/backup", &format!("{chosen}&confirm=yes"))
            .await;
        assert_eq!(start.status, StatusCode::BAD_REQUEST, "{}", start.body);
    }
    assert!(site.store.bulk_run(1).await.unwrap().is_none());
    assert!(
        site.audit().await.is_empty(),
        "nothing half-done is recorded"
    );

    // Known words, fleet statuses and silences alike, are still taken.
    let known = site
        .post(
            "/fleet/backup/review",
            "scope=filter&status=unscheduled&preset=web&reason=known",
        )
        .await;
    assert_eq!(known.status, StatusCode::OK, "{}", known.body);
    let quiet = site
        .post(
            "/fleet/backup/review",
            "scope=filter&status=acknowledged&preset=web&reason=known",
        )
        .await;
    assert_ne!(quiet.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(!quiet.body.contains("is not a status"), "{}", quiet.body);
}

#[tokio::test]
async fn bad_input_shows_the_same_form_again_with_values_and_reasons() {
    let site = site().await;
    let jobs_before = site.sim.simulator.job_count(API);
    let bad_password = "Zq9shortpw";

    let backup = site
        .post(
            &format!("/appliances/{API}/backup"),
            &format!("preset=offsite&comment=keep+me&backup_password={bad_password}"),
        )
        .await;
    assert_eq!(backup.status, StatusCode::BAD_REQUEST, "{}", backup.body);
    let doc = Html::parse_document(&backup.body);
    let one = |css: &str| element(&doc, css);
    assert!(one("#backup_password-error").attr("class").is_some());
    assert_eq!(one("#comment").attr("value"), Some("keep me"));
    assert!(one("option[value=offsite]").attr("selected").is_some());
    assert!(
        one("input[value=seat]").attr("checked").is_none(),
        "unticked stays so"
    );
    assert!(
        !backup.body.contains(bad_password),
        "a password is never shown again"
    );
    assert!(backup.body.contains("<form"), "the form, not an error page");

    let validate = site
        .post(&format!("/appliances/{API}/validate"), "preset=nope")
        .await;
    assert_eq!(validate.status, StatusCode::BAD_REQUEST);
    assert!(validate.body.contains("id=\"preset-error\""));

    let schedule = site
        .post(
            &format!("/appliances/{API}/schedule"),
            &format!(
                "preset=web&hour=24&minute=15&days=TUESDAY&max_count=5&backup_password=\
                 {bad_password}"
            ),
        )
        .await;
    assert_eq!(
        schedule.status,
        StatusCode::BAD_REQUEST,
        "{}",
        schedule.body
    );
    let doc = Html::parse_document(&schedule.body);
    let one = |css: &str| element(&doc, css);
    assert!(schedule.body.contains("id=\"hour-error\""));
    assert!(schedule.body.contains("id=\"backup_password-error\""));
    assert_eq!(one("#hour").attr("value"), Some("24"));
    assert_eq!(one("#minute").attr("value"), Some("15"));
    assert_eq!(one("#max_count").attr("value"), Some("5"));
    assert!(one("input[value=TUESDAY]").attr("checked").is_some());
    assert!(one("input[value=MONDAY]").attr("checked").is_none());
    assert!(!schedule.body.contains(bad_password));

    let bulk = site
        .post(
            "/fleet/backup/review",
            &format!("appliances={API}&preset=web&reason="),
        )
        .await;
    assert_eq!(bulk.status, StatusCode::BAD_REQUEST, "{}", bulk.body);
    assert!(bulk.body.contains("id=\"reason-error\""));
    assert!(bulk.body.contains(&format!("value=\"{API}\" checked")));
    let unknown = site
        .post(
            "/fleet/backup",
            "appliances=vc-nope&preset=web&reason=x&confirm=yes",
        )
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert!(unknown.body.contains("no appliance is named vc-nope"));

    assert_eq!(site.sim.simulator.job_count(API), jobs_before);
    assert!(
        site.audit().await.is_empty(),
        "nothing half-done is recorded"
    );
}
