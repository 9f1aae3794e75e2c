//! A bulk backup run: one task per appliance, at most N running backups per backup target,
//! pre-checks before each start, and each appliance's state kept in the database.
//!
//! A permit of the target's semaphore is held from the start of a backup until a status
//! call shows the job finished, so the cap counts backups really running at the target.
//! The database decides whether a queued item may start (a claim that a Stop cannot race),
//! and a restart marks every unfinished item interrupted instead of running it again.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::config::Preset;
use crate::domain::{JobId, JobState, JobType};
use crate::store::{AuditEntry, BulkState, NewBulkRun, Store, StoreResult};
use crate::vcenter::ApplianceClient;
use crate::vcenter::backup::{BackupRequest, is_feature_in_use};

/// The audit word of a bulk request.
pub const ACTION_BULK: &str = "bulk.start";
/// The audit word of a Stop.
pub const ACTION_STOP: &str = "bulk.stop";
/// The audit word of the restart sweep.
pub const ACTION_INTERRUPTED: &str = "bulk.interrupted";
/// The user named in audit lines written by vbdash itself.
pub use crate::store::SYSTEM_USER;

/// Status calls that may fail in a row before a run stops following a job.
const MAX_FOLLOW_ERRORS: u32 = 20;

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

/// The runs of this process: the slots of every backup target, a Stop switch per run still
/// going, and one switch that abandons every run when the process stops.
#[derive(Default)]
pub struct BulkRuns {
    settings: BulkSettings,
    targets: Mutex<HashMap<String, Arc<Semaphore>>>,
    live: Mutex<HashMap<i64, CancellationToken>>,
    shutdown: CancellationToken,
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

    /// The slots of the target a preset writes to: its host and port.
    // Known gap: the slots count the backups of bulk runs only; a "Back up now" or a
    // scheduled run writing to the same target is not counted.
    fn target(&self, preset: &Preset) -> Arc<Semaphore> {
        let key = format!(
            "{}:{}",
            preset.url.host_str().unwrap_or_default(),
            preset.url.port_or_known_default().unwrap_or(0)
        );
        let limit = self.per_target_limit();
        Arc::clone(
            lock(&self.targets)
                .entry(key)
                .or_insert_with(|| Arc::new(Semaphore::new(limit))),
        )
    }

    /// Starts one task per appliance of run `id`, stored before with
    /// [`Store::create_bulk_run`] and its appliances in the order of `clients`.
    pub fn launch(
        self: &Arc<Self>,
        store: &Store,
        id: i64,
        clients: Vec<Arc<ApplianceClient>>,
        preset: &Preset,
        request: BackupRequest,
        asked: &NewBulkRun,
    ) {
        let stop = CancellationToken::new();
        lock(&self.live).insert(id, stop.clone());

        let slots = self.target(preset);
        let mut tasks = Vec::with_capacity(clients.len());
        for (position, client) in clients.into_iter().enumerate() {
            let task = ItemTask {
                run_id: id,
                position: i64::try_from(position).unwrap_or(i64::MAX),
                store: store.clone(),
                client,
                slots: Arc::clone(&slots),
                preset: preset.clone(),
                request: request.clone(),
                user: asked.user.clone(),
                reason: asked.reason.clone(),
                follow_every: self.settings.follow_every,
                stop: stop.clone(),
                shutdown: self.shutdown.clone(),
            };
            tasks.push(tokio::spawn(task.run()));
        }

        let runs = Arc::clone(self);
        tokio::spawn(async move {
            for task in tasks {
                let _ = task.await;
            }
            lock(&runs.live).remove(&id);
        });
        tracing::info!(bulk.run = id, user = %asked.user, "bulk run started");
    }

    /// Stops every item of run `id` that has not started, on behalf of `user`. Items
    /// being checked or running go on. Returns how many were stopped.
    pub async fn stop(&self, store: &Store, id: i64, user: &str) -> StoreResult<usize> {
        let stopped = store.stop_bulk_run(id, user, Utc::now()).await?;
        if let Some(token) = lock(&self.live).get(&id) {
            token.cancel();
        }
        tracing::info!(bulk.run = id, user, stopped, "bulk run stopped");
        Ok(stopped)
    }

    /// Abandons every run of this process without writing anything more: the process is
    /// stopping, and the next start marks what was left as interrupted.
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }
}

/// Marks every item a previous process left unfinished as interrupted, and writes one audit
/// line per run affected. Call it once at startup, before any run can start.
pub async fn recover_after_restart(store: &Store) -> StoreResult<usize> {
    let now = Utc::now();
    let runs = store.interrupt_bulk_runs(now).await?;
    for run in &runs {
        tracing::warn!(
            bulk.run = run.run_id,
            not_started = run.not_started,
            not_followed = run.not_followed,
            "a bulk run was interrupted by a restart"
        );
        let entry = AuditEntry {
            at: now,
            user: SYSTEM_USER.to_owned(),
            appliance: None,
            action: ACTION_INTERRUPTED.to_owned(),
            detail: format!("run {} of {}", run.run_id, run.user),
            outcome: format!(
                "interrupted by restart: {} not started, {} no longer followed; nothing is \
                 started again",
                run.not_started, run.not_followed
            ),
            ok: false,
            reason: None,
        };
        store.append_audit(&entry).await?;
    }
    Ok(runs.len())
}

/// One appliance's part of a run.
struct ItemTask {
    run_id: i64,
    position: i64,
    store: Store,
    client: Arc<ApplianceClient>,
    slots: Arc<Semaphore>,
    preset: Preset,
    request: BackupRequest,
    user: String,
    reason: String,
    follow_every: Duration,
    stop: CancellationToken,
    shutdown: CancellationToken,
}

impl ItemTask {
    async fn run(self) {
        let slot = tokio::select! {
            biased;
            () = self.shutdown.cancelled() => return,
            () = self.stop.cancelled() => return,
            slot = Arc::clone(&self.slots).acquire_owned() => slot,
        };
        let Ok(_slot) = slot else {
            return;
        };
        match self.store.claim_bulk_item(self.run_id, self.position).await {
            Ok(true) => {}
            // Stopped while it waited for its slot.
            Ok(false) => return,
            Err(err) => {
                tracing::error!(
                    bulk.run = self.run_id,
                    appliance.name = %self.client.name(),
                    error = %err,
                    "a bulk item could not be claimed; it is not started"
                );
                return;
            }
        }

        if let Err((state, why)) = self.pre_check().await {
            self.audit(false, &why).await;
            self.record(state, &why, None).await;
            return;
        }

        let id = match self.start().await {
            Ok(id) => id,
            Err((state, why)) => {
                self.audit(false, &why).await;
                self.record(state, &why, None).await;
                return;
            }
        };
        self.audit(true, &format!("started job {id}")).await;
        self.record(
            BulkState::Started,
            &format!("job {id} is running"),
            Some(&id),
        )
        .await;

        if let Some((state, words)) = self.follow(&id).await {
            self.record(state, &words, Some(&id)).await;
        }
    }

    /// Reachable, no backup running, and the location type is one its version accepts.
    async fn pre_check(&self) -> Result<(), (BulkState, String)> {
        let version = self.client.version().await.map_err(|e| {
            (
                BulkState::PreCheckFailed,
                format!("not started: the appliance cannot be reached: {e}"),
            )
        })?;
        self.preset
            .location_type
            .supported_by(Some(&version.version))
            .map_err(|why| (BulkState::PreCheckFailed, format!("not started: {why}")))?;

        let running = self
            .store
            .appliance_overview(self.client.name())
            .await
            .ok()
            .flatten()
            .and_then(|o| o.running_job);
        if let Some(job) = running {
            return Err((
                BulkState::Skipped,
                format!("not started: job {} is already running", job.id),
            ));
        }
        Ok(())
    }

    async fn start(&self) -> Result<JobId, (BulkState, String)> {
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
                BulkState::Skipped,
                "not started: another backup or restore is running".to_owned(),
            )),
            Err(err) => Err((BulkState::Failed, format!("the appliance refused: {err}"))),
        }
    }

    /// Asks for the job's status until it ends; `None` when the process is stopping.
    async fn follow(&self, id: &JobId) -> Option<(BulkState, String)> {
        let mut errors = 0;
        loop {
            tokio::select! {
                biased;
                () = self.shutdown.cancelled() => return None,
                () = tokio::time::sleep(self.follow_every) => {}
            }
            match self.client.job_status(id).await {
                Ok(job) if job.state.is_finished() => {
                    let state = if job.state == JobState::Succeeded {
                        BulkState::Succeeded
                    } else {
                        BulkState::Failed
                    };
                    let words = format!("job {id} {}", job.state.as_str());
                    let words = match job.messages.last() {
                        Some(last) if !last.is_empty() => format!("{words}: {last}"),
                        _ => words,
                    };
                    return Some((state, words));
                }
                Ok(_) => errors = 0,
                Err(err) => {
                    errors += 1;
                    if errors >= MAX_FOLLOW_ERRORS {
                        return Some((
                            BulkState::Failed,
                            format!("lost track of job {id}: {err}; see the job page"),
                        ));
                    }
                }
            }
        }
    }

    /// Writes where the item stands, unless the process is stopping (the restart sweep
    /// then speaks for it).
    async fn record(&self, state: BulkState, words: &str, job_id: Option<&JobId>) {
        if self.shutdown.is_cancelled() {
            return;
        }
        let job_id = job_id.map(ToString::to_string);
        let written = self
            .store
            .update_bulk_item(self.run_id, self.position, state, words, job_id.as_deref())
            .await;
        if let Err(err) = written {
            tracing::error!(
                bulk.run = self.run_id,
                appliance.name = %self.client.name(),
                error = %err,
                "a bulk item could not be updated"
            );
        }
    }

    async fn audit(&self, ok: bool, outcome: &str) {
        let entry = AuditEntry {
            at: Utc::now(),
            user: self.user.clone(),
            appliance: Some(self.client.name().to_owned()),
            action: super::backup::ACTION_START.to_owned(),
            detail: format!("bulk run {}, preset {}", self.run_id, self.preset.name),
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
/// one insert or removal).
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
