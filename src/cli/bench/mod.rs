//! `vbdash bench`: starts a simulated fleet and a dashboard as child processes, seeds
//! years of history through the store, measures polling, pages, memory and storage in one
//! run, optionally soaks the dashboard under viewers, and writes `BENCHMARKS.md`.

mod fleet;
mod load;
mod procfs;
mod report;
mod seed;
mod soak;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use sqlx::Connection;

use fleet::{FleetShape, Scratch};

/// Options of `vbdash bench`.
#[derive(Debug, Args)]
pub struct BenchCommand {
    /// A small run (50 appliances, 14 days) that checks the benchmark itself.
    #[arg(long)]
    pub quick: bool,

    /// Also soak a fleet of 1,000 appliances (50 with --quick) under 50 viewers for this
    /// long, such as "5m".
    #[arg(long, value_parser = humantime::parse_duration)]
    pub soak: Option<Duration>,

    /// Appliances of the measured fleet, instead of the size's own.
    #[arg(long)]
    pub appliances: Option<usize>,

    /// Days of history of the measured fleet, instead of the size's own.
    #[arg(long)]
    pub days: Option<u32>,

    /// Concurrent clients for the page measurements.
    #[arg(long, default_value_t = 4)]
    pub clients: usize,

    /// Where the report goes [default: BENCHMARKS.md, or bench-quick.md with --quick, so
    /// that a check of the benchmark never replaces the measured report]. Text after the
    /// notes marker of an existing report is kept.
    #[arg(long)]
    pub output: Option<PathBuf>,

    /// What else the machine was doing, in words, for the report.
    #[arg(long, default_value = "")]
    pub machine_note: String,
}

/// Sizes of one run.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    fleet: FleetShape,
    /// Days of history in all, the listed ones included.
    history_days: u32,
    requests_per_client: usize,
    poll_interval: &'static str,
    trend_requests: usize,
    soak_fleet: FleetShape,
    soak_history_days: u32,
    soak_viewers: usize,
}

impl Sizes {
    fn of(command: &BenchCommand) -> Sizes {
        let mut sizes = Sizes::preset(command.quick);
        if let Some(appliances) = command.appliances {
            sizes.fleet.appliances = appliances.max(1);
        }
        if let Some(days) = command.days {
            sizes.history_days = days.max(sizes.fleet.listed_days + 2);
        }
        sizes
    }

    fn preset(quick: bool) -> Sizes {
        if quick {
            Sizes {
                fleet: FleetShape {
                    appliances: 50,
                    listed_days: 3,
                },
                history_days: 14,
                requests_per_client: 20,
                poll_interval: QUICK_POLL_INTERVAL,
                trend_requests: 3,
                soak_fleet: FleetShape {
                    appliances: 50,
                    listed_days: 3,
                },
                soak_history_days: 14,
                soak_viewers: 10,
            }
        } else {
            Sizes {
                fleet: FleetShape {
                    appliances: 5_000,
                    listed_days: 14,
                },
                history_days: 730,
                requests_per_client: 200,
                poll_interval: POLL_INTERVAL,
                trend_requests: 10,
                soak_fleet: FleetShape {
                    appliances: 1_000,
                    listed_days: 14,
                },
                soak_history_days: 90,
                soak_viewers: 50,
            }
        }
    }
}

/// Poll interval of the dashboard under test. Its first polls are spread over a tenth
/// of it, so it bounds how soon a first round can end.
const POLL_INTERVAL: &str = "2m";

/// The same for the quick run, whose few appliances need no spreading.
const QUICK_POLL_INTERVAL: &str = "30s";

/// Runs the benchmark and writes the report.
pub async fn run(command: BenchCommand) -> anyhow::Result<()> {
    let sizes = Sizes::of(&command);
    let machine = procfs::machine_facts();
    let started = chrono::Utc::now();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .pool_max_idle_per_host(256)
        .build()?;

    let main = measure_fleet(&sizes, command.clients, &http).await?;
    let soak = match command.soak {
        Some(length) => Some(soak::run(&sizes, length, &http).await?),
        None => None,
    };

    let context = report::RunContext {
        command: reproduce_command(&command),
        started,
        release: !cfg!(debug_assertions),
        machine,
        load_after: procfs::load_average(),
        machine_note: command.machine_note.clone(),
        clients: command.clients,
    };
    let output = command.output.clone().unwrap_or_else(|| {
        PathBuf::from(if command.quick {
            "bench-quick.md"
        } else {
            "BENCHMARKS.md"
        })
    });
    let text = report::render(&context, &main, soak.as_ref(), &previous_notes(&output));
    std::fs::write(&output, text).with_context(|| format!("cannot write {}", output.display()))?;
    report::print_summary(&main, soak.as_ref(), command.clients);
    println!("report written to {}", output.display());
    Ok(())
}

/// Everything measured on the large fleet.
#[derive(Debug, Clone, Default)]
pub struct FleetFigures {
    pub appliances: usize,
    pub history_days: u32,
    pub seeded_jobs: u64,
    pub seed_seconds: f64,
    pub stored_jobs: u64,
    pub used_bytes: u64,
    pub round_seconds: f64,
    pub round_from_start_seconds: f64,
    pub polls_ok: u64,
    pub cpu_seconds_round: f64,
    pub logins: u64,
    pub max_logins: u64,
    pub simulator_requests: u64,
    pub fleet_page: load::Latencies,
    pub fragment: load::Latencies,
    pub static_page: load::Latencies,
    pub trends_365: load::Latencies,
    pub trends_30: load::Latencies,
    pub rss_peak: u64,
    pub rss_steady: u64,
    pub rss_after_round: u64,
}

async fn measure_fleet(
    sizes: &Sizes,
    clients: usize,
    http: &reqwest::Client,
) -> anyhow::Result<FleetFigures> {
    let scratch = Scratch::new()?;
    let shape = sizes.fleet;
    let mut figures = FleetFigures {
        appliances: shape.appliances,
        history_days: sizes.history_days,
        ..FleetFigures::default()
    };

    println!(
        "starting the simulator with {} appliances",
        shape.appliances
    );
    let mut simulator = fleet::start_simulator(&scratch.path, shape, http).await?;

    println!("seeding {} days of history", sizes.history_days);
    let database = scratch.path.join("bench.db");
    let seeded = seed::seed(&database, shape, sizes.history_days).await?;
    figures.seeded_jobs = seeded.jobs;
    figures.seed_seconds = seeded.seconds;

    println!("starting the dashboard");
    let mut dashboard = fleet::start_dashboard(
        &scratch.path,
        shape,
        simulator.addr,
        &database,
        sizes.poll_interval,
        http,
    )
    .await?;
    let serve_started_ms = chrono::Utc::now().timestamp_millis();
    let serve_clock = Instant::now();

    println!("waiting for the first full poll round");
    let round = wait_for_round(
        &database,
        shape.appliances,
        serve_started_ms,
        &mut dashboard,
    )
    .await?;
    figures.round_from_start_seconds = serve_clock.elapsed().as_secs_f64();
    figures.cpu_seconds_round = procfs::cpu_seconds(dashboard.pid()).unwrap_or(0.0);
    figures.rss_after_round = procfs::memory(dashboard.pid()).map_or(0, |m| m.resident);
    figures.round_seconds = round.seconds;
    figures.polls_ok = round.ok;
    let stats = fleet::simulator_stats(http, simulator.addr).await?;
    figures.logins = stats.logins;
    figures.max_logins = stats.max_logins;
    figures.simulator_requests = stats.requests;
    simulator.check_alive("simulator")?;

    let base = format!("http://{}", dashboard.addr);
    let per_client = sizes.requests_per_client;
    println!("measuring the fleet page, its fragment and the trends page");
    figures.fleet_page = load::measure(http, &format!("{base}/"), clients, per_client).await?;
    figures.fragment =
        load::measure(http, &format!("{base}/fleet/rows"), clients, per_client).await?;
    let trends = sizes.trend_requests;
    figures.trends_365 = load::measure(http, &format!("{base}/trends?days=365"), 1, trends).await?;
    figures.trends_30 = load::measure(http, &format!("{base}/trends?days=30"), 1, trends).await?;

    println!("measuring a static body of the fleet page's size");
    let server = load::StaticServer::start(figures.fleet_page.body_bytes)?;
    let static_url = format!("http://{}/", server.addr);
    figures.static_page = load::measure(http, &static_url, clients, per_client).await?;
    drop(server);

    // Steady: the dashboard idle between polls, after the page load has passed.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let memory = procfs::memory(dashboard.pid()).unwrap_or_default();
    figures.rss_steady = memory.resident;
    figures.rss_peak = memory.peak;
    dashboard.check_alive("dashboard")?;
    drop(dashboard);
    drop(simulator);

    figures.stored_jobs = count_jobs(&database).await?;
    figures.used_bytes = seed::used_bytes(&database).await?.bytes;
    Ok(figures)
}

/// The first poll of every appliance since the dashboard started.
struct Round {
    /// From the first poll's start to the last poll's end.
    seconds: f64,
    ok: u64,
}

async fn wait_for_round(
    database: &Path,
    appliances: usize,
    since_ms: i64,
    dashboard: &mut fleet::ChildProcess,
) -> anyhow::Result<Round> {
    let url = format!("sqlite://{}?mode=ro", database.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await?;
    let deadline = Instant::now() + Duration::from_secs(900);
    while Instant::now() < deadline {
        dashboard.check_alive("dashboard")?;
        let (polled, first, last, ok): (i64, Option<i64>, Option<i64>, Option<i64>) =
            sqlx::query_as(
                "SELECT COUNT(*), MIN(last_poll_ms), MAX(last_poll_ms + last_poll_duration_ms),
                        SUM(last_poll_outcome = 'ok')
                 FROM appliances WHERE configured = 1 AND last_poll_ms >= ?1",
            )
            .bind(since_ms)
            .fetch_one(&mut conn)
            .await?;
        if usize::try_from(polled).unwrap_or(0) >= appliances {
            conn.close().await?;
            let span_ms = last.unwrap_or(0) - first.unwrap_or(0);
            return Ok(Round {
                seconds: span_ms as f64 / 1_000.0,
                ok: u64::try_from(ok.unwrap_or(0)).unwrap_or(0),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    bail!("the dashboard did not poll every appliance within 15 minutes")
}

async fn count_jobs(database: &Path) -> anyhow::Result<u64> {
    let url = format!("sqlite://{}", database.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await?;
    let jobs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM jobs")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(u64::try_from(jobs).unwrap_or(0))
}

/// The command line that repeats this run.
fn reproduce_command(command: &BenchCommand) -> String {
    let mut line = String::from("cargo run --release -- bench");
    if command.quick {
        line.push_str(" --quick");
    }
    if let Some(soak) = command.soak {
        line.push_str(&format!(" --soak {}", humantime::format_duration(soak)));
    }
    if let Some(appliances) = command.appliances {
        line.push_str(&format!(" --appliances {appliances}"));
    }
    if let Some(days) = command.days {
        line.push_str(&format!(" --days {days}"));
    }
    if command.clients != 4 {
        line.push_str(&format!(" --clients {}", command.clients));
    }
    line
}

/// Hand-written notes below the marker of an earlier report, kept across runs.
fn previous_notes(output: &Path) -> String {
    std::fs::read_to_string(output)
        .ok()
        .and_then(|text| {
            text.find(report::NOTES_MARKER)
                .map(|at| text[at + report::NOTES_MARKER.len()..].to_owned())
        })
        .unwrap_or_default()
}
