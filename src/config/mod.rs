//! Configuration: one TOML file plus `VBDASH_*` environment overrides, read once at start
//! and passed down. Nothing else in vbdash reads the environment.
//!
//! Every error names the file, the line and the key, and says what would be valid.
//! Passwords are only ever given by reference (`password_env`, `password_file`) and are
//! resolved here into [`Secret`]s.

mod auth;
mod error;
mod maintenance;
mod notify;
mod overrides;
mod presets;
mod raw;
mod values;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use url::Url;

use crate::secret::Secret;

pub use auth::{AuthConfig, AuthMode, ProxyAuth, check_loopback};
pub use error::ConfigError;
pub use maintenance::{MaintenanceWindow, WindowTimes, parse_day};
pub use notify::{
    ChannelConfig, ChannelKind, DigestTime, HeartbeatPingConfig, NotifyConfig, PingMethod,
    RouteConfig, SmtpConfig, SmtpSecurity,
};
pub use presets::{ActionsConfig, Preset};
pub use values::{parse_duration, parse_zone};

/// The whole configuration, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it was read from, for messages.
    pub source: PathBuf,
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub poll: PollConfig,
    pub retention: RetentionConfig,
    /// Who may use the dashboard.
    pub auth: AuthConfig,
    pub appliances: Vec<ApplianceConfig>,
    /// Backup locations offered by actions (`[[preset]]`).
    pub presets: Vec<Preset>,
    /// How bulk actions behave (`[actions]`).
    pub actions: ActionsConfig,
    /// Where status changes are announced (`[notify]`).
    pub notify: NotifyConfig,
    /// The outside URL pinged after healthy poll rounds (`[heartbeat]`), if any.
    pub heartbeat_ping: Option<HeartbeatPingConfig>,
    /// Maintenance windows by tag (`[[maintenance]]`).
    pub maintenance: Vec<MaintenanceWindow>,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// How often the fleet rows refresh themselves in the browser.
    pub refresh: Duration,
    /// Time zone for times shown on pages.
    pub display_zone: Tz,
    /// How long a client may take to send a request's headers, and how long an idle
    /// connection stays open, before it is closed.
    pub header_timeout: Duration,
    /// Open connections beyond this wait to be accepted until others close.
    pub max_connections: usize,
}

#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    /// `sqlite://path.db` or a plain path.
    pub url: String,
}

#[derive(Debug, Clone)]
pub struct PollConfig {
    /// Time between polls of one appliance when nothing runs.
    pub interval: Duration,
    /// Time between polls while a job runs on the appliance.
    pub running_interval: Duration,
    /// Limit for one request to an appliance.
    pub timeout: Duration,
    /// Appliances polled at the same time, fleet-wide.
    pub concurrency: usize,
    /// Longest wait between polls of an appliance that keeps failing.
    pub max_backoff: Duration,
}

/// How long history is kept before the background upkeep deletes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionConfig {
    /// Jobs that started longer ago than this are deleted (two years by default).
    pub jobs: Duration,
    /// Poll records older than this are deleted (30 days by default).
    pub polls: Duration,
    /// Notification events, messages, deliveries and attempts older than this are
    /// deleted once nothing waits on them (90 days by default).
    pub notifications: Duration,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            jobs: Duration::from_secs(730 * 86_400),
            polls: Duration::from_secs(30 * 86_400),
            notifications: Duration::from_secs(90 * 86_400),
        }
    }
}

/// How the certificate of an appliance is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSetting {
    /// Against the system's trusted roots.
    Verify,
    /// Against this CA bundle (PEM), for appliances signed by their own VMCA.
    CaFile(PathBuf),
    /// Not at all; only when written out as `insecure = true`.
    Insecure,
}

/// One appliance to poll.
#[derive(Debug, Clone)]
pub struct ApplianceConfig {
    /// Stable key: used in URLs and the database.
    pub name: String,
    pub url: Url,
    pub username: String,
    pub password: Secret,
    pub tls: TlsSetting,
    /// Zone the appliance's schedule runs in.
    pub time_zone: Tz,
    /// How late a scheduled run may start before it counts as missed.
    pub grace: Duration,
    pub tags: Vec<String>,
}

impl Config {
    /// Reads and validates `path`, then applies the `VBDASH_*` variables of `env`.
    pub fn load(path: &Path, env: &[(String, String)]) -> Result<Config, ConfigError> {
        let bytes = std::fs::read(path).map_err(|reason| ConfigError::Read {
            file: path.to_path_buf(),
            reason,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let valid_up_to = e.utf8_error().valid_up_to();
            // The part before the first bad byte is text, so lines and columns count there.
            let valid = String::from_utf8_lossy(&e.as_bytes()[..valid_up_to]).into_owned();
            ConfigError::Syntax {
                file: path.to_path_buf(),
                line: error::line_of(&valid, valid.len()),
                column: error::column_of(&valid, valid.len()),
                table: error::table_of(&valid, valid.len()),
                message: "the file is not UTF-8 text".into(),
            }
        })?;
        Config::from_toml(&text, path, env)
    }

    /// Validates TOML text as if read from `path` (used for messages and relative paths).
    pub fn from_toml(
        text: &str,
        path: &Path,
        env: &[(String, String)],
    ) -> Result<Config, ConfigError> {
        let mut raw = raw::parse(text, path)?;
        overrides::apply(&mut raw, env)?;
        raw::validate(raw, text, path, env)
    }

    /// Reads only the `[database]` table of `path` (with its overrides): enough for
    /// commands such as `vbdash user`, which must not need the appliance passwords.
    pub fn load_database(
        path: &Path,
        env: &[(String, String)],
    ) -> Result<DatabaseConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|reason| ConfigError::Read {
            file: path.to_path_buf(),
            reason,
        })?;
        let mut raw = raw::parse(&text, path)?;
        overrides::apply(&mut raw, env)?;
        raw::validate_database_only(&raw, &text, path)
    }

    /// Reads the process environment: the one place vbdash does so.
    pub fn process_env() -> Vec<(String, String)> {
        std::env::vars().collect()
    }
}
