//! The daily digest: once a day, at the hour a channel asks for in its own zone, a summary
//! of the fleet's statuses and of every appliance with a problem.

use chrono::{DateTime, Timelike, Utc};

use super::message::{Notice, NoticeItem, WEBHOOK_VERSION};
use crate::config::NotifyConfig;
use crate::domain::{ApplianceOverview, Status};
use crate::store::{NewMessage, Store, StoreResult};

/// Appliances listed by name in one digest; the counts cover the rest.
const MAX_LISTED: usize = 50;

/// Queues a digest for every channel whose hour it is at `now` and that has had none on
/// that local day yet. Returns how many were queued.
pub async fn queue_due(
    store: &Store,
    config: &NotifyConfig,
    now: DateTime<Utc>,
) -> StoreResult<usize> {
    let mut queued = 0;
    let mut fleet: Option<Vec<ApplianceOverview>> = None;
    for channel in &config.channels {
        let Some(digest) = channel.digest else {
            continue;
        };
        let local = now.with_timezone(&digest.zone);
        // Only within its hour: a dashboard down at that hour skips the day rather than
        // sending yesterday's summary at an odd time.
        if local.hour() != digest.hour {
            continue;
        }
        let day = local.date_naive().to_string();
        if store.last_digest_day(&channel.name).await?.as_deref() == Some(day.as_str()) {
            continue;
        }

        if fleet.is_none() {
            fleet = Some(store.fleet_overview().await?);
        }
        let notice = digest_notice(fleet.as_deref().unwrap_or_default(), now, &day);
        let message = NewMessage {
            at: now,
            kind: notice.kind.clone(),
            title: notice.title.clone(),
            body: serde_json::to_string(&notice).unwrap_or_else(|_| "{}".into()),
            channels: vec![channel.name.clone()],
        };
        store
            .queue_digest(&channel.name, &day, &message, now)
            .await?;
        queued += 1;
    }
    Ok(queued)
}

/// The digest of `fleet` at `now`.
pub fn digest_notice(fleet: &[ApplianceOverview], now: DateTime<Utc>, day: &str) -> Notice {
    let verdicts: Vec<_> = fleet.iter().map(|o| (o, o.verdict(now))).collect();
    let counts: Vec<String> = Status::ALL
        .iter()
        .filter_map(|status| {
            let n = verdicts.iter().filter(|(_, v)| v.status == *status).count();
            (n > 0).then(|| format!("{n} {}", status.label()))
        })
        .collect();
    let problems: Vec<NoticeItem> = verdicts
        .iter()
        .filter(|(_, v)| {
            matches!(
                v.status,
                Status::Failed | Status::Missed | Status::Unreachable
            )
        })
        .take(MAX_LISTED)
        .map(|(o, v)| NoticeItem {
            appliance: o.name.clone(),
            event: v.status.as_str().to_owned(),
            reason: v.reason.clone(),
            tags: o.tags.clone(),
            target: None,
            repeat: false,
        })
        .collect();

    let title = format!(
        "Backup digest for {day}: {} appliances, {} with a problem",
        fleet.len(),
        verdicts
            .iter()
            .filter(|(_, v)| matches!(
                v.status,
                Status::Failed | Status::Missed | Status::Unreachable
            ))
            .count()
    );
    Notice {
        version: WEBHOOK_VERSION,
        kind: "digest".to_owned(),
        title,
        at: now,
        target: None,
        appliances: problems,
        lines: vec![format!("By status: {}", counts.join(", "))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_fleet_has_a_plain_digest() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let notice = digest_notice(&[], now, "2027-01-15");
        assert_eq!(notice.kind, "digest");
        assert_eq!(
            notice.title,
            "Backup digest for 2027-01-15: 0 appliances, 0 with a problem"
        );
        assert!(notice.appliances.is_empty());
    }
}
