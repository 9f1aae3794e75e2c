//! Pages of the actions: the backup form and the outcome of an action in words.

use askama::Template;
use askama_web::WebTemplate;

/// A preset as the backup form offers it.
#[derive(Debug, Clone)]
pub struct PresetChoice {
    /// Preset name, the form value.
    pub name: String,
    /// Location URL (presets never hold a password in it).
    pub location: String,
    /// Protocol word, such as `SFTP`.
    pub location_type: &'static str,
    /// Why this appliance cannot use it; `None` when it can.
    pub hidden_because: Option<String>,
}

/// A part as the backup form offers it.
#[derive(Debug, Clone)]
pub struct PartChoice {
    /// Part id, the form value.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Size in words; a size of 0 reads "unknown".
    pub size: String,
    /// Ticked when the form opens.
    pub checked: bool,
    /// False for the part the appliance always includes.
    pub optional: bool,
}

/// `GET /appliances/{name}/backup`: start or validate a backup.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "actions/backup.html")]
pub struct BackupFormPage {
    /// Appliance name.
    pub appliance: String,
    /// Link to the appliance page.
    pub appliance_href: String,
    /// Version the offer is based on, if known.
    pub version: Option<String>,
    /// Presets this appliance can use.
    pub offered: Vec<PresetChoice>,
    /// Presets hidden, each with its reason.
    pub hidden: Vec<PresetChoice>,
    /// Parts listed by the appliance.
    pub parts: Vec<PartChoice>,
    /// Why the parts could not be listed.
    pub parts_problem: Option<String>,
    /// Longest comment accepted.
    pub max_comment: usize,
    /// Preset chosen before, when the form is shown again.
    pub chosen_preset: String,
    /// Comment typed before.
    pub comment: String,
    /// Why the form was refused, per field.
    pub errors: FieldErrors,
}

/// Why a form was refused, one reason per field, shown next to the field.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    /// Adds the reason `why` for `field`; a field keeps its first reason only.
    pub fn add(&mut self, field: &'static str, why: impl Into<String>) {
        if self.get(field).is_none() {
            self.0.push((field, why.into()));
        }
    }

    /// The reason given for `field`, if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, why)| why.as_str())
    }

    /// True when nothing was refused.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every (field, reason), in the order found.
    pub fn all(&self) -> &[(&'static str, String)] {
        &self.0
    }

    /// Every reason in one sentence, for logs and audit-free refusals.
    pub fn sentence(&self) -> String {
        self.0
            .iter()
            .map(|(field, why)| format!("{field}: {why}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// How an action ended, for the outcome page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Done or accepted.
    Good,
    /// Done with warnings, or refused for a reason that is not a fault.
    Warning,
    /// Refused or failed.
    Bad,
}

impl Tone {
    /// CSS class of the verdict.
    pub fn class(self) -> &'static str {
        match self {
            Tone::Good => "outcome-ok",
            Tone::Warning => "outcome-warn",
            Tone::Bad => "outcome-bad",
        }
    }
}

/// The outcome of an action that does not lead to another page.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "actions/outcome.html")]
pub struct OutcomePage {
    /// Appliance name.
    pub appliance: String,
    /// Link back to the appliance page.
    pub appliance_href: String,
    /// Title, such as "Validation of preset nas".
    pub title: String,
    /// The verdict word, such as `OK` or "Not started".
    pub verdict: String,
    /// Colour of the verdict.
    pub tone: Tone,
    /// What happened, in a sentence.
    pub summary: String,
    /// Every message of the appliance, in its order.
    pub messages: Vec<String>,
    /// A further link, such as the job page: (href, words).
    pub next: Option<(String, String)>,
}

/// The size of a part in words; the appliance says 0 when it does not know.
pub fn part_size_words(megabytes: Option<i64>) -> String {
    match megabytes {
        Some(mb) if mb > 0 => super::format::size(mb.saturating_mul(1 << 20)),
        _ => "unknown".to_owned(),
    }
}
