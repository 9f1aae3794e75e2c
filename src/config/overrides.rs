//! `VBDASH_*` environment variables that override values of the file.

use toml::Spanned;

use super::error::ConfigError;
use super::raw::RawConfig;

/// Every variable that is read, with the key it overrides.
pub const VARIABLES: [(&str, &str); 12] = [
    ("VBDASH_SERVER_LISTEN", "server.listen"),
    ("VBDASH_SERVER_REFRESH", "server.refresh"),
    ("VBDASH_SERVER_DISPLAY_ZONE", "server.display_zone"),
    ("VBDASH_SERVER_HEADER_TIMEOUT", "server.header_timeout"),
    ("VBDASH_SERVER_MAX_CONNECTIONS", "server.max_connections"),
    ("VBDASH_DATABASE_URL", "database.url"),
    ("VBDASH_POLL_INTERVAL", "poll.interval"),
    ("VBDASH_POLL_RUNNING_INTERVAL", "poll.running_interval"),
    ("VBDASH_POLL_TIMEOUT", "poll.timeout"),
    ("VBDASH_POLL_MAX_BACKOFF", "poll.max_backoff"),
    ("VBDASH_POLL_CONCURRENCY", "poll.concurrency"),
    ("VBDASH_POLL_GRACE", "poll.grace"),
];

/// The variable that overrides `key`, if any.
pub(super) fn variable_for(key: &str) -> Option<&'static str> {
    VARIABLES
        .iter()
        .find(|(_, k)| *k == key)
        .map(|(var, _)| *var)
}

/// Applies the overrides found in `env`. A value from the environment has no line in the
/// file, so a bad one is reported by its variable name instead.
pub(super) fn apply(raw: &mut RawConfig, env: &[(String, String)]) -> Result<(), ConfigError> {
    for (name, value) in env {
        let Some((_, key)) = VARIABLES.iter().find(|(var, _)| var == name) else {
            continue;
        };
        // No span: errors about this value fall back to naming the key only.
        let text = || Some(Spanned::new(0..0, value.clone()));
        match *key {
            "server.listen" => raw.server.listen = text(),
            "server.refresh" => raw.server.refresh = text(),
            "server.display_zone" => raw.server.display_zone = text(),
            "server.header_timeout" => raw.server.header_timeout = text(),
            "database.url" => raw.database.url = text(),
            "poll.interval" => raw.poll.interval = text(),
            "poll.running_interval" => raw.poll.running_interval = text(),
            "poll.timeout" => raw.poll.timeout = text(),
            "poll.max_backoff" => raw.poll.max_backoff = text(),
            "poll.grace" => raw.poll.grace = text(),
            "poll.concurrency" => raw.poll.concurrency = whole_number(name, key, value)?,
            "server.max_connections" => {
                raw.server.max_connections = whole_number(name, key, value)?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// A whole number from a variable, or an error naming the variable and its key.
fn whole_number(name: &str, key: &str, value: &str) -> Result<Option<Spanned<i64>>, ConfigError> {
    let n = value.trim().parse::<i64>().map_err(|_| ConfigError::Env {
        variable: name.to_owned(),
        key: key.to_owned(),
        message: format!("`{value}` is not a whole number"),
    })?;
    Ok(Some(Spanned::new(0..0, n)))
}
