//! Backup jobs as the simulator keeps them: a few compact numbers per finished job, and
//! one plan for the job in progress from which its progress, duration and size at any
//! moment follow. Nothing is pre-rendered; replies are built when asked for.

use chrono::{DateTime, TimeZone, Utc};

/// Who started a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum JobKind {
    Scheduled,
    Manual,
}

/// Why a job failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    ServerUnreachable,
    NoSpace,
    ManagerException,
    Canceled,
}

/// How a job ends (or is planned to end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ending {
    Succeeded,
    Failed(Failure),
}

/// A job that has ended. Kept small: years of history for thousands of appliances stay
/// in memory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FinishedJob {
    pub start_ms: i64,
    pub size_bytes: u64,
    pub duration_s: u32,
    pub progress: u8,
    pub kind: JobKind,
    pub ending: Ending,
}

/// A job in progress: when it started, how long a full run takes, how big it gets and
/// how it will end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunPlan {
    pub start_ms: i64,
    pub kind: JobKind,
    /// Seconds a complete run takes.
    pub full_duration_s: u32,
    /// Bytes a complete run writes.
    pub full_size: u64,
    pub ending: Ending,
    /// Percent at which a failing run stops; 100 for a succeeding one.
    pub fail_at: u8,
}

/// Where a running job stands at one moment.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snapshot {
    pub progress: u8,
    pub duration_s: u32,
    pub size_bytes: u64,
}

impl RunPlan {
    /// When the job ends by itself.
    pub fn end_ms(&self) -> i64 {
        let full_ms = i64::from(self.full_duration_s) * 1000;
        let run_ms = full_ms * i64::from(self.fail_at) / 100;
        self.start_ms + run_ms.max(1000)
    }

    /// Progress, duration and size grow linearly with the elapsed time.
    pub fn snapshot(&self, now_ms: i64) -> Snapshot {
        let elapsed_ms = (now_ms - self.start_ms).max(0);
        let full_ms = (i64::from(self.full_duration_s) * 1000).max(1);
        let fraction = (elapsed_ms as f64 / full_ms as f64).clamp(0.0, 1.0);
        let progress = ((fraction * 100.0) as u8).min(99).min(self.fail_at);
        let size_bytes = if self.ending == Ending::Failed(Failure::ServerUnreachable) {
            0
        } else {
            (self.full_size as f64 * fraction) as u64
        };
        Snapshot {
            progress,
            duration_s: u32::try_from(elapsed_ms / 1000).unwrap_or(u32::MAX),
            size_bytes,
        }
    }

    /// The job as it ends by itself at [`RunPlan::end_ms`].
    pub fn finish_as_planned(&self) -> FinishedJob {
        let end_ms = self.end_ms();
        let snapshot = self.snapshot(end_ms);
        match self.ending {
            Ending::Succeeded => self.finished(self.full_duration_s, self.full_size, 100),
            Ending::Failed(_) => {
                self.finished(snapshot.duration_s, snapshot.size_bytes, self.fail_at)
            }
        }
    }

    /// The job cut short at `now_ms`, ending the given way.
    pub fn finish_early(&self, now_ms: i64, ending: Ending) -> FinishedJob {
        let snapshot = self.snapshot(now_ms);
        let mut job = match ending {
            Ending::Succeeded => self.finished(snapshot.duration_s, self.full_size, 100),
            Ending::Failed(_) => {
                self.finished(snapshot.duration_s, snapshot.size_bytes, snapshot.progress)
            }
        };
        job.ending = ending;
        job
    }

    fn finished(&self, duration_s: u32, size_bytes: u64, progress: u8) -> FinishedJob {
        FinishedJob {
            start_ms: self.start_ms,
            size_bytes,
            duration_s,
            progress,
            kind: self.kind,
            ending: self.ending,
        }
    }
}

/// A job id: the UTC start time to the second, then the build, as in
/// `20261201-020000-24322735`.
pub(crate) fn job_id(start_ms: i64, build: &str) -> String {
    format!("{}-{build}", start_stamp(start_ms))
}

/// `20261201-020000`, the time part of job ids and backup folder names.
pub(crate) fn start_stamp(start_ms: i64) -> String {
    time_of(start_ms).format("%Y%m%d-%H%M%S").to_string()
}

/// Reads the start second back out of a job id of this appliance's build.
pub(crate) fn parse_job_id(id: &str, build: &str) -> Option<i64> {
    let stamp = id.strip_suffix(build)?.strip_suffix('-')?;
    let naive = chrono::NaiveDateTime::parse_from_str(stamp, "%Y%m%d-%H%M%S").ok()?;
    Some(naive.and_utc().timestamp())
}

/// A millisecond timestamp as a time; out-of-range values fall back to the epoch.
pub(crate) fn time_of(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(ending: Ending, fail_at: u8) -> RunPlan {
        RunPlan {
            start_ms: 1_796_090_400_418,
            kind: JobKind::Scheduled,
            full_duration_s: 600,
            full_size: 1_000_000,
            ending,
            fail_at,
        }
    }

    #[test]
    fn finished_jobs_stay_compact() {
        // Thousands of appliances with years of history are held in memory.
        assert!(std::mem::size_of::<FinishedJob>() <= 24);
    }

    #[test]
    fn ids_round_trip() {
        let id = job_id(1_796_090_400_418, "24322735");
        assert_eq!(id, "20261201-020000-24322735");
        assert_eq!(parse_job_id(&id, "24322735"), Some(1_796_090_400));
        assert_eq!(parse_job_id(&id, "1"), None);
    }

    #[test]
    fn progress_grows_and_stops_at_the_failure() {
        let ok = plan(Ending::Succeeded, 100);
        let half = ok.snapshot(ok.start_ms + 300_000);
        assert_eq!(
            (half.progress, half.duration_s, half.size_bytes),
            (50, 300, 500_000)
        );
        assert_eq!(ok.finish_as_planned().progress, 100);

        let failing = plan(Ending::Failed(Failure::NoSpace), 37);
        assert_eq!(failing.end_ms() - failing.start_ms, 222_000);
        let done = failing.finish_as_planned();
        assert_eq!((done.progress, done.duration_s), (37, 222));
    }
}
