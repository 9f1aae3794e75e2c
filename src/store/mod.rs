//! SQLite storage: every SQL statement of vbdash lives in this module.
//!
//! The database is one SQLite file in WAL mode. Writes go through a pool of a single
//! connection, so writers queue in the application instead of failing on SQLite's lock;
//! reads use a small pool of their own and never wait for a write in WAL mode.
//!
//! Each file holds the statements of one table or aggregate: `appliances`, `polls` (and
//! `record_poll`, which writes to all of them), `jobs`, `schedules`, `overview`, which
//! maps rows to domain types, `trends`, the range reads of the history pages, and `as_of`,
//! the fleet rebuilt at a past moment; `history` holds the pure rules that read meaning
//! into those rows; `users` and `sessions` hold who may sign in; `acks` holds the
//! acknowledgements (mirrored in memory) and `silence` answers whether an appliance is
//! acknowledged or in a maintenance window, without touching the database; `bulk` holds
//! bulk backup runs and where each of their appliances stands.
//! `api_tokens` holds the digests of the JSON API's tokens; `job_search` and
//! `run_summary` are the API's reads.
//! `notifications` holds what was announced, to whom, and how each delivery went;
//! `sign_in_failures` counts failed sign-ins so that a lockout outlives a restart.

mod acks;
mod actions;
mod api_tokens;
mod appliances;
mod as_of;
mod bulk;
mod daily_rates;
mod health;
pub mod history;
mod job_search;
mod job_texts;
mod jobs;
mod notifications;
mod overview;
mod polls;
mod run_summary;
mod schedules;
mod sessions;
mod sign_in_failures;
pub mod silence;
mod snapshot;
mod trends;
mod users;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub use acks::{
    ACTION_ACK, ACTION_EXPIRED, ACTION_RECOVERED, ACTION_UNACK, AckEnd, Acknowledgement, EndedAck,
    SYSTEM_USER,
};
pub use actions::{AuditEntry, AuditFilter};
pub use api_tokens::{ApiToken, TokenScope};
pub use appliances::ApplianceSettings;
pub use bulk::{BulkItemRecord, BulkRunRecord, BulkState, InterruptedRun, NewBulkRun};
pub use job_search::{FoundJob, JobCursor, JobSearch, MAX_SEARCH_LIMIT};
pub use jobs::{JobPage, StoredJob};
pub use notifications::{
    AttemptResult, DeliveryLine, DueDelivery, NewEvent, NewMessage, NotifyState,
    PrunedNotifications, StoredEvent,
};
pub use run_summary::RunSummary;
pub use schedules::ScheduleChange;
pub use sessions::SessionRecord;
pub use sign_in_failures::SignInKey;
pub use snapshot::{FleetSnapshot, SHARED_FROM_APPLIANCES};
pub use trends::{
    CauseGroup, DailyRate, ExportRow, FailureCauses, JobFilter, JobMark, RunPoint, ScheduleMark,
    TrendAppliance,
};
pub use users::{Role, UnknownRole, UserCredentials, UserSummary};

/// How long a statement waits for a lock held by another process before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Read connections kept open; reads are short, so a few serve every page.
const READ_CONNECTIONS: u32 = 4;

/// Handle to the database; cheap to clone and shared by the web layer and the poller.
#[derive(Clone)]
pub struct Store {
    /// One connection: writes are serialised here rather than by SQLite's busy handler.
    writer: SqlitePool,
    /// Connections for reads; the same pool as `writer` for an in-memory database.
    reader: SqlitePool,
    /// The acknowledgements, mirrored in memory for readers that must not wait.
    acks: Arc<acks::AckCache>,
    /// Days of the fleet's success rate already counted, forgotten by the writes that
    /// change them.
    daily_rates: Arc<daily_rates::DailyRateCache>,
    /// The fleet overview shared by many viewers of a large fleet.
    snapshots: Arc<snapshot::SnapshotSlot>,
}

/// What went wrong in the store. The text says what was being done, never what was stored.
/// Causes are part of the message rather than a `source`, so that printing the whole
/// chain does not repeat them.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened or created.
    #[error("cannot open the database {location}: {reason}")]
    Open {
        location: String,
        reason: sqlx::Error,
    },

    /// The schema could not be brought up to date.
    #[error("cannot apply the migrations to the database {location}: {reason}")]
    Migrate {
        location: String,
        reason: sqlx::migrate::MigrateError,
    },

    /// A statement failed; `action` says which step, such as "recording a poll".
    #[error("{action} failed: {reason}")]
    Query {
        action: &'static str,
        reason: sqlx::Error,
    },

    /// A poll was recorded for an appliance that was never synced from the configuration.
    #[error("appliance {0:?} is not in the database")]
    UnknownAppliance(String),

    /// A stored value could not be read back, which means the file was changed by hand.
    #[error("stored {what} cannot be read: {detail}")]
    Corrupt { what: &'static str, detail: String },
}

/// The result of every store call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Attaches the step being done to a database error.
trait Context<T> {
    fn context(self, action: &'static str) -> StoreResult<T>;
}

impl<T> Context<T> for Result<T, sqlx::Error> {
    fn context(self, action: &'static str) -> StoreResult<T> {
        self.map_err(|source| StoreError::Query {
            action,
            reason: source,
        })
    }
}

impl Store {
    /// Opens (and creates when missing) the database at `url_or_path`, which is a sqlx URL
    /// such as `sqlite://vbdash.db` or `sqlite::memory:`, or a plain file path. The file is
    /// switched to WAL, foreign keys are enforced, and pending migrations are applied.
    pub async fn open(url_or_path: &str) -> StoreResult<Store> {
        let open_error = |source| StoreError::Open {
            location: url_or_path.to_owned(),
            reason: source,
        };

        let in_memory = is_in_memory(url_or_path);
        let options = connect_options(url_or_path, in_memory).map_err(open_error)?;

        let store = if in_memory {
            // Every connection to a memory database would see its own empty database unless
            // they share one; a single connection that never closes keeps it alive.
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(options)
                .await
                .map_err(open_error)?;
            Store {
                writer: pool.clone(),
                reader: pool,
                acks: Arc::default(),
                daily_rates: Arc::default(),
                snapshots: Arc::default(),
            }
        } else {
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options.clone())
                .await
                .map_err(open_error)?;
            let reader = SqlitePoolOptions::new()
                .max_connections(READ_CONNECTIONS)
                .connect_with(options)
                .await
                .map_err(open_error)?;
            Store {
                writer,
                reader,
                acks: Arc::default(),
                daily_rates: Arc::default(),
                snapshots: Arc::default(),
            }
        };

        sqlx::migrate!()
            .run(&store.writer)
            .await
            .map_err(|source| StoreError::Migrate {
                location: url_or_path.to_owned(),
                reason: source,
            })?;
        store.reload_acknowledgements().await?;

        tracing::info!(database = url_or_path, "database opened");
        Ok(store)
    }

    /// Waits for running statements and closes every connection. Later calls fail.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// True for the URL forms sqlx reads as an in-memory database.
fn is_in_memory(url_or_path: &str) -> bool {
    url_or_path == ":memory:"
        || url_or_path.starts_with("sqlite:")
            && (url_or_path.contains(":memory:") || url_or_path.contains("mode=memory"))
}

/// Connection settings for every connection of the store.
fn connect_options(url_or_path: &str, in_memory: bool) -> sqlx::Result<SqliteConnectOptions> {
    let base = if url_or_path == ":memory:" {
        SqliteConnectOptions::from_str("sqlite::memory:")?
    } else if url_or_path.starts_with("sqlite:") {
        SqliteConnectOptions::from_str(url_or_path)?
    } else {
        SqliteConnectOptions::new().filename(url_or_path)
    };

    let options = base
        .create_if_missing(true)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    if in_memory {
        return Ok(options);
    }

    // WAL lets pages be read while a poll is written; NORMAL sync is safe with WAL (a
    // power cut may lose the last commits, never corrupt the file).
    Ok(options
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .optimize_on_close(true, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_urls_are_recognised() {
        assert!(is_in_memory("sqlite::memory:"));
        assert!(is_in_memory("sqlite://?mode=memory"));
        assert!(!is_in_memory("sqlite://vbdash.db"));
        assert!(is_in_memory(":memory:"));
        assert!(!is_in_memory("memory.db"));
    }
}
