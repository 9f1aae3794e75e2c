//! `[[maintenance]]` tables: times when the appliances of a tag are expected to be in
//! trouble (patching, moves) and are silenced. A window repeats weekly (`days`, `start`,
//! `duration`) or happens once (`start`, `end`), in its own time zone.
//!
//! Weekly windows start at a wall-clock time in their zone and last a span of real time,
//! so a 6-hour window over a change of clocks still lasts 6 hours. A start time that the
//! clocks skip (02:30 on the night summer time begins) moves to the first minute after the
//! gap; a start time that happens twice (the night summer time ends) takes the first.

use chrono::{DateTime, Datelike, Days, Duration, NaiveDateTime, NaiveTime, TimeZone};
use chrono::{LocalResult, Utc, Weekday};
use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;

use super::ConfigError;
use super::raw::{At, Blame};
use super::values::{duration_within, parse_zone};
use crate::domain::text::bounded;

/// Longest weekly window: a whole week is "always", which is what removing it means.
const MAX_WEEKLY_SECS: u64 = 7 * 86_400 - 60;
/// Longest one-off window.
const MAX_ONCE_DAYS: i64 = 90;

/// A maintenance window of one tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceWindow {
    /// Appliances with this tag (compared ignoring ASCII case) are in the window.
    pub tag: String,
    /// Zone of the window's wall-clock times.
    pub zone: Tz,
    /// When the window is open.
    pub times: WindowTimes,
}

/// When a window is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowTimes {
    /// Every listed weekday at `start` (wall clock in the window's zone), for `length`.
    Weekly {
        /// Days the window opens on, in the window's zone.
        days: Vec<Weekday>,
        /// Wall-clock time it opens.
        start: NaiveTime,
        /// How long it stays open, in real time.
        length: Duration,
    },
    /// Once, from `start` to `end`.
    Once {
        /// When it opens.
        start: DateTime<Utc>,
        /// When it closes.
        end: DateTime<Utc>,
    },
}

impl MaintenanceWindow {
    /// True when an appliance with `tags` belongs to this window.
    pub fn applies_to(&self, tags: &[String]) -> bool {
        tags.iter().any(|t| t.eq_ignore_ascii_case(&self.tag))
    }

    /// When the window closes, if it is open at `at`.
    pub fn open_until(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.times {
            WindowTimes::Weekly {
                days,
                start,
                length,
            } => weekly_open_until(days, *start, *length, self.zone, at),
            WindowTimes::Once { start, end } => (*start <= at && at < *end).then_some(*end),
        }
    }

    /// The window in words: "tag prod, Saturday 22:00 for 6h (Europe/Berlin)".
    pub fn describe(&self) -> String {
        let when = match &self.times {
            WindowTimes::Weekly {
                days,
                start,
                length,
            } => {
                let length = length.to_std().unwrap_or_default();
                format!(
                    "{} {} for {}",
                    crate::domain::describe_days(days),
                    start.format("%H:%M"),
                    humantime::format_duration(length)
                )
            }
            WindowTimes::Once { start, end } => format!(
                "from {} to {}",
                start.with_timezone(&self.zone).format("%Y-%m-%d %H:%M"),
                end.with_timezone(&self.zone).format("%Y-%m-%d %H:%M")
            ),
        };
        format!("tag {}, {when} ({})", self.tag, self.zone.name())
    }
}

/// The latest end of an occurrence of a weekly window open at `at`.
fn weekly_open_until(
    days: &[Weekday],
    start: NaiveTime,
    length: Duration,
    zone: Tz,
    at: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let today = at.with_timezone(&zone).date_naive();
    // An occurrence open now started at most `length` ago, plus a day for the start time
    // and the change of clocks.
    let reach = u64::try_from(length.num_days()).unwrap_or(0) + 1;

    (0..=reach)
        .filter_map(|back| today.checked_sub_days(Days::new(back)))
        .filter(|date| days.contains(&date.weekday()))
        .filter_map(|date| wall_clock_to_utc(zone, date.and_time(start)))
        .map(|opens| (opens, opens + length))
        .filter(|(opens, closes)| *opens <= at && at < *closes)
        .map(|(_, closes)| closes)
        .max()
}

/// A wall-clock time in `zone` as an instant: the first of two when clocks go back, the
/// first minute after the gap when they go forward.
fn wall_clock_to_utc(zone: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match zone.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
        // No zone skips more than a few hours; look a minute at a time past the gap.
        LocalResult::None => (1..=240).find_map(|minutes| {
            zone.from_local_datetime(&(local + Duration::minutes(minutes)))
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        }),
    }
}

/// A `[[maintenance]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawMaintenance {
    pub tag: Spanned<String>,
    pub zone: At<String>,
    pub days: At<Vec<Spanned<String>>>,
    pub start: Spanned<String>,
    pub duration: At<String>,
    pub end: At<String>,
}

/// Checks every window; `known_tags` are the tags of the configured appliances, so that a
/// misspelt tag is an error instead of a window that silences nothing.
pub(super) fn validate(
    raw: &[RawMaintenance],
    known_tags: &[&str],
    blame: &Blame<'_>,
) -> Result<Vec<MaintenanceWindow>, ConfigError> {
    raw.iter()
        .enumerate()
        .map(|(index, w)| validate_one(w, index, known_tags, blame))
        .collect()
}

fn validate_one(
    w: &RawMaintenance,
    index: usize,
    known_tags: &[&str],
    blame: &Blame<'_>,
) -> Result<MaintenanceWindow, ConfigError> {
    let key = |field: &str| format!("maintenance[{index}].{field}");

    let tag = w.tag.get_ref().trim();
    if !known_tags.iter().any(|t| t.eq_ignore_ascii_case(tag)) {
        let m = format!(
            "no appliance has the tag `{}`; a window names a tag from the appliance tables",
            bounded(tag, 80)
        );
        return Err(blame.at(Some(w.tag.span()), &key("tag"), m));
    }
    let zone = blame.value(&w.zone, &key("zone"), chrono_tz::UTC, |s| parse_zone(s))?;

    let times = match (&w.days, &w.end) {
        (Some(_), Some(end)) => {
            let m = "a window is weekly (days, start, duration) or once (start, end), not both"
                .to_owned();
            return Err(blame.at(Some(end.span()), &key("end"), m));
        }
        (Some(days), None) => weekly(w, days, blame, &key)?,
        (None, Some(end)) => once(w, end, zone, blame, &key)?,
        (None, None) => {
            let m = "say when the window is open: days and duration for a weekly window, or \
                     end for a one-off window"
                .to_owned();
            return Err(blame.at(Some(w.start.span()), &key("start"), m));
        }
    };

    Ok(MaintenanceWindow {
        tag: tag.to_owned(),
        zone,
        times,
    })
}

fn weekly(
    w: &RawMaintenance,
    days: &Spanned<Vec<Spanned<String>>>,
    blame: &Blame<'_>,
    key: &dyn Fn(&str) -> String,
) -> Result<WindowTimes, ConfigError> {
    if w.duration.is_none() {
        let m = "a weekly window needs duration = \"6h\" (or end = \"...\" for a one-off window)"
            .to_owned();
        return Err(blame.at(Some(days.span()), &key("days"), m));
    }
    if days.get_ref().is_empty() {
        let m = "list at least one day, such as [\"sat\"]; all seven for every day".to_owned();
        return Err(blame.at(Some(days.span()), &key("days"), m));
    }

    let mut parsed = Vec::new();
    for day in days.get_ref() {
        let weekday =
            parse_day(day.get_ref()).map_err(|m| blame.at(Some(day.span()), &key("days"), m))?;
        if !parsed.contains(&weekday) {
            parsed.push(weekday);
        }
    }
    parsed.sort_by_key(|d| d.num_days_from_monday());

    let start = NaiveTime::parse_from_str(w.start.get_ref().trim(), "%H:%M").map_err(|_| {
        let m = format!(
            "`{}` is not a time of day; write it like \"22:00\"",
            bounded(w.start.get_ref(), 40)
        );
        blame.at(Some(w.start.span()), &key("start"), m)
    })?;
    let length = blame.value(
        &w.duration,
        &key("duration"),
        std::time::Duration::ZERO,
        duration_within(60, MAX_WEEKLY_SECS),
    )?;

    Ok(WindowTimes::Weekly {
        days: parsed,
        start,
        length: Duration::from_std(length).unwrap_or_else(|_| Duration::hours(1)),
    })
}

fn once(
    w: &RawMaintenance,
    end: &Spanned<String>,
    zone: Tz,
    blame: &Blame<'_>,
    key: &dyn Fn(&str) -> String,
) -> Result<WindowTimes, ConfigError> {
    if let Some(duration) = &w.duration {
        let m = "a one-off window has an end, not a duration".to_owned();
        return Err(blame.at(Some(duration.span()), &key("duration"), m));
    }
    let instant = |raw: &Spanned<String>, field: &str| {
        parse_local(raw.get_ref(), zone).map_err(|m| blame.at(Some(raw.span()), &key(field), m))
    };
    let start = instant(&w.start, "start")?;
    let end_at = instant(end, "end")?;

    if end_at <= start {
        let m = "the end is not after the start".to_owned();
        return Err(blame.at(Some(end.span()), &key("end"), m));
    }
    if end_at - start > Duration::days(MAX_ONCE_DAYS) {
        let m = format!("the window is longer than {MAX_ONCE_DAYS} days");
        return Err(blame.at(Some(end.span()), &key("end"), m));
    }
    Ok(WindowTimes::Once { start, end: end_at })
}

/// A weekday as people write it: `sat`, `Saturday`, `SATURDAY`.
pub fn parse_day(written: &str) -> Result<Weekday, String> {
    let lower = written.trim().to_ascii_lowercase();
    let days = [
        ("mon", Weekday::Mon),
        ("tue", Weekday::Tue),
        ("wed", Weekday::Wed),
        ("thu", Weekday::Thu),
        ("fri", Weekday::Fri),
        ("sat", Weekday::Sat),
        ("sun", Weekday::Sun),
    ];
    days.iter()
        .find(|(short, day)| lower == *short || lower == day_name(*day))
        .map(|(_, day)| *day)
        .ok_or_else(|| {
            format!(
                "`{}` is not a day; use mon, tue, wed, thu, fri, sat or sun",
                bounded(written, 40)
            )
        })
}

fn day_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "monday",
        Weekday::Tue => "tuesday",
        Weekday::Wed => "wednesday",
        Weekday::Thu => "thursday",
        Weekday::Fri => "friday",
        Weekday::Sat => "saturday",
        Weekday::Sun => "sunday",
    }
}

/// A wall-clock date and time in `zone`, written "2026-12-24 18:00" (or with a `T`).
fn parse_local(written: &str, zone: Tz) -> Result<DateTime<Utc>, String> {
    let text = written.trim();
    let local = ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .ok_or_else(|| {
            format!(
                "`{}` is not a date and time; write it like \"2026-12-24 18:00\" (in the \
                 window's zone)",
                bounded(written, 40)
            )
        })?;
    wall_clock_to_utc(zone, local).ok_or_else(|| format!("`{text}` does not exist in {zone}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Berlin;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn weekly(days: &[Weekday], start: &str, hours: i64, zone: Tz) -> MaintenanceWindow {
        MaintenanceWindow {
            tag: "prod".into(),
            zone,
            times: WindowTimes::Weekly {
                days: days.to_vec(),
                start: NaiveTime::parse_from_str(start, "%H:%M").unwrap(),
                length: Duration::hours(hours),
            },
        }
    }

    #[test]
    fn saturday_night_crosses_midnight() {
        // Saturday 2026-12-05 22:00 CET is 21:00 UTC; six hours end at 03:00 UTC Sunday.
        let w = weekly(&[Weekday::Sat], "22:00", 6, Berlin);
        assert_eq!(w.open_until(utc("2026-12-05T20:59:59Z")), None);
        assert_eq!(
            w.open_until(utc("2026-12-05T21:00:00Z")),
            Some(utc("2026-12-06T03:00:00Z"))
        );
        assert!(w.open_until(utc("2026-12-06T02:59:00Z")).is_some());
        assert_eq!(w.open_until(utc("2026-12-06T03:00:00Z")), None);
        // Not on other days of the week.
        assert_eq!(w.open_until(utc("2026-12-04T21:30:00Z")), None);
    }

    #[test]
    fn sunday_night_wraps_into_the_next_week() {
        // Sunday 2026-12-06 23:00 UTC for 3 hours: Monday 01:00 is inside.
        let w = weekly(&[Weekday::Sun], "23:00", 3, chrono_tz::UTC);
        assert_eq!(
            w.open_until(utc("2026-12-07T01:00:00Z")),
            Some(utc("2026-12-07T02:00:00Z"))
        );
        assert_eq!(w.open_until(utc("2026-12-07T02:00:00Z")), None);
    }

    #[test]
    fn length_is_real_time_when_summer_time_begins() {
        // Saturday 2026-03-28 22:00 CET (21:00 UTC); clocks skip 02:00-03:00 that night.
        let w = weekly(&[Weekday::Sat], "22:00", 6, Berlin);
        assert_eq!(
            w.open_until(utc("2026-03-29T02:30:00Z")),
            Some(utc("2026-03-29T03:00:00Z"))
        );
        assert_eq!(w.open_until(utc("2026-03-29T03:00:00Z")), None);
    }

    #[test]
    fn a_skipped_start_time_opens_after_the_gap() {
        // 02:30 does not exist in Berlin on 2026-03-29; the window opens at 03:00 CEST.
        let w = weekly(&[Weekday::Sun], "02:30", 1, Berlin);
        assert_eq!(w.open_until(utc("2026-03-29T00:59:00Z")), None);
        assert_eq!(
            w.open_until(utc("2026-03-29T01:00:00Z")),
            Some(utc("2026-03-29T02:00:00Z"))
        );
    }

    #[test]
    fn a_repeated_start_time_opens_at_the_first() {
        // 02:30 happens twice in Berlin on 2026-10-25: first at 00:30 UTC (CEST).
        let w = weekly(&[Weekday::Sun], "02:30", 1, Berlin);
        assert_eq!(
            w.open_until(utc("2026-10-25T00:30:00Z")),
            Some(utc("2026-10-25T01:30:00Z"))
        );
        assert_eq!(w.open_until(utc("2026-10-25T01:45:00Z")), None);
    }

    #[test]
    fn summer_windows_follow_the_zone() {
        // In July Berlin is UTC+2: Saturday 22:00 is 20:00 UTC.
        let w = weekly(&[Weekday::Sat], "22:00", 2, Berlin);
        assert!(w.open_until(utc("2026-07-04T20:00:00Z")).is_some());
        assert!(w.open_until(utc("2026-07-04T19:59:00Z")).is_none());
    }

    #[test]
    fn a_long_window_reaches_across_days() {
        // Friday 20:00 for 60 hours: open on Sunday morning, closed Monday 08:00.
        let w = weekly(&[Weekday::Fri], "20:00", 60, chrono_tz::UTC);
        assert!(w.open_until(utc("2026-12-06T09:00:00Z")).is_some());
        assert_eq!(w.open_until(utc("2026-12-07T08:00:00Z")), None);
    }

    #[test]
    fn one_off_windows_are_half_open() {
        let start = parse_local("2026-12-24 18:00", Berlin).unwrap();
        let end = parse_local("2026-12-27T08:00", Berlin).unwrap();
        assert_eq!(start, utc("2026-12-24T17:00:00Z"));
        let w = MaintenanceWindow {
            tag: "Lab".into(),
            zone: Berlin,
            times: WindowTimes::Once { start, end },
        };
        assert_eq!(w.open_until(start), Some(end));
        assert_eq!(w.open_until(end), None);
        assert!(w.applies_to(&["lab".to_owned()]));
        assert!(!w.applies_to(&["prod".to_owned()]));
        assert_eq!(
            w.describe(),
            "tag Lab, from 2026-12-24 18:00 to 2026-12-27 08:00 (Europe/Berlin)"
        );
    }

    #[test]
    fn days_are_read_short_or_long() {
        assert_eq!(parse_day("sat"), Ok(Weekday::Sat));
        assert_eq!(parse_day("Saturday"), Ok(Weekday::Sat));
        assert!(parse_day("caturday").unwrap_err().contains("mon, tue"));
    }
}
