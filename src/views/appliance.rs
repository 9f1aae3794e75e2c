//! One appliance: status, schedule, poll health, recent jobs and schedule history.

use askama::Template;
use askama_web::WebTemplate;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::common::{self, Badge, JobLine, Sighting};
use super::fleet::schedule_words;
use super::format::{self, Moment};
use super::silence::{self, QuietView};
use crate::domain::{ApplianceOverview, Job, PollRecord, Schedule, describe_days};
use crate::store::silence::Silence;

/// The schedule with every detail spelled out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleView {
    /// Schedule id on the appliance, usually `default`.
    pub id: String,
    /// The schedule in words: "daily 02:00 UTC, keep 7".
    pub words: String,
    /// False when the schedule exists but is switched off.
    pub enabled: bool,
    /// Days in words: "daily", "weekdays", "Mon, Wed, Fri".
    pub days: String,
    /// "02:00", or "no recurrence" when the appliance sent none.
    pub time: String,
    /// The appliance's time zone, in which the time applies.
    pub zone: String,
    /// Retention in words: "keep the newest 7" or "keep all".
    pub retention: String,
    /// Parts backed up besides the core configuration, comma separated.
    pub parts: String,
    /// Backup location URL as the appliance sent it.
    pub location: String,
    /// Host of the location, when the URL has one.
    pub location_host: Option<String>,
    /// Account used at the location, when the appliance sent one.
    pub location_user: Option<String>,
}

impl ScheduleView {
    /// The schedule of an appliance whose clock runs in `zone`.
    pub fn new(s: &Schedule, zone: Tz) -> ScheduleView {
        ScheduleView {
            id: s.id.clone(),
            words: s.describe(zone.name()),
            enabled: s.enabled,
            days: describe_days(&s.days),
            time: s.time.map_or("no recurrence".to_owned(), |(h, m)| {
                format!("{h:02}:{m:02}")
            }),
            zone: zone.name().to_owned(),
            retention: match s.retention {
                Some(n) if n > 0 => format!("keep the newest {n}"),
                _ => "keep all".to_owned(),
            },
            parts: if s.parts.is_empty() {
                "none listed (core configuration only)".to_owned()
            } else {
                s.parts.join(", ")
            },
            location: s.location.clone(),
            location_host: s.location_host(),
            location_user: s.location_user.clone(),
        }
    }
}

/// One poll as a table row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollRow {
    /// When the poll started.
    pub at: Moment,
    /// How long it took: "180 ms", "20.0 s".
    pub duration: String,
    /// Outcome label: "ok", "timed out", "login refused".
    pub outcome: String,
    /// True for a successful poll.
    pub ok: bool,
    /// The failure in words; empty for a successful poll.
    pub message: String,
}

impl PollRow {
    /// The row of one stored poll.
    pub fn new(p: &PollRecord, now: DateTime<Utc>, zone: Tz) -> PollRow {
        PollRow {
            at: Moment::precise(p.at, now, zone),
            duration: poll_duration(p.duration_ms),
            outcome: p.outcome.label().to_owned(),
            ok: p.outcome.is_ok(),
            message: p.message.clone().unwrap_or_default(),
        }
    }
}

fn poll_duration(ms: i64) -> String {
    if ms < 1_000 {
        format!("{} ms", ms.max(0))
    } else {
        format!("{:.1} s", ms as f64 / 1_000.0)
    }
}

/// How the poller is getting on with this appliance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollHealth {
    /// The newest poll, whatever its outcome.
    pub last_poll: Option<PollRow>,
    /// When the newest successful poll started.
    pub last_ok: Option<Moment>,
    /// The newest failed poll among the recent ones, in words: "timed out: no answer".
    pub last_error: Option<String>,
    /// When that failed poll started.
    pub last_error_at: Option<Moment>,
    /// The newest polls, newest first.
    pub recent: Vec<PollRow>,
}

impl PollHealth {
    /// Health from the overview and the newest polls (newest first).
    pub fn new(o: &ApplianceOverview, polls: &[PollRecord], now: DateTime<Utc>, zone: Tz) -> Self {
        let last_failure = polls
            .iter()
            .chain(o.last_poll.iter())
            .find(|p| !p.outcome.is_ok());

        PollHealth {
            last_poll: o.last_poll.as_ref().map(|p| PollRow::new(p, now, zone)),
            last_ok: o.last_ok_poll_at.map(|at| Moment::new(at, now, zone)),
            last_error: last_failure.map(failure_words),
            last_error_at: last_failure.map(|p| Moment::new(p.at, now, zone)),
            recent: polls.iter().map(|p| PollRow::new(p, now, zone)).collect(),
        }
    }
}

fn failure_words(p: &PollRecord) -> String {
    match &p.message {
        Some(message) => format!("{}: {message}", p.outcome.label()),
        None => p.outcome.label().to_owned(),
    }
}

/// A schedule as it was at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleChangeRow {
    /// When vbdash saw this schedule.
    pub observed: Moment,
    /// The schedule in words, or "no schedule".
    pub words: String,
    /// False when the schedule was switched off.
    pub enabled: bool,
}

impl ScheduleChangeRow {
    /// One history entry; `None` means the schedule was removed.
    pub fn new(
        observed_at: DateTime<Utc>,
        schedule: Option<&Schedule>,
        appliance_zone: Tz,
        now: DateTime<Utc>,
        zone: Tz,
    ) -> ScheduleChangeRow {
        ScheduleChangeRow {
            observed: Moment::new(observed_at, now, zone),
            words: schedule.map_or("no schedule".to_owned(), |s| {
                s.describe(appliance_zone.name())
            }),
            enabled: schedule.is_none_or(|s| s.enabled),
        }
    }
}

/// Where a page of jobs sits among all pages, with its links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pager {
    /// 1-based page number.
    pub page: u32,
    /// Number of pages, at least 1.
    pub pages: u32,
    /// Jobs on all pages.
    pub total: u64,
    /// 1-based position of the first and last job shown.
    pub first: u64,
    /// 1-based position of the last job shown.
    pub last: u64,
    /// Link to the newer page, if any.
    pub prev_href: Option<String>,
    /// Link to the older page, if any.
    pub next_href: Option<String>,
}

impl Pager {
    /// The pager of page `page` (1-based) of `total` jobs, `per_page` at a time.
    pub fn new(appliance: &str, page: u32, per_page: u32, shown: usize, total: u64) -> Pager {
        let per_page = u64::from(per_page.max(1));
        let pages = total.div_ceil(per_page).max(1);
        let pages = u32::try_from(pages).unwrap_or(u32::MAX);
        let page = page.max(1);
        let first = u64::from(page - 1) * per_page + 1;
        let href = |n: u32| format!("{}/jobs?page={n}", common::appliance_href(appliance));

        Pager {
            page,
            pages,
            total,
            first: if shown == 0 { 0 } else { first },
            last: first + shown as u64 - 1,
            prev_href: (page > 1).then(|| href(page.min(pages + 1) - 1)),
            next_href: (page < pages).then(|| href(page + 1)),
        }
    }
}

/// The jobs table with its pager, swapped in by htmx when paging.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "appliances/_jobs.html")]
pub struct JobsFragment {
    /// Jobs of this page, newest first.
    pub jobs: Vec<JobLine>,
    /// Where this page sits among all pages.
    pub pager: Pager,
}

/// One stored job with when it was seen, as handed to the appliance views.
#[derive(Debug, Clone, Copy)]
pub struct SeenJob<'a> {
    /// The job as last seen.
    pub job: &'a Job,
    /// When it was first and last listed.
    pub seen: Sighting,
}

/// Builds the jobs table of one page.
pub fn jobs_fragment(
    appliance: &str,
    jobs: &[SeenJob<'_>],
    pager: Pager,
    now: DateTime<Utc>,
    zone: Tz,
) -> JobsFragment {
    let jobs = jobs
        .iter()
        .map(|j| JobLine::new(appliance, j.job, j.seen.gone_since, now, zone))
        .collect();
    JobsFragment { jobs, pager }
}

/// The appliance page.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "appliances/show.html")]
pub struct AppliancePage {
    /// Configured name, the appliance's key.
    pub name: String,
    /// Link to this page.
    pub href: String,
    /// Address vbdash polls.
    pub url: String,
    /// Status badge.
    pub status: Badge,
    /// Why the appliance has its status.
    pub reason: String,
    /// Configured tags.
    pub tags: Vec<String>,
    /// Dotted version, once a poll read it.
    pub version: Option<String>,
    /// Build number, once a poll read it.
    pub build: Option<String>,
    /// Set when the build changed since the last good backup, saying how.
    pub patched: Option<String>,
    /// API generation the appliance speaks: "rest" or "api".
    pub generation: Option<&'static str>,
    /// The appliance's time zone.
    pub time_zone: String,
    /// Grace period before a late run counts as missed.
    pub grace: String,
    /// When the newest succeeded job started: the moment the backup captures.
    pub last_good: Option<Moment>,
    /// The job running now, if any.
    pub running: Option<JobLine>,
    /// The schedule in detail, when there is one.
    pub schedule: Option<ScheduleView>,
    /// The schedule in words, or "no schedule".
    pub schedule_words: String,
    /// False until a poll succeeded: the schedule is then unknown, not absent.
    pub schedule_known: bool,
    /// When the schedule last changed.
    pub schedule_changed: Option<Moment>,
    /// How the poller is getting on.
    pub health: PollHealth,
    /// The jobs of the page shown, newest first.
    pub jobs: Vec<JobLine>,
    /// Where that page sits among all pages.
    pub pager: Pager,
    /// Earlier schedules, newest first.
    pub history: Vec<ScheduleChangeRow>,
    /// Set when the appliance is acknowledged or in a maintenance window.
    pub quiet: Option<QuietView>,
    /// True when the status is one an operator may acknowledge.
    pub can_acknowledge: bool,
    /// What the expiry field of the acknowledge form takes.
    pub expiry_hint: &'static str,
}

impl AppliancePage {
    /// The same page marked with the appliance's silence.
    pub fn silenced(mut self, silence: Option<&Silence>, now: DateTime<Utc>, zone: Tz) -> Self {
        self.quiet = silence.map(|s| QuietView::new(s, now, zone));
        self
    }

    /// True when an operator acknowledged the appliance.
    pub fn acknowledged(&self) -> bool {
        self.quiet.as_ref().is_some_and(|q| q.by.is_some())
    }
}

/// What the appliance page is built from, besides the clock and display zone.
#[derive(Debug, Clone, Copy)]
pub struct ApplianceFacts<'a> {
    /// Status, schedule, version and newest jobs.
    pub overview: &'a ApplianceOverview,
    /// Newest polls, newest first.
    pub polls: &'a [PollRecord],
    /// Schedule changes (when seen, schedule or none), newest first.
    pub history: &'a [(DateTime<Utc>, Option<Schedule>)],
}

/// Builds the appliance page around an already built jobs table.
pub fn page(
    facts: ApplianceFacts<'_>,
    jobs: JobsFragment,
    now: DateTime<Utc>,
    zone: Tz,
) -> AppliancePage {
    let o = facts.overview;
    let verdict = o.verdict(now);

    AppliancePage {
        name: o.name.clone(),
        href: common::appliance_href(&o.name),
        url: o.url.clone(),
        status: Badge::status(verdict.status),
        reason: verdict.reason,
        tags: o.tags.clone(),
        version: o.version.as_ref().map(|v| v.version.clone()),
        build: o.version.as_ref().map(|v| v.build.clone()),
        patched: {
            let builds = super::trends::BuildMatch::new(o);
            builds.patched.then_some(builds.words)
        },
        generation: o.generation.map(|g| g.as_str()),
        time_zone: o.time_zone.name().to_owned(),
        grace: format::duration(o.grace_secs.max(0)),
        last_good: o
            .last_good_job
            .as_ref()
            .and_then(|j| j.start_time.or(j.end_time))
            .map(|at| Moment::new(at, now, zone)),
        running: o
            .running_job
            .as_ref()
            .map(|j| JobLine::new(&o.name, j, None, now, zone)),
        schedule: o
            .schedule
            .as_ref()
            .map(|s| ScheduleView::new(s, o.time_zone)),
        schedule_words: schedule_words(o),
        schedule_known: o.last_ok_poll_at.is_some(),
        schedule_changed: o.schedule_changed_at.map(|at| Moment::new(at, now, zone)),
        health: PollHealth::new(o, facts.polls, now, zone),
        jobs: jobs.jobs,
        pager: jobs.pager,
        history: facts
            .history
            .iter()
            .map(|(at, s)| ScheduleChangeRow::new(*at, s.as_ref(), o.time_zone, now, zone))
            .collect(),
        quiet: None,
        can_acknowledge: silence::can_acknowledge(verdict.status),
        expiry_hint: silence::EXPIRY_HINT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{JobId, JobState, JobType, PollOutcome};
    use chrono::TimeZone;
    use scraper::{Html, Selector};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0)
            .single()
            .unwrap()
    }

    fn overview() -> ApplianceOverview {
        ApplianceOverview {
            name: "vcsa-ams-01".into(),
            url: "https://vcsa-ams-01.example.test".into(),
            tags: vec!["prod".into()],
            time_zone: Tz::Europe__Amsterdam,
            grace_secs: 7_200,
            generation: None,
            version: None,
            schedule: Some(Schedule {
                id: "default".into(),
                enabled: true,
                days: vec![chrono::Weekday::Sat],
                time: Some((2, 30)),
                retention: Some(3),
                location: "sftp://backup-01.example.test:22/srv".into(),
                location_user: Some("backup".into()),
                parts: vec!["seat".into()],
            }),
            schedule_changed_at: None,
            last_poll: Some(PollRecord {
                at: now(),
                duration_ms: 1_500,
                outcome: PollOutcome::Authentication,
                message: Some("the appliance refused the login".into()),
            }),
            last_ok_poll_at: Some(now() - chrono::Duration::minutes(50)),
            last_job: None,
            last_finished_job: None,
            last_good_job: None,
            running_job: None,
            last_scheduled_start: None,
        }
    }

    fn job(id: &str, message: &str) -> Job {
        let mut j = Job::new(JobId::parse(id).unwrap(), JobType::Manual, JobState::Failed);
        j.start_time = Some(now() - chrono::Duration::hours(2));
        j.messages = vec![message.into()];
        j
    }

    fn seen(gone: bool) -> Sighting {
        Sighting {
            first_seen_at: now() - chrono::Duration::hours(2),
            last_seen_at: now(),
            gone_since: gone.then(now),
        }
    }

    #[test]
    fn pager_links_and_positions() {
        let p = Pager::new("vc", 2, 25, 25, 60);
        assert_eq!((p.pages, p.first, p.last), (3, 26, 50));
        assert_eq!(p.prev_href.as_deref(), Some("/appliances/vc/jobs?page=1"));
        assert_eq!(p.next_href.as_deref(), Some("/appliances/vc/jobs?page=3"));

        let empty = Pager::new("vc", 1, 25, 0, 0);
        assert_eq!((empty.pages, empty.first), (1, 0));
        assert!(empty.prev_href.is_none() && empty.next_href.is_none());
    }

    #[test]
    fn page_shows_schedule_words_poll_error_and_gone_marker() {
        let o = overview();
        let a = job("20261204-100000-1", "<script>alert('x')</script> disk full");
        let b = job("20261203-100000-1", "old");
        let seen_jobs = [
            SeenJob {
                job: &a,
                seen: seen(false),
            },
            SeenJob {
                job: &b,
                seen: seen(true),
            },
        ];
        let pager = Pager::new(&o.name, 1, 25, 2, 2);
        let jobs = jobs_fragment(&o.name, &seen_jobs, pager, now(), Tz::UTC);
        let polls = o.last_poll.clone().into_iter().collect::<Vec<_>>();
        let facts = ApplianceFacts {
            overview: &o,
            polls: &polls,
            history: &[],
        };
        let html = page(facts, jobs, now(), Tz::UTC).render().unwrap();

        assert!(!html.contains("<script>alert"));
        let doc = Html::parse_document(&html);
        let text: String = doc.root_element().text().collect();
        assert!(text.contains("Saturday 02:30 Europe/Amsterdam, keep 3"));
        assert!(text.contains("login refused: the appliance refused the login"));
        assert!(text.contains("no longer listed by the appliance"));
        assert!(text.contains("<script>alert('x')</script> disk full"));
        let rows = Selector::parse("#jobs tbody tr").unwrap();
        assert_eq!(doc.select(&rows).count(), 2);
    }

    #[test]
    fn jobs_fragment_renders_alone() {
        let pager = Pager::new("vc", 1, 25, 0, 0);
        let html = jobs_fragment("vc", &[], pager, now(), Tz::UTC)
            .render()
            .unwrap();
        assert!(html.contains("id=\"jobs\""));
        assert!(!html.contains("<html"));
    }
}
