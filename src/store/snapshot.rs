//! A shared, briefly kept copy of the fleet overview for pages that many viewers refresh.
//!
//! At thousands of appliances, reading and judging the whole fleet for every refresh of
//! every open browser costs more than the pages are worth: polls change a few rows a
//! second, while dozens of viewers ask for all of them. A large fleet's overview is
//! therefore read once and shared for a short while, together with whatever the pages
//! derive from it (such as rendered fragments). Small fleets are read fresh every time:
//! it is cheap there, and a page right after a change shows it.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::Mutex as AsyncMutex;

use super::{Store, StoreResult};
use crate::domain::ApplianceOverview;

/// Fleets smaller than this are read fresh for every page.
pub const SHARED_FROM_APPLIANCES: usize = 200;

/// Longest a shared overview is served; the pages' own refresh is slower than this.
pub const MAX_AGE: Duration = Duration::from_secs(1);

/// A shared overview is kept at least this many times as long as it took to read, so
/// reading never takes more than a tenth of the time under constant refreshes.
const COST_FACTOR: u32 = 10;

/// Things derived from one overview, kept at most this many at a time.
const MAX_DERIVED: usize = 64;

/// The fleet overview at one moment, and what pages derived from it.
pub struct FleetSnapshot {
    /// Every configured appliance.
    pub overviews: Vec<ApplianceOverview>,
    /// When it was read: pages judge statuses at this time, so all views of one snapshot
    /// agree.
    pub taken_at: DateTime<Utc>,
    read_at: Instant,
    read_cost: Duration,
    derived: Mutex<HashMap<String, Derived>>,
}

type Derived = Arc<dyn Any + Send + Sync>;

impl FleetSnapshot {
    /// The value kept under `key` for this snapshot, made by `make` the first time.
    /// Only shared snapshots keep anything; for a small fleet `make` runs every time.
    /// Keys name the kind of value as well as its inputs, such as `rows?status=failed`.
    pub fn derived<T: Any + Send + Sync>(&self, key: &str, make: impl FnOnce() -> T) -> Arc<T> {
        if !self.shared() {
            return Arc::new(make());
        }
        let found = self.lock_derived().get(key).cloned();
        if let Some(found) = found.and_then(|kept| kept.downcast::<T>().ok()) {
            return found;
        }

        // Made outside the lock: two viewers may both make it once, which is harmless.
        let made = Arc::new(make());
        let mut derived = self.lock_derived();
        if derived.len() < MAX_DERIVED {
            derived.insert(key.to_owned(), made.clone());
        }
        made
    }

    fn shared(&self) -> bool {
        self.overviews.len() >= SHARED_FROM_APPLIANCES
    }

    fn still_good(&self) -> bool {
        let keep = (self.read_cost * COST_FACTOR).min(MAX_AGE);
        self.shared() && self.read_at.elapsed() < keep
    }

    fn lock_derived(&self) -> std::sync::MutexGuard<'_, HashMap<String, Derived>> {
        // A panic while holding this lock can only leave a half-filled map, which is fine.
        self.derived
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Where the current snapshot is kept; one per store.
#[derive(Default)]
pub(super) struct SnapshotSlot {
    current: AsyncMutex<Option<Arc<FleetSnapshot>>>,
}

impl Store {
    /// The fleet overview, shared with other viewers for up to [`MAX_AGE`] when the fleet
    /// is large. Viewers arriving while it is read wait for that one read.
    pub async fn fleet_snapshot(&self) -> StoreResult<Arc<FleetSnapshot>> {
        let mut current = self.snapshots.current.lock().await;
        if let Some(snapshot) = current.as_ref()
            && snapshot.still_good()
        {
            return Ok(snapshot.clone());
        }

        // Let go of the stale one before reading: unless a request still renders from it,
        // its memory is free again before the new one is built.
        drop(current.take());

        let started = Instant::now();
        let taken_at = Utc::now();
        let overviews = self.fleet_overview().await?;
        let snapshot = Arc::new(FleetSnapshot {
            overviews,
            taken_at,
            read_at: Instant::now(),
            read_cost: started.elapsed(),
            derived: Mutex::new(HashMap::new()),
        });
        *current = Some(snapshot.clone());
        Ok(snapshot)
    }
}
