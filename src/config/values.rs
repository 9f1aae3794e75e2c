//! Parsers for the value types of the configuration, with messages that say what is valid.

use std::time::Duration;

use chrono_tz::Tz;

/// Parses a duration such as `5m`, `30s`, `2h` or `1h 30m`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let parsed = humantime::parse_duration(text.trim()).map_err(|e| {
        format!("`{text}` is not a duration ({e}); write it like \"30s\", \"5m\" or \"2h\"")
    })?;
    if parsed.is_zero() {
        return Err(format!(
            "`{text}` is zero; a duration must be longer than that"
        ));
    }
    Ok(parsed)
}

/// A parser for durations between `min` and `max` seconds, with a message naming both.
pub fn duration_within(min: u64, max: u64) -> impl Fn(&String) -> Result<Duration, String> {
    move |text: &String| {
        let value = parse_duration(text)?;
        let (lo, hi) = (Duration::from_secs(min), Duration::from_secs(max));
        if value < lo || value > hi {
            return Err(format!(
                "`{text}` is out of range; use a duration from {} to {}",
                humantime::format_duration(lo),
                humantime::format_duration(hi)
            ));
        }
        Ok(value)
    }
}

/// Parses an IANA time zone name such as `UTC` or `Europe/Amsterdam`.
pub fn parse_zone(text: &str) -> Result<Tz, String> {
    text.trim().parse::<Tz>().map_err(|_| {
        format!(
            "`{text}` is not a time zone; use an IANA name like \"UTC\" or \"Europe/Amsterdam\""
        )
    })
}

/// Appliance names end up in URLs, file names and the database: keep them plain.
pub fn check_name(name: &str) -> Result<(), String> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || name.len() > 64 || !name.chars().all(ok_char) || name.starts_with('.') {
        let name = crate::domain::text::bounded(name, 80);
        return Err(format!(
            "`{name}` is not a valid appliance name; use 1 to 64 letters, digits, '-', '_' \
             or '.', not starting with '.'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
        assert!(parse_duration("0s").unwrap_err().contains("zero"));
        assert!(parse_duration("soon").unwrap_err().contains("\"5m\""));
    }

    #[test]
    fn zones() {
        assert_eq!(
            parse_zone("Europe/Amsterdam"),
            Ok(chrono_tz::Europe::Amsterdam)
        );
        assert!(parse_zone("Mars/Olympus").is_err());
    }

    #[test]
    fn names() {
        assert!(check_name("vcsa-ams-01").is_ok());
        assert!(check_name("a/b").is_err());
        assert!(check_name("").is_err());
        assert!(check_name("..").is_err());
    }
}
