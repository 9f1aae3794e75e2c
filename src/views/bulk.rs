//! Pages of a bulk backup: the form and the run's summary, which follows itself live.

use askama::Template;
use askama_web::WebTemplate;

use crate::web::actions::bulk_run::{BulkRun, Step};

/// An appliance as the bulk form lists it.
#[derive(Debug, Clone)]
pub struct BulkChoice {
    /// Appliance name, the form value.
    pub name: String,
    /// A note such as "a backup is running now".
    pub note: Option<String>,
}

/// `GET /fleet/backup`.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "actions/bulk_form.html")]
pub struct BulkFormPage {
    /// Every appliance vbdash can act on.
    pub appliances: Vec<BulkChoice>,
    /// Every preset name with its type and URL.
    pub presets: Vec<(String, String)>,
    /// Backups running at once per target.
    pub per_target_limit: usize,
}

/// One appliance's line in the summary.
#[derive(Debug, Clone)]
pub struct BulkLine {
    /// Appliance name.
    pub appliance: String,
    /// Step word.
    pub step: &'static str,
    /// CSS class of the step.
    pub class: &'static str,
    /// What happened.
    pub words: String,
    /// Link to the job, once there is one.
    pub job_href: Option<String>,
}

/// The summary's lines; refreshes itself while the run goes on.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "actions/_bulk_rows.html")]
pub struct BulkRowsFragment {
    /// Run number.
    pub id: u64,
    /// Every appliance.
    pub lines: Vec<BulkLine>,
    /// Seconds between refreshes; `None` once the run is done.
    pub refresh_secs: Option<u32>,
    /// Counts in words, such as "3 succeeded, 1 running".
    pub counts: String,
}

/// `GET /fleet/backup/runs/{id}`.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "actions/bulk_run.html")]
pub struct BulkRunPage {
    /// Who asked.
    pub user: String,
    /// Preset used.
    pub preset: String,
    /// Reason given.
    pub reason: String,
    /// The live part.
    pub rows: BulkRowsFragment,
}

/// The summary lines of `run`.
pub fn rows(run: &BulkRun, refresh_secs: u32) -> BulkRowsFragment {
    let lines = run
        .items
        .iter()
        .map(|item| BulkLine {
            appliance: item.appliance.clone(),
            step: item.step.label(),
            class: match item.step {
                Step::Succeeded => "outcome-ok",
                Step::Failed => "outcome-bad",
                Step::Skipped => "outcome-warn",
                _ => "muted",
            },
            words: item.words.clone(),
            job_href: item.job_id.as_ref().map(|id| {
                format!(
                    "/appliances/{}/jobs/{id}",
                    super::format::path_segment(&item.appliance)
                )
            }),
        })
        .collect::<Vec<_>>();

    let mut counts: Vec<(&str, usize)> = Vec::new();
    for line in &lines {
        match counts.iter_mut().find(|(word, _)| *word == line.step) {
            Some((_, n)) => *n += 1,
            None => counts.push((line.step, 1)),
        }
    }
    let counts = counts
        .iter()
        .map(|(word, n)| format!("{n} {word}"))
        .collect::<Vec<_>>()
        .join(", ");

    BulkRowsFragment {
        id: run.id,
        lines,
        refresh_secs: (!run.is_done()).then_some(refresh_secs),
        counts,
    }
}
