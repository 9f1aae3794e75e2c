//! One fleet row per appliance, and the counts by status above the rows.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::super::common::{self, Badge, JobLine};
use super::super::format::{self, Moment};
use super::super::silence::QuietView;
use crate::domain::status::Verdict;
use crate::domain::{ApplianceOverview, Status};
use crate::store::silence::Silence;

/// One status with how many appliances have it, as a filter link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCount {
    /// Badge of the status.
    pub badge: Badge,
    /// Status word used in URLs.
    pub word: &'static str,
    /// Appliances with this status.
    pub count: usize,
    /// Link that filters by this status, keeping the other filters.
    pub href: String,
    /// True when this status is the active filter.
    pub active: bool,
}

/// The counts on top of the fleet page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts {
    /// Statuses in worst-first order, of appliances nobody silenced; statuses nobody has
    /// are left out.
    pub by_status: Vec<StatusCount>,
    /// Acknowledged and in-maintenance appliances, counted apart from their statuses;
    /// kinds nobody has are left out.
    pub by_silence: Vec<StatusCount>,
    /// Appliances matching the tag and text filters, whatever their status.
    pub total: usize,
    /// Link that drops the status filter, keeping the others.
    pub all_href: String,
    /// True when no status filter is active.
    pub all_active: bool,
}

/// One appliance row, ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetRow {
    /// Configured name.
    pub name: String,
    /// Link to the appliance page.
    pub href: String,
    /// Status badge.
    pub status: Badge,
    /// Why the appliance has its status; always the badge's tooltip.
    pub reason: String,
    /// True when the reason says more than the badge does, so it earns its own line;
    /// otherwise it is only a tooltip.
    pub reason_line: bool,
    /// For unreachable appliances: "data from 3 h ago" (or "no data yet").
    pub stale_note: Option<String>,
    /// When the newest succeeded job ended (or started).
    pub last_good: Option<Moment>,
    /// The running job, or else the newest job.
    pub last_job: Option<JobLine>,
    /// The schedule in words, or "no schedule".
    pub schedule_words: String,
    /// True when the schedule exists but is switched off.
    pub schedule_disabled: bool,
    /// Host of the backup location.
    pub location_host: Option<String>,
    /// Dotted appliance version.
    pub version: Option<String>,
    /// Tags, each a filter link.
    pub tags: Vec<TagLink>,
    /// Set when the appliance is acknowledged or in a maintenance window.
    pub quiet: Option<QuietView>,
}

/// A tag with the link that filters the fleet by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagLink {
    /// Tag as configured.
    pub name: String,
    /// Link to the fleet filtered by this tag.
    pub href: String,
}

impl TagLink {
    fn new(name: &str) -> TagLink {
        TagLink {
            name: name.to_owned(),
            href: format!("/?tag={}", format::query_value(name)),
        }
    }
}

/// The schedule in words, "no schedule" when there is none, and "not known yet" before
/// any poll succeeded (an appliance never read may well have a schedule).
pub fn schedule_words(o: &ApplianceOverview) -> String {
    match &o.schedule {
        Some(s) => s.describe(o.time_zone.name()),
        None if o.last_ok_poll_at.is_none() => "not known yet".to_owned(),
        None => "no schedule".to_owned(),
    }
}

impl FleetRow {
    /// The row of one appliance whose status is `verdict`.
    pub fn new(o: &ApplianceOverview, verdict: &Verdict, now: DateTime<Utc>, zone: Tz) -> Self {
        let stale_note = (verdict.status == Status::Unreachable).then(|| {
            o.last_ok_poll_at.map_or("no data yet".to_owned(), |at| {
                format!("data from {}", format::age(at, now))
            })
        });
        let last_job = o
            .running_job
            .as_ref()
            .or(o.last_job.as_ref())
            .map(|job| JobLine::new(&o.name, job, None, now, zone));

        FleetRow {
            name: o.name.clone(),
            href: common::appliance_href(&o.name),
            status: Badge::status(verdict.status),
            reason: verdict.reason.clone(),
            reason_line: !matches!(
                verdict.status,
                Status::Good | Status::Disabled | Status::Unscheduled
            ),
            stale_note,
            last_good: o
                .last_good_job
                .as_ref()
                .and_then(|j| j.start_time.or(j.end_time))
                .map(|at| Moment::new(at, now, zone)),
            last_job,
            schedule_words: schedule_words(o),
            schedule_disabled: o.schedule.as_ref().is_some_and(|s| !s.enabled),
            location_host: o.schedule.as_ref().and_then(|s| s.location_host()),
            version: o.version.as_ref().map(|v| v.version.clone()),
            tags: o.tags.iter().map(|t| TagLink::new(t)).collect(),
            quiet: None,
        }
    }

    /// The same row marked with its silence.
    pub fn silenced(mut self, silence: Option<&Silence>, now: DateTime<Utc>, zone: Tz) -> Self {
        self.quiet = silence.map(|s| QuietView::new(s, now, zone));
        self
    }
}
