//! Notifications end to end: failures in the simulator, polled by the real poller into a
//! real SQLite file, announced to receivers of webhooks, Slack, Teams and e-mail that run
//! in this test on 127.0.0.1; plus the outside heartbeat.

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::any;
use chrono::{DateTime, Utc};
use common::SimServer;
use serde_json::Value;
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use vbdash::config::{Config, ConfigError, NotifyConfig};
use vbdash::poller::notify::Notifier;
use vbdash::poller::{
    self, Heartbeat, HeartbeatPinger, PollHooks, PollerSettings, RoundHealth, poll_once,
};
use vbdash::simulator::{Profile, SimAppliance, SimSchedule};
use vbdash::store::{ApplianceSettings, Store};

const TIMEOUT: Duration = Duration::from_secs(5);

/// Longest any wait for something to happen may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(60);

/// A token inside hook URLs: it must never show up in the database or on a page.
const HOOK_TOKEN: &str = "T0KEN-b1f4e2c9d7a8";

// ---------------------------------------------------------------------------------------
// A receiver of webhooks on 127.0.0.1.

#[derive(Debug, Clone)]
struct Received {
    path: String,
    body: Value,
}

#[derive(Clone, Default)]
struct Receiver {
    received: Arc<Mutex<Vec<Received>>>,
    /// Calls seen per path, for answers that change over time.
    calls: Arc<Mutex<HashMap<String, u32>>>,
}

impl Receiver {
    async fn start() -> (Receiver, String) {
        let receiver = Receiver::default();
        let app = Router::new()
            .route("/{*path}", any(receive))
            .with_state(receiver.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, base)
    }

    fn on(&self, prefix: &str) -> Vec<Received> {
        let all = self.received.lock().unwrap();
        all.iter()
            .filter(|r| r.path.starts_with(prefix))
            .cloned()
            .collect()
    }

    fn count(&self, prefix: &str) -> usize {
        self.on(prefix).len()
    }
}

/// Paths starting with `flaky` answer 500 twice, then 200; `hang` never answers;
/// everything else answers 200.
async fn receive(
    State(receiver): State<Receiver>,
    UrlPath(path): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    receiver.received.lock().unwrap().push(Received {
        path: path.clone(),
        body,
    });
    let call = {
        let mut calls = receiver.calls.lock().unwrap();
        let n = calls.entry(path.clone()).or_default();
        *n += 1;
        *n
    };
    if path.starts_with("hang") {
        std::future::pending::<()>().await;
    }
    if path.starts_with("flaky") && call <= 2 {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    StatusCode::OK
}

// ---------------------------------------------------------------------------------------
// A minimal SMTP server on 127.0.0.1: enough of the protocol for one client to hand over
// mail without TLS or sign-in.

#[derive(Clone, Default)]
struct MailBox {
    mails: Arc<Mutex<Vec<String>>>,
}

impl MailBox {
    async fn start() -> (MailBox, u16) {
        let mailbox = MailBox::default();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = mailbox.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(server.clone().session(socket));
            }
        });
        (mailbox, port)
    }

    async fn session(self, socket: tokio::net::TcpStream) {
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        let _ = write.write_all(b"220 mail.test ESMTP ready\r\n").await;
        while let Ok(Some(line)) = lines.next_line().await {
            let verb = line
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" | "HELO" => b"250 mail.test\r\n",
                "DATA" => {
                    let _ = write.write_all(b"354 end with a dot\r\n").await;
                    let mut mail = String::new();
                    while let Ok(Some(data)) = lines.next_line().await {
                        if data == "." {
                            break;
                        }
                        mail.push_str(&data);
                        mail.push('\n');
                    }
                    self.mails.lock().unwrap().push(mail);
                    b"250 queued\r\n"
                }
                "QUIT" => {
                    let _ = write.write_all(b"221 bye\r\n").await;
                    return;
                }
                _ => b"250 ok\r\n",
            };
            if write.write_all(reply).await.is_err() {
                return;
            }
        }
    }

    fn mails(&self) -> Vec<String> {
        self.mails.lock().unwrap().clone()
    }
}

// ---------------------------------------------------------------------------------------
// Set-up.

/// A simulated appliance whose scheduled backups all fail, backing up to `host`.
fn failing(name: &str, host: &str) -> SimAppliance {
    SimAppliance::new(name, "8.0.3.00400")
        .history_days(5)
        .profile(Profile::FailsNightly)
        .schedule(Some(SimSchedule {
            location: format!("nfs://{host}/export/vcsa"),
            ..SimSchedule::daily(2, 0)
        }))
}

/// A store on a fresh file with `appliances` as (name, tags).
async fn store_with(appliances: &[(&str, &[&str])]) -> (Store, TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("vbdash.db").to_str().unwrap())
        .await
        .unwrap();
    let settings: Vec<ApplianceSettings> = appliances
        .iter()
        .map(|(name, tags)| ApplianceSettings {
            name: (*name).to_owned(),
            url: format!("http://127.0.0.1/{name}"),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            time_zone: chrono_tz::UTC,
            grace_secs: 7200,
        })
        .collect();
    store.sync_appliances(&settings).await.unwrap();
    (store, dir)
}

/// The `[notify]` part of a configuration file, read as vbdash reads it.
fn notify_config(toml: &str, env: &[(&str, String)]) -> NotifyConfig {
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    Config::from_toml(toml, Path::new("vbdash.toml"), &env)
        .unwrap_or_else(|e| panic!("{e}"))
        .notify
}

/// Polls `name` once through the real client and writes the poll.
async fn poll(sim: &SimServer, store: &Store, name: &str) {
    let client = sim.client(name, TIMEOUT);
    let report = poll_once(&client, store).await;
    store.record_poll(&report).await.unwrap();
}

/// Waits until `ready` holds, failing the test after [`PATIENCE`].
async fn wait_for(what: &str, mut ready: impl AsyncFnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while !ready().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "gave up waiting: {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until nothing is left to deliver.
async fn drained(store: &Store) {
    wait_for("every delivery made", async || {
        store.pending_delivery_count().await.unwrap() == 0
    })
    .await;
}

/// Simulated appliances `(name, backup target, tags)` whose backups all fail, and a store
/// on a fresh file that knows them.
async fn failing_fleet(appliances: &[(&str, &str, &[&str])]) -> (SimServer, Store, TempDir) {
    let sim = SimServer::start(
        appliances
            .iter()
            .map(|(name, target, _)| failing(name, target))
            .collect(),
    )
    .await;
    let stored: Vec<(&str, &[&str])> = appliances
        .iter()
        .map(|(name, _, tags)| (*name, *tags))
        .collect();
    let (store, dir) = store_with(&stored).await;
    (sim, store, dir)
}

/// A `[notify]` section with one webhook channel, `name`, posting to `url`, that every
/// appliance goes to; `settings` are further `[notify]` keys, one a line.
fn one_webhook(name: &str, settings: &str, url: String) -> NotifyConfig {
    let toml = format!(
        r#"
        [notify]
        {settings}
        default_channels = ["{name}"]
        [[notify.channel]]
        name = "{name}"
        kind = "webhook"
        url_env = "HOOK_URL"
        "#
    );
    notify_config(&toml, &[("HOOK_URL", url)])
}

/// Deliveries of one notifier, running in the background until [`Delivering::stop`].
struct Delivering {
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl Delivering {
    fn start(notifier: &Notifier) -> Delivering {
        let shutdown = CancellationToken::new();
        let task = notifier.start_delivery(shutdown.clone());
        Delivering { shutdown, task }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap();
    }
}

/// Polls each of `names`, evaluates it at `at`, routes what is due five minutes later and
/// waits until all of it is delivered.
async fn announce(
    sim: &SimServer,
    store: &Store,
    notifier: &Notifier,
    names: &[&str],
    at: DateTime<Utc>,
) {
    for name in names {
        poll(sim, store, name).await;
        notifier.evaluate(name, at).await.unwrap();
    }
    notifier.route_due(at + minutes(5)).await.unwrap();
    drained(store).await;
}

/// The poller's timings shrunk so that a round comes every 100 ms.
fn quick_polling(max_backoff: Duration) -> PollerSettings {
    PollerSettings {
        interval: Duration::from_millis(100),
        running_interval: Duration::from_millis(100),
        max_backoff,
        concurrency: 4,
        initial_spread: Duration::from_millis(10),
    }
}

/// A connection of its own to the database file in `dir`, beside the store's.
async fn open_directly(dir: &TempDir) -> sqlx::SqlitePool {
    let path = dir.path().join("vbdash.db");
    sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap()
}

fn minutes(n: i64) -> chrono::Duration {
    chrono::Duration::minutes(n)
}

// ---------------------------------------------------------------------------------------
// Tests.

#[tokio::test]
async fn a_real_failure_reaches_the_webhook_slack_teams_and_email() {
    let (sim, store, _dir) = failing_fleet(&[("vcsa-fra-01", "nas-fra-02", &["prod"])]).await;
    let (receiver, base) = Receiver::start().await;
    let (mailbox, smtp_port) = MailBox::start().await;

    let config = notify_config(
        &format!(
            r#"
            [notify]
            group_window = "1s"
            default_channels = ["hook", "slack", "teams", "mail"]
            [[notify.channel]]
            name = "hook"
            kind = "webhook"
            url_env = "HOOK_URL"
            [[notify.channel]]
            name = "slack"
            kind = "slack"
            url_env = "SLACK_URL"
            [[notify.channel]]
            name = "teams"
            kind = "teams"
            url_env = "TEAMS_URL"
            [[notify.channel]]
            name = "mail"
            kind = "email"
            smtp_host = "127.0.0.1"
            smtp_port = {smtp_port}
            smtp_security = "plain"
            from = "vbdash@example.test"
            to = ["backup-team@example.test"]
            "#
        ),
        &[
            ("HOOK_URL", format!("{base}/hook/{HOOK_TOKEN}")),
            ("SLACK_URL", format!("{base}/slack/{HOOK_TOKEN}")),
            ("TEAMS_URL", format!("{base}/teams/{HOOK_TOKEN}")),
        ],
    );
    let notifier = Notifier::new(store.clone(), config).unwrap();
    let delivery = Delivering::start(&notifier);

    poll(&sim, &store, "vcsa-fra-01").await;
    let now = Utc::now();
    assert_eq!(notifier.evaluate("vcsa-fra-01", now).await.unwrap(), 1);
    // A failure waits for others at its target to join it.
    assert_eq!(notifier.route_due(now).await.unwrap(), 0);
    assert_eq!(notifier.route_due(now + minutes(1)).await.unwrap(), 1);
    drained(&store).await;

    let hook = receiver.on("hook/");
    assert_eq!(hook.len(), 1);
    let body = &hook[0].body;
    assert_eq!(body["version"], 1);
    assert_eq!(body["kind"], "failed");
    assert_eq!(body["title"], "vcsa-fra-01: backup failed");
    assert_eq!(body["appliances"][0]["appliance"], "vcsa-fra-01");
    assert_eq!(body["appliances"][0]["event"], "failed");
    assert_eq!(body["appliances"][0]["target"], "nas-fra-02");
    assert_eq!(body["appliances"][0]["tags"][0], "prod");
    assert!(
        body["appliances"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("last backup failed")
    );

    let slack = receiver.on("slack/");
    assert_eq!(slack.len(), 1);
    let text = slack[0].body["text"].as_str().unwrap();
    assert!(text.starts_with("*vcsa-fra-01: backup failed*"), "{text}");

    let teams = receiver.on("teams/");
    assert_eq!(teams.len(), 1);
    let card = &teams[0].body["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["type"], "AdaptiveCard");
    assert_eq!(
        card["content"]["body"][0]["text"],
        "vcsa-fra-01: backup failed"
    );

    let mails = mailbox.mails();
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("Subject: [vbdash] vcsa-fra-01: backup failed"));
    assert!(mails[0].contains("To: backup-team@example.test"));

    let lines = store.delivery_lines(100).await.unwrap();
    assert_eq!(lines.len(), 4);
    assert!(lines.iter().all(|l| l.outcome == "sent" && l.attempt == 1));

    delivery.stop().await;
}

#[tokio::test]
async fn a_receiver_failing_twice_is_retried_and_every_attempt_recorded() {
    let (sim, store, dir) = failing_fleet(&[("vcsa-fra-01", "nas-fra-02", &[])]).await;
    let (receiver, base) = Receiver::start().await;

    let config = one_webhook(
        "flaky",
        "retry_delay = \"1s\"\nmax_retry_delay = \"2s\"",
        format!("{base}/flaky/{HOOK_TOKEN}"),
    );
    let notifier = Notifier::new(store.clone(), config).unwrap();
    let delivery = Delivering::start(&notifier);

    announce(&sim, &store, &notifier, &["vcsa-fra-01"], Utc::now()).await;

    assert_eq!(receiver.count("flaky/"), 3);
    let mut lines = store.delivery_lines(100).await.unwrap();
    lines.reverse();
    let attempts: Vec<(u32, &str)> = lines
        .iter()
        .map(|l| (l.attempt, l.outcome.as_str()))
        .collect();
    assert_eq!(attempts, [(1, "error"), (2, "error"), (3, "sent")]);
    assert_eq!(
        lines[0].detail.as_deref(),
        Some("the receiver answered HTTP 500")
    );
    assert!(
        lines
            .iter()
            .all(|l| l.channel == "flaky" && l.state == "sent")
    );

    delivery.stop().await;

    // The hook's token is in none of the database files.
    store.close().await;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(HOOK_TOKEN), "the hook token was stored");
    }
}

#[tokio::test]
async fn a_standing_failure_is_announced_once_then_after_the_repeat_and_recovery_too() {
    let (sim, store, _dir) = failing_fleet(&[("vcsa-fra-01", "nas-fra-02", &[])]).await;
    let (receiver, base) = Receiver::start().await;
    let config = one_webhook("hook", r#"repeat = "4h""#, format!("{base}/hook"));
    let notifier = Notifier::new(store.clone(), config.clone()).unwrap();
    let delivery = Delivering::start(&notifier);

    // Times in the past, so that deliveries queued "then" are due now.
    let t0 = Utc::now() - chrono::Duration::hours(10);
    poll(&sim, &store, "vcsa-fra-01").await;
    assert_eq!(notifier.evaluate("vcsa-fra-01", t0).await.unwrap(), 1);
    notifier.route_due(t0 + minutes(5)).await.unwrap();
    drained(&store).await;
    assert_eq!(receiver.count("hook"), 1);

    // The same failure at the next poll: nothing new.
    poll(&sim, &store, "vcsa-fra-01").await;
    assert_eq!(
        notifier
            .evaluate("vcsa-fra-01", t0 + minutes(10))
            .await
            .unwrap(),
        0
    );

    // Nor after a restart: the state was kept in the database.
    let restarted = Notifier::new(store.clone(), config).unwrap();
    poll(&sim, &store, "vcsa-fra-01").await;
    assert_eq!(
        restarted
            .evaluate("vcsa-fra-01", t0 + minutes(20))
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.unrouted_event_count().await.unwrap(), 0);

    // Once the repeat interval has passed, it is said again.
    let later = t0 + chrono::Duration::hours(4) + minutes(1);
    assert_eq!(restarted.evaluate("vcsa-fra-01", later).await.unwrap(), 1);
    restarted.route_due(later + minutes(5)).await.unwrap();
    drained(&store).await;
    let hook = receiver.on("hook");
    assert_eq!(hook.len(), 2);
    assert_eq!(hook[1].body["title"], "vcsa-fra-01: backup still failing");
    assert_eq!(hook[1].body["appliances"][0]["repeat"], true);

    // A good backup ends it, and that is said at once.
    assert!(
        sim.simulator
            .start_job("vcsa-fra-01", "manual fix")
            .is_some()
    );
    assert!(sim.simulator.finish_running_job("vcsa-fra-01", true));
    poll(&sim, &store, "vcsa-fra-01").await;
    let fixed = later + minutes(30);
    assert_eq!(restarted.evaluate("vcsa-fra-01", fixed).await.unwrap(), 1);
    restarted.route_due(fixed).await.unwrap();
    drained(&store).await;
    let hook = receiver.on("hook");
    assert_eq!(hook.len(), 3);
    assert_eq!(hook[2].body["kind"], "recovered");
    assert_eq!(hook[2].body["title"], "vcsa-fra-01: recovered");

    delivery.stop().await;
}

#[tokio::test]
async fn failures_at_one_backup_target_go_out_as_one_message() {
    let names = ["vcsa-a", "vcsa-b", "vcsa-c"];
    let (sim, store, _dir) = failing_fleet(&[
        ("vcsa-a", "nas-shared", &[]),
        ("vcsa-b", "nas-shared", &[]),
        ("vcsa-c", "nas-shared", &[]),
        ("vcsa-elsewhere", "nas-other", &[]),
    ])
    .await;
    let (receiver, base) = Receiver::start().await;
    let config = one_webhook("hook", r#"group_window = "2m""#, format!("{base}/hook"));
    let notifier = Notifier::new(store.clone(), config).unwrap();
    let delivery = Delivering::start(&notifier);

    let t0 = Utc::now() - chrono::Duration::hours(1);
    for (i, name) in names.iter().chain(["vcsa-elsewhere"].iter()).enumerate() {
        poll(&sim, &store, name).await;
        let at = t0 + chrono::Duration::seconds(20 * i as i64);
        notifier.evaluate(name, at).await.unwrap();
    }
    // The first window ends: its target's failures so far go together, the other alone.
    assert_eq!(notifier.route_due(t0 + minutes(3)).await.unwrap(), 2);
    drained(&store).await;

    let hook = receiver.on("hook");
    assert_eq!(hook.len(), 2);
    let grouped = hook.iter().find(|r| r.body["kind"] == "grouped").unwrap();
    assert_eq!(
        grouped.body["title"],
        "3 appliances failed to back up to nas-shared"
    );
    assert_eq!(grouped.body["target"], "nas-shared");
    let named: Vec<&str> = grouped.body["appliances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["appliance"].as_str().unwrap())
        .collect();
    assert_eq!(named, names);
    let single = hook.iter().find(|r| r.body["kind"] == "failed").unwrap();
    assert_eq!(single.body["appliances"][0]["appliance"], "vcsa-elsewhere");

    delivery.stop().await;
}

#[tokio::test]
async fn routes_send_each_appliance_to_the_channels_of_its_tags() {
    let (sim, store, _dir) = failing_fleet(&[
        ("vcsa-prod", "nas-1", &["prod", "ams"]),
        ("vcsa-lab", "nas-2", &["lab"]),
    ])
    .await;
    let (receiver, base) = Receiver::start().await;
    let config = notify_config(
        r#"
        [notify]
        default_channels = ["everything-else"]
        [[notify.channel]]
        name = "prod-team"
        kind = "webhook"
        url_env = "PROD_URL"
        [[notify.channel]]
        name = "everything-else"
        kind = "slack"
        url_env = "REST_URL"
        [[notify.route]]
        tags = ["prod"]
        channels = ["prod-team"]
        "#,
        &[
            ("PROD_URL", format!("{base}/prod")),
            ("REST_URL", format!("{base}/rest")),
        ],
    );
    let notifier = Notifier::new(store.clone(), config).unwrap();
    let delivery = Delivering::start(&notifier);

    let t0 = Utc::now() - chrono::Duration::hours(1);
    announce(&sim, &store, &notifier, &["vcsa-prod", "vcsa-lab"], t0).await;

    let prod = receiver.on("prod");
    assert_eq!(prod.len(), 1);
    assert_eq!(prod[0].body["appliances"][0]["appliance"], "vcsa-prod");
    let rest = receiver.on("rest");
    assert_eq!(rest.len(), 1);
    let text = rest[0].body["text"].as_str().unwrap();
    assert!(
        text.contains("vcsa-lab") && !text.contains("vcsa-prod"),
        "{text}"
    );

    delivery.stop().await;
}

#[tokio::test]
async fn a_hanging_receiver_does_not_hold_up_polling_of_other_appliances() {
    let sim = SimServer::start(vec![
        failing("vcsa-fail", "nas-1"),
        SimAppliance::new("vcsa-ok", "8.0.3.00400").history_days(5),
    ])
    .await;
    let (store, _dir) = store_with(&[("vcsa-fail", &[]), ("vcsa-ok", &[])]).await;
    let (receiver, base) = Receiver::start().await;
    let config = one_webhook(
        "stuck",
        "group_window = \"1s\"\ntimeout = \"300s\"",
        format!("{base}/hang"),
    );
    let stop = CancellationToken::new();
    let (polled, engine) = Notifier::new(store.clone(), config)
        .unwrap()
        .start(stop.clone());
    let clients = vec![
        sim.client("vcsa-fail", TIMEOUT),
        sim.client("vcsa-ok", TIMEOUT),
    ];
    let settings = quick_polling(Duration::from_millis(500));
    let hooks = PollHooks {
        polled: Some(polled),
        rounds: None,
    };
    let poller = tokio::spawn(poller::run_with_hooks(
        store.clone(),
        clients,
        settings,
        Heartbeat::default(),
        hooks,
        stop.clone(),
    ));

    wait_for("the failure to reach the hanging receiver", async || {
        receiver.count("hang") == 1
    })
    .await;
    let polls_then = store.recent_polls("vcsa-ok", 10_000).await.unwrap().len();

    wait_for("more polls of the other appliance", async || {
        store.recent_polls("vcsa-ok", 10_000).await.unwrap().len() >= polls_then + 5
    })
    .await;
    // The delivery is still hanging: no attempt has ended, none was made again.
    assert!(store.delivery_lines(10).await.unwrap().is_empty());
    assert_eq!(store.pending_delivery_count().await.unwrap(), 1);
    assert_eq!(receiver.count("hang"), 1);

    stop.cancel();
    poller.await.unwrap();
    engine.await.unwrap();
}

#[tokio::test]
async fn the_heartbeat_url_is_called_after_healthy_rounds_only() {
    let sim = SimServer::start(vec![
        SimAppliance::new("vcsa-ok", "8.0.3.00400").history_days(2),
    ])
    .await;
    let (store, dir) = store_with(&[("vcsa-ok", &[])]).await;
    let (receiver, base) = Receiver::start().await;
    let config = Config::from_toml(
        r#"
        [heartbeat]
        url_env = "PING_URL"
        method = "post"
        every = "1s"
        "#,
        Path::new("vbdash.toml"),
        &[("PING_URL".to_owned(), format!("{base}/ping/{HOOK_TOKEN}"))],
    )
    .unwrap();
    let ping = config.heartbeat_ping.unwrap();

    let stop = CancellationToken::new();
    let heartbeat = Heartbeat::default();
    let rounds = RoundHealth::default();
    let pinger = HeartbeatPinger::new(ping, heartbeat.clone(), rounds.clone(), store.clone());
    let mut stats = pinger.stats();
    let pinging = tokio::spawn(pinger.run(stop.clone()));
    let settings = quick_polling(Duration::from_millis(200));
    let poller = tokio::spawn(poller::run_with_hooks(
        store.clone(),
        vec![sim.client("vcsa-ok", TIMEOUT)],
        settings,
        heartbeat,
        PollHooks {
            polled: None,
            rounds: Some(rounds),
        },
        stop.clone(),
    ));

    stats
        .wait_for(|s| s.pings_sent >= 2)
        .await
        .expect("the pinger runs");
    let ping = &receiver.on("ping")[0];
    assert_eq!(ping.body["status"], "healthy");

    // The database now refuses every poll: rounds are unhealthy, and nothing is called.
    let direct = open_directly(&dir).await;
    sqlx::query(
        "CREATE TRIGGER refuse_polls BEFORE INSERT ON polls \
         BEGIN SELECT RAISE(FAIL, 'disk full'); END",
    )
    .execute(&direct)
    .await
    .unwrap();
    let unhealthy_then = stats.borrow().unhealthy_rounds;
    stats
        .wait_for(|s| s.unhealthy_rounds > unhealthy_then)
        .await
        .unwrap();
    // The round that just ended may have mixed writes; every one after is refused.
    let pings_then = receiver.count("ping");
    let counts_then = *stats.borrow();
    stats
        .wait_for(|s| s.unhealthy_rounds >= counts_then.unhealthy_rounds + 3)
        .await
        .unwrap();
    assert_eq!(receiver.count("ping"), pings_then);
    assert_eq!(stats.borrow().healthy_rounds, counts_then.healthy_rounds);

    // Healthy again: pings come back.
    sqlx::query("DROP TRIGGER refuse_polls")
        .execute(&direct)
        .await
        .unwrap();
    stats
        .wait_for(|s| s.pings_sent > counts_then.pings_sent)
        .await
        .unwrap();
    assert!(receiver.count("ping") > pings_then);

    stop.cancel();
    poller.await.unwrap();
    pinging.await.unwrap();
}

#[tokio::test]
async fn the_notifications_page_lists_deliveries_without_the_hook_url() {
    use axum::body::Body;
    use axum::extract::ConnectInfo;
    use axum::http::Request;
    use tower::ServiceExt;

    let (sim, store, _dir) = failing_fleet(&[("vcsa-fra-01", "nas-fra-02", &[])]).await;
    let (_receiver, base) = Receiver::start().await;
    let config = one_webhook("ops-hook", "", format!("{base}/hook/{HOOK_TOKEN}"));
    let notifier = Notifier::new(store.clone(), config).unwrap();
    let delivery = Delivering::start(&notifier);
    let t0 = Utc::now() - chrono::Duration::hours(1);
    announce(&sim, &store, &notifier, &["vcsa-fra-01"], t0).await;

    let router = vbdash::web::router(vbdash::web::AppState {
        store: store.clone(),
        settings: vbdash::web::WebSettings::default(),
        auth: vbdash::web::auth::Auth::new(vbdash::config::AuthConfig::default()),
        actions: vbdash::web::actions::Actions::none(),
    });
    let mut request = Request::get("/notifications").body(Body::empty()).unwrap();
    let peer: SocketAddr = "127.0.0.1:40000".parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(peer));
    let response = router.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let page = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let page = String::from_utf8_lossy(&page);
    assert!(page.contains("ops-hook"), "{page}");
    assert!(page.contains("vcsa-fra-01: backup failed"));
    assert!(page.contains("attempt 1"));
    assert!(!page.contains(HOOK_TOKEN));
    assert!(!page.contains(&base));

    delivery.stop().await;
}

#[test]
fn configuration_mistakes_name_the_file_the_line_and_the_key() {
    let load = |text: &str| -> Result<Config, ConfigError> {
        let env = vec![(
            "HOOK_URL".to_owned(),
            "https://hooks.example.test/x".to_owned(),
        )];
        Config::from_toml(text, Path::new("vbdash.toml"), &env)
    };
    let message = |text: &str| load(text).err().map(|e| e.to_string()).unwrap_or_default();

    let inline = message(
        "[notify]\n[[notify.channel]]\nname = \"a\"\nkind = \"slack\"\nurl = \"https://x\"\n",
    );
    assert!(
        inline.starts_with("vbdash.toml, line 5, key `notify.channel[0].url`"),
        "{inline}"
    );

    let unknown = message(
        "[notify]\n[[notify.channel]]\nname = \"a\"\nkind = \"webhook\"\nurl_env = \"HOOK_URL\"\n\
         [[notify.route]]\ntags = [\"prod\"]\nchannels = [\"b\"]\n",
    );
    assert!(
        unknown.starts_with("vbdash.toml, line 8, key `notify.route[0].channels`"),
        "{unknown}"
    );
    assert!(unknown.contains("no channel is named `b`"));

    let unset = message("[[notify.channel]]\nname = \"a\"\nkind = \"teams\"\nurl_env = \"NOPE\"\n");
    assert!(
        unset.starts_with("vbdash.toml, line 4, key `notify.channel[0].url_env`"),
        "{unset}"
    );

    let mail = message(
        "[[notify.channel]]\nname = \"m\"\nkind = \"email\"\nsmtp_host = \"smtp.example.test\"\n\
         from = \"vbdash@example.test\"\nsmtp_security = \"ssl\"\nto = [\"a@example.test\"]\n",
    );
    assert!(
        mail.starts_with("vbdash.toml, line 6, key `notify.channel[0].smtp_security`"),
        "{mail}"
    );

    let not_a_url = {
        let env = vec![("HOOK_URL".to_owned(), format!("ftp://{HOOK_TOKEN}"))];
        Config::from_toml(
            "[heartbeat]\nurl_env = \"HOOK_URL\"\n",
            Path::new("vbdash.toml"),
            &env,
        )
        .err()
        .unwrap()
        .to_string()
    };
    assert!(not_a_url.contains("key `heartbeat.url_env`"), "{not_a_url}");
    assert!(!not_a_url.contains(HOOK_TOKEN));

    let config = load(
        "[notify]\ndefault_channels = [\"a\"]\n[[notify.channel]]\nname = \"a\"\n\
         kind = \"webhook\"\nurl_env = \"HOOK_URL\"\n",
    )
    .unwrap();
    assert!(config.notify.is_enabled());
    assert!(!format!("{config:?}").contains("hooks.example.test"));
}

/// Silences one appliance, as acknowledgements and maintenance windows will.
struct InMaintenance(&'static str);

impl vbdash::poller::notify::Silencer for InMaintenance {
    fn silenced(&self, appliance: &str, _: &[String], _: chrono::DateTime<Utc>) -> Option<String> {
        (appliance == self.0).then(|| "in a maintenance window".to_owned())
    }
}

#[tokio::test]
async fn silenced_appliances_are_recorded_and_not_sent() {
    let (sim, store, _dir) =
        failing_fleet(&[("vcsa-quiet", "nas-1", &[]), ("vcsa-loud", "nas-2", &[])]).await;
    let (receiver, base) = Receiver::start().await;
    let config = one_webhook("hook", "", format!("{base}/hook"));
    let notifier = Notifier::new(store.clone(), config)
        .unwrap()
        .with_silencer(Arc::new(InMaintenance("vcsa-quiet")));
    let delivery = Delivering::start(&notifier);

    let t0 = Utc::now() - chrono::Duration::hours(1);
    announce(&sim, &store, &notifier, &["vcsa-quiet", "vcsa-loud"], t0).await;

    let hook = receiver.on("hook");
    assert_eq!(hook.len(), 1);
    assert_eq!(hook[0].body["appliances"][0]["appliance"], "vcsa-loud");
    let lines = store.delivery_lines(10).await.unwrap();
    let silenced: Vec<_> = lines.iter().filter(|l| l.outcome == "silenced").collect();
    assert_eq!(silenced.len(), 1);
    assert!(silenced[0].title.starts_with("vcsa-quiet: "));
    assert_eq!(
        silenced[0].detail.as_deref(),
        Some("in a maintenance window")
    );

    delivery.stop().await;
}

/// Rows of `table` in the database file of `dir`, counted on a connection of its own.
async fn rows_of(dir: &TempDir, table: &str) -> i64 {
    let db = open_directly(dir).await;
    let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
    let count = sqlx::query_scalar(sql).fetch_one(&db).await.unwrap();
    db.close().await;
    count
}

#[tokio::test]
async fn pruning_old_history_keeps_what_waits_and_announces_nothing_twice() {
    let names = ["vcsa-fra-01", "vcsa-osl-01", "vcsa-ams-01", "vcsa-lon-01"];
    let targets = names.map(|name| format!("nas-{name}"));
    let fleet: Vec<(&str, &str, &[&str])> = names
        .iter()
        .zip(&targets)
        .map(|(name, target)| (*name, target.as_str(), &[][..]))
        .collect();
    let (sim, store, dir) = failing_fleet(&fleet).await;
    let (receiver, base) = Receiver::start().await;
    let config = one_webhook("hook", r#"repeat = "24h""#, format!("{base}/hook"));
    for name in names {
        poll(&sim, &store, name).await;
    }
    let old = Utc::now() - chrono::Duration::hours(10);
    let recent = Utc::now() - chrono::Duration::hours(1);
    let cutoff = Utc::now() - chrono::Duration::hours(5);

    // Sent long ago (fra) and sent lately (osl).
    let notifier = Notifier::new(store.clone(), config.clone()).unwrap();
    let delivery = Delivering::start(&notifier);
    assert_eq!(notifier.evaluate("vcsa-fra-01", old).await.unwrap(), 1);
    assert_eq!(notifier.route_due(old + minutes(5)).await.unwrap(), 1);
    assert_eq!(notifier.evaluate("vcsa-osl-01", recent).await.unwrap(), 1);
    assert_eq!(notifier.route_due(recent + minutes(5)).await.unwrap(), 1);
    drained(&store).await;
    delivery.stop().await;

    // Long ago but still waiting: a queued delivery (ams) and an event not routed (lon).
    assert_eq!(notifier.evaluate("vcsa-ams-01", old).await.unwrap(), 1);
    assert_eq!(notifier.route_due(old + minutes(5)).await.unwrap(), 1);
    assert_eq!(notifier.evaluate("vcsa-lon-01", old).await.unwrap(), 1);

    // The configured retention (90 days by default) finds nothing this young.
    vbdash::housekeeping::prune_once(&store, &vbdash::config::RetentionConfig::default()).await;
    assert_eq!(rows_of(&dir, "notify_events").await, 4);
    assert_eq!(rows_of(&dir, "notify_messages").await, 3);

    let pruned = store.prune_notifications(cutoff).await.unwrap();
    assert_eq!(pruned.events, 2, "the routed events of fra and ams");
    assert_eq!(pruned.messages, 1, "only fra's message is old and done");
    assert_eq!(rows_of(&dir, "notify_events").await, 2);
    assert_eq!(rows_of(&dir, "notify_messages").await, 2);
    assert_eq!(rows_of(&dir, "notify_deliveries").await, 2);
    assert_eq!(rows_of(&dir, "notify_attempts").await, 1, "osl's attempt");
    assert_eq!(rows_of(&dir, "notify_state").await, 4);
    assert_eq!(store.pending_delivery_count().await.unwrap(), 1);
    assert_eq!(store.unrouted_event_count().await.unwrap(), 1);
    let lines = store.delivery_lines(100).await.unwrap();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].title.contains("vcsa-osl-01"), "{lines:?}");

    // After a restart nothing is announced twice, and what waited goes out once.
    let restarted = Notifier::new(store.clone(), config).unwrap();
    for (name, at) in [("vcsa-fra-01", old), ("vcsa-osl-01", recent)] {
        poll(&sim, &store, name).await;
        let again = restarted.evaluate(name, at + minutes(30)).await.unwrap();
        assert_eq!(again, 0, "{name} is not announced again");
    }
    let delivery = Delivering::start(&restarted);
    assert_eq!(
        restarted.route_due(Utc::now()).await.unwrap(),
        1,
        "lon's event"
    );
    drained(&store).await;
    delivery.stop().await;

    let hook = receiver.on("hook");
    let mut announced: Vec<String> = hook
        .iter()
        .map(|r| {
            r.body["appliances"][0]["appliance"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    announced.sort();
    assert_eq!(
        announced,
        ["vcsa-ams-01", "vcsa-fra-01", "vcsa-lon-01", "vcsa-osl-01"],
        "each appliance exactly once"
    );
}
