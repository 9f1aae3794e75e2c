//! Secrets stay secret: the demo fleet is polled with known appliance passwords, a user
//! signs in (once with a wrong password), every page is read, and then the SQLite files,
//! the debug logs and the pages are searched for every secret. None may be found.

mod common;

use std::time::Duration;

use common::demo_app::{CapturedLogs, add_user, local_sign_in, serve_demo};
use vbdash::demo::{DEMO_PASSWORD, DEMO_TARGET_PASSWORD, DemoTuning};
use vbdash::secret::Secret;
use vbdash::store::Role;

/// Given to one appliance as its password, as a backup password would be configured: the
/// appliance refuses it, so it also travels the error paths.
const BACKUP_SECRET: &str = "Backup-Secret-5d0c9e!";
/// The encryption password of a backup started through the form.
const ENCRYPTION_SECRET: &str = "Enc-Secret-7f3a!Q";
/// A dashboard user's password.
const DASHBOARD_PASSWORD: &str = "Dashboard-Secret-81b7f";
/// A wrong password typed at sign-in; failed sign-ins are logged, without it.
const WRONG_PASSWORD: &str = "Wrong-Secret-33aa0c";

/// A minimal HTTP client that keeps the cookies and the CSRF token by hand.
struct Visitor {
    http: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
    pages: String,
}

impl Visitor {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let Some((name, rest)) = value.to_str().ok().and_then(|v| v.split_once('=')) else {
                continue;
            };
            let value = rest.split(';').next().unwrap_or_default().to_owned();
            self.cookies.retain(|(k, _)| k != name);
            if !value.is_empty() {
                self.cookies.push((name.to_owned(), value));
            }
        }
    }

    async fn get(&mut self, path: &str) -> (u16, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        self.pages.push_str(&body);
        (status, body)
    }

    async fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> u16 {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        let status = response.status().as_u16();
        self.pages.push_str(&response.text().await.unwrap());
        status
    }
}

fn csrf_of(html: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    let meta = scraper::Selector::parse("meta[name=csrf-token]").unwrap();
    doc.select(&meta)
        .next()
        .and_then(|m| m.attr("content"))
        .unwrap_or_default()
        .to_owned()
}

fn hrefs(html: &str, css: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(css).unwrap();
    doc.select(&selector)
        .filter_map(|a| a.attr("href"))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_the_database_the_logs_or_a_page() {
    let logs = CapturedLogs::install("debug");

    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("secrets.db");
    let tuning = DemoTuning {
        poll_interval: Duration::from_secs(2),
        running_interval: Duration::from_secs(1),
        refresh: Duration::from_secs(1),
        job_minutes: 240,
        history_days: 5,
    };
    let (_fleet, server) = serve_demo(database.clone(), &tuning, |config| {
        config.appliances[1].password = Secret::new(BACKUP_SECRET);
        local_sign_in(config);
    })
    .await;
    assert!(add_user(&server, "ops", Role::Admin, DASHBOARD_PASSWORD).await);

    let mut visitor = Visitor {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        base: format!("http://{}", server.addr),
        cookies: Vec::new(),
        pages: String::new(),
    };
    let (_, login) = visitor.get("/login").await;
    let token = csrf_of(&login);
    let wrong = [
        ("csrf_token", token.as_str()),
        ("user", "ops"),
        ("password", WRONG_PASSWORD),
    ];
    assert_eq!(visitor.post_form("/login", &wrong).await, 401);
    let right = [
        ("csrf_token", token.as_str()),
        ("user", "ops"),
        ("password", DASHBOARD_PASSWORD),
    ];
    assert_eq!(visitor.post_form("/login", &right).await, 303);
    let session = visitor
        .cookies
        .iter()
        .find(|(k, _)| k == "vbdash_session")
        .map(|(_, v)| v.clone())
        .expect("a session cookie");

    let (status, fleet_page) = visitor.get("/").await;
    assert_eq!(status, 200);
    visitor.get("/users").await;
    visitor.get("/fleet/rows").await;
    for appliance in hrefs(&fleet_page, "#fleet-rows a.name") {
        let (_, page) = visitor.get(&appliance).await;
        for job in hrefs(&page, "#jobs tbody a").into_iter().take(2) {
            visitor.get(&job).await;
        }
    }
    assert!(visitor.pages.contains("vcsa-lon-01"), "the pages were read");

    // A backup encrypted with a password, written to a target that has one too.
    let (_, form) = visitor.get("/appliances/vcsa-ams-01/backup").await;
    let token = csrf_of(&form);
    let backup = [
        ("csrf_token", token.as_str()),
        ("preset", "backup-01 (SFTP)"),
        ("parts", "seat"),
        ("comment", "before patching"),
        ("backup_password", ENCRYPTION_SECRET),
    ];
    assert_eq!(
        visitor
            .post_form("/appliances/vcsa-ams-01/backup", &backup)
            .await,
        303
    );

    // Let the poller go round again, through the failing login too.
    tokio::time::sleep(Duration::from_secs(3)).await;
    server.stop().await;

    let secrets = [
        DEMO_PASSWORD,
        DEMO_TARGET_PASSWORD,
        ENCRYPTION_SECRET,
        BACKUP_SECRET,
        DASHBOARD_PASSWORD,
        WRONG_PASSWORD,
        &session,
    ];
    let log_text = logs.text();
    assert!(log_text.contains("sign-in failed"), "logs were captured");
    let mut files = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", database.display());
        if let Ok(bytes) = std::fs::read(&path) {
            files.push((path, bytes));
        }
    }
    assert!(!files.is_empty());

    for secret in secrets {
        assert!(!log_text.contains(secret), "a secret is in the logs");
        assert!(!visitor.pages.contains(secret), "a secret is on a page");
        for (path, bytes) in &files {
            let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "a secret is in {path}");
        }
    }
}
