//! The fleet overview: one row per appliance, worst first, with counts and filters.

use askama::Template;
use askama_web::WebTemplate;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::common::{self, Badge, JobLine};
use super::format::{self, Moment};
use super::silence::{self, QuietKind, QuietView};
use crate::domain::status::Verdict;
use crate::domain::{ApplianceOverview, Status};
use crate::store::silence::{Silence, Silencer};

/// What the person filters by; empty fields filter nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FleetFilter {
    /// Only appliances with this status that nobody acknowledged and no window covers.
    pub status: Option<Status>,
    /// Only appliances silenced this way (given in the same `status` field of the query).
    pub quiet: Option<QuietKind>,
    /// Only appliances with this tag (ignoring case).
    pub tag: Option<String>,
    /// Text matched, ignoring case, against name, tags, location and version.
    pub q: Option<String>,
}

impl FleetFilter {
    /// Builds a filter from raw query values; blank values and unknown status words count
    /// as no filter.
    pub fn from_query(status: Option<&str>, tag: Option<&str>, q: Option<&str>) -> FleetFilter {
        FleetFilter {
            status: present(status).and_then(Status::parse),
            quiet: present(status).and_then(QuietKind::parse),
            tag: present(tag).map(str::to_owned),
            q: present(q).map(str::to_owned),
        }
    }

    /// The filter as a query string for links and the address bar: "/?status=failed".
    pub fn href(&self) -> String {
        let word = self
            .status
            .map(Status::as_str)
            .or(self.quiet.map(QuietKind::as_str));
        self.href_with_word(word)
    }

    /// The same filter with another status, for the count links on top.
    pub fn href_with_status(&self, status: Option<Status>) -> String {
        self.href_with_word(status.map(Status::as_str))
    }

    /// The same filter showing only the appliances silenced the `quiet` way.
    pub fn href_with_quiet(&self, quiet: QuietKind) -> String {
        self.href_with_word(Some(quiet.as_str()))
    }

    fn href_with_word(&self, status_word: Option<&str>) -> String {
        let mut pairs = Vec::new();
        if let Some(word) = status_word {
            pairs.push(format!("status={word}"));
        }
        if let Some(tag) = &self.tag {
            pairs.push(format!("tag={}", format::query_value(tag)));
        }
        if let Some(q) = &self.q {
            pairs.push(format!("q={}", format::query_value(q)));
        }
        if pairs.is_empty() {
            "/".to_owned()
        } else {
            format!("/?{}", pairs.join("&"))
        }
    }

    /// The appliances of `fleet` this filter shows, worst first then by name, as the
    /// fleet page lists them (without its row cap).
    pub fn select<'a>(
        &self,
        fleet: &'a [ApplianceOverview],
        now: DateTime<Utc>,
    ) -> Vec<&'a ApplianceOverview> {
        let mut judged: Vec<(&ApplianceOverview, Verdict)> = fleet
            .iter()
            .filter(|o| self.matches_tag_and_text(o))
            .map(|o| (o, o.verdict(now)))
            .filter(|(_, v)| self.status.is_none_or(|wanted| v.status == wanted))
            .collect();
        judged.sort_by(|(a, va), (b, vb)| va.status.cmp(&vb.status).then(a.name.cmp(&b.name)));
        judged.into_iter().map(|(o, _)| o).collect()
    }

    /// The filter in words, such as "status failed, tag prod"; "no filter" when empty.
    pub fn words(&self) -> String {
        let mut parts = Vec::new();
        if let Some(status) = self.status {
            parts.push(format!("status {}", status.label()));
        }
        if let Some(tag) = &self.tag {
            parts.push(format!("tag {tag}"));
        }
        if let Some(q) = &self.q {
            parts.push(format!("text \u{201c}{q}\u{201d}"));
        }
        if parts.is_empty() {
            "no filter".to_owned()
        } else {
            parts.join(", ")
        }
    }

    fn matches_tag_and_text(&self, o: &ApplianceOverview) -> bool {
        let tag_ok = self
            .tag
            .as_ref()
            .is_none_or(|wanted| o.tags.iter().any(|t| t.eq_ignore_ascii_case(wanted)));
        let text_ok = self.q.as_ref().is_none_or(|q| text_matches(o, q));
        tag_ok && text_ok
    }

    /// True when a row of `status`, silenced or not, passes the status filter.
    fn matches_status(&self, status: Status, quiet: Option<QuietKind>) -> bool {
        match (self.status, self.quiet) {
            (Some(wanted), _) => quiet.is_none() && status == wanted,
            (None, Some(wanted)) => quiet == Some(wanted),
            (None, None) => true,
        }
    }

    fn has_status_filter(&self) -> bool {
        self.status.is_some() || self.quiet.is_some()
    }
}

fn present(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

fn text_matches(o: &ApplianceOverview, q: &str) -> bool {
    let needle = q.to_lowercase();
    let has = |hay: &str| hay.to_lowercase().contains(&needle);
    let location = o.schedule.as_ref().map(|s| s.location.as_str());
    let version = o.version.as_ref();

    has(&o.name)
        || o.tags.iter().any(|t| has(t))
        || location.is_some_and(has)
        || version.is_some_and(|v| has(&v.version) || has(&v.build))
}

/// One status with how many appliances have it, as a filter link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCount {
    /// Badge of the status.
    pub badge: Badge,
    /// Status word used in URLs.
    pub word: &'static str,
    /// Appliances with this status.
    pub count: usize,
    /// Link that filters by this status, keeping the other filters.
    pub href: String,
    /// True when this status is the active filter.
    pub active: bool,
}

/// The counts on top of the fleet page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counts {
    /// Statuses in worst-first order, of appliances nobody silenced; statuses nobody has
    /// are left out.
    pub by_status: Vec<StatusCount>,
    /// Acknowledged and in-maintenance appliances, counted apart from their statuses;
    /// kinds nobody has are left out.
    pub by_silence: Vec<StatusCount>,
    /// Appliances matching the tag and text filters, whatever their status.
    pub total: usize,
    /// Link that drops the status filter, keeping the others.
    pub all_href: String,
    /// True when no status filter is active.
    pub all_active: bool,
}

/// One appliance row, ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FleetRow {
    /// Configured name.
    pub name: String,
    /// Link to the appliance page.
    pub href: String,
    /// Status badge.
    pub status: Badge,
    /// Why the appliance has its status; always the badge's tooltip.
    pub reason: String,
    /// True when the reason says more than the badge does, so it earns its own line;
    /// otherwise it is only a tooltip.
    pub reason_line: bool,
    /// For unreachable appliances: "data from 3 h ago" (or "no data yet").
    pub stale_note: Option<String>,
    /// When the newest succeeded job ended (or started).
    pub last_good: Option<Moment>,
    /// The running job, or else the newest job.
    pub last_job: Option<JobLine>,
    /// The schedule in words, or "no schedule".
    pub schedule_words: String,
    /// True when the schedule exists but is switched off.
    pub schedule_disabled: bool,
    /// Host of the backup location.
    pub location_host: Option<String>,
    /// Dotted appliance version.
    pub version: Option<String>,
    /// Tags, each a filter link.
    pub tags: Vec<TagLink>,
    /// Set when the appliance is acknowledged or in a maintenance window.
    pub quiet: Option<QuietView>,
}

/// A tag with the link that filters the fleet by it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagLink {
    /// Tag as configured.
    pub name: String,
    /// Link to the fleet filtered by this tag.
    pub href: String,
}

impl TagLink {
    fn new(name: &str) -> TagLink {
        TagLink {
            name: name.to_owned(),
            href: format!("/?tag={}", format::query_value(name)),
        }
    }
}

/// The schedule in words, "no schedule" when there is none, and "not known yet" before
/// any poll succeeded (an appliance never read may well have a schedule).
pub fn schedule_words(o: &ApplianceOverview) -> String {
    match &o.schedule {
        Some(s) => s.describe(o.time_zone.name()),
        None if o.last_ok_poll_at.is_none() => "not known yet".to_owned(),
        None => "no schedule".to_owned(),
    }
}

impl FleetRow {
    /// The row of one appliance whose status is `verdict`.
    pub fn new(o: &ApplianceOverview, verdict: &Verdict, now: DateTime<Utc>, zone: Tz) -> Self {
        let stale_note = (verdict.status == Status::Unreachable).then(|| {
            o.last_ok_poll_at.map_or("no data yet".to_owned(), |at| {
                format!("data from {}", format::age(at, now))
            })
        });
        let last_job = o
            .running_job
            .as_ref()
            .or(o.last_job.as_ref())
            .map(|job| JobLine::new(&o.name, job, None, now, zone));

        FleetRow {
            name: o.name.clone(),
            href: common::appliance_href(&o.name),
            status: Badge::status(verdict.status),
            reason: verdict.reason.clone(),
            reason_line: !matches!(
                verdict.status,
                Status::Good | Status::Disabled | Status::Unscheduled
            ),
            stale_note,
            last_good: o
                .last_good_job
                .as_ref()
                .and_then(|j| j.start_time.or(j.end_time))
                .map(|at| Moment::new(at, now, zone)),
            last_job,
            schedule_words: schedule_words(o),
            schedule_disabled: o.schedule.as_ref().is_some_and(|s| !s.enabled),
            location_host: o.schedule.as_ref().and_then(|s| s.location_host()),
            version: o.version.as_ref().map(|v| v.version.clone()),
            tags: o.tags.iter().map(|t| TagLink::new(t)).collect(),
            quiet: None,
        }
    }

    /// The same row marked with its silence.
    pub fn silenced(mut self, silence: Option<&Silence>, now: DateTime<Utc>, zone: Tz) -> Self {
        self.quiet = silence.map(|s| QuietView::new(s, now, zone));
        self
    }
}

/// Most rows sent at once. Rows come worst first, so the cut drops the healthiest
/// appliances; a note under the last row says how many are left out and how to see them.
// Known gap: there is no paging past the cap, and each refresh sends every row again even
// when nothing changed (no ETag on the fragment).
pub const MAX_ROWS: usize = 500;

/// The rows `<tbody>` alone, swapped in by htmx; it also refreshes the counts on top.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "fleet/_rows.html")]
pub struct FleetRowsFragment {
    /// Rows in worst-first order.
    pub rows: Vec<FleetRow>,
    /// Matching rows left out beyond [`MAX_ROWS`].
    pub rows_left_out: usize,
    /// Counts by status, for the out-of-band refresh of the counts.
    pub counts: Counts,
    /// Set when the fragment is sent alone, so the counts travel out of band.
    pub counts_out_of_band: bool,
    /// The filter for the bulk backup bar, refreshed with the rows.
    pub pick: Option<PickFilter>,
}

/// The filter as the "back up every row of this filter" button sends it: the server finds
/// the appliances again when the run starts, so no list of names travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickFilter {
    /// Status word, or empty.
    pub status: String,
    /// Tag, or empty.
    pub tag: String,
    /// Text, or empty.
    pub q: String,
    /// Appliances the filter matches now, rows beyond the cap included.
    pub matching: usize,
    /// The filter in words.
    pub words: String,
}

impl PickFilter {
    fn new(filter: &FleetFilter, matching: usize) -> PickFilter {
        PickFilter {
            status: filter
                .status
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            tag: filter.tag.clone().unwrap_or_default(),
            q: filter.q.clone().unwrap_or_default(),
            matching,
            words: filter.words(),
        }
    }
}

/// A status option of the filter form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusOption {
    /// Status word sent by the form.
    pub word: &'static str,
    /// Status word shown.
    pub label: &'static str,
    /// True for the active filter.
    pub selected: bool,
}

/// A tag option of the filter form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagOption {
    /// Tag as configured.
    pub name: String,
    /// True for the active filter.
    pub selected: bool,
}

/// Stands in the rendered page where the rows go; see [`FleetPage::render_whole`].
pub const ROWS_SLOT: &str = "<!--vbdash-fleet-rows-->";

/// The whole fleet page. Its template renders the page around [`ROWS_SLOT`]; the rows
/// themselves are the `fragment`, rendered apart so that viewers can share them.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "fleet/index.html")]
pub struct FleetPage {
    /// Rows, counts and the bulk backup filter, as on the page (counts in place).
    pub fragment: FleetRowsFragment,
    /// Options of the status select.
    pub statuses: Vec<StatusOption>,
    /// Options of the tag select.
    pub tags: Vec<TagOption>,
    /// Text filter as typed.
    pub q: String,
    /// Seconds between refreshes of the rows.
    pub refresh_secs: u32,
    /// Appliances known before any filter.
    pub fleet_size: usize,
    /// Appliances whose build changed since their last good backup.
    pub patched: usize,
}

impl FleetPage {
    /// The page around its rows: the text before and after [`ROWS_SLOT`].
    pub fn render_shell(&self) -> askama::Result<(String, String)> {
        let mut shell = self.render()?;
        let Some(at) = shell.find(ROWS_SLOT) else {
            // The slot is in the template; only a broken template can lose it.
            return Err(askama::Error::Custom(
                "the page has no slot for its rows".into(),
            ));
        };
        let after = shell.split_off(at + ROWS_SLOT.len());
        shell.truncate(at);
        Ok((shell, after))
    }

    /// The page with its rows in place, as one text.
    pub fn render_whole(&self) -> askama::Result<String> {
        let (before, after) = self.render_shell()?;
        let rows = self.fragment.render()?;
        Ok(before + &rows + &after)
    }
}

/// Builds the rows and counts of `fleet` under `filter`: worst first, then by name.
pub fn rows_fragment(
    fleet: &[ApplianceOverview],
    filter: &FleetFilter,
    now: DateTime<Utc>,
    zone: Tz,
) -> FleetRowsFragment {
    rows_fragment_silenced(fleet, filter, None, now, zone)
}

/// One appliance with its status and silence, as the fleet sorts and counts it.
struct Judged<'a> {
    overview: &'a ApplianceOverview,
    verdict: Verdict,
    silence: Option<Silence>,
}

impl Judged<'_> {
    fn quiet(&self) -> Option<QuietKind> {
        self.silence.as_ref().map(QuietKind::of)
    }

    /// Unnoticed trouble first, then silenced appliances, then the good ones.
    fn attention_rank(&self) -> u8 {
        match (&self.silence, self.verdict.status) {
            (None, Status::Good) => 2,
            (None, _) => 0,
            (Some(_), _) => 1,
        }
    }
}

/// Like [`rows_fragment`], with acknowledged and in-maintenance appliances marked,
/// counted apart and listed after the trouble nobody has looked at yet.
pub fn rows_fragment_silenced(
    fleet: &[ApplianceOverview],
    filter: &FleetFilter,
    silencer: Option<&Silencer>,
    now: DateTime<Utc>,
    zone: Tz,
) -> FleetRowsFragment {
    let mut judged: Vec<Judged<'_>> = fleet
        .iter()
        .filter(|o| filter.matches_tag_and_text(o))
        .map(|o| {
            let verdict = o.verdict(now);
            let silence = silencer.and_then(|s| silence::silence_of(o, verdict.status, s, now));
            Judged {
                overview: o,
                verdict,
                silence,
            }
        })
        .collect();
    judged.sort_by(|a, b| {
        a.attention_rank()
            .cmp(&b.attention_rank())
            .then(a.verdict.status.cmp(&b.verdict.status))
            .then(a.overview.name.cmp(&b.overview.name))
    });

    let counts = count(&judged, filter);
    let matching: Vec<_> = judged
        .iter()
        .filter(|j| filter.matches_status(j.verdict.status, j.quiet()))
        .collect();
    let rows = matching
        .iter()
        .take(MAX_ROWS)
        .map(|j| {
            FleetRow::new(j.overview, &j.verdict, now, zone).silenced(j.silence.as_ref(), now, zone)
        })
        .collect();

    FleetRowsFragment {
        rows,
        rows_left_out: matching.len().saturating_sub(MAX_ROWS),
        counts,
        counts_out_of_band: true,
        pick: Some(PickFilter::new(filter, matching.len())),
    }
}

fn count(judged: &[Judged<'_>], filter: &FleetFilter) -> Counts {
    let by_status = Status::ALL
        .into_iter()
        .map(|status| {
            let n = judged
                .iter()
                .filter(|j| j.quiet().is_none() && j.verdict.status == status)
                .count();
            (status, n)
        })
        .filter(|(_, n)| *n > 0)
        .map(|(status, count)| StatusCount {
            badge: Badge::status(status),
            word: status.as_str(),
            count,
            href: filter.href_with_status(Some(status)),
            active: filter.status == Some(status),
        })
        .collect();

    let by_silence = QuietKind::ALL
        .into_iter()
        .map(|kind| {
            (
                kind,
                judged.iter().filter(|j| j.quiet() == Some(kind)).count(),
            )
        })
        .filter(|(_, n)| *n > 0)
        .map(|(kind, count)| StatusCount {
            badge: Badge {
                class: kind.class(),
                label: kind.label().to_owned(),
            },
            word: kind.as_str(),
            count,
            href: filter.href_with_quiet(kind),
            active: filter.quiet == Some(kind),
        })
        .collect();

    Counts {
        by_status,
        by_silence,
        total: judged.len(),
        all_href: filter.href_with_status(None),
        all_active: !filter.has_status_filter(),
    }
}

/// Builds the whole page: the rows, the counts and the filter form with its options.
pub fn page(
    fleet: &[ApplianceOverview],
    filter: &FleetFilter,
    silencer: Option<&Silencer>,
    now: DateTime<Utc>,
    zone: Tz,
    refresh_secs: u32,
) -> FleetPage {
    let fragment = rows_fragment_silenced(fleet, filter, silencer, now, zone);

    let statuses = Status::ALL
        .into_iter()
        .map(|s| StatusOption {
            word: s.as_str(),
            label: s.label(),
            selected: filter.status == Some(s),
        })
        .chain(QuietKind::ALL.into_iter().map(|k| StatusOption {
            word: k.as_str(),
            label: k.label(),
            selected: filter.quiet == Some(k),
        }))
        .collect();

    let mut tag_names: Vec<&str> = fleet
        .iter()
        .flat_map(|o| o.tags.iter().map(String::as_str))
        .collect();
    tag_names.sort_unstable();
    tag_names.dedup();
    let tags = tag_names
        .into_iter()
        .map(|name| TagOption {
            name: name.to_owned(),
            selected: filter
                .tag
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(name)),
        })
        .collect();

    FleetPage {
        fragment: FleetRowsFragment {
            counts_out_of_band: false,
            ..fragment
        },
        statuses,
        tags,
        q: filter.q.clone().unwrap_or_default(),
        refresh_secs: refresh_secs.max(1),
        fleet_size: fleet.len(),
        patched: fleet
            .iter()
            .filter(|o| super::trends::BuildMatch::new(o).patched)
            .count(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        Job, JobId, JobState, JobType, PollOutcome, PollRecord, Schedule, VersionInfo,
    };
    use chrono::TimeZone;
    use scraper::{Html, Selector};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 4, 12, 0, 0)
            .single()
            .unwrap()
    }

    fn appliance(name: &str, tags: &[&str]) -> ApplianceOverview {
        ApplianceOverview {
            name: name.into(),
            url: format!("https://{name}.example.test"),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            time_zone: Tz::UTC,
            grace_secs: 7_200,
            generation: None,
            version: Some(VersionInfo {
                version: "8.0.3.00400".into(),
                build: "24322831".into(),
                product: None,
            }),
            schedule: None,
            schedule_changed_at: None,
            last_poll: Some(PollRecord {
                at: now(),
                duration_ms: 40,
                outcome: PollOutcome::Ok,
                message: None,
            }),
            last_ok_poll_at: Some(now()),
            last_job: None,
            last_finished_job: None,
            last_good_job: None,
            running_job: None,
            last_scheduled_start: None,
        }
    }

    fn daily() -> Schedule {
        Schedule {
            id: "default".into(),
            enabled: true,
            days: vec![],
            time: Some((2, 0)),
            retention: Some(7),
            location: "nfs://nas-01.example.test:/backups".into(),
            location_user: None,
            parts: vec!["seat".into()],
        }
    }

    fn good_job() -> Job {
        let mut job = Job::new(
            JobId::parse("20261204-020000-1").unwrap(),
            JobType::Scheduled,
            JobState::Succeeded,
        );
        job.start_time = Some(Utc.with_ymd_and_hms(2026, 12, 4, 2, 0, 1).single().unwrap());
        job.end_time = Some(
            Utc.with_ymd_and_hms(2026, 12, 4, 2, 21, 48)
                .single()
                .unwrap(),
        );
        job.size_bytes = Some(45 * 1024 * 1024 * 1024);
        job
    }

    fn fleet() -> Vec<ApplianceOverview> {
        let mut good = appliance("vc-good", &["prod"]);
        good.schedule = Some(daily());
        good.last_good_job = Some(good_job());
        good.last_job = Some(good_job());
        good.last_finished_job = Some(good_job());
        good.last_scheduled_start = good_job().start_time;

        let mut down = appliance("vc-down", &["lab"]);
        down.last_poll = Some(PollRecord {
            at: now(),
            duration_ms: 20_000,
            outcome: PollOutcome::Timeout,
            message: Some("no answer within 20s".into()),
        });
        down.last_ok_poll_at = Some(now() - chrono::Duration::hours(3));

        let bare = appliance("vc-bare", &["prod"]);
        vec![good, down, bare]
    }

    #[test]
    fn rows_are_worst_first() {
        let frag = rows_fragment(&fleet(), &FleetFilter::default(), now(), Tz::UTC);
        let names: Vec<&str> = frag.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["vc-down", "vc-bare", "vc-good"]);
        assert_eq!(
            frag.rows[0].stale_note.as_deref(),
            Some("data from 3 h ago")
        );
        assert_eq!(frag.rows[2].schedule_words, "daily 02:00 UTC, keep 7");
        assert_eq!(frag.rows[1].schedule_words, "no schedule");
    }

    #[test]
    fn filters_by_status_tag_and_text() {
        let f = FleetFilter::from_query(Some("good"), None, None);
        let frag = rows_fragment(&fleet(), &f, now(), Tz::UTC);
        assert_eq!(frag.rows.len(), 1);
        // Counts ignore the status filter, so every count stays clickable.
        assert_eq!(frag.counts.total, 3);

        let f = FleetFilter::from_query(Some(""), Some("PROD"), Some(" "));
        assert_eq!(rows_fragment(&fleet(), &f, now(), Tz::UTC).rows.len(), 2);

        let f = FleetFilter::from_query(None, None, Some("nas-01"));
        let rows = rows_fragment(&fleet(), &f, now(), Tz::UTC).rows;
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].name, "vc-good");

        let f = FleetFilter::from_query(Some("no-such-word"), None, None);
        assert_eq!(f.status, None);
    }

    #[test]
    fn rows_beyond_the_cap_are_counted_not_sent() {
        let fleet: Vec<_> = (0..MAX_ROWS + 3)
            .map(|i| appliance(&format!("vc-{i:04}"), &[]))
            .collect();
        let frag = rows_fragment(&fleet, &FleetFilter::default(), now(), Tz::UTC);
        assert_eq!(frag.rows.len(), MAX_ROWS);
        assert_eq!(frag.rows_left_out, 3);
        assert!(frag.render().unwrap().contains("3 more appliances"));
    }

    #[test]
    fn filter_links_keep_the_other_filters() {
        let f = FleetFilter::from_query(Some("failed"), Some("site a"), Some("8.0"));
        assert_eq!(f.href(), "/?status=failed&tag=site%20a&q=8.0");
        assert_eq!(f.href_with_status(None), "/?tag=site%20a&q=8.0");
        assert_eq!(FleetFilter::default().href(), "/");
    }

    #[test]
    fn page_renders_rows_with_words_and_escapes_text() {
        let mut fleet = fleet();
        fleet[2].tags.push("<script>alert(1)</script>".into());
        let html = page(&fleet, &FleetFilter::default(), None, now(), Tz::UTC, 5)
            .render_whole()
            .unwrap();
        assert!(!html.contains("<script>alert(1)"));
        assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"));

        let doc = Html::parse_document(&html);
        let rows = Selector::parse("#fleet-rows tr").unwrap();
        assert_eq!(doc.select(&rows).count(), 3);
        let text: String = doc.root_element().text().collect();
        for word in [
            "unreachable",
            "unscheduled",
            "good",
            "45.0 GiB",
            "21 min 47 s",
        ] {
            assert!(text.contains(word), "{word} missing");
        }
        assert!(text.contains("data from 3 h ago"));
    }

    #[test]
    fn fragment_is_a_tbody_with_out_of_band_counts() {
        let html = rows_fragment(&fleet(), &FleetFilter::default(), now(), Tz::UTC)
            .render()
            .unwrap();
        assert!(html.trim_start().starts_with("<tbody"));
        assert!(html.contains("hx-swap-oob"));
        assert!(!html.contains("<html"));
    }
}
