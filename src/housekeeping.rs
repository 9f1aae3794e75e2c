//! Background upkeep of the database: the poll log is pruned so that it never grows
//! without bound. Jobs are history and are kept.

use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

use crate::store::Store;

/// How long the poll log is kept.
// Known gap: fixed at 30 days; making it configurable belongs with the retention settings
// of the history pages.
pub const POLL_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

const EVERY: Duration = Duration::from_secs(3600);

/// Prunes old polls once an hour until `shutdown`.
pub async fn run(store: Store, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(EVERY) => {}
        }

        let cutoff = Utc::now() - POLL_RETENTION;
        match store.prune_polls(cutoff).await {
            Ok(0) => {}
            Ok(count) => info!(count, "pruned old polls"),
            Err(e) => error!(error = %e, "could not prune old polls"),
        }
    }
}
