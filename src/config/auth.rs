//! The `[auth]` table: who may use the dashboard and how they prove it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use ipnet::IpNet;
use serde::Deserialize;
use toml::Spanned;

use super::error::ConfigError;
use super::raw::{At, Blame};
use super::values::parse_duration;
use crate::store::Role;

/// How people sign in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMode {
    /// Nobody signs in and everyone is an admin: only on a loopback address.
    None,
    /// Local users with passwords, created with `vbdash user add`.
    Local,
    /// A reverse proxy in front of vbdash signs people in and names them in a header.
    Proxy(ProxyAuth),
}

/// Settings of `auth = "proxy"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyAuth {
    /// Header holding the user name, such as `X-Forwarded-User`.
    pub user_header: String,
    /// Header holding the user's groups, separated by commas or spaces.
    pub groups_header: Option<String>,
    /// Addresses the headers are believed from; from any other address they are ignored.
    pub trusted_proxies: Vec<IpNet>,
    /// Role of each group; a user in several groups gets the highest.
    pub group_roles: BTreeMap<String, Role>,
    /// Role of a user in no mapped group; `None` refuses such users.
    pub default_role: Option<Role>,
}

impl ProxyAuth {
    /// True when requests from `ip` may name their user in the header.
    pub fn trusts(&self, ip: std::net::IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
    }
}

/// The `[auth]` table, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthConfig {
    pub mode: AuthMode,
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, however busy.
    pub session_absolute: Duration,
    /// vbdash is reached over HTTPS through a proxy: cookies get the `Secure` flag.
    pub behind_tls: bool,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            mode: AuthMode::None,
            session_idle: Duration::from_secs(30 * 60),
            session_absolute: Duration::from_secs(12 * 3600),
            behind_tls: false,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAuth {
    pub mode: At<String>,
    pub session_idle: At<String>,
    pub session_absolute: At<String>,
    pub behind_tls: At<bool>,
    pub user_header: At<String>,
    pub groups_header: At<String>,
    #[serde(default)]
    pub trusted_proxies: Vec<Spanned<String>>,
    #[serde(default)]
    pub group_roles: BTreeMap<String, Spanned<String>>,
    pub default_role: At<String>,
}

/// Validates `[auth]`; `listen` decides whether running without sign-in is allowed.
pub(super) fn validate(
    raw: &RawAuth,
    listen: SocketAddr,
    blame: &Blame<'_>,
) -> Result<AuthConfig, ConfigError> {
    let defaults = AuthConfig::default();
    let session_idle = blame.value(
        &raw.session_idle,
        "auth.session_idle",
        defaults.session_idle,
        |s| parse_duration(s),
    )?;
    let session_absolute = blame.value(
        &raw.session_absolute,
        "auth.session_absolute",
        defaults.session_absolute,
        |s| parse_duration(s),
    )?;
    if session_absolute < session_idle
        && let Some(written) = &raw.session_absolute
    {
        let m = "must not be shorter than auth.session_idle".to_owned();
        return Err(blame.at(Some(written.span()), "auth.session_absolute", m));
    }

    let mode_word = raw.mode.as_ref().map_or("none", |m| m.get_ref().as_str());
    let mode_span = raw.mode.as_ref().map(Spanned::span);
    let mode = match mode_word {
        "none" => AuthMode::None,
        "local" => AuthMode::Local,
        "proxy" => AuthMode::Proxy(validate_proxy(raw, mode_span.clone(), blame)?),
        other => {
            let m =
                format!("`{other}` is not an auth mode; write \"none\", \"local\" or \"proxy\"");
            return Err(blame.at(mode_span, "auth.mode", m));
        }
    };
    if mode == AuthMode::None {
        check_loopback(listen).map_err(|m| blame.at(mode_span, "auth.mode", m))?;
    }

    Ok(AuthConfig {
        mode,
        session_idle,
        session_absolute,
        behind_tls: raw.behind_tls.as_ref().is_some_and(|b| *b.get_ref()),
    })
}

/// Without sign-in, only the machine itself may reach the dashboard.
pub fn check_loopback(listen: SocketAddr) -> Result<(), String> {
    if listen.ip().is_loopback() {
        return Ok(());
    }
    Err(format!(
        "without sign-in (auth mode \"none\") vbdash only listens on a loopback address, \
         and server.listen is {listen}; set [auth] mode = \"local\" or \"proxy\", or listen \
         on 127.0.0.1"
    ))
}

fn validate_proxy(
    raw: &RawAuth,
    mode_span: Option<std::ops::Range<usize>>,
    blame: &Blame<'_>,
) -> Result<ProxyAuth, ConfigError> {
    let header = |value: &At<String>, key: &str| -> Result<Option<String>, ConfigError> {
        let Some(value) = value else { return Ok(None) };
        let name = value.get_ref().trim().to_ascii_lowercase();
        if axum::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            let m = format!("`{}` is not a header name", value.get_ref());
            return Err(blame.at(Some(value.span()), key, m));
        }
        Ok(Some(name))
    };

    let Some(user_header) = header(&raw.user_header, "auth.user_header")? else {
        let m = "auth mode \"proxy\" needs user_header, such as \"X-Forwarded-User\"".to_owned();
        return Err(blame.at(mode_span, "auth.user_header", m));
    };
    let groups_header = header(&raw.groups_header, "auth.groups_header")?;

    let mut trusted_proxies = Vec::new();
    for (index, written) in raw.trusted_proxies.iter().enumerate() {
        trusted_proxies.push(parse_network(written.get_ref()).map_err(|m| {
            blame.at(
                Some(written.span()),
                &format!("auth.trusted_proxies[{index}]"),
                m,
            )
        })?);
    }
    if trusted_proxies.is_empty() {
        let m = "auth mode \"proxy\" needs trusted_proxies, the addresses of the proxy, \
                 such as [\"127.0.0.1/32\"]"
            .to_owned();
        return Err(blame.at(mode_span, "auth.trusted_proxies", m));
    }

    let mut group_roles = BTreeMap::new();
    for (group, role) in &raw.group_roles {
        let key = format!("auth.group_roles.{group}");
        let parsed =
            parse_role(role.get_ref()).map_err(|m| blame.at(Some(role.span()), &key, m))?;
        group_roles.insert(group.clone(), parsed);
    }
    let default_role = match &raw.default_role {
        None => None,
        Some(word) if word.get_ref() == "none" => None,
        Some(word) => Some(
            parse_role(word.get_ref())
                .map_err(|m| blame.at(Some(word.span()), "auth.default_role", m))?,
        ),
    };

    Ok(ProxyAuth {
        user_header,
        groups_header,
        trusted_proxies,
        group_roles,
        default_role,
    })
}

fn parse_role(word: &str) -> Result<Role, String> {
    word.parse::<Role>()
        .map_err(|_| format!("`{word}` is not a role; write \"viewer\", \"operator\" or \"admin\""))
}

/// A network such as `10.0.0.0/8`; a bare address means that address alone.
fn parse_network(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    text.parse::<IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| format!("`{text}` is not an address or network; write it like \"10.0.0.0/8\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_and_bare_addresses() {
        let net = parse_network("10.0.0.0/8").unwrap();
        assert!(net.contains(&"10.1.2.3".parse::<std::net::IpAddr>().unwrap()));
        let one = parse_network("::1").unwrap();
        assert!(one.contains(&"::1".parse::<std::net::IpAddr>().unwrap()));
        assert!(parse_network("nope").is_err());
    }

    #[test]
    fn only_loopback_without_sign_in() {
        assert!(check_loopback("127.0.0.1:8080".parse().unwrap()).is_ok());
        assert!(check_loopback("[::1]:8080".parse().unwrap()).is_ok());
        let refused = check_loopback("0.0.0.0:8080".parse().unwrap()).unwrap_err();
        assert!(refused.contains("loopback"));
    }
}
