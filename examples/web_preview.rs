//! Serves the pages over a temporary database seeded with a varied fleet, to look at them
//! in a browser: `cargo run --example web_preview`, then open the printed address.
//!
//! The fleet mixes versions, sites and troubles: failed and missed runs, an unreachable
//! appliance, a running job, disabled and missing schedules, and weeks of history.

use chrono::{DateTime, Duration, Utc, Weekday};
use chrono_tz::Tz;

use vbdash::domain::calendar::{self, Recurrence};
use vbdash::domain::{
    ApiGeneration, Job, JobId, JobState, JobType, Observation, PollOutcome, PollReport, Schedule,
    VersionInfo,
};
use vbdash::store::{ApplianceSettings, Store};
use vbdash::web::{self, AppState, WebSettings};

/// One appliance of the preview fleet and how it behaves.
struct Sample {
    name: &'static str,
    tags: &'static [&'static str],
    zone: Tz,
    version: &'static str,
    build: &'static str,
    plan: Plan,
}

enum Plan {
    Good {
        days: &'static [Weekday],
        hour: u32,
        history: i64,
    },
    Failed,
    Missed,
    Unreachable,
    Running,
    Disabled,
    Unscheduled,
}

const FLEET: &[Sample] = &[
    Sample {
        name: "vcsa-ams-01",
        tags: &["prod", "amsterdam"],
        zone: Tz::Europe__Amsterdam,
        version: "8.0.3.00400",
        build: "24322831",
        plan: Plan::Good {
            days: &[],
            hour: 2,
            history: 40,
        },
    },
    Sample {
        name: "vcsa-ams-02",
        tags: &["prod", "amsterdam"],
        zone: Tz::Europe__Amsterdam,
        version: "8.0.3.00400",
        build: "24322831",
        plan: Plan::Failed,
    },
    Sample {
        name: "vcsa-fra-01",
        tags: &["prod", "frankfurt"],
        zone: Tz::Europe__Berlin,
        version: "8.0.2.00300",
        build: "23929136",
        plan: Plan::Running,
    },
    Sample {
        name: "vcsa-nyc-01",
        tags: &["prod", "new-york"],
        zone: Tz::America__New_York,
        version: "7.0.3.01900",
        build: "23788036",
        plan: Plan::Good {
            days: &[Weekday::Mon, Weekday::Wed, Weekday::Fri],
            hour: 23,
            history: 20,
        },
    },
    Sample {
        name: "vcsa-nyc-02",
        tags: &["prod", "new-york"],
        zone: Tz::America__New_York,
        version: "7.0.3.01900",
        build: "23788036",
        plan: Plan::Missed,
    },
    Sample {
        name: "vcsa-lab-01",
        tags: &["lab"],
        zone: Tz::UTC,
        version: "6.7.0.54000",
        build: "20540798",
        plan: Plan::Unreachable,
    },
    Sample {
        name: "vcsa-lab-02",
        tags: &["lab"],
        zone: Tz::UTC,
        version: "9.0.0.0",
        build: "24755230",
        plan: Plan::Disabled,
    },
    Sample {
        name: "vcsa-sgp-01",
        tags: &["prod", "singapore"],
        zone: Tz::Asia__Singapore,
        version: "8.0.3.00400",
        build: "24322831",
        plan: Plan::Good {
            days: &[],
            hour: 1,
            history: 14,
        },
    },
    Sample {
        name: "vcsa-dev-01",
        tags: &["dev"],
        zone: Tz::UTC,
        version: "8.0.1.00000",
        build: "21560480",
        plan: Plan::Unscheduled,
    },
    Sample {
        name: "vcsa-tok-01",
        tags: &["prod", "tokyo"],
        zone: Tz::Asia__Tokyo,
        version: "8.0.3.00400",
        build: "24322831",
        plan: Plan::Good {
            days: &[Weekday::Sat],
            hour: 3,
            history: 8,
        },
    },
];

const GIB: i64 = 1024 * 1024 * 1024;

fn job_id(start: DateTime<Utc>, build: &str) -> JobId {
    let raw = format!("{}-{build}", start.format("%Y%m%d-%H%M%S"));
    JobId::parse(&raw).unwrap_or_else(|| JobId::parse("unknown").expect("a valid id"))
}

fn finished(s: &Sample, start: DateTime<Utc>, state: JobState, seed: i64) -> Job {
    let secs = 900 + (seed * 137) % 1_500;
    let mut job = Job::new(job_id(start, s.build), JobType::Scheduled, state.clone());
    job.start_time = Some(start);
    job.end_time = Some(start + Duration::seconds(secs));
    job.duration_secs = Some(secs);
    job.size_bytes = Some(38 * GIB + (seed * 997_331_117) % (9 * GIB));
    job.progress = Some(100);
    job.location = Some(format!(
        "sftp://backup-01.example.test:22/vcsa/{}/{}",
        s.name,
        start.format("%Y%m%d")
    ));
    job.user = Some("backup-svc@vsphere.local".into());
    job.version = Some(s.version.into());
    job.build = Some(s.build.into());
    job.messages = match state {
        JobState::Failed => vec![
            "Backup failed: the location ran out of space (wrote 31.2 GiB of 44.0 GiB)".into(),
            "Check the free space on backup-01.example.test and retry.".into(),
        ],
        _ => vec!["Backup job completed.".into()],
    };
    job
}

fn schedule(s: &Sample, days: &[Weekday], hour: u32, enabled: bool) -> Schedule {
    Schedule {
        id: "default".into(),
        enabled,
        days: days.to_vec(),
        time: Some((hour, 0)),
        retention: Some(if days.is_empty() { 7 } else { 4 }),
        location: format!("sftp://backup-01.example.test:22/vcsa/{}", s.name),
        location_user: Some("vcsa-backup".into()),
        parts: vec!["seat".into()],
    }
}

fn due_times(s: &Sample, sched: &Schedule, now: DateTime<Utc>, count: i64) -> Vec<DateTime<Utc>> {
    let (hour, minute) = sched.time.unwrap_or((2, 0));
    let rec = Recurrence {
        days: &sched.days,
        hour,
        minute,
    };
    let mut out = Vec::new();
    let mut at = now;
    for _ in 0..count {
        match calendar::last_due(rec, s.zone, at) {
            Some(due) => {
                out.push(due);
                at = due - Duration::seconds(1);
            }
            None => break,
        }
    }
    out
}

fn report(s: &Sample, at: DateTime<Utc>, sched: Option<Schedule>, jobs: Vec<Job>) -> PollReport {
    PollReport {
        appliance: s.name.into(),
        started_at: at,
        duration_ms: 180,
        outcome: PollOutcome::Ok,
        message: None,
        observation: Some(Observation {
            generation: if s.version.starts_with("6.") {
                ApiGeneration::Rest
            } else {
                ApiGeneration::Api
            },
            version: Some(VersionInfo {
                version: s.version.into(),
                build: s.build.into(),
                product: Some("VMware vCenter Server".into()),
            }),
            schedule: sched,
            listed_job_ids: jobs.iter().map(|j| j.id.clone()).collect(),
            jobs,
        }),
    }
}

fn reports(s: &Sample, now: DateTime<Utc>) -> Vec<PollReport> {
    let earlier = now - Duration::minutes(2);
    let daily = |hour| schedule(s, &[], hour, true);
    match &s.plan {
        Plan::Good {
            days,
            hour,
            history,
        } => {
            let sched = schedule(s, days, *hour, true);
            let jobs = due_times(s, &sched, now, *history)
                .into_iter()
                .enumerate()
                .map(|(i, due)| {
                    finished(
                        s,
                        due + Duration::seconds(20),
                        JobState::Succeeded,
                        i as i64,
                    )
                })
                .collect();
            vec![report(s, earlier, Some(sched), jobs)]
        }
        Plan::Failed => {
            let sched = daily(2);
            let mut jobs: Vec<Job> = due_times(s, &sched, now, 6)
                .into_iter()
                .enumerate()
                .map(|(i, due)| {
                    finished(
                        s,
                        due + Duration::seconds(15),
                        JobState::Succeeded,
                        i as i64,
                    )
                })
                .collect();
            if let Some(first) = jobs.first_mut() {
                *first = finished(s, first.start_time.unwrap_or(now), JobState::Failed, 3);
            }
            vec![report(s, earlier, Some(sched), jobs)]
        }
        Plan::Missed => {
            let sched = daily(0);
            let jobs = due_times(s, &sched, now, 4)
                .into_iter()
                .skip(2)
                .enumerate()
                .map(|(i, due)| finished(s, due, JobState::Succeeded, i as i64))
                .collect();
            vec![report(s, earlier, Some(sched), jobs)]
        }
        Plan::Unreachable => {
            let sched = daily(4);
            let jobs = due_times(s, &sched, now - Duration::hours(26), 3)
                .into_iter()
                .enumerate()
                .map(|(i, due)| finished(s, due, JobState::Succeeded, i as i64))
                .collect();
            let mut failed = report(s, earlier, None, vec![]);
            failed.outcome = PollOutcome::Tls;
            failed.message = Some(
                "certificate for vcsa-lab-01.example.test expired on \
                2026-11-30"
                    .into(),
            );
            failed.observation = None;
            vec![
                report(s, now - Duration::hours(26), Some(sched), jobs),
                failed,
            ]
        }
        Plan::Running => {
            let sched = daily(2);
            let mut jobs: Vec<Job> = due_times(s, &sched, now, 5)
                .into_iter()
                .enumerate()
                .map(|(i, due)| finished(s, due, JobState::Succeeded, i as i64))
                .collect();
            let start = now - Duration::minutes(12);
            let mut running = Job::new(job_id(start, s.build), JobType::Manual, JobState::Running);
            running.start_time = Some(start);
            running.progress = Some(64);
            running.progress_message = Some("Backing up the inventory database".into());
            running.user = Some("alice@vsphere.local".into());
            jobs.push(running);
            vec![report(s, earlier, Some(sched), jobs)]
        }
        Plan::Disabled => vec![report(
            s,
            earlier,
            Some(schedule(s, &[Weekday::Sun], 5, false)),
            vec![],
        )],
        Plan::Unscheduled => vec![report(s, earlier, None, vec![])],
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).init();

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("preview.db");
    let store = Store::open(&path.to_string_lossy()).await?;

    let settings: Vec<ApplianceSettings> = FLEET
        .iter()
        .map(|s| ApplianceSettings {
            name: s.name.into(),
            url: format!("https://{}.example.test", s.name),
            tags: s.tags.iter().map(|t| t.to_string()).collect(),
            time_zone: s.zone,
            grace_secs: 2 * 3_600,
        })
        .collect();
    store.sync_appliances(&settings).await?;
    let now = Utc::now();
    for sample in FLEET {
        for r in reports(sample, now) {
            store.record_poll(&r).await?;
        }
    }

    let state = AppState {
        store,
        settings: WebSettings::default(),
        // Sign-in is off: the preview listens on 127.0.0.1 only.
        auth: vbdash::web::auth::Auth::none(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("http://{}/", listener.local_addr()?);
    axum::serve(listener, web::router(state)).await?;
    Ok(())
}
