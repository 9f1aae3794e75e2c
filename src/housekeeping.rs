//! Background upkeep of the database: jobs and polls older than their retention are
//! pruned in small batches, so the database never grows without bound.

use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;
use tracing::{error, info};

use crate::config::RetentionConfig;
use crate::store::Store;

const EVERY: Duration = Duration::from_secs(3600);

/// Prunes old jobs and polls once an hour until `shutdown`.
pub async fn run(store: Store, retention: RetentionConfig, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(EVERY) => {}
        }
        prune_once(&store, &retention).await;
    }
}

/// One round of pruning: jobs, then polls. Failures are logged and retried next round.
pub async fn prune_once(store: &Store, retention: &RetentionConfig) {
    let now = Utc::now();

    if let Some(cutoff) = chrono::Duration::from_std(retention.jobs)
        .ok()
        .and_then(|keep| now.checked_sub_signed(keep))
    {
        match store.prune_jobs(cutoff).await {
            Ok(0) => {}
            Ok(count) => info!(count, "pruned old jobs"),
            Err(e) => error!(error = %e, "could not prune old jobs"),
        }
    }

    if let Some(cutoff) = chrono::Duration::from_std(retention.polls)
        .ok()
        .and_then(|keep| now.checked_sub_signed(keep))
    {
        match store.prune_polls(cutoff).await {
            Ok(0) => {}
            Ok(count) => info!(count, "pruned old polls"),
            Err(e) => error!(error = %e, "could not prune old polls"),
        }
    }
}
