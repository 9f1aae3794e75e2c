//! Seeded history: which runs happen on a given UTC day, how long they take, how big
//! they are and how they end. Every day draws from its own generator seeded by the
//! appliance seed and the day number, so a day's runs are the same however and whenever
//! the simulator looks at it, and nothing has to be generated ahead of time.

use chrono::Datelike;

use super::config::{Profile, SimAppliance};
use super::jobs::{Ending, Failure, JobKind, RunPlan, time_of};
use super::prng::{SplitMix64, hash_str};
use super::schedule::LiveSchedule;

pub(crate) const DAY_MS: i64 = 86_400_000;

/// Chance in percent that someone ran a manual backup on a past day.
const MANUAL_RUN_PERCENT: u32 = 4;

/// Turns an appliance's seed and profile into concrete runs.
#[derive(Debug, Clone)]
pub(crate) struct Planner {
    seed: u64,
    created_ms: i64,
    profile: Profile,
    job_minutes: u32,
    /// First day of the history: sizes grow from here.
    anchor_day: i64,
    base_size: f64,
    growth_per_day: f64,
    base_duration_s: f64,
}

impl Planner {
    pub fn new(config: &SimAppliance, created_ms: i64) -> Planner {
        let seed = config.seed ^ hash_str(&config.name);
        let mut traits = SplitMix64::new(seed);
        Planner {
            seed,
            created_ms,
            profile: config.profile.clone(),
            job_minutes: config.job_minutes,
            anchor_day: created_ms.div_euclid(DAY_MS) - i64::from(config.history_days),
            base_size: 3.0e9 + traits.unit() * 5.0e9,
            growth_per_day: 0.001 + traits.unit() * 0.004,
            base_duration_s: 600.0 + traits.unit() * 600.0,
        }
    }

    /// The seed the appliance's other random choices start from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Runs that start on `day` (days since the epoch, UTC), in start order.
    pub fn runs_on_day(&self, day: i64, schedule: Option<&LiveSchedule>) -> Vec<RunPlan> {
        let mut rng = SplitMix64::for_day(self.seed, day);
        let mut runs = Vec::with_capacity(2);

        let scheduled_ms = schedule.and_then(|s| self.scheduled_start(day, s));
        let jitter_ms = 50 + rng.below(900) as i64;
        if let Some(start) = scheduled_ms {
            runs.push(self.plan(start + jitter_ms, JobKind::Scheduled, &mut rng));
        }

        let manual_roll = rng.percent(MANUAL_RUN_PERCENT);
        let manual_offset_s = 8 * 3600 + rng.below(10 * 3600) as i64;
        let manual_ms = rng.below(1000) as i64;
        let past_day = day < self.created_ms.div_euclid(DAY_MS);
        if manual_roll && past_day {
            let start = day * DAY_MS + manual_offset_s * 1000 + manual_ms;
            runs.push(self.plan(start, JobKind::Manual, &mut rng));
        }

        runs.sort_by_key(|run| run.start_ms);
        runs
    }

    /// A run starting at `start_ms`, with its size, duration and ending drawn from `rng`.
    pub fn plan(&self, start_ms: i64, kind: JobKind, rng: &mut SplitMix64) -> RunPlan {
        let day = start_ms.div_euclid(DAY_MS);
        let days_grown = (day - self.anchor_day).max(0) as f64;
        let growth = (1.0 + self.growth_per_day).powf(days_grown);
        let jitter = 0.99 + rng.unit() * 0.02;
        // About one scheduled run a month, weeks ago, wrote far less than usual (a part
        // left out, a quota hit): the kind of outlier the history pages flag.
        let outlier = kind == JobKind::Scheduled
            && start_ms < self.created_ms - 7 * DAY_MS
            && day.rem_euclid(29) == (self.seed % 29) as i64;
        let shrink = if outlier { 0.35 } else { 1.0 };
        let full_size = (self.base_size * growth * jitter * shrink) as u64;

        let full_duration_s = if start_ms >= self.created_ms {
            (self.job_minutes * 60).max(1)
        } else {
            let slower = 1.0 + 0.25 * growth.ln();
            let noise = rng.unit() * 120.0 - 60.0;
            (self.base_duration_s * slower + noise).clamp(600.0, 2400.0) as u32
        };

        let (ending, fail_at) = self.ending(kind, rng);
        RunPlan {
            start_ms,
            kind,
            full_duration_s,
            full_size,
            ending,
            fail_at,
        }
    }

    /// When the schedule fires on `day`, if it does.
    // Known gap: the simulated appliances all keep UTC, so schedules fire at UTC wall-clock
    // times; an appliance in another zone is not simulated.
    fn scheduled_start(&self, day: i64, schedule: &LiveSchedule) -> Option<i64> {
        if !schedule.enable {
            return None;
        }
        let recurrence = schedule.recurrence.as_ref()?;
        if !recurrence.runs_on(time_of(day * DAY_MS).weekday()) {
            return None;
        }

        let start =
            day * DAY_MS + i64::from(recurrence.hour * 3600 + recurrence.minute * 60) * 1000;
        if let Profile::MissesRuns { since_days } = self.profile
            && start >= self.created_ms - i64::from(since_days) * DAY_MS
        {
            return None;
        }
        Some(start)
    }

    /// Success, or a failure with the percent it stops at, per the profile.
    fn ending(&self, kind: JobKind, rng: &mut SplitMix64) -> (Ending, u8) {
        let roll = rng.below(100) as u32;
        let fails = match self.profile {
            Profile::Healthy | Profile::MissesRuns { .. } => false,
            Profile::FailsNightly => kind == JobKind::Scheduled,
            Profile::Flaky { failure_percent } => roll < u32::from(failure_percent),
        };
        if !fails {
            return (Ending::Succeeded, 100);
        }

        let stage = rng.below(3);
        match rng.below(3) {
            0 => (Ending::Failed(Failure::ServerUnreachable), 10),
            1 => (
                Ending::Failed(Failure::NoSpace),
                [37, 52, 81][stage as usize],
            ),
            _ => (
                Ending::Failed(Failure::ManagerException),
                [10, 37, 64][stage as usize],
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::config::SimSchedule;

    const CREATED_MS: i64 = 1_796_090_400_000 + 12 * 3_600_000;

    fn schedule() -> LiveSchedule {
        LiveSchedule::from_config(&SimSchedule::daily(2, 0))
    }

    #[test]
    fn a_day_is_the_same_every_time() {
        let config = SimAppliance::new("a", "8.0.3.00400").seed(9);
        let planner = Planner::new(&config, CREATED_MS);
        let day = CREATED_MS / DAY_MS - 5;
        let first = planner.runs_on_day(day, Some(&schedule()));
        let again = planner.runs_on_day(day, Some(&schedule()));
        assert_eq!(first.len(), again.len());
        assert_eq!(first[0].start_ms, again[0].start_ms);
        assert_eq!(first[0].full_size, again[0].full_size);
    }

    #[test]
    fn fails_nightly_fails_every_scheduled_run() {
        let config = SimAppliance::new("a", "8.0.3.00400").profile(Profile::FailsNightly);
        let planner = Planner::new(&config, CREATED_MS);
        let first_day = CREATED_MS / DAY_MS - 30;
        for day in first_day..first_day + 30 {
            for run in planner.runs_on_day(day, Some(&schedule())) {
                let failed = matches!(run.ending, Ending::Failed(_));
                assert_eq!(failed, run.kind == JobKind::Scheduled);
            }
        }
    }

    #[test]
    fn past_runs_take_ten_to_forty_minutes() {
        let config = SimAppliance::new("a", "8.0.3.00400");
        let planner = Planner::new(&config, CREATED_MS);
        let first_day = CREATED_MS / DAY_MS - 700;
        for day in first_day..first_day + 690 {
            for run in planner.runs_on_day(day, Some(&schedule())) {
                assert!((600..=2400).contains(&run.full_duration_s));
            }
        }
    }
}
