//! The soak: a dashboard polling its fleet while many viewers refresh the fleet fragment,
//! with memory sampled all along and latency cut into periods.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

use super::Sizes;
use super::fleet::{self, Scratch};
use super::{load, procfs, seed};

/// Seconds between a viewer's refreshes.
const REFRESH_EVERY: Duration = Duration::from_secs(1);

/// Poll interval during the soak: short, so polls keep landing while viewers read.
const SOAK_POLL_INTERVAL: &str = "1m";

/// One period of the soak.
#[derive(Debug, Clone)]
pub struct Period {
    /// Seconds from the start of the soak to the end of the period.
    pub until_secs: u64,
    pub requests: usize,
    pub errors: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Resident memory of the dashboard at the end of the period.
    pub rss: u64,
}

/// What the soak saw.
#[derive(Debug, Clone)]
pub struct SoakFigures {
    pub appliances: usize,
    pub viewers: usize,
    pub history_days: u32,
    pub length: Duration,
    pub periods: Vec<Period>,
    pub rss_peak: u64,
}

impl SoakFigures {
    /// Growth of resident memory from the end of the first period to the end, in percent.
    pub fn rss_growth_percent(&self) -> f64 {
        match (self.periods.first(), self.periods.last()) {
            (Some(first), Some(last)) if first.rss > 0 => {
                (last.rss as f64 - first.rss as f64) * 100.0 / first.rss as f64
            }
            _ => 0.0,
        }
    }
}

/// A request's time since the soak began and its latency; `None` latency for an error.
type Sample = (Duration, Option<f64>);

/// Runs the soak for `length`.
pub async fn run(
    sizes: &Sizes,
    length: Duration,
    http: &reqwest::Client,
) -> anyhow::Result<SoakFigures> {
    let scratch = Scratch::new()?;
    let shape = sizes.soak_fleet;
    println!(
        "soak: {} appliances, {} viewers",
        shape.appliances, sizes.soak_viewers
    );
    let simulator = fleet::start_simulator(&scratch.path, shape, http).await?;
    let database = scratch.path.join("soak.db");
    seed::seed(&database, shape, sizes.soak_history_days).await?;
    let mut dashboard = fleet::start_dashboard(
        &scratch.path,
        shape,
        simulator.addr,
        &database,
        SOAK_POLL_INTERVAL,
        http,
    )
    .await?;
    let url = format!("http://{}/fleet/rows", dashboard.addr);

    let began = Instant::now();
    let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let mut viewers = tokio::task::JoinSet::new();
    for viewer in 0..sizes.soak_viewers {
        let http = http.clone();
        let url = url.clone();
        let samples = Arc::clone(&samples);
        viewers.spawn(async move {
            // Viewers open the page at different moments, as people do.
            let stagger = REFRESH_EVERY.as_millis() as u64 * viewer as u64;
            tokio::time::sleep(Duration::from_millis(stagger / 50)).await;
            while began.elapsed() < length {
                let clock = Instant::now();
                let latency = load::fetch(&http, &url)
                    .await
                    .ok()
                    .map(|_| clock.elapsed().as_secs_f64() * 1_000.0);
                samples.lock().await.push((began.elapsed(), latency));
                tokio::time::sleep(REFRESH_EVERY).await;
            }
        });
    }

    let period = period_length(length);
    let mut period_rss = Vec::new();
    let mut next_period = period;
    while began.elapsed() < length {
        tokio::time::sleep(Duration::from_secs(1).min(period)).await;
        dashboard.check_alive("dashboard")?;
        let rss = procfs::memory(dashboard.pid()).map_or(0, |m| m.resident);
        if began.elapsed() >= next_period {
            period_rss.push(rss);
            next_period += period;
        }
    }
    while viewers.join_next().await.is_some() {}
    let rss_peak = procfs::memory(dashboard.pid()).map_or(0, |m| m.peak);
    if period_rss.len() < periods_in(length, period) {
        period_rss.push(procfs::memory(dashboard.pid()).map_or(0, |m| m.resident));
    }
    drop(dashboard);
    drop(simulator);

    let samples = samples.lock().await.clone();
    Ok(SoakFigures {
        appliances: shape.appliances,
        viewers: sizes.soak_viewers,
        history_days: sizes.soak_history_days,
        length,
        periods: cut_into_periods(&samples, period, length, &period_rss),
        rss_peak,
    })
}

/// A minute, or a quarter of a soak shorter than two minutes.
fn period_length(length: Duration) -> Duration {
    if length >= Duration::from_secs(120) {
        Duration::from_secs(60)
    } else {
        (length / 4).max(Duration::from_secs(1))
    }
}

fn periods_in(length: Duration, period: Duration) -> usize {
    length.as_millis().div_ceil(period.as_millis().max(1)) as usize
}

fn cut_into_periods(
    samples: &[Sample],
    period: Duration,
    length: Duration,
    period_rss: &[u64],
) -> Vec<Period> {
    (0..periods_in(length, period))
        .map(|index| {
            let from = period * index as u32;
            let until = (from + period).min(length);
            let in_period: Vec<&Sample> = samples
                .iter()
                .filter(|(at, _)| {
                    *at >= from && (*at < until || index + 1 == periods_in(length, period))
                })
                .collect();
            let mut millis: Vec<f64> = in_period.iter().filter_map(|(_, l)| *l).collect();
            millis.sort_by(f64::total_cmp);
            let latencies = load::Latencies {
                millis,
                ..load::Latencies::default()
            };
            Period {
                until_secs: until.as_secs(),
                requests: in_period.len(),
                errors: in_period.iter().filter(|(_, l)| l.is_none()).count(),
                p50_ms: latencies.percentile(50.0),
                p99_ms: latencies.percentile(99.0),
                max_ms: latencies.millis.last().copied().unwrap_or(0.0),
                rss: period_rss.get(index).copied().unwrap_or(0),
            }
        })
        .collect()
}
