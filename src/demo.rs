//! `vbdash demo`: simulated appliances on 127.0.0.1 covering every status, polled through
//! the real client over HTTP into a real SQLite file, and the dashboard on top.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use chrono::{Timelike, Utc};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use url::Url;

use crate::app::{self, FirstPoll};
use crate::config::{
    ApplianceConfig, AuthConfig, Config, DatabaseConfig, PollConfig, RetentionConfig, ServerConfig,
    TlsSetting,
};
use crate::secret::Secret;
use crate::simulator::{Profile, SimAppliance, SimConfig, SimSchedule, Simulator};

const DEMO_USER: &str = "backup-reader@vsphere.local";
/// Password of every simulated demo appliance (tests search for it where it must not be).
pub const DEMO_PASSWORD: &str = "Demo-Passw0rd!";
/// Password of the demo's SFTP backup target.
pub const DEMO_TARGET_PASSWORD: &str = "Demo-Target-Passw0rd!";

/// How fast the demo moves; tests shorten every interval.
#[derive(Debug, Clone)]
pub struct DemoTuning {
    pub poll_interval: Duration,
    pub running_interval: Duration,
    pub refresh: Duration,
    /// Real minutes the running backup takes to finish.
    pub job_minutes: u32,
    pub history_days: u32,
}

impl Default for DemoTuning {
    fn default() -> Self {
        DemoTuning {
            poll_interval: Duration::from_secs(60),
            running_interval: Duration::from_secs(10),
            refresh: Duration::from_secs(5),
            job_minutes: 30,
            history_days: 90,
        }
    }
}

/// The simulated fleet and a configuration that points at it.
pub struct DemoFleet {
    pub simulator: Simulator,
    pub config: Config,
    pub simulator_addr: SocketAddr,
    server: JoinHandle<std::io::Result<()>>,
}

impl Drop for DemoFleet {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Starts the simulated appliances and builds the configuration for the dashboard.
pub async fn prepare(
    database: PathBuf,
    listen: SocketAddr,
    tuning: &DemoTuning,
) -> anyhow::Result<DemoFleet> {
    let simulator = Simulator::new(simulated_appliances(tuning));
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot start the simulator")?;
    let simulator_addr = listener.local_addr()?;
    let server = tokio::spawn(simulator.clone().serve(listener));

    let unreachable = closed_port().await?;
    let mut appliances: Vec<ApplianceConfig> = DEMO_APPLIANCES
        .iter()
        .map(|(name, tags)| appliance(name, &format!("http://{simulator_addr}/{name}"), tags))
        .collect::<anyhow::Result<_>>()?;
    appliances.push(appliance(
        "vcsa-dr-01",
        &format!("http://{unreachable}/vcsa-dr-01"),
        &["dr", "oslo"],
    )?);

    let config = Config {
        source: PathBuf::from("(demo)"),
        server: ServerConfig {
            listen,
            refresh: tuning.refresh,
            display_zone: chrono_tz::UTC,
            header_timeout: Duration::from_secs(15),
            max_connections: 1024,
        },
        database: DatabaseConfig {
            url: format!("sqlite://{}", database.display()),
        },
        poll: PollConfig {
            interval: tuning.poll_interval,
            running_interval: tuning.running_interval,
            timeout: Duration::from_secs(5),
            concurrency: 8,
            max_backoff: tuning.poll_interval * 4,
        },
        retention: RetentionConfig::default(),
        // Sign-in is off: the demo listens on loopback only, which `app::start` checks.
        auth: AuthConfig::default(),
        appliances,
        presets: demo_presets()?,
        actions: crate::config::ActionsConfig::default(),
        notify: crate::config::NotifyConfig::default(),
        heartbeat_ping: None,
        maintenance: demo_maintenance(),
    };
    Ok(DemoFleet {
        simulator,
        config,
        simulator_addr,
        server,
    })
}

/// Runs the demo until Ctrl-C.
pub async fn run(listen: SocketAddr, database: Option<PathBuf>) -> anyhow::Result<()> {
    run_with_webhook(listen, database, None).await
}

/// Runs the demo until Ctrl-C, announcing status changes to `webhook` when given.
pub async fn run_with_webhook(
    listen: SocketAddr,
    database: Option<PathBuf>,
    webhook: Option<Url>,
) -> anyhow::Result<()> {
    // The address first: if it is taken, say so before anything else starts.
    let listener = TcpListener::bind(listen).await.with_context(|| {
        format!("cannot listen on {listen}; pick another address with --listen 127.0.0.1:PORT")
    })?;
    let tempdir = tempfile_dir()?;
    let database = database.unwrap_or_else(|| tempdir.join("vbdash-demo.db"));
    let tuning = DemoTuning::default();

    println!("Starting simulated appliances and polling their history...");
    let mut fleet = prepare(database.clone(), listen, &tuning).await?;
    if let Some(url) = &webhook {
        fleet.config.notify = webhook_notifications(url);
        println!("Notifications go to the webhook given with --webhook.");
    }
    let app = app::start(&fleet.config, listener, FirstPoll::BeforeServing).await?;
    acknowledge_unreachable(&app.store).await?;

    println!(
        "Simulated appliances: http://{}/<name>",
        fleet.simulator_addr
    );
    println!("Database: {}", database.display());
    println!(
        "vbdash demo is ready: http://{}/  (Ctrl-C to stop)",
        app.addr
    );

    app::wait_for_signal().await;
    app.stop().await;
    let _ = std::fs::remove_dir_all(&tempdir);
    Ok(())
}

/// Notifications of every demo appliance to one generic webhook, quick to retry.
pub fn webhook_notifications(url: &Url) -> crate::config::NotifyConfig {
    use crate::config::{ChannelConfig, ChannelKind, NotifyConfig};

    NotifyConfig {
        channels: vec![ChannelConfig {
            name: "demo-webhook".to_owned(),
            kind: ChannelKind::Webhook {
                url: Secret::new(url.as_str()),
            },
            digest: None,
        }],
        default_channels: vec!["demo-webhook".to_owned()],
        group_window: Duration::from_secs(10),
        retry_delay: Duration::from_secs(5),
        max_attempts: 4,
        ..NotifyConfig::default()
    }
}

/// Name and tags of each simulated demo appliance (the unreachable one is added apart).
const DEMO_APPLIANCES: [(&str, &[&str]); 8] = [
    ("vcsa-ams-01", &["prod", "amsterdam"]),
    ("vcsa-lon-01", &["prod", "london", "legacy"]),
    ("vcsa-fra-01", &["prod", "frankfurt"]),
    ("vcsa-lab-01", &["lab"]),
    ("vcsa-test-01", &["test"]),
    ("vcsa-nyc-01", &["prod", "new-york"]),
    ("vcsa-par-01", &["prod", "paris"]),
    ("vcsa-sgp-01", &["prod", "singapore"]),
];

fn simulated_appliances(tuning: &DemoTuning) -> SimConfig {
    let days = tuning.history_days;
    let nfs = |host: &str| format!("nfs://{host}.example.test/export/vcsa");

    // Schedule times are set relative to the start of the demo, so that every status shows
    // whatever the time of day: runs due hours ago have ended, one due 20 minutes ago has
    // not started ("late"), and one due 5 hours ago never did ("missed").
    let now = Utc::now();
    let at = |ago: chrono::Duration, location: String| {
        let due = now - ago;
        SimSchedule {
            location,
            ..SimSchedule::daily(due.hour(), due.minute())
        }
    };
    // On the hour, as people set schedules; still at least `ago` in the past.
    let on_the_hour = |ago: chrono::Duration, location: String| {
        let due = now - ago;
        SimSchedule {
            location,
            ..SimSchedule::daily(due.hour(), 0)
        }
    };
    let hours = chrono::Duration::hours;

    let appliances = vec![
        demo("vcsa-ams-01", "8.0.3.00400", days, 1)
            .schedule(Some(on_the_hour(hours(6), nfs("nas-ams-01")))),
        demo("vcsa-lon-01", "6.7.0.44000", days, 2).schedule(Some(on_the_hour(
            hours(8),
            "sftp://backup-lon-01.example.test:22/srv/vcsa".into(),
        ))),
        demo("vcsa-fra-01", "7.0.3.01700", days, 3)
            .profile(Profile::FailsNightly)
            .schedule(Some(on_the_hour(hours(4), nfs("nas-fra-02")))),
        demo("vcsa-lab-01", "8.0.2.00100", days, 4).schedule(Some(SimSchedule {
            enable: false,
            retention: None,
            ..on_the_hour(hours(3), nfs("nas-lab-01"))
        })),
        demo("vcsa-test-01", "8.0.1.00000", days, 5).schedule(None),
        demo("vcsa-nyc-01", "8.0.3.00400", days, 6)
            .running_job(true)
            .job_minutes(tuning.job_minutes)
            .schedule(Some(on_the_hour(hours(10), nfs("nas-nyc-01")))),
        // Patched two days ago, and the schedule has not fired since.
        demo("vcsa-par-01", "8.0.3.00400", days, 7)
            .patched(2, "8.0.2.00100")
            .profile(Profile::MissesRuns { since_days: 3 })
            .schedule(Some(at(hours(5), nfs("nas-par-01")))),
        demo("vcsa-sgp-01", "8.0.2.00100", days, 8)
            .profile(Profile::MissesRuns { since_days: 1 })
            .schedule(Some(at(chrono::Duration::minutes(20), nfs("nas-sgp-01")))),
    ];
    SimConfig {
        appliances,
        listen: None,
    }
}

fn demo(name: &str, version: &str, days: u32, seed: u64) -> SimAppliance {
    SimAppliance::new(name, version)
        .credentials(DEMO_USER, DEMO_PASSWORD)
        .history_days(days)
        .seed(seed)
}

fn appliance(name: &str, url: &str, tags: &[&str]) -> anyhow::Result<ApplianceConfig> {
    Ok(ApplianceConfig {
        name: name.to_owned(),
        url: Url::parse(url)?,
        username: DEMO_USER.to_owned(),
        password: Secret::new(DEMO_PASSWORD),
        tls: TlsSetting::Verify,
        time_zone: chrono_tz::UTC,
        grace: Duration::from_secs(2 * 3600),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
    })
}

/// Backup targets to try "Back up now" with: an NFS share (6.7 U2 and later) and an SFTP
/// server (7.0 and later), so the 6.7 appliance shows why one of them is hidden.
fn demo_presets() -> anyhow::Result<Vec<crate::config::Preset>> {
    use crate::vcenter::location::LocationType;

    let preset = |name: &str, url: &str, user: Option<&str>| -> anyhow::Result<_> {
        let url = Url::parse(url)?;
        let location_type = LocationType::from_scheme(url.scheme())
            .with_context(|| format!("no location type for {url}"))?;
        Ok(crate::config::Preset {
            name: name.to_owned(),
            url,
            location_type,
            user: user.map(str::to_owned),
            password: user.map(|_| Secret::new(DEMO_TARGET_PASSWORD)),
        })
    };
    Ok(vec![
        preset(
            "nas-01 (NFS)",
            "nfs://nas-01.example.test/export/vcsa",
            None,
        )?,
        preset(
            "backup-01 (SFTP)",
            "sftp://backup-01.example.test:22/srv/vcsa",
            Some("svc-vcsa-backup"),
        )?,
    ])
}

/// The unreachable demo appliance starts acknowledged, so that a new user sees how a known
/// trouble looks next to an unnoticed one.
async fn acknowledge_unreachable(store: &crate::store::Store) -> anyhow::Result<()> {
    use crate::store::{ACTION_ACK, Acknowledgement, AuditEntry};

    let now = Utc::now();
    let reason = "Oslo site move: network down until the new uplink is patched";
    let ack = Acknowledgement {
        appliance: "vcsa-dr-01".to_owned(),
        user: "demo-operator".to_owned(),
        reason: reason.to_owned(),
        status: crate::domain::Status::Unreachable,
        since: now,
        until: now + chrono::Duration::days(2),
    };
    let audit = AuditEntry {
        at: now,
        user: ack.user.clone(),
        appliance: Some(ack.appliance.clone()),
        action: ACTION_ACK.to_owned(),
        detail: "while unreachable, for 2 d (set up by the demo)".to_owned(),
        outcome: "acknowledged".to_owned(),
        ok: true,
        reason: Some(reason.to_owned()),
    };
    store.acknowledge(&ack, &audit).await?;
    Ok(())
}

/// A nightly window on the `test` tag that is open when the demo starts, so that "in
/// maintenance" shows at once: every day, from the last full hour (Berlin time) for 8 hours.
fn demo_maintenance() -> Vec<crate::config::MaintenanceWindow> {
    use chrono::{NaiveTime, Weekday};

    let zone = chrono_tz::Europe::Berlin;
    let hour = Utc::now().with_timezone(&zone).hour();
    let start = NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or_default();
    let days = vec![
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
    vec![crate::config::MaintenanceWindow {
        tag: "test".to_owned(),
        zone,
        times: crate::config::WindowTimes::Weekly {
            days,
            start,
            length: chrono::Duration::hours(8),
        },
    }]
}

/// A loopback port with nothing listening: connections to it are refused at once.
async fn closed_port() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    drop(listener);
    Ok(addr)
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("vbdash-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the demo folder {}", dir.display()))?;
    Ok(dir)
}
