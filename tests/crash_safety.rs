//! Crash safety: the real `vbdash serve` polls a simulated fleet onto one SQLite file and
//! is killed with SIGKILL at varied moments, again and again, restarting on the same file
//! each time. Each restart brings one more appliance with a long history to write, and
//! new jobs on a few others, so that every run has rows in flight when it dies.
//!
//! After every kill the file must pass SQLite's integrity check, keep every job it held
//! before, hold each job once, and hold the whole history of any appliance with a
//! committed poll. At the end the server must start and stop cleanly.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{PASSWORD, SimServer, USER};
use sqlx::Connection;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use vbdash::simulator::SimAppliance;

const APPLIANCES: usize = 20;
/// Appliances in the first run; each later run adds one, with its history to write.
const FIRST_RUN: usize = 4;
/// Appliances with a job running, polled every second.
const RUNNING: usize = 6;
const HISTORY_DAYS: u32 = 120;
const KILLS: usize = 16;
const PASSWORD_VARIABLE: &str = "CRASH_SAFETY_PASSWORD";
/// A bound on waiting for the server, far above what it needs.
const PATIENCE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hard_kills_lose_and_double_nothing() {
    let names: Vec<String> = (0..APPLIANCES).map(|i| format!("vcsa-{i:02}")).collect();
    let sim = SimServer::start(fleet(&names)).await;
    let history: BTreeMap<String, usize> = names
        .iter()
        .map(|n| (n.clone(), sim.simulator.job_count(n)))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("vbdash.db");

    let mut seen: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for round in 0..KILLS {
        // New jobs on a few appliances each round, so every run has fresh rows to write.
        for name in names.iter().skip(round % 5).step_by(5).take(4) {
            sim.simulator.finish_running_job(name, round % 2 == 0);
            sim.simulator.start_job(name, "crash safety");
        }

        let polled = &names[..(FIRST_RUN + round).min(APPLIANCES)];
        let (config, addr) = write_config(dir.path(), &database, &sim.base, polled);
        let mut server = spawn_server(&config);
        // Some kills land while it starts (migrations, first writes), most while it polls.
        if round % 4 != 0 {
            wait_until_serving(&mut server, &addr).await;
        }
        tokio::time::sleep(kill_delay(round)).await;
        server.kill().unwrap();
        server.wait().unwrap();

        let now = read_database(&database).await;
        for (name, ids) in &seen {
            let kept = now.jobs.get(name).cloned().unwrap_or_default();
            let lost: Vec<&String> = ids.difference(&kept).collect();
            assert!(lost.is_empty(), "round {round}: {name} lost {lost:?}");
        }
        for name in &now.polled_ok {
            let stored = now.jobs.get(name).map_or(0, BTreeSet::len);
            assert!(
                stored >= history[name],
                "round {round}: {name} has a committed poll but {stored} of {} jobs",
                history[name]
            );
        }
        seen = now.jobs;
    }

    let stored: usize = seen.values().map(BTreeSet::len).sum();
    assert!(
        stored > APPLIANCES * 100,
        "heavy writes happened: {stored} jobs"
    );

    let (config, addr) = write_config(dir.path(), &database, &sim.base, &names);
    let mut server = spawn_server(&config);
    wait_until_serving(&mut server, &addr).await;
    wait_until_ready(&addr).await;
    let fleet_page = reqwest::get(format!("http://{addr}/")).await.unwrap();
    assert_eq!(fleet_page.status().as_u16(), 200);
    stop_gently(&mut server).await;
    read_database(&database).await;
}

/// What the database holds after a kill.
struct Snapshot {
    /// Job ids per appliance.
    jobs: BTreeMap<String, BTreeSet<String>>,
    /// Appliances with at least one successful poll stored.
    polled_ok: Vec<String>,
}

/// Opens the file as a restarted server would, checks its integrity and that no job is
/// stored twice, and reads what it holds. A file killed before its tables exist is empty.
async fn read_database(path: &Path) -> Snapshot {
    let mut snapshot = Snapshot {
        jobs: BTreeMap::new(),
        polled_ok: Vec::new(),
    };
    if !path.exists() {
        return snapshot;
    }
    let options = SqliteConnectOptions::new().filename(path);
    let mut db = SqliteConnection::connect_with(&options).await.unwrap();

    let integrity: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(&mut db)
        .await
        .unwrap();
    assert_eq!(integrity, ["ok"]);

    let tables: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('jobs', 'polls')",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    if tables < 2 {
        db.close().await.unwrap();
        return snapshot;
    }

    let doubled: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT 1 FROM jobs GROUP BY appliance_id, job_id \
         HAVING COUNT(*) > 1)",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(doubled, 0, "a job is stored twice");

    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT a.name, j.job_id FROM jobs AS j JOIN appliances AS a ON a.id = j.appliance_id",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();
    for (name, job_id) in rows {
        snapshot.jobs.entry(name).or_default().insert(job_id);
    }
    snapshot.polled_ok = sqlx::query_scalar(
        "SELECT DISTINCT a.name FROM polls AS p JOIN appliances AS a ON a.id = p.appliance_id \
         WHERE p.outcome = 'ok'",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();

    db.close().await.unwrap();
    snapshot
}

/// Long histories, so that first polls write thousands of rows, and running jobs, so
/// that some appliances are polled every second.
fn fleet(names: &[String]) -> Vec<SimAppliance> {
    const VERSIONS: [&str; 3] = ["8.0.3.00400", "7.0.3.01700", "6.7.0.44000"];
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            SimAppliance::new(name, VERSIONS[i % VERSIONS.len()])
                .history_days(HISTORY_DAYS)
                .seed(i as u64)
                .running_job(i < RUNNING)
                .job_minutes(600)
        })
        .collect()
}

/// Kill moments spread from at once to a few poll rounds in.
fn kill_delay(round: usize) -> Duration {
    Duration::from_millis((round as u64 * 1_237) % 3_300)
}

/// Writes a configuration for a fresh loopback port; returns its path and the address.
fn write_config(
    dir: &Path,
    database: &Path,
    sim_base: &str,
    names: &[String],
) -> (PathBuf, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut text = format!(
        "[server]\nlisten = \"{addr}\"\n\n[database]\nurl = {:?}\n\n\
         [poll]\ninterval = \"5s\"\nrunning_interval = \"1s\"\ntimeout = \"10s\"\n\
         concurrency = 16\nmax_backoff = \"5s\"\n",
        format!("sqlite://{}", database.display())
    );
    for name in names {
        text += &format!(
            "\n[[appliance]]\nname = \"{name}\"\nurl = \"{sim_base}/{name}\"\n\
             username = \"{USER}\"\npassword_env = \"{PASSWORD_VARIABLE}\"\n"
        );
    }
    let path = dir.join("vbdash.toml");
    std::fs::write(&path, text).unwrap();
    (path, addr)
}

fn spawn_server(config: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_vbdash"))
        .arg("serve")
        .arg("--config")
        .arg(config)
        .env(PASSWORD_VARIABLE, PASSWORD)
        .env("VBDASH_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until `/healthz` answers; fails if the server exits first.
async fn wait_until_serving(server: &mut Child, addr: &str) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Ok(answer) = reqwest::get(format!("http://{addr}/healthz")).await
            && answer.status().is_success()
        {
            return;
        }
        let exited = server.try_wait().unwrap();
        assert!(exited.is_none(), "the server exited: {exited:?}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server never answered"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `/readyz` says the database answers and the poller runs.
async fn wait_until_ready(addr: &str) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let answer = reqwest::get(format!("http://{addr}/readyz")).await.unwrap();
        let status = answer.status();
        let body = answer.text().await.unwrap();
        if status.is_success() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never ready: {body}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// SIGTERM, then a clean exit within the bound.
async fn stop_gently(server: &mut Child) {
    let pid = i32::try_from(server.id()).unwrap();
    // SAFETY: `kill` only sends a signal to our own child, which has not been reaped.
    let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
    assert_eq!(sent, 0);

    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(status) = server.try_wait().unwrap() {
            assert!(status.success(), "the server stopped with {status}");
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the server did not stop"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
