//! Notifications: after each poll, the appliance's status is compared with what was last
//! seen; a change people care about becomes an event, events become messages (failures at
//! one backup target grouped), messages are routed to channels by tag, and a delivery task
//! sends them with retries. Polling only drops a name into a queue: a slow or broken
//! channel never holds it up.
//!
//! Everything that must survive a restart is in the database: the status last seen (so
//! nothing is announced twice), events not yet sent, and deliveries not yet made.

mod digest;
mod message;
mod routing;
mod send;
mod silence;
mod transitions;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

use crate::config::{ChannelConfig, NotifyConfig};
use crate::domain::ApplianceOverview;
use crate::store::{AttemptResult, DueDelivery, NewEvent, NewMessage, Store, StoreResult};

pub use message::{Notice, NoticeItem, WEBHOOK_VERSION};
pub use routing::channels_for;
pub use send::ChannelSender;
pub use silence::{NeverSilenced, Silencer};
pub use transitions::{Decision, EventKind, decide};

/// Names of polled appliances waiting to be evaluated; a full queue drops names, which
/// costs nothing lasting: the next poll of the appliance evaluates it again.
const QUEUE_LENGTH: usize = 4096;

/// Deliveries to one channel in flight at once: a hanging channel holds only its own.
const PER_CHANNEL: usize = 4;

/// Deliveries read from the database at a time.
const DUE_BATCH: u32 = 64;

/// Longest sleep of the delivery and routing loops when nothing wakes them.
const IDLE_TICK: std::time::Duration = std::time::Duration::from_secs(1);

/// The notification engine. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Notifier {
    store: Store,
    config: Arc<NotifyConfig>,
    silencer: Arc<dyn Silencer>,
    sender: ChannelSender,
    channels: Arc<HashMap<String, ChannelConfig>>,
    wake_delivery: Arc<Notify>,
    in_flight: Arc<Mutex<HashSet<i64>>>,
    limits: Arc<HashMap<String, Arc<Semaphore>>>,
    /// Evaluating and routing read state and write it back: one at a time, so that two
    /// callers never announce the same change twice.
    bookkeeping: Arc<tokio::sync::Mutex<()>>,
}

impl Notifier {
    /// An engine over `store` with `config`, silencing nothing.
    pub fn new(store: Store, config: NotifyConfig) -> Result<Notifier, String> {
        let sender = ChannelSender::new(config.timeout)?;
        let channels: HashMap<String, ChannelConfig> = config
            .channels
            .iter()
            .map(|c| (c.name.clone(), c.clone()))
            .collect();
        let limits = channels
            .keys()
            .map(|name| (name.clone(), Arc::new(Semaphore::new(PER_CHANNEL))))
            .collect();
        Ok(Notifier {
            store,
            config: Arc::new(config),
            silencer: Arc::new(NeverSilenced),
            sender,
            channels: Arc::new(channels),
            wake_delivery: Arc::new(Notify::new()),
            in_flight: Arc::new(Mutex::new(HashSet::new())),
            limits: Arc::new(limits),
            bookkeeping: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// The same engine asking `silencer` before each announcement.
    pub fn with_silencer(mut self, silencer: Arc<dyn Silencer>) -> Notifier {
        self.silencer = silencer;
        self
    }

    /// Compares `appliance`'s status at `now` with what was last seen, and stores the new
    /// state with the events it causes. Returns the number of events.
    pub async fn evaluate(&self, appliance: &str, now: DateTime<Utc>) -> StoreResult<usize> {
        let _one_at_a_time = self.bookkeeping.lock().await;
        let Some(overview) = self.store.appliance_overview(appliance).await? else {
            return Ok(0);
        };
        let verdict = overview.verdict(now);
        let patched = patched_since_last_good(&overview);
        let previous = self.store.notify_state(appliance).await?;

        let repeat = Duration::from_std(self.config.repeat).unwrap_or(Duration::hours(4));
        let decision = decide(previous.as_ref(), verdict.status, patched, now, repeat);
        if decision.events.is_empty() && previous.as_ref() == Some(&decision.state) {
            return Ok(0);
        }

        let target = target_host(&overview);
        let window = Duration::from_std(self.config.group_window).unwrap_or_default();
        let events: Vec<NewEvent> = decision
            .events
            .iter()
            .map(|(kind, repeat)| {
                let groups = *kind == EventKind::Failed && target.is_some();
                NewEvent {
                    at: now,
                    appliance: appliance.to_owned(),
                    kind: kind.as_str().to_owned(),
                    reason: event_reason(*kind, &overview, &verdict.reason),
                    tags: overview.tags.clone(),
                    target: target.clone(),
                    repeat: *repeat,
                    release_at: message::release_time(now, groups, window),
                }
            })
            .collect();
        self.store
            .save_notify_transition(appliance, &decision.state, now, &events)
            .await?;
        for event in &events {
            info!(
                appliance.name = %appliance,
                event = %event.kind,
                repeat = event.repeat,
                "notification event"
            );
        }
        Ok(events.len())
    }

    /// Turns the events due at `now` into messages and queues one delivery per channel.
    /// Returns the number of messages queued.
    pub async fn route_due(&self, now: DateTime<Utc>) -> StoreResult<usize> {
        let _one_at_a_time = self.bookkeeping.lock().await;
        let events = self.store.unrouted_events().await?;
        let batches = message::batches(&events, now);
        if batches.is_empty() {
            return Ok(0);
        }

        let mut handled = Vec::new();
        let mut messages = Vec::new();
        for batch in &batches {
            let mut audible = Vec::new();
            for event in batch {
                let e = &event.event;
                let silenced = self.silencer.silenced(&e.appliance, &e.tags, now);
                if let Some(why) = &silenced {
                    info!(appliance.name = %e.appliance, event = %e.kind, reason = %why,
                        "notification silenced");
                } else {
                    audible.push(*event);
                }
                handled.push((event.id, silenced));
            }
            messages.extend(self.messages_for(&audible, now));
        }

        // A new message is due at once, whatever moment it was made for.
        let due = now.min(Utc::now());
        self.store.route_events(&handled, &messages, due).await?;
        if !messages.is_empty() {
            self.wake_delivery.notify_one();
        }
        Ok(messages.len())
    }

    /// One message per distinct set of appliances a channel hears about.
    fn messages_for(
        &self,
        batch: &[&crate::store::StoredEvent],
        now: DateTime<Utc>,
    ) -> Vec<NewMessage> {
        let items = message::items_of(batch);
        let mut by_channel: Vec<(String, Vec<NoticeItem>)> = Vec::new();
        for item in items {
            for channel in channels_for(&self.config, &item.tags) {
                match by_channel.iter_mut().find(|(c, _)| *c == channel) {
                    Some((_, list)) => list.push(item.clone()),
                    None => by_channel.push((channel, vec![item.clone()])),
                }
            }
        }

        let mut messages: Vec<(Notice, Vec<String>)> = Vec::new();
        for (channel, items) in by_channel {
            match messages.iter_mut().find(|(n, _)| n.appliances == items) {
                Some((_, channels)) => channels.push(channel),
                None => messages.push((Notice::for_items(items, now), vec![channel])),
            }
        }
        messages
            .into_iter()
            .map(|(notice, channels)| to_message(&notice, channels))
            .collect()
    }

    /// Queues the daily digests due at `now`. Returns how many were queued.
    pub async fn queue_digests(&self, now: DateTime<Utc>) -> StoreResult<usize> {
        digest::queue_due(&self.store, &self.config, now).await
    }

    /// Starts attempts for every delivery due at `now` not already in flight, each in its
    /// own task. Returns how many were started.
    pub fn start_due_deliveries(&self, due: Vec<DueDelivery>, tasks: &mut JoinSet<()>) -> usize {
        let mut started = 0;
        for delivery in due {
            let fresh = self
                .in_flight
                .lock()
                .map(|mut set| set.insert(delivery.id))
                .unwrap_or(false);
            if !fresh {
                continue;
            }
            started += 1;
            let engine = self.clone();
            tasks.spawn(async move {
                let id = delivery.id;
                engine.attempt(delivery).await;
                if let Ok(mut set) = engine.in_flight.lock() {
                    set.remove(&id);
                }
                engine.wake_delivery.notify_one();
            });
        }
        started
    }

    /// Makes one attempt of `delivery` and records it.
    async fn attempt(&self, delivery: DueDelivery) {
        let number = delivery.attempts + 1;
        let Some(channel) = self.channels.get(&delivery.channel) else {
            let error = "the channel is no longer configured".to_owned();
            self.record(
                &delivery,
                number,
                Utc::now(),
                0,
                AttemptResult::GaveUp { error },
            )
            .await;
            return;
        };
        let notice: Notice = match serde_json::from_str(&delivery.body) {
            Ok(notice) => notice,
            Err(e) => {
                let error = format!("the stored message cannot be read: {e}");
                self.record(
                    &delivery,
                    number,
                    Utc::now(),
                    0,
                    AttemptResult::GaveUp { error },
                )
                .await;
                return;
            }
        };

        // Per-channel limit: a channel that hangs holds its own permits, no one else's.
        let limit = self.limits.get(&delivery.channel).cloned();
        let _permit = match &limit {
            Some(limit) => limit.acquire().await.ok(),
            None => None,
        };

        let at = Utc::now();
        let timer = Instant::now();
        let sent = self.sender.send(channel, &notice).await;
        let duration_ms = i64::try_from(timer.elapsed().as_millis()).unwrap_or(i64::MAX);

        let result = match sent {
            Ok(()) => {
                info!(channel = %channel.name, attempt = number, duration_ms,
                    title = %notice.title, "notification sent");
                AttemptResult::Sent
            }
            Err(error) if number >= self.config.max_attempts => {
                error!(channel = %channel.name, attempt = number, error = %error,
                    "notification given up");
                AttemptResult::GaveUp { error }
            }
            Err(error) => {
                let wait = retry_wait(&self.config, number);
                warn!(channel = %channel.name, attempt = number, error = %error,
                    retry_in_ms = wait.num_milliseconds(), "notification failed; will retry");
                AttemptResult::Retry {
                    error,
                    next_at: Utc::now() + wait,
                }
            }
        };
        self.record(&delivery, number, at, duration_ms, result)
            .await;
    }

    async fn record(
        &self,
        delivery: &DueDelivery,
        number: u32,
        at: DateTime<Utc>,
        duration_ms: i64,
        result: AttemptResult,
    ) {
        let recorded = self
            .store
            .record_delivery_attempt(delivery.id, number, at, duration_ms, &result)
            .await;
        if let Err(e) = recorded {
            error!(channel = %delivery.channel, error = %e, "could not record a delivery");
        }
    }

    /// Starts the engine's tasks: evaluation of polled appliances, routing, delivery and
    /// digests. Returns the queue the poller feeds and a handle that ends with `shutdown`.
    pub fn start(
        self,
        shutdown: CancellationToken,
    ) -> (mpsc::Sender<String>, tokio::task::JoinHandle<()>) {
        let (polled, queue) = mpsc::channel(QUEUE_LENGTH);
        let handle = tokio::spawn(self.run(queue, shutdown));
        (polled, handle)
    }

    /// Starts only the delivery task: messages already queued are sent, with retries,
    /// until `shutdown`. For callers that evaluate and route themselves.
    pub fn start_delivery(&self, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        let engine = self.clone();
        tokio::spawn(async move { engine.deliver_forever(shutdown).await })
    }

    async fn run(self, mut queue: mpsc::Receiver<String>, shutdown: CancellationToken) {
        info!(
            channels = self.channels.len(),
            routes = self.config.routes.len(),
            "notifications started"
        );
        let evaluate = {
            let engine = self.clone();
            let stop = shutdown.clone();
            async move {
                loop {
                    let name = tokio::select! {
                        () = stop.cancelled() => return,
                        name = queue.recv() => match name { Some(n) => n, None => return },
                    };
                    let now = Utc::now();
                    match engine.evaluate(&name, now).await {
                        Ok(0) => {}
                        Ok(_) => {
                            if let Err(e) = engine.route_due(now).await {
                                error!(error = %e, "could not route notifications");
                            }
                        }
                        Err(e) => {
                            error!(appliance.name = %name, error = %e, "could not evaluate");
                        }
                    }
                }
            }
        };
        let tick = {
            let engine = self.clone();
            let stop = shutdown.clone();
            async move {
                let mut ticks = tokio::time::interval(IDLE_TICK);
                loop {
                    tokio::select! {
                        () = stop.cancelled() => return,
                        _ = ticks.tick() => {}
                    }
                    let now = Utc::now();
                    if let Err(e) = engine.route_due(now).await {
                        error!(error = %e, "could not route notifications");
                    }
                    match engine.queue_digests(now).await {
                        Ok(0) => {}
                        Ok(_) => engine.wake_delivery.notify_one(),
                        Err(e) => error!(error = %e, "could not queue digests"),
                    }
                }
            }
        };
        tokio::join!(evaluate, tick, self.deliver_forever(shutdown));
        info!("notifications stopped");
    }

    async fn deliver_forever(&self, shutdown: CancellationToken) {
        let mut tasks = JoinSet::new();
        loop {
            while tasks.try_join_next().is_some() {}
            match self.store.due_deliveries(Utc::now(), DUE_BATCH).await {
                Ok(due) => {
                    let started = self.start_due_deliveries(due, &mut tasks);
                    if started > 0 {
                        debug!(started, "delivery attempts started");
                    }
                }
                Err(e) => error!(error = %e, "could not read due deliveries"),
            }

            let sleep = match self.store.next_delivery_at().await {
                Ok(Some(next)) => (next - Utc::now())
                    .to_std()
                    .unwrap_or_default()
                    .clamp(std::time::Duration::from_millis(10), IDLE_TICK),
                _ => IDLE_TICK,
            };
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = self.wake_delivery.notified() => {}
                () = tokio::time::sleep(sleep) => {}
            }
        }
        // Known gap: an attempt cut short here is not recorded; it is made again after a
        // restart, so a receiver may get that message twice.
        tasks.shutdown().await;
    }
}

/// How long to wait after failed attempt number `attempt` (from 1): doubling each time.
pub fn retry_wait(config: &NotifyConfig, attempt: u32) -> Duration {
    let first = config.retry_delay.as_millis();
    let factor = 1u128 << attempt.saturating_sub(1).min(30);
    let wait = first
        .saturating_mul(factor)
        .min(config.max_retry_delay.as_millis());
    Duration::milliseconds(i64::try_from(wait).unwrap_or(i64::MAX))
}

fn to_message(notice: &Notice, channels: Vec<String>) -> NewMessage {
    NewMessage {
        at: notice.at,
        kind: notice.kind.clone(),
        title: notice.title.clone(),
        body: serde_json::to_string(notice).unwrap_or_else(|_| "{}".into()),
        channels,
    }
}

/// True when the appliance runs another build than the one of its last good backup.
fn patched_since_last_good(o: &ApplianceOverview) -> bool {
    let current = o.version.as_ref().map(|v| v.build.as_str());
    let backed_up = o.last_good_job.as_ref().and_then(|j| j.build.as_deref());
    matches!((current, backed_up), (Some(now), Some(then)) if !now.is_empty() && now != then)
}

/// Host of the appliance's backup target: its schedule's location, else its last job's.
fn target_host(o: &ApplianceOverview) -> Option<String> {
    let location = o
        .schedule
        .as_ref()
        .map(|s| s.location.as_str())
        .or_else(|| {
            o.last_finished_job
                .as_ref()
                .and_then(|j| j.location.as_deref())
        })?;
    url::Url::parse(location)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .filter(|h| !h.is_empty())
}

fn event_reason(kind: EventKind, o: &ApplianceOverview, status_reason: &str) -> String {
    match kind {
        EventKind::Patched => {
            let now = o.version.as_ref().map_or("?", |v| v.build.as_str());
            let then = o
                .last_good_job
                .as_ref()
                .and_then(|j| j.build.as_deref())
                .unwrap_or("?");
            format!("now build {now}; the last good backup was made by build {then}")
        }
        EventKind::Recovered => format!("status good again: {status_reason}"),
        _ => status_reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_twice_as_long_each_time_up_to_the_cap() {
        let config = NotifyConfig {
            retry_delay: std::time::Duration::from_secs(30),
            max_retry_delay: std::time::Duration::from_secs(100),
            ..NotifyConfig::default()
        };
        let waits: Vec<i64> = (1..=4)
            .map(|n| retry_wait(&config, n).num_seconds())
            .collect();
        assert_eq!(waits, [30, 60, 100, 100]);
    }
}
