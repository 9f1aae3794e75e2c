//! The poller and the store against the simulator over real HTTP, on a real SQLite file.

mod common;

use std::time::Duration;

use chrono::Utc;
use common::{SimServer, fresh_store};
use vbdash::domain::{JobState, PollOutcome, Status};
use vbdash::poller::{poll_all_once, poll_once};
use vbdash::simulator::{Fault, SimAppliance, SimSchedule};
use vbdash::store::JobPage;

const TIMEOUT: Duration = Duration::from_secs(5);

fn all_jobs() -> JobPage {
    JobPage {
        offset: 0,
        limit: 10_000,
    }
}

#[tokio::test]
async fn both_generations_store_their_history() {
    let sim = SimServer::start(vec![
        SimAppliance::new("vcsa-api", "8.0.3.00400").history_days(30),
        SimAppliance::new("vcsa-rest", "6.7.0.44000").history_days(30),
    ])
    .await;
    let (store, _dir) = fresh_store(&["vcsa-api", "vcsa-rest"]).await;

    for name in ["vcsa-api", "vcsa-rest"] {
        let client = sim.client(name, TIMEOUT);
        let report = poll_once(&client, &store).await;
        assert_eq!(
            report.outcome,
            PollOutcome::Ok,
            "{name}: {:?}",
            report.message
        );
        store.record_poll(&report).await.unwrap();

        let (jobs, total) = store.list_jobs(name, all_jobs()).await.unwrap();
        assert_eq!(total as usize, sim.simulator.job_count(name), "{name}");
        assert!(jobs.len() >= 30, "{name}: {} jobs", jobs.len());

        let overview = store.appliance_overview(name).await.unwrap().unwrap();
        assert!(overview.last_good_job.is_some(), "{name}");
        assert!(overview.schedule.is_some(), "{name}");
        assert_eq!(overview.verdict(Utc::now()).status, Status::Good, "{name}");
    }

    let api = store.appliance_overview("vcsa-api").await.unwrap().unwrap();
    let rest = store
        .appliance_overview("vcsa-rest")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(api.generation.map(|g| g.as_str()), Some("api"));
    assert_eq!(rest.generation.map(|g| g.as_str()), Some("rest"));
    assert_eq!(rest.version.unwrap().version, "6.7.0.44000");
}

#[tokio::test]
async fn repeated_polls_add_no_duplicates_and_log_in_once() {
    let sim = SimServer::start(vec![
        SimAppliance::new("vcsa-01", "8.0.3.00400").history_days(20),
    ])
    .await;
    let (store, _dir) = fresh_store(&["vcsa-01"]).await;
    let client = sim.client("vcsa-01", TIMEOUT);

    for _ in 0..3 {
        let report = poll_once(&client, &store).await;
        store.record_poll(&report).await.unwrap();
    }

    let (_, total) = store.list_jobs("vcsa-01", all_jobs()).await.unwrap();
    assert_eq!(total as usize, sim.simulator.job_count("vcsa-01"));
    assert_eq!(client.logins(), 1);
    assert_eq!(sim.simulator.login_count("vcsa-01"), 1);
    assert_eq!(store.recent_polls("vcsa-01", 10).await.unwrap().len(), 3);
}

#[tokio::test]
async fn history_is_kept_when_the_appliance_forgets_it() {
    let sim = SimServer::start(vec![
        SimAppliance::new("vcsa-01", "8.0.3.00400").history_days(30),
    ])
    .await;
    let (store, _dir) = fresh_store(&["vcsa-01"]).await;
    let client = sim.client("vcsa-01", TIMEOUT);

    store
        .record_poll(&poll_once(&client, &store).await)
        .await
        .unwrap();
    let (_, before) = store.list_jobs("vcsa-01", all_jobs()).await.unwrap();

    let forgotten = sim
        .simulator
        .forget_jobs_before("vcsa-01", Utc::now() - chrono::Duration::days(10));
    assert!(forgotten > 10);
    store
        .record_poll(&poll_once(&client, &store).await)
        .await
        .unwrap();

    let (jobs, after) = store.list_jobs("vcsa-01", all_jobs()).await.unwrap();
    assert_eq!(after, before, "no stored job may be lost");
    let gone = jobs.iter().filter(|j| j.gone_since.is_some()).count();
    assert_eq!(gone, forgotten);
}

#[tokio::test]
async fn a_running_job_is_updated_in_place_when_it_ends() {
    let sim = SimServer::start(vec![
        SimAppliance::new("vcsa-01", "8.0.3.00400")
            .history_days(5)
            .running_job(true)
            .job_minutes(60),
    ])
    .await;
    let (store, _dir) = fresh_store(&["vcsa-01"]).await;
    let client = sim.client("vcsa-01", TIMEOUT);

    store
        .record_poll(&poll_once(&client, &store).await)
        .await
        .unwrap();
    let overview = store.appliance_overview("vcsa-01").await.unwrap().unwrap();
    let running = overview.running_job.clone().expect("a running job");
    assert!(running.progress.is_some_and(|p| p < 100));
    assert_eq!(overview.verdict(Utc::now()).status, Status::Running);
    let (_, total_before) = store.list_jobs("vcsa-01", all_jobs()).await.unwrap();

    assert!(sim.simulator.finish_running_job("vcsa-01", true));
    store
        .record_poll(&poll_once(&client, &store).await)
        .await
        .unwrap();

    let job = store
        .get_job("vcsa-01", &running.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.job.state, JobState::Succeeded);
    let (_, total_after) = store.list_jobs("vcsa-01", all_jobs()).await.unwrap();
    assert_eq!(total_after, total_before);
    let overview = store.appliance_overview("vcsa-01").await.unwrap().unwrap();
    assert!(overview.running_job.is_none());
    assert_eq!(overview.last_good_job.unwrap().id, running.id);
}

#[tokio::test]
async fn an_expired_session_logs_in_once_more() {
    let sim = SimServer::start(vec![
        SimAppliance::new("vcsa-01", "7.0.3.01700").history_days(3),
    ])
    .await;
    let (store, _dir) = fresh_store(&["vcsa-01"]).await;
    let client = sim.client("vcsa-01", TIMEOUT);

    store
        .record_poll(&poll_once(&client, &store).await)
        .await
        .unwrap();
    assert!(sim.simulator.expire_sessions("vcsa-01"));
    let report = poll_once(&client, &store).await;

    assert_eq!(report.outcome, PollOutcome::Ok, "{:?}", report.message);
    assert_eq!(client.logins(), 2);
}

/// Each fault marks only its own appliance; the healthy one polls fine in the same round.
#[tokio::test]
async fn a_broken_appliance_is_marked_while_the_others_go_on() {
    let cases = [
        (Fault::Http500Html, PollOutcome::ApplianceError),
        (Fault::MalformedJson, PollOutcome::BadResponse),
        (Fault::Hang, PollOutcome::Timeout),
        (Fault::Forbidden403, PollOutcome::Permission),
    ];
    for (fault, expected) in cases {
        let sim = SimServer::start(vec![
            SimAppliance::new("healthy", "8.0.3.00400").history_days(5),
            SimAppliance::new("broken", "8.0.3.00400").history_days(5),
        ])
        .await;
        let (store, _dir) = fresh_store(&["healthy", "broken"]).await;
        let clients = vec![
            sim.client("healthy", Duration::from_secs(2)),
            sim.client("broken", Duration::from_secs(2)),
        ];

        poll_all_once(&store, &clients, 4).await;
        sim.simulator.set_fault("broken", fault.clone());
        poll_all_once(&store, &clients, 4).await;

        let broken = store.appliance_overview("broken").await.unwrap().unwrap();
        let poll = broken.last_poll.clone().unwrap();
        assert_eq!(poll.outcome, expected, "{fault:?}: {:?}", poll.message);
        let verdict = broken.verdict(Utc::now());
        assert_eq!(verdict.status, Status::Unreachable, "{fault:?}");
        assert!(
            broken.last_good_job.is_some(),
            "{fault:?}: earlier data stays visible"
        );

        let healthy = store.appliance_overview("healthy").await.unwrap().unwrap();
        assert_eq!(
            healthy.last_poll.unwrap().outcome,
            PollOutcome::Ok,
            "{fault:?}"
        );
        assert_eq!(store.recent_polls("healthy", 10).await.unwrap().len(), 2);
    }
}

#[tokio::test]
async fn an_unreachable_appliance_is_marked_with_its_cause() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let (store, _dir) = fresh_store(&["gone"]).await;
    let client = common::client_for("gone", &format!("http://{addr}/gone"), TIMEOUT);

    store
        .record_poll(&poll_once(&client, &store).await)
        .await
        .unwrap();

    let overview = store.appliance_overview("gone").await.unwrap().unwrap();
    assert_eq!(
        overview.last_poll.as_ref().unwrap().outcome,
        PollOutcome::Unreachable
    );
    assert_eq!(overview.verdict(Utc::now()).status, Status::Unreachable);
}

#[tokio::test]
async fn schedule_states_reach_the_status() {
    let sim = SimServer::start(vec![
        SimAppliance::new("none", "8.0.3.00400")
            .history_days(3)
            .schedule(None),
        SimAppliance::new("off", "8.0.3.00400")
            .history_days(3)
            .schedule(Some(SimSchedule {
                enable: false,
                ..SimSchedule::daily(2, 0)
            })),
    ])
    .await;
    let (store, _dir) = fresh_store(&["none", "off"]).await;
    let clients = vec![sim.client("none", TIMEOUT), sim.client("off", TIMEOUT)];

    poll_all_once(&store, &clients, 2).await;

    let none = store.appliance_overview("none").await.unwrap().unwrap();
    let off = store.appliance_overview("off").await.unwrap().unwrap();
    assert_eq!(none.verdict(Utc::now()).status, Status::Unscheduled);
    assert_eq!(off.verdict(Utc::now()).status, Status::Disabled);
}

/// Appliances cap sessions per user, so stopping the poller gives every session back.
#[tokio::test]
async fn stopping_the_poller_logs_out_of_every_appliance() {
    use vbdash::poller::{PollerSettings, run};

    let sim = SimServer::start(vec![
        SimAppliance::new("vcsa-api", "8.0.3.00400").history_days(2),
        SimAppliance::new("vcsa-rest", "6.7.0.44000").history_days(2),
    ])
    .await;
    let (store, _dir) = fresh_store(&["vcsa-api", "vcsa-rest"]).await;
    let clients = vec![
        sim.client("vcsa-api", TIMEOUT),
        sim.client("vcsa-rest", TIMEOUT),
    ];
    let settings = PollerSettings {
        interval: Duration::from_secs(3600),
        running_interval: Duration::from_secs(3600),
        max_backoff: Duration::from_secs(3600),
        concurrency: 2,
        initial_spread: Duration::ZERO,
    };
    let shutdown = tokio_util::sync::CancellationToken::new();
    let poller = tokio::spawn(run(store.clone(), clients, settings, shutdown.clone()));

    // Bounded wait for the first round to land.
    for _ in 0..100 {
        let polled = store.recent_polls("vcsa-api", 1).await.unwrap().len()
            + store.recent_polls("vcsa-rest", 1).await.unwrap().len();
        if polled == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sim.simulator.open_sessions("vcsa-api"), 1);
    assert_eq!(sim.simulator.open_sessions("vcsa-rest"), 1);

    shutdown.cancel();
    poller.await.unwrap();
    assert_eq!(sim.simulator.open_sessions("vcsa-api"), 0);
    assert_eq!(sim.simulator.open_sessions("vcsa-rest"), 0);
}
