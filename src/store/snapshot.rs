//! A shared, briefly kept copy of the fleet overview for pages that many viewers refresh.
//!
//! At thousands of appliances, reading and judging the whole fleet for every refresh of
//! every open browser costs more than the pages are worth: polls change a few rows a
//! second, while dozens of viewers ask for all of them. A large fleet's overview is
//! therefore read once and shared for a short while, together with whatever the pages
//! derive from it (such as rendered fragments). Small fleets are read fresh every time:
//! it is cheap there, and a page right after a change shows it.
//!
//! Reading a fleet of thousands takes a good part of a second, so no viewer should wait for
//! it: once a shared overview is past its time, viewers keep getting it while one read in
//! the background replaces it, for at most [`MAX_STALE`]; past that (after an idle spell, or
//! when background reads fail), the viewer reads it.

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::Mutex as AsyncMutex;

use super::{Store, StoreResult};
use crate::domain::ApplianceOverview;

/// Fleets smaller than this are read fresh for every page.
pub const SHARED_FROM_APPLIANCES: usize = 200;

/// Age after which a shared overview is read again; the pages' own refresh is slower.
pub const MAX_AGE: Duration = Duration::from_secs(1);

/// A shared overview is kept at least this many times as long as it took to read, so
/// reading never takes more than a tenth of the time under constant refreshes.
const COST_FACTOR: u32 = 10;

/// Longest a shared overview is served while a background read replaces it.
pub const MAX_STALE: Duration = Duration::from_secs(5);

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
    /// Set while a background read is on its way.
    refreshing: AtomicBool,
}

/// Clears the refreshing flag however the background read ends, a panic included.
struct RefreshGuard(Arc<SnapshotSlot>);

impl Drop for RefreshGuard {
    fn drop(&mut self) {
        self.0.refreshing.store(false, Ordering::Release);
    }
}

impl Store {
    /// The fleet overview, shared with other viewers for up to [`MAX_AGE`] when the fleet
    /// is large, and then for up to [`MAX_STALE`] while it is read again in the background.
    /// Viewers arriving while it is read in the foreground wait for that one read.
    pub async fn fleet_snapshot(&self) -> StoreResult<Arc<FleetSnapshot>> {
        let mut current = self.snapshots.current.lock().await;
        if let Some(snapshot) = current.as_ref() {
            if snapshot.still_good() {
                return Ok(snapshot.clone());
            }
            if snapshot.shared() && snapshot.read_at.elapsed() < MAX_STALE {
                self.refresh_in_background();
                return Ok(snapshot.clone());
            }
        }

        // Let go of the stale one before reading: unless a request still renders from it,
        // its memory is free again before the new one is built.
        drop(current.take());
        let snapshot = self.read_snapshot().await?;
        *current = Some(snapshot.clone());
        Ok(snapshot)
    }

    /// Starts one background read of the overview unless one is on its way.
    fn refresh_in_background(&self) {
        if self.snapshots.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let guard = RefreshGuard(Arc::clone(&self.snapshots));
        let store = self.clone();
        tokio::spawn(async move {
            let _guard = guard;
            match store.read_snapshot().await {
                Ok(snapshot) => *store.snapshots.current.lock().await = Some(snapshot),
                // The stale one stays until MAX_STALE; then a viewer reads it and sees this.
                Err(e) => tracing::warn!(error = %e, "could not read the fleet overview"),
            }
        });
    }

    async fn read_snapshot(&self) -> StoreResult<Arc<FleetSnapshot>> {
        let started = Instant::now();
        let taken_at = Utc::now();
        let overviews = self.fleet_overview().await?;
        Ok(Arc::new(FleetSnapshot {
            overviews,
            taken_at,
            read_at: Instant::now(),
            read_cost: started.elapsed(),
            derived: Mutex::new(HashMap::new()),
        }))
    }
}
