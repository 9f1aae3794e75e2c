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

/// The first day of the month a query names as `YYYY-MM`; this month when absent or
/// blank. A month written otherwise, or one that has not begun by `today`, is refused
/// with the reason rather than quietly replaced by this month.
pub fn parse_month(raw: Option<&str>, today: NaiveDate) -> Result<NaiveDate, String> {
    let this_month = today.with_day(1).unwrap_or(today);
    let Some(text) = raw.map(str::trim).filter(|m| !m.is_empty()) else {
        return Ok(this_month);
    };
    let shown = crate::domain::text::bounded(text, 20);

    let first = month_digits(text)
        .and_then(|(year, month)| NaiveDate::from_ymd_opt(year, month, 1))
        .ok_or_else(|| {
            format!(
                "The month \u{201c}{shown}\u{201d} is not understood; write it as YYYY-MM \
                 with a month from 01 to 12, such as {}.",
                this_month.format("%Y-%m")
            )
        })?;
    if first > this_month {
        return Err(format!(
            "The month \u{201c}{shown}\u{201d} has not begun yet; the latest report is for {}.",
            this_month.format("%Y-%m")
        ));
    }
    Ok(first)
}

/// The year and month of exactly four digits, a dash and two digits.
fn month_digits(text: &str) -> Option<(i32, u32)> {
    let (year, month) = text.split_once('-')?;
    let digits =
        |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
    if !digits(year, 4) || !digits(month, 2) {
        return None;
    }
    Some((year.parse().ok()?, month.parse().ok()?))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn months_are_read_strictly() {
        let today = day(2026, 12, 4);
        assert_eq!(parse_month(None, today), Ok(day(2026, 12, 1)));
        assert_eq!(parse_month(Some(" "), today), Ok(day(2026, 12, 1)));
        assert_eq!(parse_month(Some("2026-11"), today), Ok(day(2026, 11, 1)));
        assert_eq!(parse_month(Some("2026-12"), today), Ok(day(2026, 12, 1)));
        for bad in [
            "-2026-01",
            "2026-13",
            "2026-00",
            "2026-1",
            "+2026-01",
            "20261-01",
            "2026-01-01",
            "2026/01",
            "dec",
            "２０２６-01",
        ] {
            let why = parse_month(Some(bad), today).unwrap_err();
            assert!(why.contains("YYYY-MM"), "{bad}: {why}");
        }
        let why = parse_month(Some("2027-01"), today).unwrap_err();
        assert!(why.contains("not begun"), "{why}");
    }
}
