//! What a simulated fleet looks like: appliances, their versions, schedules, histories,
//! behaviour profiles and scripted faults. Read from a short `sim.toml` or built in code.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, anyhow};
use chrono::Weekday;
use serde::{Deserialize, Deserializer};

use super::version::ApplianceVersion;

/// Host part of the hostile appliance's location: markup that runs script if unescaped.
pub const HOSTILE_HOST: &str = "<img src=x onerror=alert('host')>";

/// Backup location used when neither the schedule nor a request names one.
pub const DEFAULT_LOCATION: &str = "nfs://nas-01.example.test/export/vcsa";

/// The whole simulated fleet.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimConfig {
    /// The appliances, each served under `/{name}/api` and `/{name}/rest`.
    #[serde(default, alias = "appliance")]
    pub appliances: Vec<SimAppliance>,
    /// Address `vbdash simulate` listens on; the caller picks one when absent.
    #[serde(default)]
    pub listen: Option<SocketAddr>,
    /// Where `vbdash simulate` writes the certificate of the CA it makes at start, so a
    /// dashboard can trust the appliances served with `tls`. Taken relative to the
    /// configuration file's folder.
    #[serde(default)]
    pub tls_ca_file: Option<PathBuf>,
}

/// One simulated appliance. Every field but `name` and `version` has a default, so a
/// `sim.toml` entry can be two lines long.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimAppliance {
    /// Path segment the appliance is served under; also its host name in backup paths.
    pub name: String,
    /// Dotted appliance version such as `8.0.3.00400`, `7.0.3.01700` or `6.7.0.44000`.
    pub version: String,
    /// Build number; derived from the version when empty.
    #[serde(default)]
    pub build: String,
    #[serde(default = "default_username")]
    pub username: String,
    #[serde(default = "default_password")]
    pub password: String,
    /// Users who log in with the same password but get 403 on every write.
    #[serde(default)]
    pub read_only_users: Vec<String>,
    /// The backup schedule the appliance starts with; `None` means no schedule.
    #[serde(default)]
    pub schedule: Option<SimSchedule>,
    /// Days of seeded history before the simulator started.
    #[serde(default = "default_history_days")]
    pub history_days: u32,
    #[serde(default)]
    pub profile: Profile,
    /// Start with a manual job that began a few minutes ago and is still running.
    #[serde(default)]
    pub running_job: bool,
    /// How long a job started while the simulator runs takes, in real minutes.
    #[serde(default = "default_job_minutes")]
    pub job_minutes: u32,
    /// Sessions one user may hold at once; the next login gets 503.
    #[serde(default = "default_max_sessions")]
    pub max_sessions: usize,
    /// Minutes of inactivity after which a session is gone.
    #[serde(default = "default_session_idle_minutes")]
    pub session_idle_minutes: u32,
    /// Seeds the history; mixed with the name so equal seeds still give distinct fleets.
    #[serde(default)]
    pub seed: u64,
    /// A fault active from the start.
    #[serde(default)]
    pub fault: Option<Fault>,
    /// Serve this appliance over HTTPS on a listener of its own, with this certificate,
    /// instead of on the shared plain listener.
    #[serde(default)]
    pub tls: Option<SimTls>,
    /// Address of the appliance's own HTTPS listener; a free port on the shared
    /// listener's address when absent. Only with `tls`.
    #[serde(default)]
    pub tls_listen: Option<SocketAddr>,
    /// Base location of backups made without a schedule (manual runs).
    #[serde(default = "default_location")]
    pub location: String,
    /// The version the appliance ran before a patch: jobs from before the patch carry its
    /// build, as on an appliance patched since its older backups.
    #[serde(default)]
    pub patched: Option<SimPatch>,
}

/// A patch in an appliance's past.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimPatch {
    /// How many days before the simulator started the patch was applied.
    pub days_ago: u32,
    /// The dotted version it ran before, such as `8.0.2.00100`.
    pub previous_version: String,
}

/// The schedule an appliance starts with. Times are UTC, the simulated appliance's zone.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimSchedule {
    /// The schedule id; the appliance's own UI always uses `default`.
    #[serde(default = "default_schedule_id")]
    pub id: String,
    #[serde(default = "default_true")]
    pub enable: bool,
    #[serde(default = "default_hour")]
    pub hour: u32,
    #[serde(default)]
    pub minute: u32,
    /// Days it runs on (`MONDAY` or `Mon`); empty means every day.
    #[serde(default)]
    pub days: Vec<Weekday>,
    /// Backups kept at the location; `None` keeps all.
    #[serde(default = "default_retention")]
    pub retention: Option<i64>,
    #[serde(default = "default_location")]
    pub location: String,
    #[serde(default = "default_location_user")]
    pub location_user: Option<String>,
    #[serde(default = "default_parts")]
    pub parts: Vec<String>,
    /// Shown only by appliances from 8.0.1 on.
    #[serde(default)]
    pub fast_backup: Option<bool>,
}

/// How an appliance's backups tend to end.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Profile {
    /// Every run succeeds.
    #[default]
    Healthy,
    /// Every scheduled run fails; manual runs succeed.
    FailsNightly,
    /// This share of all runs fails.
    Flaky { failure_percent: u8 },
    /// The scheduler stopped this many days ago: scheduled runs no longer start.
    MissesRuns { since_days: u32 },
}

/// The certificate a `tls` appliance presents. All are made at start; every one but
/// `unknown_ca` is signed by the simulator's CA, which a dashboard may trust.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SimTls {
    /// Valid today, for the appliance's name, `localhost` and its listening address.
    Valid,
    /// Like `valid`, but signed by a CA nobody was told about.
    UnknownCa,
    /// Valid and signed by the simulator's CA, but for `wrong-name.example.test` only.
    WrongName,
    /// For the right names and signed by the simulator's CA, but expired in 2021.
    Expired,
}

impl SimTls {
    /// The word used for it in `sim.toml`.
    pub fn word(self) -> &'static str {
        match self {
            SimTls::Valid => "valid",
            SimTls::UnknownCa => "unknown_ca",
            SimTls::WrongName => "wrong_name",
            SimTls::Expired => "expired",
        }
    }
}

/// A scripted misbehaviour, applied to every request of one appliance unless noted.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// 500 with an HTML page, as a proxy in front of the appliance sends.
    Http500Html,
    /// 503 with a plain-text proxy message.
    Http503,
    /// The usual status with a body that is not valid JSON.
    MalformedJson,
    /// Sleeps this long, then answers normally (`{ delay = "5s" }` in TOML).
    Delay(#[serde(deserialize_with = "human_duration")] Duration),
    /// Never answers.
    Hang,
    /// The next call other than a login gets 401 once, then the fault clears itself.
    Unauthorized401OnNextCall,
    /// 403 `UNAUTHORIZED` on every call, logins included.
    Forbidden403,
    /// Announces the full length, sends half the body and closes the connection.
    TruncatedBody,
    /// 200 with a JSON body of tens of megabytes.
    HugeBody,
    /// The usual body labelled `text/html`.
    WrongContentType,
    /// 200 with no body and no content type.
    EmptyBody,
    /// The connection is reset (a TCP RST) before any answer goes out.
    ConnectionReset,
    /// Status line and headers go out, the body never does.
    HangAfterHeaders,
    /// The session ends between two calls of a poll: the next job list call finds its
    /// session gone (401), then the fault clears itself. A client that logs in again and
    /// repeats the call loses nothing.
    SessionExpiresMidPoll,
    /// Other clients of the same account take every free session: ours are dropped and
    /// the session table is filled up to `max_sessions`, so the next login gets the 503
    /// of the session cap. The fault then clears itself; the taken sessions idle out.
    SessionsExhausted,
}

impl SimConfig {
    /// Reads and checks a `sim.toml`. Errors name the file, the line and the key.
    pub fn from_toml_file(path: &Path) -> anyhow::Result<SimConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        SimConfig::from_toml_str(&text, path)
    }

    /// Parses TOML text as if read from `path` (which only appears in messages).
    pub fn from_toml_str(text: &str, path: &Path) -> anyhow::Result<SimConfig> {
        let file = path.display();
        let deserializer = toml::Deserializer::parse(text)
            .map_err(|err| anyhow!("{file}, line {}: {}", line_of(text, &err), err.message()))?;

        let config: SimConfig = serde_path_to_error::deserialize(deserializer).map_err(|err| {
            let key = err.path().to_string();
            let inner = err.into_inner();
            anyhow!(
                "{file}, line {}, key `{key}`: {}",
                line_of(text, &inner),
                inner.message()
            )
        })?;

        config.check().map_err(|err| anyhow!("{file}, {err}"))?;
        Ok(config)
    }

    /// `count` appliances named `vcsa-00001`... with mixed versions and profiles, for
    /// load tests and benchmarks.
    pub fn fleet(count: usize, history_days: u32, seed: u64) -> SimConfig {
        const VERSIONS: [&str; 4] = ["8.0.3.00400", "8.0.2.00100", "7.0.3.01700", "6.7.0.44000"];
        let appliances = (0..count)
            .map(|i| {
                let profile = match i % 20 {
                    0 => Profile::FailsNightly,
                    1 | 2 => Profile::Flaky {
                        failure_percent: 10,
                    },
                    _ => Profile::Healthy,
                };
                let hour = (i % 6) as u32;
                SimAppliance::new(&format!("vcsa-{:05}", i + 1), VERSIONS[i % VERSIONS.len()])
                    .history_days(history_days)
                    .profile(profile)
                    .seed(seed.wrapping_add(i as u64))
                    .schedule(Some(SimSchedule::daily(hour, (i % 4) as u32 * 15)))
            })
            .collect();
        SimConfig {
            appliances,
            ..SimConfig::default()
        }
    }

    /// Checks what serde cannot: names, versions, ranges and uniqueness.
    fn check(&self) -> anyhow::Result<()> {
        let mut seen = std::collections::HashSet::new();
        for (index, appliance) in self.appliances.iter().enumerate() {
            let at = format!("appliances[{index}]");
            if !is_path_segment(&appliance.name) {
                anyhow::bail!(
                    "key `{at}.name`: {:?} must be 1-64 letters, digits, `-`, `_` or `.`",
                    appliance.name
                );
            }
            if !seen.insert(appliance.name.as_str()) {
                anyhow::bail!("key `{at}.name`: {:?} appears twice", appliance.name);
            }
            if ApplianceVersion::parse(&appliance.version).is_none() {
                anyhow::bail!(
                    "key `{at}.version`: {:?} is not a dotted version such as 8.0.3.00400",
                    appliance.version
                );
            }
            if appliance.history_days > MAX_HISTORY_DAYS {
                anyhow::bail!(
                    "key `{at}.history_days`: {} is more than {MAX_HISTORY_DAYS} days (100 years)",
                    appliance.history_days
                );
            }
            if let Profile::Flaky { failure_percent } = appliance.profile
                && failure_percent > 100
            {
                anyhow::bail!("key `{at}.profile.flaky.failure_percent`: at most 100");
            }
            if let Some(schedule) = &appliance.schedule
                && (schedule.hour > 23 || schedule.minute > 59)
            {
                anyhow::bail!("key `{at}.schedule`: hour must be 0-23 and minute 0-59");
            }
            if appliance.tls_listen.is_some() && appliance.tls.is_none() {
                anyhow::bail!(
                    "key `{at}.tls_listen`: only an appliance with `tls` has a listener \
                     of its own; add tls = \"valid\" or remove tls_listen"
                );
            }
        }
        Ok(())
    }
}

impl SimAppliance {
    /// An appliance with a daily 02:00 UTC schedule, 30 days of healthy history and the
    /// default credentials `administrator@vsphere.local` / `Example-Passw0rd!`.
    pub fn new(name: &str, version: &str) -> SimAppliance {
        SimAppliance {
            name: name.to_owned(),
            version: version.to_owned(),
            build: String::new(),
            username: default_username(),
            password: default_password(),
            read_only_users: Vec::new(),
            schedule: Some(SimSchedule::daily(2, 0)),
            history_days: default_history_days(),
            profile: Profile::Healthy,
            running_job: false,
            job_minutes: default_job_minutes(),
            max_sessions: default_max_sessions(),
            session_idle_minutes: default_session_idle_minutes(),
            seed: 0,
            fault: None,
            tls: None,
            tls_listen: None,
            location: default_location(),
            patched: None,
        }
    }

    /// Says the appliance was patched `days_ago` days back from `previous_version`.
    pub fn patched(mut self, days_ago: u32, previous_version: &str) -> Self {
        self.patched = Some(SimPatch {
            days_ago,
            previous_version: previous_version.to_owned(),
        });
        self
    }

    /// An appliance whose every text is hostile: its backup location and location user
    /// hold markup and script, and every scheduled run fails with a message that repeats
    /// the location's host. The dashboard must show all of it as text.
    pub fn hostile_text(name: &str, version: &str) -> SimAppliance {
        let location = format!("nfs://{HOSTILE_HOST}/export/<script>alert('location')</script>");
        SimAppliance {
            location: location.clone(),
            ..SimAppliance::new(name, version)
                .profile(Profile::FailsNightly)
                .schedule(Some(SimSchedule {
                    location,
                    location_user: Some("<b onmouseover=alert('user')>backup</b>".to_owned()),
                    ..SimSchedule::daily(2, 0)
                }))
        }
    }

    /// Sets the build number.
    pub fn build(mut self, build: &str) -> Self {
        self.build = build.to_owned();
        self
    }

    /// Sets the login name and password.
    pub fn credentials(mut self, username: &str, password: &str) -> Self {
        self.username = username.to_owned();
        self.password = password.to_owned();
        self
    }

    /// Adds a user who may read but gets 403 on writes.
    pub fn read_only_user(mut self, username: &str) -> Self {
        self.read_only_users.push(username.to_owned());
        self
    }

    /// Replaces the schedule (`None` for no schedule).
    pub fn schedule(mut self, schedule: Option<SimSchedule>) -> Self {
        self.schedule = schedule;
        self
    }

    /// Sets the days of seeded history.
    pub fn history_days(mut self, days: u32) -> Self {
        self.history_days = days;
        self
    }

    /// Sets the behaviour profile.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// Starts the appliance with a job in progress.
    pub fn running_job(mut self, running: bool) -> Self {
        self.running_job = running;
        self
    }

    /// Sets how many real minutes a new job takes.
    pub fn job_minutes(mut self, minutes: u32) -> Self {
        self.job_minutes = minutes;
        self
    }

    /// Sets the per-user session cap.
    pub fn max_sessions(mut self, max: usize) -> Self {
        self.max_sessions = max;
        self
    }

    /// Sets the session idle timeout.
    pub fn session_idle_minutes(mut self, minutes: u32) -> Self {
        self.session_idle_minutes = minutes;
        self
    }

    /// Sets the history seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the fault active from the start.
    pub fn fault(mut self, fault: Option<Fault>) -> Self {
        self.fault = fault;
        self
    }

    /// Serves the appliance over HTTPS on a listener of its own, presenting `tls`.
    pub fn tls(mut self, tls: SimTls) -> Self {
        self.tls = Some(tls);
        self
    }

    /// The build number, derived from the version when none was configured.
    pub fn effective_build(&self) -> String {
        if !self.build.is_empty() {
            return self.build.clone();
        }
        let known = match self.version.as_str() {
            "8.0.3.00400" => Some("24322831"),
            "8.0.2.00100" => Some("22617221"),
            "8.0.1.00000" => Some("21560480"),
            "7.0.3.01700" => Some("22357613"),
            "6.7.0.44000" => Some("14367737"),
            _ => None,
        };
        match known {
            Some(build) => build.to_owned(),
            None => {
                let hash = super::prng::hash_str(&self.version);
                format!("{}", 10_000_000 + hash % 20_000_000)
            }
        }
    }
}

impl SimSchedule {
    /// An enabled schedule every day at `hour:minute` UTC, keeping 7 backups of the
    /// `seat` part on the default NFS location.
    pub fn daily(hour: u32, minute: u32) -> SimSchedule {
        SimSchedule {
            id: default_schedule_id(),
            enable: true,
            hour,
            minute,
            days: Vec::new(),
            retention: default_retention(),
            location: default_location(),
            location_user: default_location_user(),
            parts: default_parts(),
            fast_backup: None,
        }
    }
}

/// True for a name that is a single safe URL path segment.
fn is_path_segment(name: &str) -> bool {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let dots_only = name.chars().all(|c| c == '.');
    !name.is_empty() && name.len() <= 64 && name.chars().all(ok_char) && !dots_only
}

/// The 1-based line a TOML error points at, or `?` when it carries no position.
fn line_of(text: &str, err: &toml::de::Error) -> String {
    match err.span() {
        Some(span) => {
            let start = span.start.min(text.len());
            (text[..start].matches('\n').count() + 1).to_string()
        }
        None => "?".to_owned(),
    }
}

fn human_duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    humantime::parse_duration(&text).map_err(serde::de::Error::custom)
}

fn default_username() -> String {
    "administrator@vsphere.local".to_owned()
}

fn default_password() -> String {
    "Example-Passw0rd!".to_owned()
}

/// Longest history a simulated appliance makes up: its jobs are all kept in memory, so
/// an unbounded number of days would exhaust it at the first request.
pub const MAX_HISTORY_DAYS: u32 = 36_500;

fn default_history_days() -> u32 {
    30
}

fn default_job_minutes() -> u32 {
    12
}

fn default_max_sessions() -> usize {
    550
}

fn default_session_idle_minutes() -> u32 {
    30
}

fn default_location() -> String {
    DEFAULT_LOCATION.to_owned()
}

fn default_location_user() -> Option<String> {
    Some("svc-vcsa-backup".to_owned())
}

fn default_schedule_id() -> String {
    "default".to_owned()
}

fn default_true() -> bool {
    true
}

fn default_hour() -> u32 {
    2
}

fn default_retention() -> Option<i64> {
    Some(7)
}

fn default_parts() -> Vec<String> {
    vec!["seat".to_owned()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> anyhow::Result<SimConfig> {
        SimConfig::from_toml_str(text, Path::new("sim.toml"))
    }

    #[test]
    fn a_two_line_appliance_gets_defaults() {
        let config = parse("[[appliances]]\nname = \"a\"\nversion = \"8.0.3.00400\"\n").unwrap();
        let appliance = &config.appliances[0];
        assert_eq!(appliance.job_minutes, 12);
        assert_eq!(appliance.max_sessions, 550);
        assert!(appliance.schedule.is_none());
        assert_eq!(appliance.effective_build(), "24322831");
    }

    #[test]
    fn faults_and_profiles_read_from_toml() {
        let text = r#"
[[appliances]]
name = "a"
version = "7.0.3.01700"
fault = { delay = "2s" }
profile = { flaky = { failure_percent = 25 } }
[appliances.schedule]
hour = 3
days = ["SATURDAY", "Sun"]
[[appliances]]
name = "b"
version = "6.7.0.44000"
fault = "http500_html"
"#;
        let config = parse(text).unwrap();
        assert_eq!(
            config.appliances[0].fault,
            Some(Fault::Delay(Duration::from_secs(2)))
        );
        assert_eq!(
            config.appliances[0].profile,
            Profile::Flaky {
                failure_percent: 25
            }
        );
        let schedule = config.appliances[0].schedule.as_ref().unwrap();
        assert_eq!(schedule.days, vec![Weekday::Sat, Weekday::Sun]);
        assert_eq!(config.appliances[1].fault, Some(Fault::Http500Html));
    }

    #[test]
    fn every_fault_has_a_toml_word() {
        let words = [
            "http500_html",
            "http503",
            "malformed_json",
            "hang",
            "unauthorized401_on_next_call",
            "forbidden403",
            "truncated_body",
            "huge_body",
            "wrong_content_type",
            "empty_body",
            "connection_reset",
            "hang_after_headers",
            "session_expires_mid_poll",
            "sessions_exhausted",
        ];
        for word in words {
            let text =
                format!("[[appliances]]\nname = \"a\"\nversion = \"8.0.3\"\nfault = \"{word}\"\n");
            assert!(
                parse(&text).unwrap().appliances[0].fault.is_some(),
                "{word}"
            );
        }
    }

    #[test]
    fn tls_words_and_the_own_listener_read_from_toml() {
        let text = r#"
tls_ca_file = "sim-ca.pem"
[[appliances]]
name = "a"
version = "8.0.3.00400"
tls = "expired"
tls_listen = "127.0.0.1:8881"
"#;
        let config = parse(text).unwrap();
        assert_eq!(config.tls_ca_file, Some(PathBuf::from("sim-ca.pem")));
        assert_eq!(config.appliances[0].tls, Some(SimTls::Expired));
        let listen = config.appliances[0].tls_listen.unwrap();
        assert_eq!(listen.port(), 8881);

        for kind in [
            SimTls::Valid,
            SimTls::UnknownCa,
            SimTls::WrongName,
            SimTls::Expired,
        ] {
            let text = format!(
                "[[appliances]]\nname = \"a\"\nversion = \"8.0.3\"\ntls = \"{}\"\n",
                kind.word()
            );
            assert_eq!(parse(&text).unwrap().appliances[0].tls, Some(kind));
        }
    }

    #[test]
    fn an_unknown_tls_word_or_a_lone_tls_listen_is_refused() {
        let unknown = "[[appliances]]\nname = \"a\"\nversion = \"8.0.3\"\ntls = \"broken\"\n";
        let message = parse(unknown).unwrap_err().to_string();
        assert!(message.contains("line 4"), "{message}");
        assert!(message.contains("tls"), "{message}");

        let lone = "[[appliances]]\nname = \"a\"\nversion = \"8.0.3\"\n\
                    tls_listen = \"127.0.0.1:8881\"\n";
        let message = parse(lone).unwrap_err().to_string();
        assert!(message.contains("appliances[0].tls_listen"), "{message}");
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let text = "[[appliances]]\nname = \"a\"\nversion = \"8.0.3.00400\"\n\
                    job_minutes = \"x\"\n";
        let message = parse(text).unwrap_err().to_string();
        assert!(message.starts_with("sim.toml, line 4, key"), "{message}");
        assert!(message.contains("job_minutes"), "{message}");
    }

    #[test]
    fn duplicate_names_and_bad_versions_are_refused() {
        let dup = "[[appliances]]\nname = \"a\"\nversion = \"8.0.3.00400\"\n\
                   [[appliances]]\nname = \"a\"\nversion = \"8.0.3.00400\"\n";
        assert!(
            parse(dup)
                .unwrap_err()
                .to_string()
                .contains("appliances[1].name")
        );
        let bad = "[[appliances]]\nname = \"a\"\nversion = \"eight\"\n";
        assert!(
            parse(bad)
                .unwrap_err()
                .to_string()
                .contains("appliances[0].version")
        );
    }
}
