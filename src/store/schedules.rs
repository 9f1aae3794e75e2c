//! The `schedule_changes` table: the history of each appliance's backup schedule.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{FromRow, SqliteConnection};

use super::overview::from_ms;
use super::{Context, Store, StoreError, StoreResult};
use crate::domain::Schedule;
use crate::domain::schedule::{day_word, parse_day};

/// The most history rows one call returns.
const MAX_HISTORY_LIMIT: u32 = 1_000;

/// A schedule state as first observed.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleChange {
    /// Start of the poll that first saw this state.
    pub observed_at: DateTime<Utc>,
    /// `None` when the appliance had no schedule configured.
    pub schedule: Option<Schedule>,
}

/// The stored JSON shape of a schedule. Field names are part of the file format: rename
/// none without a migration that rewrites the rows.
#[derive(Debug, Serialize, Deserialize)]
struct StoredSchedule {
    id: String,
    enabled: bool,
    /// Day words as the appliance sends them (`SATURDAY`); empty means every day.
    days: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    hour: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    minute: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retention: Option<i64>,
    location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    location_user: Option<String>,
    parts: Vec<String>,
}

/// A schedule as compact JSON.
fn encode(schedule: &Schedule) -> String {
    let stored = StoredSchedule {
        id: schedule.id.clone(),
        enabled: schedule.enabled,
        days: schedule
            .days
            .iter()
            .map(|d| day_word(*d).to_owned())
            .collect(),
        hour: schedule.time.map(|(hour, _)| hour),
        minute: schedule.time.map(|(_, minute)| minute),
        retention: schedule.retention,
        location: schedule.location.clone(),
        location_user: schedule.location_user.clone(),
        parts: schedule.parts.clone(),
    };
    // A struct of strings, numbers and lists always serialises; the fallback fills the type.
    serde_json::to_string(&stored).unwrap_or_default()
}

/// A schedule read back from its JSON.
pub(super) fn decode(text: &str) -> StoreResult<Schedule> {
    let corrupt = |detail: String| StoreError::Corrupt {
        what: "schedule",
        detail,
    };
    let stored: StoredSchedule = serde_json::from_str(text).map_err(|e| corrupt(e.to_string()))?;
    let days = stored
        .days
        .iter()
        .map(|word| parse_day(word).ok_or_else(|| corrupt(format!("unknown day {word:?}"))))
        .collect::<StoreResult<Vec<_>>>()?;

    Ok(Schedule {
        id: stored.id,
        enabled: stored.enabled,
        days,
        time: stored.hour.zip(stored.minute),
        retention: stored.retention,
        location: stored.location,
        location_user: stored.location_user,
        parts: stored.parts,
    })
}

/// Adds a history row when `observed` differs from the schedule last stored for the
/// appliance (a schedule appearing or disappearing is a change too). The first observation
/// of an appliance always adds one; only later ones count as a change of schedule.
pub(super) async fn record_schedule(
    conn: &mut SqliteConnection,
    appliance_id: i64,
    current_change_id: Option<i64>,
    observed: Option<&Schedule>,
    observed_ms: i64,
) -> StoreResult<bool> {
    if let Some(change_id) = current_change_id {
        let stored: Option<String> =
            sqlx::query_scalar("SELECT schedule FROM schedule_changes WHERE id = ?1")
                .bind(change_id)
                .fetch_one(&mut *conn)
                .await
                .context("reading the current schedule")?;
        let unchanged = match (stored.as_deref(), observed) {
            (None, None) => true,
            // An unreadable row is replaced by a fresh one rather than blocking every poll.
            (Some(text), Some(schedule)) => decode(text).is_ok_and(|s| &s == schedule),
            _ => false,
        };
        if unchanged {
            return Ok(false);
        }
    }

    let inserted = sqlx::query(
        "INSERT INTO schedule_changes (appliance_id, observed_ms, schedule) VALUES (?1, ?2, ?3)",
    )
    .bind(appliance_id)
    .bind(observed_ms)
    .bind(observed.map(encode))
    .execute(&mut *conn)
    .await
    .context("storing a schedule change")?;

    sqlx::query(
        "UPDATE appliances SET
           schedule_change_id = ?2,
           schedule_changed_ms = CASE WHEN ?3 THEN ?4 ELSE NULL END
         WHERE id = ?1",
    )
    .bind(appliance_id)
    .bind(inserted.last_insert_rowid())
    .bind(current_change_id.is_some())
    .bind(observed_ms)
    .execute(&mut *conn)
    .await
    .context("pointing the appliance at its schedule")?;

    Ok(true)
}

/// One history row.
#[derive(Debug, FromRow)]
struct ChangeRow {
    observed_ms: i64,
    schedule: Option<String>,
}

impl Store {
    /// The appliance's schedule states, newest first, at most `limit` (capped at 1,000).
    /// The oldest is the first state vbdash saw, not a change.
    pub async fn schedule_history(
        &self,
        appliance: &str,
        limit: u32,
    ) -> StoreResult<Vec<ScheduleChange>> {
        let rows: Vec<ChangeRow> = sqlx::query_as(
            "SELECT s.observed_ms, s.schedule
             FROM schedule_changes AS s JOIN appliances AS a ON a.id = s.appliance_id
             WHERE a.name = ?1
             ORDER BY s.observed_ms DESC, s.id DESC
             LIMIT ?2",
        )
        .bind(appliance)
        .bind(limit.min(MAX_HISTORY_LIMIT))
        .fetch_all(&self.reader)
        .await
        .context("reading the schedule history")?;

        rows.into_iter()
            .map(|row| {
                Ok(ScheduleChange {
                    observed_at: from_ms("schedule change time", row.observed_ms)?,
                    schedule: row.schedule.as_deref().map(decode).transpose()?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Weekday;

    #[test]
    fn schedule_json_round_trips() {
        let schedule = Schedule {
            id: "default".into(),
            enabled: true,
            days: vec![Weekday::Mon, Weekday::Sat],
            time: Some((2, 30)),
            retention: Some(7),
            location: "nfs://192.0.2.10:/nfs/x/".into(),
            location_user: Some("backup".into()),
            parts: vec!["seat".into()],
        };
        assert_eq!(decode(&encode(&schedule)).ok(), Some(schedule.clone()));

        let bare = Schedule {
            time: None,
            retention: None,
            location_user: None,
            days: vec![],
            ..schedule
        };
        assert_eq!(decode(&encode(&bare)).ok(), Some(bare));
    }

    #[test]
    fn unknown_day_is_reported_not_guessed() {
        let text = r#"{"id":"d","enabled":true,"days":["CAKEDAY"],"location":"x","parts":[]}"#;
        assert!(decode(text).is_err());
    }
}
