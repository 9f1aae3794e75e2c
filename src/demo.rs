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

/// Where the demo sends its notifications, if anywhere.
#[derive(Debug, Clone, Default)]
pub struct DemoNotifications {
    /// A URL that receives the generic JSON webhook.
    pub webhook: Option<Url>,
    /// A mail server without encryption or sign-in, such as a test catcher on loopback.
    pub smtp: Option<SocketAddr>,
    /// Who gets the e-mail.
    pub mail_to: Option<String>,
}

/// Runs the demo until Ctrl-C.
pub async fn run(listen: SocketAddr, database: Option<PathBuf>) -> anyhow::Result<()> {
    run_with_notifications(listen, database, DemoNotifications::default()).await
}

/// Runs the demo until Ctrl-C, announcing status changes where `notify` says.
pub async fn run_with_notifications(
    listen: SocketAddr,
    database: Option<PathBuf>,
    notify: DemoNotifications,
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
    fleet.config.notify = demo_notifications(&notify)?;
    if fleet.config.notify.is_enabled() {
        println!("Notifications go to the receivers given on the command line.");
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

/// Notifications of every demo appliance to the receivers in `notify`, quick to retry.
pub fn demo_notifications(
    notify: &DemoNotifications,
) -> anyhow::Result<crate::config::NotifyConfig> {
    use crate::config::{ChannelConfig, ChannelKind, NotifyConfig, SmtpConfig, SmtpSecurity};

    let mut channels = Vec::new();
    if let Some(url) = &notify.webhook {
        channels.push(ChannelConfig {
            name: "demo-webhook".to_owned(),
            kind: ChannelKind::Webhook {
                url: Secret::new(url.as_str()),
            },
            digest: None,
        });
    }
    match (notify.smtp, &notify.mail_to) {
        (Some(server), Some(to)) => channels.push(ChannelConfig {
            name: "demo-mail".to_owned(),
            kind: ChannelKind::Email(SmtpConfig {
                host: server.ip().to_string(),
                port: server.port(),
                security: SmtpSecurity::Plain,
                username: None,
                password: None,
                from: "vbdash-demo@localhost".to_owned(),
                to: vec![to.clone()],
            }),
            digest: None,
        }),
        (None, None) => {}
        _ => anyhow::bail!("--smtp and --mail-to go together: give both or neither"),
    }

    let default_channels = channels.iter().map(|c| c.name.clone()).collect();
    Ok(NotifyConfig {
        channels,
        default_channels,
        group_window: Duration::from_secs(10),
        retry_delay: Duration::from_secs(5),
        max_attempts: 4,
        ..NotifyConfig::default()
    })
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
        ..SimConfig::default()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ChannelKind;

    #[test]
    fn demo_receivers_become_channels_of_the_default_route() {
        let notify = DemoNotifications {
            webhook: Some(Url::parse("http://127.0.0.1:9000/hook").unwrap()),
            smtp: Some("127.0.0.1:1025".parse().unwrap()),
            mail_to: Some("ops@example.test".to_owned()),
        };
        let config = demo_notifications(&notify).unwrap();

        assert_eq!(config.default_channels, ["demo-webhook", "demo-mail"]);
        let ChannelKind::Email(mail) = &config.channels[1].kind else {
            panic!("the second channel should be e-mail");
        };
        assert_eq!((mail.host.as_str(), mail.port), ("127.0.0.1", 1025));
        assert_eq!(mail.to, ["ops@example.test"]);

        assert!(
            !demo_notifications(&DemoNotifications::default())
                .unwrap()
                .is_enabled()
        );
        let half = DemoNotifications {
            smtp: notify.smtp,
            ..DemoNotifications::default()
        };
        assert!(demo_notifications(&half).is_err());
    }
}
