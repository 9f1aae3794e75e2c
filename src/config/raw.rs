//! The configuration as written, with the position of each value kept for messages, and
//! its validation into [`Config`](super::Config).

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::error::{ConfigError, column_of, line_of, table_of};
use super::values::{check_name, duration_within, parse_zone};
use super::{
    ApplianceConfig, Config, DatabaseConfig, PollConfig, RetentionConfig, ServerConfig, TlsSetting,
};
use crate::secret::Secret;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub database: RawDatabase,
    #[serde(default)]
    pub poll: RawPoll,
    #[serde(default)]
    pub retention: RawRetention,
    #[serde(default)]
    pub auth: super::auth::RawAuth,
    #[serde(default, rename = "appliance")]
    pub appliances: Vec<RawAppliance>,
    #[serde(default)]
    pub actions: super::presets::RawActions,
    #[serde(default, rename = "preset")]
    pub presets: Vec<super::presets::RawPreset>,
    #[serde(default)]
    pub notify: super::notify::RawNotify,
    pub heartbeat: Option<super::notify::RawHeartbeat>,
    #[serde(default)]
    pub maintenance: Vec<super::maintenance::RawMaintenance>,
}

/// A value as written, with where it was written (`None` when it came from elsewhere,
/// such as a default or an environment variable).
pub(super) type At<T> = Option<Spanned<T>>;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    pub listen: At<String>,
    pub refresh: At<String>,
    pub display_zone: At<String>,
    pub header_timeout: At<String>,
    pub max_connections: At<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDatabase {
    pub url: At<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPoll {
    pub interval: At<String>,
    pub running_interval: At<String>,
    pub timeout: At<String>,
    pub concurrency: At<i64>,
    pub max_backoff: At<String>,
    pub grace: At<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRetention {
    pub jobs: At<String>,
    pub polls: At<String>,
    pub notifications: At<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAppliance {
    pub name: Spanned<String>,
    pub url: Spanned<String>,
    pub username: Spanned<String>,
    pub password_env: At<String>,
    pub password_file: At<String>,
    pub tls: At<String>,
    pub ca_file: At<String>,
    pub insecure: At<bool>,
    pub time_zone: At<String>,
    pub grace: At<String>,
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
}

/// Parses the TOML text; a syntax or shape error names the line and the key path.
pub(super) fn parse(text: &str, path: &Path) -> Result<RawConfig, ConfigError> {
    let deserializer =
        toml::de::Deserializer::parse(text).map_err(|e| at_error(e, "", text, path))?;
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let key = e.path().to_string();
        at_error(e.into_inner(), &key, text, path)
    })
}

/// An error of the TOML reader in words: the key when there is one, else line, column and
/// the table the mistake is in.
fn at_error(error: toml::de::Error, key: &str, text: &str, path: &Path) -> ConfigError {
    let message = plain_message(error.message());
    // Spanned values show up in the path under a private serde name; people wrote the key.
    let key = key.replace(".$__serde_spanned_private_value", "");
    let keyless = key.is_empty() || key == ".";
    match (error.span(), keyless) {
        (Some(span), true) => ConfigError::Syntax {
            file: path.to_path_buf(),
            line: line_of(text, span.start),
            column: column_of(text, span.start),
            table: table_of(text, span.start),
            message: format!(
                "not valid TOML: {}",
                twice_words(&message, text, span.start)
            ),
        },
        (Some(span), false) => ConfigError::At {
            file: path.to_path_buf(),
            line: line_of(text, span.start),
            key,
            message,
        },
        (None, true) => ConfigError::TopLevel {
            file: path.to_path_buf(),
            message,
        },
        (None, false) => ConfigError::Key {
            file: path.to_path_buf(),
            key,
            message,
        },
    }
}

/// "duplicate key" said for what it is: a key or a whole table given a second time.
fn twice_words(message: &str, text: &str, offset: usize) -> String {
    if message != "duplicate key" {
        return message.to_owned();
    }
    let line_start = text
        .get(..offset)
        .and_then(|before| before.rfind('\n'))
        .map_or(0, |i| i + 1);
    let on_header = text
        .get(line_start..)
        .is_some_and(|line| line.trim_start().starts_with('['));
    if on_header {
        "this table is already defined above".to_owned()
    } else {
        "this key is already given above in the same table".to_owned()
    }
}

/// The reader's words with Rust type names said the way people say them.
fn plain_message(message: &str) -> String {
    let message = message.trim();
    let integer = [
        "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "usize",
    ];
    for name in integer {
        if let Some(head) = message.strip_suffix(&format!("expected {name}")) {
            return format!("{head}expected a whole number");
        }
    }
    if let Some(head) = message.strip_suffix("expected f64") {
        return format!("{head}expected a number");
    }
    message.to_owned()
}

/// Builds errors for one file; keeps `validate` readable.
pub(super) struct Blame<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Blame<'_> {
    pub(super) fn at(&self, span: Option<Range<usize>>, key: &str, message: String) -> ConfigError {
        // Values from the environment carry an empty span: name the variable instead.
        let span = span.filter(|s| !s.is_empty());
        if let (None, Some(variable)) = (&span, super::overrides::variable_for(key)) {
            return ConfigError::Env {
                variable: variable.to_owned(),
                key: key.to_owned(),
                message,
            };
        }
        match span {
            Some(span) => ConfigError::At {
                file: self.path.to_path_buf(),
                line: line_of(self.text, span.start),
                key: key.to_owned(),
                message,
            },
            None => ConfigError::Key {
                file: self.path.to_path_buf(),
                key: key.to_owned(),
                message,
            },
        }
    }

    /// Parses an optional spanned value, falling back to `default` when it is absent.
    pub(super) fn value<T, R>(
        &self,
        raw: &At<R>,
        key: &str,
        default: T,
        parse: impl Fn(&R) -> Result<T, String>,
    ) -> Result<T, ConfigError> {
        match raw {
            None => Ok(default),
            Some(v) => parse(v.get_ref()).map_err(|m| self.at(Some(v.span()), key, m)),
        }
    }

    /// A path written in the file is taken relative to the file's folder.
    pub(super) fn relative_path(&self, written: &str) -> PathBuf {
        let written = Path::new(written);
        if written.is_absolute() {
            return written.to_path_buf();
        }
        self.path.parent().unwrap_or(Path::new(".")).join(written)
    }
}

/// Turns the raw configuration into a checked [`Config`].
pub(super) fn validate(
    raw: RawConfig,
    text: &str,
    path: &Path,
    env: &[(String, String)],
) -> Result<Config, ConfigError> {
    let blame = Blame { text, path };
    let listen_default = "127.0.0.1:8080".parse().expect("a literal socket address");

    let server = ServerConfig {
        listen: blame.value(&raw.server.listen, "server.listen", listen_default, |s| {
            s.parse().map_err(|_| {
                format!("`{s}` is not an address to listen on; write it like \"127.0.0.1:8080\"")
            })
        })?,
        refresh: blame.value(
            &raw.server.refresh,
            "server.refresh",
            secs(5),
            duration_within(1, 3600),
        )?,
        display_zone: blame.value(
            &raw.server.display_zone,
            "server.display_zone",
            chrono_tz::UTC,
            |s| parse_zone(s),
        )?,
        header_timeout: blame.value(
            &raw.server.header_timeout,
            "server.header_timeout",
            secs(15),
            duration_within(1, 300),
        )?,
        max_connections: blame.value(
            &raw.server.max_connections,
            "server.max_connections",
            1024,
            |n| {
                usize::try_from(*n)
                    .ok()
                    .filter(|n| (16..=65536).contains(n))
                    .ok_or_else(|| format!("{n} is out of range; use a number from 16 to 65536"))
            },
        )?,
    };

    let database = validate_database(&raw.database, &blame)?;

    let poll = validate_poll(&raw.poll, &blame)?;
    let retention = validate_retention(&raw.retention, &blame)?;
    let auth = super::auth::validate(&raw.auth, server.listen, &blame)?;
    let default_grace = blame.value(
        &raw.poll.grace,
        "poll.grace",
        secs(2 * 3600),
        duration_within(60, 2592000),
    )?;

    // Offsets, not lines: counting lines for every appliance would be quadratic.
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut appliances = Vec::with_capacity(raw.appliances.len());
    for (index, a) in raw.appliances.iter().enumerate() {
        if let Some(first) = seen.insert(a.name.get_ref(), a.name.span().start) {
            let message = format!(
                "appliance name `{}` is used twice (first on line {}); names must be unique",
                crate::domain::text::bounded(a.name.get_ref(), 80),
                line_of(text, first)
            );
            return Err(blame.at(
                Some(a.name.span()),
                &format!("appliance[{index}].name"),
                message,
            ));
        }
        appliances.push(validate_appliance(a, index, default_grace, &blame, env)?);
    }

    let presets = super::presets::validate(&raw.presets, &blame, env)?;
    let actions = super::presets::validate_actions(&raw.actions, &blame)?;
    let notify = super::notify::validate(&raw.notify, &blame, env)?;
    let heartbeat_ping = raw
        .heartbeat
        .as_ref()
        .map(|h| super::notify::validate_heartbeat(h, poll.interval, &blame, env))
        .transpose()?;
    let mut known_tags: Vec<&str> = appliances
        .iter()
        .flat_map(|a| a.tags.iter().map(String::as_str))
        .collect();
    known_tags.sort_unstable();
    known_tags.dedup();
    let maintenance = super::maintenance::validate(&raw.maintenance, &known_tags, &blame)?;

    Ok(Config {
        source: path.to_path_buf(),
        server,
        database,
        poll,
        retention,
        auth,
        appliances,
        presets,
        actions,
        notify,
        heartbeat_ping,
        maintenance,
    })
}

/// Retention shorter than a day would delete the history the pages are about.
fn validate_retention(
    raw: &RawRetention,
    blame: &Blame<'_>,
) -> Result<RetentionConfig, ConfigError> {
    const DAY: u64 = 86_400;
    let defaults = RetentionConfig::default();
    Ok(RetentionConfig {
        jobs: blame.value(
            &raw.jobs,
            "retention.jobs",
            defaults.jobs,
            duration_within(DAY, 100 * 365 * DAY),
        )?,
        polls: blame.value(
            &raw.polls,
            "retention.polls",
            defaults.polls,
            duration_within(DAY, 100 * 365 * DAY),
        )?,
        notifications: blame.value(
            &raw.notifications,
            "retention.notifications",
            defaults.notifications,
            duration_within(DAY, 100 * 365 * DAY),
        )?,
    })
}

/// Validates the `[database]` table of a whole file and nothing else.
pub(super) fn validate_database_only(
    raw: &RawConfig,
    text: &str,
    path: &Path,
) -> Result<DatabaseConfig, ConfigError> {
    validate_database(&raw.database, &Blame { text, path })
}

/// Validates `[database]` alone.
pub(super) fn validate_database(
    raw: &RawDatabase,
    blame: &Blame<'_>,
) -> Result<DatabaseConfig, ConfigError> {
    Ok(DatabaseConfig {
        url: blame.value(&raw.url, "database.url", "sqlite://vbdash.db".into(), |s| {
            check_database_url(s)
        })?,
    })
}

fn validate_poll(raw: &RawPoll, blame: &Blame<'_>) -> Result<PollConfig, ConfigError> {
    let concurrency = blame.value(&raw.concurrency, "poll.concurrency", 32, |n| {
        usize::try_from(*n)
            .ok()
            .filter(|n| (1..=4096).contains(n))
            .ok_or_else(|| format!("{n} is out of range; use a number from 1 to 4096"))
    })?;
    Ok(PollConfig {
        interval: blame.value(
            &raw.interval,
            "poll.interval",
            secs(300),
            duration_within(5, 604800),
        )?,
        running_interval: blame.value(
            &raw.running_interval,
            "poll.running_interval",
            secs(30),
            duration_within(1, 86400),
        )?,
        timeout: blame.value(
            &raw.timeout,
            "poll.timeout",
            secs(20),
            duration_within(1, 600),
        )?,
        concurrency,
        max_backoff: blame.value(
            &raw.max_backoff,
            "poll.max_backoff",
            secs(1800),
            duration_within(5, 604800),
        )?,
    })
}

fn validate_appliance(
    a: &RawAppliance,
    index: usize,
    default_grace: std::time::Duration,
    blame: &Blame<'_>,
    env: &[(String, String)],
) -> Result<ApplianceConfig, ConfigError> {
    let key = |field: &str| format!("appliance[{index}].{field}");
    let name = a.name.get_ref();
    check_name(name).map_err(|m| blame.at(Some(a.name.span()), &key("name"), m))?;

    let url = Url::parse(a.url.get_ref())
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
        .filter(|u| u.username().is_empty() && u.password().is_none())
        .ok_or_else(|| {
            let m = format!(
                "`{}` is not an appliance address; write it like \"https://vcsa-01.example.test\" \
                 (no user or password in the address: use username and password_env)",
                crate::domain::text::bounded(a.url.get_ref(), 200)
            );
            blame.at(Some(a.url.span()), &key("url"), m)
        })?;

    if a.username.get_ref().trim().is_empty() {
        let m = "the user name is empty".to_owned();
        return Err(blame.at(Some(a.username.span()), &key("username"), m));
    }

    Ok(ApplianceConfig {
        name: name.clone(),
        url,
        username: a.username.get_ref().clone(),
        password: resolve_password(a, blame, env, &key)?,
        tls: resolve_tls(a, blame, &key)?,
        time_zone: blame.value(&a.time_zone, &key("time_zone"), chrono_tz::UTC, |s| {
            parse_zone(s)
        })?,
        grace: blame.value(
            &a.grace,
            &key("grace"),
            default_grace,
            duration_within(60, 2592000),
        )?,
        tags: a.tags.iter().map(|t| t.get_ref().clone()).collect(),
    })
}

fn resolve_password(
    a: &RawAppliance,
    blame: &Blame<'_>,
    env: &[(String, String)],
    key: &dyn Fn(&str) -> String,
) -> Result<Secret, ConfigError> {
    match (&a.password_env, &a.password_file) {
        (Some(var), None) => password_from_env(var, blame, env, key),
        (None, Some(file)) => {
            let path = blame.relative_path(file.get_ref());
            read_password_file(&path)
                .map_err(|m| blame.at(Some(file.span()), &key("password_file"), m))
        }
        (Some(var), Some(_)) => {
            let m = "give either password_env or password_file, not both".to_owned();
            Err(blame.at(Some(var.span()), &key("password_env"), m))
        }
        (None, None) => {
            let m = "no password: add password_env = \"VARIABLE\" or password_file = \"path\" \
                     (passwords are never written in this file)"
                .to_owned();
            Err(blame.at(Some(a.name.span()), &key("password_env"), m))
        }
    }
}

/// The password held by the environment variable that `var` names; an unset or empty
/// variable is an error on the `password_env` key.
pub(super) fn password_from_env(
    var: &Spanned<String>,
    blame: &Blame<'_>,
    env: &[(String, String)],
    key: &dyn Fn(&str) -> String,
) -> Result<Secret, ConfigError> {
    let name = var.get_ref();
    let problem = match env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()) {
        Some(v) if !v.is_empty() => return Ok(Secret::new(v)),
        Some(_) => "is empty",
        None => "is not set",
    };
    let m = format!("the environment variable `{name}` {problem}");
    Err(blame.at(Some(var.span()), &key("password_env"), m))
}

/// Reads a password file: a regular file of at most 4 KiB (a FIFO or a device would hang
/// or never end), trailing newline removed, not empty.
pub(super) fn read_password_file(path: &Path) -> Result<Secret, String> {
    const MAX_BYTES: u64 = 4096;
    let shown = path.display();

    let meta = std::fs::metadata(path)
        .map_err(|e| format!("cannot read the password file {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("the password file {shown} is not a regular file"));
    }
    if meta.len() > MAX_BYTES {
        return Err(format!(
            "the password file {shown} is larger than {MAX_BYTES} bytes"
        ));
    }

    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the password file {shown}: {e}"))?;
    let password = text.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        return Err(format!("the password file {shown} is empty"));
    }
    Ok(Secret::new(password))
}

fn resolve_tls(
    a: &RawAppliance,
    blame: &Blame<'_>,
    key: &dyn Fn(&str) -> String,
) -> Result<TlsSetting, ConfigError> {
    if let Some(tls) = &a.tls
        && tls.get_ref() != "verify"
    {
        let m = format!(
            "`{}` is not a TLS mode; write tls = \"verify\", or ca_file = \"path\", or \
             insecure = true",
            tls.get_ref()
        );
        return Err(blame.at(Some(tls.span()), &key("tls"), m));
    }

    let insecure = a.insecure.as_ref().is_some_and(|v| *v.get_ref());
    if let (Some(_), true, Some(flag)) = (&a.tls, insecure, &a.insecure) {
        let m = "tls = \"verify\" and insecure = true contradict each other; keep one";
        return Err(blame.at(Some(flag.span()), &key("insecure"), m.to_owned()));
    }
    match (&a.ca_file, insecure) {
        (Some(file), true) => {
            let m = "ca_file and insecure = true contradict each other; keep one".to_owned();
            Err(blame.at(Some(file.span()), &key("ca_file"), m))
        }
        (Some(file), false) => {
            let path = blame.relative_path(file.get_ref());
            if !path.is_file() {
                let m = format!("the CA file {} does not exist", path.display());
                return Err(blame.at(Some(file.span()), &key("ca_file"), m));
            }
            Ok(TlsSetting::CaFile(path))
        }
        (None, true) => Ok(TlsSetting::Insecure),
        (None, false) => Ok(TlsSetting::Verify),
    }
}

fn check_database_url(url: &str) -> Result<String, String> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if path.trim().is_empty() {
        return Err("the database path is empty; write it like \"sqlite://vbdash.db\"".into());
    }
    Ok(url.to_owned())
}

fn secs(n: u64) -> std::time::Duration {
    std::time::Duration::from_secs(n)
}
