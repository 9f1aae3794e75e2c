//! Background upkeep of the database: jobs, polls and notification history older than
//! their retention are pruned in small batches, and failed sign-ins that no longer count
//! are forgotten, so the database never grows without bound.

use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info};

use crate::config::RetentionConfig;
use crate::store::Store;
use crate::web::auth::limiter;

const EVERY: Duration = Duration::from_secs(3600);

/// Prunes old history once an hour until `shutdown`.
pub async fn run(store: Store, retention: RetentionConfig, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(EVERY) => {}
        }
        prune_once(&store, &retention).await;
    }
}

/// One round of pruning: jobs, polls, notification history, then expired sign-in
/// failures. Failures are logged and retried next round.
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

    if let Some(cutoff) = chrono::Duration::from_std(retention.notifications)
        .ok()
        .and_then(|keep| now.checked_sub_signed(keep))
    {
        match store.prune_notifications(cutoff).await {
            Ok(pruned) if pruned.is_empty() => {}
            Ok(pruned) => info!(
                events = pruned.events,
                messages = pruned.messages,
                "pruned old notification history"
            ),
            Err(e) => error!(error = %e, "could not prune old notification history"),
        }
    }

    match store.forget_sign_in_failures(now - limiter::window()).await {
        Ok(0) => {}
        Ok(count) => debug!(count, "forgot expired sign-in failures"),
        Err(e) => error!(error = %e, "could not forget expired sign-in failures"),
    }
}
