//! Text a visitor types (a user name, an appliance name in a form or in the path) never
//! starts a line of the text log: a line break in it would let anyone forge log lines.

mod common;

use std::time::Duration;

use common::demo_app::{CapturedLogs, add_user, local_sign_in, serve_demo};
use vbdash::demo::DemoTuning;
use vbdash::store::Role;

const PASSWORD: &str = "Log-Lines-Passw0rd-4e1";
const FORGED: &str = "FORGED-LINE";

/// A browser of one session: the cookies it was given and the page's CSRF token.
struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn cookie(&self) -> String {
        let pairs: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        pairs.join("; ")
    }

    fn keep(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let Some((name, rest)) = value.to_str().ok().and_then(|v| v.split_once('=')) else {
                continue;
            };
            let value = rest.split(';').next().unwrap_or_default().to_owned();
            self.cookies.retain(|(k, _)| k != name);
            self.cookies.push((name.to_owned(), value));
        }
    }

    async fn csrf(&mut self, path: &str) -> String {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie())
            .send()
            .await
            .unwrap();
        self.keep(&response);
        let html = response.text().await.unwrap();
        let doc = scraper::Html::parse_document(&html);
        let meta = scraper::Selector::parse("meta[name=csrf-token]").unwrap();
        doc.select(&meta)
            .next()
            .and_then(|m| m.attr("content"))
            .expect("a CSRF token on the page")
            .to_owned()
    }

    async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> u16 {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish();
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("cookie", self.cookie())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        self.keep(&response);
        response.status().as_u16()
    }
}

#[tokio::test]
async fn typed_line_breaks_do_not_start_log_lines() {
    let logs = CapturedLogs::install("info");

    let dir = tempfile::tempdir().unwrap();
    let tuning = DemoTuning {
        poll_interval: Duration::from_secs(60),
        running_interval: Duration::from_secs(60),
        refresh: Duration::from_secs(5),
        job_minutes: 240,
        history_days: 2,
    };
    let (_fleet, server) =
        serve_demo(dir.path().join("log-lines.db"), &tuning, local_sign_in).await;
    assert!(add_user(&server, "ops", Role::Admin, PASSWORD).await);
    let mut browser = Browser {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        base: format!("http://{}", server.addr),
        cookies: Vec::new(),
    };
    let forged = format!("x\n2026-12-04T00:00:00.000000Z ERROR {FORGED}\tend");

    let token = browser.csrf("/login").await;
    let failed = [
        ("csrf_token", token.as_str()),
        ("user", forged.as_str()),
        ("password", "wrong"),
    ];
    assert_eq!(browser.post("/login", &failed).await, 401);
    let right = [
        ("csrf_token", token.as_str()),
        ("user", "ops"),
        ("password", PASSWORD),
    ];
    assert_eq!(browser.post("/login", &right).await, 303);

    let token = browser.csrf("/").await;
    let bulk = [
        ("csrf_token", token.as_str()),
        ("appliances", forged.as_str()),
        ("preset", "nowhere"),
        ("reason", "r"),
    ];
    assert_eq!(browser.post("/fleet/backup/review", &bulk).await, 400);
    let in_path = format!(
        "/appliances/{}",
        url::form_urlencoded::byte_serialize(forged.as_bytes()).collect::<String>()
    );
    let fields = [("csrf_token", token.as_str()), ("preset", "nowhere")];
    for action in ["schedule", "backup", "validate"] {
        let status = browser.post(&format!("{in_path}/{action}"), &fields).await;
        assert!((400..500).contains(&status), "{action}: {status}");
    }

    let text = logs.text();
    assert!(text.contains("sign-in failed"), "the logs were captured");
    assert!(text.contains("bulk form refused"), "{text}");
    for line in text.lines() {
        assert!(
            !line.starts_with("2026-12-04T00:00:00.000000Z"),
            "a forged line: {line:?}\n{text}"
        );
    }
    server.stop().await;
}
