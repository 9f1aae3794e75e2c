//! Remembered days of the fleet's daily success rate.
//!
//! Counting the appliances with a good run per day reads every job of the range and
//! groups them by appliance and day: seconds for a year of a large fleet. A past day's
//! count only changes when a job that started on it is stored or deleted, or when the
//! set of configured appliances changes, so each day is counted once and kept until one
//! of those writes forgets it.
//!
//! A count is only kept if no write forgot its day while it was being read: a count read
//! from the database before a write committed could otherwise outlive that write. Recent
//! forgetting writes are logged for that check, so a count read while polls store jobs of
//! other days is still kept.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Milliseconds in a day.
const DAY_MS: i64 = 86_400_000;

/// The widest distance from UTC of a clock days are cut in: 14 hours, and some slack.
const WIDEST_OFFSET_MS: i64 = 15 * 3_600_000;

/// Forgetting writes remembered for the check above. A read that overlapped more of them
/// than this keeps nothing, which is only slower.
const FORGET_LOG_LEN: usize = 4_096;

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
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    days: HashMap<DayKey, DayCount>,
    /// Bumped by every forgetting write.
    generation: u64,
    /// The newest forgetting writes, oldest first, each with the generation it made.
    log: VecDeque<(u64, Forgot)>,
}

/// What one write forgot.
#[derive(Debug)]
enum Forgot {
    /// Days overlapping these closed UTC spans, sorted.
    Spans(Vec<(i64, i64)>),
    /// Days ending before this instant plus the widest offset.
    Before(i64),
    /// Every day.
    Everything,
}

impl Forgot {
    fn covers(&self, key: &DayKey) -> bool {
        // The day in UTC terms: [day * DAY - offset, (day + 1) * DAY - offset).
        let from = key.day * DAY_MS - key.offset_ms;
        let until = from + DAY_MS;
        match self {
            Forgot::Spans(spans) => overlaps_any(spans, from, until),
            Forgot::Before(before_ms) => from <= before_ms + WIDEST_OFFSET_MS,
            Forgot::Everything => true,
        }
    }
}

impl Inner {
    fn forget(&mut self, forgot: Forgot) {
        self.generation += 1;
        self.days.retain(|key, _| !forgot.covers(key));
        if self.log.len() == FORGET_LOG_LEN {
            self.log.pop_front();
        }
        self.log.push_back((self.generation, forgot));
    }

    /// The writes made after `generation`, or `None` when the log no longer reaches back
    /// that far.
    fn forgotten_since(&self, generation: u64) -> Option<impl Iterator<Item = &Forgot>> {
        let oldest_logged = self.log.front().map_or(self.generation + 1, |(g, _)| *g);
        if generation + 1 < oldest_logged {
            return None;
        }
        Some(
            self.log
                .iter()
                .filter(move |(g, _)| *g > generation)
                .map(|(_, forgot)| forgot),
        )
    }
}

impl DailyRateCache {
    /// The generation to hand back to [`DailyRateCache::keep`] after reading.
    pub fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// The remembered count of one day.
    pub fn get(&self, key: &DayKey) -> Option<DayCount> {
        self.lock().days.get(key).copied()
    }

    /// Remembers counts read since `generation`, except the days a write forgot meanwhile.
    /// Returns how many were kept.
    pub fn keep(
        &self,
        generation: u64,
        counts: impl IntoIterator<Item = (DayKey, DayCount)>,
    ) -> usize {
        let mut inner = self.lock();
        // Checked under the lock that forgetting also takes, so no write slips between.
        let fresh: Vec<(DayKey, DayCount)> = match inner.forgotten_since(generation) {
            None => return 0,
            Some(writes) => {
                let writes: Vec<&Forgot> = writes.collect();
                counts
                    .into_iter()
                    .filter(|(key, _)| !writes.iter().any(|forgot| forgot.covers(key)))
                    .collect()
            }
        };
        let kept = fresh.len();
        inner.days.extend(fresh);
        kept
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
        self.lock().forget(Forgot::Spans(spans));
    }

    /// Forgets every day that ends before `before_ms` plus a day (job retention).
    pub fn forget_before(&self, before_ms: i64) {
        self.lock().forget(Forgot::Before(before_ms));
    }

    /// Forgets everything (the configured appliances or their tags changed).
    pub fn forget_all(&self) {
        self.lock().forget(Forgot::Everything);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
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
    fn counts_read_across_a_write_keep_only_the_days_it_did_not_touch() {
        let cache = DailyRateCache::default();
        let generation = cache.generation();
        cache.forget_starts([DAY_MS * 3 + 3_600_000]);

        let kept = cache.keep(generation, [(key(3, 0), (1, 1)), (key(90, 0), (2, 2))]);

        assert_eq!(kept, 1);
        assert_eq!(cache.get(&key(3, 0)), None);
        assert_eq!(cache.get(&key(90, 0)), Some((2, 2)));
    }

    #[test]
    fn counts_read_across_forgetting_everything_or_a_long_log_are_not_kept() {
        let cache = DailyRateCache::default();
        let generation = cache.generation();
        cache.forget_all();
        assert_eq!(cache.keep(generation, [(key(90, 0), (1, 1))]), 0);

        let generation = cache.generation();
        for _ in 0..=FORGET_LOG_LEN {
            cache.forget_starts([DAY_MS]);
        }
        assert_eq!(cache.keep(generation, [(key(90, 0), (1, 1))]), 0);

        let generation = cache.generation();
        cache.forget_before(10 * DAY_MS);
        assert_eq!(
            cache.keep(generation, [(key(5, 0), (1, 1)), (key(90, 0), (1, 1))]),
            1
        );
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
