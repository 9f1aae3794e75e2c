//! Whether an appliance is silenced: acknowledged by an operator, or inside a maintenance
//! window of one of its tags. Answers from memory (the acknowledgements mirrored by the
//! store and the windows of the configuration), so it is cheap enough to ask per event.
//!
//! The upkeep task ends acknowledgements whose time ran out or whose appliance recovered,
//! with an audit line each.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::Store;
use super::acks::{AckCache, Acknowledgement};
use crate::config::MaintenanceWindow;

/// How often the upkeep task settles acknowledgements. Shorter than the usual poll interval,
/// so an appliance that is good for a poll or more is seen good by a round.
// Known gap: recovery is noticed by these rounds, not by the poller itself; an appliance
// that is good for less than a round (a poll interval under 15 s) and then fails again
// keeps its acknowledgement. Pages and `Silencer::silenced` read the clock themselves, so
// an expired acknowledgement silences nothing even before a round records its end.
pub const UPKEEP_EVERY: Duration = Duration::from_secs(15);

/// Why an appliance is silenced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Silence {
    /// An operator acknowledged it.
    Acknowledged(Acknowledgement),
    /// It is inside a maintenance window.
    Maintenance {
        /// The window, in words.
        window: String,
        /// When the window closes.
        until: DateTime<Utc>,
    },
}

impl Silence {
    /// One sentence for a notification or a log line.
    pub fn reason(&self) -> String {
        match self {
            Silence::Acknowledged(ack) => format!(
                "acknowledged by {} until {}: {}",
                ack.user,
                ack.until.format("%Y-%m-%d %H:%M UTC"),
                ack.reason
            ),
            Silence::Maintenance { window, until } => format!(
                "in maintenance until {} ({window})",
                until.format("%Y-%m-%d %H:%M UTC")
            ),
        }
    }
}

/// Answers "is this appliance silenced now?" over the acknowledgements and the windows.
/// Cheap to clone; every clone sees the same acknowledgements.
#[derive(Debug, Clone)]
pub struct Silencer {
    acks: Arc<AckCache>,
    windows: Arc<[MaintenanceWindow]>,
}

impl Silencer {
    /// A silencer over the acknowledgements of `store` and the configured `windows`.
    pub fn new(store: &Store, windows: &[MaintenanceWindow]) -> Silencer {
        Silencer {
            acks: store.ack_cache(),
            windows: windows.into(),
        }
    }

    /// Why `appliance` (with `tags`) is silenced at `at`, in words; `None` when it is not.
    /// An acknowledgement wins over a window: it says more.
    pub fn silenced(&self, appliance: &str, tags: &[String], at: DateTime<Utc>) -> Option<String> {
        self.silence(appliance, tags, at).map(|s| s.reason())
    }

    /// Why `appliance` (with `tags`) is silenced at `at`.
    pub fn silence(&self, appliance: &str, tags: &[String], at: DateTime<Utc>) -> Option<Silence> {
        self.acks
            .active(appliance, at)
            .map(Silence::Acknowledged)
            .or_else(|| self.maintenance(tags, at))
    }

    /// The open maintenance window of `tags` at `at` that closes last.
    pub fn maintenance(&self, tags: &[String], at: DateTime<Utc>) -> Option<Silence> {
        self.windows
            .iter()
            .filter(|w| w.applies_to(tags))
            .filter_map(|w| w.open_until(at).map(|until| (w, until)))
            .max_by_key(|(_, until)| *until)
            .map(|(w, until)| Silence::Maintenance {
                window: w.describe(),
                until,
            })
    }

    /// Every acknowledgement active at `at`, by appliance name.
    pub fn acknowledgements(&self, at: DateTime<Utc>) -> HashMap<String, Acknowledgement> {
        self.acks.all_active(at)
    }

    /// The configured windows.
    pub fn windows(&self) -> &[MaintenanceWindow] {
        &self.windows
    }
}

/// Settles acknowledgements every `every` until `shutdown`; a failed round is logged and
/// the next one tries again.
pub async fn run_upkeep(store: Store, every: Duration, shutdown: CancellationToken) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = ticks.tick() => {}
        }
        match store.settle_acknowledgements(Utc::now()).await {
            Ok(ended) if !ended.is_empty() => {
                tracing::debug!(count = ended.len(), "acknowledgements settled");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot settle the acknowledgements"),
        }
    }
}
