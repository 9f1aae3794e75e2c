//! Acknowledgements and maintenance windows as the pages show them: who, why, until when.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::format::{self, Moment};
use crate::domain::{ApplianceOverview, Status};
use crate::store::silence::{Silence, Silencer};

/// The two ways an appliance can be silenced, as the fleet counts and filters them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuietKind {
    /// An operator acknowledged it.
    Acknowledged,
    /// It is inside a maintenance window.
    Maintenance,
}

impl QuietKind {
    /// Both kinds, in the order the counts show them.
    pub const ALL: [QuietKind; 2] = [QuietKind::Acknowledged, QuietKind::Maintenance];

    /// The word used in URLs and CSS classes.
    pub fn as_str(self) -> &'static str {
        match self {
            QuietKind::Acknowledged => "acknowledged",
            QuietKind::Maintenance => "maintenance",
        }
    }

    /// The words shown to people.
    pub fn label(self) -> &'static str {
        match self {
            QuietKind::Acknowledged => "acknowledged",
            QuietKind::Maintenance => "in maintenance",
        }
    }

    /// The CSS class of the kind, from a fixed list.
    pub fn class(self) -> &'static str {
        match self {
            QuietKind::Acknowledged => "quiet-acknowledged",
            QuietKind::Maintenance => "quiet-maintenance",
        }
    }

    /// The kind named by a URL word.
    pub fn parse(word: &str) -> Option<QuietKind> {
        QuietKind::ALL.into_iter().find(|k| k.as_str() == word)
    }

    /// The kind of a silence.
    pub fn of(silence: &Silence) -> QuietKind {
        match silence {
            Silence::Acknowledged(_) => QuietKind::Acknowledged,
            Silence::Maintenance { .. } => QuietKind::Maintenance,
        }
    }
}

/// A silence ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuietView {
    /// Which kind.
    pub kind: QuietKind,
    /// "acknowledged" or "in maintenance".
    pub label: &'static str,
    /// CSS class of the kind.
    pub class: &'static str,
    /// Who acknowledged; `None` for a window.
    pub by: Option<String>,
    /// The reason given, or the window in words.
    pub why: String,
    /// When it was acknowledged; `None` for a window.
    pub since: Option<Moment>,
    /// When it ends by itself.
    pub until: Moment,
    /// The whole of it in one line, for tooltips.
    pub summary: String,
}

impl QuietView {
    /// The view of `silence`, seen from `now` and shown in `zone`.
    pub fn new(silence: &Silence, now: DateTime<Utc>, zone: Tz) -> QuietView {
        let kind = QuietKind::of(silence);
        let (by, why, since, until) = match silence {
            Silence::Acknowledged(ack) => (
                Some(ack.user.clone()),
                ack.reason.clone(),
                Some(Moment::new(ack.since, now, zone)),
                ack.until,
            ),
            Silence::Maintenance { window, until } => (None, window.clone(), None, *until),
        };
        let until = Moment::new(until, now, zone);
        let summary = match &by {
            Some(user) => format!(
                "Acknowledged by {user} until {} ({}): {why}",
                until.absolute, until.age
            ),
            None => format!(
                "In maintenance until {} ({}): {why}",
                until.absolute, until.age
            ),
        };
        QuietView {
            kind,
            label: kind.label(),
            class: kind.class(),
            by,
            why,
            since,
            until,
            summary,
        }
    }
}

/// True for the statuses an operator may acknowledge: anything that is neither good nor
/// a backup simply running.
pub fn can_acknowledge(status: Status) -> bool {
    !matches!(status, Status::Good | Status::Running)
}

/// The silence of one appliance as pages count it. An acknowledgement of an appliance that
/// is good again is over, even before the upkeep round records its end.
pub fn silence_of(
    o: &ApplianceOverview,
    status: Status,
    silencer: &Silencer,
    now: DateTime<Utc>,
) -> Option<Silence> {
    match silencer.silence(&o.name, &o.tags, now) {
        Some(Silence::Acknowledged(_)) if status == Status::Good => {
            silencer.maintenance(&o.tags, now)
        }
        other => other,
    }
}

/// The form's expiry field in words, for its hint.
pub const EXPIRY_HINT: &str = "a duration such as 4h or 2d, or an end time such as \
    2026-12-24 18:00; at most 30 days";

/// "4 h" style words for an acknowledgement's length, for the audit log.
pub fn length_words(since: DateTime<Utc>, until: DateTime<Utc>) -> String {
    format::duration((until - since).num_seconds().max(0))
}
