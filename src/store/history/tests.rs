//! Checks of the history rules on hand-made runs and days.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::*;
use crate::domain::{JobState, JobType, Schedule};
use crate::store::trends::{JobMark, RunPoint, ScheduleMark, TrendAppliance};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn run(day: u32, job_type: JobType, state: JobState, secs: i64, bytes: i64) -> RunPoint {
    RunPoint {
        job_id: format!("202611{day:02}-020000-1"),
        job_type,
        state,
        start: utc(&format!("2026-11-{day:02}T02:00:00Z")),
        duration_secs: Some(secs),
        size_bytes: Some(bytes),
        progress: None,
        message: None,
        build: None,
    }
}

#[test]
fn baseline_is_the_median_of_earlier_good_runs_of_the_same_type() {
    let mut runs: Vec<RunPoint> = (1..=5)
        .map(|d| run(d, JobType::Scheduled, JobState::Succeeded, 600, 1_000))
        .collect();
    runs.push(run(6, JobType::Manual, JobState::Succeeded, 60, 10));
    runs.push(run(7, JobType::Scheduled, JobState::Succeeded, 2_000, 400));
    let analysis = analyse_runs(&runs);

    assert_eq!(analysis[2].baseline_secs, None, "two runs are no norm");
    assert_eq!(analysis[3].baseline_secs, Some(600.0));
    let last = &analysis[6];
    assert_eq!(last.baseline_bytes, Some(1_000.0));
    assert!(last.size_dropped && last.duration_tripled);
    assert!(
        !analysis[5].size_dropped,
        "the manual run has no baseline yet"
    );
}

#[test]
fn streak_counts_failures_of_one_type_since_the_last_success() {
    let mut runs = vec![run(1, JobType::Scheduled, JobState::Succeeded, 1, 1)];
    for day in 2..=6 {
        let mut r = run(day, JobType::Scheduled, JobState::Failed, 1, 1);
        r.progress = Some(10);
        runs.push(r);
    }
    runs.push(run(7, JobType::Manual, JobState::Succeeded, 1, 1));
    let streaks = failure_streaks(&runs);
    assert_eq!(streaks.len(), 1);
    assert_eq!(streaks[0].count, 5);
    assert_eq!(streaks[0].since, utc("2026-11-02T02:00:00Z"));
    assert_eq!(streaks[0].same_progress, Some(10));

    let rates = rates_by_type(&runs);
    assert_eq!((rates[0].finished, rates[0].succeeded), (6, 1));
    assert_eq!(rates[1].percent(), Some(100.0));
}

#[test]
fn days_follow_the_written_rules() {
    let appliance = TrendAppliance {
        id: 1,
        name: "a".into(),
        tags: vec![],
        time_zone: Tz::UTC,
        grace_secs: 3_600,
        known_since: Some(utc("2026-11-02T12:00:00Z")),
    };
    let schedule = ScheduleMark {
        appliance_id: 1,
        observed_at: utc("2026-11-05T12:00:00Z"),
        schedule: Some(Schedule {
            id: "default".into(),
            enabled: true,
            days: vec![],
            time: Some((2, 0)),
            retention: None,
            location: "nfs://nas/x".into(),
            location_user: None,
            parts: vec![],
        }),
    };
    let mark = |at: &str, state| JobMark {
        appliance_id: 1,
        start: utc(at),
        state,
    };
    let marks = [
        mark("2026-11-03T02:01:00Z", JobState::Failed),
        mark("2026-11-03T09:00:00Z", JobState::Succeeded),
        mark("2026-11-04T02:01:00Z", JobState::Failed),
        mark("2026-11-06T01:55:00Z", JobState::Running),
    ];
    let marks: Vec<&JobMark> = marks.iter().collect();
    let spans = day_spans(NaiveDate::from_ymd_opt(2026, 11, 7).unwrap(), 7, Tz::UTC);
    let now = utc("2026-11-07T02:30:00Z");
    let cells = day_outcomes(&appliance, &[&schedule], &marks, &spans, now);
    let outcomes: Vec<DayOutcome> = cells.iter().map(|c| c.outcome).collect();

    use DayOutcome::*;
    assert_eq!(
        outcomes,
        [
            NotPolled, Missed, Succeeded, Failed, Missed, Running, NoRunDue
        ]
    );
    assert_eq!(cells[2].runs, 2);
}
