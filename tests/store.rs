//! The store against real SQLite files: each test opens its own file in a fresh temp dir.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc, Weekday};
use sqlx::Connection;
use tempfile::TempDir;
use vbdash::domain::{
    ApiGeneration, Job, JobId, JobState, JobType, Observation, PollOutcome, PollReport, Schedule,
    VersionInfo,
};
use vbdash::store::{ApplianceSettings, JobPage, Store, StoreError};

const APPLIANCE: &str = "vcsa-ams-01";

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn id(text: &str) -> JobId {
    JobId::parse(text).unwrap()
}

/// A job filled the way an appliance's job details fill it.
fn job(job_id: &str, job_type: JobType, state: JobState, start: Option<&str>) -> Job {
    let mut job = Job::new(id(job_id), job_type, state.clone());
    job.start_time = start.map(utc);
    job.location = Some(format!("sftp://192.0.2.20/backups/vcsa-01/{job_id}"));
    job.user = Some("backup@example.test".into());
    job.version = Some("7.0.3.00000".into());
    job.build = Some("21477706".into());
    job.cancelable = Some(state == JobState::Running);
    match state {
        JobState::Running => job.progress = Some(42),
        JobState::Failed => {
            job.progress = Some(10);
            job.messages = vec!["BackupManager encountered an exception.".into()];
        }
        _ => {
            job.progress = Some(100);
            job.end_time = job.start_time.map(|t| t + Duration::minutes(20));
            job.duration_secs = Some(1_200);
            job.size_bytes = Some(48_318_382_080);
            job.progress_message = Some("Backup job completed".into());
        }
    }
    job
}

fn scheduled(job_id: &str, state: JobState, start: &str) -> Job {
    job(job_id, JobType::Scheduled, state, Some(start))
}

fn settings(name: &str) -> ApplianceSettings {
    ApplianceSettings {
        name: name.into(),
        url: format!("https://{name}.example.test"),
        tags: vec!["prod".into(), "amsterdam".into()],
        time_zone: chrono_tz::Europe::Amsterdam,
        grace_secs: 7_200,
    }
}

fn daily_at(hour: u32) -> Schedule {
    Schedule {
        id: "default".into(),
        enabled: true,
        days: vec![],
        time: Some((hour, 0)),
        retention: Some(7),
        location: "nfs://192.0.2.10:/nfs/example/vcenterbackup/".into(),
        location_user: None,
        parts: vec!["seat".into()],
    }
}

/// A successful poll that fetched `jobs` and saw `listed` (plus the fetched ones) listed.
fn ok_poll(at: &str, jobs: Vec<Job>, listed: &[&str], schedule: Option<Schedule>) -> PollReport {
    let mut listed_job_ids: Vec<JobId> = listed.iter().map(|l| id(l)).collect();
    listed_job_ids.extend(jobs.iter().map(|j| j.id.clone()));
    PollReport {
        appliance: APPLIANCE.into(),
        started_at: utc(at),
        duration_ms: 120,
        outcome: PollOutcome::Ok,
        message: None,
        observation: Some(Observation {
            generation: ApiGeneration::Api,
            version: Some(VersionInfo {
                version: "8.0.3.00400".into(),
                build: "24322735".into(),
                product: Some("VMware vCenter Server".into()),
            }),
            schedule,
            jobs,
            listed_job_ids,
        }),
    }
}

fn failed_poll(at: &str) -> PollReport {
    PollReport {
        appliance: APPLIANCE.into(),
        started_at: utc(at),
        duration_ms: 20_000,
        outcome: PollOutcome::Timeout,
        message: Some("no answer within 20s".into()),
        observation: None,
    }
}

/// A fresh database file with one configured appliance.
async fn fresh_store() -> (TempDir, PathBuf, Store) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vbdash.db");
    let store = Store::open(path.to_str().unwrap()).await.unwrap();
    store.sync_appliances(&[settings(APPLIANCE)]).await.unwrap();
    (dir, path, store)
}

async fn all_jobs(store: &Store) -> Vec<vbdash::store::StoredJob> {
    let page = JobPage {
        offset: 0,
        limit: 1_000,
    };
    store.list_jobs(APPLIANCE, page).await.unwrap().0
}

#[tokio::test]
async fn migrations_apply_to_an_empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.db");
    let url = format!("sqlite://{}", path.display());
    let store = Store::open(&url).await.unwrap();
    store.close().await;
    assert!(path.exists(), "the database file was not created");

    let migrations = std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations"))
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .count();
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let applied: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = 1")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(applied as usize, migrations);
    assert_eq!(journal, "wal");
}

#[tokio::test]
async fn open_error_names_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-dir").join("vbdash.db");
    let error = Store::open(path.to_str().unwrap()).await.err().unwrap();
    assert!(matches!(error, StoreError::Open { .. }));
    assert!(error.to_string().contains("vbdash.db"), "{error}");
}

#[tokio::test]
async fn memory_database_works_across_calls() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    store.sync_appliances(&[settings(APPLIANCE)]).await.unwrap();
    let first = scheduled(
        "20261201-020000-1",
        JobState::Succeeded,
        "2026-12-01T02:00:00Z",
    );
    let poll = ok_poll("2026-12-01T03:00:00Z", vec![first], &[], None);
    store.record_poll(&poll).await.unwrap();
    assert_eq!(all_jobs(&store).await.len(), 1);
}

#[tokio::test]
async fn polling_a_job_again_updates_it_in_place() {
    let (_dir, _path, store) = fresh_store().await;
    let start = "2026-12-01T02:00:00Z";
    let running = scheduled("20261201-020000-1", JobState::Running, start);
    let older = scheduled(
        "20261130-020000-1",
        JobState::Succeeded,
        "2026-11-30T02:00:00Z",
    );
    let first = ok_poll(
        "2026-12-01T02:05:00Z",
        vec![running, older.clone()],
        &[],
        None,
    );
    store.record_poll(&first).await.unwrap();

    let done = scheduled("20261201-020000-1", JobState::Succeeded, start);
    let again = ok_poll("2026-12-01T02:30:00Z", vec![done.clone(), older], &[], None);
    store.record_poll(&again).await.unwrap();

    let jobs = all_jobs(&store).await;
    assert_eq!(jobs.len(), 2, "a job polled twice was stored twice");
    let stored = store.get_job(APPLIANCE, &done.id).await.unwrap().unwrap();
    assert_eq!(stored.job, done);
    assert_eq!(stored.first_seen_at, utc("2026-12-01T02:05:00Z"));
    assert_eq!(stored.last_seen_at, utc("2026-12-01T02:30:00Z"));
    assert_eq!(stored.gone_since, None);

    let overview = store.appliance_overview(APPLIANCE).await.unwrap().unwrap();
    assert_eq!(overview.running_job, None);
    assert_eq!(overview.last_good_job.map(|j| j.id), Some(done.id));
}

#[tokio::test]
async fn a_fact_no_longer_sent_keeps_its_last_value() {
    let (_dir, _path, store) = fresh_store().await;
    let full = scheduled(
        "20261201-020000-1",
        JobState::Running,
        "2026-12-01T02:00:00Z",
    );
    store
        .record_poll(&ok_poll(
            "2026-12-01T02:05:00Z",
            vec![full.clone()],
            &[],
            None,
        ))
        .await
        .unwrap();

    // A state-only update, as the per-job status call gives it.
    let mut bare = Job::new(full.id.clone(), JobType::Scheduled, JobState::Succeeded);
    bare.progress = Some(100);
    store
        .record_poll(&ok_poll("2026-12-01T02:30:00Z", vec![bare], &[], None))
        .await
        .unwrap();

    let stored = store.get_job(APPLIANCE, &full.id).await.unwrap().unwrap();
    assert_eq!(stored.job.state, JobState::Succeeded);
    assert_eq!(stored.job.progress, Some(100));
    assert_eq!(stored.job.start_time, full.start_time);
    assert_eq!(stored.job.location, full.location);
    assert_eq!(stored.job.user, full.user);
    assert_eq!(stored.job.version, full.version);
    assert_eq!(stored.job.build, full.build);

    // A new location replaces both stored parts, folder and leaf.
    let mut moved = Job::new(full.id.clone(), JobType::Scheduled, JobState::Succeeded);
    moved.location = Some("no-folder-here".into());
    store
        .record_poll(&ok_poll("2026-12-01T02:35:00Z", vec![moved], &[], None))
        .await
        .unwrap();
    let stored = store.get_job(APPLIANCE, &full.id).await.unwrap().unwrap();
    assert_eq!(stored.job.location.as_deref(), Some("no-folder-here"));
    assert_eq!(stored.job.user, full.user);
}

#[tokio::test]
async fn unlisted_job_is_kept_as_gone_and_returns_when_listed() {
    let (_dir, _path, store) = fresh_store().await;
    let old = scheduled(
        "20261129-020000-1",
        JobState::Failed,
        "2026-11-29T02:00:00Z",
    );
    let new = scheduled(
        "20261130-020000-1",
        JobState::Succeeded,
        "2026-11-30T02:00:00Z",
    );
    let both = ok_poll(
        "2026-11-30T03:00:00Z",
        vec![old.clone(), new.clone()],
        &[],
        None,
    );
    store.record_poll(&both).await.unwrap();
    let listed_again = ok_poll(
        "2026-11-30T04:00:00Z",
        vec![],
        &[new.id.as_str(), old.id.as_str()],
        None,
    );
    store.record_poll(&listed_again).await.unwrap();

    let forgot = ok_poll("2026-12-01T03:00:00Z", vec![], &[new.id.as_str()], None);
    store.record_poll(&forgot).await.unwrap();

    let gone = store.get_job(APPLIANCE, &old.id).await.unwrap().unwrap();
    assert_eq!(gone.gone_since, Some(utc("2026-12-01T03:00:00Z")));
    assert_eq!(gone.last_seen_at, utc("2026-11-30T04:00:00Z"));
    assert_eq!(gone.job, old, "a gone job lost its last known state");
    let kept = store.get_job(APPLIANCE, &new.id).await.unwrap().unwrap();
    assert_eq!(kept.gone_since, None);
    assert_eq!(kept.last_seen_at, utc("2026-12-01T03:00:00Z"));
    assert_eq!(all_jobs(&store).await.len(), 2);
    let overview = store.appliance_overview(APPLIANCE).await.unwrap().unwrap();
    assert_eq!(overview.last_job.map(|j| j.id), Some(new.id.clone()));

    let back = ok_poll(
        "2026-12-02T03:00:00Z",
        vec![],
        &[new.id.as_str(), old.id.as_str()],
        None,
    );
    store.record_poll(&back).await.unwrap();
    let returned = store.get_job(APPLIANCE, &old.id).await.unwrap().unwrap();
    assert_eq!(returned.gone_since, None);
    assert_eq!(returned.last_seen_at, utc("2026-12-02T03:00:00Z"));
    assert_eq!(returned.first_seen_at, utc("2026-11-30T03:00:00Z"));
}

#[tokio::test]
async fn finished_job_ids_lists_finished_jobs_still_listed() {
    let (_dir, _path, store) = fresh_store().await;
    let done = scheduled(
        "20261130-020000-1",
        JobState::Succeeded,
        "2026-11-30T02:00:00Z",
    );
    let failed = scheduled(
        "20261129-020000-1",
        JobState::Failed,
        "2026-11-29T02:00:00Z",
    );
    let running = scheduled(
        "20261201-020000-1",
        JobState::Running,
        "2026-12-01T02:00:00Z",
    );
    let jobs = vec![done.clone(), failed.clone(), running];
    store
        .record_poll(&ok_poll("2026-12-01T02:05:00Z", jobs, &[], None))
        .await
        .unwrap();

    let finished = store.finished_job_ids(APPLIANCE).await.unwrap();
    assert_eq!(finished, [done.id, failed.id].into_iter().collect());
    assert!(store.finished_job_ids("nobody").await.unwrap().is_empty());
}

#[tokio::test]
async fn schedule_history_grows_only_on_change() {
    let (_dir, _path, store) = fresh_store().await;
    let polls = [
        ("2026-12-01T00:00:00Z", None),
        ("2026-12-01T01:00:00Z", None),
        ("2026-12-01T02:00:00Z", Some(daily_at(2))),
        ("2026-12-01T03:00:00Z", Some(daily_at(2))),
        ("2026-12-01T04:00:00Z", Some(daily_at(3))),
        ("2026-12-01T05:00:00Z", None),
        ("2026-12-01T06:00:00Z", None),
    ];
    for (at, schedule) in polls {
        store
            .record_poll(&ok_poll(at, vec![], &[], schedule))
            .await
            .unwrap();
        // A failed poll says nothing about the schedule.
        store.record_poll(&failed_poll(at)).await.unwrap();
    }

    let history = store.schedule_history(APPLIANCE, 10).await.unwrap();
    let seen: Vec<_> = history
        .iter()
        .map(|c| (c.observed_at, c.schedule.as_ref().and_then(|s| s.time)))
        .collect();
    assert_eq!(
        seen,
        vec![
            (utc("2026-12-01T05:00:00Z"), None),
            (utc("2026-12-01T04:00:00Z"), Some((3, 0))),
            (utc("2026-12-01T02:00:00Z"), Some((2, 0))),
            (utc("2026-12-01T00:00:00Z"), None),
        ]
    );
    assert_eq!(store.schedule_history(APPLIANCE, 1).await.unwrap().len(), 1);
}

#[tokio::test]
async fn schedule_changed_at_counts_only_changes_after_the_first_sight() {
    let (_dir, _path, store) = fresh_store().await;
    let weekly = Schedule {
        days: vec![Weekday::Sat],
        ..daily_at(2)
    };
    store
        .record_poll(&ok_poll(
            "2026-12-01T00:00:00Z",
            vec![],
            &[],
            Some(weekly.clone()),
        ))
        .await
        .unwrap();
    store
        .record_poll(&ok_poll(
            "2026-12-01T01:00:00Z",
            vec![],
            &[],
            Some(weekly.clone()),
        ))
        .await
        .unwrap();
    let first = store.appliance_overview(APPLIANCE).await.unwrap().unwrap();
    assert_eq!(first.schedule, Some(weekly));
    assert_eq!(first.schedule_changed_at, None);

    store
        .record_poll(&ok_poll(
            "2026-12-02T00:00:00Z",
            vec![],
            &[],
            Some(daily_at(2)),
        ))
        .await
        .unwrap();
    store
        .record_poll(&ok_poll(
            "2026-12-02T01:00:00Z",
            vec![],
            &[],
            Some(daily_at(2)),
        ))
        .await
        .unwrap();
    let changed = store.appliance_overview(APPLIANCE).await.unwrap().unwrap();
    assert_eq!(changed.schedule, Some(daily_at(2)));
    assert_eq!(
        changed.schedule_changed_at,
        Some(utc("2026-12-02T00:00:00Z"))
    );
}

#[tokio::test]
async fn failed_poll_keeps_previous_data_and_records_the_outcome() {
    let (_dir, _path, store) = fresh_store().await;
    let done = scheduled(
        "20261201-020000-1",
        JobState::Succeeded,
        "2026-12-01T02:00:00Z",
    );
    let good = ok_poll(
        "2026-12-01T03:00:00Z",
        vec![done.clone()],
        &[],
        Some(daily_at(2)),
    );
    store.record_poll(&good).await.unwrap();
    store
        .record_poll(&failed_poll("2026-12-01T04:00:00Z"))
        .await
        .unwrap();

    let overview = store.appliance_overview(APPLIANCE).await.unwrap().unwrap();
    let last = overview.last_poll.unwrap();
    assert_eq!(last.outcome, PollOutcome::Timeout);
    assert_eq!(last.at, utc("2026-12-01T04:00:00Z"));
    assert_eq!(last.duration_ms, 20_000);
    assert_eq!(last.message.as_deref(), Some("no answer within 20s"));
    assert_eq!(overview.last_ok_poll_at, Some(utc("2026-12-01T03:00:00Z")));
    assert_eq!(overview.last_good_job, Some(done.clone()));
    assert_eq!(overview.schedule, Some(daily_at(2)));
    assert_eq!(overview.generation, Some(ApiGeneration::Api));

    let job = store.get_job(APPLIANCE, &done.id).await.unwrap().unwrap();
    assert_eq!(
        job.gone_since, None,
        "a failed poll must not mark jobs as gone"
    );

    let polls = store.recent_polls(APPLIANCE, 10).await.unwrap();
    let outcomes: Vec<_> = polls.iter().map(|p| p.outcome).collect();
    assert_eq!(outcomes, vec![PollOutcome::Timeout, PollOutcome::Ok]);
    assert_eq!(store.recent_polls(APPLIANCE, 1).await.unwrap().len(), 1);
}

#[tokio::test]
async fn overview_points_at_the_right_jobs() {
    let (_dir, _path, store) = fresh_store().await;
    let good = scheduled(
        "20261128-020000-1",
        JobState::Succeeded,
        "2026-11-28T02:00:00Z",
    );
    let failed = scheduled(
        "20261129-020000-1",
        JobState::Failed,
        "2026-11-29T02:00:00Z",
    );
    let running = scheduled(
        "20261130-020000-1",
        JobState::Running,
        "2026-11-30T02:00:00Z",
    );
    let manual = job(
        "20261130-090000-1",
        JobType::Manual,
        JobState::Pending,
        Some("2026-11-30T09:00:00Z"),
    );
    let unstarted = job(
        "20261130-100000-1",
        JobType::Manual,
        JobState::Pending,
        None,
    );
    let jobs = vec![
        good.clone(),
        failed.clone(),
        running.clone(),
        manual.clone(),
        unstarted,
    ];
    store
        .record_poll(&ok_poll(
            "2026-11-30T10:00:00Z",
            jobs,
            &[],
            Some(daily_at(2)),
        ))
        .await
        .unwrap();

    let o = store.appliance_overview(APPLIANCE).await.unwrap().unwrap();
    assert_eq!(o.name, APPLIANCE);
    assert_eq!(o.url, "https://vcsa-ams-01.example.test");
    assert_eq!(o.tags, vec!["prod".to_owned(), "amsterdam".to_owned()]);
    assert_eq!(o.time_zone, chrono_tz::Europe::Amsterdam);
    assert_eq!(o.grace_secs, 7_200);
    assert_eq!(
        o.version.as_ref().map(|v| v.build.as_str()),
        Some("24322735")
    );
    assert_eq!(o.last_job, Some(manual));
    assert_eq!(o.last_finished_job, Some(failed));
    assert_eq!(o.last_good_job, Some(good));
    assert_eq!(o.running_job, Some(running));
    assert_eq!(o.last_scheduled_start, Some(utc("2026-11-30T02:00:00Z")));
    assert_eq!(o.last_ok_poll_at, Some(utc("2026-11-30T10:00:00Z")));

    let fleet = store.fleet_overview().await.unwrap();
    assert_eq!(fleet, vec![o]);
}

#[tokio::test]
async fn a_never_polled_appliance_has_an_empty_overview() {
    let (_dir, _path, store) = fresh_store().await;
    let o = store.appliance_overview(APPLIANCE).await.unwrap().unwrap();
    assert_eq!(o.last_poll, None);
    assert_eq!(o.last_job, None);
    assert_eq!(o.schedule, None);
    assert_eq!(o.generation, None);
    assert_eq!(o.version, None);
    assert_eq!(store.appliance_overview("nobody").await.unwrap(), None);
}

#[tokio::test]
async fn a_poll_of_an_unknown_appliance_is_refused() {
    let (_dir, _path, store) = fresh_store().await;
    let mut poll = failed_poll("2026-12-01T00:00:00Z");
    poll.appliance = "nobody".into();
    let error = store.record_poll(&poll).await.err().unwrap();
    assert!(matches!(error, StoreError::UnknownAppliance(_)));
}

#[tokio::test]
async fn jobs_are_listed_by_start_time_not_by_id() {
    let (_dir, _path, store) = fresh_store().await;
    // Ids sort the other way round from their start times.
    let jobs = vec![
        scheduled("a-latest", JobState::Succeeded, "2026-12-03T02:00:00Z"),
        scheduled("m-middle", JobState::Succeeded, "2026-12-02T02:00:00Z"),
        scheduled("z-oldest", JobState::Succeeded, "2026-12-01T02:00:00Z"),
        job("0-unstarted", JobType::Manual, JobState::Pending, None),
    ];
    store
        .record_poll(&ok_poll("2026-12-03T03:00:00Z", jobs, &[], None))
        .await
        .unwrap();

    let order: Vec<String> = all_jobs(&store)
        .await
        .into_iter()
        .map(|s| s.job.id.to_string())
        .collect();
    assert_eq!(order, ["a-latest", "m-middle", "z-oldest", "0-unstarted"]);
    let overview = store.appliance_overview(APPLIANCE).await.unwrap().unwrap();
    assert_eq!(overview.last_job.map(|j| j.id), Some(id("a-latest")));
}

#[tokio::test]
async fn jobs_are_paged_with_a_total() {
    let (_dir, _path, store) = fresh_store().await;
    let start = utc("2026-01-01T02:00:00Z");
    let jobs: Vec<Job> = (0..25)
        .map(|day| {
            let at = (start + Duration::days(day)).to_rfc3339();
            scheduled(&format!("job-{day:02}"), JobState::Succeeded, &at)
        })
        .collect();
    store
        .record_poll(&ok_poll("2026-02-01T00:00:00Z", jobs, &[], None))
        .await
        .unwrap();

    let page = |offset, limit| store.list_jobs(APPLIANCE, JobPage { offset, limit });
    let (first, total) = page(0, 10).await.unwrap();
    assert_eq!(total, 25);
    assert_eq!(first.len(), 10);
    assert_eq!(first[0].job.id, id("job-24"));
    let (last, total) = page(20, 10).await.unwrap();
    assert_eq!(total, 25);
    let ids: Vec<_> = last.iter().map(|s| s.job.id.to_string()).collect();
    assert_eq!(ids, ["job-04", "job-03", "job-02", "job-01", "job-00"]);
    let (past_end, _) = page(30, 10).await.unwrap();
    assert!(past_end.is_empty());
    let (none, total) = store
        .list_jobs(
            "nobody",
            JobPage {
                offset: 0,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert!(none.is_empty());
    assert_eq!(total, 0);
}

#[tokio::test]
async fn removed_appliances_are_hidden_but_keep_their_history() {
    let (_dir, _path, store) = fresh_store().await;
    let done = scheduled(
        "20261201-020000-1",
        JobState::Succeeded,
        "2026-12-01T02:00:00Z",
    );
    store
        .record_poll(&ok_poll(
            "2026-12-01T03:00:00Z",
            vec![done.clone()],
            &[],
            None,
        ))
        .await
        .unwrap();

    let mut moved = settings("vcsa-fra-01");
    moved.tags = vec![];
    store.sync_appliances(&[moved]).await.unwrap();
    let names: Vec<String> = store
        .fleet_overview()
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(names, ["vcsa-fra-01"]);
    assert_eq!(store.appliance_overview(APPLIANCE).await.unwrap(), None);
    assert!(store.get_job(APPLIANCE, &done.id).await.unwrap().is_some());
    assert_eq!(store.recent_polls(APPLIANCE, 10).await.unwrap().len(), 1);

    let mut renamed = settings(APPLIANCE);
    renamed.url = "https://new.example.test".into();
    store
        .sync_appliances(&[renamed, settings("vcsa-fra-01")])
        .await
        .unwrap();
    let back = store.appliance_overview(APPLIANCE).await.unwrap().unwrap();
    assert_eq!(back.url, "https://new.example.test");
    assert_eq!(back.last_good_job, Some(done));
    assert_eq!(store.fleet_overview().await.unwrap().len(), 2);
}

#[tokio::test]
async fn reopening_the_file_keeps_everything() {
    let (_dir, path, store) = fresh_store().await;
    let done = scheduled(
        "20261201-020000-1",
        JobState::Succeeded,
        "2026-12-01T02:00:00Z",
    );
    store
        .record_poll(&ok_poll(
            "2026-12-01T03:00:00Z",
            vec![done],
            &[],
            Some(daily_at(2)),
        ))
        .await
        .unwrap();
    store
        .record_poll(&failed_poll("2026-12-01T04:00:00Z"))
        .await
        .unwrap();
    let before = store.fleet_overview().await.unwrap();
    let jobs_before = all_jobs(&store).await;
    store.close().await;

    let reopened = Store::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    assert_eq!(reopened.fleet_overview().await.unwrap(), before);
    assert_eq!(all_jobs(&reopened).await, jobs_before);
    assert_eq!(reopened.recent_polls(APPLIANCE, 10).await.unwrap().len(), 2);
    assert_eq!(
        reopened
            .schedule_history(APPLIANCE, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn concurrent_polls_of_many_appliances_all_land() {
    let (_dir, _path, store) = fresh_store().await;
    let names: Vec<String> = (0..20).map(|n| format!("vcsa-{n:02}")).collect();
    let all: Vec<ApplianceSettings> = names.iter().map(|n| settings(n)).collect();
    store.sync_appliances(&all).await.unwrap();

    let tasks = names.iter().map(|name| {
        let store = store.clone();
        let mut poll = ok_poll(
            "2026-12-01T03:00:00Z",
            vec![scheduled(
                "20261201-020000-1",
                JobState::Succeeded,
                "2026-12-01T02:00:00Z",
            )],
            &[],
            None,
        );
        poll.appliance = name.clone();
        tokio::spawn(async move { store.record_poll(&poll).await })
    });
    for task in futures::future::join_all(tasks).await {
        task.unwrap().unwrap();
    }

    let fleet = store.fleet_overview().await.unwrap();
    assert_eq!(fleet.len(), 20);
    assert!(fleet.iter().all(|o| o.last_good_job.is_some()));
}

#[tokio::test]
async fn old_polls_can_be_pruned() {
    let (_dir, _path, store) = fresh_store().await;
    store
        .record_poll(&failed_poll("2026-12-01T00:00:00Z"))
        .await
        .unwrap();
    store
        .record_poll(&failed_poll("2026-12-02T00:00:00Z"))
        .await
        .unwrap();
    let pruned = store
        .prune_polls(utc("2026-12-01T12:00:00Z"))
        .await
        .unwrap();
    assert_eq!(pruned, 1);
    assert_eq!(store.recent_polls(APPLIANCE, 10).await.unwrap().len(), 1);
    let overview = store.appliance_overview(APPLIANCE).await.unwrap().unwrap();
    assert_eq!(
        overview.last_poll.map(|p| p.at),
        Some(utc("2026-12-02T00:00:00Z"))
    );
}

/// Not a benchmark: prints how many bytes one stored job costs once history piles up.
#[tokio::test]
async fn bytes_per_stored_job() {
    const APPLIANCES: usize = 10;
    const JOBS_EACH: i64 = 2_000;
    let (_dir, path, store) = fresh_store().await;
    let names: Vec<String> = (0..APPLIANCES).map(|n| format!("vcsa-{n:02}")).collect();
    let all: Vec<ApplianceSettings> = names.iter().map(|n| settings(n)).collect();
    store.sync_appliances(&all).await.unwrap();

    let start = utc("2021-01-01T02:00:00Z");
    for name in &names {
        let jobs: Vec<Job> = (0..JOBS_EACH)
            .map(|day| {
                let at = start + Duration::days(day) + Duration::milliseconds(412);
                let id = at.format("%Y%m%d-%H%M%S-21477706").to_string();
                let state = if day % 10 == 0 {
                    JobState::Failed
                } else {
                    JobState::Succeeded
                };
                scheduled(&id, state, &at.to_rfc3339())
            })
            .collect();
        let newest: Vec<String> = jobs
            .iter()
            .rev()
            .take(50)
            .map(|j| j.id.to_string())
            .collect();
        let newest: Vec<&str> = newest.iter().map(String::as_str).collect();
        let mut first = ok_poll("2026-06-01T00:00:00Z", jobs, &[], Some(daily_at(2)));
        first.appliance = name.clone();
        store.record_poll(&first).await.unwrap();

        // The appliance keeps only its newest jobs; the rest is history.
        let mut later = ok_poll("2026-06-01T01:00:00Z", vec![], &newest, Some(daily_at(2)));
        later.appliance = name.clone();
        store.record_poll(&later).await.unwrap();
    }
    store.close().await;

    let url = format!("sqlite://{}", path.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("VACUUM").execute(&mut conn).await.unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let jobs = APPLIANCES as u64 * JOBS_EACH as u64;
    let bytes = std::fs::metadata(&path).unwrap().len();
    println!(
        "stored jobs: {jobs}, file: {bytes} bytes, {} bytes per job",
        bytes / jobs
    );
}

#[tokio::test]
async fn small_fleets_are_read_fresh_and_large_ones_are_shared_and_read_again_behind() {
    let (_dir, _path, store) = fresh_store().await;
    store.sync_appliances(&[settings("vc-01")]).await.unwrap();

    // A small fleet: every view reads and derives again, so a change shows at once.
    let mut made = 0;
    for _ in 0..2 {
        let snapshot = store.fleet_snapshot().await.unwrap();
        snapshot.derived("rows", || made += 1);
    }
    assert_eq!(made, 2);

    store
        .sync_appliances(&[settings("vc-01"), settings("vc-02")])
        .await
        .unwrap();
    assert_eq!(store.fleet_snapshot().await.unwrap().overviews.len(), 2);

    // A large fleet is shared; after a second it is still served while a background read
    // replaces it, and the next views get the new one.
    let many: Vec<ApplianceSettings> = (0..vbdash::store::SHARED_FROM_APPLIANCES)
        .map(|n| settings(&format!("vc-{n:04}")))
        .collect();
    store.sync_appliances(&many).await.unwrap();
    let first = store.fleet_snapshot().await.unwrap();
    assert_eq!(first.overviews.len(), many.len());
    assert!(std::sync::Arc::ptr_eq(
        &first,
        &store.fleet_snapshot().await.unwrap()
    ));

    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let stale = store.fleet_snapshot().await.unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&first, &stale),
        "a viewer waited for the read"
    );
    let mut replaced = false;
    for _ in 0..200 {
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        if !std::sync::Arc::ptr_eq(&first, &store.fleet_snapshot().await.unwrap()) {
            replaced = true;
            break;
        }
    }
    assert!(replaced, "the background read never replaced the overview");
}

/// A database made before the job texts were interned keeps every job fact through the
/// upgrade: locations come back byte for byte, with or without a folder.
#[tokio::test]
async fn jobs_stored_before_text_interning_read_back_unchanged() {
    const INTERNING: i64 = 20261224090000;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());

    let all = sqlx::migrate!();
    let older = sqlx::migrate::Migrator {
        migrations: all
            .migrations
            .iter()
            .filter(|m| m.version < INTERNING)
            .cloned()
            .collect::<Vec<_>>()
            .into(),
        ..sqlx::migrate!()
    };
    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    older.run(&mut conn).await.unwrap();
    sqlx::query("INSERT INTO appliances (id, name, url, grace_secs) VALUES (1, 'vc', 'x', 60)")
        .execute(&mut conn)
        .await
        .unwrap();
    let locations: [Option<&str>; 6] = [
        Some("nfs://nas-01.example.test/export/vcsa/20261201-020000"),
        Some("sftp://10.0.0.5:22/backups/"),
        Some("no-slash"),
        Some(""),
        Some("smb://host/share/ünïcode/名前"),
        None,
    ];
    for (n, location) in locations.iter().enumerate() {
        sqlx::query(
            "INSERT INTO jobs (appliance_id, job_id, job_type, state, start_ms, location, \
             user_name, version, build, first_seen_ms, last_seen_ms) \
             VALUES (1, ?1, 'scheduled', 'succeeded', ?2, ?3, ?4, '8.0.3.00400', '24322831', \
             1, 1)",
        )
        .bind(format!("job-{n}"))
        .bind(1_700_000_000_000_i64 + n as i64)
        .bind(*location)
        .bind((n % 2 == 0).then_some("VSPHERE.LOCAL\\backup-svc"))
        .execute(&mut conn)
        .await
        .unwrap();
    }
    conn.close().await.unwrap();

    let store = Store::open(&path.display().to_string()).await.unwrap();
    for (n, location) in locations.iter().enumerate() {
        let stored = store
            .get_job("vc", &id(&format!("job-{n}")))
            .await
            .unwrap()
            .unwrap()
            .job;
        assert_eq!(stored.location.as_deref(), *location, "job {n}");
        assert_eq!(
            stored.user.as_deref(),
            (n % 2 == 0).then_some("VSPHERE.LOCAL\\backup-svc")
        );
        assert_eq!(stored.version.as_deref(), Some("8.0.3.00400"));
        assert_eq!(stored.build.as_deref(), Some("24322831"));
    }
    store.close().await;
}
