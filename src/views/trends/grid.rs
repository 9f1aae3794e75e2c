//! The fleet's days as a grid: one row of day cells per appliance, grouped by first tag,
//! with its legend, column labels and paging.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;

use super::RANGES;
use super::build::BuildMatch;
use super::filter::{Choice, TrendsFilter, range_choices, tag_choices};
use super::rate::{rate_chart, rate_summary};
use crate::domain::ApplianceOverview;
use crate::store::history::{self, DayCell, DayOutcome, DaySpan};
use crate::store::{DailyRate, JobMark, ScheduleMark, TrendAppliance};
use crate::views::common;
use crate::views::format;

/// One day of one appliance in the grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridCell {
    /// `day-` and the outcome word, from a fixed list.
    pub class: &'static str,
    /// Symbol drawn in the cell.
    pub symbol: &'static str,
    /// Tooltip: appliance, date, outcome and runs.
    pub title: String,
}

/// One appliance's row of days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridRow {
    /// Configured name.
    pub name: String,
    /// Link to its history page.
    pub href: String,
    /// Its days, oldest first.
    pub cells: Vec<GridCell>,
    /// "84 of 90 days with a good backup".
    pub summary: String,
}

/// Appliances sharing a first tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridGroup {
    /// The tag, or "untagged".
    pub tag: String,
    /// Its appliances on this page.
    pub rows: Vec<GridRow>,
}

/// A legend entry of the grid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegendItem {
    /// Cell class.
    pub class: &'static str,
    /// Cell symbol.
    pub symbol: &'static str,
    /// Words.
    pub label: &'static str,
}

/// Paging of the grid's appliances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridPager {
    /// 1-based page.
    pub page: u32,
    /// Pages in all, at least 1.
    pub pages: u32,
    /// Appliances in all.
    pub total: u64,
    /// Link to the previous page.
    pub prev_href: Option<String>,
    /// Link to the next page.
    pub next_href: Option<String>,
}

/// The fleet history page.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "trends/index.html")]
pub struct TrendsPage {
    /// Days shown.
    pub days: u32,
    /// Range links.
    pub ranges: Vec<Choice>,
    /// Tag links.
    pub tags: Vec<Choice>,
    /// The daily success rate chart, SVG markup built and escaped in `charts`.
    pub rate_chart: String,
    /// "91% of appliance-days with a finished run ended with a good backup".
    pub rate_summary: String,
    /// First day and last day shown, in words.
    pub span_words: String,
    /// CSS class sizing the cells for the range.
    pub grid_class: &'static str,
    /// Labels over the grid's columns, one per day, mostly empty.
    pub day_heads: Vec<String>,
    /// Appliances grouped by first tag.
    pub groups: Vec<GridGroup>,
    /// Legend of the cells.
    pub legend: Vec<LegendItem>,
    /// Paging.
    pub pager: GridPager,
    /// Link to the causes page with the same tag.
    pub causes_href: String,
    /// Link to the CSV of the same jobs.
    pub export_href: String,
    /// Link to the monthly report of the same tag.
    pub report_href: String,
    /// Appliances whose build changed since their last good backup.
    pub patched: usize,
    /// Their names, for the tooltip and list.
    pub patched_names: Vec<(String, String)>,
}

/// What the grid page is built from.
pub struct GridFacts<'a> {
    /// The page of appliances.
    pub appliances: &'a [TrendAppliance],
    /// Appliances matching the tag in all.
    pub total: u64,
    /// Per page.
    pub per_page: u32,
    /// Their jobs in the range, oldest first.
    pub marks: &'a [JobMark],
    /// Their schedule histories, oldest first.
    pub schedules: &'a [ScheduleMark],
    /// Daily rates of the fleet (or tag).
    pub rates: &'a [DailyRate],
    /// Offset the rates' days were cut with, in seconds.
    pub rate_offset_secs: i64,
    /// Every tag, for the filter.
    pub tags: &'a [String],
    /// The fleet overviews, for the build count.
    pub fleet: &'a [ApplianceOverview],
}

/// Builds the fleet history page.
pub fn grid_page(
    facts: GridFacts<'_>,
    filter: &TrendsFilter,
    spans: &[DaySpan],
    now: DateTime<Utc>,
    zone: Tz,
) -> TrendsPage {
    let mut marks_by: HashMap<i64, Vec<&JobMark>> = HashMap::new();
    for mark in facts.marks {
        marks_by.entry(mark.appliance_id).or_default().push(mark);
    }
    let mut schedules_by: HashMap<i64, Vec<&ScheduleMark>> = HashMap::new();
    for mark in facts.schedules {
        schedules_by
            .entry(mark.appliance_id)
            .or_default()
            .push(mark);
    }

    let mut groups: Vec<GridGroup> = Vec::new();
    for appliance in facts.appliances {
        let marks = marks_by.remove(&appliance.id).unwrap_or_default();
        let schedules = schedules_by.remove(&appliance.id).unwrap_or_default();
        let cells = history::day_outcomes(appliance, &schedules, &marks, spans, now);
        let row = grid_row(appliance, &cells, spans);

        let tag = appliance
            .tags
            .first()
            .cloned()
            .unwrap_or_else(|| "untagged".to_owned());
        match groups.last_mut() {
            Some(group) if group.tag == tag => group.rows.push(row),
            _ => groups.push(GridGroup {
                tag,
                rows: vec![row],
            }),
        }
    }

    let patched: Vec<(String, String)> = facts
        .fleet
        .iter()
        .filter(|o| {
            filter
                .tag
                .as_ref()
                .is_none_or(|t| o.tags.iter().any(|x| x.eq_ignore_ascii_case(t)))
        })
        .filter(|o| BuildMatch::new(o).patched)
        .map(|o| (o.name.clone(), trends_href(&o.name)))
        .collect();

    let first = spans.first().map(|s| s.date);
    let last = spans.last().map(|s| s.date);
    TrendsPage {
        days: filter.days,
        ranges: range_choices(filter, "/trends", &RANGES),
        tags: tag_choices(filter, "/trends", facts.tags),
        rate_chart: rate_chart(facts.rates, facts.rate_offset_secs, spans, zone).render(),
        rate_summary: rate_summary(facts.rates),
        span_words: match (first, last) {
            (Some(a), Some(b)) => {
                let day = "%-d %b %Y";
                format!("{} to {}", a.format(day), b.format(day))
            }
            _ => String::new(),
        },
        grid_class: match filter.days {
            0..=31 => "days-30",
            32..=100 => "days-90",
            _ => "days-365",
        },
        day_heads: day_heads(spans, filter.days),
        groups,
        legend: DayOutcome::ALL
            .iter()
            .map(|o| LegendItem {
                class: day_class(*o),
                symbol: o.symbol(),
                label: legend_label(*o),
            })
            .collect(),
        pager: grid_pager(filter, facts.total, facts.per_page),
        causes_href: filter.href_with("/trends/causes", 7, 1),
        export_href: filter.export_href(None),
        report_href: match &filter.tag {
            Some(tag) => format!("/trends/report?tag={}", format::query_value(tag)),
            None => "/trends/report".to_owned(),
        },
        patched: patched.len(),
        patched_names: patched,
    }
}

/// Legend words: "not polled" alone reads like a fault, so it says when that happens.
fn legend_label(outcome: DayOutcome) -> &'static str {
    match outcome {
        DayOutcome::NotPolled => "not polled (before vbdash watched the appliance)",
        other => other.label(),
    }
}

/// The CSS class of a day outcome.
pub fn day_class(outcome: DayOutcome) -> &'static str {
    match outcome {
        DayOutcome::Succeeded => "day-succeeded",
        DayOutcome::Running => "day-running",
        DayOutcome::Failed => "day-failed",
        DayOutcome::Missed => "day-missed",
        DayOutcome::NoRunDue => "day-idle",
        DayOutcome::NotPolled => "day-unknown",
    }
}

fn grid_row(appliance: &TrendAppliance, cells: &[DayCell], spans: &[DaySpan]) -> GridRow {
    let good = cells
        .iter()
        .filter(|c| c.outcome == DayOutcome::Succeeded)
        .count();
    GridRow {
        name: appliance.name.clone(),
        href: trends_href(&appliance.name),
        cells: cells
            .iter()
            .zip(spans)
            .map(|(cell, span)| {
                let runs = match cell.runs {
                    0 => String::new(),
                    1 => " (1 run)".to_owned(),
                    n => format!(" ({n} runs)"),
                };
                GridCell {
                    class: day_class(cell.outcome),
                    symbol: cell.outcome.symbol(),
                    title: format!(
                        "{} · {}: {}{runs}",
                        appliance.name,
                        span.date.format("%a %-d %b %Y"),
                        cell.outcome.label()
                    ),
                }
            })
            .collect(),
        summary: format!("{good} of {} days with a good backup", cells.len()),
    }
}

/// Link to an appliance's history page.
pub fn trends_href(name: &str) -> String {
    format!("{}/trends", common::appliance_href(name))
}

fn grid_pager(filter: &TrendsFilter, total: u64, per_page: u32) -> GridPager {
    let pages = total.div_ceil(u64::from(per_page.max(1))).max(1);
    let pages = u32::try_from(pages).unwrap_or(u32::MAX);
    let page = filter.page.min(pages);
    GridPager {
        page,
        pages,
        total,
        prev_href: (page > 1).then(|| filter.href_with("/trends", filter.days, page - 1)),
        next_href: (page < pages).then(|| filter.href_with("/trends", filter.days, page + 1)),
    }
}

/// One label per column: the month where one starts, and on short ranges the day too.
/// On long ranges a month label needs a few columns of room; one that would be cut off at
/// the right edge, or run into the next month's label, is left out.
fn day_heads(spans: &[DaySpan], days: u32) -> Vec<String> {
    let short = days <= 31;
    let room = month_label_room(days);
    let month_starts: Vec<usize> = spans
        .iter()
        .enumerate()
        .filter(|(i, s)| *i == 0 || s.date.day() == 1)
        .map(|(i, _)| i)
        .collect();
    let fits = |i: usize| {
        let next = month_starts
            .iter()
            .find(|start| **start > i)
            .copied()
            .unwrap_or(spans.len());
        next - i >= room
    };

    spans
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let month_start = month_starts.contains(&i);
            match (month_start, short) {
                (true, true) => s.date.format("%b %-d").to_string(),
                (false, true) => s.date.format("%-d").to_string(),
                (true, false) if fits(i) => s.date.format("%b").to_string(),
                _ => String::new(),
            }
        })
        .collect()
}

/// Columns a three-letter month label needs on a long range: cells shrink as days grow.
fn month_label_room(days: u32) -> usize {
    usize::try_from(days / 20).unwrap_or(1).max(1)
}
