//! The audit log page and its CSV export.

use askama::Template;
use askama_web::WebTemplate;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::export::defuse;
use super::format;
use crate::store::AuditEntry;

/// One line of the audit page.
#[derive(Debug, Clone)]
pub struct AuditRow {
    /// When, in the display zone.
    pub at: String,
    /// Who.
    pub user: String,
    /// Which appliance; empty for fleet-wide steps.
    pub appliance: String,
    /// What, as its short word.
    pub action: String,
    /// What was asked.
    pub detail: String,
    /// How it ended.
    pub outcome: String,
    /// Whether it succeeded.
    pub ok: bool,
    /// The reason given.
    pub reason: String,
}

/// `GET /audit`.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "actions/audit.html")]
pub struct AuditPage {
    /// The lines, newest first.
    pub rows: Vec<AuditRow>,
    /// The filter values, to fill the form again.
    pub user: String,
    /// Appliance filter.
    pub appliance: String,
    /// Action filter.
    pub action: String,
    /// The CSV link with the same filters.
    pub csv_href: String,
    /// Most lines shown.
    pub limit: u32,
}

/// The page rows of `entries`.
pub fn rows(entries: &[AuditEntry], zone: Tz) -> Vec<AuditRow> {
    entries
        .iter()
        .map(|e| AuditRow {
            at: format::timestamp_seconds(e.at, zone),
            user: e.user.clone(),
            appliance: e.appliance.clone().unwrap_or_default(),
            action: e.action.clone(),
            detail: e.detail.clone(),
            outcome: e.outcome.clone(),
            ok: e.ok,
            reason: e.reason.clone().unwrap_or_default(),
        })
        .collect()
}

/// Column names of the CSV, in order.
pub const COLUMNS: [&str; 8] = [
    "at_utc",
    "user",
    "appliance",
    "action",
    "detail",
    "outcome",
    "ok",
    "reason",
];

/// The entries as CSV with a header line. Every text field may hold what a person or an
/// appliance typed, so each is defused against spreadsheet formulas.
pub fn audit_csv(entries: &[AuditEntry]) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(COLUMNS)?;
    for e in entries {
        writer.write_record([
            utc(e.at),
            defuse(&e.user),
            defuse(e.appliance.as_deref().unwrap_or_default()),
            defuse(&e.action),
            defuse(&e.detail),
            defuse(&e.outcome),
            (if e.ok { "yes" } else { "no" }).to_owned(),
            defuse(e.reason.as_deref().unwrap_or_default()),
        ])?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

fn utc(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_commas_quoted() {
        let entry = AuditEntry {
            at: Utc::now(),
            user: "=cmd|' /C calc'!A0".into(),
            appliance: Some("vc-1".into()),
            action: "backup.start".into(),
            detail: "preset nas, parts [seat]".into(),
            outcome: "@SUM(1)".into(),
            ok: true,
            reason: Some("+1".into()),
        };
        let text = String::from_utf8(audit_csv(&[entry]).unwrap()).unwrap();
        assert!(text.contains("'=cmd"), "{text}");
        assert!(text.contains("'@SUM(1)") && text.contains("'+1"));
        assert!(text.contains("\"preset nas, parts [seat]\""));
    }
}
