//! The notifications page: recent delivery attempts and silenced events.

use askama::Template;
use askama_web::WebTemplate;
use chrono_tz::Tz;

use super::format;
use crate::store::DeliveryLine;

/// One line of the page.
#[derive(Debug, Clone)]
pub struct DeliveryRow {
    /// When, in the display zone.
    pub at: String,
    /// Channel name; empty for a silenced event.
    pub channel: String,
    /// Message kind.
    pub kind: String,
    /// Message title.
    pub title: String,
    /// "attempt 2", or empty for a silenced event.
    pub attempt: String,
    /// sent, error or silenced.
    pub outcome: String,
    /// The error or the silencing reason.
    pub detail: String,
    /// Where the delivery stands now.
    pub state: String,
    /// CSS class of the outcome.
    pub outcome_class: &'static str,
}

/// `GET /notifications`.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "notifications/index.html")]
pub struct NotificationsPage {
    /// Lines, newest first.
    pub rows: Vec<DeliveryRow>,
    /// Deliveries still waiting: channel, title and attempts so far.
    pub waiting: Vec<(String, String, u32)>,
    /// Most lines shown.
    pub limit: u32,
}

/// The page rows of `lines`.
pub fn rows(lines: &[DeliveryLine], zone: Tz) -> Vec<DeliveryRow> {
    lines
        .iter()
        .map(|l| DeliveryRow {
            at: format::timestamp_seconds(l.at, zone),
            channel: l.channel.clone(),
            kind: l.kind.clone(),
            title: l.title.clone(),
            attempt: if l.attempt == 0 {
                String::new()
            } else {
                format!("attempt {}", l.attempt)
            },
            outcome: l.outcome.clone(),
            detail: l.detail.clone().unwrap_or_default(),
            state: l.state.clone(),
            outcome_class: match l.outcome.as_str() {
                "sent" => "outcome-ok",
                "silenced" => "muted",
                _ => "outcome-bad",
            },
        })
        .collect()
}
