//! The job history as CSV, safe to open in a spreadsheet.

use chrono::DateTime;

use crate::store::ExportRow;

/// Column names, in order.
pub const COLUMNS: [&str; 12] = [
    "appliance",
    "job_id",
    "type",
    "state",
    "started_utc",
    "ended_utc",
    "duration_secs",
    "size_bytes",
    "location",
    "version",
    "build",
    "message",
];

/// The rows as CSV text with a header line. Quoting is left to the `csv` writer; text that
/// came from an appliance and starts like a formula gets a leading `'` so a spreadsheet
/// shows it instead of running it.
pub fn jobs_csv(rows: &[ExportRow]) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS)?;

    for row in rows {
        let time = |ms: Option<i64>| {
            ms.and_then(DateTime::from_timestamp_millis)
                .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .unwrap_or_default()
        };
        let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
        let text = |t: &Option<String>| defuse(t.as_deref().unwrap_or_default());

        writer.write_record([
            defuse(&row.appliance),
            defuse(&row.job_id),
            defuse(&row.job_type),
            defuse(&row.state),
            time(row.start_ms),
            time(row.end_ms),
            number(row.duration_secs),
            number(row.size_bytes),
            text(&row.location),
            text(&row.version),
            text(&row.build),
            text(&row.message),
        ])?;
    }

    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// Prefixes a quote to text a spreadsheet would read as a formula.
pub fn defuse(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(message: &str) -> ExportRow {
        ExportRow {
            appliance: "vcsa-01".into(),
            job_id: "20261103-020000-1".into(),
            job_type: "scheduled".into(),
            state: "failed".into(),
            start_ms: Some(1_793_671_200_000),
            end_ms: None,
            duration_secs: Some(-5),
            size_bytes: None,
            location: Some("nfs://nas, \"two\"/x".into()),
            version: None,
            build: None,
            message: Some(message.into()),
        }
    }

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        let csv = jobs_csv(&[row("=HYPERLINK(\"http://x\")"), row("line\nbreak")]).unwrap();
        let text = String::from_utf8(csv).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(COLUMNS.join(",").as_str()));
        assert!(text.contains("\"nfs://nas, \"\"two\"\"/x\""));
        assert!(text.contains("\"'=HYPERLINK(\"\"http://x\"\")\""));
        assert!(
            text.contains(",-5,"),
            "numbers we wrote are not text to defuse"
        );
        assert!(text.contains("\"line\nbreak\""));
        assert!(text.contains("2026-11-03T02:00:00Z"));

        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(reader.records().count(), 2);
    }
}
