//! The appliance's one backup schedule as it lives in the simulator: created from the
//! config or the API, changed by updates, and rendered as `Schedules.Info`.

use chrono::Weekday;
use serde::Serialize;

use super::config::SimSchedule;
use super::errors::VapiError;
use super::requests::{ScheduleSpec, check_backup_password, check_parts, check_schedule_location};
use super::version::ApplianceVersion;

/// When the schedule fires, in UTC.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Recurrence {
    pub hour: u32,
    pub minute: u32,
    /// `None` (sent without days) and an empty list both mean every day; kept apart so
    /// the schedule renders as it was given.
    pub days: Option<Vec<Weekday>>,
}

impl Recurrence {
    pub fn runs_on(&self, day: Weekday) -> bool {
        match &self.days {
            Some(days) if !days.is_empty() => days.contains(&day),
            _ => true,
        }
    }
}

/// The schedule held by a simulated appliance.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LiveSchedule {
    pub id: String,
    pub parts: Vec<String>,
    pub location: String,
    pub location_user: Option<String>,
    pub enable: bool,
    pub recurrence: Option<Recurrence>,
    /// Known gap: kept and shown, but old jobs are not pruned by it; the job history is
    /// a different thing from the backups kept at the location.
    pub retention: Option<i64>,
    pub fast_backup: Option<bool>,
}

/// `Schedules.Info` on the wire.
#[derive(Serialize)]
pub(crate) struct ScheduleInfo<'a> {
    parts: &'a [String],
    location: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    location_user: Option<&'a str>,
    enable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    recurrence_info: Option<RecurrenceInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    retention_info: Option<RetentionInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fast_backup: Option<bool>,
}

#[derive(Serialize)]
struct RecurrenceInfo {
    minute: i64,
    hour: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    days: Option<Vec<&'static str>>,
}

#[derive(Serialize)]
struct RetentionInfo {
    max_count: i64,
}

impl LiveSchedule {
    pub fn from_config(config: &SimSchedule) -> LiveSchedule {
        let days = (!config.days.is_empty()).then(|| config.days.clone());
        LiveSchedule {
            id: config.id.clone(),
            parts: config.parts.clone(),
            location: config.location.clone(),
            location_user: config.location_user.clone(),
            enable: config.enable,
            recurrence: Some(Recurrence {
                hour: config.hour,
                minute: config.minute,
                days,
            }),
            retention: config.retention,
            fast_backup: config.fast_backup,
        }
    }

    /// A new schedule from a `CreateSpec`; `location` is required there.
    pub fn create(
        id: &str,
        spec: ScheduleSpec,
        version: ApplianceVersion,
    ) -> Result<LiveSchedule, VapiError> {
        let Some(location) = spec.location.clone() else {
            return Err(VapiError::invalid_argument(
                "com.vmware.applmgmt.backup.missing.field",
                "The field location is required.",
            ));
        };
        let mut schedule = LiveSchedule {
            id: id.to_owned(),
            parts: Vec::new(),
            location,
            location_user: None,
            enable: true,
            recurrence: None,
            retention: None,
            fast_backup: None,
        };
        schedule.update(spec, version)?;
        Ok(schedule)
    }

    /// Applies an `UpdateSpec`: absent fields stay as they are. Nothing changes when a
    /// field is refused.
    pub fn update(
        &mut self,
        spec: ScheduleSpec,
        version: ApplianceVersion,
    ) -> Result<(), VapiError> {
        let mut next = self.clone();
        if let Some(parts) = spec.parts {
            check_parts(&parts, version)?;
            next.parts = parts;
        }
        if let Some(password) = &spec.backup_password {
            check_backup_password(password)?;
        }
        if let Some(location) = spec.location {
            next.location = location;
        }
        check_schedule_location(&next.location, version)?;
        if let Some(user) = spec.location_user {
            next.location_user = Some(user);
        }
        if let Some(enable) = spec.enable {
            next.enable = enable;
        }
        if let Some(recurrence) = spec.recurrence_info {
            next.recurrence = Some(read_recurrence(
                recurrence.hour,
                recurrence.minute,
                recurrence.days,
            )?);
        }
        if let Some(retention) = spec.retention_info {
            next.retention = Some(read_retention(retention.max_count)?);
        }
        if spec.fast_backup.is_some() {
            next.fast_backup = spec.fast_backup;
        }
        *self = next;
        Ok(())
    }

    /// The wire form; `fast_backup` only on appliances that know it.
    pub fn info(&self, version: ApplianceVersion) -> ScheduleInfo<'_> {
        let recurrence_info = self.recurrence.as_ref().map(|r| RecurrenceInfo {
            minute: i64::from(r.minute),
            hour: i64::from(r.hour),
            days: r
                .days
                .as_ref()
                .map(|days| days.iter().map(|d| day_word(*d)).collect()),
        });
        let fast_backup = if version.has_fast_backup_info() {
            Some(self.fast_backup.unwrap_or(false))
        } else {
            None
        };
        ScheduleInfo {
            parts: &self.parts,
            location: &self.location,
            location_user: self.location_user.as_deref(),
            enable: self.enable,
            recurrence_info,
            retention_info: self.retention.map(|max_count| RetentionInfo { max_count }),
            fast_backup,
        }
    }
}

fn read_recurrence(
    hour: i64,
    minute: i64,
    days: Option<Vec<String>>,
) -> Result<Recurrence, VapiError> {
    if !(0..24).contains(&hour) || !(0..60).contains(&minute) {
        return Err(VapiError::invalid_argument(
            "com.vmware.applmgmt.backup.invalid.recurrence",
            "The hour must be 0-23 and the minute 0-59.",
        ));
    }
    let days = match days {
        None => None,
        Some(words) => Some(
            words
                .iter()
                .map(|word| {
                    parse_day_word(word).ok_or_else(|| {
                        VapiError::invalid_argument(
                            "com.vmware.applmgmt.backup.invalid.day",
                            format!("Unknown day of the week: {word}."),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
    };
    Ok(Recurrence {
        hour: hour as u32,
        minute: minute as u32,
        days,
    })
}

fn read_retention(max_count: i64) -> Result<i64, VapiError> {
    if max_count < 0 {
        return Err(VapiError::invalid_argument(
            "com.vmware.applmgmt.backup.invalid.retention",
            "The number of backups to keep cannot be negative.",
        ));
    }
    Ok(max_count)
}

/// The wire word for a day.
fn day_word(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "MONDAY",
        Weekday::Tue => "TUESDAY",
        Weekday::Wed => "WEDNESDAY",
        Weekday::Thu => "THURSDAY",
        Weekday::Fri => "FRIDAY",
        Weekday::Sat => "SATURDAY",
        Weekday::Sun => "SUNDAY",
    }
}

/// Only the exact upper-case words are accepted, as by the appliance.
fn parse_day_word(word: &str) -> Option<Weekday> {
    [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ]
    .into_iter()
    .find(|day| day_word(*day) == word)
}
