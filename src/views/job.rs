//! One job with every field the appliance gave and every message in order.

use askama::Template;
use askama_web::WebTemplate;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::common::{self, Badge, Sighting};
use super::format::{self, Moment};
use crate::domain::Job;
use crate::domain::schedule::location_host;
use crate::domain::text;

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
    /// Account that started the job.
    pub user: Option<String>,
    /// Every message, in the appliance's order.
    pub messages: Vec<String>,
    /// Appliance version that ran the job.
    pub version: Option<String>,
    /// Appliance build that ran the job.
    pub build: Option<String>,
    /// "yes" or "no", when the appliance said.
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
            duration: common::job_duration(job, now).map(format::duration),
            size: job.size_bytes.map(format::size),
            size_bytes: job.size_bytes.map(|b| format!("{b} bytes")),
            location: job.location.as_deref().map(field),
            location_host: job.location.as_deref().and_then(location_host),
            user: job.user.as_deref().map(field),
            messages: text::bounded_messages(&job.messages),
            version: job.version.as_deref().map(field),
            build: job.build.as_deref().map(field),
            cancelable: job.cancelable.map(|c| if c { "yes" } else { "no" }),
            first_seen: moment(seen.first_seen_at),
            last_seen: moment(seen.last_seen_at),
            gone_since: seen.gone_since.map(moment),
        }
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
    use crate::domain::{JobId, JobState, JobType};
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
}
