//! The history queries and pages against a seeded SQLite file, with answers known ahead.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use scraper::{Html, Selector};
use tower::ServiceExt;

use vbdash::domain::{
    ApiGeneration, Job, JobId, JobState, JobType, Observation, PollOutcome, PollReport, Schedule,
    VersionInfo,
};
use vbdash::store::history::{self, DayOutcome, day_spans};
use vbdash::store::{ApplianceSettings, JobFilter, Store};
use vbdash::web::auth::Auth;
use vbdash::web::{self, AppState, WebSettings};

const GIB: i64 = 1024 * 1024 * 1024;

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn settings(name: &str, tags: &[&str]) -> ApplianceSettings {
    ApplianceSettings {
        name: name.to_owned(),
        url: format!("https://{name}.example.test"),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        time_zone: Tz::UTC,
        grace_secs: 3_600,
    }
}

fn daily_at_two(host: &str) -> Schedule {
    Schedule {
        id: "default".into(),
        enabled: true,
        days: vec![],
        time: Some((2, 0)),
        retention: Some(7),
        location: format!("nfs://{host}:/backups/vcsa"),
        location_user: None,
        parts: vec!["seat".into()],
    }
}

/// A finished run starting at `start`.
fn run(start: DateTime<Utc>, kind: JobType, state: JobState, minutes: i64, gib: i64) -> Job {
    let id = format!("{}-24322831", start.format("%Y%m%d-%H%M%S"));
    let mut job = Job::new(JobId::parse(&id).unwrap(), kind, state.clone());
    job.start_time = Some(start);
    job.end_time = Some(start + Duration::minutes(minutes));
    job.duration_secs = Some(minutes * 60);
    job.size_bytes = Some(gib * GIB);
    job.progress = Some(if state == JobState::Succeeded {
        100
    } else {
        10
    });
    job.location = Some("nfs://nas-02.example.test:/backups/vcsa/x".into());
    job.build = Some("24322831".into());
    if state == JobState::Failed {
        job.messages = vec!["=cmd|' /C calc'!A0 could not reach the backup server".into()];
    }
    job
}

fn poll(name: &str, at: DateTime<Utc>, jobs: Vec<Job>, listed: &[&Job]) -> PollReport {
    PollReport {
        appliance: name.to_owned(),
        started_at: at,
        duration_ms: 100,
        outcome: PollOutcome::Ok,
        message: None,
        observation: Some(Observation {
            generation: ApiGeneration::Api,
            version: Some(VersionInfo {
                version: "8.0.3.00400".into(),
                build: "24322831".into(),
                product: None,
            }),
            schedule: Some(daily_at_two("nas-02.example.test")),
            listed_job_ids: listed.iter().map(|j| j.id.clone()).collect(),
            jobs,
        }),
    }
}

async fn store_with(appliances: &[ApplianceSettings]) -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("t.db").to_str().unwrap())
        .await
        .unwrap();
    store.sync_appliances(appliances).await.unwrap();
    (store, dir)
}

async fn appliance_id(store: &Store, name: &str) -> i64 {
    let (page, _) = store.trend_appliances(None, 0, 50).await.unwrap();
    page.iter().find(|a| a.name == name).unwrap().id
}

#[tokio::test]
async fn daily_rates_count_appliances_not_jobs() {
    let (store, _dir) = store_with(&[settings("a", &["prod"]), settings("b", &["lab"])]).await;
    let day = |d: u32, h: u32| utc(&format!("2026-11-{d:02}T{h:02}:00:00Z"));
    let ok = JobState::Succeeded;
    let bad = JobState::Failed;
    let a = vec![
        run(day(1, 2), JobType::Scheduled, ok.clone(), 10, 5),
        run(day(2, 2), JobType::Scheduled, bad.clone(), 10, 5),
        run(day(2, 9), JobType::Manual, ok.clone(), 10, 5),
        run(day(3, 2), JobType::Scheduled, bad.clone(), 10, 5),
    ];
    let b = vec![
        run(day(1, 2), JobType::Scheduled, bad.clone(), 10, 5),
        run(day(2, 2), JobType::Scheduled, ok.clone(), 10, 5),
    ];
    store
        .record_poll(&poll("a", day(4, 0), a, &[]))
        .await
        .unwrap();
    store
        .record_poll(&poll("b", day(4, 0), b, &[]))
        .await
        .unwrap();

    let rates = store
        .daily_success(None, day(1, 0), day(4, 0), 0)
        .await
        .unwrap();
    let got: Vec<(i64, i64)> = rates.iter().map(|r| (r.appliances, r.succeeded)).collect();
    assert_eq!(got, [(2, 1), (2, 2), (1, 0)]);

    let prod = store
        .daily_success(Some("PROD"), day(1, 0), day(4, 0), 0)
        .await
        .unwrap();
    assert_eq!(prod.len(), 3, "the tag filter ignores case");
    assert!(prod.iter().all(|r| r.appliances == 1));
}

/// Days already counted are remembered, so each case below reads the same range twice:
/// a stored job, a pruned one and a changed configuration must each count again.
#[tokio::test]
async fn daily_rates_follow_every_write_that_changes_them() {
    let (store, _dir) = store_with(&[settings("a", &["prod"]), settings("b", &["lab"])]).await;
    let day = |d: u32, h: u32| utc(&format!("2026-11-{d:02}T{h:02}:00:00Z"));
    let counts = |rates: Vec<vbdash::store::DailyRate>| -> Vec<(i64, i64, i64)> {
        rates
            .iter()
            .map(|r| (r.day, r.appliances, r.succeeded))
            .collect()
    };
    let failed = run(day(1, 2), JobType::Scheduled, JobState::Failed, 10, 5);
    store
        .record_poll(&poll("a", day(1, 5), vec![failed], &[]))
        .await
        .unwrap();
    let first = counts(
        store
            .daily_success(None, day(1, 0), day(3, 0), 3_600)
            .await
            .unwrap(),
    );
    assert_eq!(
        first.iter().map(|c| (c.1, c.2)).collect::<Vec<_>>(),
        [(1, 0)]
    );

    // A good run of b on the same day, stored by a later poll.
    let good = run(day(1, 3), JobType::Scheduled, JobState::Succeeded, 10, 5);
    store
        .record_poll(&poll("b", day(2, 5), vec![good], &[]))
        .await
        .unwrap();
    let second = counts(
        store
            .daily_success(None, day(1, 0), day(3, 0), 3_600)
            .await
            .unwrap(),
    );
    assert_eq!(
        second.iter().map(|c| (c.1, c.2)).collect::<Vec<_>>(),
        [(2, 1)]
    );
    let again = counts(
        store
            .daily_success(None, day(1, 0), day(3, 0), 3_600)
            .await
            .unwrap(),
    );
    assert_eq!(again, second, "a remembered day reads as counted");

    // b leaves the configuration: its run no longer counts.
    store
        .sync_appliances(&[settings("a", &["prod"])])
        .await
        .unwrap();
    let third = counts(
        store
            .daily_success(None, day(1, 0), day(3, 0), 3_600)
            .await
            .unwrap(),
    );
    assert_eq!(
        third.iter().map(|c| (c.1, c.2)).collect::<Vec<_>>(),
        [(1, 0)]
    );

    // Retention deletes jobs the appliance no longer lists (and that are not its newest).
    let newer = run(day(3, 2), JobType::Scheduled, JobState::Succeeded, 10, 5);
    store
        .record_poll(&poll("a", day(3, 5), vec![newer], &[]))
        .await
        .unwrap();
    store.prune_jobs(day(2, 0)).await.unwrap();
    let fourth = store
        .daily_success(None, day(1, 0), day(3, 0), 3_600)
        .await
        .unwrap();
    assert!(fourth.is_empty(), "{fourth:?}");
}

#[tokio::test]
async fn baselines_flags_and_streaks_from_stored_runs() {
    let (store, _dir) = store_with(&[settings("a", &[])]).await;
    let start = utc("2026-10-01T02:00:00Z");
    let mut jobs: Vec<Job> = (0..10)
        .map(|d| {
            let at = start + Duration::days(d);
            run(at, JobType::Scheduled, JobState::Succeeded, 20, 8)
        })
        .collect();
    jobs.push(run(
        start + Duration::days(10),
        JobType::Scheduled,
        JobState::Succeeded,
        70,
        3,
    ));
    for d in 11..16 {
        let at = start + Duration::days(d);
        jobs.push(run(at, JobType::Scheduled, JobState::Failed, 1, 0));
    }
    jobs.push(run(
        start + Duration::days(16) + Duration::hours(8),
        JobType::Manual,
        JobState::Succeeded,
        20,
        8,
    ));
    store
        .record_poll(&poll("a", start + Duration::days(17), jobs, &[]))
        .await
        .unwrap();

    let runs = store.run_history("a", start).await.unwrap();
    assert_eq!(runs.len(), 17);
    let analysed = history::analyse_runs(&runs);
    let odd = &analysed[10];
    assert_eq!(odd.baseline_bytes, Some((8 * GIB) as f64));
    assert_eq!(odd.baseline_secs, Some(1_200.0));
    assert!(odd.size_dropped && odd.duration_tripled);
    assert_eq!(analysed.iter().filter(|a| a.size_dropped).count(), 1);

    let streaks = history::failure_streaks(&runs);
    assert_eq!(
        streaks.len(),
        1,
        "the manual run succeeded, so it has no streak"
    );
    assert_eq!(streaks[0].count, 5);
    assert_eq!(streaks[0].since, start + Duration::days(11));
    assert_eq!(streaks[0].same_progress, Some(10));

    let rates = history::rates_by_type(&runs);
    assert_eq!((rates[0].finished, rates[0].succeeded), (16, 11));
    assert_eq!((rates[1].finished, rates[1].succeeded), (1, 1));
}

#[tokio::test]
async fn days_of_a_seeded_appliance_follow_the_rules() {
    let (store, _dir) = store_with(&[settings("a", &[])]).await;
    let day = |d: u32, h: u32| utc(&format!("2026-11-{d:02}T{h:02}:00:00Z"));
    // Runs on the 3rd (failed, then a manual success) and the 4th; nothing on the 5th;
    // the first poll is on the 6th, so the 1st is before anything was known.
    let jobs = vec![
        run(day(3, 2), JobType::Scheduled, JobState::Failed, 10, 1),
        run(day(3, 9), JobType::Manual, JobState::Succeeded, 10, 1),
        run(day(4, 2), JobType::Scheduled, JobState::Failed, 10, 1),
    ];
    store
        .record_poll(&poll("a", day(6, 12), jobs, &[]))
        .await
        .unwrap();

    let id = appliance_id(&store, "a").await;
    let (page, total) = store.trend_appliances(None, 0, 50).await.unwrap();
    assert_eq!(total, 1);
    assert_eq!(page[0].known_since, Some(day(3, 2)));

    let spans = day_spans(NaiveDate::from_ymd_opt(2026, 11, 6).unwrap(), 6, Tz::UTC);
    let marks = store.job_marks(&[id], day(1, 0), day(7, 0)).await.unwrap();
    let schedules = store.schedule_marks(&[id]).await.unwrap();
    let marks: Vec<_> = marks.iter().collect();
    let schedules: Vec<_> = schedules.iter().collect();
    let cells = history::day_outcomes(&page[0], &schedules, &marks, &spans, day(6, 12));
    let outcomes: Vec<DayOutcome> = cells.iter().map(|c| c.outcome).collect();

    use DayOutcome::*;
    assert_eq!(
        outcomes,
        [NotPolled, NotPolled, Succeeded, Failed, Missed, Missed]
    );
}

#[tokio::test]
async fn failures_group_by_message_and_by_host() {
    let names = ["a", "b", "c"];
    let list: Vec<_> = names.iter().map(|n| settings(n, &["prod"])).collect();
    let (store, _dir) = store_with(&list).await;
    let at = utc("2026-11-10T02:00:00Z");
    for (i, name) in names.iter().enumerate() {
        let jobs = (0..=i as i64)
            .map(|d| {
                run(
                    at + Duration::days(d),
                    JobType::Scheduled,
                    JobState::Failed,
                    1,
                    0,
                )
            })
            .collect();
        store
            .record_poll(&poll(name, at + Duration::days(5), jobs, &[]))
            .await
            .unwrap();
    }

    let causes = store
        .failure_causes(None, at - Duration::days(1))
        .await
        .unwrap();
    let host = &causes.by_host[0];
    assert_eq!(host.cause, "nas-02.example.test");
    assert_eq!(host.appliances, ["a", "b", "c"]);
    assert_eq!(host.failures, 6);
    assert_eq!(host.first, at);
    assert_eq!(host.newest.0, "c");
    assert_eq!(causes.by_message.len(), 1);

    let none = store
        .failure_causes(Some("lab"), at - Duration::days(1))
        .await
        .unwrap();
    assert!(none.by_host.is_empty() && none.by_message.is_empty());
}

#[tokio::test]
async fn pruning_keeps_listed_and_pointed_jobs() {
    let (store, _dir) = store_with(&[settings("a", &[])]).await;
    let old = utc("2024-01-01T02:00:00Z");
    let good_old = run(old, JobType::Scheduled, JobState::Succeeded, 10, 1);
    let failed: Vec<Job> = (1..=3)
        .map(|d| {
            run(
                old + Duration::days(d),
                JobType::Scheduled,
                JobState::Failed,
                1,
                0,
            )
        })
        .collect();
    let listed_old = run(
        old + Duration::days(5),
        JobType::Manual,
        JobState::Failed,
        1,
        0,
    );
    let recent = run(
        utc("2026-11-01T02:00:00Z"),
        JobType::Scheduled,
        JobState::Failed,
        1,
        0,
    );

    let mut jobs = vec![good_old.clone(), listed_old.clone(), recent.clone()];
    jobs.extend(failed);
    store
        .record_poll(&poll("a", utc("2026-11-02T00:00:00Z"), jobs, &[]))
        .await
        .unwrap();
    // A later poll still lists two of them; the others are gone from the appliance.
    store
        .record_poll(&poll(
            "a",
            utc("2026-11-03T00:00:00Z"),
            vec![],
            &[&listed_old, &recent],
        ))
        .await
        .unwrap();

    let pruned = store.prune_jobs(utc("2025-01-01T00:00:00Z")).await.unwrap();
    assert_eq!(pruned, 3, "the three old failures went");

    let left = store.export_jobs(&JobFilter::default(), 100).await.unwrap();
    let ids: Vec<&str> = left.iter().map(|r| r.job_id.as_str()).collect();
    assert_eq!(ids.len(), 3);
    assert!(
        ids.contains(&good_old.id.as_str()),
        "the newest good job stays"
    );
    assert!(ids.contains(&listed_old.id.as_str()), "a listed job stays");

    let overview = store.appliance_overview("a").await.unwrap().unwrap();
    assert_eq!(overview.last_good_job.map(|j| j.id), Some(good_old.id));
    assert_eq!(
        store.prune_jobs(utc("2025-01-01T00:00:00Z")).await.unwrap(),
        0
    );
}

/// A router over a small fleet seeded relative to now.
async fn seeded_router() -> (Router, tempfile::TempDir) {
    let list = [
        settings("vc-good", &["prod"]),
        settings("vc-bad", &["prod"]),
        settings("vc-lab", &["lab"]),
    ];
    let (store, dir) = store_with(&list).await;
    let now = Utc::now();
    let today_two = now.date_naive().and_hms_opt(2, 0, 0).unwrap().and_utc();
    let last = if today_two + Duration::hours(1) <= now {
        today_two
    } else {
        today_two - Duration::days(1)
    };

    let series = |state: JobState| -> Vec<Job> {
        (0..20)
            .map(|d| {
                run(
                    last - Duration::days(d),
                    JobType::Scheduled,
                    state.clone(),
                    20,
                    8,
                )
            })
            .collect()
    };
    store
        .record_poll(&poll("vc-good", now, series(JobState::Succeeded), &[]))
        .await
        .unwrap();
    store
        .record_poll(&poll("vc-bad", now, series(JobState::Failed), &[]))
        .await
        .unwrap();
    let router = web::router(AppState {
        store,
        settings: WebSettings::default(),
        auth: Auth::none(),
        actions: vbdash::web::actions::Actions::none(),
    });
    (router, dir)
}

async fn get(router: &Router, uri: &str) -> (StatusCode, String, Option<String>) {
    let request = Request::get(uri).body(Body::empty()).unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let kind = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(response.into_body(), 10 << 20)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned(), kind)
}

fn count(doc: &Html, css: &str) -> usize {
    doc.select(&Selector::parse(css).unwrap()).count()
}

#[tokio::test]
async fn grid_page_shows_each_appliance_day_by_day() {
    let (router, _dir) = seeded_router().await;
    let (status, body, _) = get(&router, "/trends?days=30").await;
    assert_eq!(status, StatusCode::OK);
    let doc = Html::parse_document(&body);

    let groups: Vec<String> = doc
        .select(&Selector::parse(".grid-group").unwrap())
        .map(|g| g.text().collect())
        .collect();
    assert_eq!(groups, ["lab", "prod"]);
    assert_eq!(count(&doc, ".day-grid .grid-line-row .grid-name[href]"), 3);
    assert_eq!(count(&doc, ".day-grid .cell"), 3 * 30);

    // The good appliance succeeded on its last 20 days, the bad one failed on them, and
    // the lab appliance was never polled.
    let row = |name: &str| -> Vec<String> {
        let rows = Selector::parse(".grid-line-row").unwrap();
        let cells = Selector::parse(".cell").unwrap();
        let row = doc
            .select(&rows)
            .find(|r| r.text().any(|t| t == name))
            .unwrap();
        row.select(&cells)
            .map(|c| c.value().attr("class").unwrap_or_default().to_owned())
            .collect()
    };
    let good = row("vc-good");
    assert_eq!(
        good.iter().filter(|c| c.contains("day-succeeded")).count(),
        20
    );
    assert!(good[..9].iter().all(|c| c.contains("day-unknown")));
    let bad = row("vc-bad");
    assert_eq!(bad.iter().filter(|c| c.contains("day-failed")).count(), 20);
    assert!(row("vc-lab").iter().all(|c| c.contains("day-unknown")));

    let tip = doc
        .select(&Selector::parse(".day-failed").unwrap())
        .filter_map(|c| c.value().attr("title"))
        .nth(1)
        .unwrap()
        .to_owned();
    assert!(tip.starts_with("vc-bad · "), "{tip}");
    assert!(tip.ends_with(": failed only (1 run)"), "{tip}");
    assert_eq!(count(&doc, "#success-rate svg rect.series-bar"), 20);
}

#[tokio::test]
async fn grid_pages_and_filters_by_tag() {
    let (router, _dir) = seeded_router().await;
    let (_, body, _) = get(&router, "/trends?days=90&tag=lab").await;
    let doc = Html::parse_document(&body);
    assert_eq!(count(&doc, ".day-grid .grid-name[href]"), 1);
    assert_eq!(count(&doc, ".day-grid .cell"), 90);

    let (status, _, _) = get(&router, "/trends?days=7&page=x").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "unknown values fall back to defaults"
    );
}

#[tokio::test]
async fn appliance_history_page_has_charts_streak_and_rates() {
    let (router, _dir) = seeded_router().await;
    let (status, body, _) = get(&router, "/appliances/vc-bad/trends?days=30").await;
    assert_eq!(status, StatusCode::OK);
    let doc = Html::parse_document(&body);
    assert_eq!(count(&doc, "svg.chart-svg"), 2);
    let streak: String = doc
        .select(&Selector::parse(".streak").unwrap())
        .flat_map(|e| e.text())
        .collect();
    assert!(
        streak.starts_with("20 scheduled runs failed in a row since"),
        "{streak}"
    );
    assert!(streak.contains("all at 10%"), "{streak}");
    assert!(body.contains("0 of 20 succeeded"));

    let (status, _, _) = get(&router, "/appliances/nope/trends").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, body, _) = get(&router, "/trends/causes?days=30").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("1 appliance failing against nas-02.example.test since"));
}

#[tokio::test]
async fn export_has_columns_filters_and_no_formulas() {
    let (router, _dir) = seeded_router().await;
    let (status, body, kind) = get(&router, "/trends/export.csv?days=30&state=failed").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(kind.as_deref(), Some("text/csv; charset=utf-8"));

    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let head: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(head, vbdash::views::export::COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 20);
    assert!(rows.iter().all(|r| &r[0] == "vc-bad" && &r[3] == "failed"));
    assert!(rows[0][11].starts_with("'=cmd"), "{:?}", &rows[0][11]);

    let (_, body, _) = get(&router, "/trends/export.csv?appliance=vc-good&days=7").await;
    let lines = body.lines().count();
    assert!(
        (7..=8).contains(&lines),
        "header and six or seven days: {lines}"
    );
}

#[tokio::test]
async fn fleet_as_of_a_past_moment_is_rebuilt_from_history() {
    use vbdash::domain::Status;

    let (store, _dir) = store_with(&[settings("a", &[])]).await;
    let day = |d: u32, h: u32, m: u32| utc(&format!("2026-11-{d:02}T{h:02}:{m:02}:00Z"));
    let jobs = vec![
        run(day(1, 2, 0), JobType::Scheduled, JobState::Succeeded, 20, 5),
        run(day(2, 2, 0), JobType::Scheduled, JobState::Failed, 10, 0),
        run(day(3, 2, 0), JobType::Scheduled, JobState::Succeeded, 30, 5),
    ];
    store
        .record_poll(&poll("a", day(3, 3, 0), jobs.clone(), &[]))
        .await
        .unwrap();

    let then = store.fleet_overview_as_of(day(2, 12, 0)).await.unwrap();
    let a = &then[0];
    assert_eq!(a.verdict(day(2, 12, 0)).status, Status::Failed);
    assert_eq!(a.last_good_job.as_ref().map(|j| &j.id), Some(&jobs[0].id));
    assert!(a.running_job.is_none());

    let during = store.fleet_overview_as_of(day(3, 2, 15)).await.unwrap();
    let running = during[0].running_job.as_ref().unwrap();
    assert_eq!(running.id, jobs[2].id);
    assert_eq!(running.state, JobState::Running);
    assert_eq!(during[0].verdict(day(3, 2, 15)).status, Status::Failed);

    let after = store.fleet_overview_as_of(day(3, 4, 0)).await.unwrap();
    assert_eq!(after[0].verdict(day(3, 4, 0)).status, Status::Good);
    assert_eq!(after[0].last_poll.as_ref().unwrap().at, day(3, 3, 0));

    let before = store.fleet_overview_as_of(day(1, 0, 0)).await.unwrap();
    assert_eq!(before[0].verdict(day(1, 0, 0)).status, Status::NotPolled);
}

#[tokio::test]
async fn a_build_changed_since_the_last_good_backup_is_shown_and_counted() {
    let (store, _dir) = store_with(&[settings("a", &[]), settings("b", &[])]).await;
    let now = Utc::now();
    let good = run(
        now - Duration::hours(5),
        JobType::Scheduled,
        JobState::Succeeded,
        9,
        5,
    );
    let mut patched = poll("a", now, vec![good.clone()], &[]);
    if let Some(observation) = patched.observation.as_mut() {
        observation.version = Some(VersionInfo {
            version: "8.0.3.00500".into(),
            build: "24853646".into(),
            product: None,
        });
    }
    store.record_poll(&patched).await.unwrap();
    store
        .record_poll(&poll("b", now, vec![good], &[]))
        .await
        .unwrap();
    let router = web::router(AppState {
        store,
        settings: WebSettings::default(),
        auth: Auth::none(),
        actions: vbdash::web::actions::Actions::none(),
    });

    let (_, body, _) = get(&router, "/").await;
    assert!(body.contains("1 patched since last good backup"), "{body}");
    let (_, body, _) = get(&router, "/appliances/a").await;
    assert!(body.contains("now build 24853646, the backup was made by build 24322831"));
    let (_, body, _) = get(&router, "/appliances/b").await;
    assert!(!body.contains("flag-warn"));
    let (_, body, _) = get(&router, "/trends").await;
    let doc = Html::parse_document(&body);
    assert_eq!(count(&doc, "#patched a[href='/appliances/a/trends']"), 1);

    let (status, body, _) = get(&router, "/trends/as-of?at=2026-01-01T10:00").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Fleet as of 2026-01-01 10:00 UTC"));
    let (status, _, _) = get(&router, "/trends/as-of?at=yesterday").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn monthly_report_counts_days_failures_and_the_longest_gap() {
    use chrono::Datelike;

    let (store, _dir) = store_with(&[settings("a", &["prod"]), settings("b", &["lab"])]).await;
    let month = (Utc::now() - Duration::days(62))
        .date_naive()
        .with_day(1)
        .unwrap();
    let next = month.checked_add_months(chrono::Months::new(1)).unwrap();
    let days = (next - month).num_days();
    let jobs: Vec<Job> = (0..days)
        .map(|d| {
            let at = (month + Duration::days(d))
                .and_hms_opt(2, 0, 0)
                .unwrap()
                .and_utc();
            let state = if (9..12).contains(&d) {
                JobState::Failed
            } else {
                JobState::Succeeded
            };
            run(at, JobType::Scheduled, state, 10, 5)
        })
        .collect();
    let poll_at = next.and_hms_opt(12, 0, 0).unwrap().and_utc();
    store
        .record_poll(&poll("a", poll_at, jobs, &[]))
        .await
        .unwrap();
    let router = web::router(AppState {
        store,
        settings: WebSettings::default(),
        auth: Auth::none(),
        actions: vbdash::web::actions::Actions::none(),
    });

    let uri = format!("/trends/report?tag=prod&month={}", month.format("%Y-%m"));
    let (status, body, _) = get(&router, &uri).await;
    assert_eq!(status, StatusCode::OK);
    let doc = Html::parse_document(&body);
    let cells: Vec<String> = doc
        .select(&Selector::parse("table.report tbody td").unwrap())
        .map(|c| c.text().collect::<String>().trim().to_owned())
        .collect();
    assert_eq!(
        cells,
        [
            "a".to_owned(),
            format!("{} of {days}", days - 3),
            "0".to_owned(),
            "3".to_owned(),
            "4 d 00 h".to_owned(),
        ]
    );
    assert!(body.contains("1 appliance;"));
}

#[test]
fn retention_is_configurable_with_defaults_and_a_floor() {
    use std::path::Path;
    use std::time::Duration as StdDuration;
    use vbdash::config::Config;

    let path = Path::new("vbdash.toml");
    let defaults = Config::from_toml("", path, &[]).unwrap();
    assert_eq!(
        defaults.retention.jobs,
        StdDuration::from_secs(730 * 86_400)
    );
    assert_eq!(
        defaults.retention.polls,
        StdDuration::from_secs(30 * 86_400)
    );

    let text = "[retention]\njobs = \"400d\"\npolls = \"7d\"\n";
    let set = Config::from_toml(text, path, &[]).unwrap();
    assert_eq!(set.retention.jobs, StdDuration::from_secs(400 * 86_400));
    assert_eq!(set.retention.polls, StdDuration::from_secs(7 * 86_400));

    let short = Config::from_toml("[retention]\npolls = \"2h\"\n", path, &[]).unwrap_err();
    let message = short.to_string();
    assert!(
        message.contains("line 2") && message.contains("retention.polls"),
        "{message}"
    );
}

#[tokio::test]
async fn a_report_for_a_bad_month_is_a_400_with_the_reason() {
    let (store, _dir) = store_with(&[settings("a", &["prod"])]).await;
    let router = web::router(AppState {
        store,
        settings: WebSettings::default(),
        auth: Auth::none(),
        actions: vbdash::web::actions::Actions::none(),
    });

    for month in [
        "-2026-01",
        "2026-13",
        "2026-00",
        "2026-1",
        "9999-99",
        "%E2%80%AE",
    ] {
        let (status, body, _) = get(&router, &format!("/trends/report?month={month}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{month}: {body}");
        assert!(body.contains("YYYY-MM"), "{month}: {body}");
    }
    let (status, body, _) = get(&router, "/trends/report?month=2999-01").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("has not begun yet"), "{body}");

    let (status, _, _) = get(&router, "/trends/report?month=").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_year_grid_labels_only_months_with_room_and_explains_unpolled_days() {
    let (router, _dir) = seeded_router().await;
    let (status, body, _) = get(&router, "/trends?days=365").await;
    assert_eq!(status, StatusCode::OK);
    let doc = Html::parse_document(&body);

    let heads: Vec<String> = doc
        .select(&Selector::parse(".grid-heads .head").unwrap())
        .map(|h| h.text().collect())
        .collect();
    assert_eq!(heads.len(), 365);
    let labelled: Vec<usize> = (0..heads.len()).filter(|i| !heads[*i].is_empty()).collect();
    assert!(labelled.len() >= 11, "{heads:?}");
    // A label at the right edge would be cut off; each needs room up to the next one.
    for (n, at) in labelled.iter().enumerate() {
        let next = labelled.get(n + 1).copied().unwrap_or(heads.len());
        assert!(next - at >= 18, "{} at column {at} has no room", heads[*at]);
    }

    let legend: Vec<String> = doc
        .select(&Selector::parse(".day-legend li").unwrap())
        .map(|l| l.text().collect::<String>().trim().to_owned())
        .collect();
    assert!(
        legend
            .iter()
            .any(|l| l.ends_with("not polled (before vbdash watched the appliance)")),
        "{legend:?}"
    );
    assert!(count(&doc, ".day-grid .cell.day-unknown") > 0);
}
