//! The fleet overview: one row per appliance, worst first, with counts and filters.

mod filter;
mod rows;

pub use filter::*;
pub use rows::*;

use askama::Template;
use askama_web::WebTemplate;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::common::Badge;
use super::silence::{self, QuietKind};
use crate::domain::status::Verdict;
use crate::domain::{ApplianceOverview, Status};
use crate::store::silence::{Silence, Silencer};

/// Most rows sent at once. Rows come worst first, so the cut drops the healthiest
/// appliances; a note under the last row says how many are left out and how to see them.
// Known gap: there is no paging past the cap, and each refresh sends every row again even
// when nothing changed (no ETag on the fragment).
pub const MAX_ROWS: usize = 500;

/// The rows `<tbody>` alone, swapped in by htmx; it also refreshes the counts on top.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "fleet/_rows.html")]
pub struct FleetRowsFragment {
    /// Rows in worst-first order.
    pub rows: Vec<FleetRow>,
    /// Matching rows left out beyond [`MAX_ROWS`].
    pub rows_left_out: usize,
    /// Counts by status, for the out-of-band refresh of the counts.
    pub counts: Counts,
    /// Set when the fragment is sent alone, so the counts travel out of band.
    pub counts_out_of_band: bool,
    /// The filter for the bulk backup bar, refreshed with the rows.
    pub pick: Option<PickFilter>,
}

/// The filter as the "back up every row of this filter" button sends it: the server finds
/// the appliances again when the run starts, so no list of names travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickFilter {
    /// Status word, or empty.
    pub status: String,
    /// Tag, or empty.
    pub tag: String,
    /// Text, or empty.
    pub q: String,
    /// Appliances the filter matches now, rows beyond the cap included.
    pub matching: usize,
    /// The filter in words.
    pub words: String,
}

impl PickFilter {
    fn new(filter: &FleetFilter, matching: usize) -> PickFilter {
        PickFilter {
            status: filter
                .status
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            tag: filter.tag.clone().unwrap_or_default(),
            q: filter.q.clone().unwrap_or_default(),
            matching,
            words: filter.words(),
        }
    }
}

/// A status option of the filter form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusOption {
    /// Status word sent by the form.
    pub word: &'static str,
    /// Status word shown.
    pub label: &'static str,
    /// True for the active filter.
    pub selected: bool,
}

/// A tag option of the filter form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagOption {
    /// Tag as configured.
    pub name: String,
    /// True for the active filter.
    pub selected: bool,
}

/// Stands in the rendered page where the rows go; see [`FleetPage::render_whole`].
pub const ROWS_SLOT: &str = "<!--vbdash-fleet-rows-->";

/// The whole fleet page. Its template renders the page around [`ROWS_SLOT`]; the rows
/// themselves are the `fragment`, rendered apart so that viewers can share them.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "fleet/index.html")]
pub struct FleetPage {
    /// Rows, counts and the bulk backup filter, as on the page (counts in place).
    pub fragment: FleetRowsFragment,
    /// Options of the status select.
    pub statuses: Vec<StatusOption>,
    /// Options of the tag select.
    pub tags: Vec<TagOption>,
    /// Text filter as typed.
    pub q: String,
    /// Seconds between refreshes of the rows.
    pub refresh_secs: u32,
    /// Appliances known before any filter.
    pub fleet_size: usize,
    /// Appliances whose build changed since their last good backup.
    pub patched: usize,
}

impl FleetPage {
    /// The page around its rows: the text before and after [`ROWS_SLOT`].
    pub fn render_shell(&self) -> askama::Result<(String, String)> {
        let mut shell = self.render()?;
        let Some(at) = shell.find(ROWS_SLOT) else {
            // The slot is in the template; only a broken template can lose it.
            return Err(askama::Error::Custom(
                "the page has no slot for its rows".into(),
            ));
        };
        let after = shell.split_off(at + ROWS_SLOT.len());
        shell.truncate(at);
        Ok((shell, after))
    }

    /// The page with its rows in place, as one text.
    pub fn render_whole(&self) -> askama::Result<String> {
        let (before, after) = self.render_shell()?;
        let rows = self.fragment.render()?;
        Ok(before + &rows + &after)
    }
}

/// Builds the rows and counts of `fleet` under `filter`: worst first, then by name.
pub fn rows_fragment(
    fleet: &[ApplianceOverview],
    filter: &FleetFilter,
    now: DateTime<Utc>,
    zone: Tz,
) -> FleetRowsFragment {
    rows_fragment_silenced(fleet, filter, None, now, zone)
}

/// One appliance with its status and silence, as the fleet sorts and counts it.
struct Judged<'a> {
    overview: &'a ApplianceOverview,
    verdict: Verdict,
    silence: Option<Silence>,
}

impl Judged<'_> {
    fn quiet(&self) -> Option<QuietKind> {
        self.silence.as_ref().map(QuietKind::of)
    }

    /// Unnoticed trouble first, then silenced appliances, then the good ones.
    fn attention_rank(&self) -> u8 {
        match (&self.silence, self.verdict.status) {
            (None, Status::Good) => 2,
            (None, _) => 0,
            (Some(_), _) => 1,
        }
    }
}

/// Like [`rows_fragment`], with acknowledged and in-maintenance appliances marked,
/// counted apart and listed after the trouble nobody has looked at yet.
pub fn rows_fragment_silenced(
    fleet: &[ApplianceOverview],
    filter: &FleetFilter,
    silencer: Option<&Silencer>,
    now: DateTime<Utc>,
    zone: Tz,
) -> FleetRowsFragment {
    let mut judged: Vec<Judged<'_>> = fleet
        .iter()
        .filter(|o| filter.matches_tag_and_text(o))
        .map(|o| {
            let verdict = o.verdict(now);
            let silence = silencer.and_then(|s| silence::silence_of(o, verdict.status, s, now));
            Judged {
                overview: o,
                verdict,
                silence,
            }
        })
        .collect();
    judged.sort_by(|a, b| {
        a.attention_rank()
            .cmp(&b.attention_rank())
            .then(a.verdict.status.cmp(&b.verdict.status))
            .then(a.overview.name.cmp(&b.overview.name))
    });

    let counts = count(&judged, filter);
    let matching: Vec<_> = judged
        .iter()
        .filter(|j| filter.matches_status(j.verdict.status, j.quiet()))
        .collect();
    let rows = matching
        .iter()
        .take(MAX_ROWS)
        .map(|j| {
            FleetRow::new(j.overview, &j.verdict, now, zone).silenced(j.silence.as_ref(), now, zone)
        })
        .collect();

    FleetRowsFragment {
        rows,
        rows_left_out: matching.len().saturating_sub(MAX_ROWS),
        counts,
        counts_out_of_band: true,
        pick: Some(PickFilter::new(filter, matching.len())),
    }
}

fn count(judged: &[Judged<'_>], filter: &FleetFilter) -> Counts {
    let by_status = Status::ALL
        .into_iter()
        .map(|status| {
            let n = judged
                .iter()
                .filter(|j| j.quiet().is_none() && j.verdict.status == status)
                .count();
            (status, n)
        })
        .filter(|(_, n)| *n > 0)
        .map(|(status, count)| StatusCount {
            badge: Badge::status(status),
            word: status.as_str(),
            count,
            href: filter.href_with_status(Some(status)),
            active: filter.status == Some(status),
        })
        .collect();

    let by_silence = QuietKind::ALL
        .into_iter()
        .map(|kind| {
            (
                kind,
                judged.iter().filter(|j| j.quiet() == Some(kind)).count(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .map(|(kind, count)| StatusCount {
            badge: Badge {
                class: kind.class(),
                label: kind.label().to_owned(),
            },
            word: kind.as_str(),
            count,
            href: filter.href_with_quiet(kind),
            active: filter.quiet == Some(kind),
        })
        .collect();

    Counts {
        by_status,
        by_silence,
        total: judged.len(),
        all_href: filter.href_with_status(None),
        all_active: !filter.has_status_filter(),
    }
}

/// Builds the whole page: the rows, the counts and the filter form with its options.
pub fn page(
    fleet: &[ApplianceOverview],
    filter: &FleetFilter,
    silencer: Option<&Silencer>,
    now: DateTime<Utc>,
    zone: Tz,
    refresh_secs: u32,
) -> FleetPage {
    let fragment = rows_fragment_silenced(fleet, filter, silencer, now, zone);

    let statuses = Status::ALL
        .into_iter()
        .map(|s| StatusOption {
            word: s.as_str(),
            label: s.label(),
            selected: filter.status == Some(s),
        })
        .chain(QuietKind::ALL.into_iter().map(|k| StatusOption {
            word: k.as_str(),
            label: k.label(),
            selected: filter.quiet == Some(k),
        }))
        .collect();

    let mut tag_names: Vec<&str> = fleet
        .iter()
        .flat_map(|o| o.tags.iter().map(String::as_str))
        .collect();
    tag_names.sort_unstable();
    tag_names.dedup();
    let tags = tag_names
        .into_iter()
        .map(|name| TagOption {
            name: name.to_owned(),
            selected: filter
                .tag
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(name)),
        })
        .collect();

    FleetPage {
        fragment: FleetRowsFragment {
            counts_out_of_band: false,
            ..fragment
        },
        statuses,
        tags,
        q: filter.q.clone().unwrap_or_default(),
        refresh_secs: refresh_secs.max(1),
        fleet_size: fleet.len(),
        patched: fleet
            .iter()
            .filter(|o| super::trends::BuildMatch::new(o).patched)
            .count(),
    }
}

#[cfg(test)]
mod tests;
