//! Years of history written through the store, as the poller would have written it: one
//! recorded poll per appliance carrying its old jobs (multi-row inserts in one
//! transaction), then one that no longer lists them, so they are kept as gone history.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Duration, DurationRound, Utc};
use sqlx::Connection;
use vbdash::domain::{
    ApiGeneration, Job, JobId, JobState, JobType, Observation, PollOutcome, PollReport,
};
use vbdash::store::{ApplianceSettings, Store};

use super::fleet::{self, FleetShape};

/// How the seeding went.
#[derive(Debug, Clone, Copy)]
pub struct Seeded {
    pub jobs: u64,
    pub seconds: f64,
}

/// Size of the database file's used pages.
#[derive(Debug, Clone, Copy)]
pub struct FileSize {
    pub bytes: u64,
}

/// Writes `days` of nightly jobs for every appliance, older than the days the simulator
/// still lists, into a fresh database at `database`.
pub async fn seed(database: &Path, shape: FleetShape, days: u32) -> anyhow::Result<Seeded> {
    let clock = Instant::now();
    let store = Store::open(&database.display().to_string()).await?;
    let settings: Vec<ApplianceSettings> = (0..shape.appliances)
        .map(|index| ApplianceSettings {
            name: fleet::appliance_name(index),
            url: String::new(),
            tags: vec![fleet::appliance_tag(index).to_owned()],
            time_zone: chrono_tz::UTC,
            grace_secs: 2 * 3600,
        })
        .collect();
    store.sync_appliances(&settings).await?;

    let today = Utc::now()
        .duration_trunc(Duration::days(1))
        .context("finding today")?;
    // The simulator lists its newest days itself; the seeded history ends before them.
    let newest_day = today - Duration::days(i64::from(shape.listed_days) + 1);
    let oldest_day = today - Duration::days(i64::from(days));
    let mut jobs_written = 0u64;

    for index in 0..shape.appliances {
        let jobs = history_of(index, oldest_day, newest_day)?;
        jobs_written += jobs.len() as u64;
        let name = fleet::appliance_name(index);
        let seen_at = newest_day + Duration::hours(12);

        let mut with_jobs = report(&name, seen_at);
        if let Some(observation) = report_observation(&mut with_jobs) {
            observation.listed_job_ids = jobs.iter().map(|job| job.id.clone()).collect();
            observation.jobs = jobs;
        }
        store.record_poll(&with_jobs).await?;
        // The appliance has long forgotten these jobs: a later poll lists none of them.
        store
            .record_poll(&report(&name, seen_at + Duration::hours(1)))
            .await?;

        if (index + 1) % 500 == 0 {
            println!("  seeded {} appliances, {jobs_written} jobs", index + 1);
        }
    }
    store.close().await;

    Ok(Seeded {
        jobs: jobs_written,
        seconds: clock.elapsed().as_secs_f64(),
    })
}

/// Bytes of the pages the database uses, free pages left out, after a checkpoint that
/// folds the write-ahead log back into the file.
pub async fn used_bytes(database: &Path) -> anyhow::Result<FileSize> {
    let url = format!("sqlite://{}", database.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await?;
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(&mut conn)
        .await?;
    let free: i64 = sqlx::query_scalar("PRAGMA freelist_count")
        .fetch_one(&mut conn)
        .await?;
    let page_size: i64 = sqlx::query_scalar("PRAGMA page_size")
        .fetch_one(&mut conn)
        .await?;
    conn.close().await?;
    Ok(FileSize {
        bytes: u64::try_from((pages - free) * page_size).unwrap_or(0),
    })
}

fn report(name: &str, at: DateTime<Utc>) -> PollReport {
    PollReport {
        appliance: name.to_owned(),
        started_at: at,
        duration_ms: 120,
        outcome: PollOutcome::Ok,
        message: None,
        observation: Some(Observation {
            generation: ApiGeneration::Api,
            version: None,
            schedule: None,
            jobs: Vec::new(),
            listed_job_ids: Vec::new(),
        }),
    }
}

fn report_observation(report: &mut PollReport) -> Option<&mut Observation> {
    report.observation.as_mut()
}

/// One nightly job a day in `[oldest, newest]`, shaped like the simulator's: about half an
/// hour, a few GiB, failing on the appliances that fail nightly and now and then elsewhere.
fn history_of(
    index: usize,
    oldest: DateTime<Utc>,
    newest: DateTime<Utc>,
) -> anyhow::Result<Vec<Job>> {
    let (hour, minute) = fleet::schedule_of(index);
    let version = fleet::version_of(index);
    let build = format!("2{:07}", index % 9_000_000);
    let location = format!("nfs://nas-{:02}.example.test/export/vcsa", index % 7);
    let days = (newest - oldest).num_days().max(0);
    let mut jobs = Vec::with_capacity(usize::try_from(days + 1).unwrap_or(0));

    for day in 0..=days {
        let start = oldest
            + Duration::days(day)
            + Duration::hours(i64::from(hour))
            + Duration::minutes(i64::from(minute))
            + Duration::seconds((index % 50) as i64);
        let id = format!("{}-{build}", start.format("%Y%m%d-%H%M%S"));
        let id = JobId::parse(&id).context("making a job id")?;
        let wobble = ((index as i64).wrapping_mul(31) + day * 17) % 600;
        let failed = fleet::fails_nightly(index) || (index as i64 + day) % 97 == 0;
        let state = if failed {
            JobState::Failed
        } else {
            JobState::Succeeded
        };

        let mut job = Job::new(id, JobType::Scheduled, state);
        let duration = 1_500 + wobble;
        job.progress = Some(if failed { 40 } else { 100 });
        job.start_time = Some(start);
        job.end_time = Some(start + Duration::seconds(duration));
        job.duration_secs = Some(duration);
        job.size_bytes = Some(3_000_000_000 + wobble * 1_000_000);
        job.location = Some(format!("{location}/{}", start.format("%Y%m%d-%H%M%S")));
        job.user = Some("VSPHERE.LOCAL\\backup-svc".to_owned());
        if failed {
            job.messages = vec!["Backup failed: the backup server refused the connection".into()];
        }
        job.version = Some(version.to_owned());
        job.build = Some(build.clone());
        job.cancelable = Some(false);
        jobs.push(job);
    }
    Ok(jobs)
}
