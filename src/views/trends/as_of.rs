//! The fleet as it stood at a past moment, rebuilt from stored history.

use askama::Template;
use askama_web::WebTemplate;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::build::BuildMatch;
use crate::domain::ApplianceOverview;
use crate::views::fleet::{self, Counts, FleetFilter, FleetRow};
use crate::views::format;

/// The fleet as it stood at a past moment.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "trends/as_of.html")]
pub struct AsOfPage {
    /// The moment in the form's format, `2026-11-20T10:00`, in the display zone.
    pub at_value: String,
    /// The moment in words with its zone.
    pub at_words: String,
    /// The display zone's name, for the form label.
    pub zone: String,
    /// Rows in worst-first order, as they were.
    pub rows: Vec<FleetRow>,
    /// Rows left out beyond the page's limit.
    pub rows_left_out: usize,
    /// Counts by status, as they were.
    pub counts: Counts,
    /// Always false: the counts are on the page.
    pub counts_out_of_band: bool,
    /// Always `None`: the past offers no bulk backup, so its rows have no ticks.
    pub pick: Option<fleet::PickFilter>,
    /// Appliances patched since their last good backup, as of then.
    pub patched: usize,
}

/// Builds the fleet page of a past moment from overviews rebuilt for it.
pub fn as_of_page(fleet_then: &[ApplianceOverview], at: DateTime<Utc>, zone: Tz) -> AsOfPage {
    let fragment = fleet::rows_fragment(fleet_then, &FleetFilter::default(), at, zone);
    AsOfPage {
        at_value: at.with_timezone(&zone).format("%Y-%m-%dT%H:%M").to_string(),
        at_words: format::timestamp(at, zone),
        zone: zone.name().to_owned(),
        rows: fragment.rows,
        rows_left_out: fragment.rows_left_out,
        counts: fragment.counts,
        counts_out_of_band: false,
        pick: None,
        patched: fleet_then
            .iter()
            .filter(|o| BuildMatch::new(o).patched)
            .count(),
    }
}

/// Reads the moment of the as-of form: `2026-11-20T10:00` in `zone`, or RFC 3339. A
/// moment in the future is now.
pub fn parse_moment(raw: &str, zone: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    let at = DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            let wall = chrono::NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M").ok()?;
            wall.and_local_timezone(zone)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        })?;
    Some(at.min(now))
}
