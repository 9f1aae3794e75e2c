//! Display helpers: ages, sizes, durations, times with their zone and URL path segments.
//!
//! Everything here returns ready-to-print text, so templates only place values and never
//! compute them.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

const KIB: f64 = 1024.0;
const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

/// A size in binary units: "512 B", "1.5 KiB", "45.0 GiB". Negative sizes (a confused
/// appliance) print as sent, in bytes.
pub fn size(bytes: i64) -> String {
    if bytes < 1024 {
        return format!("{bytes} B");
    }

    let mut value = bytes as f64;
    let mut unit = "B";
    for next in UNITS {
        if value < KIB {
            break;
        }
        value /= KIB;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

/// A length of time: "47 s", "21 min 47 s", "1 h 05 min", "2 d 03 h".
pub fn duration(secs: i64) -> String {
    if secs < 0 {
        return "unknown".to_owned();
    }

    let (days, hours) = (secs / 86_400, secs % 86_400 / 3_600);
    let (minutes, seconds) = (secs % 3_600 / 60, secs % 60);
    if days > 0 {
        format!("{days} d {hours:02} h")
    } else if hours > 0 {
        format!("{hours} h {minutes:02} min")
    } else if minutes > 0 {
        format!("{minutes} min {seconds} s")
    } else {
        format!("{seconds} s")
    }
}

/// How long ago `then` was: "just now", "5 min ago", "30 h ago", "3 d ago". Hours are kept
/// up to two days because a daily backup that is 30 hours old is the number that matters.
/// A time in the future (a clock ahead of ours) reads "in 5 min".
pub fn age(then: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - then).num_seconds();
    if secs.abs() < 45 {
        return "just now".to_owned();
    }

    let span = span_words(secs.abs());
    if secs < 0 {
        format!("in {span}")
    } else {
        format!("{span} ago")
    }
}

fn span_words(secs: i64) -> String {
    match secs {
        s if s < 3_600 => format!("{} min", (s / 60).max(1)),
        s if s < 48 * 3_600 => format!("{} h", s / 3_600),
        s => format!("{} d", s / 86_400),
    }
}

/// A moment in the display zone with the zone's abbreviation: "2026-12-04 02:00 UTC".
pub fn timestamp(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

/// Like [`timestamp`] with seconds, for the job page where seconds tell runs apart.
pub fn timestamp_seconds(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone)
        .format("%Y-%m-%d %H:%M:%S %Z")
        .to_string()
}

/// A time ready for a `<time>` element: machine value, absolute words and age.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moment {
    /// RFC 3339 in UTC, for the `datetime` attribute.
    pub iso: String,
    /// Absolute time in the display zone, with the zone.
    pub absolute: String,
    /// "5 min ago".
    pub age: String,
}

impl Moment {
    /// The moment `at`, seen from `now` and shown in `zone`.
    pub fn new(at: DateTime<Utc>, now: DateTime<Utc>, zone: Tz) -> Moment {
        Moment {
            iso: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            absolute: timestamp(at, zone),
            age: age(at, now),
        }
    }

    /// Like [`Moment::new`] with seconds in the absolute time.
    pub fn precise(at: DateTime<Utc>, now: DateTime<Utc>, zone: Tz) -> Moment {
        Moment {
            absolute: timestamp_seconds(at, zone),
            ..Moment::new(at, now, zone)
        }
    }
}

/// A progress value clamped to 0..=100, whatever the appliance sent.
pub fn percent(progress: i64) -> i64 {
    progress.clamp(0, 100)
}

/// The first line of `text`, cut to `max` characters with an ellipsis.
pub fn excerpt(text: &str, max: usize) -> String {
    let line = text.lines().next().unwrap_or_default();
    let cut = line.chars().count() > max || text.lines().nth(1).is_some();
    let mut out: String = line.chars().take(max).collect();
    if cut {
        out.push('…');
    }
    out
}

/// Percent-encodes one URL path segment (an appliance name) so that any name makes a
/// working link; unreserved characters stay as they are.
pub fn path_segment(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for byte in raw.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Percent-encodes a query value for links built on the server (filters kept in links).
pub fn query_value(raw: &str) -> String {
    path_segment(raw)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 4, h, m, s).single().unwrap()
    }

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(45 * 1024 * 1024 * 1024), "45.0 GiB");
        assert_eq!(size(3 * 1024_i64.pow(4) / 2), "1.5 TiB");
        assert_eq!(size(-5), "-5 B");
        assert_eq!(size(i64::MAX), "8.0 EiB");
    }

    #[test]
    fn durations_read_like_speech() {
        assert_eq!(duration(0), "0 s");
        assert_eq!(duration(47), "47 s");
        assert_eq!(duration(21 * 60 + 47), "21 min 47 s");
        assert_eq!(duration(3_600 + 5 * 60 + 12), "1 h 05 min");
        assert_eq!(duration(2 * 86_400 + 3 * 3_600), "2 d 03 h");
        assert_eq!(duration(-1), "unknown");
    }

    #[test]
    fn ages_round_down() {
        let now = at(12, 0, 0);
        assert_eq!(age(at(11, 59, 30), now), "just now");
        assert_eq!(age(at(11, 55, 0), now), "5 min ago");
        assert_eq!(age(at(10, 0, 0), now), "2 h ago");
        assert_eq!(age(now - chrono::Duration::hours(30), now), "30 h ago");
        assert_eq!(age(now - chrono::Duration::days(3), now), "3 d ago");
        assert_eq!(age(at(12, 5, 0), now), "in 5 min");
    }

    #[test]
    fn timestamps_carry_their_zone() {
        let t = at(2, 0, 3);
        assert_eq!(timestamp(t, Tz::UTC), "2026-12-04 02:00 UTC");
        assert_eq!(timestamp(t, Tz::Europe__Amsterdam), "2026-12-04 03:00 CET");
        assert_eq!(timestamp_seconds(t, Tz::UTC), "2026-12-04 02:00:03 UTC");
    }

    #[test]
    fn moments_hold_all_three_forms() {
        let m = Moment::new(at(10, 0, 0), at(12, 0, 0), Tz::UTC);
        assert_eq!(m.iso, "2026-12-04T10:00:00Z");
        assert_eq!(m.absolute, "2026-12-04 10:00 UTC");
        assert_eq!(m.age, "2 h ago");
    }

    #[test]
    fn excerpts_take_the_first_line() {
        assert_eq!(excerpt("short", 10), "short");
        assert_eq!(excerpt("abcdefghijk", 5), "abcde…");
        assert_eq!(excerpt("first\nsecond", 20), "first…");
        assert_eq!(excerpt("", 5), "");
    }

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(path_segment("vcsa-ams-01"), "vcsa-ams-01");
        assert_eq!(path_segment("a b/c?"), "a%20b%2Fc%3F");
        assert_eq!(path_segment("é"), "%C3%A9");
        assert_eq!(percent(140), 100);
        assert_eq!(percent(-3), 0);
    }
}
