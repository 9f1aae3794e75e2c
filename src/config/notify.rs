//! The `[notify]` table (channels, routes, repeat, grouping, retries) and the `[heartbeat]`
//! table (a URL pinged after healthy poll rounds). Webhook URLs carry tokens and SMTP
//! passwords are passwords: both are given by reference only, like appliance passwords.

use std::collections::HashSet;
use std::time::Duration;

use chrono_tz::Tz;
use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::ConfigError;
use super::raw::{At, Blame};
use super::values::{check_name, duration_within, parse_zone};
use crate::secret::Secret;

/// Everything about notifications, validated. No channel means notifications are off.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    /// Where messages can go, by name.
    pub channels: Vec<ChannelConfig>,
    /// Which appliances go to which channels, by tag; checked in order, all matches used.
    pub routes: Vec<RouteConfig>,
    /// Channels for appliances that no route matches.
    pub default_channels: Vec<String>,
    /// A problem still present is announced again only after this long.
    pub repeat: Duration,
    /// Failures at one backup target within this window go out as one message.
    pub group_window: Duration,
    /// Longest one delivery attempt may take.
    pub timeout: Duration,
    /// Attempts per delivery, the first included.
    pub max_attempts: u32,
    /// Wait before the first retry; each later retry waits twice as long.
    pub retry_delay: Duration,
    /// Longest wait between two retries.
    pub max_retry_delay: Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        NotifyConfig {
            channels: Vec::new(),
            routes: Vec::new(),
            default_channels: Vec::new(),
            repeat: Duration::from_secs(4 * 3600),
            group_window: Duration::from_secs(120),
            timeout: Duration::from_secs(10),
            max_attempts: 6,
            retry_delay: Duration::from_secs(30),
            max_retry_delay: Duration::from_secs(3600),
        }
    }
}

impl NotifyConfig {
    /// True when at least one channel is configured.
    pub fn is_enabled(&self) -> bool {
        !self.channels.is_empty()
    }
}

/// One place messages go.
#[derive(Debug, Clone)]
pub struct ChannelConfig {
    /// Name used by routes and shown on the deliveries page.
    pub name: String,
    /// How messages are sent.
    pub kind: ChannelKind,
    /// When to send a daily summary, if ever.
    pub digest: Option<DigestTime>,
}

/// The protocol of a channel, with its settings.
#[derive(Debug, Clone)]
pub enum ChannelKind {
    /// A JSON body (documented in the README) posted to a URL.
    Webhook {
        /// The URL, a secret: it often carries a token.
        url: Secret,
    },
    /// A Slack incoming webhook.
    Slack {
        /// The hook URL, a secret.
        url: Secret,
    },
    /// A Microsoft Teams incoming webhook (workflow), sent an Adaptive Card.
    Teams {
        /// The hook URL, a secret.
        url: Secret,
    },
    /// E-mail over SMTP.
    Email(SmtpConfig),
}

impl ChannelKind {
    /// The word written in the configuration.
    pub fn as_str(&self) -> &'static str {
        match self {
            ChannelKind::Webhook { .. } => "webhook",
            ChannelKind::Slack { .. } => "slack",
            ChannelKind::Teams { .. } => "teams",
            ChannelKind::Email(_) => "email",
        }
    }
}

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which must succeed (usually port 587).
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
    /// No encryption at all; for a relay on the same host or a test server.
    Plain,
}

/// Settings of an e-mail channel.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// Mail server host name.
    pub host: String,
    /// Mail server port.
    pub port: u16,
    /// Connection protection.
    pub security: SmtpSecurity,
    /// User to sign in as; `None` sends without signing in.
    pub username: Option<String>,
    /// Password of `username`.
    pub password: Option<Secret>,
    /// Sender address.
    pub from: String,
    /// Recipient addresses.
    pub to: Vec<String>,
}

/// A daily moment in a time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DigestTime {
    /// Hour of the day, 0 to 23.
    pub hour: u32,
    /// Zone the hour is read in.
    pub zone: Tz,
}

/// Channels for appliances carrying any of some tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteConfig {
    /// An appliance with any of these tags matches.
    pub tags: Vec<String>,
    /// Channel names.
    pub channels: Vec<String>,
}

/// How the outside heartbeat URL is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingMethod {
    /// `GET` with no body.
    Get,
    /// `POST` with a short JSON body.
    Post,
}

/// The `[heartbeat]` table: a URL called after each healthy poll round, so that another
/// monitor notices when the dashboard stops.
#[derive(Debug, Clone)]
pub struct HeartbeatPingConfig {
    /// The URL, a secret: ping services put their token in it.
    pub url: Secret,
    /// GET or POST.
    pub method: PingMethod,
    /// Length of one round: health is judged, and a ping sent, this often.
    pub every: Duration,
    /// Longest one ping may take.
    pub timeout: Duration,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawNotify {
    pub repeat: At<String>,
    pub group_window: At<String>,
    pub timeout: At<String>,
    pub max_attempts: At<i64>,
    pub retry_delay: At<String>,
    pub max_retry_delay: At<String>,
    #[serde(default)]
    pub default_channels: Vec<Spanned<String>>,
    #[serde(default, rename = "channel")]
    pub channels: Vec<RawChannel>,
    #[serde(default, rename = "route")]
    pub routes: Vec<RawRoute>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChannel {
    pub name: Spanned<String>,
    pub kind: Spanned<String>,
    pub url_env: At<String>,
    pub url_file: At<String>,
    pub smtp_host: At<String>,
    pub smtp_port: At<i64>,
    pub smtp_security: At<String>,
    pub smtp_user: At<String>,
    pub password_env: At<String>,
    pub password_file: At<String>,
    pub from: At<String>,
    #[serde(default)]
    pub to: Vec<Spanned<String>>,
    pub digest_hour: At<i64>,
    pub digest_zone: At<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRoute {
    pub tags: Spanned<Vec<String>>,
    pub channels: Spanned<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHeartbeat {
    pub url_env: At<String>,
    pub url_file: At<String>,
    pub method: At<String>,
    pub every: At<String>,
    pub timeout: At<String>,
}

/// Checks the `[notify]` table.
pub(super) fn validate(
    raw: &RawNotify,
    blame: &Blame<'_>,
    env: &[(String, String)],
) -> Result<NotifyConfig, ConfigError> {
    let defaults = NotifyConfig::default();
    let mut channels = Vec::with_capacity(raw.channels.len());
    let mut names = HashSet::new();
    for (index, c) in raw.channels.iter().enumerate() {
        let channel = validate_channel(c, index, blame, env)?;
        if !names.insert(channel.name.clone()) {
            let m = format!("channel name `{}` is used twice", channel.name);
            let key = format!("notify.channel[{index}].name");
            return Err(blame.at(Some(c.name.span()), &key, m));
        }
        channels.push(channel);
    }

    let known = |name: &str| names.contains(name);
    let mut routes = Vec::with_capacity(raw.routes.len());
    for (index, r) in raw.routes.iter().enumerate() {
        let key = |field: &str| format!("notify.route[{index}].{field}");
        if r.tags.get_ref().is_empty() {
            let m = "a route needs at least one tag; use notify.default_channels for the rest";
            return Err(blame.at(Some(r.tags.span()), &key("tags"), m.to_owned()));
        }
        if let Some(unknown) = r.channels.get_ref().iter().find(|c| !known(c)) {
            let m = format!("no channel is named `{}`", bounded(unknown));
            return Err(blame.at(Some(r.channels.span()), &key("channels"), m));
        }
        routes.push(RouteConfig {
            tags: r.tags.get_ref().clone(),
            channels: r.channels.get_ref().clone(),
        });
    }

    let mut default_channels = Vec::with_capacity(raw.default_channels.len());
    for name in &raw.default_channels {
        if !known(name.get_ref()) {
            let m = format!("no channel is named `{}`", bounded(name.get_ref()));
            return Err(blame.at(Some(name.span()), "notify.default_channels", m));
        }
        default_channels.push(name.get_ref().clone());
    }

    let max_attempts = blame.value(
        &raw.max_attempts,
        "notify.max_attempts",
        defaults.max_attempts,
        |n| {
            u32::try_from(*n)
                .ok()
                .filter(|n| (1..=50).contains(n))
                .ok_or_else(|| format!("{n} is out of range; use a number from 1 to 50"))
        },
    )?;
    let retry_delay = blame.value(
        &raw.retry_delay,
        "notify.retry_delay",
        defaults.retry_delay,
        duration_within(1, 86_400),
    )?;
    let max_retry_delay = blame.value(
        &raw.max_retry_delay,
        "notify.max_retry_delay",
        defaults.max_retry_delay,
        duration_within(1, 7 * 86_400),
    )?;
    check_retry_delays(raw, blame, retry_delay, max_retry_delay)?;

    Ok(NotifyConfig {
        channels,
        routes,
        default_channels,
        repeat: blame.value(
            &raw.repeat,
            "notify.repeat",
            defaults.repeat,
            duration_within(60, 30 * 86_400),
        )?,
        group_window: blame.value(
            &raw.group_window,
            "notify.group_window",
            defaults.group_window,
            duration_within(1, 3600),
        )?,
        timeout: blame.value(
            &raw.timeout,
            "notify.timeout",
            defaults.timeout,
            duration_within(1, 300),
        )?,
        max_attempts,
        retry_delay,
        max_retry_delay,
    })
}

/// The first retry must not wait longer than the cap on every retry: the doubling would
/// otherwise start above its own ceiling. Blames the key that was written, the first
/// delay when both were.
fn check_retry_delays(
    raw: &RawNotify,
    blame: &Blame<'_>,
    retry_delay: Duration,
    max_retry_delay: Duration,
) -> Result<(), ConfigError> {
    if retry_delay <= max_retry_delay {
        return Ok(());
    }
    let message = format!(
        "retry_delay ({}) is longer than max_retry_delay ({}); make retry_delay at most \
         max_retry_delay",
        humantime::format_duration(retry_delay),
        humantime::format_duration(max_retry_delay)
    );
    let (span, key) = match (&raw.retry_delay, &raw.max_retry_delay) {
        (Some(first), _) => (Some(first.span()), "notify.retry_delay"),
        (None, Some(cap)) => (Some(cap.span()), "notify.max_retry_delay"),
        (None, None) => (None, "notify.retry_delay"),
    };
    Err(blame.at(span, key, message))
}

fn validate_channel(
    c: &RawChannel,
    index: usize,
    blame: &Blame<'_>,
    env: &[(String, String)],
) -> Result<ChannelConfig, ConfigError> {
    let key = |field: &str| format!("notify.channel[{index}].{field}");
    let name = c.name.get_ref();
    check_name(name).map_err(|m| {
        let m = m.replace("appliance name", "channel name");
        blame.at(Some(c.name.span()), &key("name"), m)
    })?;

    let url = |blame: &Blame<'_>| -> Result<Secret, ConfigError> {
        let secret =
            by_reference(&c.url_env, &c.url_file, "url", blame, env, &key)?.ok_or_else(|| {
                let m = "no URL: add url_env = \"VARIABLE\" or url_file = \"path\" (hook URLs \
                         carry tokens and are never written in this file)";
                blame.at(Some(c.kind.span()), &key("url_env"), m.to_owned())
            })?;
        check_http_url(secret.expose()).map_err(|m| {
            let (span, field) = match &c.url_env {
                Some(v) => (v.span(), "url_env"),
                None => (c.url_file.as_ref().map_or(0..0, Spanned::span), "url_file"),
            };
            blame.at(Some(span), &key(field), m)
        })?;
        Ok(secret)
    };

    let kind = match c.kind.get_ref().as_str() {
        "webhook" => ChannelKind::Webhook { url: url(blame)? },
        "slack" => ChannelKind::Slack { url: url(blame)? },
        "teams" => ChannelKind::Teams { url: url(blame)? },
        "email" => ChannelKind::Email(validate_smtp(c, blame, env, &key)?),
        other => {
            let m = format!(
                "`{}` is not a channel kind; use webhook, slack, teams or email",
                bounded(other)
            );
            return Err(blame.at(Some(c.kind.span()), &key("kind"), m));
        }
    };

    let digest = match (&c.digest_hour, &c.digest_zone) {
        (None, None) => None,
        (None, Some(zone)) => {
            let m = "digest_zone needs digest_hour too".to_owned();
            return Err(blame.at(Some(zone.span()), &key("digest_zone"), m));
        }
        (Some(hour), zone) => {
            let h = u32::try_from(*hour.get_ref())
                .ok()
                .filter(|h| *h < 24)
                .ok_or_else(|| {
                    let m = format!("{} is not an hour; use 0 to 23", hour.get_ref());
                    blame.at(Some(hour.span()), &key("digest_hour"), m)
                })?;
            let zone = blame.value(zone, &key("digest_zone"), chrono_tz::UTC, |s| parse_zone(s))?;
            Some(DigestTime { hour: h, zone })
        }
    };

    Ok(ChannelConfig {
        name: name.clone(),
        kind,
        digest,
    })
}

fn validate_smtp(
    c: &RawChannel,
    blame: &Blame<'_>,
    env: &[(String, String)],
    key: &dyn Fn(&str) -> String,
) -> Result<SmtpConfig, ConfigError> {
    let required = |value: &At<String>, field: &str| -> Result<String, ConfigError> {
        match value {
            Some(v) if !v.get_ref().trim().is_empty() => Ok(v.get_ref().trim().to_owned()),
            Some(v) => Err(blame.at(Some(v.span()), &key(field), "it is empty".to_owned())),
            None => {
                let m = format!("an email channel needs {field}");
                Err(blame.at(Some(c.kind.span()), &key(field), m))
            }
        }
    };
    let host = required(&c.smtp_host, "smtp_host")?;
    let from = required(&c.from, "from")?;
    check_address(&from)
        .map_err(|m| blame.at(c.from.as_ref().map(Spanned::span), &key("from"), m))?;
    if c.to.is_empty() {
        let m = "an email channel needs at least one address in `to`".to_owned();
        return Err(blame.at(Some(c.kind.span()), &key("to"), m));
    }
    let mut to = Vec::with_capacity(c.to.len());
    for address in &c.to {
        check_address(address.get_ref())
            .map_err(|m| blame.at(Some(address.span()), &key("to"), m))?;
        to.push(address.get_ref().trim().to_owned());
    }

    let security = blame.value(
        &c.smtp_security,
        &key("smtp_security"),
        SmtpSecurity::StartTls,
        |s| match s.as_str() {
            "starttls" => Ok(SmtpSecurity::StartTls),
            "tls" => Ok(SmtpSecurity::Tls),
            "plain" => Ok(SmtpSecurity::Plain),
            other => Err(format!(
                "`{}` is not a choice; use starttls, tls or plain",
                bounded(other)
            )),
        },
    )?;
    let default_port = match security {
        SmtpSecurity::Tls => 465,
        SmtpSecurity::StartTls => 587,
        SmtpSecurity::Plain => 25,
    };
    let port = blame.value(&c.smtp_port, &key("smtp_port"), default_port, |n| {
        u16::try_from(*n)
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{n} is not a port; use 1 to 65535"))
    })?;

    let username = c.smtp_user.as_ref().map(|u| u.get_ref().clone());
    let password = by_reference(
        &c.password_env,
        &c.password_file,
        "password",
        blame,
        env,
        key,
    )?;
    if username.is_some() != password.is_some() {
        let m = "give smtp_user and a password (password_env or password_file) together, or \
                 neither to send without signing in"
            .to_owned();
        return Err(blame.at(Some(c.kind.span()), &key("smtp_user"), m));
    }

    Ok(SmtpConfig {
        host,
        port,
        security,
        username,
        password,
        from,
        to,
    })
}

/// Checks the `[heartbeat]` table.
pub(super) fn validate_heartbeat(
    raw: &RawHeartbeat,
    default_every: Duration,
    blame: &Blame<'_>,
    env: &[(String, String)],
) -> Result<HeartbeatPingConfig, ConfigError> {
    let key = |field: &str| format!("heartbeat.{field}");
    let url =
        by_reference(&raw.url_env, &raw.url_file, "url", blame, env, &key)?.ok_or_else(|| {
            let m = "no URL: add url_env = \"VARIABLE\" or url_file = \"path\"".to_owned();
            blame.at(None, &key("url_env"), m)
        })?;
    check_http_url(url.expose()).map_err(|m| {
        let span = raw
            .url_env
            .as_ref()
            .or(raw.url_file.as_ref())
            .map(Spanned::span);
        blame.at(span, &key("url_env"), m)
    })?;

    Ok(HeartbeatPingConfig {
        url,
        method: blame.value(&raw.method, &key("method"), PingMethod::Get, |s| {
            match s.to_ascii_lowercase().as_str() {
                "get" => Ok(PingMethod::Get),
                "post" => Ok(PingMethod::Post),
                _ => Err(format!("`{}` is not a method; use get or post", bounded(s))),
            }
        })?,
        every: blame.value(
            &raw.every,
            &key("every"),
            default_every,
            duration_within(1, 86_400),
        )?,
        timeout: blame.value(
            &raw.timeout,
            &key("timeout"),
            Duration::from_secs(10),
            duration_within(1, 300),
        )?,
    })
}

/// A secret given by `<what>_env` or `<what>_file`; `None` when neither is given.
fn by_reference(
    env_key: &At<String>,
    file_key: &At<String>,
    what: &str,
    blame: &Blame<'_>,
    env: &[(String, String)],
    key: &dyn Fn(&str) -> String,
) -> Result<Option<Secret>, ConfigError> {
    let env_field = format!("{what}_env");
    let file_field = format!("{what}_file");
    match (env_key, file_key) {
        (None, None) => Ok(None),
        (Some(var), Some(_)) => {
            let m = format!("give either {env_field} or {file_field}, not both");
            Err(blame.at(Some(var.span()), &key(&env_field), m))
        }
        (Some(var), None) => {
            let name = var.get_ref();
            match env.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()) {
                Some(v) if !v.is_empty() => Ok(Some(Secret::new(v))),
                Some(_) => Err(blame.at(
                    Some(var.span()),
                    &key(&env_field),
                    format!("the environment variable `{}` is empty", bounded(name)),
                )),
                None => Err(blame.at(
                    Some(var.span()),
                    &key(&env_field),
                    format!("the environment variable `{}` is not set", bounded(name)),
                )),
            }
        }
        (None, Some(file)) => {
            let path = blame.relative_path(file.get_ref());
            super::raw::read_password_file(&path)
                .map(Some)
                .map_err(|m| blame.at(Some(file.span()), &key(&file_field), m))
        }
    }
}

/// An http(s) URL with a host; the message never repeats the URL, which is a secret.
fn check_http_url(text: &str) -> Result<(), String> {
    let ok = Url::parse(text)
        .ok()
        .is_some_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some());
    if ok {
        Ok(())
    } else {
        Err(
            "the value is not an http:// or https:// URL with a host (not shown: it is \
             secret)"
                .to_owned(),
        )
    }
}

/// A plain `local@domain` address; display names are not needed here.
fn check_address(text: &str) -> Result<(), String> {
    let text = text.trim();
    let ok = text.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty() && (domain.contains('.') || domain == "localhost")
    }) && !text.contains(char::is_whitespace)
        && !text.contains(['<', '>', ',']);
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not an e-mail address; write it like \"backup-team@example.test\"",
            bounded(text)
        ))
    }
}

fn bounded(text: &str) -> String {
    crate::domain::text::bounded(text, 80)
}
