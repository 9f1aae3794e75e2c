//! Acknowledging a troubled appliance, and removing the acknowledgement, from its page.
//! Both answer with a redirect back to the appliance page and write one audit line in the
//! same transaction as the change.

use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::AppState;
use super::actions::form::FormFields;
use super::appliances::unknown_appliance;
use super::auth::CurrentUser;
use super::error::WebError;
use crate::domain::ApplianceOverview;
use crate::store::{ACTION_ACK, ACTION_UNACK, Acknowledgement, AuditEntry};
use crate::views::common::appliance_href;
use crate::views::format;
use crate::views::silence::{self, length_words};

/// Longest reason accepted, in characters.
pub const MAX_REASON_CHARS: usize = 200;
/// Longest an acknowledgement may last: after that, someone should look again.
pub const MAX_ACK_DAYS: i64 = 30;
/// Shortest an acknowledgement may last.
const MIN_ACK_MINUTES: i64 = 1;

/// `POST /appliances/{name}/acknowledgement`: acknowledges the appliance (replacing an
/// earlier acknowledgement) with the form's `reason` and `expires`.
pub async fn create(
    State(state): State<AppState>,
    user: CurrentUser,
    name: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Response, WebError> {
    let Path(name) = name?;
    let fields = FormFields::parse(&body);
    let now = Utc::now();
    let overview = configured(&state, &name).await?;

    let status = overview.verdict(now).status;
    if !silence::can_acknowledge(status) {
        return Err(refuse(
            "appliance",
            &format!(
                "{name} is {}; there is no trouble to acknowledge",
                status.label()
            ),
        ));
    }
    let reason = checked_reason(fields.one("reason"))?;
    let until = parse_expiry(fields.one("expires"), now, state.settings.display_zone)
        .map_err(|why| refuse("expires", &why))?;

    let ack = Acknowledgement {
        appliance: name.clone(),
        user: user.name.clone(),
        reason: reason.clone(),
        status,
        since: now,
        until,
    };
    let audit = AuditEntry {
        at: now,
        user: user.name.clone(),
        appliance: Some(name.clone()),
        action: ACTION_ACK.to_owned(),
        detail: format!(
            "while {}, until {} ({})",
            status.label(),
            format::timestamp(until, state.settings.display_zone),
            length_words(now, until)
        ),
        outcome: "acknowledged".to_owned(),
        ok: true,
        reason: Some(reason),
    };
    state
        .store
        .acknowledge(&ack, &audit)
        .await
        .map_err(WebError::internal)?;

    tracing::info!(
        appliance.name = %name,
        user = %user.name,
        until = %until,
        "appliance acknowledged"
    );
    Ok(Redirect::to(&appliance_href(&name)).into_response())
}

/// `POST /appliances/{name}/acknowledgement/delete`: ends the acknowledgement now. With
/// none to end (already expired, or a second click), it only goes back to the page.
pub async fn delete(
    State(state): State<AppState>,
    user: CurrentUser,
    name: Result<Path<String>, PathRejection>,
) -> Result<Response, WebError> {
    let Path(name) = name?;
    configured(&state, &name).await?;

    let audit = AuditEntry {
        at: Utc::now(),
        user: user.name.clone(),
        appliance: Some(name.clone()),
        action: ACTION_UNACK.to_owned(),
        detail: "acknowledgement removed by hand".to_owned(),
        outcome: "removed".to_owned(),
        ok: true,
        reason: None,
    };
    let removed = state
        .store
        .remove_acknowledgement(&name, &audit)
        .await
        .map_err(WebError::internal)?;

    if removed.is_some() {
        tracing::info!(appliance.name = %name, user = %user.name, "acknowledgement removed");
    }
    Ok(Redirect::to(&appliance_href(&name)).into_response())
}

async fn configured(state: &AppState, name: &str) -> Result<ApplianceOverview, WebError> {
    state
        .store
        .appliance_overview(name)
        .await
        .map_err(WebError::internal)?
        .ok_or_else(|| unknown_appliance(name))
}

/// A 400 that names the field and says that nothing changed.
fn refuse(field: &str, why: &str) -> WebError {
    WebError::BadRequest(format!(
        "The field \u{201c}{field}\u{201d} cannot be used: {why}. Nothing was changed."
    ))
}

fn checked_reason(reason: Option<&str>) -> Result<String, WebError> {
    let reason = reason.ok_or_else(|| refuse("reason", "say why, for the others"))?;
    if reason.chars().count() > MAX_REASON_CHARS {
        return Err(refuse(
            "reason",
            &format!("it is longer than {MAX_REASON_CHARS} characters"),
        ));
    }
    if let Some(why) = super::typed_text::problem(reason) {
        return Err(refuse("reason", &why));
    }
    Ok(reason.to_owned())
}

/// When an acknowledgement given at `now` ends: `written` is a duration ("4h", "2d",
/// "1h 30m") or an end time ("2026-12-24 18:00", read in `zone`, or RFC 3339). It must
/// lie between a minute and 30 days ahead.
pub fn parse_expiry(
    written: Option<&str>,
    now: DateTime<Utc>,
    zone: Tz,
) -> Result<DateTime<Utc>, String> {
    let text = written.ok_or("say until when: a duration such as 4h, or an end time")?;
    let shown = crate::domain::text::bounded(text, 40);

    let until = if let Some(length) = parse_length(text) {
        let length = length.map_err(|why| format!("`{shown}` {why}"))?;
        now.checked_add_signed(length)
            .ok_or_else(|| format!("`{shown}` is longer than {MAX_ACK_DAYS} days"))?
    } else if let Some(end) = parse_end_time(text, zone) {
        end
    } else {
        return Err(format!(
            "`{shown}` is neither a duration such as 4h or 2d nor an end time such as \
             2026-12-24 18:00"
        ));
    };

    if until < now + Duration::minutes(MIN_ACK_MINUTES) {
        return Err(format!(
            "`{shown}` ends too soon; give at least {MIN_ACK_MINUTES} minute from now"
        ));
    }
    if until > now + Duration::days(MAX_ACK_DAYS) {
        return Err(format!(
            "`{shown}` is more than {MAX_ACK_DAYS} days ahead; acknowledge again later"
        ));
    }
    Ok(until)
}

/// A length written as numbers with units, each unit at most once ("4h", "2d",
/// "1h 30m", "90 minutes"). `None` when the text does not look like a length at all (it
/// may be an end time); an error when it does but cannot be meant, such as "4h4h".
fn parse_length(text: &str) -> Option<Result<Duration, String>> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut total_secs: i64 = 0;
    let too_long = || format!("is longer than {MAX_ACK_DAYS} days");

    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return None;
        }
        let (number, after) = rest.split_at(digits);
        let after = after.trim_start();
        let letters = after.len() - after.trim_start_matches(char::is_alphabetic).len();
        let (unit, after) = after.split_at(letters);
        let (unit_name, unit_secs) = unit_of(&unit.to_lowercase())?;

        if seen.contains(&unit_name) {
            return Some(Err(format!(
                "gives {unit_name} more than once; write each unit once, such as 4h, 2d \
                 or 1h 30m"
            )));
        }
        seen.push(unit_name);
        let Some(secs) = number
            .parse::<i64>()
            .ok()
            .and_then(|n| n.checked_mul(unit_secs))
            .and_then(|s| s.checked_add(total_secs))
        else {
            return Some(Err(too_long()));
        };
        total_secs = secs;
        rest = after.trim_start();
    }
    Some(Duration::try_seconds(total_secs).ok_or_else(too_long))
}

/// The name and the length in seconds of a unit as people write it.
fn unit_of(unit: &str) -> Option<(&'static str, i64)> {
    let found = match unit {
        "w" | "week" | "weeks" => ("weeks", 7 * 86_400),
        "d" | "day" | "days" => ("days", 86_400),
        "h" | "hr" | "hrs" | "hour" | "hours" => ("hours", 3_600),
        "m" | "min" | "mins" | "minute" | "minutes" => ("minutes", 60),
        "s" | "sec" | "secs" | "second" | "seconds" => ("seconds", 1),
        _ => return None,
    };
    Some(found)
}

/// An end time as a form sends it: RFC 3339, or a wall-clock time in `zone` written
/// "2026-12-24 18:00" or as a `datetime-local` input sends it.
fn parse_end_time(text: &str, zone: Tz) -> Option<DateTime<Utc>> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    let local = ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())?;
    // A time the clocks skip is refused rather than guessed.
    zone.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-12-04T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn durations_and_end_times() {
        let zone = chrono_tz::Europe::Berlin;
        assert_eq!(
            parse_expiry(Some("4h"), now(), zone),
            Ok(now() + Duration::hours(4))
        );
        assert_eq!(
            parse_expiry(Some("2d"), now(), zone),
            Ok(now() + Duration::days(2))
        );
        // 18:00 in Berlin in December is 17:00 UTC.
        assert_eq!(
            parse_expiry(Some("2026-12-04 18:00"), now(), zone),
            Ok(now() + Duration::hours(5))
        );
        assert_eq!(
            parse_expiry(Some("2026-12-05T12:00:00Z"), now(), zone),
            Ok(now() + Duration::days(1))
        );
    }

    #[test]
    fn out_of_bounds_and_nonsense_are_refused() {
        let zone = chrono_tz::UTC;
        assert!(parse_expiry(None, now(), zone).is_err());
        assert!(
            parse_expiry(Some("31d"), now(), zone)
                .unwrap_err()
                .contains("30 days")
        );
        assert!(
            parse_expiry(Some("10s"), now(), zone)
                .unwrap_err()
                .contains("too soon")
        );
        assert!(parse_expiry(Some("2026-12-01 10:00"), now(), zone).is_err());
        assert!(
            parse_expiry(Some("soon"), now(), zone)
                .unwrap_err()
                .contains("neither")
        );
        assert!(parse_expiry(Some("99999999999d"), now(), zone).is_err());
        assert!(parse_expiry(Some("99999999999999999999999m"), now(), zone).is_err());
    }

    #[test]
    fn lengths_with_a_unit_given_twice_are_refused() {
        let zone = chrono_tz::UTC;
        for doubled in ["4h4h", "4h 4h", "1d 2h 3d", "30m30m", "2 hours 1h", "1H1h"] {
            let why = parse_expiry(Some(doubled), now(), zone).unwrap_err();
            assert!(why.contains("more than once"), "{doubled}: {why}");
        }
        assert_eq!(
            parse_expiry(Some("30m"), now(), zone),
            Ok(now() + Duration::minutes(30))
        );
        assert_eq!(
            parse_expiry(Some("1h 30m"), now(), zone),
            Ok(now() + Duration::minutes(90))
        );
        assert_eq!(
            parse_expiry(Some("2 days"), now(), zone),
            Ok(now() + Duration::days(2))
        );
        assert!(
            parse_expiry(Some("30d 1m"), now(), zone)
                .unwrap_err()
                .contains("30 days")
        );
        assert!(
            parse_expiry(Some("4x"), now(), zone)
                .unwrap_err()
                .contains("neither")
        );
    }
}
