//! Remembered days of the fleet's daily success rate.
//!
//! Counting the appliances with a good run per day reads every job of the range and
//! groups them by appliance and day: seconds for a year of a large fleet. A past day's
//! count only changes when a job that started on it is stored or deleted, or when the
//! set of configured appliances changes, so each day is counted once and kept until one
//! of those writes forgets it.
//!
//! A count is only kept if no write forgot anything while it was being read: a count
//! read from the database before a write committed could otherwise outlive that write.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// The widest distance from UTC of a clock days are cut in: 14 hours, and some slack.
const WIDEST_OFFSET_MS: i64 = 15 * 3_600_000;

/// Which day of which view.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct DayKey {
    pub tag: Option<String>,
    pub offset_ms: i64,
    pub day: i64,
}

/// Appliances with a finished job that day, and those among them with a good one.
pub(super) type DayCount = (i64, i64);

/// The remembered days, shared by every clone of the store.
#[derive(Debug, Default)]
pub(super) struct DailyRateCache {
    days: Mutex<HashMap<DayKey, DayCount>>,
    /// Bumped by every forgetting write.
    generation: AtomicU64,
}

impl DailyRateCache {
    /// The generation to hand back to [`DailyRateCache::keep`] after reading.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The remembered count of one day.
    pub fn get(&self, key: &DayKey) -> Option<DayCount> {
        self.lock().get(key).copied()
    }

    /// Remembers counts read since `generation`, unless a write forgot days meanwhile.
    pub fn keep(&self, generation: u64, counts: impl IntoIterator<Item = (DayKey, DayCount)>) {
        let mut days = self.lock();
        // Checked under the lock that forgetting also takes, so no write slips between.
        if self.generation() != generation {
            return;
        }
        days.extend(counts);
    }

    /// Forgets every day, in any clock, that a job starting at one of `starts_ms` may
    /// belong to. Called after the write committed.
    pub fn forget_starts(&self, starts_ms: impl IntoIterator<Item = i64>) {
        let mut spans: Vec<(i64, i64)> = starts_ms
            .into_iter()
            .map(|start| (start - WIDEST_OFFSET_MS, start + WIDEST_OFFSET_MS))
            .collect();
        if spans.is_empty() {
            return;
        }
        spans.sort_unstable();

        let mut days = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        days.retain(|key, _| {
            // The day in UTC terms: [day * DAY - offset, (day + 1) * DAY - offset).
            let from = key.day * DAY_MS - key.offset_ms;
            let until = from + DAY_MS;
            !overlaps_any(&spans, from, until)
        });
    }

    /// Forgets every day that ends before `before_ms` plus a day (job retention).
    pub fn forget_before(&self, before_ms: i64) {
        let mut days = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        days.retain(|key, _| key.day * DAY_MS - key.offset_ms > before_ms + WIDEST_OFFSET_MS);
    }

    /// Forgets everything (the configured appliances or their tags changed).
    pub fn forget_all(&self) {
        let mut days = self.lock();
        self.generation.fetch_add(1, Ordering::AcqRel);
        days.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<DayKey, DayCount>> {
        self.days
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// True when `[from, until)` overlaps one of the sorted closed `spans`.
fn overlaps_any(spans: &[(i64, i64)], from: i64, until: i64) -> bool {
    // A poll stores few jobs, so a plain scan is enough.
    spans
        .iter()
        .any(|&(start, end)| start < until && end >= from)
}

/// The shifted-clock day holding the instant `ms`.
pub(super) fn day_of(ms: i64, offset_ms: i64) -> i64 {
    (ms + offset_ms).div_euclid(DAY_MS)
}

/// The UTC bounds of a shifted-clock day.
pub(super) fn bounds_of(day: i64, offset_ms: i64) -> (i64, i64) {
    let from = day * DAY_MS - offset_ms;
    (from, from + DAY_MS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(day: i64, offset_ms: i64) -> DayKey {
        DayKey {
            tag: None,
            offset_ms,
            day,
        }
    }

    #[test]
    fn a_stored_job_forgets_its_day_in_every_clock() {
        let cache = DailyRateCache::default();
        let start = 100 * DAY_MS + 3_600_000;
        let generation = cache.generation();
        cache.keep(
            generation,
            [
                (key(100, 0), (5, 4)),
                (key(100, -5 * 3_600_000), (5, 4)),
                (key(90, 0), (5, 5)),
            ],
        );

        cache.forget_starts([start]);

        assert_eq!(cache.get(&key(100, 0)), None);
        assert_eq!(cache.get(&key(100, -5 * 3_600_000)), None);
        assert_eq!(cache.get(&key(90, 0)), Some((5, 5)));
    }

    #[test]
    fn counts_read_across_a_write_are_not_kept() {
        let cache = DailyRateCache::default();
        let generation = cache.generation();
        cache.forget_starts([DAY_MS * 3]);
        cache.keep(generation, [(key(90, 0), (1, 1))]);
        assert_eq!(cache.get(&key(90, 0)), None);
    }

    #[test]
    fn days_and_bounds_agree() {
        let offset = 2 * 3_600_000;
        let day = day_of(10 * DAY_MS, offset);
        let (from, until) = bounds_of(day, offset);
        assert!(from <= 10 * DAY_MS && 10 * DAY_MS < until);
        assert_eq!(day_of(-1, 0), -1);
    }
}
