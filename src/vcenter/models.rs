//! Wire types of the appliance API, as serde reads them. Only the fields vbdash uses are
//! declared; unknown fields are ignored. Optional fields accept absence and explicit `null`,
//! and enumerations stay strings so that a word added by a newer appliance is kept as sent.

use serde::{Deserialize, Deserializer};

/// Reads `null` like an absent field: the type's default value.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<T>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// A message in either of the API's two message shapes (recovery-local and standard).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WireMessage {
    /// Message catalogue key.
    #[serde(default)]
    pub id: Option<String>,
    /// English text, possibly with `{0}`-style placeholders.
    #[serde(default)]
    pub default_message: Option<String>,
    /// Values for the placeholders, in order.
    #[serde(default, deserialize_with = "null_as_default")]
    pub args: Vec<String>,
    /// Present from 7.0 when the appliance already rendered the message.
    #[serde(default)]
    pub localized: Option<String>,
}

impl WireMessage {
    /// The text to show: the rendered text, else the default text with its `{0}`-style
    /// placeholders filled from `args`, else the message id.
    pub fn text(&self) -> String {
        if let Some(localized) = self.localized.as_deref().filter(|t| !t.is_empty()) {
            return localized.to_owned();
        }

        match self.default_message.as_deref() {
            Some(template) => fill_placeholders(template, &self.args),
            None => self.id.clone().unwrap_or_default(),
        }
    }
}

/// Puts `args` into the `{0}`, `{1}`... places of `template` in one pass: an argument is
/// inserted as it is, never expanded again, and the result stops growing at a bound, so a
/// hostile message cannot make the text explode.
fn fill_placeholders(template: &str, args: &[String]) -> String {
    let limit = crate::domain::text::MAX_MESSAGE_CHARS * 4;
    let mut out = String::with_capacity(template.len().min(limit));
    let mut rest = template;

    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let digits = after.find('}').map(|close| &after[..close]);
        match digits.and_then(|d| d.parse::<usize>().ok().map(|n| (d.len(), n))) {
            Some((len, n)) if n < args.len() => {
                out.push_str(&args[n]);
                rest = &after[len + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
        if out.len() > limit {
            return out;
        }
    }
    out.push_str(rest);
    out
}

/// `appliance/system/version`.
#[derive(Debug, Clone, Deserialize)]
pub struct WireVersion {
    /// Dotted version, such as `8.0.3.00400`.
    pub version: String,
    /// Build number as a string.
    pub build: String,
    /// Product name.
    #[serde(default)]
    pub product: Option<String>,
}

/// `cis.task.Progress` inside job details.
#[derive(Debug, Clone, Deserialize)]
pub struct WireProgress {
    /// Believed to be 100.
    #[serde(default)]
    pub total: Option<i64>,
    /// Work done out of `total`.
    #[serde(default)]
    pub completed: Option<i64>,
    /// What the job is doing now.
    #[serde(default)]
    pub message: Option<WireMessage>,
}

/// `BuildInfo` inside job details (6.7 U2 and later).
#[derive(Debug, Clone, Deserialize)]
pub struct WireBuild {
    /// Dotted appliance version that ran the job.
    #[serde(default)]
    pub version: Option<String>,
    /// Build number that ran the job.
    #[serde(default)]
    pub build_number: Option<String>,
}

/// One entry of `job/details` (`Details.Info`).
#[derive(Debug, Clone, Deserialize)]
pub struct WireJobDetails {
    /// `cis.task.Status`: PENDING, RUNNING, BLOCKED, SUCCEEDED, FAILED, or a newer word.
    pub status: String,
    /// SCHEDULED or MANUAL, or a newer word.
    #[serde(default, rename = "type")]
    pub job_type: Option<String>,
    /// Backup folder URL.
    #[serde(default)]
    pub location: Option<String>,
    /// User at the backup location; may be empty.
    #[serde(default)]
    pub location_user: Option<String>,
    /// Notes and failure reasons, in order.
    #[serde(default, deserialize_with = "null_as_default")]
    pub messages: Vec<WireMessage>,
    /// Whether the job can still be cancelled.
    #[serde(default)]
    pub cancelable: Option<bool>,
    /// Seconds.
    #[serde(default)]
    pub duration: Option<i64>,
    /// Bytes.
    #[serde(default)]
    pub size: Option<i64>,
    /// How far the job got.
    #[serde(default)]
    pub progress: Option<WireProgress>,
    /// RFC 3339 start time.
    #[serde(default)]
    pub start_time: Option<String>,
    /// RFC 3339 end time; absent while running.
    #[serde(default)]
    pub end_time: Option<String>,
    /// Opaque: the spec types it as a string, appliances send objects.
    #[serde(default)]
    pub error: Option<serde_json::Value>,
    /// Who started the job, when a person did.
    #[serde(default)]
    pub user: Option<String>,
    /// Version and build that ran the job.
    #[serde(default)]
    pub build: Option<WireBuild>,
}

/// `BackupJobStatus`, the answer of the per-job status call.
#[derive(Debug, Clone, Deserialize)]
pub struct WireJobStatus {
    /// Job id, such as `20261201-020000-24322735`.
    pub id: String,
    /// `BackupRestoreProcessState`: NONE, INPROGRESS, SUCCEEDED, FAILED, or a newer word.
    pub state: String,
    /// Progress and diagnostic notes.
    #[serde(default, deserialize_with = "null_as_default")]
    pub messages: Vec<WireMessage>,
    /// Percent.
    #[serde(default)]
    pub progress: Option<i64>,
    /// RFC 3339 start time.
    #[serde(default)]
    pub start_time: Option<String>,
    /// RFC 3339 end time; absent while running.
    #[serde(default)]
    pub end_time: Option<String>,
}

/// `RecurrenceInfo` of a schedule.
#[derive(Debug, Clone, Deserialize)]
pub struct WireRecurrence {
    /// 0 to 23, in the appliance's time zone.
    pub hour: i64,
    /// 0 to 59.
    pub minute: i64,
    /// Absent or empty means every day.
    #[serde(default, deserialize_with = "null_as_default")]
    pub days: Vec<String>,
}

/// `RetentionInfo` of a schedule.
#[derive(Debug, Clone, Deserialize)]
pub struct WireRetention {
    /// Backups kept at the location.
    pub max_count: i64,
}

/// `Schedules.Info`, one value of the schedules list.
#[derive(Debug, Clone, Deserialize)]
pub struct WireSchedule {
    /// Backup location URL.
    pub location: String,
    /// Whether the schedule runs.
    pub enable: bool,
    /// Optional parts included, such as `seat`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub parts: Vec<String>,
    /// User at the backup location.
    #[serde(default)]
    pub location_user: Option<String>,
    /// When it runs; absent means never.
    #[serde(default)]
    pub recurrence_info: Option<WireRecurrence>,
    /// How many backups to keep; absent keeps all.
    #[serde(default)]
    pub retention_info: Option<WireRetention>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_not_expanded_again() {
        let args = vec!["{1}{1}".to_owned(), "x".to_owned()];
        assert_eq!(
            fill_placeholders("{0} and {1} {7} {a", &args),
            "{1}{1} and x {7} {a"
        );
    }

    #[test]
    fn a_placeholder_bomb_stays_small() {
        let args: Vec<String> = (1..=40).map(|n| format!("{{{n}}}{{{n}}}")).collect();
        let text = fill_placeholders("{0}{0}", &args);
        assert!(text.len() < 100, "{} bytes", text.len());

        let wide: Vec<String> = vec!["y".repeat(5_000)];
        let template = "{0}".repeat(10_000);
        let text = fill_placeholders(&template, &wide);
        assert!(text.len() <= crate::domain::text::MAX_MESSAGE_CHARS * 4 + 5_000);
    }

    #[test]
    fn explicit_null_reads_as_absent() {
        let body = r#"{"status":"RUNNING","messages":null,"end_time":null,"size":null}"#;
        let details: WireJobDetails = serde_json::from_str(body).unwrap();
        assert!(details.messages.is_empty());
        assert!(details.end_time.is_none());
        assert!(details.size.is_none());
    }

    #[test]
    fn message_text_fills_placeholders() {
        let msg = WireMessage {
            default_message: Some("Job {0} failed on {1}".into()),
            args: vec!["42".into(), "nas".into()],
            ..WireMessage::default()
        };
        assert_eq!(msg.text(), "Job 42 failed on nas");
    }

    #[test]
    fn rendered_text_wins_and_id_is_the_last_resort() {
        let rendered = WireMessage {
            default_message: Some("raw".into()),
            localized: Some("rendered".into()),
            ..WireMessage::default()
        };
        let bare = WireMessage {
            id: Some("x.y".into()),
            ..WireMessage::default()
        };
        assert_eq!(rendered.text(), "rendered");
        assert_eq!(bare.text(), "x.y");
    }
}
