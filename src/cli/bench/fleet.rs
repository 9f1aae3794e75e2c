//! The fleet under test: the simulator and the dashboard as child processes, each with a
//! configuration generated into the scratch folder, so each one's memory and CPU time are
//! its own.

use std::fmt::Write as _;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use vbdash::simulator::{STATS_PATH, SimStats};

/// Password every simulated appliance accepts; it never leaves the scratch folder.
const SIM_PASSWORD: &str = "Bench-Passw0rd!";

/// Versions handed out in turn, both API generations among them.
const VERSIONS: [&str; 4] = ["8.0.3.00400", "8.0.2.00100", "7.0.3.01700", "6.7.0.44000"];

/// Site tags handed out in turn, so tag filters have something to filter.
const SITES: [&str; 5] = ["ams", "fra", "lon", "par", "mad"];

/// How a fleet is shaped.
#[derive(Debug, Clone, Copy)]
pub struct FleetShape {
    pub appliances: usize,
    /// Days of history the simulated appliances still list.
    pub listed_days: u32,
}

/// Name of appliance `index` (from 0).
pub fn appliance_name(index: usize) -> String {
    format!("vcsa-{:05}", index + 1)
}

/// Site tag of appliance `index`.
pub fn appliance_tag(index: usize) -> &'static str {
    SITES[index % SITES.len()]
}

/// Hour and minute (UTC) of appliance `index`'s nightly schedule.
pub fn schedule_of(index: usize) -> (u32, u32) {
    ((index % 6) as u32, (index % 4) as u32 * 15)
}

/// Version of appliance `index`.
pub fn version_of(index: usize) -> &'static str {
    VERSIONS[index % VERSIONS.len()]
}

/// True when appliance `index` fails its nightly runs (one in twenty).
pub fn fails_nightly(index: usize) -> bool {
    index.is_multiple_of(20)
}

/// A child process that is killed when dropped, so an early error leaves nothing behind.
pub struct ChildProcess {
    child: Child,
    pub addr: SocketAddr,
}

impl ChildProcess {
    /// The process id, for `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails when the process has already exited.
    pub fn check_alive(&mut self, what: &str) -> anyhow::Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("the {what} exited early ({status}); its log is in the scratch folder");
        }
        Ok(())
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free loopback port, found by binding to port 0 and letting it go again.
fn free_address() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?)
}

/// Starts `vbdash simulate` for the fleet and waits until it answers.
pub async fn start_simulator(
    scratch: &Path,
    shape: FleetShape,
    http: &reqwest::Client,
) -> anyhow::Result<ChildProcess> {
    let config = scratch.join("sim.toml");
    std::fs::write(&config, simulator_toml(shape)).context("writing the simulator config")?;
    let addr = free_address()?;
    let child = spawn(
        &[
            "simulate",
            "--config",
            &path_text(&config),
            "--listen",
            &addr.to_string(),
        ],
        &scratch.join("simulator.log"),
        &[("VBDASH_LOG", "warn")],
    )?;
    let mut process = ChildProcess { child, addr };
    wait_until_ok(
        &mut process,
        "simulator",
        http,
        &format!("http://{addr}{STATS_PATH}"),
    )
    .await?;
    Ok(process)
}

/// Starts `vbdash serve` on `database` and waits until it answers `/healthz`.
pub async fn start_dashboard(
    scratch: &Path,
    shape: FleetShape,
    simulator: SocketAddr,
    database: &Path,
    poll_interval: &str,
    http: &reqwest::Client,
) -> anyhow::Result<ChildProcess> {
    std::fs::write(scratch.join("sim-password"), SIM_PASSWORD)
        .context("writing the password file")?;
    let config = scratch.join("vbdash.toml");
    let addr = free_address()?;
    let text = dashboard_toml(shape, simulator, addr, database, poll_interval);
    std::fs::write(&config, text).context("writing the dashboard config")?;
    let child = spawn(
        &["serve", "--config", &path_text(&config)],
        &scratch.join("dashboard.log"),
        &[("VBDASH_LOG", "warn")],
    )?;
    let mut process = ChildProcess { child, addr };
    wait_until_ok(
        &mut process,
        "dashboard",
        http,
        &format!("http://{addr}/healthz"),
    )
    .await?;
    Ok(process)
}

/// The simulator's fleet totals.
pub async fn simulator_stats(
    http: &reqwest::Client,
    simulator: SocketAddr,
) -> anyhow::Result<SimStats> {
    let url = format!("http://{simulator}{STATS_PATH}");
    let stats = http
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(stats)
}

fn spawn(args: &[&str], log: &Path, env: &[(&str, &str)]) -> anyhow::Result<Child> {
    let exe = std::env::current_exe().context("finding the vbdash binary")?;
    let log = std::fs::File::create(log).context("creating a log file")?;
    let mut command = Command::new(exe);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .env_remove("VBDASH_DATABASE_URL")
        .env_remove("VBDASH_SERVER_LISTEN")
        .env_remove("VBDASH_LOG_FORMAT");
    for (key, value) in env {
        command.env(key, value);
    }
    command.spawn().context("starting a vbdash child process")
}

async fn wait_until_ok(
    process: &mut ChildProcess,
    what: &str,
    http: &reqwest::Client,
    url: &str,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        process.check_alive(what)?;
        if let Ok(answer) = http.get(url).send().await
            && answer.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("the {what} did not answer within two minutes")
}

fn path_text(path: &Path) -> String {
    path.display().to_string()
}

/// The simulator's configuration: every appliance with a nightly schedule and the days of
/// history it still lists.
fn simulator_toml(shape: FleetShape) -> String {
    let mut text = String::with_capacity(shape.appliances * 200);
    for index in 0..shape.appliances {
        let (hour, minute) = schedule_of(index);
        let _ = write!(
            text,
            "[[appliances]]\nname = \"{}\"\nversion = \"{}\"\npassword = \"{SIM_PASSWORD}\"\n\
             history_days = {}\nseed = {index}\n",
            appliance_name(index),
            version_of(index),
            shape.listed_days,
        );
        if fails_nightly(index) {
            text.push_str("profile = \"fails_nightly\"\n");
        }
        let _ = write!(
            text,
            "[appliances.schedule]\nhour = {hour}\nminute = {minute}\n\n"
        );
    }
    text
}

/// The dashboard's configuration: sign-in off (it listens on loopback), the database
/// given, every appliance of the simulator.
fn dashboard_toml(
    shape: FleetShape,
    simulator: SocketAddr,
    listen: SocketAddr,
    database: &Path,
    poll_interval: &str,
) -> String {
    let mut text = String::with_capacity(shape.appliances * 200 + 400);
    let _ = write!(
        text,
        "[server]\nlisten = \"{listen}\"\n\n[auth]\nmode = \"none\"\n\n\
         [database]\nurl = \"sqlite://{}\"\n\n[poll]\ninterval = \"{poll_interval}\"\n\n",
        database.display()
    );
    for index in 0..shape.appliances {
        let name = appliance_name(index);
        let _ = write!(
            text,
            "[[appliance]]\nname = \"{name}\"\nurl = \"http://{simulator}/{name}\"\n\
             username = \"administrator@vsphere.local\"\npassword_file = \"sim-password\"\n\
             tags = [\"{}\"]\n\n",
            appliance_tag(index)
        );
    }
    text
}

/// A scratch folder removed when dropped.
pub struct Scratch {
    pub path: PathBuf,
}

impl Scratch {
    /// A new empty folder under the system's temporary folder.
    pub fn new() -> anyhow::Result<Scratch> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path =
            std::env::temp_dir().join(format!("vbdash-bench-{}-{stamp}", std::process::id()));
        std::fs::create_dir_all(&path).context("creating the scratch folder")?;
        Ok(Scratch { path })
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
