//! Bulk backup runs: the run as asked and one row per appliance with where it stands, so
//! that a run's summary survives a restart and a restart never runs anything twice.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::overview::{from_ms, to_ms};
use super::{Context, Store, StoreError, StoreResult};

/// Where one appliance of a bulk run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkState {
    /// Waiting for a free slot at the backup target.
    Queued,
    /// Pre-checks and the start call are under way.
    Checking,
    /// The backup was started and is being followed.
    Started,
    /// The backup ended well.
    Succeeded,
    /// The start was refused, or the backup failed or was canceled.
    Failed,
    /// The appliance could not be reached or does not take the location type.
    PreCheckFailed,
    /// Another backup was running, so none was started.
    Skipped,
    /// Somebody stopped the run before this appliance's turn.
    Stopped,
    /// vbdash restarted before this appliance was done; it is never started again.
    Interrupted,
}

impl BulkState {
    /// Every state, in the order counts are shown.
    pub const ALL: [BulkState; 9] = [
        BulkState::Succeeded,
        BulkState::Failed,
        BulkState::PreCheckFailed,
        BulkState::Skipped,
        BulkState::Stopped,
        BulkState::Interrupted,
        BulkState::Started,
        BulkState::Checking,
        BulkState::Queued,
    ];

    /// The word stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            BulkState::Queued => "queued",
            BulkState::Checking => "checking",
            BulkState::Started => "started",
            BulkState::Succeeded => "succeeded",
            BulkState::Failed => "failed",
            BulkState::PreCheckFailed => "precheck_failed",
            BulkState::Skipped => "skipped",
            BulkState::Stopped => "stopped",
            BulkState::Interrupted => "interrupted",
        }
    }

    /// The word shown to people.
    pub fn label(self) -> &'static str {
        match self {
            BulkState::PreCheckFailed => "pre-check failed",
            other => other.as_str(),
        }
    }

    /// Reads a stored word.
    pub fn parse(word: &str) -> Option<BulkState> {
        BulkState::ALL.into_iter().find(|s| s.as_str() == word)
    }

    /// True once nothing more will happen to the item.
    pub fn is_final(self) -> bool {
        !matches!(
            self,
            BulkState::Queued | BulkState::Checking | BulkState::Started
        )
    }
}

/// A run about to be stored.
#[derive(Debug, Clone)]
pub struct NewBulkRun {
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// Who asked.
    pub user: String,
    /// Preset name.
    pub preset: String,
    /// Reason given.
    pub reason: String,
    /// How the appliances were chosen, in words.
    pub selection: String,
    /// Appliance names in the order asked; each starts queued.
    pub appliances: Vec<String>,
}

/// One appliance of a stored run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkItemRecord {
    /// Place in the run, from 0.
    pub position: i64,
    /// Appliance name.
    pub appliance: String,
    /// Where it stands.
    pub state: BulkState,
    /// What happened, in words.
    pub words: String,
    /// The job started, once there is one.
    pub job_id: Option<String>,
    /// When the item last changed.
    pub updated_at: DateTime<Utc>,
}

/// A stored run with every item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkRunRecord {
    /// Run number.
    pub id: i64,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// Who asked.
    pub user: String,
    /// Preset name.
    pub preset: String,
    /// Reason given.
    pub reason: String,
    /// How the appliances were chosen.
    pub selection: String,
    /// Who stopped the run and when.
    pub stopped: Option<(String, DateTime<Utc>)>,
    /// Every appliance in the order asked.
    pub items: Vec<BulkItemRecord>,
}

/// What a restart found unfinished in one run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterruptedRun {
    /// Run number.
    pub run_id: i64,
    /// Who asked for the run.
    pub user: String,
    /// Items that had not started a backup.
    pub not_started: usize,
    /// Items whose backup was running and is no longer followed.
    pub not_followed: usize,
}

#[derive(FromRow)]
struct RunRow {
    id: i64,
    created_at_ms: i64,
    user_name: String,
    preset: String,
    reason: String,
    selection: String,
    stopped_by: Option<String>,
    stopped_at_ms: Option<i64>,
}

#[derive(FromRow)]
struct ItemRow {
    position: i64,
    appliance: String,
    state: String,
    words: String,
    job_id: Option<String>,
    updated_at_ms: i64,
}

/// Words of an item interrupted while it waited for its turn.
const NOT_STARTED_WORDS: &str = "interrupted by restart before its start; it is not started again";
/// Words of an item interrupted between its pre-check and the answer to its start: the
/// start may have reached the appliance, and the poller would then show the job.
const CHECKING_WORDS: &str = "interrupted by restart while it was being checked or started; \
    it is not started again, and a job that did begin shows on the appliance page";

impl Store {
    /// Stores a run with every appliance queued and returns its number.
    pub async fn create_bulk_run(&self, run: &NewBulkRun) -> StoreResult<i64> {
        let mut tx = self
            .writer
            .begin()
            .await
            .context("starting to record a bulk run")?;
        let at = to_ms(run.created_at);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO bulk_runs (created_at_ms, user_name, preset, reason, selection) \
             VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
        )
        .bind(at)
        .bind(&run.user)
        .bind(&run.preset)
        .bind(&run.reason)
        .bind(&run.selection)
        .fetch_one(&mut *tx)
        .await
        .context("recording a bulk run")?;

        for (position, appliance) in run.appliances.iter().enumerate() {
            sqlx::query(
                "INSERT INTO bulk_items (run_id, position, appliance, state, words, \
                 updated_at_ms) VALUES (?1, ?2, ?3, 'queued', ?4, ?5)",
            )
            .bind(id)
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(appliance)
            .bind("waiting for a free slot at the backup target")
            .bind(at)
            .execute(&mut *tx)
            .await
            .context("recording the appliances of a bulk run")?;
        }
        tx.commit().await.context("committing a bulk run")?;
        Ok(id)
    }

    /// Moves a queued item to `checking`. False when it is no longer queued (stopped), in
    /// which case it must not be started: the single writer makes this the one decision.
    pub async fn claim_bulk_item(&self, run_id: i64, position: i64) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE bulk_items SET state = 'checking', words = 'checking the appliance', \
             updated_at_ms = ?3 WHERE run_id = ?1 AND position = ?2 AND state = 'queued'",
        )
        .bind(run_id)
        .bind(position)
        .bind(to_ms(Utc::now()))
        .execute(&self.writer)
        .await
        .context("claiming a bulk run item")?;
        Ok(done.rows_affected() == 1)
    }

    /// Records where an item stands. A job id, once set, is kept.
    pub async fn update_bulk_item(
        &self,
        run_id: i64,
        position: i64,
        state: BulkState,
        words: &str,
        job_id: Option<&str>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE bulk_items SET state = ?3, words = ?4, job_id = COALESCE(?5, job_id), \
             updated_at_ms = ?6 WHERE run_id = ?1 AND position = ?2",
        )
        .bind(run_id)
        .bind(position)
        .bind(state.as_str())
        .bind(words)
        .bind(job_id)
        .bind(to_ms(Utc::now()))
        .execute(&self.writer)
        .await
        .context("updating a bulk run item")?;
        Ok(())
    }

    /// Stops every item of run `run_id` still queued and records who did it. Returns how
    /// many items were stopped; nothing is recorded when there were none.
    pub async fn stop_bulk_run(
        &self,
        run_id: i64,
        user: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<usize> {
        let mut tx = self
            .writer
            .begin()
            .await
            .context("starting to stop a bulk run")?;
        let words = format!("stopped by {user} before its start");
        let stopped = sqlx::query(
            "UPDATE bulk_items SET state = 'stopped', words = ?2, updated_at_ms = ?3 \
             WHERE run_id = ?1 AND state = 'queued'",
        )
        .bind(run_id)
        .bind(&words)
        .bind(to_ms(at))
        .execute(&mut *tx)
        .await
        .context("stopping bulk run items")?
        .rows_affected();
        if stopped > 0 {
            sqlx::query(
                "UPDATE bulk_runs SET stopped_by = ?2, stopped_at_ms = ?3 \
                 WHERE id = ?1 AND stopped_by IS NULL",
            )
            .bind(run_id)
            .bind(user)
            .bind(to_ms(at))
            .execute(&mut *tx)
            .await
            .context("recording who stopped a bulk run")?;
        }
        tx.commit().await.context("committing a stop")?;
        Ok(usize::try_from(stopped).unwrap_or(usize::MAX))
    }

    /// Marks every unfinished item of every run as interrupted, at startup, before any
    /// run of this process exists. Returns what each affected run lost.
    // Known gap: an item interrupted while its job ran stays "interrupted" after the
    // poller sees that job end; the job page linked from the line has the outcome.
    pub async fn interrupt_bulk_runs(&self, at: DateTime<Utc>) -> StoreResult<Vec<InterruptedRun>> {
        let mut tx = self
            .writer
            .begin()
            .await
            .context("starting to mark interrupted bulk runs")?;
        let affected: Vec<(i64, String, i64, i64)> = sqlx::query_as(
            "SELECT r.id, r.user_name, \
                    SUM(i.state IN ('queued', 'checking')), SUM(i.state = 'started') \
             FROM bulk_items i JOIN bulk_runs r ON r.id = i.run_id \
             WHERE i.state IN ('queued', 'checking', 'started') \
             GROUP BY r.id ORDER BY r.id",
        )
        .fetch_all(&mut *tx)
        .await
        .context("finding interrupted bulk runs")?;

        for (state, words) in [("queued", NOT_STARTED_WORDS), ("checking", CHECKING_WORDS)] {
            sqlx::query(
                "UPDATE bulk_items SET state = 'interrupted', words = ?2, updated_at_ms = ?3 \
                 WHERE state = ?1",
            )
            .bind(state)
            .bind(words)
            .bind(to_ms(at))
            .execute(&mut *tx)
            .await
            .context("marking unstarted bulk items interrupted")?;
        }
        sqlx::query(
            "UPDATE bulk_items SET state = 'interrupted', \
             words = 'interrupted by restart while job ' || COALESCE(job_id, '?') || \
                     ' ran; the job page shows how it ended', \
             updated_at_ms = ?1 WHERE state = 'started'",
        )
        .bind(to_ms(at))
        .execute(&mut *tx)
        .await
        .context("marking running bulk items interrupted")?;
        tx.commit()
            .await
            .context("committing interrupted bulk runs")?;

        Ok(affected
            .into_iter()
            .map(|(run_id, user, not_started, not_followed)| InterruptedRun {
                run_id,
                user,
                not_started: usize::try_from(not_started).unwrap_or(0),
                not_followed: usize::try_from(not_followed).unwrap_or(0),
            })
            .collect())
    }

    /// Run `id` with every item, if it exists.
    pub async fn bulk_run(&self, id: i64) -> StoreResult<Option<BulkRunRecord>> {
        let run: Option<RunRow> = sqlx::query_as(
            "SELECT id, created_at_ms, user_name, preset, reason, selection, stopped_by, \
             stopped_at_ms FROM bulk_runs WHERE id = ?1",
        )
        .bind(id)
        .fetch_optional(&self.reader)
        .await
        .context("reading a bulk run")?;
        let Some(run) = run else {
            return Ok(None);
        };
        let rows: Vec<ItemRow> = sqlx::query_as(
            "SELECT position, appliance, state, words, job_id, updated_at_ms \
             FROM bulk_items WHERE run_id = ?1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.reader)
        .await
        .context("reading the items of a bulk run")?;

        let items = rows
            .into_iter()
            .map(|row| {
                Ok(BulkItemRecord {
                    position: row.position,
                    state: BulkState::parse(&row.state).ok_or_else(|| StoreError::Corrupt {
                        what: "bulk item state",
                        detail: format!("{:?} is not a state", row.state),
                    })?,
                    appliance: row.appliance,
                    words: row.words,
                    job_id: row.job_id,
                    updated_at: from_ms("bulk item time", row.updated_at_ms)?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let stopped = match (run.stopped_by, run.stopped_at_ms) {
            (Some(user), Some(ms)) => Some((user, from_ms("bulk stop time", ms)?)),
            _ => None,
        };
        Ok(Some(BulkRunRecord {
            id: run.id,
            created_at: from_ms("bulk run time", run.created_at_ms)?,
            user: run.user_name,
            preset: run.preset,
            reason: run.reason,
            selection: run.selection,
            stopped,
            items,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn run_of(store: &Store, names: &[&str]) -> i64 {
        let run = NewBulkRun {
            created_at: Utc::now(),
            user: "ann".into(),
            preset: "nas".into(),
            reason: "patching".into(),
            selection: "3 picked".into(),
            appliances: names.iter().map(|n| (*n).to_owned()).collect(),
        };
        store.create_bulk_run(&run).await.unwrap()
    }

    fn states(run: &BulkRunRecord) -> Vec<BulkState> {
        run.items.iter().map(|i| i.state).collect()
    }

    #[tokio::test]
    async fn stop_takes_only_queued_items_and_a_stopped_item_cannot_be_claimed() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        let id = run_of(&store, &["a", "b", "c"]).await;
        assert!(store.claim_bulk_item(id, 0).await.unwrap());
        store
            .update_bulk_item(id, 0, BulkState::Started, "job 1 runs", Some("j-1"))
            .await
            .unwrap();

        assert_eq!(store.stop_bulk_run(id, "bob", Utc::now()).await.unwrap(), 2);
        assert!(
            !store.claim_bulk_item(id, 1).await.unwrap(),
            "stopped stays stopped"
        );
        assert_eq!(store.stop_bulk_run(id, "eve", Utc::now()).await.unwrap(), 0);

        let run = store.bulk_run(id).await.unwrap().unwrap();
        use BulkState::{Started, Stopped};
        assert_eq!(states(&run), [Started, Stopped, Stopped]);
        assert_eq!(run.stopped.map(|(who, _)| who).as_deref(), Some("bob"));
        assert_eq!(run.items[0].job_id.as_deref(), Some("j-1"));
        assert!(store.bulk_run(id + 1).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_restart_marks_every_unfinished_item_once() {
        let store = Store::open("sqlite::memory:").await.unwrap();
        let id = run_of(&store, &["a", "b", "c", "d"]).await;
        store
            .update_bulk_item(id, 0, BulkState::Started, "runs", Some("j-1"))
            .await
            .unwrap();
        assert!(store.claim_bulk_item(id, 1).await.unwrap());
        store
            .update_bulk_item(id, 3, BulkState::Succeeded, "done", Some("j-3"))
            .await
            .unwrap();
        let done = run_of(&store, &["e"]).await;
        store
            .update_bulk_item(done, 0, BulkState::Failed, "refused", None)
            .await
            .unwrap();

        let interrupted = store.interrupt_bulk_runs(Utc::now()).await.unwrap();
        assert_eq!(
            interrupted,
            [InterruptedRun {
                run_id: id,
                user: "ann".into(),
                not_started: 2,
                not_followed: 1,
            }]
        );
        let run = store.bulk_run(id).await.unwrap().unwrap();
        use BulkState::{Interrupted, Succeeded};
        assert_eq!(
            states(&run),
            [Interrupted, Interrupted, Interrupted, Succeeded]
        );
        assert!(run.items[0].words.contains("while job j-1 ran"));
        assert!(run.items[1].words.contains("being checked or started"));
        assert!(run.items[2].words.contains("before its start"));
        assert!(
            store
                .interrupt_bulk_runs(Utc::now())
                .await
                .unwrap()
                .is_empty()
        );
    }
}
