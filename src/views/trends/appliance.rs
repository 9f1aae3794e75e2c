//! One appliance's history page: its runs over time, flagged outliers, streaks and
//! success rates by run type.

use askama::Template;
use askama_web::WebTemplate;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::RANGES;
use super::build::BuildMatch;
use super::filter::{Choice, TrendsFilter, range_choices};
use super::grid::trends_href;
use super::run_chart::{Measure, run_chart};
use crate::domain::ApplianceOverview;
use crate::store::RunPoint;
use crate::store::history::{self, FailureStreak, RunAnalysis, TypeRate};
use crate::views::common::{self, job_href};
use crate::views::format::{self, Moment};

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
