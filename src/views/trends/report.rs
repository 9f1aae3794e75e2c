//! The printable monthly report of one tag.

use askama::Template;
use askama_web::WebTemplate;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use super::filter::Choice;
use super::grid::trends_href;
use crate::store::TrendAppliance;
use crate::store::history::RangeSummary;
use crate::views::format;

/// One appliance's line in the monthly report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRow {
    /// Configured name.
    pub name: String,
    /// Link to its history.
    pub href: String,
    /// "28 of 30".
    pub covered: String,
    /// True when some day lacked a good backup.
    pub short: bool,
    /// Days a due run did not start.
    pub missed: usize,
    /// Failed or canceled jobs.
    pub failures: usize,
    /// Longest stretch without a good backup, in words.
    pub longest_gap: String,
    /// True when that stretch is over two days.
    pub long_gap: bool,
}

/// The printable monthly report of one tag.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "trends/report.html")]
pub struct ReportPage {
    /// The tag reported on, or "all appliances".
    pub scope: String,
    /// "November 2026".
    pub month_words: String,
    /// Tag links for the same month.
    pub tags: Vec<Choice>,
    /// Previous month, same tag.
    pub prev_href: String,
    /// Next month, same tag, unless it is in the future.
    pub next_href: Option<String>,
    /// One line per appliance.
    pub rows: Vec<ReportRow>,
    /// Appliances with a good backup every day.
    pub fully_covered: usize,
    /// Failed jobs of all appliances.
    pub failures: usize,
    /// When the report was made, in words.
    pub made: String,
}

/// A month as a query value and its first day.
pub fn parse_month(raw: Option<&str>, today: NaiveDate) -> NaiveDate {
    raw.and_then(|m| NaiveDate::parse_from_str(&format!("{}-01", m.trim()), "%Y-%m-%d").ok())
        .filter(|d| *d <= today)
        .unwrap_or_else(|| today.with_day(1).unwrap_or(today))
}

/// The days of the month starting at `first`, up to `today`.
pub fn month_days(first: NaiveDate, today: NaiveDate) -> u32 {
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .unwrap_or(first);
    let last = (next - Duration::days(1)).min(today);
    u32::try_from((last - first).num_days() + 1).unwrap_or(0)
}

/// Builds the report from each appliance's summary.
pub fn report_page(
    lines: &[(TrendAppliance, RangeSummary)],
    tag: Option<&str>,
    all_tags: &[String],
    first: NaiveDate,
    today: NaiveDate,
    now: DateTime<Utc>,
    zone: Tz,
) -> ReportPage {
    let link = |month: NaiveDate, tag: Option<&str>| {
        let mut href = format!("/trends/report?month={}", month.format("%Y-%m"));
        if let Some(tag) = tag {
            href.push_str(&format!("&tag={}", format::query_value(tag)));
        }
        href
    };
    let prev = first
        .checked_sub_months(chrono::Months::new(1))
        .unwrap_or(first);
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .filter(|n| *n <= today);

    let mut tags = vec![Choice {
        label: "all tags".into(),
        href: link(first, None),
        active: tag.is_none(),
    }];
    tags.extend(all_tags.iter().map(|t| Choice {
        label: t.clone(),
        href: link(first, Some(t)),
        active: tag.is_some_and(|x| x.eq_ignore_ascii_case(t)),
    }));

    let rows: Vec<ReportRow> = lines
        .iter()
        .map(|(a, s)| ReportRow {
            name: a.name.clone(),
            href: trends_href(&a.name),
            covered: format!("{} of {}", s.days_covered, s.days),
            short: s.days_covered < s.days,
            missed: s.days_missed,
            failures: s.failures,
            longest_gap: format::duration(s.longest_gap.num_seconds()),
            long_gap: s.longest_gap > Duration::days(2),
        })
        .collect();

    ReportPage {
        scope: tag.map_or("all appliances".to_owned(), |t| format!("tag {t}")),
        month_words: first.format("%B %Y").to_string(),
        tags,
        prev_href: link(prev, tag),
        next_href: next.map(|n| link(n, tag)),
        fully_covered: rows.iter().filter(|r| !r.short).count(),
        failures: lines.iter().map(|(_, s)| s.failures).sum(),
        rows,
        made: format::timestamp(now, zone),
    }
}
