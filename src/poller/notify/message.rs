//! Messages: events grouped by backup target, and each message rendered in the format of
//! a generic webhook, Slack, Teams, or an e-mail.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::transitions::EventKind;
use crate::store::StoredEvent;

/// Version of the generic webhook body; raised only when a field changes meaning.
pub const WEBHOOK_VERSION: u32 = 1;

/// One appliance in a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeItem {
    /// Appliance name.
    pub appliance: String,
    /// failed, missed, unreachable, recovered or patched.
    pub event: String,
    /// The status sentence.
    pub reason: String,
    /// The appliance's tags.
    pub tags: Vec<String>,
    /// Host of its backup target, when known.
    pub target: Option<String>,
    /// True when a standing problem is announced again.
    pub repeat: bool,
}

/// A message as stored and sent; the generic webhook body is this, as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// Body format version.
    pub version: u32,
    /// The event word, `grouped` for failures at one target, or `digest`.
    pub kind: String,
    /// One line that says it all.
    pub title: String,
    /// When the message was made.
    pub at: DateTime<Utc>,
    /// The backup target shared by all items of a grouped message.
    pub target: Option<String>,
    /// The appliances concerned.
    pub appliances: Vec<NoticeItem>,
    /// Extra lines (the digest's counts); empty otherwise.
    #[serde(default)]
    pub lines: Vec<String>,
}

impl Notice {
    /// A message about `items`: one appliance, or several failures at one target.
    pub fn for_items(items: Vec<NoticeItem>, at: DateTime<Utc>) -> Notice {
        let (kind, title, target) = match items.as_slice() {
            [one] => (one.event.clone(), single_title(one), None),
            many => {
                let target = many.first().and_then(|i| i.target.clone());
                let title = format!(
                    "{} appliances failed to back up to {}",
                    many.len(),
                    target.as_deref().unwrap_or("the same target")
                );
                ("grouped".to_owned(), title, target)
            }
        };
        Notice {
            version: WEBHOOK_VERSION,
            kind,
            title,
            at,
            target,
            appliances: items,
            lines: Vec::new(),
        }
    }

    /// The lines under the title, one per appliance or digest line.
    pub fn detail_lines(&self) -> Vec<String> {
        let mut lines = self.lines.clone();
        lines.extend(
            self.appliances
                .iter()
                .map(|i| format!("{} ({}): {}", i.appliance, i.event, i.reason)),
        );
        lines
    }

    /// Body of the generic webhook.
    pub fn webhook_body(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Body of a Slack incoming webhook.
    pub fn slack_body(&self) -> Value {
        let mut text = format!("*{}*", slack_escape(&self.title));
        for line in self.detail_lines() {
            text.push_str("\n• ");
            text.push_str(&slack_escape(&line));
        }
        json!({ "text": text })
    }

    /// Body of a Teams incoming webhook: a message holding one Adaptive Card.
    pub fn teams_body(&self) -> Value {
        let mut body = vec![json!({
            "type": "TextBlock",
            "text": self.title,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": true,
        })];
        for line in &self.lines {
            body.push(json!({ "type": "TextBlock", "text": line, "wrap": true }));
        }
        if !self.appliances.is_empty() {
            let facts: Vec<Value> = self
                .appliances
                .iter()
                .map(|i| {
                    json!({
                        "title": i.appliance,
                        "value": format!("{}: {}", i.event, i.reason),
                    })
                })
                .collect();
            body.push(json!({ "type": "FactSet", "facts": facts }));
        }
        json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": body,
                },
            }],
        })
    }

    /// Subject and plain-text body of an e-mail.
    pub fn email(&self) -> (String, String) {
        let subject = format!("[vbdash] {}", self.title);
        let mut text = format!("{}\n\n", self.title);
        for line in self.detail_lines() {
            text.push_str("- ");
            text.push_str(&line);
            text.push('\n');
        }
        text.push_str(&format!("\nSent by vbdash at {}.\n", self.at.to_rfc3339()));
        (subject, text)
    }
}

fn single_title(item: &NoticeItem) -> String {
    let name = &item.appliance;
    match (EventKind::parse(&item.event), item.repeat) {
        (Some(EventKind::Failed), false) => format!("{name}: backup failed"),
        (Some(EventKind::Failed), true) => format!("{name}: backup still failing"),
        (Some(EventKind::Missed), false) => format!("{name}: scheduled backup missed"),
        (Some(EventKind::Missed), true) => format!("{name}: scheduled backups still missed"),
        (Some(EventKind::Unreachable), false) => format!("{name}: unreachable"),
        (Some(EventKind::Unreachable), true) => format!("{name}: still unreachable"),
        (Some(EventKind::Recovered), _) => format!("{name}: recovered"),
        (Some(EventKind::Patched), _) => format!("{name}: patched since its last good backup"),
        (None, _) => format!("{name}: {}", item.event),
    }
}

/// Slack reads `&`, `<` and `>` as markup; appliance text must not make links.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The items of a batch, one per appliance: a newer event of an appliance replaces an
/// older one of the same window.
pub fn items_of(batch: &[&StoredEvent]) -> Vec<NoticeItem> {
    let mut items: Vec<NoticeItem> = Vec::with_capacity(batch.len());
    for event in batch {
        let item = item_of(event);
        match items.iter_mut().find(|i| i.appliance == item.appliance) {
            Some(older) => *older = item,
            None => items.push(item),
        }
    }
    items
}

/// The item an event becomes.
pub fn item_of(event: &StoredEvent) -> NoticeItem {
    NoticeItem {
        appliance: event.event.appliance.clone(),
        event: event.event.kind.clone(),
        reason: event.event.reason.clone(),
        tags: event.event.tags.clone(),
        target: event.event.target.clone(),
        repeat: event.event.repeat,
    }
}

/// Events that are due at `now`, in batches that each become one message: failures at the
/// same target wait for each other (every failure with a target waits out the window,
/// and those still waiting join one whose window ended), everything else goes alone.
pub fn batches(events: &[StoredEvent], now: DateTime<Utc>) -> Vec<Vec<&StoredEvent>> {
    let failed = EventKind::Failed.as_str();
    let mut taken: HashSet<i64> = HashSet::new();
    let mut by_target: BTreeMap<&str, Vec<&StoredEvent>> = BTreeMap::new();
    for e in events {
        if let (true, Some(target)) = (e.event.kind == failed, e.event.target.as_deref()) {
            by_target.entry(target).or_default().push(e);
        }
    }

    let mut out = Vec::new();
    for e in events.iter().filter(|e| e.event.release_at <= now) {
        if taken.contains(&e.id) {
            continue;
        }
        let group = match (e.event.kind == failed, e.event.target.as_deref()) {
            (true, Some(target)) => by_target.get(target).cloned().unwrap_or_default(),
            _ => vec![e],
        };
        for member in &group {
            taken.insert(member.id);
        }
        let batch = group;
        out.push(batch);
    }
    out
}

/// When an event may become a message: a failure that can be grouped waits out the window.
pub fn release_time(at: DateTime<Utc>, groups: bool, window: Duration) -> DateTime<Utc> {
    if groups { at + window } else { at }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::NewEvent;

    fn event(id: i64, name: &str, kind: &str, target: Option<&str>, minute: i64) -> StoredEvent {
        let at = DateTime::from_timestamp(1_800_000_000 + minute * 60, 0).unwrap();
        let groups = kind == "failed" && target.is_some();
        StoredEvent {
            id,
            event: NewEvent {
                at,
                appliance: name.into(),
                kind: kind.into(),
                reason: format!("{name} reason <b>"),
                tags: vec![],
                target: target.map(str::to_owned),
                repeat: false,
                release_at: release_time(at, groups, Duration::minutes(2)),
            },
        }
    }

    fn minute(m: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + m * 60, 0).unwrap()
    }

    #[test]
    fn failures_at_one_target_wait_and_go_together() {
        let events = vec![
            event(1, "a", "failed", Some("nas-1"), 0),
            event(2, "b", "failed", Some("nas-1"), 1),
            event(3, "c", "failed", Some("nas-2"), 1),
            event(4, "d", "unreachable", None, 1),
        ];
        let now = batches(&events, minute(1));
        assert_eq!(now.len(), 1, "only the unreachable one is due");
        assert_eq!(now[0][0].id, 4);

        let later = batches(&events, minute(2));
        let ids: Vec<Vec<i64>> = later
            .iter()
            .map(|b| b.iter().map(|e| e.id).collect())
            .collect();
        assert_eq!(ids, [vec![1, 2], vec![4]]);
    }

    #[test]
    fn grouped_and_single_titles_and_formats() {
        let items: Vec<NoticeItem> = [
            event(1, "a", "failed", Some("nas-1"), 0),
            event(2, "b", "failed", Some("nas-1"), 0),
        ]
        .iter()
        .map(item_of)
        .collect();
        let grouped = Notice::for_items(items.clone(), minute(0));
        assert_eq!(grouped.kind, "grouped");
        assert_eq!(grouped.title, "2 appliances failed to back up to nas-1");

        let single = Notice::for_items(vec![items[0].clone()], minute(0));
        assert_eq!(single.title, "a: backup failed");
        let slack = single.slack_body()["text"].as_str().unwrap().to_owned();
        assert!(slack.contains("&lt;b&gt;"), "{slack}");
        let teams = single.teams_body();
        assert_eq!(
            teams["attachments"][0]["content"]["type"].as_str(),
            Some("AdaptiveCard")
        );
        let (subject, text) = single.email();
        assert_eq!(subject, "[vbdash] a: backup failed");
        assert!(text.contains("a (failed): a reason <b>"));
    }
}
