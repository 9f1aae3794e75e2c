//! The JSON API end to end: the real router served on 127.0.0.1, a real SQLite file, the
//! simulator over HTTP, tokens made through the `vbdash token` command.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use url::Url;

use common::SimServer;
use vbdash::config::{AuthConfig, AuthMode, Preset};
use vbdash::domain::Status;
use vbdash::secret::Secret;
use vbdash::simulator::{Fault, SimAppliance};
use vbdash::store::{Acknowledgement, AuditEntry, AuditFilter, JobPage, Store, TokenScope};
use vbdash::vcenter::location::LocationType;
use vbdash::web::actions::Actions;
use vbdash::web::api::auth::token_digest;
use vbdash::web::api::token_command;
use vbdash::web::auth::Auth;
use vbdash::web::{self, AppState, WebSettings};

const API: &str = "vc-api";
const REST: &str = "vc-rest";
const DOWN: &str = "vc-down";
const BACKUP_PASSWORD: &str = "Xk7#pLq2mW";
const LOCATION_PASSWORD: &str = "location-secret-42";

/// A dashboard serving on a loopback port, with its database and simulator.
struct Server {
    base: String,
    http: reqwest::Client,
    store: Store,
    sim: SimServer,
    config: PathBuf,
    database: PathBuf,
    task: JoinHandle<std::io::Result<()>>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One answer, its body read as JSON.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
    text: String,
}

impl Answer {
    fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    fn error_message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }
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
        preset(
            "offsite",
            "sftp://backup-01.example.test/srv/vcsa",
            Some("svc-backup"),
            Some(LOCATION_PASSWORD),
        ),
        preset("web", "https://backup-02.example.test/vcsa", None, None),
    ]
}

async fn server() -> Server {
    let sim = SimServer::start(vec![
        SimAppliance::new(API, "8.0.3.00400").history_days(15),
        SimAppliance::new(REST, "6.7.0.20000").history_days(15),
        SimAppliance::new(DOWN, "8.0.2.00100").history_days(3),
    ])
    .await;
    let (store, dir) = common::fresh_store(&[API, REST, DOWN]).await;
    let clients = vec![
        sim.client(API, Duration::from_secs(5)),
        sim.client(REST, Duration::from_secs(5)),
        sim.client(DOWN, Duration::from_secs(5)),
    ];
    vbdash::poller::poll_all_once(&store, &clients, 3).await;
    sim.simulator.set_fault(DOWN, Fault::Http503);
    vbdash::poller::poll_all_once(&store, &clients, 3).await;

    let database = dir.path().join("vbdash.db");
    let config = dir.path().join("vbdash.toml");
    let file = format!("[database]\nurl = \"sqlite://{}\"\n", database.display());
    std::fs::write(&config, file).unwrap();

    // Sign-in is on: the API must answer to its tokens alone, not to sessions.
    let router = web::router(AppState {
        store: store.clone(),
        settings: WebSettings::default(),
        auth: Auth::new(AuthConfig {
            mode: AuthMode::Local,
            ..AuthConfig::default()
        }),
        actions: Actions::new(&clients, presets()),
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let task = tokio::spawn(async move { axum::serve(listener, app).await });

    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    Server {
        base,
        http,
        store,
        sim,
        config,
        database,
        task,
        _dir: dir,
    }
}

impl Server {
    /// Runs `vbdash token <args>` through the command's own code and returns its output.
    async fn token_command(&self, args: &[&str]) -> anyhow::Result<String> {
        let mut words: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        words.push("--config".to_owned());
        words.push(self.config.display().to_string());
        let command = token_command::parse(&words)?;
        let mut out = Vec::new();
        token_command::run(command, &mut out).await?;
        Ok(String::from_utf8(out).unwrap())
    }

    /// A new token made with `vbdash token create`.
    async fn create_token(&self, name: &str, scope: &str) -> String {
        let out = self
            .token_command(&["create", "--name", name, "--scope", scope])
            .await
            .unwrap();
        out.lines().next().unwrap().to_owned()
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }

    async fn get(&self, token: Option<&str>, path: &str) -> Answer {
        let mut request = self.http.get(format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        self.send(request).await
    }

    async fn post(&self, token: &str, path: &str, body: &Value) -> Answer {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body);
        self.send(request).await
    }

    async fn audit(&self) -> Vec<AuditEntry> {
        let filter = AuditFilter {
            limit: 100,
            ..AuditFilter::default()
        };
        self.store.audit_entries(&filter).await.unwrap()
    }

    /// Every stored (appliance, job id), from the store itself.
    async fn every_job(&self) -> BTreeSet<(String, String)> {
        let mut all = BTreeSet::new();
        for name in [API, REST, DOWN] {
            let page = JobPage {
                offset: 0,
                limit: 1_000,
            };
            let (jobs, total) = self.store.list_jobs(name, page).await.unwrap();
            assert!(total < 1_000, "one page holds them all");
            for job in jobs {
                all.insert((name.to_owned(), job.job.id.to_string()));
            }
        }
        all
    }

    /// Follows `next` from `first` to the end, returning every job seen in order.
    async fn walk(&self, token: &str, first: &str) -> Vec<Value> {
        let mut jobs = Vec::new();
        let mut next = Some(first.to_owned());
        while let Some(path) = next {
            let page = self.get(Some(token), &path).await;
            assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.text);
            jobs.extend(page.body["jobs"].as_array().unwrap().iter().cloned());
            next = page.body["next"].as_str().map(str::to_owned);
            assert!(jobs.len() < 10_000, "the walk ends");
        }
        jobs
    }
}

fn time_of(job: &Value, field: &str) -> Option<DateTime<Utc>> {
    job[field]
        .as_str()
        .map(|t| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc))
}

fn key(job: &Value) -> (String, String) {
    (
        job["appliance"].as_str().unwrap().to_owned(),
        job["id"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn tokens_are_stored_as_digests_only() {
    let server = server().await;
    let token = server.create_token("ci-reader", "read").await;
    assert!(token.starts_with("vbd_") && token.len() == 68, "{token}");

    let answer = server.get(Some(&token), "/api/v1/appliances").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);

    // The database file and its write-ahead log hold the digest, never the token.
    server.store.close().await;
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let mut path = server.database.clone().into_os_string();
        path.push(suffix);
        if let Ok(content) = std::fs::read(&path) {
            bytes.extend(content);
        }
    }
    let holds = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(!holds(&token), "the token text is in the database");
    assert!(
        !holds(&token["vbd_".len()..]),
        "the token's random part is in the database"
    );
    assert!(holds(&token_digest(&token)), "the digest is what is kept");

    let listed = server.token_command(&["list"]).await.unwrap();
    assert!(
        listed.contains("ci-reader") && listed.contains("read"),
        "{listed}"
    );
    assert!(!listed.contains(&token));
}

#[tokio::test]
async fn the_binary_makes_lists_and_revokes_tokens() {
    let server = server().await;
    let vbdash = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_vbdash"))
            .arg("token")
            .args(args)
            .arg("--config")
            .arg(&server.config)
            .env_remove("VBDASH_DATABASE_URL")
            .output()
            .expect("the vbdash binary runs")
    };

    let created = vbdash(&["create", "--name", "nightly", "--scope", "operate"]);
    let out = String::from_utf8_lossy(&created.stdout).into_owned();
    assert!(created.status.success(), "{out}");
    let token = out.lines().next().unwrap().trim().to_owned();
    assert!(out.contains("shown only this once"), "{out}");

    let answer = server.get(Some(&token), "/api/v1/jobs?limit=1").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);

    let again = vbdash(&["create", "--name", "nightly", "--scope", "read"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    let bad_scope = vbdash(&["create", "--name", "x", "--scope", "admin"]);
    assert!(!bad_scope.status.success());

    let listed = vbdash(&["list"]);
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listed.contains("nightly") && listed.contains("operate"),
        "{listed}"
    );
    assert!(!listed.contains("never  never") && !listed.contains(&token));
    assert!(listed.contains("never expires"), "{listed}");

    assert!(vbdash(&["revoke", "nightly"]).status.success());
    let answer = server.get(Some(&token), "/api/v1/jobs?limit=1").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert!(!vbdash(&["revoke", "nightly"]).status.success());
}

#[tokio::test]
async fn missing_wrong_revoked_and_expired_tokens_get_a_401_in_json() {
    let server = server().await;
    let token = server.create_token("soon-gone", "operate").await;

    // Made a day ago for a day: expired now.
    let expired = "vbd_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let now = Utc::now();
    let day = chrono::Duration::days(1);
    server
        .store
        .add_api_token(
            "expired",
            TokenScope::Operate,
            &token_digest(expired),
            now - day - day,
            Some(now - day),
        )
        .await
        .unwrap();
    let limited = server
        .token_command(&[
            "create",
            "--name",
            "later",
            "--scope",
            "read",
            "--expires-in",
            "90d",
        ])
        .await
        .unwrap();
    assert!(limited.contains("expires 20"), "{limited}");
    let limited = limited.lines().next().unwrap();
    assert_eq!(
        server.get(Some(limited), "/api/v1/trends").await.status,
        StatusCode::OK
    );

    let path = "/api/v1/appliances";
    let cases: Vec<(&str, reqwest::RequestBuilder)> = vec![
        (
            "no header",
            server.http.get(format!("{}{path}", server.base)),
        ),
        (
            "unknown token",
            server
                .http
                .get(format!("{}{path}", server.base))
                .bearer_auth("vbd_nope"),
        ),
        (
            "basic",
            server
                .http
                .get(format!("{}{path}", server.base))
                .header("authorization", format!("Basic {token}")),
        ),
        (
            "empty bearer",
            server
                .http
                .get(format!("{}{path}", server.base))
                .header("authorization", "Bearer "),
        ),
        (
            "expired",
            server
                .http
                .get(format!("{}{path}", server.base))
                .bearer_auth(expired),
        ),
    ];
    for (what, request) in cases {
        let answer = server.send(request).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{what}");
        assert_eq!(
            answer.error_code(),
            "unauthorized",
            "{what}: {}",
            answer.text
        );
        assert!(!answer.error_message().is_empty());
        assert!(answer.headers.get("set-cookie").is_none(), "{what}");
    }
    let answer = server.get(Some(expired), path).await;
    assert!(
        answer.error_message().contains("expired"),
        "{}",
        answer.text
    );

    assert_eq!(server.get(Some(&token), path).await.status, StatusCode::OK);
    server
        .token_command(&["revoke", "soon-gone"])
        .await
        .unwrap();
    let answer = server.get(Some(&token), path).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    let body = json!({ "preset": "web" });
    let answer = server
        .post(&token, &format!("/api/v1/appliances/{API}/backups"), &body)
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);

    // A refused token reaches no appliance and records nothing.
    assert!(server.audit().await.is_empty());
}

#[tokio::test]
async fn a_read_token_cannot_act() {
    let server = server().await;
    let token = server.create_token("dashboard-wall", "read").await;
    let jobs_before = server.sim.simulator.job_count(API);

    let body = json!({ "preset": "web" });
    let answer = server
        .post(&token, &format!("/api/v1/appliances/{API}/backups"), &body)
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN, "{}", answer.text);
    assert_eq!(answer.error_code(), "forbidden");
    assert!(
        answer.error_message().contains("operate"),
        "{}",
        answer.text
    );

    let job = server.get(Some(&token), "/api/v1/jobs?limit=1").await;
    let href = job.body["jobs"][0]["href"].as_str().unwrap().to_owned();
    let answer = server
        .post(&token, &format!("{href}/cancel"), &json!({}))
        .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);

    assert_eq!(server.sim.simulator.job_count(API), jobs_before);
    assert!(server.audit().await.is_empty());
}

#[tokio::test]
async fn a_backup_started_through_the_api_is_audited_with_the_token_name() {
    let server = server().await;
    let token = server.create_token("pre-patch", "operate").await;
    let jobs_before = server.sim.simulator.job_count(API);
    let uri = format!("/api/v1/appliances/{API}/backups");

    let body = json!({
        "preset": "offsite",
        "parts": ["seat"],
        "comment": "before the patch window",
        "backup_password": BACKUP_PASSWORD,
    });
    let started = server.post(&token, &uri, &body).await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.text);
    assert_eq!(server.sim.simulator.job_count(API), jobs_before + 1);
    assert_eq!(started.body["job"]["state"], "running");
    assert_eq!(started.body["job"]["type"], "manual");
    let href = started.body["job"]["href"].as_str().unwrap().to_owned();

    let job = server.get(Some(&token), &href).await;
    assert_eq!(job.status, StatusCode::OK, "{}", job.text);
    assert_eq!(job.body["state"], "running");
    assert_eq!(job.body["appliance"], API);

    let again = server.post(&token, &uri, &body).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert_eq!(again.error_code(), "conflict");

    let cancel = server
        .post(&token, &format!("{href}/cancel"), &json!({}))
        .await;
    assert_eq!(cancel.status, StatusCode::OK, "{}", cancel.text);
    assert_eq!(cancel.body["accepted"], true);

    let audit = server.audit().await;
    assert_eq!(audit.len(), 3, "{audit:?}");
    assert!(
        audit.iter().all(|e| e.user == "token:pre-patch"),
        "{audit:?}"
    );
    assert!(audit.iter().all(|e| e.appliance.as_deref() == Some(API)));
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["backup.cancel", "backup.start", "backup.start"]);
    assert!(audit[2].ok && audit[2].outcome.contains(job.body["id"].as_str().unwrap()));
    assert_eq!(audit[2].reason.as_deref(), Some("before the patch window"));
    assert!(audit[2].detail.contains("encrypted"));
    assert!(!audit[1].ok);

    let everything = format!("{audit:?}{}{}{}", started.text, job.text, cancel.text);
    assert!(!everything.contains(BACKUP_PASSWORD) && !everything.contains(LOCATION_PASSWORD));

    // Both generations take the same request.
    let rest = server
        .post(
            &token,
            &format!("/api/v1/appliances/{REST}/backups"),
            &json!({ "preset": "web" }),
        )
        .await;
    assert_eq!(rest.status, StatusCode::CREATED, "{}", rest.text);
}

#[tokio::test]
async fn bad_start_requests_name_the_field_and_send_nothing() {
    let server = server().await;
    let token = server.create_token("scripts", "operate").await;
    let jobs_before = server.sim.simulator.job_count(API);
    let uri = format!("/api/v1/appliances/{API}/backups");

    let cases = [
        (json!({ "parts": ["seat"] }), "preset"),
        (json!({ "preset": "nope" }), "preset"),
        (
            json!({ "preset": "web", "backup_password": "short" }),
            "backup_password",
        ),
        (json!({ "preset": "web", "parts": ["a/b"] }), "parts"),
        (
            json!({ "preset": "web", "comment": "x".repeat(201) }),
            "comment",
        ),
        (
            json!({ "preset": "web", "encryption": "yes" }),
            "encryption",
        ),
        (json!({ "preset": 7 }), "preset"),
        (
            json!({ "preset": "web", "comment": "nightly\u{202e}x" }),
            "U+202E",
        ),
        (json!("web"), "JSON"),
    ];
    for (body, field) in cases {
        let answer = server.post(&token, &uri, &body).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            answer.text
        );
        assert_eq!(answer.error_code(), "bad_request");
        assert!(
            answer.error_message().contains(field),
            "{body}: {}",
            answer.text
        );
    }

    let not_json = server
        .http
        .post(format!("{}{uri}", server.base))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body("{\"preset\": ");
    assert_eq!(server.send(not_json).await.status, StatusCode::BAD_REQUEST);
    let form = server
        .http
        .post(format!("{}{uri}", server.base))
        .bearer_auth(&token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("preset=web");
    let answer = server.send(form).await;
    assert_eq!(answer.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(answer.error_code(), "unsupported_media_type");

    let unknown = server
        .post(
            &token,
            "/api/v1/appliances/nowhere/backups",
            &json!({ "preset": "web" }),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
    assert_eq!(unknown.error_code(), "not_found");

    assert_eq!(server.sim.simulator.job_count(API), jobs_before);
    assert!(
        server.audit().await.is_empty(),
        "nothing half-done is recorded"
    );
}

#[tokio::test]
async fn a_start_for_an_unknown_appliance_is_a_404_whatever_the_preset() {
    let server = server().await;
    let token = server.create_token("scripts", "operate").await;

    // `offsite` is SFTP, which depends on the appliance's version: the unknown appliance
    // must not be mistaken for one whose version is not known yet.
    for name in ["nowhere", "..%2F..%2Fetc"] {
        let answer = server
            .post(
                &token,
                &format!("/api/v1/appliances/{name}/backups"),
                &json!({ "preset": "offsite" }),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{name}: {}",
            answer.text
        );
        assert_eq!(answer.error_code(), "not_found");
    }
    assert!(server.audit().await.is_empty());
}

#[tokio::test]
async fn paging_walks_every_job_exactly_once() {
    let server = server().await;
    let reader = server.create_token("walker", "read").await;
    let operator = server.create_token("starter", "operate").await;
    let truth = server.every_job().await;
    assert!(
        truth.len() > 20,
        "enough history to page through: {}",
        truth.len()
    );

    // A job started halfway through is newer than the cursor: the walk neither repeats
    // nor skips anything because of it.
    let mut seen = Vec::new();
    let mut next = Some("/api/v1/jobs?limit=7".to_owned());
    let mut pages = 0;
    while let Some(path) = next {
        let page = server.get(Some(&reader), &path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text);
        let jobs = page.body["jobs"].as_array().unwrap();
        assert!(jobs.len() <= 7);
        seen.extend(jobs.iter().cloned());
        next = page.body["next"].as_str().map(str::to_owned);
        pages += 1;
        if pages == 2 {
            let body = json!({ "preset": "web" });
            let uri = format!("/api/v1/appliances/{REST}/backups");
            assert_eq!(
                server.post(&operator, &uri, &body).await.status,
                StatusCode::CREATED
            );
        }
    }
    assert!(pages > 3);

    let keys: Vec<(String, String)> = seen.iter().map(key).collect();
    let unique: BTreeSet<(String, String)> = keys.iter().cloned().collect();
    assert_eq!(unique.len(), keys.len(), "no job is seen twice");
    assert_eq!(unique, truth, "every job stored before the walk is seen");

    let starts: Vec<Option<DateTime<Utc>>> =
        seen.iter().map(|j| time_of(j, "start_time")).collect();
    for pair in starts.windows(2) {
        match pair {
            [Some(a), Some(b)] => assert!(a >= b, "newest first"),
            [None, Some(_)] => panic!("jobs without a start come last"),
            _ => {}
        }
    }

    // A bigger page size walks the same jobs, now with the new one on top.
    let all = server.walk(&reader, "/api/v1/jobs?limit=500").await;
    assert_eq!(all.len(), truth.len() + 1);
    assert_eq!(all[0]["appliance"], REST);
}

#[tokio::test]
async fn filters_select_what_they_name() {
    let server = server().await;
    let token = server.create_token("filters", "read").await;

    let mine = server
        .walk(&token, &format!("/api/v1/jobs?appliance={API}&limit=9"))
        .await;
    let stored = server
        .store
        .list_jobs(
            API,
            JobPage {
                offset: 0,
                limit: 1_000,
            },
        )
        .await
        .unwrap();
    assert_eq!(mine.len() as u64, stored.1);
    assert!(mine.iter().all(|j| j["appliance"] == API));

    let failed = server
        .walk(&token, "/api/v1/jobs?state=failed&limit=500")
        .await;
    let all = server.walk(&token, "/api/v1/jobs?limit=500").await;
    let count = |state: &str| all.iter().filter(|j| j["state"] == state).count();
    assert_eq!(failed.len(), count("failed"));
    assert!(failed.iter().all(|j| j["state"] == "failed"));

    let scheduled = server
        .walk(&token, "/api/v1/jobs?type=scheduled&limit=500")
        .await;
    assert!(!scheduled.is_empty() && scheduled.iter().all(|j| j["type"] == "scheduled"));

    // Whole seconds, as the query carries them.
    let whole = |days: i64| {
        let at = Utc::now() - chrono::Duration::days(days);
        DateTime::from_timestamp(at.timestamp(), 0).unwrap()
    };
    let (since, until) = (whole(3), whole(1));
    let path = format!(
        "/api/v1/jobs?appliance={REST}&state=succeeded&since={}&until={}&limit=2",
        since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    );
    let window = server.walk(&token, &path).await;
    let expected = all
        .iter()
        .filter(|j| j["appliance"] == REST && j["state"] == "succeeded")
        .filter(|j| time_of(j, "start_time").is_some_and(|t| t >= since && t < until))
        .count();
    assert!(expected > 0, "the window holds runs");
    assert_eq!(window.len(), expected);

    let by_day = server
        .walk(&token, "/api/v1/jobs?since=2000-01-01&until=2000-01-02")
        .await;
    assert!(by_day.is_empty());
}

#[tokio::test]
async fn bad_query_values_get_a_400_that_names_the_parameter() {
    let server = server().await;
    let token = server.create_token("typos", "read").await;

    let cases = [
        ("/api/v1/jobs?limit=0", "limit"),
        ("/api/v1/jobs?limit=501", "limit"),
        ("/api/v1/jobs?limit=ten", "limit"),
        ("/api/v1/jobs?state=done", "state"),
        ("/api/v1/jobs?type=hourly", "type"),
        ("/api/v1/jobs?since=yesterday", "since"),
        ("/api/v1/jobs?until=2026-02-30", "until"),
        ("/api/v1/jobs?cursor=abc", "cursor"),
        ("/api/v1/jobs?appliance=nowhere", "appliance"),
        ("/api/v1/jobs?limit=1&limit=2", "limit"),
        ("/api/v1/appliances?status=fine", "status"),
        ("/api/v1/trends?days=0", "days"),
        ("/api/v1/trends?days=9999", "days"),
        ("/api/v1/appliances/vc-api/jobs/a%20b", "job_id"),
    ];
    for (path, name) in cases {
        let answer = server.get(Some(&token), path).await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{path}: {}",
            answer.text
        );
        assert_eq!(answer.error_code(), "bad_request", "{path}");
        assert!(
            answer.error_message().contains(name),
            "{path}: {}",
            answer.text
        );
    }

    // Odd input is an answer in JSON, never a crash.
    for path in [
        "/api/v1/jobs?since=%FF",
        "/api/v1/jobs?cursor=%E2%80%AE1_1",
        "/api/v1/jobs?cursor=99999999999999999999_1",
        "/api/v1/appliances/%00",
        "/api/v1/appliances/vc-api/jobs/%F0%9F%92%A5",
        "/api/v1/nothing-here",
    ] {
        let answer = server.get(Some(&token), path).await;
        assert!(answer.status.is_client_error(), "{path}: {}", answer.status);
        assert!(!answer.error_code().is_empty(), "{path}: {}", answer.text);
    }
    assert_eq!(
        server
            .get(Some(&token), "/api/v1/jobs?limit=5")
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn appliances_carry_the_fleet_pages_status_and_facts() {
    let server = server().await;
    let token = server.create_token("wall", "read").await;

    let answer = server.get(Some(&token), "/api/v1/appliances").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let listed = answer.body["appliances"].as_array().unwrap();
    let names: Vec<&str> = listed.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, [API, DOWN, REST]);

    let fleet = server.store.fleet_overview().await.unwrap();
    let now = Utc::now();
    for (appliance, overview) in listed.iter().zip(&fleet) {
        let verdict = overview.verdict(now);
        assert_eq!(appliance["status"], verdict.status.as_str(), "{appliance}");
        assert_eq!(appliance["reason"], verdict.reason);
        let good = overview.last_good_job.as_ref().map(|j| j.id.to_string());
        assert_eq!(
            appliance["last_good_backup"]["id"]
                .as_str()
                .map(str::to_owned),
            good
        );
        assert_eq!(
            appliance["schedule_words"],
            vbdash::views::fleet::schedule_words(overview)
        );
    }

    let down = server
        .get(Some(&token), &format!("/api/v1/appliances/{DOWN}"))
        .await;
    assert_eq!(down.status, StatusCode::OK);
    assert_eq!(down.body["status"], "unreachable");
    assert_ne!(down.body["last_poll"]["outcome"], "ok");
    assert!(down.body["last_ok_poll_at"].is_string());
    assert!(
        down.body["last_good_backup"]["href"]
            .as_str()
            .unwrap()
            .starts_with("/api/v1/")
    );
    assert_eq!(answer.body["counts"]["unreachable"], 1);

    let only = server
        .get(Some(&token), "/api/v1/appliances?status=unreachable")
        .await;
    assert_eq!(only.body["appliances"].as_array().unwrap().len(), 1);
    let tagged = server
        .get(Some(&token), "/api/v1/appliances?tag=TEST")
        .await;
    assert_eq!(tagged.body["appliances"].as_array().unwrap().len(), 3);

    let api = server
        .get(Some(&token), &format!("/api/v1/appliances/{API}"))
        .await;
    assert_eq!(api.body["api_generation"], "api");
    assert_eq!(api.body["version"], "8.0.3.00400");

    let missing = server.get(Some(&token), "/api/v1/appliances/nowhere").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.error_code(), "not_found");
    let job = server
        .get(
            Some(&token),
            &format!("/api/v1/appliances/{API}/jobs/19990101-000000-1"),
        )
        .await;
    assert_eq!(job.status, StatusCode::NOT_FOUND);
    assert!(job.error_message().contains("no job"), "{}", job.text);

    assert!(!answer.text.contains(LOCATION_PASSWORD) && !answer.text.contains(common::PASSWORD));
}

/// Stores an acknowledgement of `appliance` from `since` to `until`, as the form would.
async fn acknowledge(store: &Store, appliance: &str, since: DateTime<Utc>, until: DateTime<Utc>) {
    let ack = Acknowledgement {
        appliance: appliance.to_owned(),
        user: "operator".to_owned(),
        reason: "NAS repair, ticket 4711".to_owned(),
        status: Status::Unreachable,
        since,
        until,
    };
    let audit = AuditEntry {
        at: since,
        user: ack.user.clone(),
        appliance: Some(appliance.to_owned()),
        action: vbdash::store::ACTION_ACK.to_owned(),
        detail: ack.reason.clone(),
        outcome: "acknowledged".to_owned(),
        ok: true,
        reason: Some(ack.reason.clone()),
    };
    store.acknowledge(&ack, &audit).await.unwrap();
}

#[tokio::test]
async fn appliances_carry_their_acknowledgement_or_null() {
    let server = server().await;
    let token = server.create_token("wall", "read").await;
    let since = Utc::now().trunc_subsecs(0) - chrono::Duration::hours(1);
    let until = since + chrono::Duration::hours(5);
    acknowledge(&server.store, DOWN, since, until).await;
    let ended = since - chrono::Duration::hours(2);
    acknowledge(&server.store, REST, ended, since).await;

    let one = server
        .get(Some(&token), &format!("/api/v1/appliances/{DOWN}"))
        .await;
    assert_eq!(one.status, StatusCode::OK, "{}", one.text);
    let ack = &one.body["acknowledgement"];
    assert_eq!(ack["user"], "operator");
    assert_eq!(ack["reason"], "NAS repair, ticket 4711");
    assert_eq!(ack["status"], "unreachable");
    assert_eq!(time_of(ack, "since"), Some(since));
    assert_eq!(time_of(ack, "until"), Some(until));
    assert_eq!(one.body["status"], "unreachable", "the status itself stays");

    let list = server.get(Some(&token), "/api/v1/appliances").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    for appliance in list.body["appliances"].as_array().unwrap() {
        let name = appliance["name"].as_str().unwrap();
        let ack = &appliance["acknowledgement"];
        if name == DOWN {
            assert_eq!(ack["user"], "operator", "{appliance}");
            assert_eq!(time_of(ack, "until"), Some(until));
        } else {
            assert!(ack.is_null(), "{name} has none active: {appliance}");
        }
    }

    let rest = server
        .get(Some(&token), &format!("/api/v1/appliances/{REST}"))
        .await;
    assert!(
        rest.body
            .as_object()
            .unwrap()
            .get("acknowledgement")
            .is_some_and(Value::is_null),
        "an ended acknowledgement is a null, not a missing field: {}",
        rest.text
    );

    let doc = server.get(None, "/api/v1/openapi.json").await;
    let schemas = &doc.body["components"]["schemas"];
    let documented = &schemas["ApplianceJson"]["properties"]["acknowledgement"];
    assert!(!documented.is_null(), "{}", schemas["ApplianceJson"]);
    let fields = &schemas["AcknowledgementJson"]["properties"];
    for field in ["user", "reason", "since", "until"] {
        assert!(!fields[field].is_null(), "{field} is documented: {fields}");
    }
}

#[tokio::test]
async fn trends_give_daily_rates_and_a_summary_per_appliance() {
    let server = server().await;
    let token = server.create_token("reports", "read").await;

    let answer = server.get(Some(&token), "/api/v1/trends?days=7").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let days = answer.body["daily"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    assert_eq!(days[6]["day"], Utc::now().date_naive().to_string());
    assert!(
        days.iter().any(|d| d["success_rate"].is_number()),
        "{days:?}"
    );
    for day in days {
        let with_runs = day["appliances_with_runs"].as_i64().unwrap();
        assert!(with_runs <= 3);
        assert!(day["appliances_succeeded"].as_i64().unwrap() <= with_runs);
    }

    let appliances = answer.body["appliances"].as_array().unwrap();
    assert_eq!(appliances.len(), 3);
    let all = server.walk(&token, "/api/v1/jobs?limit=500").await;
    let from = chrono::NaiveDate::parse_from_str(answer.body["from"].as_str().unwrap(), "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    for summary in appliances {
        let name = summary["appliance"].as_str().unwrap();
        let in_range = |state: Option<&str>| {
            all.iter()
                .filter(|j| j["appliance"] == name)
                .filter(|j| state.is_none_or(|s| j["state"] == s))
                .filter(|j| time_of(j, "start_time").is_some_and(|t| t >= from))
                .count() as i64
        };
        assert_eq!(summary["jobs"].as_i64().unwrap(), in_range(None), "{name}");
        assert_eq!(
            summary["succeeded"].as_i64().unwrap(),
            in_range(Some("succeeded"))
        );
        assert_eq!(
            summary["failed"].as_i64().unwrap(),
            in_range(Some("failed"))
        );
    }

    let default = server.get(Some(&token), "/api/v1/trends").await;
    assert_eq!(default.body["daily"].as_array().unwrap().len(), 30);
}

/// The `(method, path)` of every `/api/v1` route in the router's source.
fn api_routes_in_source() -> BTreeSet<(String, String)> {
    let source = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/web/mod.rs"));
    let mut routes = BTreeSet::new();
    for line in source.lines() {
        let Some(rest) = line.trim().strip_prefix(".route(\"") else {
            continue;
        };
        let Some((path, handlers)) = rest.split_once('"') else {
            continue;
        };
        if !path.starts_with("/api/v1") {
            continue;
        }
        // The JSON 404 for unknown addresses is no endpoint.
        if handlers.contains("no_route") {
            continue;
        }
        let mut found = false;
        for method in ["get", "post", "put", "patch", "delete"] {
            if handlers.contains(&format!("{method}(")) {
                routes.insert((method.to_owned(), path.to_owned()));
                found = true;
            }
        }
        assert!(found, "a route of unknown method: {line}");
    }
    routes
}

/// Every `$ref` in `value`.
fn refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("$ref", Value::String(target)) => out.push(target.clone()),
                    _ => refs(inner, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_openapi_document_is_openapi_3_and_lists_every_route() {
    let server = server().await;
    let answer = server.get(None, "/api/v1/openapi.json").await;
    assert_eq!(answer.status, StatusCode::OK, "no token is needed");
    let doc = &answer.body;

    let version = doc["openapi"].as_str().unwrap();
    assert!(version.starts_with("3."), "{version}");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());
    assert_eq!(
        doc["components"]["securitySchemes"]["token"]["scheme"],
        "bearer"
    );

    let paths = doc["paths"].as_object().unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in paths {
        assert!(path.starts_with("/api/v1/"), "{path}");
        for (method, operation) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            documented.insert((method.clone(), path.clone()));
            let responses = operation["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path}");
            for (status, response) in responses {
                assert!(status.parse::<u16>().is_ok(), "{method} {path} {status}");
                assert!(
                    response["description"].is_string(),
                    "{method} {path} {status}"
                );
            }
            if path != "/api/v1/openapi.json" {
                assert!(
                    operation["security"].is_array(),
                    "{method} {path} names its token"
                );
            }
            // Every path parameter in the address is declared.
            for segment in path.split('/').filter(|s| s.starts_with('{')) {
                let name = segment.trim_matches(['{', '}']);
                let declared = operation["parameters"]
                    .as_array()
                    .is_some_and(|ps| ps.iter().any(|p| p["name"] == name && p["in"] == "path"));
                assert!(declared, "{method} {path}: {name}");
            }
        }
    }

    let routed = api_routes_in_source();
    assert!(
        routed.len() >= 8,
        "routes not found in the source: {routed:?}"
    );
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from the document: {undocumented:?}"
    );
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );

    let mut targets = Vec::new();
    refs(doc, &mut targets);
    assert!(!targets.is_empty());
    for target in targets {
        let name = target.strip_prefix("#/components/schemas/").expect(&target);
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "{target} resolves"
        );
    }
    let job = &doc["components"]["schemas"]["JobJson"]["properties"];
    assert!(job["state"].is_object() && job["start_time"].is_object());
    let body = &doc["components"]["schemas"]["StartBackupBody"]["properties"];
    assert_eq!(body["backup_password"]["format"], "password");
}

#[tokio::test]
async fn cookies_are_neither_needed_nor_enough() {
    let server = server().await;
    let hash = vbdash::web::auth::password::hash(&Secret::new("a long test password")).unwrap();
    server
        .store
        .add_user("ann", vbdash::store::Role::Admin, &hash, Utc::now())
        .await
        .unwrap();

    // An admin's browser session gets nothing from the API without a token.
    let session = sign_in(&server, "ann", "a long test password").await;
    let page = server
        .send(
            server
                .http
                .get(format!("{}/", server.base))
                .header("cookie", &session),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "the session works for pages");
    let answer = server
        .send(
            server
                .http
                .get(format!("{}/api/v1/jobs", server.base))
                .header("cookie", &session),
        )
        .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.error_code(), "unauthorized");

    // A token needs no CSRF token and gets no cookie.
    let token = server.create_token("ops", "operate").await;
    let uri = format!("/api/v1/appliances/{API}/backups");
    let started = server.post(&token, &uri, &json!({ "preset": "web" })).await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.text);
    assert!(started.headers.get("set-cookie").is_none());
}

/// Signs in through the sign-in page and returns the cookies of the session.
async fn sign_in(server: &Server, user: &str, password: &str) -> String {
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = http
        .get(format!("{}/login", server.base))
        .send()
        .await
        .unwrap();
    let cookie_of = |response: &reqwest::Response, name: &str| {
        response
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(&format!("{name}=")))
            .and_then(|v| v.split(';').next())
            .unwrap()
            .to_owned()
    };
    let browser = cookie_of(&page, "vbdash_browser");
    let html = page.text().await.unwrap();
    let doc = scraper::Html::parse_document(&html);
    let meta = scraper::Selector::parse("meta[name=csrf-token]").unwrap();
    let csrf = doc
        .select(&meta)
        .next()
        .unwrap()
        .attr("content")
        .unwrap()
        .to_owned();

    let form: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("csrf_token", &csrf)
        .append_pair("user", user)
        .append_pair("password", password)
        .finish();
    let signed_in = http
        .post(format!("{}/login", server.base))
        .header("cookie", &browser)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    format!("{browser}; {}", cookie_of(&signed_in, "vbdash_session"))
}

#[tokio::test]
async fn since_after_until_is_a_400_naming_until() {
    let server = server().await;
    let token = server.create_token("ranges", "read").await;

    let answer = server
        .get(
            Some(&token),
            "/api/v1/jobs?since=2026-12-02&until=2026-12-01",
        )
        .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
    assert_eq!(answer.error_code(), "bad_request");
    assert!(
        answer.error_message().starts_with("parameter `until`"),
        "{}",
        answer.text
    );

    // An empty window is not a mistake: `until` is exclusive, so nothing is in it.
    let answer = server
        .get(
            Some(&token),
            "/api/v1/jobs?since=2026-12-01&until=2026-12-01",
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.body["jobs"], json!([]));

    let doc = server.get(None, "/api/v1/openapi.json").await;
    let params = doc.body["paths"]["/api/v1/jobs"]["get"]["parameters"]
        .as_array()
        .unwrap();
    let until = params.iter().find(|p| p["name"] == "until").unwrap();
    let words = until["description"].as_str().unwrap();
    assert!(words.contains("exclusive"), "{words}");
}

#[tokio::test]
async fn a_cancel_the_appliance_does_not_accept_is_a_409_with_the_reason() {
    let server = server().await;
    let token = server.create_token("cleanup", "operate").await;
    let ended = server
        .get(
            Some(&token),
            &format!("/api/v1/jobs?appliance={API}&state=succeeded&limit=1"),
        )
        .await;
    let href = ended.body["jobs"][0]["href"].as_str().unwrap().to_owned();

    let answer = server
        .post(&token, &format!("{href}/cancel"), &json!({}))
        .await;
    assert_eq!(answer.status, StatusCode::CONFLICT, "{}", answer.text);
    assert_eq!(answer.error_code(), "conflict");
    assert!(
        answer.error_message().contains("not running"),
        "{}",
        answer.text
    );

    let doc = server.get(None, "/api/v1/openapi.json").await;
    let responses =
        &doc.body["paths"]["/api/v1/appliances/{name}/jobs/{job_id}/cancel"]["post"]["responses"];
    assert!(responses["409"].is_object(), "{responses}");
}

#[tokio::test]
async fn a_cancel_of_a_job_the_appliance_does_not_know_is_a_404() {
    let server = server().await;
    let token = server.create_token("cleanup", "operate").await;

    let answer = server
        .post(
            &token,
            &format!("/api/v1/appliances/{API}/jobs/20990101-000000-0000000/cancel"),
            &json!({}),
        )
        .await;

    assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.text);
    assert_eq!(answer.error_code(), "not_found");
}

#[tokio::test]
async fn errors_of_the_shared_layers_are_json_under_the_api_only() {
    let server = server().await;
    let token = server.create_token("odd-clients", "operate").await;
    let backups = format!("{}/api/v1/appliances/{API}/backups", server.base);

    let wrong_method = server
        .send(server.http.delete(&backups).bearer_auth(&token))
        .await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(wrong_method.error_code(), "method_not_allowed");
    assert!(
        wrong_method.error_message().contains("DELETE"),
        "{}",
        wrong_method.text
    );
    assert_eq!(wrong_method.headers["allow"], "POST");

    let too_large = server
        .send(
            server
                .http
                .post(&backups)
                .bearer_auth(&token)
                .header("content-type", "application/json")
                .body(format!("{{\"comment\": \"{}\"}}", "x".repeat(70 * 1024))),
        )
        .await;
    assert_eq!(too_large.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(too_large.error_code(), "too_large", "{}", too_large.text);

    let plain_text = server
        .send(
            server
                .http
                .post(&backups)
                .bearer_auth(&token)
                .header("content-type", "text/plain")
                .body("{\"preset\": \"web\"}"),
        )
        .await;
    assert_eq!(plain_text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(plain_text.error_code(), "unsupported_media_type");

    for answer in [&wrong_method, &too_large, &plain_text] {
        let kind = answer.headers["content-type"].to_str().unwrap();
        assert!(kind.starts_with("application/json"), "{kind}");
    }

    // Pages keep their HTML errors.
    let page = server.get(None, "/static/no-such-file.css").await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    let kind = page.headers["content-type"].to_str().unwrap();
    assert!(kind.starts_with("text/html"), "{kind}");
}
