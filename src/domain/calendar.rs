//! When a schedule was last due, computed in the appliance's own time zone.
//!
//! The appliance fires its schedule at a wall-clock time on chosen days, so "due" moves
//! with daylight saving time. A wall-clock time that does not exist (the hour skipped in
//! spring) fires at the first valid minute after it; one that exists twice (the hour
//! repeated in autumn) fires at the first of the two.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// A schedule's recurrence: days (empty means every day) and a wall-clock time.
#[derive(Debug, Clone, Copy)]
pub struct Recurrence<'a> {
    pub days: &'a [Weekday],
    pub hour: u32,
    pub minute: u32,
}

impl Recurrence<'_> {
    fn runs_on(&self, day: Weekday) -> bool {
        self.days.is_empty() || self.days.contains(&day)
    }

    fn is_valid(&self) -> bool {
        self.hour < 24 && self.minute < 60
    }
}

/// The latest moment at or before `now` when the recurrence was due, or `None` when it
/// never fires (an hour or minute out of range).
pub fn last_due(rec: Recurrence<'_>, zone: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if !rec.is_valid() {
        return None;
    }

    let today = now.with_timezone(&zone).date_naive();
    (0..=8)
        .filter_map(|back| today.checked_sub_signed(Duration::days(back)))
        .filter(|date| rec.runs_on(date.weekday()))
        .filter_map(|date| fire_time(rec, zone, date))
        .find(|fire| *fire <= now)
}

/// The first moment after `now` when the recurrence is due.
pub fn next_due(rec: Recurrence<'_>, zone: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if !rec.is_valid() {
        return None;
    }

    let today = now.with_timezone(&zone).date_naive();
    (0..=8)
        .filter_map(|ahead| today.checked_add_signed(Duration::days(ahead)))
        .filter(|date| rec.runs_on(date.weekday()))
        .filter_map(|date| fire_time(rec, zone, date))
        .find(|fire| *fire > now)
}

/// The instant the recurrence fires on a given local date.
fn fire_time(rec: Recurrence<'_>, zone: Tz, date: NaiveDate) -> Option<DateTime<Utc>> {
    let wall = date.and_hms_opt(rec.hour, rec.minute, 0)?;

    // Walk forward over a skipped hour; no zone skips more than a few hours.
    for step in 0..=(4 * 60) {
        let candidate = wall + Duration::minutes(step);
        match zone.from_local_datetime(&candidate) {
            LocalResult::Single(t) => return Some(t.with_timezone(&Utc)),
            LocalResult::Ambiguous(first, _) => return Some(first.with_timezone(&Utc)),
            LocalResult::None => continue,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn rec(days: &[Weekday], hour: u32, minute: u32) -> Recurrence<'_> {
        Recurrence { days, hour, minute }
    }

    #[test]
    fn daily_before_and_after_the_hour() {
        let r = rec(&[], 2, 0);
        let before = utc("2026-12-04T01:59:00Z");
        let after = utc("2026-12-04T02:00:00Z");
        assert_eq!(
            last_due(r, Tz::UTC, before),
            Some(utc("2026-12-03T02:00:00Z"))
        );
        assert_eq!(
            last_due(r, Tz::UTC, after),
            Some(utc("2026-12-04T02:00:00Z"))
        );
    }

    #[test]
    fn empty_day_list_means_every_day() {
        let r = rec(&[], 23, 30);
        let now = utc("2026-12-06T10:00:00Z");
        assert_eq!(last_due(r, Tz::UTC, now), Some(utc("2026-12-05T23:30:00Z")));
    }

    #[test]
    fn week_wraps_back_to_last_saturday() {
        // 2026-12-07 is a Monday; the Saturday run was two days before.
        let r = rec(&[Sat], 12, 59);
        let now = utc("2026-12-07T08:00:00Z");
        assert_eq!(last_due(r, Tz::UTC, now), Some(utc("2026-12-05T12:59:00Z")));
        assert_eq!(next_due(r, Tz::UTC, now), Some(utc("2026-12-12T12:59:00Z")));
    }

    #[test]
    fn same_day_later_time_goes_back_a_full_week() {
        // Saturday morning, the Saturday run is still ahead: last due is a week ago.
        let r = rec(&[Sat], 12, 59);
        let now = utc("2026-12-05T08:00:00Z");
        assert_eq!(last_due(r, Tz::UTC, now), Some(utc("2026-11-28T12:59:00Z")));
    }

    #[test]
    fn local_time_zone_moves_the_instant() {
        // 02:00 in Amsterdam in winter is 01:00 UTC.
        let r = rec(&[], 2, 0);
        let now = utc("2026-12-04T12:00:00Z");
        let zone = chrono_tz::Europe::Amsterdam;
        assert_eq!(last_due(r, zone, now), Some(utc("2026-12-04T01:00:00Z")));
    }

    #[test]
    fn skipped_hour_fires_at_the_first_valid_minute() {
        // Europe/Amsterdam skips 02:00-03:00 on 2026-03-29; 03:00 CEST is 01:00 UTC.
        let r = rec(&[], 2, 30);
        let zone = chrono_tz::Europe::Amsterdam;
        let now = utc("2026-03-29T06:00:00Z");
        assert_eq!(last_due(r, zone, now), Some(utc("2026-03-29T01:00:00Z")));
    }

    #[test]
    fn repeated_hour_fires_at_the_first_occurrence() {
        // Europe/Amsterdam repeats 02:00-03:00 on 2026-10-25; first 02:30 is 00:30 UTC.
        let r = rec(&[], 2, 30);
        let zone = chrono_tz::Europe::Amsterdam;
        let now = utc("2026-10-25T06:00:00Z");
        assert_eq!(last_due(r, zone, now), Some(utc("2026-10-25T00:30:00Z")));
    }

    #[test]
    fn out_of_range_time_never_fires() {
        assert_eq!(last_due(rec(&[], 24, 0), Tz::UTC, Utc::now()), None);
        assert_eq!(next_due(rec(&[], 1, 60), Tz::UTC, Utc::now()), None);
    }
}
