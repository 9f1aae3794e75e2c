//! The range, tag and page of the history pages, read from the query string, and the
//! links that change one of them.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::store::history;
use crate::views::format;

/// The range chosen, the tag and the page, as read from the query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendsFilter {
    /// Days shown, one of [`super::RANGES`] (or [`super::CAUSE_RANGES`] on the causes page).
    pub days: u32,
    /// Only appliances with this tag.
    pub tag: Option<String>,
    /// 1-based page of appliances.
    pub page: u32,
}

impl TrendsFilter {
    /// Reads raw query values; anything unknown falls back to the default.
    pub fn from_query(
        days: Option<&str>,
        tag: Option<&str>,
        page: Option<&str>,
        allowed: &[u32],
        default_days: u32,
    ) -> TrendsFilter {
        let days = days
            .and_then(|d| d.trim().parse::<u32>().ok())
            .filter(|d| allowed.contains(d))
            .unwrap_or(default_days);
        TrendsFilter {
            days,
            tag: tag
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned),
            page: page
                .and_then(|p| p.trim().parse::<u32>().ok())
                .unwrap_or(1)
                .clamp(1, 100_000),
        }
    }

    /// A link to `path` with this filter, at another range and page.
    pub fn href_with(&self, path: &str, days: u32, page: u32) -> String {
        let mut pairs = vec![format!("days={days}")];
        if let Some(tag) = &self.tag {
            pairs.push(format!("tag={}", format::query_value(tag)));
        }
        if page > 1 {
            pairs.push(format!("page={page}"));
        }
        format!("{path}?{}", pairs.join("&"))
    }

    /// The export link of the same jobs: same range and tag.
    pub fn export_href(&self, appliance: Option<&str>) -> String {
        let mut href = self.href_with("/trends/export.csv", self.days, 1);
        if let Some(name) = appliance {
            href.push_str(&format!("&appliance={}", format::query_value(name)));
        }
        href
    }
}

/// A choice among ranges or tags, as a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// Words shown.
    pub label: String,
    /// Where it leads.
    pub href: String,
    /// True for the choice in effect.
    pub active: bool,
}

pub(super) fn range_choices(filter: &TrendsFilter, path: &str, ranges: &[u32]) -> Vec<Choice> {
    ranges
        .iter()
        .map(|days| Choice {
            label: if *days == 1 {
                "1 day".to_owned()
            } else {
                format!("{days} days")
            },
            href: filter.href_with(path, *days, 1),
            active: *days == filter.days,
        })
        .collect()
}

pub(super) fn tag_choices(filter: &TrendsFilter, path: &str, tags: &[String]) -> Vec<Choice> {
    let all = TrendsFilter {
        tag: None,
        ..filter.clone()
    };
    let mut choices = vec![Choice {
        label: "all tags".to_owned(),
        href: all.href_with(path, filter.days, 1),
        active: filter.tag.is_none(),
    }];
    choices.extend(tags.iter().map(|tag| {
        let with = TrendsFilter {
            tag: Some(tag.clone()),
            ..filter.clone()
        };
        Choice {
            label: tag.clone(),
            href: with.href_with(path, filter.days, 1),
            active: filter
                .tag
                .as_ref()
                .is_some_and(|t| t.eq_ignore_ascii_case(tag)),
        }
    }));
    choices
}

/// The last day shown (today in `zone`) and the first moment of the range.
pub fn range_of(days: u32, now: DateTime<Utc>, zone: Tz) -> (NaiveDate, DateTime<Utc>) {
    let today = now.with_timezone(&zone).date_naive();
    let spans = history::day_spans(today, 1, zone);
    let first_start = spans
        .first()
        .map_or(now, |s| s.start - Duration::days(i64::from(days) - 1));
    (today, first_start)
}
