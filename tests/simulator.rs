//! The simulator over real HTTP: exact paths, status codes, envelopes, maps, omitted
//! fields, sessions, schedules, seeded histories and faults, for both API generations.

use std::time::Duration;

use chrono::{Timelike, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use vbdash::simulator::{Fault, Profile, SimAppliance, SimConfig, SimSchedule, SimTls, Simulator};

const USER: &str = "administrator@vsphere.local";
const PASSWORD: &str = "Example-Passw0rd!";
const BACKUP: &str = "appliance/recovery/backup";

/// A simulator on 127.0.0.1:0 and a client for it.
struct Harness {
    sim: Simulator,
    base: String,
    client: reqwest::Client,
    _server: tokio::task::JoinHandle<()>,
}

/// A reply: status, headers and the body text.
struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }
}

impl Harness {
    async fn start(appliances: Vec<SimAppliance>) -> Harness {
        let sim = Simulator::new(SimConfig {
            appliances,
            ..SimConfig::default()
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn({
            let sim = sim.clone();
            async move {
                let _ = sim.serve(listener).await;
            }
        });
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        Harness {
            sim,
            base,
            client,
            _server: server,
        }
    }

    fn url(&self, appliance: &str, path: &str) -> String {
        format!("{}/{appliance}/{path}", self.base)
    }

    async fn call(
        &self,
        method: Method,
        appliance: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self.client.request(method, self.url(appliance, path));
        if let Some(token) = token {
            request = request.header("vmware-api-session-id", token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            text: response.text().await.unwrap(),
        }
    }

    async fn get(&self, appliance: &str, path: &str, token: &str) -> Reply {
        self.call(Method::GET, appliance, path, Some(token), None)
            .await
    }

    async fn post(&self, appliance: &str, path: &str, token: &str, body: Value) -> Reply {
        self.call(Method::POST, appliance, path, Some(token), Some(body))
            .await
    }

    async fn login_as(&self, appliance: &str, path: &str, user: &str) -> Reply {
        let response = self
            .client
            .post(self.url(appliance, path))
            .basic_auth(user, Some(PASSWORD))
            .header("vmware-use-header-authn", "true")
            .send()
            .await
            .unwrap();
        Reply {
            status: response.status(),
            headers: response.headers().clone(),
            text: response.text().await.unwrap(),
        }
    }

    async fn api_token(&self, appliance: &str) -> String {
        let reply = self.login_as(appliance, "api/session", USER).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);
        reply.json().as_str().unwrap().to_owned()
    }

    async fn rest_token(&self, appliance: &str) -> String {
        let reply = self
            .login_as(appliance, "rest/com/vmware/cis/session", USER)
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        reply.json()["value"].as_str().unwrap().to_owned()
    }
}

fn appliance(name: &str, version: &str) -> SimAppliance {
    SimAppliance::new(name, version).history_days(10).seed(1)
}

/// `YYYY-MM-DDThh:mm:ss.sssZ` exactly.
fn is_wire_time(value: &Value) -> bool {
    let Some(text) = value.as_str() else {
        return false;
    };
    text.len() == 24
        && text.ends_with('Z')
        && chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.3fZ").is_ok()
}

fn is_token(text: &str) -> bool {
    text.len() == 32
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// The entries of a `/rest` key/value list as (key, value) pairs.
fn key_values(list: &Value) -> Vec<(String, Value)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            let object = entry.as_object().unwrap();
            assert_eq!(object.len(), 2, "{entry}");
            (
                entry["key"].as_str().unwrap().to_owned(),
                entry["value"].clone(),
            )
        })
        .collect()
}

#[tokio::test]
async fn api_login_is_201_with_a_bare_token() {
    let h = Harness::start(vec![appliance("a", "8.0.3.00400")]).await;

    let reply = h.login_as("a", "api/session", USER).await;

    assert_eq!(reply.status, StatusCode::CREATED);
    assert!(reply.text.starts_with('"') && !reply.text.contains(' '));
    assert!(is_token(reply.json().as_str().unwrap()));
    assert_eq!(h.sim.login_count("a"), 1);
    assert_eq!(h.sim.open_sessions("a"), 1);
}

#[tokio::test]
async fn rest_login_wraps_the_token_and_sets_a_cookie_unless_asked_not_to() {
    let h = Harness::start(vec![appliance("a", "7.0.3.01700")]).await;

    let with_cookie = h
        .client
        .post(h.url("a", "rest/com/vmware/cis/session"))
        .basic_auth(USER, Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(with_cookie.status(), StatusCode::OK);
    let cookie = with_cookie.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = with_cookie.json().await.unwrap();
    let token = body["value"].as_str().unwrap();
    assert!(is_token(token));
    assert!(
        cookie.starts_with(&format!("vmware-api-session-id={token}")),
        "{cookie}"
    );

    let header_only = h.login_as("a", "rest/com/vmware/cis/session", USER).await;
    assert_eq!(header_only.status, StatusCode::OK);
    assert!(header_only.headers.get("set-cookie").is_none());
}

#[tokio::test]
async fn rest_takes_the_cookie_or_the_header_and_tokens_cross_generations() {
    let h = Harness::start(vec![appliance("a", "8.0.3.00400")]).await;
    let token = h.rest_token("a").await;

    let by_cookie = h
        .client
        .get(h.url("a", "rest/appliance/system/version"))
        .header("cookie", format!("other=1; vmware-api-session-id={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(by_cookie.status(), StatusCode::OK);

    let by_header = h.get("a", "rest/appliance/system/version", &token).await;
    assert_eq!(by_header.status, StatusCode::OK);
    assert_eq!(by_header.json()["value"]["version"], "8.0.3.00400");

    let on_api = h.get("a", "api/appliance/system/version", &token).await;
    assert_eq!(on_api.status, StatusCode::OK);
    assert_eq!(on_api.json()["version"], "8.0.3.00400");

    let api_token = h.api_token("a").await;
    assert_eq!(
        h.get("a", "rest/appliance/recovery", &api_token)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn unauthenticated_bodies_are_exact_per_generation() {
    let h = Harness::start(vec![appliance("a", "8.0.3.00400")]).await;

    let api = h
        .get("a", "api/appliance/recovery/backup/job", "0123")
        .await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        api.text,
        concat!(
            r#"{"error_type":"UNAUTHENTICATED","messages":[{"id":"#,
            r#""com.vmware.vapi.endpoint.method.authentication.required","#,
            r#""default_message":"Authentication required.","args":[]}]}"#
        )
    );

    let rest = h
        .call(
            Method::GET,
            "a",
            "rest/appliance/recovery/backup/job",
            None,
            None,
        )
        .await;
    assert_eq!(rest.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        rest.json(),
        json!({
            "type": "com.vmware.vapi.std.errors.unauthenticated",
            "value": {"messages": [{
                "args": [],
                "default_message": "Authentication required.",
                "id": "com.vmware.vapi.endpoint.method.authentication.required"
            }]}
        })
    );

    let wrong = h
        .client
        .post(h.url("a", "api/session"))
        .basic_auth(USER, Some("nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(h.sim.login_count("a"), 0);
}

#[tokio::test]
async fn session_info_and_logout_per_generation() {
    let h = Harness::start(vec![appliance("a", "8.0.3.00400")]).await;
    let token = h.api_token("a").await;

    let info = h.get("a", "api/session", &token).await.json();
    assert_eq!(info["user"], "VSPHERE.LOCAL\\administrator");
    assert!(is_wire_time(&info["created_time"]) && is_wire_time(&info["last_accessed_time"]));

    let rest_info = h
        .call(
            Method::POST,
            "a",
            "rest/com/vmware/cis/session?~action=get",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        rest_info.json()["value"]["user"],
        "VSPHERE.LOCAL\\administrator"
    );

    let api_out = h
        .call(Method::DELETE, "a", "api/session", Some(&token), None)
        .await;
    assert_eq!(api_out.status, StatusCode::NO_CONTENT);
    assert_eq!(
        h.get("a", "api/session", &token).await.status,
        StatusCode::UNAUTHORIZED
    );

    let rest_token = h.rest_token("a").await;
    let path = "rest/com/vmware/cis/session";
    let rest_out = h
        .call(Method::DELETE, "a", path, Some(&rest_token), None)
        .await;
    assert_eq!(rest_out.status, StatusCode::OK);
    assert!(rest_out.text.is_empty());
    assert!(rest_out.headers.get("content-type").is_none());
    assert_eq!(h.sim.open_sessions("a"), 0);
}

#[tokio::test]
async fn the_session_cap_gives_503_on_login() {
    let h = Harness::start(vec![appliance("a", "8.0.3.00400").max_sessions(2)]).await;
    h.api_token("a").await;
    h.rest_token("a").await;

    let third = h.login_as("a", "api/session", USER).await;

    assert_eq!(third.status, StatusCode::SERVICE_UNAVAILABLE);
    let body = third.json();
    assert_eq!(body["error_type"], "SERVICE_UNAVAILABLE");
    let text = body["messages"][0]["default_message"].as_str().unwrap();
    assert!(text.contains("limit of 2 sessions"), "{text}");
    let rest = h.login_as("a", "rest/com/vmware/cis/session", USER).await;
    assert_eq!(
        rest.json()["type"],
        "com.vmware.vapi.std.errors.service_unavailable"
    );
}

#[tokio::test]
async fn idle_sessions_expire_and_can_be_expired_on_demand() {
    let h = Harness::start(vec![appliance("a", "8.0.3.00400").session_idle_minutes(30)]).await;
    let token = h.api_token("a").await;

    h.sim.advance_clock(chrono::Duration::minutes(20));
    assert_eq!(
        h.get("a", "api/session", &token).await.status,
        StatusCode::OK
    );
    h.sim.advance_clock(chrono::Duration::minutes(31));
    assert_eq!(
        h.get("a", "api/session", &token).await.status,
        StatusCode::UNAUTHORIZED
    );

    let fresh = h.api_token("a").await;
    assert!(h.sim.expire_sessions("a"));
    assert_eq!(
        h.get("a", "api/session", &fresh).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_appliance_before_7_0_2_has_no_api() {
    let h = Harness::start(vec![appliance("old", "6.7.0.20000")]).await;

    let login = h.login_as("old", "api/session", USER).await;
    assert_eq!(login.status, StatusCode::NOT_FOUND);
    assert!(serde_json::from_str::<Value>(&login.text).is_err());

    let token = h.rest_token("old").await;
    let version = h
        .get("old", "rest/appliance/system/version", &token)
        .await
        .json();
    let version = &version["value"];
    for key in [
        "version",
        "product",
        "build",
        "type",
        "summary",
        "releasedate",
        "install_time",
    ] {
        assert!(version[key].is_string(), "{key}");
    }
    let details = h
        .get("old", &format!("rest/{BACKUP}/job/details"), &token)
        .await
        .json();
    let (_, first) = &key_values(&details["value"])[0];
    assert!(first.get("build").is_none() && first.get("fast_backup").is_none());
}

#[tokio::test]
async fn optional_fields_follow_the_version() {
    let h = Harness::start(vec![
        appliance("v7", "7.0.3.01700"),
        appliance("v8", "8.0.3.00400"),
    ])
    .await;
    let t7 = h.api_token("v7").await;
    let t8 = h.api_token("v8").await;

    let d7 = h
        .get("v7", &format!("api/{BACKUP}/job/details"), &t7)
        .await
        .json();
    let d8 = h
        .get("v8", &format!("api/{BACKUP}/job/details"), &t8)
        .await
        .json();
    let first7 = d7.as_object().unwrap().values().next().unwrap().clone();
    let first8 = d8.as_object().unwrap().values().next().unwrap().clone();
    assert_eq!(first7["build"]["version"], "7.0.3.01700");
    assert!(first7.get("fast_backup").is_none());
    assert_eq!(first8["fast_backup"], false);

    let s7 = h
        .get("v7", &format!("api/{BACKUP}/schedules/default"), &t7)
        .await
        .json();
    let s8 = h
        .get("v8", &format!("api/{BACKUP}/schedules/default"), &t8)
        .await
        .json();
    assert!(s7.get("fast_backup").is_none() && s8.get("fast_backup").is_some());

    let parts7 = h
        .get("v7", &format!("api/{BACKUP}/parts"), &t7)
        .await
        .json();
    let parts8 = h
        .get("v8", &format!("api/{BACKUP}/parts"), &t8)
        .await
        .json();
    let ids = |parts: &Value| -> Vec<String> {
        parts
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(ids(&parts7), ["common", "seat"]);
    assert_eq!(ids(&parts8), ["common", "seat", "supervisors"]);
    let seat = h
        .get("v8", &format!("api/{BACKUP}/parts/seat"), &t8)
        .await
        .json();
    assert!(seat.as_i64().unwrap() > 0);
}

#[tokio::test]
async fn rest_wraps_values_and_lists_maps_as_key_value_pairs() {
    let h = Harness::start(vec![appliance("a", "8.0.3.00400")]).await;
    let token = h.api_token("a").await;

    let recovery = h.get("a", "rest/appliance/recovery", &token).await;
    assert_eq!(recovery.text, r#"{"value":{"supported":true}}"#);
    assert_eq!(
        h.get("a", "api/appliance/recovery", &token).await.text,
        r#"{"supported":true}"#
    );

    let rest = h
        .get("a", &format!("rest/{BACKUP}/schedules"), &token)
        .await;
    assert!(!rest.text.contains(' ') && !rest.text.contains('\n'));
    let entries = key_values(&rest.json()["value"]);
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].0, "default");
    assert_eq!(
        entries[0].1["recurrence_info"],
        json!({"minute":0,"hour":2})
    );
    assert_eq!(entries[0].1["retention_info"], json!({"max_count":7}));

    let api = h
        .get("a", &format!("api/{BACKUP}/schedules"), &token)
        .await
        .json();
    assert_eq!(
        api["default"]["location"],
        "nfs://nas-01.example.test/export/vcsa"
    );
    assert_eq!(api["default"]["enable"], true);

    let jobs = h
        .get("a", &format!("rest/{BACKUP}/job"), &token)
        .await
        .json();
    let api_jobs = h
        .get("a", &format!("api/{BACKUP}/job"), &token)
        .await
        .json();
    assert_eq!(jobs["value"], api_jobs);
}

#[tokio::test]
async fn no_schedule_lists_empty_per_generation() {
    let h = Harness::start(vec![appliance("a", "8.0.3.00400").schedule(None)]).await;
    let token = h.api_token("a").await;

    assert_eq!(
        h.get("a", &format!("api/{BACKUP}/schedules"), &token)
            .await
            .text,
        "{}"
    );
    let rest = h
        .get("a", &format!("rest/{BACKUP}/schedules"), &token)
        .await
        .text;
    assert_eq!(rest, r#"{"value":[]}"#);
    let missing = h
        .get("a", &format!("api/{BACKUP}/schedules/default"), &token)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["error_type"], "NOT_FOUND");
}

#[tokio::test]
async fn details_filters_work_in_every_list_form() {
    let h = Harness::start(vec![appliance("a", "7.0.3.01700")]).await;
    let token = h.api_token("a").await;
    let ids = h
        .get("a", &format!("api/{BACKUP}/job"), &token)
        .await
        .json();
    let ids: Vec<&str> = ids
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let (one, two) = (ids[1], ids[3]);

    let api = h
        .get(
            "a",
            &format!("api/{BACKUP}/job/details?jobs={one}&jobs={two}"),
            &token,
        )
        .await
        .json();
    let mut keys: Vec<&String> = api.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, [one, two]);

    for query in [
        format!("filter.jobs={one}&filter.jobs={two}"),
        format!("filter.jobs.1={one}&filter.jobs.2={two}"),
    ] {
        let rest = h
            .get("a", &format!("rest/{BACKUP}/job/details?{query}"), &token)
            .await;
        let keys: Vec<String> = key_values(&rest.json()["value"])
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert_eq!(keys, [one, two], "{query}");
    }

    let all = h
        .get("a", &format!("api/{BACKUP}/job/details"), &token)
        .await
        .json();
    assert_eq!(all.as_object().unwrap().len(), ids.len());
}

#[tokio::test]
async fn a_running_job_omits_what_it_does_not_have_yet() {
    let h = Harness::start(vec![appliance("a", "8.0.3.00400").running_job(true)]).await;
    let token = h.api_token("a").await;

    let ids = h
        .get("a", &format!("api/{BACKUP}/job"), &token)
        .await
        .json();
    let running = ids
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    let status = h
        .get("a", &format!("api/{BACKUP}/job/{running}"), &token)
        .await
        .json();
    assert_eq!(status["state"], "INPROGRESS");
    assert!(status.get("end_time").is_none());
    let progress = status["progress"].as_i64().unwrap();
    assert!((1..100).contains(&progress), "{progress}");
    assert!(is_wire_time(&status["start_time"]));

    let path = format!("api/{BACKUP}/job/details?jobs={running}");
    let details = h.get("a", &path, &token).await.json();
    let job = &details[&running];
    assert_eq!(job["status"], "RUNNING");
    assert_eq!(job["cancelable"], true);
    for absent in ["end_time", "error"] {
        assert!(job.get(absent).is_none(), "{absent} present");
    }
    assert!(job["duration"].as_i64().unwrap() > 0 && job["size"].as_i64().unwrap() > 0);
    assert!(!details.to_string().contains("null"));
}

#[tokio::test]
async fn finished_jobs_carry_end_times_and_failures_carry_errors() {
    let h = Harness::start(vec![
        appliance("a", "8.0.3.00400").profile(Profile::FailsNightly),
    ])
    .await;
    let token = h.api_token("a").await;

    let details = h
        .get("a", &format!("api/{BACKUP}/job/details"), &token)
        .await
        .json();
    let mut failed = 0;
    for (id, job) in details.as_object().unwrap() {
        assert!(id.ends_with("-24322831"), "{id}");
        assert!(is_wire_time(&job["start_time"]) && is_wire_time(&job["end_time"]));
        assert!(job["location_user"].is_string());
        if job["type"] == "SCHEDULED" {
            failed += 1;
            assert_eq!(job["status"], "FAILED");
            assert!(job.get("error").is_some());
            assert!(
                job["messages"][0]["default_message"]
                    .as_str()
                    .unwrap()
                    .len()
                    > 10
            );
            let location = job["location"].as_str().unwrap();
            let stamp = &id[..15];
            let folder = format!("vCenter/sn_a.example.test/S_8.0.3.00400_{stamp}_");
            assert_eq!(
                location,
                format!("nfs://nas-01.example.test/export/vcsa/{folder}")
            );
            assert!(job.get("user").is_none());
        } else {
            assert_eq!(job["status"], "SUCCEEDED");
            assert!(job.get("error").is_none());
        }
    }
    assert!(failed >= 9, "{failed}");
}

#[tokio::test]
async fn creating_a_job_while_one_runs_is_feature_in_use() {
    let h = Harness::start(vec![appliance("a", "8.0.3.00400")]).await;
    let token = h.api_token("a").await;
    let request = json!({
        "parts": ["seat"], "location_type": "NFS",
        "location": "nfs://nas-02.example.test/export/vcsa", "comment": "before patching"
    });

    let created = h
        .post("a", &format!("api/{BACKUP}/job"), &token, request.clone())
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let job = created.json();
    assert_eq!(job["state"], "INPROGRESS");
    assert!(job.get("end_time").is_none());
    let id = job["id"].as_str().unwrap().to_owned();
    assert_eq!(&id[..8], &Utc::now().format("%Y%m%d").to_string());

    let again = h
        .post("a", &format!("api/{BACKUP}/job"), &token, request.clone())
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);
    assert_eq!(again.json()["error_type"], "FEATURE_IN_USE");
    let rest = h
        .post(
            "a",
            &format!("rest/{BACKUP}/job"),
            &token,
            json!({ "piece": request }),
        )
        .await;
    assert_eq!(rest.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        rest.json()["type"],
        "com.vmware.vapi.std.errors.feature_in_use"
    );

    let details = h
        .get("a", &format!("api/{BACKUP}/job/details?jobs={id}"), &token)
        .await;
    let job = &details.json()[&id];
    assert_eq!(job["type"], "MANUAL");
    assert_eq!(job["user"], "VSPHERE.LOCAL\\administrator");
    assert!(
        job["location"]
            .as_str()
            .unwrap()
            .starts_with("nfs://nas-02.example.test/")
    );
}

#[tokio::test]
async fn rest_job_create_takes_a_piece_and_answers_200() {
    let h = Harness::start(vec![appliance("a", "6.7.0.20000")]).await;
    let token = h.rest_token("a").await;
    let request =
        json!({"parts": [], "location_type": "SFTP", "location": "sftp://b.example.test/x"});

    let bare = h
        .post("a", &format!("rest/{BACKUP}/job"), &token, request.clone())
        .await;
    assert_eq!(bare.status, StatusCode::BAD_REQUEST);

    let created = h
        .post(
            "a",
            &format!("rest/{BACKUP}/job"),
            &token,
            json!({ "piece": request }),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK);
    assert_eq!(created.json()["value"]["state"], "INPROGRESS");

    let nfs = json!({"piece": {"parts": [], "location_type": "NFS", "location": "nfs://n/x"}});
    h.sim.finish_running_job("a", true);
    let refused = h
        .post("a", &format!("rest/{BACKUP}/job"), &token, nfs)
        .await;
    assert_eq!(
        refused.json()["type"],
        "com.vmware.vapi.std.errors.invalid_argument"
    );
}

#[tokio::test]
async fn a_weak_backup_password_is_invalid_argument() {
    let h = Harness::start(vec![appliance("a", "8.0.3.00400")]).await;
    let token = h.api_token("a").await;
    let mut request = json!({
        "parts": [], "location_type": "NFS", "location": "nfs://n.example.test/x",
        "backup_password": "password"
    });

    let weak = h
        .post("a", &format!("api/{BACKUP}/job"), &token, request.clone())
        .await;
    assert_eq!(weak.status, StatusCode::BAD_REQUEST);
    assert_eq!(weak.json()["error_type"], "INVALID_ARGUMENT");

    request["backup_password"] = json!("Xk7#pLq2mW");
    let validated = h
        .post(
            "a",
            &format!("api/{BACKUP}?action=validate"),
            &token,
            request,
        )
        .await;
    assert_eq!(validated.status, StatusCode::OK);
    assert_eq!(validated.json()["status"], "OK");
}

#[tokio::test]
async fn cancel_ends_the_job_failed_with_a_canceled_message() {
    let h = Harness::start(vec![appliance("a", "8.0.3.00400")]).await;
    let token = h.rest_token("a").await;
    let id = h.sim.start_job("a", "from the test").unwrap();
    assert!(h.sim.start_job("a", "second").is_none());

    let canceled = h
        .call(
            Method::POST,
            "a",
            &format!("rest/{BACKUP}/job/{id}/cancel"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(canceled.status, StatusCode::OK);
    assert_eq!(canceled.json()["value"]["status"], "OK");

    let status = h
        .get("a", &format!("api/{BACKUP}/job/{id}"), &token)
        .await
        .json();
    assert_eq!(status["state"], "FAILED");
    assert!(is_wire_time(&status["end_time"]));
    let message = status["messages"][0]["default_message"].as_str().unwrap();
    assert!(message.contains("canceled"), "{message}");

    let path = format!("api/{BACKUP}/job/{id}?action=cancel");
    let again = h.call(Method::POST, "a", &path, Some(&token), None).await;
    assert_eq!(again.json()["status"], "FAIL");
    let unknown = format!("api/{BACKUP}/job/20200101-000000-24322831?action=cancel");
    let missing = h
        .call(Method::POST, "a", &unknown, Some(&token), None)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["error_type"], "NOT_FOUND");
}

#[tokio::test]
async fn schedules_follow_the_exact_paths_and_the_one_schedule_rule() {
    let h = Harness::start(vec![appliance("a", "8.0.3.00400").schedule(None)]).await;
    let token = h.api_token("a").await;
    let spec = json!({
        "parts": ["seat"], "location": "nfs://nas-01.example.test/export/vcsa", "enable": true,
        "recurrence_info": {"minute": 0, "hour": 2, "days": ["MONDAY", "FRIDAY"]},
        "retention_info": {"max_count": 7}
    });

    let created = h
        .post(
            "a",
            &format!("api/{BACKUP}/schedules"),
            &token,
            json!({"schedule": "default", "spec": spec}),
        )
        .await;
    assert_eq!(created.status, StatusCode::NO_CONTENT);

    let second = h
        .post(
            "a",
            &format!("api/{BACKUP}/schedules"),
            &token,
            json!({"schedule": "other", "spec": spec}),
        )
        .await;
    assert_eq!(second.status, StatusCode::BAD_REQUEST);
    let same = h
        .post(
            "a",
            &format!("rest/{BACKUP}/schedules/default"),
            &token,
            json!({"spec": spec}),
        )
        .await;
    assert_eq!(
        same.json()["type"],
        "com.vmware.vapi.std.errors.already_exists"
    );

    let path = format!("api/{BACKUP}/schedules/default");
    let patched = h
        .call(
            Method::PATCH,
            "a",
            &path,
            Some(&token),
            Some(json!({"enable": false})),
        )
        .await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT);
    let rest_path = format!("rest/{BACKUP}/schedules/update/default");
    let body = json!({"spec": {"retention_info": {"max_count": 3}}});
    let put = h
        .call(Method::PUT, "a", &rest_path, Some(&token), Some(body))
        .await;
    assert_eq!(put.status, StatusCode::OK);
    assert!(put.text.is_empty());

    let info = h.get("a", &path, &token).await.json();
    assert_eq!(info["enable"], false);
    assert_eq!(info["retention_info"]["max_count"], 3);
    assert_eq!(info["recurrence_info"]["days"], json!(["MONDAY", "FRIDAY"]));

    let bad = json!({"recurrence_info": {"minute": 0, "hour": 25}});
    let refused = h
        .call(Method::PATCH, "a", &path, Some(&token), Some(bad))
        .await;
    assert_eq!(refused.json()["error_type"], "INVALID_ARGUMENT");

    let run = h
        .post(
            "a",
            &format!("api/{BACKUP}/schedules/default?action=run"),
            &token,
            json!({"comment": "ad-hoc"}),
        )
        .await;
    assert_eq!(run.status, StatusCode::OK);
    assert_eq!(run.json()["state"], "INPROGRESS");
    let run_again = h
        .post(
            "a",
            &format!("rest/{BACKUP}/schedules/default?action=run"),
            &token,
            json!({}),
        )
        .await;
    assert_eq!(
        run_again.json()["type"],
        "com.vmware.vapi.std.errors.feature_in_use"
    );

    let deleted = h.call(Method::DELETE, "a", &path, Some(&token), None).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    let gone = h.call(Method::DELETE, "a", &path, Some(&token), None).await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn read_only_users_read_but_get_403_on_writes() {
    let h = Harness::start(vec![
        appliance("a", "8.0.3.00400").read_only_user("monitor@vsphere.local"),
    ])
    .await;
    let reply = h
        .login_as("a", "api/session", "monitor@vsphere.local")
        .await;
    let token = reply.json().as_str().unwrap().to_owned();

    assert_eq!(
        h.get("a", &format!("api/{BACKUP}/job"), &token)
            .await
            .status,
        StatusCode::OK
    );
    let request = json!({"parts": [], "location_type": "NFS", "location": "nfs://n/x"});
    let write = h
        .post("a", &format!("api/{BACKUP}/job"), &token, request)
        .await;
    assert_eq!(write.status, StatusCode::FORBIDDEN);
    assert_eq!(write.json()["error_type"], "UNAUTHORIZED");
    let rest = h
        .call(
            Method::DELETE,
            "a",
            &format!("rest/{BACKUP}/schedules/default"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        rest.json()["type"],
        "com.vmware.vapi.std.errors.unauthorized"
    );
}

#[tokio::test]
async fn seeded_history_has_the_right_size_and_is_deterministic() {
    let make = || {
        vec![
            SimAppliance::new("a", "8.0.3.00400")
                .history_days(60)
                .seed(42),
            SimAppliance::new("b", "8.0.3.00400")
                .history_days(60)
                .seed(42),
        ]
    };
    let first = Harness::start(make()).await;
    let second = Harness::start(make()).await;
    let t1 = first.api_token("a").await;
    let t2 = second.api_token("a").await;

    let d1 = first
        .get("a", &format!("api/{BACKUP}/job/details"), &t1)
        .await
        .json();
    let d2 = second
        .get("a", &format!("api/{BACKUP}/job/details"), &t2)
        .await
        .json();
    assert_eq!(d1, d2);

    let jobs = d1.as_object().unwrap();
    let scheduled = jobs.values().filter(|j| j["type"] == "SCHEDULED").count();
    assert!((59..=61).contains(&scheduled), "{scheduled}");
    assert_eq!(first.sim.job_count("a"), jobs.len());

    let tb = first.api_token("b").await;
    let other = first
        .get("b", &format!("api/{BACKUP}/job/details"), &tb)
        .await
        .json();
    assert_ne!(d1, other, "another name gives another history");

    let mut sizes: Vec<(String, i64)> = jobs
        .iter()
        .filter(|(_, j)| j["status"] == "SUCCEEDED")
        .map(|(id, j)| (id.clone(), j["size"].as_i64().unwrap()))
        .collect();
    sizes.sort();
    // Medians of the first and last five runs: the odd undersized run does not count.
    let median = |runs: &[(String, i64)]| {
        let mut values: Vec<i64> = runs.iter().map(|(_, size)| *size).collect();
        values.sort();
        values[values.len() / 2]
    };
    let (oldest, newest) = (median(&sizes[..5]), median(&sizes[sizes.len() - 5..]));
    assert!(
        newest > oldest && oldest > 2_000_000_000,
        "{oldest} {newest}"
    );
    for job in jobs.values() {
        let minutes = job["duration"].as_i64().unwrap() / 60;
        if job["status"] == "SUCCEEDED" {
            assert!((10..=40).contains(&minutes), "{minutes}");
        }
    }
}

#[tokio::test]
async fn a_nightly_run_appears_when_its_time_comes() {
    let soon = Utc::now() + chrono::Duration::minutes(2);
    let schedule = SimSchedule::daily(soon.hour(), soon.minute());
    let a = SimAppliance::new("a", "8.0.3.00400")
        .history_days(0)
        .job_minutes(12)
        .schedule(Some(schedule));
    let h = Harness::start(vec![a]).await;
    let token = h.api_token("a").await;
    let jobs = format!("api/{BACKUP}/job");
    assert_eq!(h.get("a", &jobs, &token).await.json(), json!([]));

    h.sim.advance_clock(chrono::Duration::minutes(3));
    let ids = h.get("a", &jobs, &token).await.json();
    let ids = ids.as_array().unwrap();
    assert_eq!(ids.len(), 1);
    let id = ids[0].as_str().unwrap().to_owned();
    assert_eq!(
        &id[9..15],
        format!("{:02}{:02}00", soon.hour(), soon.minute())
    );
    let status = h.get("a", &format!("{jobs}/{id}"), &token).await.json();
    assert_eq!(status["state"], "INPROGRESS");

    h.sim.advance_clock(chrono::Duration::minutes(15));
    let details = h
        .get("a", &format!("{jobs}/details?jobs={id}"), &token)
        .await
        .json();
    assert_eq!(details[&id]["status"], "SUCCEEDED");
    assert_eq!(details[&id]["type"], "SCHEDULED");
    assert_eq!(details[&id]["duration"], 12 * 60);
    assert!(is_wire_time(&details[&id]["end_time"]));
}

#[tokio::test]
async fn forgotten_history_is_gone_from_the_appliance() {
    let h = Harness::start(vec![appliance("a", "8.0.3.00400")]).await;
    let before = h.sim.job_count("a");

    let forgotten = h
        .sim
        .forget_jobs_before("a", Utc::now() - chrono::Duration::days(5));

    assert!(forgotten >= 4, "{forgotten}");
    assert_eq!(h.sim.job_count("a"), before - forgotten);
    assert_eq!(h.sim.forget_jobs_before("nope", Utc::now()), 0);
}

#[tokio::test]
async fn unknown_appliances_and_urls_are_404() {
    let h = Harness::start(vec![appliance("a", "8.0.3.00400")]).await;
    let token = h.api_token("a").await;

    let appliance = h.get("nope", "api/appliance/system/version", &token).await;
    assert_eq!(appliance.status, StatusCode::NOT_FOUND);
    let api = h.get("a", "api/appliance/nothing", &token).await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert_eq!(api.json()["error_type"], "NOT_FOUND");
    let rest = h.get("a", "rest/appliance/nothing", &token).await;
    assert_eq!(rest.json()["type"], "com.vmware.vapi.std.errors.not_found");
    assert!(!h.sim.set_fault("nope", Fault::Hang));
}

#[tokio::test]
async fn faults_misbehave_as_scripted() {
    let h = Harness::start(vec![appliance("a", "8.0.3.00400")]).await;
    let token = h.api_token("a").await;
    let version = "api/appliance/system/version";

    h.sim.set_fault("a", Fault::Http500Html);
    let html = h.get("a", version, &token).await;
    assert_eq!(html.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert!(
        html.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );

    h.sim.set_fault("a", Fault::Http503);
    assert_eq!(
        h.login_as("a", "api/session", USER).await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );

    h.sim.set_fault("a", Fault::MalformedJson);
    assert!(serde_json::from_str::<Value>(&h.get("a", version, &token).await.text).is_err());

    h.sim.set_fault("a", Fault::WrongContentType);
    let wrong = h.get("a", version, &token).await;
    assert_eq!(wrong.headers["content-type"], "text/html");
    assert_eq!(wrong.json()["version"], "8.0.3.00400");

    h.sim.set_fault("a", Fault::Unauthorized401OnNextCall);
    assert_eq!(
        h.get("a", version, &token).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(h.get("a", version, &token).await.status, StatusCode::OK);

    h.sim.set_fault("a", Fault::Forbidden403);
    assert_eq!(
        h.get("a", version, &token).await.json()["error_type"],
        "UNAUTHORIZED"
    );

    h.sim
        .set_fault("a", Fault::Delay(Duration::from_millis(300)));
    let started = std::time::Instant::now();
    assert_eq!(h.get("a", version, &token).await.status, StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(300));

    h.sim.set_fault("a", Fault::Hang);
    let hung = h
        .client
        .get(h.url("a", version))
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(hung.unwrap_err().is_timeout());

    assert!(h.sim.clear_fault("a"));
    assert_eq!(h.get("a", version, &token).await.status, StatusCode::OK);
}

#[tokio::test]
async fn broken_transfers_fail_in_the_client() {
    let h = Harness::start(vec![appliance("a", "8.0.3.00400")]).await;
    let token = h.api_token("a").await;
    let url = h.url("a", &format!("api/{BACKUP}/job/details"));

    for fault in [Fault::TruncatedBody, Fault::ConnectionReset] {
        h.sim.set_fault("a", fault.clone());
        let outcome = match h
            .client
            .get(&url)
            .header("vmware-api-session-id", &token)
            .send()
            .await
        {
            Ok(response) => response.bytes().await.map(|_| ()),
            Err(err) => Err(err),
        };
        assert!(outcome.is_err(), "{fault:?} delivered a whole body");
    }

    h.sim.set_fault("a", Fault::HugeBody);
    let huge = h
        .client
        .get(&url)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(huge.len() > 20 << 20);
    h.sim.set_fault("a", Fault::EmptyBody);
    let empty = h.client.get(&url).send().await.unwrap();
    assert_eq!(empty.status(), StatusCode::OK);
    assert!(empty.bytes().await.unwrap().is_empty());
}

#[test]
fn the_example_sim_toml_loads() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sim.example.toml");
    let config = SimConfig::from_toml_file(&path).unwrap();
    assert_eq!(config.appliances.len(), 3);
    let sim = Simulator::new(config);
    assert_eq!(sim.appliance_names().len(), 3);
}

#[test]
fn a_large_fleet_stays_small_per_job() {
    let sim = Simulator::new(SimConfig::fleet(300, 730, 7));
    let started = std::time::Instant::now();
    let total: usize = sim
        .appliance_names()
        .iter()
        .map(|name| sim.job_count(name))
        .sum();
    assert!(total >= 300 * 700, "{total}");
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn jobs_from_before_a_patch_carry_the_earlier_build() {
    use vbdash::simulator::{SimAppliance, SimConfig, Simulator};

    let appliance = SimAppliance::new("vcsa-p", "8.0.3.00400")
        .history_days(10)
        .patched(4, "8.0.2.00100");
    let simulator = Simulator::new(SimConfig {
        appliances: vec![appliance],
        ..SimConfig::default()
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/vcsa-p", listener.local_addr().unwrap());
    let server = tokio::spawn(simulator.clone().serve(listener));
    let http = reqwest::Client::new();

    let token: String = http
        .post(format!("{base}/api/session"))
        .basic_auth("administrator@vsphere.local", Some("Example-Passw0rd!"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let details: serde_json::Value = http
        .get(format!("{base}/api/appliance/recovery/backup/job/details"))
        .header("vmware-api-session-id", token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();

    let builds: std::collections::BTreeSet<(String, String)> = details
        .as_object()
        .unwrap()
        .iter()
        .map(|(id, job)| {
            let build = job["build"]["build_number"].as_str().unwrap().to_owned();
            assert!(
                id.ends_with(&build),
                "{id} should end with its build {build}"
            );
            (job["build"]["version"].as_str().unwrap().to_owned(), build)
        })
        .collect();
    assert_eq!(builds.len(), 2, "{builds:?}");
    assert!(builds.iter().any(|(v, _)| v == "8.0.2.00100"));
    server.abort();
}

#[test]
fn an_endless_history_is_refused_before_the_simulator_starts() {
    let path = std::path::Path::new("sim.toml");
    let text = |days: u64| {
        format!("[[appliances]]\nname = \"x\"\nversion = \"8.0.3.00400\"\nhistory_days = {days}\n")
    };
    let err = SimConfig::from_toml_str(&text(4_294_967_295), path).unwrap_err();
    let words = format!("{err:#}");
    assert!(words.contains("history_days"), "{words}");
    assert!(SimConfig::from_toml_str(&text(730), path).is_ok());
}

/// The reset fault answers a request with a TCP RST: the reader sees the connection
/// reset, not the end of the stream a plain close gives.
#[tokio::test]
async fn a_connection_reset_is_a_tcp_rst() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let h = Harness::start(vec![appliance("a", "8.0.3.00400")]).await;
    assert!(h.sim.set_fault("a", Fault::ConnectionReset));

    let addr = h.base.trim_start_matches("http://");
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!("GET /a/api/{BACKUP}/job/details HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = socket.read_to_end(&mut answer).await;

    let err = read.expect_err("the connection ended without a reset");
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset, "{err}");
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
}

/// A `tls` appliance is served on its own HTTPS listener only, with a certificate from
/// the simulator's CA until `set_tls` swaps it; the other appliances stay on the plain
/// listener.
#[tokio::test]
async fn a_tls_appliance_has_a_listener_of_its_own() {
    let h = Harness::start(vec![
        appliance("plain", "8.0.3.00400"),
        appliance("secure", "8.0.3.00400").tls(SimTls::Valid),
    ])
    .await;
    let loopback = std::net::Ipv4Addr::LOCALHOST.into();
    let tls = h.sim.serve_tls_appliances(loopback).await.unwrap();
    assert!(tls.url("plain").is_none());
    let secure = tls.url("secure").unwrap();
    assert!(secure.starts_with("https://127.0.0.1:"), "{secure}");

    let ca = reqwest::Certificate::from_pem(tls.ca_pem().as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .no_proxy()
        .tls_certs_only([ca])
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let login = |base: String| {
        client
            .post(format!("{base}/api/session"))
            .basic_auth(USER, Some(PASSWORD))
            .send()
    };

    let answer = login(secure.clone()).await.unwrap();
    assert_eq!(answer.status(), StatusCode::CREATED);
    let other = format!("https://{}/plain", tls.addr("secure").unwrap());
    assert_eq!(login(other).await.unwrap().status(), StatusCode::NOT_FOUND);
    let reply = h.login_as("secure", "api/session", USER).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.text);
    let reply = h.login_as("plain", "api/session", USER).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text);

    for bad in [SimTls::UnknownCa, SimTls::WrongName, SimTls::Expired] {
        assert!(h.sim.set_tls("secure", bad));
        let refused = login(secure.clone()).await;
        assert!(refused.is_err(), "{bad:?} was accepted");
    }
    assert!(h.sim.set_tls("secure", SimTls::Valid));
    assert_eq!(login(secure).await.unwrap().status(), StatusCode::CREATED);
    assert!(
        !h.sim.set_tls("plain", SimTls::Expired),
        "plain has no certificate"
    );
}
