//! The poller: one task per appliance, each on its own jittered interval, all sharing one
//! limit on how many appliances are polled at the same time. A slow or broken appliance
//! only delays itself. Every poll, good or bad, is written to the store.

mod heartbeat;
mod heartbeat_ping;
pub mod notify;
mod poll_once;
mod schedule;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use crate::store::Store;
use crate::vcenter::ApplianceClient;

pub use heartbeat::{Heartbeat, Liveness};
pub use heartbeat_ping::{HeartbeatPinger, PingStats, RoundHealth, RoundTally};
pub use poll_once::poll_once;
pub use schedule::{Backoff, next_delay};

/// How the poller paces itself.
#[derive(Debug, Clone)]
pub struct PollerSettings {
    pub interval: Duration,
    pub running_interval: Duration,
    pub max_backoff: Duration,
    pub concurrency: usize,
    /// Upper bound of the random delay before an appliance's first poll, so that a large
    /// fleet does not log in all at once.
    pub initial_spread: Duration,
}

/// Who hears about each poll once it is written: the notifier and the outside heartbeat.
#[derive(Debug, Clone, Default)]
pub struct PollHooks {
    /// Gets the name of every appliance whose poll was written.
    pub polled: Option<mpsc::Sender<String>>,
    /// Counts poll writes for the outside heartbeat's rounds.
    pub rounds: Option<RoundHealth>,
}

impl PollHooks {
    /// Tells the hooks about one poll write, without ever waiting on them.
    fn after_write(&self, appliance: &str, written: bool) {
        if let Some(rounds) = &self.rounds {
            rounds.record(written);
        }
        if let (true, Some(polled)) = (written, &self.polled)
            && polled.try_send(appliance.to_owned()).is_err()
        {
            // The next poll of this appliance is evaluated again; nothing is lost for good.
            debug!(appliance.name = %appliance, "notification queue full; evaluation skipped");
        }
    }
}

/// Polls every appliance until `shutdown` is cancelled, then logs out of every session.
pub async fn run(
    store: Store,
    clients: Vec<Arc<ApplianceClient>>,
    settings: PollerSettings,
    shutdown: CancellationToken,
) {
    run_with_heartbeat(store, clients, settings, Heartbeat::default(), shutdown).await;
}

/// [`run`], stamping `heartbeat` every few seconds while the poller runs and marking it
/// stopped once every session is closed.
pub async fn run_with_heartbeat(
    store: Store,
    clients: Vec<Arc<ApplianceClient>>,
    settings: PollerSettings,
    heartbeat: Heartbeat,
    shutdown: CancellationToken,
) {
    run_with_hooks(
        store,
        clients,
        settings,
        heartbeat,
        PollHooks::default(),
        shutdown,
    )
    .await;
}

/// [`run_with_heartbeat`], telling `hooks` about every poll written.
pub async fn run_with_hooks(
    store: Store,
    clients: Vec<Arc<ApplianceClient>>,
    settings: PollerSettings,
    heartbeat: Heartbeat,
    hooks: PollHooks,
    shutdown: CancellationToken,
) {
    heartbeat.beat(chrono::Utc::now());
    let permits = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let mut tasks = JoinSet::new();

    info!(
        count = clients.len(),
        concurrency = settings.concurrency,
        "poller started"
    );
    for client in &clients {
        tasks.spawn(poll_forever(
            store.clone(),
            Arc::clone(client),
            settings.clone(),
            Arc::clone(&permits),
            hooks.clone(),
            shutdown.clone(),
        ));
    }

    // The beat comes from the loop that waits for the tasks: if it stops being scheduled,
    // nothing else here would be either.
    let mut beats = tokio::time::interval(heartbeat::BEAT_EVERY);
    loop {
        tokio::select! {
            joined = tasks.join_next() => match joined {
                Some(Err(e)) => error!(error = %e, "a poller task ended abnormally"),
                Some(Ok(())) => {}
                None => break,
            },
            _ = beats.tick() => heartbeat.beat(chrono::Utc::now()),
        }
    }

    // Appliances cap sessions per user: give them back rather than leave them to expire.
    futures::future::join_all(clients.iter().map(|c| c.logout())).await;
    heartbeat.stop();
    info!("poller stopped, sessions closed");
}

/// Polls every appliance once, all at the same time within the concurrency limit, and
/// records each poll. Used at start-up by the demo and by tests and benchmarks.
pub async fn poll_all_once(store: &Store, clients: &[Arc<ApplianceClient>], concurrency: usize) {
    poll_all_once_with(store, clients, concurrency, &PollHooks::default()).await;
}

/// [`poll_all_once`], telling `hooks` about every poll written.
pub async fn poll_all_once_with(
    store: &Store,
    clients: &[Arc<ApplianceClient>],
    concurrency: usize,
    hooks: &PollHooks,
) {
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let polls = clients.iter().map(|client| {
        let permits = Arc::clone(&permits);
        async move {
            let Ok(_permit) = permits.acquire().await else {
                return;
            };
            let report = poll_once(client, store).await;
            let written = store.record_poll(&report).await;
            if let Err(e) = &written {
                error!(appliance.name = %client.name(), error = %e, "could not store a poll");
            }
            hooks.after_write(client.name(), written.is_ok());
        }
    });
    futures::future::join_all(polls).await;
}

async fn poll_forever(
    store: Store,
    client: Arc<ApplianceClient>,
    settings: PollerSettings,
    permits: Arc<Semaphore>,
    hooks: PollHooks,
    shutdown: CancellationToken,
) {
    let mut delay = schedule::initial_delay(settings.initial_spread);
    let mut backoff = Backoff::new(settings.interval, settings.max_backoff);

    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }

        let report = {
            let Ok(_permit) = permits.acquire().await else {
                return;
            };
            // Known gap: a poll cut short while its login is on the wire never learns the
            // new session id, so `run` cannot log it out; the appliance drops it when idle.
            // Boxed: the poll's state lives on the heap only while it runs, so thousands of
            // appliances waiting for their next poll hold a small task each.
            tokio::select! {
                () = shutdown.cancelled() => return,
                report = Box::pin(poll_once(&client, &store)) => report,
            }
        };

        let written = Box::pin(store.record_poll(&report)).await;
        if let Err(e) = &written {
            // Our own database failing is something a person must look at.
            error!(appliance.name = %client.name(), error = %e, "could not store a poll");
        }
        hooks.after_write(client.name(), written.is_ok());
        if !report.outcome.is_ok() {
            warn!(
                appliance.name = %client.name(),
                outcome = report.outcome.as_str(),
                "appliance poll failed; backing off"
            );
        }

        delay = next_delay(&report, &settings, &mut backoff);
    }
}
