//! The history pages: the fleet's days as a grid with its daily success rate, one
//! appliance's runs over time, and failures grouped by cause.

use std::collections::HashMap;

use askama::Template;
use askama_web::WebTemplate;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use super::charts::{Mark, Point, Series, TimeChart};
use super::common::{self, job_href};
use super::fleet::{self, Counts, FleetFilter, FleetRow};
use super::format::{self, Moment};
use crate::domain::{ApplianceOverview, JobState, JobType};
use crate::store::history::{
    self, DayCell, DayOutcome, DaySpan, FailureStreak, RangeSummary, RunAnalysis, TypeRate,
};
use crate::store::{
    CauseGroup, DailyRate, FailureCauses, JobMark, RunPoint, ScheduleMark, TrendAppliance,
};

/// Day ranges offered on the grid and appliance pages.
pub const RANGES: [u32; 3] = [30, 90, 365];
/// Day ranges offered on the causes page.
pub const CAUSE_RANGES: [u32; 3] = [1, 7, 30];
/// Appliances named per cause; a cause hitting thousands lists the first ones.
pub const CAUSE_NAMES: usize = 40;

/// The range chosen, the tag and the page, as read from the query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrendsFilter {
    /// Days shown, one of [`RANGES`] (or [`CAUSE_RANGES`] on the causes page).
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

fn range_choices(filter: &TrendsFilter, path: &str, ranges: &[u32]) -> Vec<Choice> {
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

fn tag_choices(filter: &TrendsFilter, path: &str, tags: &[String]) -> Vec<Choice> {
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
            (Some(a), Some(b)) => format!("{} to {}", a.format("%-d %b %Y"), b.format("%-d %b %Y")),
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

fn day_start(day: i64, offset_secs: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(day * 86_400 - offset_secs, 0)
}

fn rate_chart(rates: &[DailyRate], offset_secs: i64, spans: &[DaySpan], zone: Tz) -> TimeChart {
    let from = spans.first().map_or_else(Utc::now, |s| s.start);
    let to = spans.last().map_or_else(Utc::now, |s| s.end);
    let points = rates
        .iter()
        .filter(|r| r.appliances > 0)
        .filter_map(|r| {
            let at = day_start(r.day, offset_secs)?;
            let percent = r.succeeded as f64 * 100.0 / r.appliances as f64;
            Some(Point {
                at,
                value: percent,
                tip: format!(
                    "{}: {} of {} appliances with a finished run had a good backup ({:.0}%)",
                    at.with_timezone(&zone).format("%a %-d %b %Y"),
                    r.succeeded,
                    r.appliances,
                    percent
                ),
                flagged: false,
            })
        })
        .collect();
    TimeChart {
        title: "Daily success rate of the fleet".into(),
        unit: "%".into(),
        from,
        to,
        max: Some(100.0),
        zone,
        series: vec![Series {
            label: "appliances with a good backup, of those with a finished run".into(),
            class: "series-good",
            mark: Mark::Bar,
            points,
        }],
        flag_label: None,
    }
}

fn rate_summary(rates: &[DailyRate]) -> String {
    let total: i64 = rates.iter().map(|r| r.appliances).sum();
    let good: i64 = rates.iter().map(|r| r.succeeded).sum();
    if total == 0 {
        return "No finished run in this range.".to_owned();
    }
    format!(
        "{:.0}% of appliance-days with a finished run ended with a good backup \
         ({good} of {total}).",
        good as f64 * 100.0 / total as f64
    )
}

/// The build now against the build of the last good backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildMatch {
    /// Build the appliance reports now.
    pub current: Option<String>,
    /// Build that ran the newest succeeded job.
    pub last_good: Option<String>,
    /// True when both are known and differ.
    pub patched: bool,
    /// The comparison in words.
    pub words: String,
}

impl BuildMatch {
    /// Compares the builds of an appliance's overview.
    pub fn new(o: &ApplianceOverview) -> BuildMatch {
        let current = o
            .version
            .as_ref()
            .map(|v| v.build.clone())
            .filter(|b| !b.is_empty());
        let last_good = o.last_good_job.as_ref().and_then(|j| j.build.clone());
        let patched = matches!((&current, &last_good), (Some(a), Some(b)) if a != b);
        let words = match (&current, &last_good, o.last_good_job.is_some()) {
            (_, _, false) => "no good backup yet to compare with".to_owned(),
            (Some(now), Some(then), _) if now == then => {
                format!("build {now}, the same as the last good backup")
            }
            (Some(now), Some(then), _) => format!(
                "patched since the last good backup: now build {now}, the backup was made \
                 by build {then}"
            ),
            (_, None, _) => "the last good backup does not say which build made it".to_owned(),
            (None, Some(then), _) => format!("last good backup made by build {then}"),
        };
        BuildMatch {
            current,
            last_good,
            patched,
            words,
        }
    }
}

/// Success rate of one run type, ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateRow {
    /// "scheduled", "manual".
    pub job_type: String,
    /// "19 of 20".
    pub counts: String,
    /// "95%".
    pub percent: String,
    /// Bar width class step, 0 to 10.
    pub tenths: u32,
    /// `rate-good`, `rate-poor` or `rate-bad`.
    pub class: &'static str,
}

impl RateRow {
    fn new(rate: &TypeRate) -> RateRow {
        let percent = rate.percent().unwrap_or(0.0);
        RateRow {
            job_type: rate.job_type.as_str().to_owned(),
            counts: format!("{} of {} succeeded", rate.succeeded, rate.finished),
            percent: format!("{percent:.0}%"),
            tenths: (percent / 10.0).round() as u32,
            class: if percent >= 95.0 {
                "rate-good"
            } else if percent >= 50.0 {
                "rate-poor"
            } else {
                "rate-bad"
            },
        }
    }
}

/// A run that broke from its baseline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlaggedRun {
    /// Job id.
    pub id: String,
    /// Link to the job page.
    pub href: String,
    /// When it started.
    pub started: Moment,
    /// Type word.
    pub job_type: String,
    /// What was odd, in words.
    pub why: String,
}

/// One appliance's history page.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "trends/appliance.html")]
pub struct ApplianceTrendsPage {
    /// Configured name.
    pub name: String,
    /// Link to the appliance page.
    pub appliance_href: String,
    /// Days shown.
    pub days: u32,
    /// Range links.
    pub ranges: Vec<Choice>,
    /// Current failure streaks in words.
    pub streaks: Vec<String>,
    /// Success rate per run type.
    pub rates: Vec<RateRow>,
    /// Build now against the build of the last good backup.
    pub build: BuildMatch,
    /// Duration chart markup.
    pub duration_chart: String,
    /// Size chart markup.
    pub size_chart: String,
    /// Runs that broke from their baseline, newest first.
    pub flagged: Vec<FlaggedRun>,
    /// Runs in the range.
    pub runs: usize,
    /// Link to the CSV of these runs.
    pub export_href: String,
}

/// Builds one appliance's history page from its runs (oldest first, starting a little
/// before the range so the first baselines have earlier runs to draw on).
pub fn appliance_page(
    overview: &ApplianceOverview,
    runs: &[RunPoint],
    filter: &TrendsFilter,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
    zone: Tz,
) -> ApplianceTrendsPage {
    let analysed: Vec<RunAnalysis> = history::analyse_runs(runs)
        .into_iter()
        .filter(|a| a.run.start >= from)
        .collect();
    let in_range: Vec<RunPoint> = analysed.iter().map(|a| a.run.clone()).collect();
    let name = &overview.name;

    let flagged = analysed
        .iter()
        .rev()
        .filter(|a| a.size_dropped || a.duration_tripled)
        .map(|a| FlaggedRun {
            id: a.run.job_id.clone(),
            href: job_href(name, &a.run.job_id),
            started: Moment::new(a.run.start, now, zone),
            job_type: a.run.job_type.as_str().to_owned(),
            why: flag_words(a),
        })
        .collect();

    ApplianceTrendsPage {
        name: name.clone(),
        appliance_href: common::appliance_href(name),
        days: filter.days,
        ranges: range_choices(filter, &trends_href(name), &RANGES),
        // Streaks look at every run read, so one that began before the range still counts.
        streaks: history::failure_streaks(runs)
            .iter()
            .map(|s| streak_words(s, zone))
            .collect(),
        rates: history::rates_by_type(&in_range)
            .iter()
            .map(RateRow::new)
            .collect(),
        build: BuildMatch::new(overview),
        duration_chart: run_chart(&analysed, Measure::Duration, from, now, zone).render(),
        size_chart: run_chart(&analysed, Measure::Size, from, now, zone).render(),
        flagged,
        runs: in_range.len(),
        export_href: filter.export_href(Some(name)),
    }
}

fn flag_words(a: &RunAnalysis) -> String {
    let mut parts = Vec::new();
    if let (true, Some(size), Some(base)) = (a.size_dropped, a.run.size_bytes, a.baseline_bytes) {
        parts.push(format!(
            "size {} against a usual {}",
            format::size(size),
            format::size(base as i64)
        ));
    }
    if let (true, Some(secs), Some(base)) =
        (a.duration_tripled, a.run.duration_secs, a.baseline_secs)
    {
        parts.push(format!(
            "took {} against a usual {}",
            format::duration(secs),
            format::duration(base as i64)
        ));
    }
    parts.join("; ")
}

/// "5 scheduled runs failed in a row since 3 Nov, all at 10%".
pub fn streak_words(s: &FailureStreak, zone: Tz) -> String {
    let since = s.since.with_timezone(&zone).format("%-d %b %H:%M %Z");
    let kind = s.job_type.as_str();
    let mut words = if s.count == 1 {
        format!("The last {kind} run failed ({since})")
    } else {
        format!("{} {kind} runs failed in a row since {since}", s.count)
    };
    if let Some(p) = s.same_progress {
        words.push_str(&format!(
            ", {} at {p}%",
            if s.count == 1 { "stopped" } else { "all" }
        ));
    }
    if let Some(m) = &s.same_message {
        words.push_str(&format!(": \u{201c}{}\u{201d}", format::excerpt(m, 120)));
    }
    words
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    Duration,
    Size,
}

fn run_chart(
    runs: &[RunAnalysis],
    measure: Measure,
    from: DateTime<Utc>,
    now: DateTime<Utc>,
    zone: Tz,
) -> TimeChart {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    let value = |a: &RunAnalysis| match measure {
        Measure::Duration => a.run.duration_secs.map(|s| s as f64 / 60.0),
        Measure::Size => a.run.size_bytes.map(|b| b as f64 / GIB),
    };
    let baseline = |a: &RunAnalysis| match measure {
        Measure::Duration => a.baseline_secs.map(|s| s / 60.0),
        Measure::Size => a.baseline_bytes.map(|b| b / GIB),
    };
    let flagged = |a: &RunAnalysis| match measure {
        Measure::Duration => a.duration_tripled,
        Measure::Size => a.size_dropped,
    };
    let tip = |a: &RunAnalysis| {
        let shown = match measure {
            Measure::Duration => a.run.duration_secs.map(format::duration),
            Measure::Size => a.run.size_bytes.map(format::size),
        };
        format!(
            "{} {} run {}, {}: {}",
            a.run.start.with_timezone(&zone).format("%-d %b %Y %H:%M"),
            a.run.job_type.as_str(),
            a.run.job_id,
            a.run.state.as_str(),
            shown.unwrap_or_default()
        )
    };
    let points_where = |keep: &dyn Fn(&RunAnalysis) -> bool| -> Vec<Point> {
        runs.iter()
            .filter(|a| keep(a))
            .filter_map(|a| {
                Some(Point {
                    at: a.run.start,
                    value: value(a)?,
                    tip: tip(a),
                    flagged: flagged(a),
                })
            })
            .collect()
    };

    let good = |t: JobType| {
        move |a: &RunAnalysis| a.run.state == JobState::Succeeded && a.run.job_type == t
    };
    let baseline_points: Vec<Point> = runs
        .iter()
        .filter(|a| a.run.job_type == JobType::Scheduled)
        .filter_map(|a| {
            let v = baseline(a)?;
            Some(Point {
                at: a.run.start,
                value: v,
                tip: String::new(),
                flagged: false,
            })
        })
        .collect();

    let (title, unit) = match measure {
        Measure::Duration => ("Duration of each run", "minutes"),
        Measure::Size => ("Size of each backup", "GiB"),
    };
    let mut series = vec![
        Series {
            label: "scheduled, succeeded".into(),
            class: "series-good",
            mark: Mark::Dot,
            points: points_where(&good(JobType::Scheduled)),
        },
        Series {
            label: "manual, succeeded".into(),
            class: "series-manual",
            mark: Mark::Square,
            points: points_where(&|a| {
                a.run.state == JobState::Succeeded && a.run.job_type != JobType::Scheduled
            }),
        },
        Series {
            label: "failed or canceled (as far as it got)".into(),
            class: "series-bad",
            mark: Mark::Cross,
            points: points_where(&|a| {
                a.run.state.is_finished() && a.run.state != JobState::Succeeded
            }),
        },
        Series {
            label: format!(
                "baseline: median of the last {} good scheduled runs",
                history::BASELINE_RUNS
            ),
            class: "series-baseline",
            mark: Mark::Line,
            points: baseline_points,
        },
    ];
    series.retain(|s| !s.points.is_empty());

    let any_flag = runs.iter().any(flagged);
    TimeChart {
        title: title.into(),
        unit: unit.into(),
        from,
        to: now,
        max: None,
        zone,
        series,
        flag_label: any_flag.then(|| match measure {
            Measure::Duration => "took over 3× its baseline".to_owned(),
            Measure::Size => "under half its baseline size".to_owned(),
        }),
    }
}

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

/// The last day shown (today in `zone`) and the first moment of the range.
pub fn range_of(days: u32, now: DateTime<Utc>, zone: Tz) -> (NaiveDate, DateTime<Utc>) {
    let today = now.with_timezone(&zone).date_naive();
    let spans = history::day_spans(today, 1, zone);
    let first_start = spans
        .first()
        .map_or(now, |s| s.start - Duration::days(i64::from(days) - 1));
    (today, first_start)
}

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
