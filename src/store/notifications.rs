//! What notifications keep: the status last seen of each appliance, events, messages,
//! deliveries and every attempt of them, and the day of each channel's last digest.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::overview::{from_ms, to_ms};
use super::{Context, Store, StoreResult};

/// Most lines one read of the deliveries page returns.
const MAX_LINES: u32 = 2_000;

/// Rows deleted per statement when old history is pruned: each batch is its own short
/// transaction, so the poller's writes wait for one batch at most.
const PRUNE_BATCH: i64 = 500;

/// What was last seen of one appliance, for comparing with the next poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyState {
    /// Status word after the last evaluated poll.
    pub status: String,
    /// The problem last announced, while it stands.
    pub problem: Option<String>,
    /// When `problem` was last announced.
    pub announced_at: Option<DateTime<Utc>>,
    /// Whether the appliance was seen patched since its last good backup.
    pub patched: bool,
}

/// An event to store: one appliance changed in a way people are told about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// When it was found.
    pub at: DateTime<Utc>,
    /// Which appliance.
    pub appliance: String,
    /// failed, missed, unreachable, recovered or patched.
    pub kind: String,
    /// The status sentence.
    pub reason: String,
    /// The appliance's tags, for routing.
    pub tags: Vec<String>,
    /// Host of the backup target, for grouping.
    pub target: Option<String>,
    /// True for a problem announced again.
    pub repeat: bool,
    /// Not made into a message before this.
    pub release_at: DateTime<Utc>,
}

/// A stored event waiting to be made into a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    /// Row id.
    pub id: i64,
    /// The event itself.
    pub event: NewEvent,
}

/// A message to store with the channels it goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// When it was made.
    pub at: DateTime<Utc>,
    /// Event kind, `grouped` or `digest`.
    pub kind: String,
    /// One line that says it all.
    pub title: String,
    /// The message as JSON.
    pub body: String,
    /// Channel names.
    pub channels: Vec<String>,
}

/// A delivery whose next attempt is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDelivery {
    /// Row id.
    pub id: i64,
    /// Channel name.
    pub channel: String,
    /// Attempts made so far.
    pub attempts: u32,
    /// The message as JSON.
    pub body: String,
}

/// How an attempt ended, and what follows for its delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptResult {
    /// Delivered.
    Sent,
    /// Failed; tried again at the given time.
    Retry {
        /// The error in words.
        error: String,
        /// When to try again.
        next_at: DateTime<Utc>,
    },
    /// Failed for the last time.
    GaveUp {
        /// The error in words.
        error: String,
    },
}

/// What one pruning of the notification history removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrunedNotifications {
    /// Events already made into messages (or silenced).
    pub events: u64,
    /// Messages none of whose deliveries still waits, each with its deliveries and their
    /// attempts.
    pub messages: u64,
}

impl PrunedNotifications {
    /// True when nothing was removed.
    pub fn is_empty(&self) -> bool {
        self.events == 0 && self.messages == 0
    }
}

/// One line of the deliveries page: an attempt, or a silenced event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryLine {
    /// When the attempt was made (or the event silenced).
    pub at: DateTime<Utc>,
    /// Channel name; empty for a silenced event.
    pub channel: String,
    /// Message kind.
    pub kind: String,
    /// Message title.
    pub title: String,
    /// Attempt number, from 1; 0 for a silenced event.
    pub attempt: u32,
    /// sent, error, or silenced.
    pub outcome: String,
    /// The error or the silencing reason.
    pub detail: Option<String>,
    /// State of the delivery now: pending, sent, failed, or silenced.
    pub state: String,
}

#[derive(FromRow)]
struct StateRow {
    status: String,
    problem: Option<String>,
    announced_at_ms: Option<i64>,
    patched: bool,
}

#[derive(FromRow)]
struct EventRow {
    id: i64,
    at_ms: i64,
    appliance: String,
    kind: String,
    reason: String,
    tags: String,
    target: Option<String>,
    repeat: bool,
    release_at_ms: i64,
}

#[derive(FromRow)]
struct DueRow {
    id: i64,
    channel: String,
    attempts: i64,
    body: String,
}

#[derive(FromRow)]
struct LineRow {
    at_ms: i64,
    channel: String,
    kind: String,
    title: String,
    attempt: i64,
    outcome: String,
    detail: Option<String>,
    state: String,
}

impl Store {
    /// What was last seen of `appliance`; `None` before its first evaluation.
    pub async fn notify_state(&self, appliance: &str) -> StoreResult<Option<NotifyState>> {
        let row: Option<StateRow> = sqlx::query_as(
            "SELECT status, problem, announced_at_ms, patched FROM notify_state \
             WHERE appliance = ?1",
        )
        .bind(appliance)
        .fetch_optional(&self.writer)
        .await
        .context("reading the notification state")?;
        row.map(|r| {
            Ok(NotifyState {
                status: r.status,
                problem: r.problem,
                announced_at: r
                    .announced_at_ms
                    .map(|ms| from_ms("announcement time", ms))
                    .transpose()?,
                patched: r.patched,
            })
        })
        .transpose()
    }

    /// Saves the new state of `appliance` and the events it caused, together: a crash
    /// leaves either both or neither.
    pub async fn save_notify_transition(
        &self,
        appliance: &str,
        state: &NotifyState,
        at: DateTime<Utc>,
        events: &[NewEvent],
    ) -> StoreResult<()> {
        let mut tx = self
            .writer
            .begin()
            .await
            .context("starting a notification transition")?;
        sqlx::query(
            "INSERT INTO notify_state (appliance, status, problem, announced_at_ms, patched, \
             updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (appliance) DO UPDATE SET status = excluded.status, \
             problem = excluded.problem, announced_at_ms = excluded.announced_at_ms, \
             patched = excluded.patched, updated_at_ms = excluded.updated_at_ms",
        )
        .bind(appliance)
        .bind(&state.status)
        .bind(&state.problem)
        .bind(state.announced_at.map(to_ms))
        .bind(state.patched)
        .bind(to_ms(at))
        .execute(&mut *tx)
        .await
        .context("saving the notification state")?;

        for event in events {
            let tags = serde_json::to_string(&event.tags).unwrap_or_else(|_| "[]".into());
            sqlx::query(
                "INSERT INTO notify_events (at_ms, appliance, kind, reason, tags, target, \
                 repeat, release_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )
            .bind(to_ms(event.at))
            .bind(&event.appliance)
            .bind(&event.kind)
            .bind(&event.reason)
            .bind(tags)
            .bind(&event.target)
            .bind(event.repeat)
            .bind(to_ms(event.release_at))
            .execute(&mut *tx)
            .await
            .context("saving a notification event")?;
        }
        tx.commit()
            .await
            .context("committing a notification transition")?;
        Ok(())
    }

    /// Every event not yet made into a message, oldest first.
    pub async fn unrouted_events(&self) -> StoreResult<Vec<StoredEvent>> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT id, at_ms, appliance, kind, reason, tags, target, repeat, release_at_ms \
             FROM notify_events WHERE routed = 0 ORDER BY at_ms, id LIMIT 10000",
        )
        .fetch_all(&self.writer)
        .await
        .context("reading notification events")?;
        rows.into_iter()
            .map(|r| {
                Ok(StoredEvent {
                    id: r.id,
                    event: NewEvent {
                        at: from_ms("event time", r.at_ms)?,
                        appliance: r.appliance,
                        kind: r.kind,
                        reason: r.reason,
                        tags: serde_json::from_str(&r.tags).unwrap_or_default(),
                        target: r.target,
                        repeat: r.repeat,
                        release_at: from_ms("event release time", r.release_at_ms)?,
                    },
                })
            })
            .collect()
    }

    /// Marks events as handled, `silenced` ones with their reason, and queues `messages`
    /// for delivery from `now`, all in one transaction.
    pub async fn route_events(
        &self,
        routed: &[(i64, Option<String>)],
        messages: &[NewMessage],
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let mut tx = self
            .writer
            .begin()
            .await
            .context("starting to route notifications")?;
        for (id, silenced) in routed {
            sqlx::query("UPDATE notify_events SET routed = 1, silenced = ?2 WHERE id = ?1")
                .bind(id)
                .bind(silenced)
                .execute(&mut *tx)
                .await
                .context("marking a notification event routed")?;
        }
        for message in messages {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO notify_messages (at_ms, kind, title, body) VALUES (?1, ?2, ?3, ?4) \
                 RETURNING id",
            )
            .bind(to_ms(message.at))
            .bind(&message.kind)
            .bind(&message.title)
            .bind(&message.body)
            .fetch_one(&mut *tx)
            .await
            .context("saving a notification message")?;
            for channel in &message.channels {
                sqlx::query(
                    "INSERT INTO notify_deliveries (message_id, channel, state, next_at_ms) \
                     VALUES (?1, ?2, 'pending', ?3)",
                )
                .bind(id)
                .bind(channel)
                .bind(to_ms(now))
                .execute(&mut *tx)
                .await
                .context("queueing a notification delivery")?;
            }
        }
        tx.commit()
            .await
            .context("committing notification routes")?;
        Ok(())
    }

    /// Pending deliveries whose next attempt is due at `now`, oldest first.
    pub async fn due_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DueDelivery>> {
        let rows: Vec<DueRow> = sqlx::query_as(
            "SELECT d.id, d.channel, d.attempts, m.body FROM notify_deliveries AS d \
             JOIN notify_messages AS m ON m.id = d.message_id \
             WHERE d.state = 'pending' AND d.next_at_ms <= ?1 ORDER BY d.next_at_ms, d.id \
             LIMIT ?2",
        )
        .bind(to_ms(now))
        .bind(i64::from(limit))
        .fetch_all(&self.writer)
        .await
        .context("reading due notification deliveries")?;
        Ok(rows
            .into_iter()
            .map(|r| DueDelivery {
                id: r.id,
                channel: r.channel,
                attempts: u32::try_from(r.attempts).unwrap_or(0),
                body: r.body,
            })
            .collect())
    }

    /// When the earliest pending delivery is due, if any is pending.
    pub async fn next_delivery_at(&self) -> StoreResult<Option<DateTime<Utc>>> {
        let ms: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(next_at_ms) FROM notify_deliveries WHERE state = 'pending'",
        )
        .fetch_one(&self.writer)
        .await
        .context("reading the next notification delivery")?;
        ms.map(|ms| from_ms("delivery time", ms)).transpose()
    }

    /// Deliveries still waiting to be sent or retried.
    pub async fn pending_delivery_count(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM notify_deliveries WHERE state = 'pending'")
            .fetch_one(&self.writer)
            .await
            .context("counting pending notification deliveries")
    }

    /// Events stored but not yet made into messages.
    pub async fn unrouted_event_count(&self) -> StoreResult<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM notify_events WHERE routed = 0")
            .fetch_one(&self.writer)
            .await
            .context("counting notification events")
    }

    /// Records attempt number `attempt` of a delivery and moves the delivery on.
    pub async fn record_delivery_attempt(
        &self,
        delivery_id: i64,
        attempt: u32,
        at: DateTime<Utc>,
        duration_ms: i64,
        result: &AttemptResult,
    ) -> StoreResult<()> {
        let (outcome, error, state, next_at) = match result {
            AttemptResult::Sent => ("sent", None, "sent", at),
            AttemptResult::Retry { error, next_at } => ("error", Some(error), "pending", *next_at),
            AttemptResult::GaveUp { error } => ("error", Some(error), "failed", at),
        };
        let mut tx = self
            .writer
            .begin()
            .await
            .context("starting to record a delivery attempt")?;
        sqlx::query(
            "INSERT INTO notify_attempts (delivery_id, attempt, at_ms, duration_ms, outcome, \
             error) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .bind(delivery_id)
        .bind(i64::from(attempt))
        .bind(to_ms(at))
        .bind(duration_ms)
        .bind(outcome)
        .bind(error)
        .execute(&mut *tx)
        .await
        .context("recording a delivery attempt")?;
        sqlx::query(
            "UPDATE notify_deliveries SET state = ?2, attempts = ?3, next_at_ms = ?4 \
             WHERE id = ?1",
        )
        .bind(delivery_id)
        .bind(state)
        .bind(i64::from(attempt))
        .bind(to_ms(next_at))
        .execute(&mut *tx)
        .await
        .context("updating a delivery")?;
        tx.commit().await.context("committing a delivery attempt")?;
        Ok(())
    }

    /// Delivery attempts and silenced events, newest first.
    pub async fn delivery_lines(&self, limit: u32) -> StoreResult<Vec<DeliveryLine>> {
        let rows: Vec<LineRow> = sqlx::query_as(
            "SELECT * FROM ( \
               SELECT t.at_ms, d.channel, m.kind, m.title, t.attempt, t.outcome, \
                      t.error AS detail, d.state, t.id AS tie \
               FROM notify_attempts AS t \
               JOIN notify_deliveries AS d ON d.id = t.delivery_id \
               JOIN notify_messages AS m ON m.id = d.message_id \
               UNION ALL \
               SELECT e.at_ms, '' AS channel, e.kind, e.appliance || ': ' || e.reason, \
                      0, 'silenced', e.silenced, 'silenced', -e.id \
               FROM notify_events AS e WHERE e.silenced IS NOT NULL \
             ) ORDER BY at_ms DESC, tie DESC LIMIT ?1",
        )
        .bind(i64::from(limit.min(MAX_LINES)))
        .fetch_all(&self.reader)
        .await
        .context("reading notification deliveries")?;
        rows.into_iter()
            .map(|r| {
                Ok(DeliveryLine {
                    at: from_ms("attempt time", r.at_ms)?,
                    channel: r.channel,
                    kind: r.kind,
                    title: r.title,
                    attempt: u32::try_from(r.attempt).unwrap_or(0),
                    outcome: r.outcome,
                    detail: r.detail,
                    state: r.state,
                })
            })
            .collect()
    }

    /// Deliveries not yet sent or given up, oldest first: for the page's summary.
    pub async fn waiting_deliveries(&self) -> StoreResult<Vec<(String, String, u32)>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT d.channel, m.title, d.attempts FROM notify_deliveries AS d \
             JOIN notify_messages AS m ON m.id = d.message_id \
             WHERE d.state = 'pending' ORDER BY d.id LIMIT 200",
        )
        .fetch_all(&self.reader)
        .await
        .context("reading waiting notification deliveries")?;
        Ok(rows
            .into_iter()
            .map(|(c, t, a)| (c, t, u32::try_from(a).unwrap_or(0)))
            .collect())
    }

    /// The local day of the last digest queued for `channel`.
    pub async fn last_digest_day(&self, channel: &str) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT last_day FROM notify_digests WHERE channel = ?1")
            .bind(channel)
            .fetch_optional(&self.writer)
            .await
            .context("reading the last digest day")
    }

    /// Queues a digest `message` and remembers `day` as its channel's last digest day.
    pub async fn queue_digest(
        &self,
        channel: &str,
        day: &str,
        message: &NewMessage,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        // Queued first: a crash in between sends a digest twice rather than never.
        self.route_events(&[], std::slice::from_ref(message), now)
            .await?;
        sqlx::query(
            "INSERT INTO notify_digests (channel, last_day) VALUES (?1, ?2) \
             ON CONFLICT (channel) DO UPDATE SET last_day = excluded.last_day",
        )
        .bind(channel)
        .bind(day)
        .execute(&self.writer)
        .await
        .context("saving the last digest day")?;
        Ok(())
    }
}

impl Store {
    /// Deletes the notification history from before `before`: routed events, and messages
    /// with their deliveries and attempts once none of those deliveries is still pending or
    /// retrying. Events not yet routed, the state each appliance was last seen in (which
    /// keeps announcements from repeating) and the day of each channel's last digest are
    /// never deleted here.
    pub async fn prune_notifications(
        &self,
        before: DateTime<Utc>,
    ) -> StoreResult<PrunedNotifications> {
        let cutoff = to_ms(before);
        let mut pruned = PrunedNotifications::default();

        loop {
            let done = sqlx::query(
                "DELETE FROM notify_events WHERE id IN ( \
                   SELECT id FROM notify_events WHERE at_ms < ?1 AND routed = 1 LIMIT ?2)",
            )
            .bind(cutoff)
            .bind(PRUNE_BATCH)
            .execute(&self.writer)
            .await
            .context("pruning old notification events")?;
            pruned.events += done.rows_affected();
            if done.rows_affected() < PRUNE_BATCH as u64 {
                break;
            }
            tokio::task::yield_now().await;
        }

        // Deliveries and attempts go with their message through `ON DELETE CASCADE`.
        loop {
            let done = sqlx::query(
                "DELETE FROM notify_messages WHERE id IN ( \
                   SELECT m.id FROM notify_messages AS m WHERE m.at_ms < ?1 \
                     AND NOT EXISTS (SELECT 1 FROM notify_deliveries AS d \
                       WHERE d.message_id = m.id AND d.state = 'pending') \
                   LIMIT ?2)",
            )
            .bind(cutoff)
            .bind(PRUNE_BATCH)
            .execute(&self.writer)
            .await
            .context("pruning old notification messages")?;
            pruned.messages += done.rows_affected();
            if done.rows_affected() < PRUNE_BATCH as u64 {
                break;
            }
            tokio::task::yield_now().await;
        }
        Ok(pruned)
    }
}
