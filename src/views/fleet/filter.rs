//! What the person filters the fleet by, and which appliances match.

use chrono::{DateTime, Utc};

use super::super::format;
use super::super::silence::QuietKind;
use crate::domain::status::Verdict;
use crate::domain::{ApplianceOverview, Status};

/// What the person filters by; empty fields filter nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetFilter {
    /// Only appliances with this status that nobody acknowledged and no window covers.
    pub status: Option<Status>,
    /// Only appliances silenced this way (given in the same `status` field of the query).
    pub quiet: Option<QuietKind>,
    /// Only appliances with this tag (ignoring case).
    pub tag: Option<String>,
    /// Text matched, ignoring case, against name, tags, location and version.
    pub q: Option<String>,
}

impl FleetFilter {
    /// Builds a filter from raw query values; blank values and unknown status words count
    /// as no filter.
    pub fn from_query(status: Option<&str>, tag: Option<&str>, q: Option<&str>) -> FleetFilter {
        FleetFilter {
            status: present(status).and_then(Status::parse),
            quiet: present(status).and_then(QuietKind::parse),
            tag: present(tag).map(str::to_owned),
            q: present(q).map(str::to_owned),
        }
    }

    /// The filter as a query string for links and the address bar: "/?status=failed".
    pub fn href(&self) -> String {
        let word = self
            .status
            .map(Status::as_str)
            .or(self.quiet.map(QuietKind::as_str));
        self.href_with_word(word)
    }

    /// The same filter with another status, for the count links on top.
    pub fn href_with_status(&self, status: Option<Status>) -> String {
        self.href_with_word(status.map(Status::as_str))
    }

    /// The same filter showing only the appliances silenced the `quiet` way.
    pub fn href_with_quiet(&self, quiet: QuietKind) -> String {
        self.href_with_word(Some(quiet.as_str()))
    }

    fn href_with_word(&self, status_word: Option<&str>) -> String {
        let mut pairs = Vec::new();
        if let Some(word) = status_word {
            pairs.push(format!("status={word}"));
        }
        if let Some(tag) = &self.tag {
            pairs.push(format!("tag={}", format::query_value(tag)));
        }
        if let Some(q) = &self.q {
            pairs.push(format!("q={}", format::query_value(q)));
        }
        if pairs.is_empty() {
            "/".to_owned()
        } else {
            format!("/?{}", pairs.join("&"))
        }
    }

    /// The appliances of `fleet` this filter shows, worst first then by name, as the
    /// fleet page lists them (without its row cap).
    pub fn select<'a>(
        &self,
        fleet: &'a [ApplianceOverview],
        now: DateTime<Utc>,
    ) -> Vec<&'a ApplianceOverview> {
        let mut judged: Vec<(&ApplianceOverview, Verdict)> = fleet
            .iter()
            .filter(|o| self.matches_tag_and_text(o))
            .map(|o| (o, o.verdict(now)))
            .filter(|(_, v)| self.status.is_none_or(|wanted| v.status == wanted))
            .collect();
        judged.sort_by(|(a, va), (b, vb)| va.status.cmp(&vb.status).then(a.name.cmp(&b.name)));
        judged.into_iter().map(|(o, _)| o).collect()
    }

    /// The filter in words, such as "status failed, tag prod"; "no filter" when empty.
    pub fn words(&self) -> String {
        let mut parts = Vec::new();
        if let Some(status) = self.status {
            parts.push(format!("status {}", status.label()));
        }
        if let Some(tag) = &self.tag {
            parts.push(format!("tag {tag}"));
        }
        if let Some(q) = &self.q {
            parts.push(format!("text \u{201c}{q}\u{201d}"));
        }
        if parts.is_empty() {
            "no filter".to_owned()
        } else {
            parts.join(", ")
        }
    }

    pub(super) fn matches_tag_and_text(&self, o: &ApplianceOverview) -> bool {
        let tag_ok = self
            .tag
            .as_ref()
            .is_none_or(|wanted| o.tags.iter().any(|t| t.eq_ignore_ascii_case(wanted)));
        let text_ok = self.q.as_ref().is_none_or(|q| text_matches(o, q));
        tag_ok && text_ok
    }

    /// True when a row of `status`, silenced or not, passes the status filter.
    pub(super) fn matches_status(&self, status: Status, quiet: Option<QuietKind>) -> bool {
        match (self.status, self.quiet) {
            (Some(wanted), _) => quiet.is_none() && status == wanted,
            (None, Some(wanted)) => quiet == Some(wanted),
            (None, None) => true,
        }
    }

    pub(super) fn has_status_filter(&self) -> bool {
        self.status.is_some() || self.quiet.is_some()
    }
}

fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn text_matches(o: &ApplianceOverview, q: &str) -> bool {
    let needle = q.to_lowercase();
    let has = |hay: &str| hay.to_lowercase().contains(&needle);
    let location = o.schedule.as_ref().map(|s| s.location.as_str());
    let version = o.version.as_ref();

    has(&o.name)
        || o.tags.iter().any(|t| has(t))
        || location.is_some_and(has)
        || version.is_some_and(|v| has(&v.version) || has(&v.build))
}
