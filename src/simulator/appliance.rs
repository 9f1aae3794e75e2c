//! One simulated appliance: its schedule, job history, running job, sessions and fault.
//! Time moves lazily: whenever the appliance is looked at, runs that became due since
//! the last look are started, and a running job that has reached its end is finished.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::config::{Fault, SimAppliance};
use super::errors::VapiError;
use super::history::{DAY_MS, Planner};
use super::jobs::{Ending, Failure, FinishedJob, JobKind, RunPlan, job_id, parse_job_id};
use super::prng::SplitMix64;
use super::schedule::LiveSchedule;
use super::sessions::SessionTable;
use super::version::ApplianceVersion;

/// What a job was started with, kept only for jobs started while the simulator runs
/// (seeded history takes these from the configuration).
#[derive(Debug, Clone)]
pub(crate) struct JobExtras {
    pub location: String,
    pub location_user: Option<String>,
    // Known gap: archive listings (system-name, archives) are not simulated, and they
    // are where a comment would show.
    #[expect(
        dead_code,
        reason = "kept for the archive listings once they are simulated"
    )]
    pub comment: String,
    pub user: Option<String>,
}

/// Where a job is at the moment it is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ViewState {
    Running,
    Succeeded,
    Failed(Failure),
}

/// A job as of now, finished or running.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JobView {
    pub start_ms: i64,
    pub end_ms: Option<i64>,
    pub kind: JobKind,
    pub state: ViewState,
    pub progress: u8,
    pub duration_s: u32,
    pub size_bytes: u64,
}

/// The whole state of one appliance.
pub(crate) struct ApplianceState {
    pub config: SimAppliance,
    pub version: ApplianceVersion,
    pub build: String,
    /// Until when (ms) the appliance ran an earlier version, with that version and build.
    previous: Option<(i64, String, String)>,
    pub schedule: Option<LiveSchedule>,
    pub sessions: SessionTable,
    pub fault: Option<Fault>,
    pub logins: u64,
    created_ms: i64,
    planner: Planner,
    rng: SplitMix64,
    history: Vec<FinishedJob>,
    running: Option<RunPlan>,
    extras: HashMap<i64, JobExtras>,
    /// Runs due up to here have been started; `None` until the first look.
    seen_until_ms: Option<i64>,
}

impl ApplianceState {
    /// A fresh appliance; its history is produced on the first look.
    pub fn new(config: SimAppliance, created: DateTime<Utc>) -> ApplianceState {
        let created_ms = created.timestamp_millis();
        let version = ApplianceVersion::parse(&config.version).unwrap_or(ApplianceVersion {
            major: 8,
            minor: 0,
            update: 3,
            patch: 0,
        });
        let planner = Planner::new(&config, created_ms);
        ApplianceState {
            version,
            build: config.effective_build(),
            previous: config.patched.as_ref().map(|p| {
                let before = SimAppliance {
                    build: String::new(),
                    ..SimAppliance::new(&config.name, &p.previous_version)
                };
                let until = created_ms - i64::from(p.days_ago) * 86_400_000;
                (until, p.previous_version.clone(), before.effective_build())
            }),
            schedule: config.schedule.as_ref().map(LiveSchedule::from_config),
            sessions: SessionTable::default(),
            fault: config.fault.clone(),
            logins: 0,
            created_ms,
            rng: SplitMix64::new(planner.seed().rotate_left(17)),
            planner,
            history: Vec::new(),
            running: None,
            extras: HashMap::new(),
            seen_until_ms: None,
            config,
        }
    }

    /// How long a session may stay unused.
    pub fn idle_limit(&self) -> Duration {
        Duration::minutes(i64::from(self.config.session_idle_minutes))
    }

    /// Brings the appliance up to `now`: seeded history on the first look, then every run
    /// that became due, then the end of a job whose time is up.
    pub fn catch_up(&mut self, now: DateTime<Utc>) {
        let now_ms = now.timestamp_millis();
        if self.seen_until_ms.is_none() {
            self.seed_history();
        }
        self.start_due_runs(now_ms);
        self.settle(now_ms);
    }

    fn seed_history(&mut self) {
        let from_ms = self.created_ms - i64::from(self.config.history_days) * DAY_MS;
        self.seen_until_ms = Some(from_ms);
        // One scheduled run a day plus the occasional manual one, without regrowing.
        let days = self.config.history_days as usize;
        self.history.reserve(days + days / 16 + 8);
        self.start_due_runs(self.created_ms);
        self.settle(self.created_ms);

        if self.config.running_job && self.running.is_none() {
            let lead_ms = (i64::from(self.config.job_minutes) * 15_000).min(180_000);
            let start_ms = self.created_ms - lead_ms.max(1_000) + 417;
            let mut extras = self.default_extras(JobKind::Manual, "Backup before patching");
            // A person backing up before patching writes to the usual place, as an
            // administrator: the polling account itself is read-only.
            if let Some(schedule) = &self.schedule {
                extras.location = schedule.location.clone();
            }
            extras.user = Some("VSPHERE.LOCAL\\Administrator".to_owned());
            self.begin(start_ms, JobKind::Manual, extras);

            // Started just before the simulator, it still takes the configured time.
            if let Some(plan) = self.running.as_mut() {
                plan.full_duration_s = (self.config.job_minutes * 60).max(1);
            }
        }
    }

    /// Starts the runs due in `(seen_until, until_ms]` in order; a run due while another
    /// job is busy is skipped, as the appliance allows one backup at a time.
    fn start_due_runs(&mut self, until_ms: i64) {
        let Some(from_ms) = self.seen_until_ms else {
            return;
        };
        if until_ms <= from_ms {
            return;
        }

        for day in from_ms.div_euclid(DAY_MS)..=until_ms.div_euclid(DAY_MS) {
            let runs = self.planner.runs_on_day(day, self.schedule.as_ref());
            for run in runs {
                if run.start_ms <= from_ms || run.start_ms > until_ms {
                    continue;
                }
                self.settle(run.start_ms);
                if self.running.is_some() {
                    continue;
                }
                if run.start_ms >= self.created_ms {
                    let extras = self.default_extras(run.kind, "");
                    self.extras.insert(run.start_ms, extras);
                }
                self.running = Some(run);
            }
        }
        self.seen_until_ms = Some(until_ms);
    }

    /// Finishes the running job if it has reached its end by `at_ms`.
    fn settle(&mut self, at_ms: i64) {
        if let Some(plan) = self.running
            && plan.end_ms() <= at_ms
        {
            self.history.push(plan.finish_as_planned());
            self.running = None;
        }
    }

    /// True while a backup runs.
    pub fn is_busy(&self) -> bool {
        self.running.is_some()
    }

    /// Starts a job now; `FEATURE_IN_USE` when one is running. Returns the job id.
    pub fn start_now(
        &mut self,
        now: DateTime<Utc>,
        kind: JobKind,
        extras: JobExtras,
    ) -> Result<String, VapiError> {
        if self.is_busy() {
            return Err(VapiError::feature_in_use());
        }
        Ok(self.begin(now.timestamp_millis(), kind, extras))
    }

    /// Starts a job, moving it a second on when an earlier job began in the same second,
    /// because job ids only carry whole seconds.
    fn begin(&mut self, start_ms: i64, kind: JobKind, extras: JobExtras) -> String {
        let mut start_ms = start_ms;
        if let Some(last) = self.history.last() {
            let last_second = last.start_ms.div_euclid(1000);
            if start_ms.div_euclid(1000) <= last_second {
                start_ms = (last_second + 1) * 1000 + start_ms.rem_euclid(1000);
            }
        }

        let plan = self.planner.plan(start_ms, kind, &mut self.rng);
        self.extras.insert(start_ms, extras);
        self.running = Some(plan);

        let id = job_id(start_ms, self.build_at(start_ms).1);
        tracing::debug!(appliance.name = %self.config.name, job.id = %id, "simulated job started");
        id
    }

    /// Extras for a job started by the appliance itself or by the simulator's owner.
    pub fn default_extras(&self, kind: JobKind, comment: &str) -> JobExtras {
        match (kind, &self.schedule) {
            (JobKind::Scheduled, Some(schedule)) => JobExtras {
                location: schedule.location.clone(),
                location_user: schedule.location_user.clone(),
                comment: comment.to_owned(),
                user: None,
            },
            _ => JobExtras {
                location: self.config.location.clone(),
                location_user: None,
                comment: comment.to_owned(),
                user: Some(display_login(&self.config.username)),
            },
        }
    }

    /// Cancels the running job `id`: `None` for an unknown id, `Some(false)` when the job
    /// has already ended.
    pub fn cancel(&mut self, id: &str, now: DateTime<Utc>) -> Option<bool> {
        let view = self.find(id, now)?;
        if view.state != ViewState::Running {
            return Some(false);
        }
        Some(self.end_running(now, Ending::Failed(Failure::Canceled)))
    }

    /// Ends the running job now, succeeded or failed.
    pub fn end_running(&mut self, now: DateTime<Utc>, ending: Ending) -> bool {
        let Some(plan) = self.running.take() else {
            return false;
        };
        self.history
            .push(plan.finish_early(now.timestamp_millis(), ending));
        true
    }

    /// Drops finished jobs that started before `cutoff`; returns how many.
    pub fn forget_before(&mut self, cutoff: DateTime<Utc>) -> usize {
        let cutoff_ms = cutoff.timestamp_millis();
        let keep_from = self.history.partition_point(|job| job.start_ms < cutoff_ms);
        self.history.drain(..keep_from);
        self.extras.retain(|start, _| *start >= cutoff_ms);
        keep_from
    }

    /// Every job, oldest first, the running one last.
    pub fn jobs(&self, now: DateTime<Utc>) -> impl Iterator<Item = JobView> + '_ {
        let now_ms = now.timestamp_millis();
        let finished = self.history.iter().map(finished_view);
        let running = self
            .running
            .iter()
            .map(move |plan| running_view(plan, now_ms));
        finished.chain(running)
    }

    /// The job with this id, if the appliance still knows it.
    pub fn find(&self, id: &str, now: DateTime<Utc>) -> Option<JobView> {
        let second = parse_job_id(id, &self.build).or_else(|| {
            let (_, _, old_build) = self.previous.as_ref()?;
            parse_job_id(id, old_build)
        })?;
        if let Some(plan) = &self.running
            && plan.start_ms.div_euclid(1000) == second
        {
            return Some(running_view(plan, now.timestamp_millis()));
        }
        let index = self
            .history
            .binary_search_by_key(&second, |job| job.start_ms.div_euclid(1000))
            .ok()?;
        Some(finished_view(&self.history[index]))
    }

    pub fn extras(&self, start_ms: i64) -> Option<&JobExtras> {
        self.extras.get(&start_ms)
    }

    /// The job id of a view.
    pub fn id_of(&self, view: &JobView) -> String {
        job_id(view.start_ms, self.build_at(view.start_ms).1)
    }

    /// Version and build the appliance ran at `start_ms`.
    pub fn build_at(&self, start_ms: i64) -> (&str, &str) {
        match &self.previous {
            Some((until, version, build)) if start_ms < *until => (version, build),
            _ => (&self.config.version, &self.build),
        }
    }

    /// Location and user of seeded jobs: the configured schedule's for scheduled runs,
    /// the appliance's own location for manual ones.
    pub fn seeded_location(&self, kind: JobKind) -> (&str, Option<&str>) {
        match (kind, &self.config.schedule) {
            (JobKind::Scheduled, Some(schedule)) => {
                (&schedule.location, schedule.location_user.as_deref())
            }
            _ => (&self.config.location, None),
        }
    }

    /// How many jobs are in memory, for tests.
    pub fn job_count(&self) -> usize {
        self.history.len() + usize::from(self.running.is_some())
    }
}

fn finished_view(job: &FinishedJob) -> JobView {
    // Durations are whole seconds; the end keeps the sub-second part real ones have.
    let end_ms = job.start_ms + i64::from(job.duration_s) * 1000 + job.start_ms.rem_euclid(997);
    JobView {
        start_ms: job.start_ms,
        end_ms: Some(end_ms),
        kind: job.kind,
        state: match job.ending {
            Ending::Succeeded => ViewState::Succeeded,
            Ending::Failed(failure) => ViewState::Failed(failure),
        },
        progress: job.progress,
        duration_s: job.duration_s,
        size_bytes: job.size_bytes,
    }
}

fn running_view(plan: &RunPlan, now_ms: i64) -> JobView {
    let snapshot = plan.snapshot(now_ms);
    JobView {
        start_ms: plan.start_ms,
        end_ms: None,
        kind: plan.kind,
        state: ViewState::Running,
        progress: snapshot.progress,
        duration_s: snapshot.duration_s,
        size_bytes: snapshot.size_bytes,
    }
}

/// `svc@vsphere.local` as the appliance shows users: `VSPHERE.LOCAL\svc`.
pub(crate) fn display_login(login: &str) -> String {
    match login.split_once('@') {
        Some((name, domain)) => format!("{}\\{name}", domain.to_ascii_uppercase()),
        None => login.to_owned(),
    }
}
