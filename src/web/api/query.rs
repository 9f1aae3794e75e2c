//! Reading query parameters: every value is taken as text and checked here, so that a bad
//! one is a 400 that names the parameter rather than a generic refusal.

use axum::extract::rejection::QueryRejection;
use chrono::{DateTime, NaiveDate, Utc};

use super::error::ApiError;
use crate::domain::text::bounded;
use crate::store::JobCursor;

/// A parameter's value, trimmed; `None` when absent or blank.
pub fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A whole number in `min..=max`, or `default` when absent.
pub fn number(
    name: &str,
    value: &Option<String>,
    min: u32,
    max: u32,
    default: u32,
) -> Result<u32, ApiError> {
    let Some(text) = present(value) else {
        return Ok(default);
    };
    text.parse::<u32>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            ApiError::bad_param(
                name,
                &format!("{} is not a whole number from {min} to {max}", quoted(text)),
            )
        })
}

/// A time: RFC 3339 (`2026-12-01T02:00:00Z`) or a date (`2026-12-01`, midnight UTC).
pub fn time(name: &str, value: &Option<String>) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(text) = present(value) else {
        return Ok(None);
    };
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(Some(at.with_timezone(&Utc)));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|midnight| Some(midnight.and_utc()))
        .ok_or_else(|| {
            ApiError::bad_param(
                name,
                &format!(
                    "{} is not a time; use RFC 3339 such as 2026-12-01T02:00:00Z, or a date",
                    quoted(text)
                ),
            )
        })
}

/// A window of time, each end open when not given.
pub type TimeRange = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// The `since` and `until` parameters together: each a [`time`], and `until` not before
/// `since` (an empty window is allowed, a reversed one is a mistake).
pub fn time_range(since: &Option<String>, until: &Option<String>) -> Result<TimeRange, ApiError> {
    let from = time("since", since)?;
    let to = time("until", until)?;
    if let (Some(from), Some(to)) = (from, to)
        && from > to
    {
        return Err(ApiError::bad_param(
            "until",
            &format!(
                "{} lies before `since` {}; give `since` first and `until` after it",
                quoted(present(until).unwrap_or_default()),
                quoted(present(since).unwrap_or_default())
            ),
        ));
    }
    Ok((from, to))
}

/// One of `allowed`, or `None` when absent.
pub fn word(
    name: &str,
    value: &Option<String>,
    allowed: &[&str],
) -> Result<Option<String>, ApiError> {
    let Some(text) = present(value) else {
        return Ok(None);
    };
    if allowed.contains(&text) {
        return Ok(Some(text.to_owned()));
    }
    Err(ApiError::bad_param(
        name,
        &format!("{} is not one of {}", quoted(text), allowed.join(", ")),
    ))
}

/// The text of a cursor that continues after `cursor`.
pub fn encode_cursor(cursor: JobCursor) -> String {
    match cursor.start_ms {
        Some(start) => format!("{start}_{}", cursor.row_id),
        None => format!("n_{}", cursor.row_id),
    }
}

/// A cursor from a `next` link.
pub fn cursor(name: &str, value: &Option<String>) -> Result<Option<JobCursor>, ApiError> {
    let Some(text) = present(value) else {
        return Ok(None);
    };
    let parsed = text.split_once('_').and_then(|(start, id)| {
        let row_id = id.parse::<i64>().ok()?;
        let start_ms = match start {
            "n" => None,
            ms => Some(ms.parse::<i64>().ok()?),
        };
        Some(JobCursor { start_ms, row_id })
    });
    parsed.map(Some).ok_or_else(|| {
        ApiError::bad_param(
            name,
            &format!(
                "{} is not a cursor; pass on the `next` link as given",
                quoted(text)
            ),
        )
    })
}

/// A query string serde could not read at all, such as a parameter given twice.
pub fn rejected(rejection: QueryRejection) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::BAD_REQUEST,
        "bad_request",
        format!(
            "the query string is not understood: {}",
            bounded(&rejection.body_text(), 200)
        ),
    )
}

fn quoted(text: &str) -> String {
    format!("\u{201c}{}\u{201d}", bounded(text, 80))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(text: &str) -> Option<String> {
        Some(text.to_owned())
    }

    #[test]
    fn numbers_are_bounded_and_named() {
        assert_eq!(number("limit", &None, 1, 500, 50).unwrap(), 50);
        assert_eq!(number("limit", &some(" 7 "), 1, 500, 50).unwrap(), 7);
        for bad in ["0", "501", "-1", "ten", "1e3", "99999999999999"] {
            let err = number("limit", &some(bad), 1, 500, 50).unwrap_err();
            assert_eq!(err.status(), axum::http::StatusCode::BAD_REQUEST, "{bad}");
        }
    }

    #[test]
    fn times_take_rfc3339_or_a_date() {
        let at = time("since", &some("2026-12-01T02:00:00+01:00"))
            .unwrap()
            .unwrap();
        assert_eq!(at.to_rfc3339(), "2026-12-01T01:00:00+00:00");
        let day = time("since", &some("2026-12-01")).unwrap().unwrap();
        assert_eq!(day.to_rfc3339(), "2026-12-01T00:00:00+00:00");
        assert!(time("until", &some("yesterday")).is_err());
        assert!(time("until", &some("2026-13-01")).is_err());
    }

    #[test]
    fn a_reversed_time_range_names_until() {
        let (since, until) = (some("2026-12-02"), some("2026-12-01T23:00:00Z"));
        let err = time_range(&since, &until).unwrap_err();
        assert_eq!(err.status(), axum::http::StatusCode::BAD_REQUEST);
        let (since, until) = (some("2026-12-01"), some("2026-12-01"));
        assert!(time_range(&since, &until).is_ok());
        assert!(time_range(&None, &some("2026-12-01")).is_ok());
    }

    #[test]
    fn cursors_round_trip_and_refuse_junk() {
        for cursor in [
            JobCursor {
                start_ms: Some(1_700_000_000_000),
                row_id: 42,
            },
            JobCursor {
                start_ms: Some(-5),
                row_id: 1,
            },
            JobCursor {
                start_ms: None,
                row_id: 9,
            },
        ] {
            let text = Some(encode_cursor(cursor));
            assert_eq!(super::cursor("cursor", &text).unwrap(), Some(cursor));
        }
        for junk in ["x", "_", "1_", "n_x", "1_2_3", "\u{202e}"] {
            assert!(super::cursor("cursor", &some(junk)).is_err(), "{junk}");
        }
    }
}
