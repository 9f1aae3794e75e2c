//! Pages of a bulk backup: the form, the confirmation with the count affected, and the
//! run's summary, which follows itself live.

use askama::Template;
use askama_web::WebTemplate;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::actions::FieldErrors;
use super::format::{Moment, path_segment};
use crate::store::{BulkRunRecord, BulkState};

/// How the appliances of a run are chosen, carried from page to page as hidden fields.
#[derive(Debug, Clone, Default)]
pub struct SelectionView {
    /// True when the fleet filter decides (resolved again by the server at the start).
    pub by_filter: bool,
    /// Status word of the filter, or empty.
    pub status: String,
    /// Tag of the filter, or empty.
    pub tag: String,
    /// Text of the filter, or empty.
    pub q: String,
    /// Names picked one by one (empty when the filter decides).
    pub picked: Vec<String>,
    /// The choice in words.
    pub words: String,
    /// The filter alone in words ("tag prod", or "no filter").
    pub filter_words: String,
}

/// An appliance as the bulk pages list it.
#[derive(Debug, Clone)]
pub struct BulkChoice {
    /// Appliance name, the form value.
    pub name: String,
    /// A note such as "job ... is running now".
    pub note: Option<String>,
    /// Ticked when the form opens.
    pub checked: bool,
}

/// `GET /fleet/backup`: which appliances, which preset, and why.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "actions/bulk_form.html")]
pub struct BulkFormPage {
    /// The choice of appliances.
    pub selection: SelectionView,
    /// Appliances to tick, when they are picked one by one.
    pub choices: Vec<BulkChoice>,
    /// Appliances the filter matches now, when the filter decides.
    pub filter_count: usize,
    /// Every preset name with its type and URL.
    pub presets: Vec<(String, String)>,
    /// Preset chosen before.
    pub chosen_preset: String,
    /// Reason typed before.
    pub reason: String,
    /// Why the form was refused, per field.
    pub errors: FieldErrors,
    /// Backups running at once per target.
    pub per_target_limit: usize,
}

/// `POST /fleet/backup/review`: what will happen, before it does.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "actions/bulk_confirm.html")]
pub struct BulkConfirmPage {
    /// The choice of appliances, sent again with the confirmation.
    pub selection: SelectionView,
    /// Appliances that will be asked.
    pub count: usize,
    /// Preset name.
    pub preset: String,
    /// Preset type and URL.
    pub preset_words: String,
    /// Reason given.
    pub reason: String,
    /// The first appliances, each with what its pre-check will likely say.
    pub shown: Vec<BulkChoice>,
    /// Appliances not listed beyond `shown`.
    pub more: usize,
    /// Counts worth knowing before starting, such as "2 have a backup running".
    pub notes: Vec<String>,
    /// Backups running at once per target.
    pub per_target_limit: usize,
    /// Why the page is shown again instead of the run starting.
    pub problem: Option<String>,
    /// The form again with the same choices, to change them.
    pub change_href: String,
}

impl SelectionView {
    /// The bulk form's address with this choice, `preset` and `reason` filled in.
    pub fn form_href(&self, preset: &str, reason: &str) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if self.by_filter {
            query.append_pair("scope", "filter");
            query.append_pair("status", &self.status);
            query.append_pair("tag", &self.tag);
            query.append_pair("q", &self.q);
        } else {
            for name in &self.picked {
                query.append_pair("appliances", name);
            }
        }
        query.append_pair("preset", preset);
        query.append_pair("reason", reason);
        format!("/fleet/backup?{}", query.finish())
    }
}

/// One appliance's line in the summary.
#[derive(Debug, Clone)]
pub struct BulkLine {
    /// Appliance name.
    pub appliance: String,
    /// State word.
    pub state: &'static str,
    /// CSS class of the state.
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
    pub id: i64,
    /// Every appliance.
    pub lines: Vec<BulkLine>,
    /// Seconds between refreshes; `None` once the run is done.
    pub refresh_secs: Option<u32>,
    /// Counts in words, such as "3 succeeded, 1 started".
    pub counts: String,
    /// True while some appliances wait for their turn: Stop still does something.
    pub can_stop: bool,
    /// "stopped by ann 2026-12-23 09:14 UTC", once somebody pressed Stop.
    pub stopped: Option<String>,
}

/// `GET /fleet/backup/runs/{id}`.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "actions/bulk_run.html")]
pub struct BulkRunPage {
    /// Run number.
    pub id: i64,
    /// Who asked.
    pub user: String,
    /// When.
    pub asked: Moment,
    /// Preset used.
    pub preset: String,
    /// Reason given.
    pub reason: String,
    /// How the appliances were chosen.
    pub selection: String,
    /// The live part.
    pub rows: BulkRowsFragment,
}

impl BulkRunPage {
    /// The page of `run`.
    pub fn new(run: &BulkRunRecord, refresh_secs: u32, now: DateTime<Utc>, zone: Tz) -> Self {
        BulkRunPage {
            id: run.id,
            user: run.user.clone(),
            asked: Moment::new(run.created_at, now, zone),
            preset: run.preset.clone(),
            reason: run.reason.clone(),
            selection: run.selection.clone(),
            rows: rows(run, refresh_secs, now, zone),
        }
    }
}

/// CSS class of a state.
fn state_class(state: BulkState) -> &'static str {
    match state {
        BulkState::Succeeded => "outcome-ok",
        BulkState::Failed | BulkState::PreCheckFailed => "outcome-bad",
        BulkState::Skipped | BulkState::Stopped | BulkState::Interrupted => "outcome-warn",
        BulkState::Queued | BulkState::Checking | BulkState::Started => "muted",
    }
}

/// The summary lines of `run`.
// Known gap: each refresh sends every line of the run again; a run over thousands of
// appliances makes a large fragment every few seconds until it ends.
pub fn rows(
    run: &BulkRunRecord,
    refresh_secs: u32,
    now: DateTime<Utc>,
    zone: Tz,
) -> BulkRowsFragment {
    let lines = run
        .items
        .iter()
        .map(|item| BulkLine {
            appliance: item.appliance.clone(),
            state: item.state.label(),
            class: state_class(item.state),
            words: item.words.clone(),
            job_href: item.job_id.as_ref().map(|id| {
                format!(
                    "/appliances/{}/jobs/{}",
                    path_segment(&item.appliance),
                    path_segment(id)
                )
            }),
        })
        .collect();

    let counts = BulkState::ALL
        .into_iter()
        .map(|state| {
            let n = run.items.iter().filter(|i| i.state == state).count();
            (state, n)
        })
        .filter(|(_, n)| *n > 0)
        .map(|(state, n)| format!("{n} {}", state.label()))
        .collect::<Vec<_>>()
        .join(", ");

    let done = run.items.iter().all(|i| i.state.is_final());
    BulkRowsFragment {
        id: run.id,
        lines,
        refresh_secs: (!done).then_some(refresh_secs.max(1)),
        counts,
        can_stop: run.items.iter().any(|i| i.state == BulkState::Queued),
        stopped: run.stopped.as_ref().map(|(user, at)| {
            format!("stopped by {user} {}", Moment::new(*at, now, zone).absolute)
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::BulkItemRecord;

    fn item(position: i64, state: BulkState) -> BulkItemRecord {
        BulkItemRecord {
            position,
            appliance: format!("vc-{position}"),
            state,
            words: "words".into(),
            job_id: None,
            updated_at: Utc::now(),
        }
    }

    fn run(states: &[BulkState]) -> BulkRunRecord {
        BulkRunRecord {
            id: 4,
            created_at: Utc::now(),
            user: "ann".into(),
            preset: "nas".into(),
            reason: "patching".into(),
            selection: "2 picked".into(),
            stopped: None,
            items: states
                .iter()
                .enumerate()
                .map(|(n, s)| item(i64::try_from(n).unwrap(), *s))
                .collect(),
        }
    }

    #[test]
    fn counts_follow_the_states_and_the_refresh_stops_when_done() {
        let live = rows(
            &run(&[
                BulkState::Succeeded,
                BulkState::Queued,
                BulkState::Succeeded,
            ]),
            5,
            Utc::now(),
            Tz::UTC,
        );
        assert_eq!(live.counts, "2 succeeded, 1 queued");
        assert_eq!(live.refresh_secs, Some(5));
        assert!(live.can_stop);

        let done = rows(
            &run(&[BulkState::PreCheckFailed, BulkState::Interrupted]),
            5,
            Utc::now(),
            Tz::UTC,
        );
        assert_eq!(done.counts, "1 pre-check failed, 1 interrupted");
        assert_eq!(done.refresh_secs, None);
        assert!(!done.can_stop);
        let html = done.render().unwrap();
        assert!(!html.contains("hx-trigger"));
        assert!(!html.contains("bulk-stop"));
    }
}
