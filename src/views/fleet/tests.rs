//! Rows, counts, filters and the page, checked on a small made-up fleet.

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
