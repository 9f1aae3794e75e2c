//! The fault matrix: every way an appliance misbehaves, one test each. Four simulated
//! appliances are polled by the real poller of a running dashboard into a real SQLite
//! file; one of them turns faulty. Each test checks the same four things:
//! - the faulty appliance shows words that name its trouble, on its fleet row and page;
//! - the others keep polling: each gets new successful polls while the fault lasts;
//! - no job already stored is lost or duplicated;
//! - nothing panics: the server still answers and says it is ready.
//!
//! The certificate kinds serve the faulty appliance with `tls` on a listener of its own.
//! One more test runs `vbdash simulate` with a configuration file, as a user would; its
//! fault is there from the start, so it has no stored jobs to check.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use common::{PASSWORD, SimServer, USER};
use scraper::{Html, Selector};
use tempfile::TempDir;
use vbdash::app::{self, FirstPoll, RunningApp};
use vbdash::config::Config;
use vbdash::domain::PollOutcome;
use vbdash::simulator::{Fault, SimAppliance, SimTls, Simulator, TlsAppliances};
use vbdash::store::{JobPage, Store};

const FAULTY: &str = "vcsa-faulty";
const HEALTHY: [&str; 3] = ["vcsa-api", "vcsa-old-api", "vcsa-rest"];
/// The request limit of every client: the hanging kinds fail after this long.
const TIMEOUT: Duration = Duration::from_secs(2);
/// A bound on waiting for the poller, far above what any kind needs.
const PATIENCE: Duration = Duration::from_secs(60);
const PASSWORD_VARIABLE: &str = "FAULT_MATRIX_PASSWORD";

/// How a kind of trouble is brought about.
enum Trigger {
    /// A scripted simulator fault on the faulty appliance.
    Fault(Fault),
    /// The faulty appliance, served with `tls` on its own listener, restarts with a
    /// certificate that fails one check.
    Certificate(SimTls),
}

/// What the faulty appliance shows once the trouble is in place.
enum Expect {
    /// Its polls keep succeeding: the client copes with the oddity on its own.
    StillGood,
    /// Its polls fail with `outcome`; the fleet row and the appliance page say every word.
    Failing {
        outcome: PollOutcome,
        words: &'static [&'static str],
    },
}

// ---------------------------------------------------------------------------------------
// One test per kind.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latency_below_the_limit_is_only_slow() {
    let pause = Duration::from_millis(300);
    let fixture = run(Trigger::Fault(Fault::Delay(pause)), Expect::StillGood).await;

    let polls = fixture.polls_since(FAULTY).await;
    assert!(polls.iter().all(|p| p.duration_ms >= 300), "{polls:?}");
    fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_answer_at_all_is_a_timeout() {
    let expect = Expect::Failing {
        outcome: PollOutcome::Timeout,
        words: &["no answer within 2s"],
    };
    run(Trigger::Fault(Fault::Hang), expect).await.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hang_after_the_headers_is_a_stalled_answer() {
    let expect = Expect::Failing {
        outcome: PollOutcome::Timeout,
        words: &["the answer stalled", "headers arrived", "within 2s"],
    };
    run(Trigger::Fault(Fault::HangAfterHeaders), expect)
        .await
        .stop()
        .await;
}

/// The appliance answers the request with a TCP RST, not a close.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_connection_is_named_a_reset() {
    let expect = Expect::Failing {
        outcome: PollOutcome::Unreachable,
        words: &["cannot reach the appliance: connection reset by the appliance or a proxy"],
    };
    run(Trigger::Fault(Fault::ConnectionReset), expect)
        .await
        .stop()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_500_page_is_named_by_its_title() {
    let expect = Expect::Failing {
        outcome: PollOutcome::ApplianceError,
        words: &[
            "INTERNAL_SERVER_ERROR",
            "HTTP 500 with a web page titled \"500 Internal Server Error\"",
        ],
    };
    run(Trigger::Fault(Fault::Http500Html), expect)
        .await
        .stop()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proxy_503_is_quoted() {
    let expect = Expect::Failing {
        outcome: PollOutcome::ApplianceError,
        words: &[
            "SERVICE_UNAVAILABLE",
            "HTTP 503 with the text \"upstream connect error",
        ],
    };
    run(Trigger::Fault(Fault::Http503), expect)
        .await
        .stop()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_json_is_a_bad_response() {
    let expect = Expect::Failing {
        outcome: PollOutcome::BadResponse,
        words: &["bad response: malformed JSON at line 1 column"],
    };
    run(Trigger::Fault(Fault::MalformedJson), expect)
        .await
        .stop()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_body_says_how_much_arrived() {
    let expect = Expect::Failing {
        outcome: PollOutcome::Unreachable,
        words: &[
            "connection lost: the answer broke off after",
            " of ",
            " bytes",
        ],
    };
    run(Trigger::Fault(Fault::TruncatedBody), expect)
        .await
        .stop()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_huge_body_is_refused_at_the_bound() {
    let expect = Expect::Failing {
        outcome: PollOutcome::BadResponse,
        words: &["bad response: body larger than 8 MiB"],
    };
    run(Trigger::Fault(Fault::HugeBody), expect)
        .await
        .stop()
        .await;
}

/// JSON labelled as a web page is still read: the label is the proxy's mistake, and the
/// body says what it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_content_type_is_read_anyway() {
    run(Trigger::Fault(Fault::WrongContentType), Expect::StillGood)
        .await
        .stop()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_body_is_a_bad_response() {
    let expect = Expect::Failing {
        outcome: PollOutcome::BadResponse,
        words: &["bad response: empty body where JSON was expected"],
    };
    run(Trigger::Fault(Fault::EmptyBody), expect)
        .await
        .stop()
        .await;
}

/// The session ends between the schedule call and the job list call of one poll: the
/// client logs in once more, repeats the call, and the poll succeeds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_401_in_the_middle_of_a_poll_logs_in_again() {
    let fixture = run(
        Trigger::Fault(Fault::SessionExpiresMidPoll),
        Expect::StillGood,
    )
    .await;

    let simulator = fixture.simulator();
    assert_eq!(simulator.login_count(FAULTY), 2, "one login more, no more");
    assert_eq!(
        simulator.open_sessions(FAULTY),
        1,
        "the lost session is not kept"
    );
    fixture.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cap_is_named() {
    let expect = Expect::Failing {
        outcome: PollOutcome::SessionLimit,
        words: &[
            "session limit reached",
            "the limit of 550 sessions per user has been reached",
        ],
    };
    run(Trigger::Fault(Fault::SessionsExhausted), expect)
        .await
        .stop()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_403_is_a_permission_problem() {
    let expect = Expect::Failing {
        outcome: PollOutcome::Permission,
        words: &["permission denied"],
    };
    run(Trigger::Fault(Fault::Forbidden403), expect)
        .await
        .stop()
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_from_an_unknown_issuer_is_named() {
    let expect = Expect::Failing {
        outcome: PollOutcome::Tls,
        words: &["TLS handshake failed: certificate signed by an unknown issuer"],
    };
    let trigger = Trigger::Certificate(SimTls::UnknownCa);
    run(trigger, expect).await.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_for_another_name_is_named() {
    let expect = Expect::Failing {
        outcome: PollOutcome::Tls,
        words: &["TLS handshake failed: certificate is for another host name"],
    };
    let trigger = Trigger::Certificate(SimTls::WrongName);
    run(trigger, expect).await.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_certificate_is_named() {
    let expect = Expect::Failing {
        outcome: PollOutcome::Tls,
        words: &["TLS handshake failed: certificate has expired"],
    };
    let trigger = Trigger::Certificate(SimTls::Expired);
    run(trigger, expect).await.stop().await;
}

/// The certificate fault scripted in a simulator configuration file alone: `vbdash
/// simulate` serves the faulty appliance with `tls = "expired"` on a port of its own and
/// writes its CA where the file says; the dashboard trusts that CA, names the expired
/// certificate and keeps polling the others.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vbdash_simulate_scripts_a_certificate_fault_from_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut sim_toml = "tls_ca_file = \"sim-ca.pem\"\n".to_owned();
    let versions = ["8.0.3.00400", "7.0.3.01700", "6.7.0.44000", "8.0.2.00100"];
    for (name, version) in HEALTHY.iter().chain([&FAULTY]).zip(versions) {
        sim_toml += &format!(
            "\n[[appliances]]\nname = \"{name}\"\nversion = \"{version}\"\n\
             username = \"{USER}\"\npassword = \"{PASSWORD}\"\nhistory_days = 20\n"
        );
    }
    sim_toml += "tls = \"expired\"\n";
    let sim_path = dir.path().join("sim.toml");
    std::fs::write(&sim_path, sim_toml).unwrap();

    let since = Utc::now();
    let (simulate, urls) = start_simulate(&sim_path).await;
    let faulty_url = &urls.iter().find(|(name, _)| name == FAULTY).unwrap().1;
    assert!(faulty_url.starts_with("https://127.0.0.1:"), "{faulty_url}");
    let ca_path = dir.path().join("sim-ca.pem");
    let ca_line = format!("ca_file = {:?}", ca_path.display().to_string());
    let app = start_dashboard(&dir, &urls, &ca_line).await;

    let fixture = Fixture {
        sim: None,
        _tls: None,
        _simulate: Some(simulate),
        app,
        since,
        _dir: dir,
    };
    let expect = Expect::Failing {
        outcome: PollOutcome::Tls,
        words: &["TLS handshake failed: certificate has expired"],
    };
    wait_for_the_fault_to_show(&fixture, &expect).await;
    check_the_others_kept_polling(&fixture).await;
    check_the_words(&fixture, &expect).await;
    check_nothing_panicked(&fixture).await;
    fixture.stop().await;
}

// ---------------------------------------------------------------------------------------
// The shared run and checks.

/// A running dashboard over four simulated appliances, after the fault went in.
struct Fixture {
    /// The simulator, when it runs inside the test.
    sim: Option<SimServer>,
    _tls: Option<TlsAppliances>,
    /// `vbdash simulate`, when the simulator runs as a process of its own.
    _simulate: Option<tokio::process::Child>,
    app: RunningApp,
    /// When the fault went in.
    since: DateTime<Utc>,
    _dir: TempDir,
}

impl Fixture {
    fn simulator(&self) -> &Simulator {
        let sim = self
            .sim
            .as_ref()
            .expect("the simulator runs inside the test");
        &sim.simulator
    }

    fn store(&self) -> &Store {
        &self.app.store
    }

    /// Polls of `name` that started after the fault went in, newest first.
    async fn polls_since(&self, name: &str) -> Vec<vbdash::domain::PollRecord> {
        let polls = self.store().recent_polls(name, 10_000).await.unwrap();
        polls.into_iter().filter(|p| p.at >= self.since).collect()
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let url = format!("http://{}{path}", self.app.addr);
        let answer = reqwest::get(&url).await.unwrap();
        let status = answer.status().as_u16();
        (status, answer.text().await.unwrap())
    }

    async fn stop(self) {
        self.app.stop().await;
    }
}

/// Starts the fleet, brings the trouble about, waits for it to show and checks it.
async fn run(trigger: Trigger, expect: Expect) -> Fixture {
    let mut fixture = start(&trigger).await;
    let before = job_rows(fixture.store()).await;
    let logins_before = fixture.simulator().login_count(FAULTY);

    fixture.since = Utc::now();
    match &trigger {
        Trigger::Fault(fault) => {
            assert!(fixture.simulator().set_fault(FAULTY, fault.clone()));
        }
        Trigger::Certificate(bad) => {
            assert!(fixture.simulator().set_tls(FAULTY, *bad));
        }
    }

    wait_for_the_fault_to_show(&fixture, &expect).await;
    if matches!(trigger, Trigger::Fault(Fault::SessionExpiresMidPoll)) {
        assert!(fixture.simulator().login_count(FAULTY) > logins_before);
    }

    check_the_others_kept_polling(&fixture).await;
    check_the_words(&fixture, &expect).await;
    check_no_job_lost_or_doubled(&fixture, &before, &expect).await;
    check_nothing_panicked(&fixture).await;
    fixture
}

/// Waits until the two newest polls of the faulty appliance, both made after the fault
/// went in, show the expected outcome, and every other appliance polled at least twice
/// in that time.
async fn wait_for_the_fault_to_show(fixture: &Fixture, expect: &Expect) {
    let wanted = match expect {
        Expect::StillGood => PollOutcome::Ok,
        Expect::Failing { outcome, .. } => *outcome,
    };
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let polls = fixture.polls_since(FAULTY).await;
        let settled = polls.len() >= 2 && polls[..2].iter().all(|p| p.outcome == wanted);
        let mut others_polled = true;
        for name in HEALTHY {
            others_polled &= fixture.polls_since(name).await.len() >= 2;
        }
        if settled && others_polled {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the faulty appliance never settled on {wanted:?} ({polls:?}), \
             or the others stopped polling"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// While the fault lasted, every other appliance went on polling, and every one of its
/// polls succeeded.
async fn check_the_others_kept_polling(fixture: &Fixture) {
    for name in HEALTHY {
        let polls = fixture.polls_since(name).await;
        assert!(polls.len() >= 2, "{name} polled {} times", polls.len());
        assert!(
            polls.iter().all(|p| p.outcome.is_ok()),
            "{name} failed too: {polls:?}"
        );
    }
}

/// The fleet row and the appliance page, rendered by the real server, name the trouble.
async fn check_the_words(fixture: &Fixture, expect: &Expect) {
    let (status, fleet) = fixture.get("/").await;
    assert_eq!(status, 200);
    let fleet = Html::parse_document(&fleet);
    let (status, page) = fixture.get(&format!("/appliances/{FAULTY}")).await;
    assert_eq!(status, 200);
    let page = Html::parse_document(&page);

    for name in HEALTHY {
        assert_ne!(badge_of(&fleet, name), "unreachable", "{name}");
    }
    let badge = badge_of(&fleet, FAULTY);
    let outcome = text_of(&page, ".outcome");
    match expect {
        Expect::StillGood => {
            assert_ne!(badge, "unreachable");
            assert_eq!(outcome, "ok");
        }
        Expect::Failing {
            outcome: wanted,
            words,
        } => {
            assert_eq!(badge, "unreachable");
            assert_eq!(outcome, wanted.label());
            let reason = text_of(&fleet, &format!("tr[data-appliance=\"{FAULTY}\"] .reason"));
            let error = text_of(&page, ".error-text");
            for word in *words {
                assert!(
                    reason.contains(word),
                    "fleet row lacks {word:?}: {reason:?}"
                );
                assert!(error.contains(word), "page lacks {word:?}: {error:?}");
            }
        }
    }
}

/// Every job stored before the fault is still there, once; a failing appliance's jobs
/// are exactly as they were.
async fn check_no_job_lost_or_doubled(
    fixture: &Fixture,
    before: &BTreeMap<String, Vec<(String, String)>>,
    expect: &Expect,
) {
    let after = job_rows(fixture.store()).await;
    for (name, rows) in &after {
        let ids: BTreeSet<&String> = rows.iter().map(|(id, _)| id).collect();
        assert_eq!(ids.len(), rows.len(), "{name}: a job is stored twice");
    }
    for (name, rows) in before {
        let kept: BTreeSet<&String> = after[name].iter().map(|(id, _)| id).collect();
        for (id, _) in rows {
            assert!(kept.contains(id), "{name}: job {id} was lost");
        }
        assert!(
            !rows.is_empty(),
            "{name}: the history was stored before the fault"
        );
    }
    if matches!(expect, Expect::Failing { .. }) {
        assert_eq!(
            after[FAULTY], before[FAULTY],
            "a failing poll changed stored jobs"
        );
    }
}

async fn check_nothing_panicked(fixture: &Fixture) {
    assert_eq!(fixture.get("/healthz").await.0, 200);
    let (status, body) = fixture.get("/readyz").await;
    assert_eq!(status, 200, "{body}");
}

/// (job id, state) of every stored job, per appliance, sorted by id.
async fn job_rows(store: &Store) -> BTreeMap<String, Vec<(String, String)>> {
    let mut all = BTreeMap::new();
    for name in HEALTHY.iter().chain([&FAULTY]) {
        let page = JobPage {
            offset: 0,
            limit: 100_000,
        };
        let (jobs, total) = store.list_jobs(name, page).await.unwrap();
        assert_eq!(jobs.len() as u64, total, "{name}");
        let mut rows: Vec<(String, String)> = jobs
            .iter()
            .map(|j| (j.job.id.as_str().to_owned(), format!("{:?}", j.job.state)))
            .collect();
        rows.sort();
        all.insert((*name).to_owned(), rows);
    }
    all
}

fn badge_of(fleet: &Html, name: &str) -> String {
    text_of(
        fleet,
        &format!("tr[data-appliance=\"{name}\"] .c-status .badge"),
    )
}

/// The whitespace-normalised text of the first element matching `css`.
fn text_of(doc: &Html, css: &str) -> String {
    let selector = Selector::parse(css).unwrap();
    let element = doc
        .select(&selector)
        .next()
        .unwrap_or_else(|| panic!("nothing matches {css}"));
    let text: Vec<&str> = element.text().collect();
    text.join(" ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

// ---------------------------------------------------------------------------------------
// Setting up: simulator, certificates, configuration, dashboard.

async fn start(trigger: &Trigger) -> Fixture {
    // Certificate kinds serve the faulty appliance over HTTPS on its own listener, with a
    // good certificate until the trouble goes in.
    let faulty = SimAppliance::new(FAULTY, "8.0.2.00100").history_days(20);
    let faulty = match trigger {
        Trigger::Certificate(_) => faulty.tls(SimTls::Valid),
        Trigger::Fault(_) => faulty,
    };
    let sim = SimServer::start(vec![
        SimAppliance::new(HEALTHY[0], "8.0.3.00400").history_days(20),
        SimAppliance::new(HEALTHY[1], "7.0.3.01700").history_days(20),
        SimAppliance::new(HEALTHY[2], "6.7.0.44000").history_days(20),
        faulty,
    ])
    .await;
    let loopback = std::net::Ipv4Addr::LOCALHOST.into();
    let tls = sim.simulator.serve_tls_appliances(loopback).await.unwrap();
    let dir = tempfile::tempdir().unwrap();

    let (faulty_url, ca_line) = match tls.url(FAULTY) {
        Some(url) => {
            let ca_path = dir.path().join("ca.pem");
            std::fs::write(&ca_path, tls.ca_pem()).unwrap();
            let line = format!("ca_file = {:?}", ca_path.display().to_string());
            (url, line)
        }
        None => (format!("{}/{FAULTY}", sim.base), String::new()),
    };
    let mut urls: Vec<(String, String)> = HEALTHY
        .iter()
        .map(|name| (name.to_string(), format!("{}/{name}", sim.base)))
        .collect();
    urls.push((FAULTY.to_owned(), faulty_url));

    let app = start_dashboard(&dir, &urls, &ca_line).await;
    for name in HEALTHY.iter().chain([&FAULTY]) {
        let polls = app.store.recent_polls(name, 1).await.unwrap();
        assert_eq!(polls[0].outcome, PollOutcome::Ok, "{name}: {polls:?}");
    }

    Fixture {
        sim: Some(sim),
        _tls: Some(tls),
        _simulate: None,
        app,
        since: Utc::now(),
        _dir: dir,
    }
}

/// A dashboard polling each (name, base URL) into a SQLite file in `dir`, after its first
/// poll round. `faulty_extra` is added to the faulty appliance's entry.
async fn start_dashboard(
    dir: &TempDir,
    urls: &[(String, String)],
    faulty_extra: &str,
) -> RunningApp {
    let mut text = format!(
        "[database]\nurl = {:?}\n",
        format!("sqlite://{}", dir.path().join("vbdash.db").display())
    );
    for (name, url) in urls {
        let extra = if name == FAULTY { faulty_extra } else { "" };
        text += &appliance_toml(name, url, extra);
    }

    let env = vec![(PASSWORD_VARIABLE.to_owned(), PASSWORD.to_owned())];
    let mut config = Config::from_toml(&text, &dir.path().join("vbdash.toml"), &env).unwrap();
    // Below what a configuration file may say, so that a test takes seconds.
    config.poll.interval = Duration::from_millis(400);
    config.poll.running_interval = Duration::from_millis(400);
    config.poll.max_backoff = Duration::from_millis(800);
    config.poll.timeout = TIMEOUT;
    config.poll.concurrency = 8;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    app::start(&config, listener, FirstPoll::BeforeServing)
        .await
        .unwrap()
}

fn appliance_toml(name: &str, url: &str, extra: &str) -> String {
    format!(
        "\n[[appliance]]\nname = \"{name}\"\nurl = \"{url}\"\nusername = \"{USER}\"\n\
         password_env = \"{PASSWORD_VARIABLE}\"\n{extra}\n"
    )
}

/// Runs `vbdash simulate` on a free loopback port and reads the (name, base URL) of each
/// appliance it prints. The process ends when the handle is dropped.
async fn start_simulate(
    config: &std::path::Path,
) -> (tokio::process::Child, Vec<(String, String)>) {
    use tokio::io::AsyncBufReadExt;

    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_vbdash"))
        .arg("simulate")
        .arg("--config")
        .arg(config)
        .args(["--listen", "127.0.0.1:0"])
        .env("VBDASH_LOG", "warn")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = tokio::io::BufReader::new(stdout).lines();

    let mut urls = Vec::new();
    let read = async {
        while urls.len() < 4 {
            let line = lines
                .next_line()
                .await
                .unwrap()
                .expect("vbdash simulate ended");
            if let Some(rest) = line.strip_prefix("simulated appliance ")
                && let Some((name, url)) = rest.split_once(": ")
            {
                urls.push((name.to_owned(), url.to_owned()));
            }
        }
    };
    tokio::time::timeout(PATIENCE, read).await.unwrap();
    (child, urls)
}
