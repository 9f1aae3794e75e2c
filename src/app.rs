//! Wiring for `vbdash serve` and `vbdash demo`: open the store, build one client per
//! appliance, start the poller and the web server, and stop them in order.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::config::{AuthMode, Config, TlsSetting};
use crate::poller::{self, PollerSettings};
use crate::store::{ApplianceSettings, Store};
use crate::vcenter::{ApplianceClient, HttpClients, Target, TlsMode};
use crate::web::auth::Auth;
use crate::web::{self, AppState, WebSettings};

/// Where `vbdash simulate` listens when neither the command line nor the file says.
pub const SIMULATOR_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8443);

/// Time open requests get to finish once shutdown is asked for.
const SHUTDOWN_DRAIN: Duration = Duration::from_secs(10);

/// A running dashboard: its address and the handles to stop it.
pub struct RunningApp {
    pub addr: SocketAddr,
    pub store: Store,
    shutdown: CancellationToken,
    server: JoinHandle<std::io::Result<()>>,
    poller: JoinHandle<()>,
    housekeeping: JoinHandle<()>,
    bulk: Arc<web::actions::bulk_run::BulkRuns>,
    /// Notifications and the outside heartbeat, when configured.
    extras: Vec<JoinHandle<()>>,
    ack_upkeep: JoinHandle<()>,
    /// The first count of the trends page's daily rates; cut short by a stop.
    warm_up: JoinHandle<()>,
}

impl RunningApp {
    /// Stops serving, lets the poller and housekeeping finish their writes, logs out of
    /// every appliance, then closes the database.
    pub async fn stop(self) {
        self.shutdown.cancel();
        // Bulk runs write nothing more; the next start marks what they left as interrupted.
        self.bulk.shutdown();
        let _ = self.server.await;
        let _ = self.poller.await;
        // A pruning round in progress ends before the database closes under it.
        let _ = self.housekeeping.await;
        for task in self.extras {
            let _ = task.await;
        }
        let _ = self.ack_upkeep.await;
        self.warm_up.abort();
        let _ = self.warm_up.await;
        self.store.close().await;
        info!("vbdash stopped");
    }

    /// Resolves when the dashboard has been asked to stop.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }
}

/// What to do before the poller's own rhythm takes over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstPoll {
    /// Poll every appliance once before serving (the demo: pages are full from the start).
    BeforeServing,
    /// Serve at once and let the poller start on its own spread-out schedule.
    InBackground,
}

/// Opens the store, starts the poller and serves on `listener`.
pub async fn start(
    config: &Config,
    listener: TcpListener,
    first_poll: FirstPoll,
) -> anyhow::Result<RunningApp> {
    let addr = listener.local_addr()?;
    check_auth(config, addr)?;

    // The store's own error already names the database.
    let store = Store::open(&config.database.url).await?;
    store.sync_appliances(&appliance_settings(config)).await?;

    let clients = build_clients(config)?;
    let bulk = web::actions::bulk_run::BulkSettings {
        per_target_limit: config.actions.per_target_limit,
        follow_every: config.poll.running_interval.min(Duration::from_secs(30)),
    };
    // Runs a previous process left unfinished are marked before any new run can start.
    web::actions::bulk_run::recover_after_restart(&store).await?;
    let actions = web::actions::Actions::with_settings(&clients, config.presets.clone(), bulk);
    let shutdown = CancellationToken::new();
    let heartbeat = poller::Heartbeat::default();
    let (hooks, extras) = start_hooks(config, &store, &heartbeat, &shutdown)?;
    if first_poll == FirstPoll::BeforeServing {
        poller::poll_all_once_with(&store, &clients, config.poll.concurrency, &hooks).await;
    }

    let poller = tokio::spawn(poller::run_with_hooks(
        store.clone(),
        clients,
        poller_settings(config, first_poll),
        heartbeat.clone(),
        hooks,
        shutdown.clone(),
    ));

    let retention = config.retention.clone();
    let housekeeping = tokio::spawn(crate::housekeeping::run(
        store.clone(),
        retention,
        shutdown.clone(),
    ));
    let ack_upkeep = tokio::spawn(crate::store::silence::run_upkeep(
        store.clone(),
        crate::store::silence::UPKEEP_EVERY,
        shutdown.clone(),
    ));

    let warm_up = tokio::spawn(web::trends::warm_daily_rates(
        store.clone(),
        config.server.display_zone,
    ));

    let bulk_runs = Arc::clone(actions.bulk());
    let state = AppState {
        store: store.clone(),
        settings: WebSettings {
            refresh_secs: u32::try_from(config.server.refresh.as_secs().max(1)).unwrap_or(5),
            display_zone: config.server.display_zone,
            maintenance: config.maintenance.clone().into(),
        },
        auth: Auth::new(config.auth.clone()),
        actions,
    };
    let limits = web::listener::ConnectionLimits {
        header_timeout: config.server.header_timeout,
        max_connections: config.server.max_connections,
        drain: SHUTDOWN_DRAIN,
    };
    let stop = shutdown.clone();
    let server = tokio::spawn(async move {
        let app = web::router(state).layer(axum::Extension(heartbeat));
        web::listener::serve(listener, app, limits, stop).await
    });

    info!(%addr, appliances = config.appliances.len(), "vbdash serving");
    Ok(RunningApp {
        addr,
        store,
        shutdown,
        server,
        poller,
        housekeeping,
        bulk: bulk_runs,
        extras,
        ack_upkeep,
        warm_up,
    })
}

/// Starts notifications and the outside heartbeat when configured, and returns the hooks
/// through which the poller tells them about each poll.
fn start_hooks(
    config: &Config,
    store: &Store,
    heartbeat: &poller::Heartbeat,
    shutdown: &CancellationToken,
) -> anyhow::Result<(poller::PollHooks, Vec<JoinHandle<()>>)> {
    let mut hooks = poller::PollHooks::default();
    let mut tasks = Vec::new();

    if config.notify.is_enabled() {
        let silencer = crate::store::silence::Silencer::new(store, &config.maintenance);
        let notifier = poller::notify::Notifier::new(store.clone(), config.notify.clone())
            .map_err(|why| anyhow::anyhow!(why))?
            .with_silencer(Arc::new(silencer));
        let (polled, task) = notifier.start(shutdown.clone());
        hooks.polled = Some(polled);
        tasks.push(task);
    }

    if let Some(ping) = &config.heartbeat_ping {
        let rounds = poller::RoundHealth::default();
        let pinger = poller::HeartbeatPinger::new(
            ping.clone(),
            heartbeat.clone(),
            rounds.clone(),
            store.clone(),
        );
        hooks.rounds = Some(rounds);
        tasks.push(tokio::spawn(pinger.run(shutdown.clone())));
    }
    Ok((hooks, tasks))
}

/// Refuses to serve without sign-in on anything but a loopback address, whatever the
/// configuration says, and warns when serving without sign-in at all.
fn check_auth(config: &Config, addr: SocketAddr) -> anyhow::Result<()> {
    let mode = match &config.auth.mode {
        AuthMode::None => {
            crate::config::check_loopback(addr).map_err(|why| anyhow::anyhow!(why))?;
            warn!(%addr, "sign-in is off: anyone on this machine is an admin of the dashboard");
            "none"
        }
        AuthMode::Local => "local",
        AuthMode::Proxy(proxy) => {
            info!(
                user_header = %proxy.user_header,
                trusted_proxies = proxy.trusted_proxies.len(),
                "users are named by the trusted proxy"
            );
            "proxy"
        }
    };
    info!(
        auth.mode = mode,
        behind_tls = config.auth.behind_tls,
        "sign-in mode"
    );
    Ok(())
}

/// Runs until Ctrl-C or SIGTERM, then stops cleanly.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let app = start(&config, listener, FirstPoll::InBackground).await?;
    println!("vbdash is serving http://{}/", app.addr);

    wait_for_signal().await;
    app.stop().await;
    Ok(())
}

/// Serves the simulated appliances of the file at `path`, on `listen` when given, else on
/// the file's own `listen`, else on [`SIMULATOR_LISTEN`].
pub async fn simulate(path: &std::path::Path, listen: Option<SocketAddr>) -> anyhow::Result<()> {
    let config = crate::simulator::SimConfig::from_toml_file(path)?;
    let listen = listen.or(config.listen).unwrap_or(SIMULATOR_LISTEN);
    let tls_ca_file = config.tls_ca_file.clone();
    let simulator = crate::simulator::Simulator::new(config);
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    let tls = simulator.serve_tls_appliances(addr.ip()).await?;
    if let Some(written) = &tls_ca_file {
        let ca_path = path
            .parent()
            .unwrap_or(std::path::Path::new("."))
            .join(written);
        std::fs::write(&ca_path, tls.ca_pem())
            .with_context(|| format!("cannot write the CA to {}", ca_path.display()))?;
        println!("simulator CA certificate: {}", ca_path.display());
    }

    for name in simulator.appliance_names() {
        match tls.url(&name) {
            Some(url) => println!("simulated appliance {name}: {url}"),
            None => println!("simulated appliance {name}: http://{addr}/{name}"),
        }
    }
    tokio::select! {
        served = simulator.serve(listener) => served.context("the simulator stopped")?,
        () = wait_for_signal() => {}
    }
    Ok(())
}

/// Waits for Ctrl-C, or SIGTERM on Unix (how containers and systemd stop a service).
pub async fn wait_for_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    info!("stop requested");
}

/// One client per configured appliance; appliances checked the same way share one HTTP
/// client.
pub fn build_clients(config: &Config) -> anyhow::Result<Vec<Arc<ApplianceClient>>> {
    let mut shared = HttpClients::default();
    config
        .appliances
        .iter()
        .map(|a| {
            let tls = match &a.tls {
                TlsSetting::Verify => TlsMode::Verify,
                TlsSetting::CaFile(path) => TlsMode::CaFile(path.clone()),
                TlsSetting::Insecure => TlsMode::Insecure,
            };
            let target = Target {
                name: a.name.clone(),
                base_url: a.url.clone(),
                username: a.username.clone(),
                password: a.password.clone(),
                tls,
                timeout: config.poll.timeout,
            };
            ApplianceClient::sharing(target, &mut shared)
                .map(Arc::new)
                .with_context(|| format!("cannot set up the client for appliance {}", a.name))
        })
        .collect()
}

fn appliance_settings(config: &Config) -> Vec<ApplianceSettings> {
    config
        .appliances
        .iter()
        .map(|a| ApplianceSettings {
            name: a.name.clone(),
            url: a.url.to_string(),
            tags: a.tags.clone(),
            time_zone: a.time_zone,
            grace_secs: i64::try_from(a.grace.as_secs()).unwrap_or(i64::MAX),
        })
        .collect()
}

fn poller_settings(config: &Config, first_poll: FirstPoll) -> PollerSettings {
    // After a first round, wait a full interval; otherwise spread first logins out.
    let initial_spread = match first_poll {
        FirstPoll::BeforeServing => config.poll.interval,
        FirstPoll::InBackground => (config.poll.interval / 10).min(Duration::from_secs(30)),
    };
    PollerSettings {
        interval: config.poll.interval,
        running_interval: config.poll.running_interval,
        max_backoff: config.poll.max_backoff,
        concurrency: config.poll.concurrency,
        initial_spread,
    }
}
