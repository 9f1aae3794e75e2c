//! The pages end to end: a real SQLite file seeded through `record_poll`, the router called
//! in process, the HTML read with CSS selectors.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use scraper::{ElementRef, Html, Selector};
use tower::ServiceExt;

use vbdash::domain::calendar::{self, Recurrence};
use vbdash::domain::{
    ApiGeneration, Job, JobId, JobState, JobType, Observation, PollOutcome, PollReport, Schedule,
    VersionInfo,
};
use vbdash::store::{ApplianceSettings, Store};
use vbdash::web::auth::Auth;
use vbdash::web::{self, AppState, WebSettings};

/// Jobs seeded on the healthy appliance: more than one page of them.
const GOOD_JOBS: i64 = 30;

struct Fixture {
    router: Router,
    _dir: tempfile::TempDir,
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

impl Answer {
    fn html(&self) -> Html {
        Html::parse_document(&self.body)
    }
}

fn select<'a>(doc: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    let selector = Selector::parse(css).expect("test selectors are valid");
    doc.select(&selector).collect()
}

fn text(element: &ElementRef<'_>) -> String {
    element.text().collect::<Vec<_>>().join(" ")
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

fn version() -> VersionInfo {
    VersionInfo {
        version: "8.0.3.00400".into(),
        build: "24322831".into(),
        product: Some("VMware vCenter Server".into()),
    }
}

/// A daily schedule at a wall-clock hour `hours_ago` hours before `now`.
fn daily(now: DateTime<Utc>, hours_ago: i64, enabled: bool) -> Schedule {
    let at = now - Duration::hours(hours_ago);
    let time = at.format("%H").to_string().parse().unwrap_or(2);
    Schedule {
        id: "default".into(),
        enabled,
        days: vec![],
        time: Some((time, 0)),
        retention: Some(7),
        location: "nfs://nas-01.example.test:/backups/vcsa".into(),
        location_user: None,
        parts: vec!["seat".into()],
    }
}

fn job(id: &str, kind: JobType, state: JobState, start: DateTime<Utc>) -> Job {
    let mut job = Job::new(JobId::parse(id).expect("seed ids are valid"), kind, state);
    job.start_time = Some(start);
    job
}

fn finished(id: String, state: JobState, start: DateTime<Utc>, messages: &[&str]) -> Job {
    let mut job = job(&id, JobType::Scheduled, state, start);
    job.end_time = Some(start + Duration::seconds(21 * 60 + 47));
    job.duration_secs = Some(21 * 60 + 47);
    job.size_bytes = Some(45 * 1024 * 1024 * 1024);
    job.progress = Some(100);
    job.location = Some("nfs://nas-01.example.test:/backups/vcsa/run".into());
    job.messages = messages.iter().map(|m| m.to_string()).collect();
    job
}

fn job_id(start: DateTime<Utc>) -> String {
    format!("{}-24322831", start.format("%Y%m%d-%H%M%S"))
}

fn ok_poll(
    name: &str,
    at: DateTime<Utc>,
    schedule: Option<Schedule>,
    jobs: Vec<Job>,
) -> PollReport {
    let listed_job_ids = jobs.iter().map(|j| j.id.clone()).collect();
    PollReport {
        appliance: name.to_owned(),
        started_at: at,
        duration_ms: 120,
        outcome: PollOutcome::Ok,
        message: None,
        observation: Some(Observation {
            generation: ApiGeneration::Api,
            version: Some(version()),
            schedule,
            jobs,
            listed_job_ids,
        }),
    }
}

/// Start of the run that satisfied the schedule's last due time.
fn on_time_start(schedule: &Schedule, now: DateTime<Utc>) -> DateTime<Utc> {
    let (hour, minute) = schedule.time.unwrap_or((2, 0));
    let rec = Recurrence {
        days: &schedule.days,
        hour,
        minute,
    };
    calendar::last_due(rec, Tz::UTC, now).unwrap_or(now) + Duration::seconds(30)
}

fn reports(now: DateTime<Utc>) -> Vec<PollReport> {
    let earlier = now - Duration::minutes(10);
    let mut reports = Vec::new();

    // Healthy: ran on time, with a history longer than one page.
    let schedule = daily(now, 3, true);
    let last = on_time_start(&schedule, now);
    let good_jobs: Vec<Job> = (0..GOOD_JOBS)
        .map(|back| {
            let start = last - Duration::days(back);
            finished(
                job_id(start),
                JobState::Succeeded,
                start,
                &["Backup completed."],
            )
        })
        .collect();
    reports.push(ok_poll("vc-good", earlier, Some(schedule), good_jobs));

    // Failed: the last run failed, with markup in its messages.
    let schedule = daily(now, 3, true);
    let start = on_time_start(&schedule, now);
    let failed = finished(
        job_id(start),
        JobState::Failed,
        start,
        &[
            "<script>alert('owned')</script> could not write to the location",
            "second message: retry later",
            "third message: giving up",
        ],
    );
    reports.push(ok_poll("vc-failed", earlier, Some(schedule), vec![failed]));

    // Unreachable: a good poll, then a timeout.
    reports.push(ok_poll("vc-down", now - Duration::hours(3), None, vec![]));
    reports.push(PollReport {
        appliance: "vc-down".into(),
        started_at: earlier,
        duration_ms: 20_000,
        outcome: PollOutcome::Timeout,
        message: Some("no answer within 20 s".into()),
        observation: None,
    });

    reports.push(ok_poll(
        "vc-off",
        earlier,
        Some(daily(now, 3, false)),
        vec![],
    ));
    reports.push(ok_poll("vc-bare", earlier, None, vec![]));

    let start = now - Duration::minutes(7);
    let mut running = job(&job_id(start), JobType::Manual, JobState::Running, start);
    running.progress = Some(40);
    reports.push(ok_poll("vc-run", earlier, None, vec![running]));

    reports
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("a temp dir");
    let path = dir.path().join("vbdash.db");
    let store = Store::open(path.to_str().expect("utf-8 temp path"))
        .await
        .expect("store opens");

    let fleet = [
        settings("vc-good", &["prod", "ams"]),
        settings("vc-failed", &["prod"]),
        settings("vc-down", &["lab"]),
        settings("vc-off", &["lab"]),
        settings("vc-bare", &[]),
        settings("vc-run", &["prod"]),
    ];
    store
        .sync_appliances(&fleet)
        .await
        .expect("appliances sync");
    for report in reports(Utc::now()) {
        store.record_poll(&report).await.expect("poll recorded");
    }

    let state = AppState {
        store,
        settings: WebSettings::default(),
        auth: Auth::none(),
        actions: vbdash::web::actions::Actions::none(),
    };
    Fixture {
        router: web::router(state),
        _dir: dir,
    }
}

impl Fixture {
    async fn get(&self, uri: &str) -> Answer {
        self.request(Request::get(uri).body(Body::empty()).expect("request"))
            .await
    }

    async fn get_htmx(&self, uri: &str, trigger: Option<&str>) -> Answer {
        let mut request = Request::get(uri).header("HX-Request", "true");
        if let Some(id) = trigger {
            request = request.header("HX-Trigger", id);
        }
        self.request(request.body(Body::empty()).expect("request"))
            .await
    }

    async fn request(&self, request: Request<Body>) -> Answer {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 16 * 1024 * 1024)
            .await
            .expect("body");
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }
}

fn row_names(doc: &Html) -> Vec<String> {
    select(doc, "#fleet-rows tr.row a.name")
        .iter()
        .map(text)
        .collect()
}

#[tokio::test]
async fn fleet_rows_are_worst_first_with_every_status_word() {
    let f = fixture().await;
    let answer = f.get("/").await;
    assert_eq!(answer.status, StatusCode::OK);
    let doc = answer.html();

    assert_eq!(
        row_names(&doc),
        [
            "vc-down",
            "vc-failed",
            "vc-run",
            "vc-off",
            "vc-bare",
            "vc-good"
        ]
    );
    let badges: Vec<String> = select(&doc, "#fleet-rows .c-status .badge")
        .iter()
        .map(text)
        .collect();
    assert_eq!(
        badges,
        [
            "unreachable",
            "failed",
            "running",
            "disabled",
            "unscheduled",
            "good"
        ]
    );

    let page = text(&doc.root_element());
    assert!(page.contains("daily"), "schedule in words");
    assert!(page.contains("keep 7"));
    assert!(page.contains("no schedule"));
    assert!(page.contains("45.0 GiB"));
    assert!(page.contains("21 min 47 s"));
    assert!(page.contains("nas-01.example.test"));
    assert!(page.contains("8.0.3.00400"));
    assert!(page.contains("no answer within 20 s"), "unreachable cause");
    assert!(page.contains("data from 3 h ago"));

    let progress = select(&doc, "#fleet-rows progress");
    assert_eq!(progress.len(), 1);
    assert_eq!(progress[0].attr("value"), Some("40"));

    let counts: Vec<String> = select(&doc, "#status-counts a.count")
        .iter()
        .map(text)
        .collect();
    assert!(counts.iter().any(|c| c.contains('6') && c.contains("all")));
}

#[tokio::test]
async fn fleet_filters_by_status_tag_and_text() {
    let f = fixture().await;

    let doc = f.get("/?status=failed").await.html();
    assert_eq!(row_names(&doc), ["vc-failed"]);
    let selected = select(&doc, "select[name=status] option[selected]");
    assert_eq!(selected[0].attr("value"), Some("failed"));

    let doc = f.get("/?tag=lab").await.html();
    assert_eq!(row_names(&doc), ["vc-down", "vc-off"]);

    let doc = f.get("/?q=GOOD").await.html();
    assert_eq!(row_names(&doc), ["vc-good"]);

    let doc = f.get("/?status=&tag=&q=").await.html();
    assert_eq!(row_names(&doc).len(), 6);
}

#[tokio::test]
async fn rows_fragment_alone_for_htmx_and_url_pushed_on_filter_change() {
    let f = fixture().await;

    let refresh = f.get_htmx("/fleet/rows?tag=prod", None).await;
    assert_eq!(refresh.status, StatusCode::OK);
    assert!(refresh.body.trim_start().starts_with("<tbody"));
    assert!(!refresh.body.contains("<html"));
    assert!(refresh.headers.get("hx-push-url").is_none());
    let doc = Html::parse_fragment(&format!("<table>{}</table>", refresh.body));
    assert_eq!(
        select(&doc, "tr.row a.name")
            .iter()
            .map(text)
            .collect::<Vec<_>>(),
        ["vc-failed", "vc-run", "vc-good"]
    );

    let change = f
        .get_htmx("/fleet/rows?status=good&tag=prod&q=", Some("fleet-filter"))
        .await;
    assert_eq!(
        change
            .headers
            .get("hx-push-url")
            .and_then(|v| v.to_str().ok()),
        Some("/?status=good&tag=prod")
    );
}

#[tokio::test]
async fn appliance_page_shows_schedule_words_and_poll_error() {
    let f = fixture().await;

    let good = f.get("/appliances/vc-good").await;
    assert_eq!(good.status, StatusCode::OK);
    let page = text(&good.html().root_element());
    assert!(page.contains("keep 7"));
    assert!(page.contains("daily"));
    assert!(page.contains("nfs://nas-01.example.test:/backups/vcsa"));

    let down = f.get("/appliances/vc-down").await;
    let page = text(&down.html().root_element());
    assert!(page.contains("timed out: no answer within 20 s"), "{page}");
    assert!(page.contains("No backup schedule is configured"));
}

#[tokio::test]
async fn jobs_are_newest_first_and_paged() {
    let f = fixture().await;

    let doc = f.get("/appliances/vc-good").await.html();
    let starts: Vec<String> = select(&doc, "#jobs tbody time")
        .iter()
        .filter_map(|t| t.attr("datetime").map(str::to_owned))
        .collect();
    assert_eq!(starts.len(), 25);
    let mut sorted = starts.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(starts, sorted, "newest first");

    let second = f.get_htmx("/appliances/vc-good/jobs?page=2", None).await;
    assert_eq!(second.status, StatusCode::OK);
    assert!(second.body.trim_start().starts_with("<section id=\"jobs\""));
    let doc = Html::parse_fragment(&second.body);
    assert_eq!(
        select(&doc, "#jobs tbody tr").len(),
        (GOOD_JOBS - 25) as usize
    );

    let full = f.get("/appliances/vc-good/jobs?page=2").await;
    assert!(full.body.contains("<html"));
}

#[tokio::test]
async fn job_page_shows_every_message_as_text() {
    let f = fixture().await;
    let doc = f.get("/appliances/vc-failed").await.html();
    let href = select(&doc, "#jobs tbody a")
        .first()
        .and_then(|a| a.attr("href"))
        .expect("a job link")
        .to_owned();

    let answer = f.get(&href).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(!answer.body.contains("<script>alert"));
    let doc = answer.html();
    let messages: Vec<String> = select(&doc, "#messages li").iter().map(text).collect();
    assert_eq!(
        messages,
        [
            "<script>alert('owned')</script> could not write to the location",
            "second message: retry later",
            "third message: giving up",
        ]
    );
    assert!(
        select(&doc, "script")
            .iter()
            .all(|s| s.attr("src").is_some())
    );
}

#[tokio::test]
async fn unknown_appliance_and_job_are_404_in_words() {
    let f = fixture().await;

    let answer = f.get("/appliances/no-such-vc").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(answer.body.contains("No appliance named"));

    let answer = f.get("/appliances/vc-good/jobs/20000101-000000-1").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert!(answer.body.contains("has no job"));

    let answer = f.get("/appliances/no-such-vc/jobs").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);

    let answer = f.get("/nowhere").await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn malformed_job_id_is_a_bad_request_with_the_reason() {
    let f = fixture().await;
    let answer = f.get("/appliances/vc-good/jobs/%3Cscript%3E").await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(answer.body.contains("is not a job id"));
    assert!(!answer.body.contains("<script>"));

    let htmx = f.get_htmx("/appliances/vc-good/jobs/a%20b", None).await;
    assert_eq!(htmx.status, StatusCode::BAD_REQUEST);
    assert!(htmx.body.contains("alert"));
    assert!(!htmx.body.contains("<html"));
}

#[tokio::test]
async fn static_assets_have_etags_and_answer_304() {
    let f = fixture().await;
    let doc = f.get("/").await.html();
    let css = select(&doc, "link[rel=stylesheet]")[0]
        .attr("href")
        .expect("stylesheet href")
        .to_owned();

    let first = f.get(&css).await;
    assert_eq!(first.status, StatusCode::OK);
    let etag = first.headers.get(header::ETAG).expect("an etag").clone();
    let cache = first
        .headers
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok());
    assert!(cache.is_some_and(|c| c.contains("max-age=31536000")));
    assert!(
        first.headers[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|t| t.starts_with("text/css"))
    );

    let again = Request::get(&css)
        .header(header::IF_NONE_MATCH, etag)
        .body(Body::empty())
        .expect("request");
    let second = f.request(again).await;
    assert_eq!(second.status, StatusCode::NOT_MODIFIED);
    assert!(second.body.is_empty());

    assert_eq!(f.get("/static/js/htmx.min.js").await.status, StatusCode::OK);
    assert_eq!(
        f.get("/static/../Cargo.toml").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(f.get("/healthz").await.body, "ok");
}

#[tokio::test]
async fn a_running_job_page_refreshes_itself_and_a_finished_one_does_not() {
    let f = fixture().await;
    let first_job = |doc: &Html| {
        select(doc, "#jobs tbody a")
            .first()
            .and_then(|a| a.attr("href"))
            .expect("a job link")
            .to_owned()
    };

    let running = first_job(&f.get("/appliances/vc-run").await.html());
    let doc = f.get(&running).await.html();
    let live = select(&doc, "#job-live");
    assert_eq!(live[0].attr("hx-get"), Some(running.as_str()));
    assert!(
        live[0]
            .attr("hx-trigger")
            .is_some_and(|t| t.starts_with("every "))
    );

    let finished = first_job(&f.get("/appliances/vc-failed").await.html());
    let doc = f.get(&finished).await.html();
    assert!(select(&doc, "#job-live")[0].attr("hx-trigger").is_none());
}

#[tokio::test]
async fn a_page_past_the_end_shows_the_last_page() {
    let f = fixture().await;

    let answer = f.get("/appliances/vc-good/jobs?page=999").await;

    assert_eq!(answer.status, StatusCode::OK);
    assert!(
        !answer.body.contains("999"),
        "the pager still speaks of page 999"
    );
    let doc = answer.html();
    assert!(
        !select(&doc, "#jobs tbody a").is_empty(),
        "the last page has jobs"
    );
}

/// Without sign-in there is no user to name: every page's header says that sign-in is off
/// instead of making up a name.
#[tokio::test]
async fn without_sign_in_every_header_says_so_and_names_nobody() {
    let f = fixture().await;

    for uri in [
        "/",
        "/appliances/vc-good",
        "/trends",
        "/audit",
        "/notifications",
    ] {
        let answer = f.get(uri).await;
        assert_eq!(answer.status, StatusCode::OK, "{uri}");
        let doc = answer.html();
        let header: Vec<String> = select(&doc, ".topbar .whoami")
            .iter()
            .map(|e| text(e).split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        assert_eq!(header, ["sign-in off"], "{uri}");
        assert!(select(&doc, ".whoami-name").is_empty(), "{uri}");
    }
}
