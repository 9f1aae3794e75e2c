//! Sign-in, roles, sessions, CSRF and the proxy headers, against the real router and a
//! real SQLite file.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use chrono::Utc;
use scraper::{Html, Selector};
use tower::ServiceExt;

use vbdash::config::{AuthConfig, AuthMode, ProxyAuth, RetentionConfig};
use vbdash::domain::{
    ApiGeneration, Job, JobId, JobState, JobType, Observation, PollOutcome, PollReport,
};
use vbdash::secret::Secret;
use vbdash::store::{ApplianceSettings, Role, Store, TokenScope};
use vbdash::web::api::auth::{new_token, token_digest};
use vbdash::web::auth::{Auth, limiter, password};
use vbdash::web::{self, AppState, WebSettings};

const PASSWORD: &str = "a long test password";
const JOB: &str = "20261201-020000-24322831";

struct Site {
    router: Router,
    store: Store,
    _dir: tempfile::TempDir,
}

#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }

    fn cookie_value(&self, name: &str) -> Option<String> {
        let line = self.set_cookie(name)?;
        let value = line.split(';').next()?.split_once('=')?.1.to_owned();
        Some(value)
    }

    /// The CSRF token of a page: the `<meta>` tag every page carries.
    fn csrf(&self) -> String {
        let doc = Html::parse_document(&self.body);
        let meta = Selector::parse("meta[name=csrf-token]").unwrap();
        doc.select(&meta)
            .next()
            .and_then(|m| m.attr("content"))
            .unwrap_or_default()
            .to_owned()
    }
}

/// A browser: its cookies and the last CSRF token it saw.
#[derive(Debug, Clone, Default)]
struct Browser {
    session: Option<String>,
    browser: Option<String>,
    csrf: String,
    peer: Option<SocketAddr>,
}

impl Browser {
    fn cookie_header(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(s) = &self.session {
            parts.push(format!("vbdash_session={s}"));
        }
        if let Some(b) = &self.browser {
            parts.push(format!("vbdash_browser={b}"));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

fn local() -> AuthConfig {
    AuthConfig {
        mode: AuthMode::Local,
        ..AuthConfig::default()
    }
}

async fn site(config: AuthConfig) -> Site {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("vbdash.db").to_str().unwrap())
        .await
        .unwrap();
    store
        .sync_appliances(&[ApplianceSettings {
            name: "vc-1".into(),
            url: "https://vc-1.example.test".into(),
            tags: vec![],
            time_zone: chrono_tz::UTC,
            grace_secs: 3600,
        }])
        .await
        .unwrap();
    let mut job = Job::new(
        JobId::parse(JOB).unwrap(),
        JobType::Scheduled,
        JobState::Succeeded,
    );
    job.start_time = Some(Utc::now() - chrono::Duration::hours(3));
    store
        .record_poll(&PollReport {
            appliance: "vc-1".into(),
            started_at: Utc::now(),
            duration_ms: 10,
            outcome: PollOutcome::Ok,
            message: None,
            observation: Some(Observation {
                generation: ApiGeneration::Api,
                version: None,
                schedule: None,
                listed_job_ids: vec![job.id.clone()],
                jobs: vec![job],
            }),
        })
        .await
        .unwrap();

    let hash = password::hash(&Secret::new(PASSWORD)).unwrap();
    for role in Role::ALL {
        store
            .add_user(role.as_str(), role, &hash, Utc::now())
            .await
            .unwrap();
    }
    Site {
        router: router_over(&store, config),
        store,
        _dir: dir,
    }
}

fn router_over(store: &Store, config: AuthConfig) -> Router {
    web::router(AppState {
        store: store.clone(),
        settings: WebSettings::default(),
        auth: Auth::new(config),
        actions: vbdash::web::actions::Actions::none(),
    })
}

impl Site {
    async fn send(&self, browser: &Browser, mut request: Request<Body>) -> Answer {
        if let Some(cookie) = browser.cookie_header() {
            request
                .headers_mut()
                .insert(header::COOKIE, cookie.parse().unwrap());
        }
        if let Some(peer) = browser.peer {
            request.extensions_mut().insert(ConnectInfo(peer));
        }
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 24)
            .await
            .unwrap();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn get(&self, browser: &Browser, uri: &str) -> Answer {
        self.send(browser, Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    async fn post_form(&self, browser: &Browser, uri: &str, form: &str) -> Answer {
        let request = Request::post(uri)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form.to_owned()))
            .unwrap();
        self.send(browser, request).await
    }

    /// The same database file under a new store and router, as after a restart of the
    /// dashboard: nothing held in memory carries over.
    async fn restart(self, config: AuthConfig) -> Site {
        let Site {
            router,
            store,
            _dir,
        } = self;
        drop(router);
        store.close().await;
        let store = Store::open(_dir.path().join("vbdash.db").to_str().unwrap())
            .await
            .unwrap();
        Site {
            router: router_over(&store, config),
            store,
            _dir,
        }
    }

    /// A plain connection to the database file, to look at rows as they are stored.
    async fn raw_database(&self) -> sqlx::SqlitePool {
        let path = self._dir.path().join("vbdash.db");
        sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
            .await
            .unwrap()
    }

    /// Opens the sign-in page as a new browser would: gets the browser cookie and token.
    async fn visit_login(&self) -> Browser {
        let mut browser = Browser::default();
        let page = self.get(&browser, "/login").await;
        assert_eq!(page.status, StatusCode::OK);
        browser.browser = page.cookie_value("vbdash_browser");
        browser.csrf = page.csrf();
        browser
    }

    async fn try_login(&self, browser: &Browser, user: &str, password: &str) -> Answer {
        let form = format!(
            "csrf_token={}&user={user}&password={}&next=%2F",
            browser.csrf,
            password.replace(' ', "+")
        );
        self.post_form(browser, "/login", &form).await
    }

    /// Signs `user` in and returns the browser, with the session's token from a page.
    async fn login(&self, user: &str) -> Browser {
        let mut browser = self.visit_login().await;
        let answer = self.try_login(&browser, user, PASSWORD).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        browser.session = answer.cookie_value("vbdash_session");
        assert!(browser.session.is_some());
        browser.csrf = self.get(&browser, "/").await.csrf();
        browser
    }
}

/// Who asks: nobody, or a user of each role.
const WHO: [Option<Role>; 4] = [
    None,
    Some(Role::Viewer),
    Some(Role::Operator),
    Some(Role::Admin),
];

/// Every route, with the status each of anonymous, viewer, operator and admin gets.
/// `tests/auth.rs` fails when `src/web/mod.rs` has a route that is not listed here.
const MATRIX: &[(&str, &str, &str, [u16; 4])] = &[
    ("GET", "/", "/", [303, 200, 200, 200]),
    ("GET", "/fleet/rows", "/fleet/rows", [303, 200, 200, 200]),
    (
        "GET",
        "/appliances/{name}",
        "/appliances/vc-1",
        [303, 200, 200, 200],
    ),
    (
        "GET",
        "/appliances/{name}/jobs",
        "/appliances/vc-1/jobs",
        [303, 200, 200, 200],
    ),
    (
        "GET",
        "/appliances/{name}/jobs/{job_id}",
        "/appliances/vc-1/jobs/20261201-020000-24322831",
        [303, 200, 200, 200],
    ),
    (
        "GET",
        "/appliances/{name}/backup",
        "/appliances/vc-1/backup",
        [303, 403, 200, 200],
    ),
    // This site has no appliance client, so an allowed start finds no appliance to act on.
    (
        "POST",
        "/appliances/{name}/backup",
        "/appliances/vc-1/backup",
        [401, 403, 404, 404],
    ),
    (
        "POST",
        "/appliances/{name}/validate",
        "/appliances/vc-1/validate",
        [401, 403, 400, 400],
    ),
    // This site has no appliance client, so an allowed cancel finds no appliance.
    (
        "POST",
        "/appliances/{name}/jobs/{job_id}/cancel",
        "/appliances/vc-1/jobs/20261201-020000-24322831/cancel",
        [401, 403, 404, 404],
    ),
    (
        "GET",
        "/appliances/{name}/trends",
        "/appliances/vc-1/trends",
        [303, 200, 200, 200],
    ),
    ("GET", "/trends", "/trends", [303, 200, 200, 200]),
    (
        "GET",
        "/trends/as-of",
        "/trends/as-of",
        [303, 200, 200, 200],
    ),
    (
        "GET",
        "/trends/causes",
        "/trends/causes",
        [303, 200, 200, 200],
    ),
    (
        "GET",
        "/trends/export.csv",
        "/trends/export.csv",
        [303, 200, 200, 200],
    ),
    (
        "GET",
        "/trends/report",
        "/trends/report",
        [303, 200, 200, 200],
    ),
    // vc-1 is unscheduled, so it may be acknowledged; an empty form lacks the reason.
    (
        "POST",
        "/appliances/{name}/acknowledgement",
        "/appliances/vc-1/acknowledgement",
        [401, 403, 400, 400],
    ),
    // With nothing to remove, removing only leads back to the appliance page.
    (
        "POST",
        "/appliances/{name}/acknowledgement/delete",
        "/appliances/vc-1/acknowledgement/delete",
        [401, 403, 303, 303],
    ),
    ("GET", "/audit", "/audit", [303, 403, 200, 200]),
    ("GET", "/audit.csv", "/audit.csv", [303, 403, 200, 200]),
    (
        "GET",
        "/notifications",
        "/notifications",
        [303, 403, 200, 200],
    ),
    (
        "GET",
        "/fleet/backup",
        "/fleet/backup",
        [303, 403, 200, 200],
    ),
    (
        "POST",
        "/fleet/backup",
        "/fleet/backup",
        [401, 403, 400, 400],
    ),
    (
        "POST",
        "/fleet/backup/review",
        "/fleet/backup/review",
        [401, 403, 400, 400],
    ),
    (
        "POST",
        "/fleet/backup/runs/{id}/stop",
        "/fleet/backup/runs/1/stop",
        [401, 403, 404, 404],
    ),
    (
        "GET",
        "/fleet/backup/runs/{id}",
        "/fleet/backup/runs/1",
        [303, 403, 404, 404],
    ),
    (
        "GET",
        "/fleet/backup/runs/{id}/rows",
        "/fleet/backup/runs/1/rows",
        [303, 403, 404, 404],
    ),
    (
        "GET",
        "/appliances/{name}/schedule",
        "/appliances/vc-1/schedule",
        [303, 403, 403, 200],
    ),
    (
        "POST",
        "/appliances/{name}/schedule",
        "/appliances/vc-1/schedule",
        [401, 403, 403, 400],
    ),
    (
        "POST",
        "/appliances/{name}/schedule/delete",
        "/appliances/vc-1/schedule/delete",
        [401, 403, 403, 404],
    ),
    ("GET", "/users", "/users", [303, 403, 403, 200]),
    ("GET", "/login", "/login", [200, 200, 200, 200]),
    ("POST", "/login", "/login", [401, 401, 401, 401]),
    ("POST", "/logout", "/logout", [401, 303, 303, 303]),
    (
        "GET",
        "/static/{*path}",
        "/static/css/app.css",
        [200, 200, 200, 200],
    ),
    ("GET", "/healthz", "/healthz", [200, 200, 200, 200]),
    // Public; no poller runs behind this test's router, so never ready.
    ("GET", "/readyz", "/readyz", [503, 503, 503, 503]),
    ("GET", "/metrics", "/metrics", [200, 200, 200, 200]),
];

/// Every route of the JSON API, with the status each of no token, a read token, an
/// operate token, and an admin's session without a token gets. API routes take bearer
/// tokens, not roles; `tests/auth.rs` fails when an `/api/v1` route is listed in neither
/// table.
const API_MATRIX: &[(&str, &str, &str, [u16; 4])] = &[
    (
        "GET",
        "/api/v1/appliances",
        "/api/v1/appliances",
        [401, 200, 200, 401],
    ),
    (
        "GET",
        "/api/v1/appliances/{name}",
        "/api/v1/appliances/vc-1",
        [401, 200, 200, 401],
    ),
    ("GET", "/api/v1/jobs", "/api/v1/jobs", [401, 200, 200, 401]),
    (
        "GET",
        "/api/v1/appliances/{name}/jobs/{job_id}",
        "/api/v1/appliances/vc-1/jobs/20261201-020000-24322831",
        [401, 200, 200, 401],
    ),
    (
        "GET",
        "/api/v1/trends",
        "/api/v1/trends",
        [401, 200, 200, 401],
    ),
    // This site has no appliance client, so an allowed start finds no appliance.
    (
        "POST",
        "/api/v1/appliances/{name}/backups",
        "/api/v1/appliances/vc-1/backups",
        [401, 403, 404, 401],
    ),
    // This site has no appliance client, so an allowed cancel finds no appliance.
    (
        "POST",
        "/api/v1/appliances/{name}/jobs/{job_id}/cancel",
        "/api/v1/appliances/vc-1/jobs/20261201-020000-24322831/cancel",
        [401, 403, 404, 401],
    ),
    (
        "GET",
        "/api/v1/openapi.json",
        "/api/v1/openapi.json",
        [200, 200, 200, 200],
    ),
];

/// The `(method, path)` pairs of every `.route(...)` call in the router's source.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let source = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/web/mod.rs"));
    let mut routes = BTreeSet::new();
    for line in source.lines() {
        let Some(rest) = line.trim().strip_prefix(".route(\"") else {
            continue;
        };
        let Some((path, handlers)) = rest.split_once('"') else {
            continue;
        };
        for (method, call) in [
            ("GET", "get("),
            ("POST", "post("),
            ("PUT", "put("),
            ("DELETE", "delete("),
        ] {
            if handlers.contains(call) {
                routes.insert((method.to_owned(), path.to_owned()));
            }
        }
    }
    routes
}

#[test]
fn the_role_matrix_lists_every_route() {
    let listed: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(method, path, _, _)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    let api_listed: BTreeSet<(String, String)> = API_MATRIX
        .iter()
        .map(|(method, path, _, _)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert!(
        api_listed
            .iter()
            .all(|(_, path)| path.starts_with("/api/v1/")),
        "API_MATRIX holds API routes only"
    );
    let listed: BTreeSet<(String, String)> = listed.union(&api_listed).cloned().collect();
    let routed = routes_in_source();
    assert!(
        routed.len() >= 10,
        "routes not found in the source: {routed:?}"
    );
    let missing: Vec<_> = routed.difference(&listed).collect();
    assert!(
        missing.is_empty(),
        "routes missing from MATRIX or API_MATRIX: {missing:?}"
    );
}

#[tokio::test]
async fn every_route_times_every_role_gives_the_expected_status() {
    let site = site(local()).await;
    for (method, _, uri, expected) in MATRIX {
        for (who, want) in WHO.iter().zip(expected) {
            let browser = match who {
                Some(role) => site.login(role.as_str()).await,
                None => site.visit_login().await,
            };
            let answer = match *method {
                "GET" => site.get(&browser, uri).await,
                _ => {
                    let form = format!("csrf_token={}", browser.csrf);
                    site.post_form(&browser, uri, &form).await
                }
            };
            assert_eq!(
                answer.status.as_u16(),
                *want,
                "{method} {uri} as {who:?}: {}",
                answer.body
            );
        }
    }
}

#[tokio::test]
async fn every_api_route_times_every_token_gives_the_expected_status() {
    let site = site(local()).await;
    let mut tokens = Vec::new();
    for (name, scope) in [
        ("reader", TokenScope::Read),
        ("operator", TokenScope::Operate),
    ] {
        let token = new_token();
        let added = site
            .store
            .add_api_token(name, scope, &token_digest(&token), Utc::now(), None)
            .await
            .unwrap();
        assert!(added);
        tokens.push(token);
    }
    let admin = site.login("admin").await;

    for (method, _, uri, expected) in API_MATRIX {
        let who = [None, Some(&tokens[0]), Some(&tokens[1]), None];
        for (index, (token, want)) in who.iter().zip(expected).enumerate() {
            let mut request = match *method {
                "GET" => Request::get(*uri),
                _ => Request::post(*uri).header(header::CONTENT_TYPE, "application/json"),
            };
            if let Some(token) = token {
                request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            let body = if *method == "GET" {
                Body::empty()
            } else {
                Body::from(r#"{"preset": "none-here"}"#)
            };
            let browser = if index == 3 {
                admin.clone()
            } else {
                Browser::default()
            };
            let answer = site.send(&browser, request.body(body).unwrap()).await;
            assert_eq!(
                answer.status.as_u16(),
                *want,
                "{method} {uri} as #{index}: {}",
                answer.body
            );
            if answer.status.is_client_error() {
                let json: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
                assert!(json["error"]["code"].is_string(), "{method} {uri}");
            }
        }
    }
}

#[tokio::test]
async fn signed_out_visitors_are_sent_to_sign_in_and_come_back() {
    let site = site(local()).await;
    let answer = site.get(&Browser::default(), "/appliances/vc-1?x=1").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(
        answer.location(),
        "/login?next=%2Fappliances%2Fvc-1%3Fx%3D1"
    );

    let htmx = Request::get("/fleet/rows")
        .header("HX-Request", "true")
        .body(Body::empty())
        .unwrap();
    let answer = site.send(&Browser::default(), htmx).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(answer.headers.contains_key("hx-redirect"));

    let mut browser = site.visit_login().await;
    let form = format!(
        "csrf_token={}&user=viewer&password=a+long+test+password&next=%2Fappliances%2Fvc-1",
        browser.csrf
    );
    let answer = site.post_form(&browser, "/login", &form).await;
    assert_eq!(answer.location(), "/appliances/vc-1");
    browser.session = answer.cookie_value("vbdash_session");
    let page = site.get(&browser, "/").await;
    assert!(page.body.contains("Sign out"));
    assert!(page.body.contains("viewer"));
}

#[tokio::test]
async fn session_cookie_flags_and_secure_behind_tls() {
    let site = site(local()).await;
    let browser = site.visit_login().await;
    let answer = site.try_login(&browser, "admin", PASSWORD).await;
    let cookie = answer.set_cookie("vbdash_session").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"));

    let tls = site_with_same_store(
        &site,
        AuthConfig {
            behind_tls: true,
            ..local()
        },
    );
    let browser = tls.visit_login().await;
    let answer = tls.try_login(&browser, "admin", PASSWORD).await;
    let cookie = answer.set_cookie("vbdash_session").unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
}

fn site_with_same_store(site: &Site, config: AuthConfig) -> Site {
    Site {
        router: router_over(&site.store, config),
        store: site.store.clone(),
        _dir: tempfile::tempdir().unwrap(),
    }
}

#[tokio::test]
async fn sessions_survive_a_restart() {
    let site = site(local()).await;
    let browser = site.login("viewer").await;
    let restarted = site_with_same_store(&site, local());
    assert_eq!(restarted.get(&browser, "/").await.status, StatusCode::OK);
}

#[tokio::test]
async fn an_idle_session_expires() {
    let config = AuthConfig {
        session_idle: Duration::from_millis(800),
        ..local()
    };
    let site = site(config).await;
    let browser = site.login("viewer").await;
    assert_eq!(site.get(&browser, "/").await.status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1200)).await;

    let answer = site.get(&browser, "/").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    let cleared = answer.set_cookie("vbdash_session").unwrap();
    assert!(cleared.contains("Max-Age=0"));
}

#[tokio::test]
async fn a_busy_session_still_ends_at_its_absolute_age() {
    let config = AuthConfig {
        session_idle: Duration::from_secs(60),
        session_absolute: Duration::from_millis(1500),
        ..local()
    };
    let site = site(config).await;
    let browser = site.login("viewer").await;
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(site.get(&browser, "/").await.status, StatusCode::OK);
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(site.get(&browser, "/").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let site = site(local()).await;
    let browser = site.login("operator").await;
    let form = format!("csrf_token={}", browser.csrf);
    let answer = site.post_form(&browser, "/logout", &form).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location(), "/login");
    assert!(
        answer
            .set_cookie("vbdash_session")
            .unwrap()
            .contains("Max-Age=0")
    );

    assert_eq!(site.get(&browser, "/").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sign_in_always_starts_a_new_session_id() {
    let site = site(local()).await;

    // An id planted by someone else before sign-in is never adopted.
    let mut planted = site.visit_login().await;
    planted.session = Some("ab".repeat(32));
    let answer = site.try_login(&planted, "viewer", PASSWORD).await;
    let issued = answer.cookie_value("vbdash_session").unwrap();
    assert_ne!(Some(issued.clone()), planted.session);
    assert_eq!(site.get(&planted, "/").await.status, StatusCode::SEE_OTHER);

    // Signing in again replaces the session, and the old id stops working.
    let first = site.login("viewer").await;
    let answer = site.try_login(&first, "viewer", PASSWORD).await;
    let second = answer.cookie_value("vbdash_session").unwrap();
    assert_ne!(Some(second), first.session);
    assert_eq!(site.get(&first, "/").await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn state_changes_without_the_right_csrf_token_are_refused_with_a_reason() {
    let site = site(local()).await;
    let browser = site.login("admin").await;

    let missing = site.post_form(&browser, "/logout", "").await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert!(
        missing.body.contains("carried no security token"),
        "{}",
        missing.body
    );

    let wrong = site
        .post_form(&browser, "/logout", "csrf_token=0123abcd")
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert!(wrong.body.contains("does not belong to your session"));

    // Another user's token is as wrong as a made-up one.
    let other = site.login("viewer").await;
    let form = format!("csrf_token={}", other.csrf);
    let stolen = site.post_form(&browser, "/logout", &form).await;
    assert_eq!(stolen.status, StatusCode::FORBIDDEN);

    // An htmx request with the wrong header gets the reason as a fragment.
    let htmx = Request::post("/logout")
        .header("HX-Request", "true")
        .header("X-CSRF-Token", "nope")
        .body(Body::empty())
        .unwrap();
    let refused = site.send(&browser, htmx).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(!refused.body.contains("<html"));
    assert!(refused.body.contains("security token"));

    // The page's token in the header, as htmx sends it, is accepted.
    let htmx = Request::post("/logout")
        .header("HX-Request", "true")
        .header("X-CSRF-Token", &browser.csrf)
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        site.send(&browser, htmx).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn sign_in_itself_needs_the_token_of_the_browser() {
    let site = site(local()).await;
    let browser = site.visit_login().await;
    let form = format!("user=admin&password={}", PASSWORD.replace(' ', "+"));
    let answer = site.post_form(&browser, "/login", &form).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);

    let stranger = site.visit_login().await;
    let mut forged = browser.clone();
    forged.csrf = stranger.csrf;
    let answer = site.try_login(&forged, "admin", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn without_sign_in_state_changes_still_need_a_token() {
    let site = site(AuthConfig::default()).await;
    let page = site.get(&Browser::default(), "/").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("href=\"/users\""),
        "everyone is an admin"
    );
    assert!(!page.body.contains("Sign out"));

    let refused = site.post_form(&Browser::default(), "/logout", "").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    let browser = Browser {
        browser: page.cookie_value("vbdash_browser"),
        csrf: page.csrf(),
        ..Browser::default()
    };
    let form = format!("csrf_token={}", browser.csrf);
    assert_eq!(
        site.post_form(&browser, "/logout", &form).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn repeated_failures_lock_the_user_out() {
    let site = site(local()).await;
    let browser = site.visit_login().await;
    for _ in 0..limiter::USER_FAILURES {
        let answer = site
            .try_login(&browser, "operator", "not the password")
            .await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert!(answer.body.contains("wrong"));
        assert!(!answer.body.contains("not the password"));
    }

    let locked = site.try_login(&browser, "operator", PASSWORD).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.body.contains("Too many failed sign-ins"));
    assert!(locked.set_cookie("vbdash_session").is_none());

    let other = site.try_login(&browser, "viewer", PASSWORD).await;
    assert_eq!(
        other.status,
        StatusCode::SEE_OTHER,
        "other users are not locked"
    );
}

/// Wrong passwords sent at the same moment are checked and counted one at a time, so a
/// burst cannot slip past the limit before its failures are counted.
#[tokio::test]
async fn a_burst_of_wrong_passwords_is_counted_up_to_the_limit_only() {
    let site = site(local()).await;
    let browser = site.visit_login().await;
    let limit = usize::try_from(limiter::USER_FAILURES).unwrap();
    let burst = 3 * limit;

    let answers = futures::future::join_all(
        (0..burst).map(|_| site.try_login(&browser, "operator", "burst-of-wrong-guesses")),
    )
    .await;

    let refused = answers
        .iter()
        .filter(|a| a.status == StatusCode::UNAUTHORIZED)
        .count();
    let locked = answers
        .iter()
        .filter(|a| a.status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(refused, limit);
    assert_eq!(locked, burst - limit);
}

#[tokio::test]
async fn a_lockout_outlives_a_restart_until_its_failures_expire() {
    const TYPED: &str = "typed-by-mistake-9f2c";
    let site = site(local()).await;
    let browser = site.visit_login().await;
    for _ in 0..limiter::USER_FAILURES {
        let answer = site.try_login(&browser, "Operator", TYPED).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    }

    let site = site.restart(local()).await;
    let browser = site.visit_login().await;
    let locked = site.try_login(&browser, "operator", PASSWORD).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        locked.body
    );
    assert!(locked.set_cookie("vbdash_session").is_none());

    let db = site.raw_database().await;
    let rows: Vec<(String, String)> = sqlx::query_as("SELECT kind, key FROM sign_in_failures")
        .fetch_all(&db)
        .await
        .unwrap();
    let failures = usize::try_from(limiter::USER_FAILURES).unwrap();
    assert_eq!(rows.len(), 2 * failures, "{rows:?}");
    assert!(
        rows.iter()
            .all(|(kind, key)| (kind == "user" && key == "operator")
                || (kind == "address" && key == "unknown")),
        "only the user name and the address are kept: {rows:?}"
    );

    // The dashboard is down for longer than the window: the failures no longer count.
    let window_ms = i64::try_from(limiter::WINDOW.as_millis()).unwrap();
    sqlx::query("UPDATE sign_in_failures SET at_ms = at_ms - ?1 - 1000")
        .bind(window_ms)
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let site = site.restart(local()).await;
    let browser = site.visit_login().await;
    let answer = site.try_login(&browser, "operator", PASSWORD).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);

    vbdash::housekeeping::prune_once(&site.store, &RetentionConfig::default()).await;
    let db = site.raw_database().await;
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_failures")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(left, 0, "the upkeep forgets expired failures");
}

#[tokio::test]
async fn a_good_sign_in_clears_the_users_failures() {
    let site = site(local()).await;
    let browser = site.visit_login().await;
    for round in 0..2 {
        for _ in 1..limiter::USER_FAILURES {
            let answer = site.try_login(&browser, "viewer", "wrong").await;
            assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "round {round}");
        }
        let answer = site.try_login(&browser, "viewer", PASSWORD).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "round {round}");
    }

    let db = site.raw_database().await;
    let users: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sign_in_failures WHERE kind = 'user'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(users, 0);
}

fn proxy_config() -> AuthConfig {
    AuthConfig {
        mode: AuthMode::Proxy(ProxyAuth {
            user_header: "x-forwarded-user".into(),
            groups_header: Some("x-forwarded-groups".into()),
            trusted_proxies: vec!["127.0.0.1/32".parse().unwrap()],
            group_roles: [
                ("backup-ops".to_owned(), Role::Operator),
                ("backup-admins".to_owned(), Role::Admin),
            ]
            .into_iter()
            .collect(),
            default_role: Some(Role::Viewer),
        }),
        ..AuthConfig::default()
    }
}

fn from_proxy(uri: &str, user: &str, groups: &str) -> Request<Body> {
    Request::get(uri)
        .header("X-Forwarded-User", user)
        .header("X-Forwarded-Groups", groups)
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn proxy_headers_count_only_from_trusted_addresses() {
    let site = site(proxy_config()).await;
    let trusted = Browser {
        peer: Some("127.0.0.1:50000".parse().unwrap()),
        ..Browser::default()
    };
    let untrusted = Browser {
        peer: Some("192.0.2.7:50000".parse().unwrap()),
        ..Browser::default()
    };

    let admin = site
        .send(&trusted, from_proxy("/users", "ann", "staff,backup-admins"))
        .await;
    assert_eq!(admin.status, StatusCode::OK);
    assert!(admin.body.contains("ann"));

    let operator = site
        .send(&trusted, from_proxy("/users", "bob", "backup-ops"))
        .await;
    assert_eq!(operator.status, StatusCode::FORBIDDEN);
    let viewer = site.send(&trusted, from_proxy("/", "cy", "")).await;
    assert_eq!(viewer.status, StatusCode::OK);
    assert!(
        !viewer.body.contains("Sign out"),
        "the proxy signs people out"
    );

    let forged = site
        .send(&untrusted, from_proxy("/users", "eve", "backup-admins"))
        .await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    let forged = site
        .send(&untrusted, from_proxy("/", "eve", "backup-admins"))
        .await;
    assert_ne!(forged.status, StatusCode::OK);
    assert!(!forged.body.contains("eve"));

    let no_address = site
        .send(&Browser::default(), from_proxy("/", "eve", "backup-admins"))
        .await;
    assert_ne!(no_address.status, StatusCode::OK);
}

#[tokio::test]
async fn a_proxy_user_without_a_role_is_refused() {
    let mut config = proxy_config();
    if let AuthMode::Proxy(proxy) = &mut config.mode {
        proxy.default_role = None;
    }
    let site = site(config).await;
    let trusted = Browser {
        peer: Some("127.0.0.1:50000".parse().unwrap()),
        ..Browser::default()
    };
    let answer = site.send(&trusted, from_proxy("/", "dan", "staff")).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(answer.body.contains("none of your groups"));
}

#[tokio::test]
async fn security_headers_and_body_limit() {
    let site = site(local()).await;
    let browser = site.login("viewer").await;
    let page = site.get(&browser, "/").await;
    let csp = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(page.headers.contains_key(header::REFERRER_POLICY));
    assert_eq!(page.headers[header::CACHE_CONTROL], "no-store");

    let huge = format!("csrf_token={}&pad={}", browser.csrf, "x".repeat(200 * 1024));
    let request = Request::builder()
        .method(Method::POST)
        .uri("/logout")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(huge))
        .unwrap();
    let answer = site.send(&browser, request).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn the_users_page_lists_roles_and_no_secrets() {
    let site = site(local()).await;
    let admin = site.login("admin").await;
    let page = site.get(&admin, "/users").await;
    assert_eq!(page.status, StatusCode::OK);
    for role in ["viewer", "operator", "admin"] {
        assert!(page.body.contains(role));
    }
    assert!(!page.body.contains("argon2"));
    assert!(!page.body.contains(PASSWORD));
}
