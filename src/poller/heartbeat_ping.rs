//! The outside heartbeat: after each healthy poll round, a configured URL is called, so
//! that a monitor elsewhere notices when the dashboard stops watching.
//!
//! Not to be confused with [`Heartbeat`](super::Heartbeat), the poller's sign of life
//! inside the process. A round lasts `every`; it is healthy when at least one poll was
//! written, no poll failed to be written, the poller's own heartbeat is alive, and the
//! database answers. Nothing is called after an unhealthy round: silence is the alarm.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Utc;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::Heartbeat;
use super::notify::ChannelSender;
use crate::config::{HeartbeatPingConfig, PingMethod};
use crate::store::Store;

/// Counts of poll writes since the last round, shared by the poller tasks.
#[derive(Debug, Clone, Default)]
pub struct RoundHealth {
    written: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
}

/// Poll writes of one round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RoundTally {
    /// Polls written to the database.
    pub written: u64,
    /// Polls the database refused.
    pub failed: u64,
}

impl RoundHealth {
    /// Counts one poll write.
    pub fn record(&self, written: bool) {
        let counter = if written { &self.written } else { &self.failed };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts so far, starting the next round from zero.
    pub fn take(&self) -> RoundTally {
        RoundTally {
            written: self.written.swap(0, Ordering::Relaxed),
            failed: self.failed.swap(0, Ordering::Relaxed),
        }
    }
}

/// What the pinger has done since it started; for tests and the logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PingStats {
    /// Rounds judged healthy.
    pub healthy_rounds: u64,
    /// Rounds judged unhealthy (no ping).
    pub unhealthy_rounds: u64,
    /// Pings the receiver accepted.
    pub pings_sent: u64,
    /// Pings that failed.
    pub pings_failed: u64,
}

/// Calls the heartbeat URL after healthy rounds.
pub struct HeartbeatPinger {
    config: HeartbeatPingConfig,
    heartbeat: Heartbeat,
    rounds: RoundHealth,
    store: Store,
    stats: watch::Sender<PingStats>,
}

impl HeartbeatPinger {
    /// A pinger judging rounds by `rounds`, `heartbeat` and `store`.
    pub fn new(
        config: HeartbeatPingConfig,
        heartbeat: Heartbeat,
        rounds: RoundHealth,
        store: Store,
    ) -> HeartbeatPinger {
        HeartbeatPinger {
            config,
            heartbeat,
            rounds,
            store,
            stats: watch::Sender::new(PingStats::default()),
        }
    }

    /// Follows the pinger's counts.
    pub fn stats(&self) -> watch::Receiver<PingStats> {
        self.stats.subscribe()
    }

    /// Judges a round every `every` until `shutdown`.
    pub async fn run(self, shutdown: CancellationToken) {
        let sender = match ChannelSender::new(self.config.timeout) {
            Ok(sender) => sender,
            Err(e) => {
                warn!(error = %e, "heartbeat ping disabled");
                return;
            }
        };
        info!(
            every_ms = self.config.every.as_millis() as u64,
            "heartbeat ping started"
        );
        // The first round starts now: counts from before (the first poll) belong to it.
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(self.config.every) => {}
            }
            let tally = self.rounds.take();
            let problem = self.judge(tally).await;
            match problem {
                Some(why) => {
                    debug!(reason = %why, "unhealthy round: no heartbeat ping");
                    self.stats.send_modify(|s| s.unhealthy_rounds += 1);
                }
                None => {
                    self.stats.send_modify(|s| s.healthy_rounds += 1);
                    self.ping(&sender, tally).await;
                }
            }
        }
    }

    /// Why the round was not healthy, or `None` when it was.
    async fn judge(&self, tally: RoundTally) -> Option<String> {
        if tally.failed > 0 {
            return Some(format!("{} polls could not be written", tally.failed));
        }
        if tally.written == 0 {
            return Some("no poll was written".to_owned());
        }
        if let Some(why) = self.heartbeat.liveness(Utc::now()).problem() {
            return Some(why);
        }
        if let Err(e) = self.store.ping().await {
            return Some(format!("the database does not answer: {e}"));
        }
        None
    }

    async fn ping(&self, sender: &ChannelSender, tally: RoundTally) {
        let url = self.config.url.expose();
        let result = match self.config.method {
            PingMethod::Get => sender.call(reqwest::Method::GET, url, None).await,
            PingMethod::Post => {
                let body = serde_json::json!({
                    "status": "healthy",
                    "polls_written": tally.written,
                    "at": Utc::now().to_rfc3339(),
                });
                sender.call(reqwest::Method::POST, url, Some(&body)).await
            }
        };
        match result {
            Ok(()) => {
                debug!(polls_written = tally.written, "heartbeat ping sent");
                self.stats.send_modify(|s| s.pings_sent += 1);
            }
            Err(e) => {
                let e = e.replace(url, "***");
                warn!(error = %e, "heartbeat ping failed");
                self.stats.send_modify(|s| s.pings_failed += 1);
            }
        }
    }
}
