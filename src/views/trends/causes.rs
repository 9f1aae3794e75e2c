//! Failures grouped by cause, with the appliances each one hit.

use askama::Template;
use askama_web::WebTemplate;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::filter::{Choice, TrendsFilter, range_choices, tag_choices};
use super::grid::trends_href;
use super::{CAUSE_NAMES, CAUSE_RANGES};
use crate::store::{CauseGroup, FailureCauses};
use crate::views::common::job_href;
use crate::views::format::{self, Moment};

/// A cause of failures, ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CauseRow {
    /// The headline: "12 appliances failing against nas-02 since 3 Nov 02:00 UTC".
    pub headline: String,
    /// The cause as stored (message or host).
    pub cause: String,
    /// Appliances, each with the link to its history, at most [`CAUSE_NAMES`].
    pub appliances: Vec<(String, String)>,
    /// Appliances left out of the list.
    pub more: usize,
    /// Failed jobs in all.
    pub failures: i64,
    /// Newest failure.
    pub last: Moment,
    /// The newest failed job: id and link.
    pub newest: (String, String),
    /// The CSV of the failed jobs of this cause (by message only).
    pub export_href: Option<String>,
}

/// The failure causes page.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "trends/causes.html")]
pub struct CausesPage {
    /// Days looked back.
    pub days: u32,
    /// Range links.
    pub ranges: Vec<Choice>,
    /// Tag links.
    pub tags: Vec<Choice>,
    /// Grouped by message.
    pub by_message: Vec<CauseRow>,
    /// Grouped by backup target host.
    pub by_host: Vec<CauseRow>,
}

/// Builds the causes page.
pub fn causes_page(
    causes: &FailureCauses,
    filter: &TrendsFilter,
    tags: &[String],
    now: DateTime<Utc>,
    zone: Tz,
) -> CausesPage {
    let row = |group: &CauseGroup, by_host: bool| {
        let count = group.appliances.len();
        let who = if count == 1 {
            "1 appliance".to_owned()
        } else {
            format!("{count} appliances")
        };
        let since = format::timestamp(group.first, zone);
        let headline = if by_host {
            format!("{who} failing against {} since {since}", group.cause)
        } else {
            format!("{who} failing with this message since {since}")
        };
        let export_href = (!by_host).then(|| {
            let mut href = filter.href_with("/trends/export.csv", filter.days, 1);
            href.push_str("&state=failed&message=");
            href.push_str(&format::query_value(&group.cause));
            href
        });
        CauseRow {
            headline,
            cause: group.cause.clone(),
            appliances: group
                .appliances
                .iter()
                .take(CAUSE_NAMES)
                .map(|a| (a.clone(), trends_href(a)))
                .collect(),
            more: count.saturating_sub(CAUSE_NAMES),
            failures: group.failures,
            last: Moment::new(group.last, now, zone),
            newest: (
                group.newest.1.clone(),
                job_href(&group.newest.0, &group.newest.1),
            ),
            export_href,
        }
    };

    CausesPage {
        days: filter.days,
        ranges: range_choices(filter, "/trends/causes", &CAUSE_RANGES),
        tags: tag_choices(filter, "/trends/causes", tags),
        by_message: causes.by_message.iter().map(|g| row(g, false)).collect(),
        by_host: causes.by_host.iter().map(|g| row(g, true)).collect(),
    }
}
