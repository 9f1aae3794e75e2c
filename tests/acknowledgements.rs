//! Acknowledgements and maintenance windows end to end: the real router, a real SQLite
//! file and the simulator on 127.0.0.1; and the window tables of the configuration.

mod common;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, Timelike, Utc};
use scraper::{ElementRef, Html, Selector};
use tower::ServiceExt;

use common::SimServer;
use vbdash::config::{AuthConfig, AuthMode, Config, MaintenanceWindow, WindowTimes};
use vbdash::secret::Secret;
use vbdash::simulator::{Fault, Profile, SimAppliance, SimSchedule};
use vbdash::store::silence::Silencer;
use vbdash::store::{AckEnd, ApplianceSettings, AuditEntry, AuditFilter, Role, Store};
use vbdash::vcenter::ApplianceClient;
use vbdash::web::actions::Actions;
use vbdash::web::auth::{Auth, password};
use vbdash::web::{self, AppState, WebSettings};

/// Every scheduled run fails: status failed. Tag `prod`.
const FAILING: &str = "vc-fail";
/// Answers 503 until the fault is cleared: status unreachable, then good. Tag `prod`.
const DOWN: &str = "vc-down";
/// Healthy: status good. Tag `lab`.
const HEALTHY: &str = "vc-good";

const USER_PASSWORD: &str = "a long test password";

struct Site {
    router: Router,
    store: Store,
    sim: SimServer,
    clients: Vec<Arc<ApplianceClient>>,
    visitor: Visitor,
    _dir: tempfile::TempDir,
}

/// A browser's cookies and the CSRF token of the last page it read.
#[derive(Debug, Clone, Default)]
struct Visitor {
    cookies: Vec<(String, String)>,
    csrf: String,
}

struct Answer {
    status: StatusCode,
    location: String,
    body: String,
    set_cookies: Vec<(String, String)>,
}

/// A schedule whose run was due hours ago, so that whatever the time of day the run has
/// ended (and a healthy appliance is good, not running or late).
fn due_hours_ago() -> SimSchedule {
    let due = Utc::now() - chrono::Duration::hours(6);
    SimSchedule::daily(due.hour(), 0)
}

async fn site(windows: Vec<MaintenanceWindow>, auth: Arc<Auth>) -> Site {
    let sim = SimServer::start(vec![
        SimAppliance::new(FAILING, "8.0.3.00400")
            .history_days(3)
            .profile(Profile::FailsNightly)
            .schedule(Some(due_hours_ago())),
        SimAppliance::new(DOWN, "8.0.3.00400")
            .history_days(3)
            .schedule(Some(due_hours_ago()))
            .fault(Some(Fault::Http503)),
        SimAppliance::new(HEALTHY, "7.0.3.01700")
            .history_days(3)
            .schedule(Some(due_hours_ago())),
    ])
    .await;

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("vbdash.db").to_str().unwrap())
        .await
        .unwrap();
    let tagged = |name: &str, tag: &str| ApplianceSettings {
        name: name.to_owned(),
        url: format!("{}/{name}", sim.base),
        tags: vec![tag.to_owned()],
        time_zone: chrono_tz::UTC,
        grace_secs: 7200,
    };
    store
        .sync_appliances(&[
            tagged(FAILING, "prod"),
            tagged(DOWN, "prod"),
            tagged(HEALTHY, "lab"),
        ])
        .await
        .unwrap();
    let clients: Vec<_> = [FAILING, DOWN, HEALTHY]
        .iter()
        .map(|name| sim.client(name, Duration::from_secs(5)))
        .collect();
    vbdash::poller::poll_all_once(&store, &clients, 3).await;

    let router = web::router(AppState {
        store: store.clone(),
        settings: WebSettings {
            maintenance: windows.into(),
            ..WebSettings::default()
        },
        auth,
        actions: Actions::new(&clients, Vec::new()),
    });
    Site {
        router,
        store,
        sim,
        clients,
        visitor: Visitor::default(),
        _dir: dir,
    }
}

/// A site without sign-in, where everyone is the local admin named `local`, with a visit
/// to the fleet page done.
async fn open_site(windows: Vec<MaintenanceWindow>) -> Site {
    let mut site = site(windows, Auth::none()).await;
    site.visitor = site.visit("/").await;
    site
}

impl Site {
    async fn send_as(&self, visitor: &Visitor, mut request: Request<Body>) -> Answer {
        if !visitor.cookies.is_empty() {
            let header_value = visitor
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            request
                .headers_mut()
                .insert(header::COOKIE, header_value.parse().unwrap());
        }
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let set_cookies = response
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next()?.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let body = axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .unwrap();
        Answer {
            status,
            location,
            body: String::from_utf8_lossy(&body).into_owned(),
            set_cookies,
        }
    }

    /// Reads a page as `visitor`, keeping the cookies it sets and its CSRF token.
    async fn visit_as(&self, visitor: &Visitor, uri: &str) -> Visitor {
        let answer = self.get_as(visitor, uri).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}: {}", answer.body);
        let mut next = visitor.clone();
        for (name, value) in answer.set_cookies {
            next.cookies.retain(|(k, _)| *k != name);
            next.cookies.push((name, value));
        }
        next.csrf = csrf_of(&answer.body);
        next
    }

    async fn visit(&self, uri: &str) -> Visitor {
        self.visit_as(&Visitor::default(), uri).await
    }

    async fn get_as(&self, visitor: &Visitor, uri: &str) -> Answer {
        self.send_as(visitor, Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    async fn get(&self, uri: &str) -> Answer {
        self.get_as(&self.visitor, uri).await
    }

    async fn post_as(&self, visitor: &Visitor, uri: &str, form: &str) -> Answer {
        let body = format!("csrf_token={}&{form}", visitor.csrf);
        self.post_raw_as(visitor, uri, &body).await
    }

    async fn post_raw_as(&self, visitor: &Visitor, uri: &str, body: &str) -> Answer {
        let request = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body.to_owned()))
            .unwrap();
        self.send_as(visitor, request).await
    }

    async fn post(&self, uri: &str, form: &str) -> Answer {
        self.post_as(&self.visitor, uri, form).await
    }

    async fn acknowledge(&self, appliance: &str, form: &str) -> Answer {
        self.post(&format!("/appliances/{appliance}/acknowledgement"), form)
            .await
    }

    async fn poll(&self) {
        vbdash::poller::poll_all_once(&self.store, &self.clients, 3).await;
    }

    async fn audit(&self) -> Vec<AuditEntry> {
        let filter = AuditFilter {
            limit: 100,
            ..AuditFilter::default()
        };
        self.store.audit_entries(&filter).await.unwrap()
    }

    async fn fleet(&self) -> Html {
        let answer = self.get("/").await;
        assert_eq!(answer.status, StatusCode::OK);
        Html::parse_document(&answer.body)
    }

    async fn appliance_page(&self, name: &str) -> Html {
        let answer = self.get(&format!("/appliances/{name}")).await;
        assert_eq!(answer.status, StatusCode::OK);
        Html::parse_document(&answer.body)
    }
}

fn csrf_of(body: &str) -> String {
    let doc = Html::parse_document(body);
    let meta = Selector::parse("meta[name=csrf-token]").unwrap();
    doc.select(&meta)
        .next()
        .and_then(|m| m.attr("content"))
        .unwrap_or_default()
        .to_owned()
}

fn select<'a>(doc: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    let selector = Selector::parse(css).unwrap();
    doc.select(&selector).collect()
}

fn text(element: &ElementRef<'_>) -> String {
    let words: Vec<&str> = element.text().flat_map(str::split_whitespace).collect();
    words.join(" ")
}

fn row<'a>(doc: &'a Html, appliance: &str) -> ElementRef<'a> {
    select(doc, &format!("tr[data-appliance='{appliance}']"))
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no fleet row for {appliance}"))
}

/// The counts on top of the fleet page: label and number.
fn counts(doc: &Html) -> Vec<(String, usize)> {
    select(doc, "#status-counts a.count")
        .iter()
        .map(|count| {
            let part = |css: &str| {
                let selector = Selector::parse(css).unwrap();
                count.select(&selector).next().map(|e| text(&e)).unwrap()
            };
            (part(".count-label"), part(".count-n").parse().unwrap())
        })
        .collect()
}

fn count_of(doc: &Html, label: &str) -> Option<usize> {
    counts(doc)
        .into_iter()
        .find(|(l, _)| l == label)
        .map(|(_, n)| n)
}

fn row_names(doc: &Html) -> Vec<String> {
    select(doc, "#fleet-rows tr[data-appliance]")
        .iter()
        .filter_map(|r| r.attr("data-appliance").map(str::to_owned))
        .collect()
}

fn tags(tag: &str) -> Vec<String> {
    vec![tag.to_owned()]
}

#[tokio::test]
async fn an_acknowledged_appliance_is_marked_on_the_fleet_and_its_page() {
    let site = open_site(Vec::new()).await;
    let before = site.fleet().await;
    assert_eq!(count_of(&before, "failed"), Some(1));
    assert_eq!(count_of(&before, "acknowledged"), None);

    let answer = site
        .acknowledge(FAILING, "reason=NAS+repair%2C+ticket+4711&expires=4h")
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.location, format!("/appliances/{FAILING}"));

    // The row keeps its red badge, is marked, and says who, why and until when.
    let fleet = site.fleet().await;
    let marked = row(&fleet, FAILING);
    let classes = marked.attr("class").unwrap_or_default();
    assert!(classes.contains("row-quiet") && classes.contains("status-failed"));
    let badge = select(
        &fleet,
        &format!("tr[data-appliance='{FAILING}'] .c-status .badge"),
    );
    assert_eq!(text(&badge[0]), "failed");
    let note = text(&marked);
    for words in [
        "acknowledged",
        "Acknowledged by local",
        "NAS repair, ticket 4711",
    ] {
        assert!(note.contains(words), "{words:?} missing from {note:?}");
    }
    assert!(
        note.contains("(in 3 h)") || note.contains("(in 4 h)"),
        "{note}"
    );

    // Counted apart from the unnoticed failures, and filtered on its own.
    assert_eq!(count_of(&fleet, "acknowledged"), Some(1));
    assert_eq!(count_of(&fleet, "failed"), None);
    assert_eq!(count_of(&fleet, "unreachable"), Some(1));
    let only = Html::parse_document(&site.get("/?status=acknowledged").await.body);
    assert_eq!(row_names(&only), [FAILING]);
    let failed = Html::parse_document(&site.get("/?status=failed").await.body);
    assert!(row_names(&failed).is_empty());
    // Unnoticed trouble comes before acknowledged trouble.
    assert_eq!(row_names(&fleet)[0], DOWN);

    let page = site.appliance_page(FAILING).await;
    let panel = select(&page, "#acknowledgement");
    let panel_text = text(&panel[0]);
    assert!(panel_text.contains("Acknowledged by local"), "{panel_text}");
    assert!(panel_text.contains("NAS repair, ticket 4711"));
    assert_eq!(select(&page, "#unacknowledge").len(), 1);
    assert!(select(&page, "#acknowledge").is_empty(), "no second form");
    assert_eq!(text(&select(&page, ".page-head .badge")[0]), "failed");

    let audit = site.audit().await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "ack.create");
    assert_eq!(audit[0].user, "local");
    assert_eq!(audit[0].appliance.as_deref(), Some(FAILING));
    assert_eq!(audit[0].reason.as_deref(), Some("NAS repair, ticket 4711"));
    assert!(
        audit[0].detail.contains("while failed"),
        "{}",
        audit[0].detail
    );

    let silencer = Silencer::new(&site.store, &[]);
    let why = silencer
        .silenced(FAILING, &tags("prod"), Utc::now())
        .unwrap();
    assert!(
        why.contains("local") && why.contains("ticket 4711"),
        "{why}"
    );
    assert_eq!(silencer.silenced(DOWN, &tags("prod"), Utc::now()), None);
}

#[tokio::test]
async fn an_acknowledgement_expires_by_itself() {
    let site = open_site(Vec::new()).await;
    let answer = site
        .acknowledge(FAILING, "reason=short+look&expires=2m")
        .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);

    // The clock is moved forward instead of waiting.
    let now = Utc::now();
    let later = now + chrono::Duration::minutes(3);
    let silencer = Silencer::new(&site.store, &[]);
    assert!(silencer.silenced(FAILING, &tags("prod"), now).is_some());
    assert_eq!(silencer.silenced(FAILING, &tags("prod"), later), None);

    assert!(
        site.store
            .settle_acknowledgements(now)
            .await
            .unwrap()
            .is_empty()
    );
    let ended = site.store.settle_acknowledgements(later).await.unwrap();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].why, AckEnd::Expired);
    assert_eq!(ended[0].ack.appliance, FAILING);
    assert!(
        site.store
            .settle_acknowledgements(later)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(site.store.acknowledgements().await.unwrap().is_empty());

    let audit = site.audit().await;
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["ack.expire", "ack.create"]);
    assert_eq!(audit[0].user, "vbdash");
    assert_eq!(audit[0].reason.as_deref(), Some("short look"));

    let fleet = site.fleet().await;
    assert!(
        !row(&fleet, FAILING)
            .attr("class")
            .unwrap()
            .contains("row-quiet")
    );
    assert_eq!(count_of(&fleet, "failed"), Some(1));
    assert_eq!(
        select(&site.appliance_page(FAILING).await, "#acknowledge").len(),
        1
    );
}

#[tokio::test]
async fn recovery_ends_an_acknowledgement() {
    let site = open_site(Vec::new()).await;
    let fleet = site.fleet().await;
    assert_eq!(
        text(&select(&fleet, &format!("tr[data-appliance='{DOWN}'] .badge"))[0]),
        "unreachable"
    );
    for appliance in [DOWN, FAILING] {
        let answer = site
            .acknowledge(appliance, "reason=firewall+change&expires=2d")
            .await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    }

    // The appliance answers again and the next poll finds it good.
    assert!(site.sim.simulator.clear_fault(DOWN));
    site.poll().await;
    let fleet = site.fleet().await;
    let recovered = row(&fleet, DOWN);
    assert!(recovered.attr("class").unwrap().contains("status-good"));
    assert!(
        !recovered.attr("class").unwrap().contains("row-quiet"),
        "a good appliance is not shown acknowledged"
    );

    let ended = site
        .store
        .settle_acknowledgements(Utc::now())
        .await
        .unwrap();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].why, AckEnd::Recovered);
    assert_eq!(ended[0].ack.appliance, DOWN);
    let left = site.store.acknowledgements().await.unwrap();
    assert_eq!(left.len(), 1, "the failing appliance stays acknowledged");
    assert_eq!(left[0].appliance, FAILING);

    let audit = site.audit().await;
    let recover: Vec<_> = audit.iter().filter(|e| e.action == "ack.recover").collect();
    assert_eq!(recover.len(), 1);
    assert_eq!(recover[0].appliance.as_deref(), Some(DOWN));
    assert!(recover[0].outcome.contains("good again"));
}

#[tokio::test]
async fn an_acknowledgement_is_removed_by_hand() {
    let site = open_site(Vec::new()).await;
    site.acknowledge(FAILING, "reason=looking+into+it&expires=1h")
        .await;
    let uri = format!("/appliances/{FAILING}/acknowledgement/delete");

    let answer = site.post(&uri, "").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.location, format!("/appliances/{FAILING}"));
    assert!(site.store.acknowledgements().await.unwrap().is_empty());
    let page = site.appliance_page(FAILING).await;
    assert!(select(&page, "#acknowledgement").is_empty());
    assert_eq!(select(&page, "#acknowledge").len(), 1);

    // A second click finds nothing to remove and records nothing.
    assert_eq!(site.post(&uri, "").await.status, StatusCode::SEE_OTHER);
    let audit = site.audit().await;
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["ack.remove", "ack.create"]);
    assert_eq!(audit[0].user, "local");
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_and_the_reason() {
    let site = open_site(Vec::new()).await;
    let long = "x".repeat(201);
    let cases = [
        (FAILING, "expires=4h".to_owned(), "reason", "say why"),
        (
            FAILING,
            format!("reason={long}&expires=4h"),
            "reason",
            "200 characters",
        ),
        (
            FAILING,
            "reason=a%07b&expires=4h".to_owned(),
            "reason",
            "control characters",
        ),
        (
            FAILING,
            "reason=fixed%E2%80%AEdexif&expires=4h".to_owned(),
            "reason",
            "U+202E",
        ),
        (
            FAILING,
            "reason=a%E2%80%8Fb&expires=4h".to_owned(),
            "reason",
            "U+200F",
        ),
        (
            FAILING,
            "reason=a%E2%81%A6b&expires=4h".to_owned(),
            "reason",
            "U+2066",
        ),
        (
            FAILING,
            "reason=x&expires=4h4h".to_owned(),
            "expires",
            "more than once",
        ),
        (
            FAILING,
            "reason=x&expires=1d+2h+1d".to_owned(),
            "expires",
            "more than once",
        ),
        (FAILING, "reason=x".to_owned(), "expires", "until when"),
        (
            FAILING,
            "reason=x&expires=31d".to_owned(),
            "expires",
            "30 days",
        ),
        (
            FAILING,
            "reason=x&expires=10s".to_owned(),
            "expires",
            "too soon",
        ),
        (
            FAILING,
            "reason=x&expires=soon".to_owned(),
            "expires",
            "neither a duration",
        ),
        (
            FAILING,
            "reason=x&expires=2020-01-01+10%3A00".to_owned(),
            "expires",
            "too soon",
        ),
        (
            HEALTHY,
            "reason=x&expires=4h".to_owned(),
            "appliance",
            "is good",
        ),
    ];
    for (appliance, form, field, why) in cases {
        let answer = site.acknowledge(appliance, &form).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{form}");
        assert!(
            answer.body.contains(&format!("\u{201c}{field}\u{201d}")) && answer.body.contains(why),
            "{form}: {}",
            answer.body
        );
    }

    let unknown = site.acknowledge("vc-nobody", "reason=x&expires=4h").await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let no_token = site
        .post_raw_as(
            &site.visitor,
            &format!("/appliances/{FAILING}/acknowledgement"),
            "reason=x&expires=4h",
        )
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);

    assert!(site.store.acknowledgements().await.unwrap().is_empty());
    assert!(site.audit().await.is_empty());
}

#[tokio::test]
async fn a_viewer_cannot_acknowledge_and_an_operator_can() {
    let auth = Auth::new(AuthConfig {
        mode: AuthMode::Local,
        ..AuthConfig::default()
    });
    let site = site(Vec::new(), auth).await;
    let hash = password::hash(&Secret::new(USER_PASSWORD)).unwrap();
    for (name, role) in [("vera", Role::Viewer), ("otto", Role::Operator)] {
        site.store
            .add_user(name, role, &hash, Utc::now())
            .await
            .unwrap();
    }
    let page = format!("/appliances/{FAILING}");
    let form = "reason=known&expires=4h";
    let ack_uri = format!("{page}/acknowledgement");

    let viewer = sign_in(&site, "vera").await;
    let viewer = site.visit_as(&viewer, &page).await;
    let shown = Html::parse_document(&site.get_as(&viewer, &page).await.body);
    assert!(
        select(&shown, "#acknowledge").is_empty(),
        "no form for a viewer"
    );
    let refused = site.post_as(&viewer, &ack_uri, form).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(site.store.acknowledgements().await.unwrap().is_empty());

    let operator = sign_in(&site, "otto").await;
    let operator = site.visit_as(&operator, &page).await;
    let accepted = site.post_as(&operator, &ack_uri, form).await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    let audit = site.audit().await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].user, "otto");
}

/// Signs `user` in through the sign-in form.
async fn sign_in(site: &Site, user: &str) -> Visitor {
    let mut visitor = site.visit("/login").await;
    let form = format!(
        "user={user}&password={}&next=%2F",
        USER_PASSWORD.replace(' ', "+")
    );
    let answer = site.post_as(&visitor, "/login", &form).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    for (name, value) in answer.set_cookies {
        visitor.cookies.retain(|(k, _)| *k != name);
        visitor.cookies.push((name, value));
    }
    visitor
}

fn window_around_now(tag: &str) -> MaintenanceWindow {
    let now = Utc::now();
    MaintenanceWindow {
        tag: tag.to_owned(),
        zone: chrono_tz::Europe::Berlin,
        times: WindowTimes::Once {
            start: now - chrono::Duration::hours(1),
            end: now + chrono::Duration::hours(1),
        },
    }
}

#[tokio::test]
async fn a_maintenance_window_silences_the_appliances_of_its_tag() {
    let window = window_around_now("prod");
    let end: DateTime<Utc> = match window.times {
        WindowTimes::Once { end, .. } => end,
        WindowTimes::Weekly { .. } => unreachable!(),
    };
    let site = open_site(vec![window.clone()]).await;

    let fleet = site.fleet().await;
    for appliance in [FAILING, DOWN] {
        let marked = row(&fleet, appliance);
        assert!(marked.attr("class").unwrap().contains("quiet-maintenance"));
        assert!(
            text(&marked).contains("In maintenance until"),
            "{}",
            text(&marked)
        );
    }
    assert!(
        !row(&fleet, HEALTHY)
            .attr("class")
            .unwrap()
            .contains("row-quiet")
    );
    assert_eq!(count_of(&fleet, "in maintenance"), Some(2));
    assert_eq!(count_of(&fleet, "failed"), None);
    assert_eq!(count_of(&fleet, "good"), Some(1));

    let page = site.appliance_page(FAILING).await;
    let panel = text(&select(&page, "#acknowledgement")[0]);
    assert!(panel.starts_with("In maintenance"), "{panel}");
    assert!(select(&page, "#unacknowledge").is_empty());
    assert_eq!(
        select(&page, "#acknowledge").len(),
        1,
        "still acknowledgeable"
    );

    let silencer = Silencer::new(&site.store, &[window]);
    let now = Utc::now();
    let why = silencer.silenced(FAILING, &tags("PROD"), now).unwrap();
    assert!(why.starts_with("in maintenance until"), "{why}");
    assert_eq!(silencer.silenced(HEALTHY, &tags("lab"), now), None);
    assert_eq!(silencer.silenced(FAILING, &tags("prod"), end), None);

    // An acknowledgement says more than the window, so it wins.
    site.acknowledge(FAILING, "reason=patching+went+wrong&expires=4h")
        .await;
    let why = silencer.silenced(FAILING, &tags("prod"), now).unwrap();
    assert!(why.starts_with("acknowledged by local"), "{why}");
    let fleet = site.fleet().await;
    assert_eq!(count_of(&fleet, "acknowledged"), Some(1));
    assert_eq!(count_of(&fleet, "in maintenance"), Some(1));
}

const CONFIG: &str = r#"
[[appliance]]
name = "vcsa-ams-01"
url = "https://vcsa-ams-01.example.test"
username = "backup-reader@vsphere.local"
password_env = "VCSA_PASSWORD"
tags = ["prod", "amsterdam"]
"#;

fn load(extra: &str) -> Result<Config, vbdash::config::ConfigError> {
    let env = vec![("VCSA_PASSWORD".to_owned(), "s3cret".to_owned())];
    Config::from_toml(&format!("{CONFIG}{extra}"), Path::new("vbdash.toml"), &env)
}

/// The 1-based line of the first line of the whole file holding `needle`.
fn line_of(extra: &str, needle: &str) -> usize {
    let whole = format!("{CONFIG}{extra}");
    whole
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in the file"))
        + 1
}

#[test]
fn good_windows_load_weekly_and_once() {
    let config = load(
        r#"
[[maintenance]]
tag = "prod"
zone = "Europe/Berlin"
days = ["sat", "Sunday"]
start = "22:00"
duration = "6h"

[[maintenance]]
tag = "Amsterdam"
start = "2026-12-24 18:00"
end = "2026-12-27T08:00"
"#,
    )
    .unwrap();
    assert_eq!(config.maintenance.len(), 2);
    let weekly = &config.maintenance[0];
    assert_eq!(
        weekly.describe(),
        "tag prod, weekends 22:00 for 6h (Europe/Berlin)"
    );
    // Saturday 2026-12-05 22:00 in Berlin is 21:00 UTC.
    let saturday_night = "2026-12-05T23:30:00Z".parse::<DateTime<Utc>>().unwrap();
    assert!(weekly.open_until(saturday_night).is_some());
    let once = &config.maintenance[1];
    assert_eq!(once.zone, chrono_tz::UTC, "UTC when no zone is given");
    assert!(once.applies_to(&tags("amsterdam")));
}

#[test]
fn maintenance_mistakes_name_the_file_the_line_and_the_key() {
    let weekly = |body: &str| format!("\n[[maintenance]]\ntag = \"prod\"\n{body}\n");
    let cases = [
        (
            "\n[[maintenance]]\ntag = \"prdo\"\nstart = \"22:00\"\ndays = [\"sat\"]\n\
             duration = \"6h\"\n"
                .to_owned(),
            "prdo",
            "maintenance[0].tag",
            "no appliance has the tag",
        ),
        (
            weekly("zone = \"Mars/Base\"\ndays = [\"sat\"]\nstart = \"22:00\"\nduration = \"6h\""),
            "Mars/Base",
            "maintenance[0].zone",
            "not a time zone",
        ),
        (
            weekly("days = [\"sat\", \"caturday\"]\nstart = \"22:00\"\nduration = \"6h\""),
            "caturday",
            "maintenance[0].days",
            "not a day",
        ),
        (
            weekly("days = [\"sat\"]\nstart = \"25:00\"\nduration = \"6h\""),
            "25:00",
            "maintenance[0].start",
            "not a time of day",
        ),
        (
            weekly("days = [\"sat\"]\nstart = \"22:00\"\nduration = \"8d\""),
            "8d",
            "maintenance[0].duration",
            "out of range",
        ),
        (
            weekly("days = [\"sat\"]\nstart = \"22:00\""),
            "days =",
            "maintenance[0].days",
            "needs duration",
        ),
        (
            weekly("days = []\nstart = \"22:00\"\nduration = \"1h\""),
            "days =",
            "maintenance[0].days",
            "at least one day",
        ),
        (
            weekly("days = [\"sat\"]\nstart = \"22:00\"\nend = \"2026-12-27 08:00\""),
            "end =",
            "maintenance[0].end",
            "not both",
        ),
        (
            weekly("start = \"2026-12-27 08:00\"\nend = \"2026-12-24 08:00\""),
            "end =",
            "maintenance[0].end",
            "not after the start",
        ),
        (
            weekly("start = \"tomorrow\"\nend = \"2026-12-24 08:00\""),
            "tomorrow",
            "maintenance[0].start",
            "not a date and time",
        ),
        (
            weekly("start = \"22:00\""),
            "start =",
            "maintenance[0].start",
            "say when",
        ),
        (
            format!(
                "{}{}",
                weekly("start = \"2026-12-24 08:00\"\nend = \"2026-12-25 08:00\""),
                weekly("start = \"2026-12-24 08:00\"\nend = \"2026-12-24 08:00:00\"")
            ),
            "08:00:00",
            "maintenance[1].end",
            "not a date and time",
        ),
    ];
    for (extra, needle, key, words) in cases {
        let error = load(&extra)
            .expect_err("the window should be refused")
            .to_string();
        let line = line_of(&extra, needle);
        let place = format!("vbdash.toml, line {line}, key `{key}`");
        assert!(error.contains(&place), "want {place:?} in {error:?}");
        assert!(error.contains(words), "want {words:?} in {error:?}");
    }

    let unknown = load(&weekly("start = \"22:00\"\nlength = \"6h\""))
        .expect_err("an unknown key is refused")
        .to_string();
    assert!(unknown.contains("vbdash.toml, line"), "{unknown}");
    assert!(unknown.contains("maintenance"), "{unknown}");
}
