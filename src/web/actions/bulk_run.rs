//! A bulk backup run: one task per appliance, at most N running backups per backup target,
//! pre-checks before each start, and each appliance's outcome kept in words.
//!
//! A permit of the target's semaphore is held from the start of a backup until a status
//! call shows the job finished, so the cap counts backups really running at the target.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;

use crate::config::Preset;
use crate::domain::{JobId, JobState, JobType};
use crate::store::{AuditEntry, Store};
use crate::vcenter::ApplianceClient;
use crate::vcenter::backup::{BackupRequest, is_feature_in_use};

/// The audit word of a bulk request.
pub const ACTION_BULK: &str = "bulk.start";

/// Status calls that may fail in a row before a run stops following a job.
const MAX_FOLLOW_ERRORS: u32 = 20;

/// Where one appliance of a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Waiting for a free slot at the backup target.
    Waiting,
    /// Pre-checks and start under way.
    Starting,
    /// The backup runs.
    Running,
    /// The backup succeeded.
    Succeeded,
    /// The backup failed, was canceled, or was not started.
    Failed,
    /// A pre-check said not to start.
    Skipped,
}

impl Step {
    /// True once nothing more will happen.
    pub fn is_final(self) -> bool {
        matches!(self, Step::Succeeded | Step::Failed | Step::Skipped)
    }

    /// The word shown.
    pub fn label(self) -> &'static str {
        match self {
            Step::Waiting => "waiting",
            Step::Starting => "starting",
            Step::Running => "running",
            Step::Succeeded => "succeeded",
            Step::Failed => "failed",
            Step::Skipped => "skipped",
        }
    }
}

/// One appliance of a run.
#[derive(Debug, Clone)]
pub struct BulkItem {
    /// Appliance name.
    pub appliance: String,
    /// Where it stands.
    pub step: Step,
    /// What happened, in words.
    pub words: String,
    /// The job started, once there is one.
    pub job_id: Option<JobId>,
}

/// A whole run as its summary page shows it.
#[derive(Debug, Clone)]
pub struct BulkRun {
    /// Number of the run in this process.
    pub id: u64,
    /// Who asked.
    pub user: String,
    /// Preset used.
    pub preset: String,
    /// The reason given.
    pub reason: String,
    /// When it was asked.
    pub started_at: DateTime<Utc>,
    /// Every appliance, in the order asked.
    pub items: Vec<BulkItem>,
}

impl BulkRun {
    /// True once every appliance reached a final step.
    pub fn is_done(&self) -> bool {
        self.items.iter().all(|i| i.step.is_final())
    }
}

/// How bulk runs behave.
#[derive(Debug, Clone, Copy)]
pub struct BulkSettings {
    /// Backups running at once at one backup target.
    pub per_target_limit: usize,
    /// Time between status calls of a running job.
    pub follow_every: Duration,
}

impl Default for BulkSettings {
    fn default() -> Self {
        BulkSettings {
            per_target_limit: 2,
            follow_every: Duration::from_secs(10),
        }
    }
}

/// Runs of this process and the slots of every backup target.
// Known gap: runs live in memory; after a restart their summary pages are gone (the audit
// log keeps every start).
#[derive(Default)]
pub struct BulkRuns {
    settings: BulkSettings,
    next_id: Mutex<u64>,
    runs: Mutex<HashMap<u64, Arc<Mutex<BulkRun>>>>,
    targets: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl BulkRuns {
    /// Runs with `settings`.
    pub fn new(settings: BulkSettings) -> BulkRuns {
        BulkRuns {
            settings,
            ..BulkRuns::default()
        }
    }

    /// Backups running at once per target.
    pub fn per_target_limit(&self) -> usize {
        self.settings.per_target_limit.max(1)
    }

    /// A copy of run `id`, if this process has it.
    pub fn get(&self, id: u64) -> Option<BulkRun> {
        let runs = lock(&self.runs);
        let run = runs.get(&id)?;
        Some(lock(run).clone())
    }

    /// The slots of the target a preset writes to: its host and port.
    fn target(&self, preset: &Preset) -> Arc<Semaphore> {
        let key = format!(
            "{}:{}",
            preset.url.host_str().unwrap_or_default(),
            preset.url.port_or_known_default().unwrap_or(0)
        );
        let limit = self.settings.per_target_limit.max(1);
        Arc::clone(
            lock(&self.targets)
                .entry(key)
                .or_insert_with(|| Arc::new(Semaphore::new(limit))),
        )
    }

    /// Registers a run over `clients` and starts one task per appliance. Returns its id.
    pub fn launch(
        self: &Arc<Self>,
        store: Store,
        clients: Vec<Arc<ApplianceClient>>,
        preset: &Preset,
        request: BackupRequest,
        user: &str,
        reason: &str,
    ) -> u64 {
        let id = {
            let mut next = lock(&self.next_id);
            *next += 1;
            *next
        };
        let run = Arc::new(Mutex::new(BulkRun {
            id,
            user: user.to_owned(),
            preset: preset.name.clone(),
            reason: reason.to_owned(),
            started_at: Utc::now(),
            items: clients
                .iter()
                .map(|c| BulkItem {
                    appliance: c.name().to_owned(),
                    step: Step::Waiting,
                    words: "waiting for a free slot at the backup target".to_owned(),
                    job_id: None,
                })
                .collect(),
        }));
        lock(&self.runs).insert(id, Arc::clone(&run));

        let slots = self.target(preset);
        for (index, client) in clients.into_iter().enumerate() {
            let task = ApplianceTask {
                run: Arc::clone(&run),
                index,
                store: store.clone(),
                client,
                slots: Arc::clone(&slots),
                preset: preset.clone(),
                request: request.clone(),
                user: user.to_owned(),
                reason: reason.to_owned(),
                follow_every: self.settings.follow_every,
            };
            tokio::spawn(task.run());
        }
        id
    }
}

/// One appliance's part of a run.
struct ApplianceTask {
    run: Arc<Mutex<BulkRun>>,
    index: usize,
    store: Store,
    client: Arc<ApplianceClient>,
    slots: Arc<Semaphore>,
    preset: Preset,
    request: BackupRequest,
    user: String,
    reason: String,
    follow_every: Duration,
}

impl ApplianceTask {
    async fn run(self) {
        let Ok(_slot) = Arc::clone(&self.slots).acquire_owned().await else {
            self.set(Step::Failed, "the run was stopped".to_owned(), None);
            return;
        };
        self.set(Step::Starting, "checking the appliance".to_owned(), None);

        if let Err(why) = self.pre_check().await {
            self.audit(false, &format!("skipped: {why}")).await;
            self.set(Step::Skipped, why, None);
            return;
        }

        let id = match self.start().await {
            Ok(id) => id,
            Err((step, why)) => {
                self.audit(false, &why).await;
                self.set(step, why, None);
                return;
            }
        };
        self.audit(true, &format!("started job {id}")).await;
        self.set(
            Step::Running,
            format!("job {id} is running"),
            Some(id.clone()),
        );

        let (step, words) = self.follow(&id).await;
        self.set(step, words, Some(id));
    }

    /// Reachable, no backup running, and the location type is one its version accepts.
    async fn pre_check(&self) -> Result<(), String> {
        let version = self
            .client
            .version()
            .await
            .map_err(|e| format!("the appliance cannot be reached: {e}"))?;
        self.preset
            .location_type
            .supported_by(Some(&version.version))
            .map_err(|why| format!("not started: {why}"))?;

        let running = self
            .store
            .appliance_overview(self.client.name())
            .await
            .ok()
            .flatten()
            .and_then(|o| o.running_job);
        if let Some(job) = running {
            return Err(format!("not started: job {} is already running", job.id));
        }
        Ok(())
    }

    async fn start(&self) -> Result<JobId, (Step, String)> {
        match self.client.start_backup(&self.request).await {
            Ok(mut job) => {
                job.job_type = JobType::Manual;
                job.location = Some(self.request.location.clone());
                if let Err(err) = self
                    .store
                    .record_started_job(self.client.name(), &job, Utc::now())
                    .await
                {
                    tracing::warn!(
                        appliance.name = %self.client.name(),
                        job.id = %job.id,
                        error = %err,
                        "a started job could not be recorded; the poller will find it"
                    );
                }
                Ok(job.id)
            }
            Err(err) if is_feature_in_use(&err) => Err((
                Step::Skipped,
                "not started: another backup or restore is running".to_owned(),
            )),
            Err(err) => Err((Step::Failed, format!("the appliance refused: {err}"))),
        }
    }

    /// Asks for the job's status until it ends.
    async fn follow(&self, id: &JobId) -> (Step, String) {
        let mut errors = 0;
        loop {
            tokio::time::sleep(self.follow_every).await;
            match self.client.job_status(id).await {
                Ok(job) if job.state.is_finished() => {
                    let step = if job.state == JobState::Succeeded {
                        Step::Succeeded
                    } else {
                        Step::Failed
                    };
                    let last = job.messages.last().cloned().unwrap_or_default();
                    let words = format!("job {id} {}", job.state.as_str());
                    let words = if last.is_empty() {
                        words
                    } else {
                        format!("{words}: {last}")
                    };
                    return (step, words);
                }
                Ok(_) => errors = 0,
                Err(err) => {
                    errors += 1;
                    if errors >= MAX_FOLLOW_ERRORS {
                        return (
                            Step::Failed,
                            format!("lost track of job {id}: {err}; see the job page"),
                        );
                    }
                }
            }
        }
    }

    fn set(&self, step: Step, words: String, job_id: Option<JobId>) {
        let mut run = lock(&self.run);
        if let Some(item) = run.items.get_mut(self.index) {
            item.step = step;
            item.words = words;
            if job_id.is_some() {
                item.job_id = job_id;
            }
        }
    }

    async fn audit(&self, ok: bool, outcome: &str) {
        let entry = AuditEntry {
            at: Utc::now(),
            user: self.user.clone(),
            appliance: Some(self.client.name().to_owned()),
            action: super::backup::ACTION_START.to_owned(),
            detail: format!("bulk run, preset {}", self.preset.name),
            outcome: outcome.to_owned(),
            ok,
            reason: Some(self.reason.clone()),
        };
        if let Err(err) = self.store.append_audit(&entry).await {
            tracing::error!(
                appliance.name = %self.client.name(),
                error = %err,
                "an action could not be written to the audit log"
            );
        }
    }
}

/// Locks a mutex whose data stays consistent even if a holder panicked (every write is
/// one assignment).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
