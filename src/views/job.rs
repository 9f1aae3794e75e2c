//! One job with every field the appliance gave and every message in order.

use askama::Template;
use askama_web::WebTemplate;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::common::{self, Badge, Sighting};
use super::format::{self, Moment};
use crate::domain::schedule::location_host;
use crate::domain::text;
use crate::domain::{Job, JobType};

/// The job page.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "jobs/show.html")]
pub struct JobPage {
    /// Name of the appliance that ran the job.
    pub appliance: String,
    /// Link to the appliance page.
    pub appliance_href: String,
    /// The appliance's job id.
    pub id: String,
    /// "scheduled", "manual" or the word the appliance sent.
    pub job_type: String,
    /// State badge.
    pub state: Badge,
    /// Percent done, for the progress bar while the job runs.
    pub progress: Option<i64>,
    /// The reported percent even when the job is not running, "unknown" when none.
    pub progress_words: String,
    /// Progress text the appliance sent.
    pub progress_message: Option<String>,
    /// When the job started.
    pub started: Option<Moment>,
    /// When the job ended.
    pub ended: Option<Moment>,
    /// The job has finished; until then a missing end time is not a gap in the data.
    pub finished: bool,
    /// How long it ran, or has run so far.
    pub duration: Option<String>,
    /// Bytes written, in binary units.
    pub size: Option<String>,
    /// Bytes written, exact.
    pub size_bytes: Option<String>,
    /// Backup folder URL.
    pub location: Option<String>,
    /// Host of the backup folder.
    pub location_host: Option<String>,
    /// Who started the job: the account the appliance named, or its schedule for a
    /// scheduled run without one; `None` (row left out) when nothing is known.
    pub started_by: Option<String>,
    /// Every message, in the appliance's order.
    pub messages: Vec<String>,
    /// Appliance version that ran the job.
    pub version: Option<String>,
    /// Appliance build that ran the job.
    pub build: Option<String>,
    /// "yes" or "no" while the job runs and the appliance said; a finished job cannot be
    /// cancelled, so the row is left out then.
    pub cancelable: Option<&'static str>,
    /// When vbdash first saw the job.
    pub first_seen: Moment,
    /// When the appliance last listed the job.
    pub last_seen: Moment,
    /// Since when the appliance no longer lists the job.
    pub gone_since: Option<Moment>,
    /// Seconds between live refreshes while the job is unfinished; `None` once it ended.
    pub live_refresh_secs: Option<u32>,
}

impl JobPage {
    /// Makes the page refresh itself every `secs` while the job has not finished.
    pub fn live(mut self, finished: bool, secs: u32) -> JobPage {
        self.live_refresh_secs = (!finished).then_some(secs.max(1));
        self
    }

    /// The page of `job` on `appliance`.
    pub fn new(
        appliance: &str,
        job: &Job,
        seen: Sighting,
        now: DateTime<Utc>,
        zone: Tz,
    ) -> JobPage {
        let moment = |at| Moment::precise(at, now, zone);

        JobPage {
            live_refresh_secs: None,
            appliance: appliance.to_owned(),
            appliance_href: common::appliance_href(appliance),
            id: job.id.to_string(),
            job_type: job.job_type.as_str().to_owned(),
            state: Badge::job_state(&job.state),
            progress: common::running_progress(job),
            progress_words: job
                .progress
                .map_or("unknown".to_owned(), |p| format!("{}%", format::percent(p))),
            progress_message: job.progress_message.as_deref().map(field),
            started: job.start_time.map(moment),
            ended: job.end_time.map(moment),
            finished: job.state.is_finished(),
            duration: common::job_duration(job, now).map(format::duration),
            size: job.size_bytes.map(format::size),
            size_bytes: job.size_bytes.map(|b| format!("{b} bytes")),
            location: job.location.as_deref().map(field),
            location_host: job.location.as_deref().and_then(location_host),
            started_by: started_by(job),
            messages: text::bounded_messages(&job.messages),
            version: job.version.as_deref().map(field),
            build: job.build.as_deref().map(field),
            cancelable: job
                .cancelable
                .filter(|_| !job.state.is_finished())
                .map(|c| if c { "yes" } else { "no" }),
            first_seen: moment(seen.first_seen_at),
            last_seen: moment(seen.last_seen_at),
            gone_since: seen.gone_since.map(moment),
        }
    }
}

/// The appliance leaves out the user of runs its schedule started; saying "the schedule"
/// then is plainer than a blank. A manual job without a user gets no row at all.
fn started_by(job: &Job) -> Option<String> {
    match (&job.user, &job.job_type) {
        (Some(user), _) if !user.trim().is_empty() => Some(field(user)),
        (_, JobType::Scheduled) => Some("the appliance's schedule".to_owned()),
        _ => None,
    }
}

/// Appliance text is bounded when it arrives; bounding again when shown keeps a page small
/// even for rows written by an older version or by hand.
fn field(value: &str) -> String {
    text::bounded(value, text::MAX_FIELD_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{JobId, JobState};
    use chrono::TimeZone;
    use scraper::{Html, Selector};

    #[test]
    fn every_message_in_order_and_escaped() {
        let now = Utc
            .with_ymd_and_hms(2026, 12, 4, 12, 0, 0)
            .single()
            .unwrap();
        let id = JobId::parse("20261204-020000-1").unwrap();
        let mut job = Job::new(id, JobType::Scheduled, JobState::Running);
        job.progress = Some(63);
        job.messages = vec![
            "first".into(),
            "<img src=x onerror=alert(1)>".into(),
            "third".into(),
        ];
        job.location = Some("nfs://nas-01.example.test:/b/2026".into());
        let seen = Sighting {
            first_seen_at: now,
            last_seen_at: now,
            gone_since: Some(now),
        };
        let html = JobPage::new("vc", &job, seen, now, Tz::UTC)
            .render()
            .unwrap();

        assert!(!html.contains("<img src=x"));
        let doc = Html::parse_document(&html);
        let items = Selector::parse("#messages li").unwrap();
        let texts: Vec<String> = doc.select(&items).map(|li| li.text().collect()).collect();
        assert_eq!(texts, ["first", "<img src=x onerror=alert(1)>", "third"]);
        let bar = Selector::parse("progress").unwrap();
        assert_eq!(
            doc.select(&bar).next().and_then(|p| p.attr("value")),
            Some("63")
        );
        let text: String = doc.root_element().text().collect();
        assert!(text.contains("no longer listed by the appliance"));
        assert!(text.contains("nas-01.example.test"));
    }

    fn facts(job: &Job) -> Vec<(String, String)> {
        let now = Utc
            .with_ymd_and_hms(2026, 12, 4, 12, 0, 0)
            .single()
            .unwrap();
        let seen = Sighting {
            first_seen_at: now,
            last_seen_at: now,
            gone_since: None,
        };
        let html = JobPage::new("vc", job, seen, now, Tz::UTC)
            .render()
            .unwrap();
        let doc = Html::parse_document(&html);
        let terms = Selector::parse("dl.facts dt").unwrap();
        let text = |e: scraper::ElementRef<'_>| e.text().collect::<String>().trim().to_owned();
        doc.select(&terms)
            .map(|dt| {
                let dd = dt
                    .next_siblings()
                    .find_map(scraper::ElementRef::wrap)
                    .map(text)
                    .unwrap_or_default();
                (text(dt), dd)
            })
            .collect()
    }

    fn fact(facts: &[(String, String)], term: &str) -> Option<String> {
        facts
            .iter()
            .find(|(t, _)| t == term)
            .map(|(_, d)| d.clone())
    }

    #[test]
    fn fields_the_appliance_never_sent_leave_no_noise() {
        let id = JobId::parse("20261204-020000-1").unwrap();
        let scheduled = Job::new(id.clone(), JobType::Scheduled, JobState::Succeeded);
        let shown = facts(&scheduled);
        assert_eq!(
            fact(&shown, "Started by").as_deref(),
            Some("the appliance's schedule")
        );
        assert_eq!(fact(&shown, "Cancelable"), None);

        let mut manual = Job::new(id.clone(), JobType::Manual, JobState::Failed);
        manual.cancelable = Some(false);
        let shown = facts(&manual);
        assert_eq!(fact(&shown, "Started by"), None);
        assert_eq!(
            fact(&shown, "Cancelable"),
            None,
            "a finished job cannot be cancelled"
        );

        let mut running = Job::new(id, JobType::Manual, JobState::Running);
        running.user = Some("VSPHERE.LOCAL\\ops".into());
        running.cancelable = Some(true);
        let shown = facts(&running);
        assert_eq!(
            fact(&shown, "Started by").as_deref(),
            Some("VSPHERE.LOCAL\\ops")
        );
        assert_eq!(fact(&shown, "Cancelable").as_deref(), Some("yes"));
        assert_eq!(fact(&shown, "Ended").as_deref(), Some("not yet"));
    }
}
