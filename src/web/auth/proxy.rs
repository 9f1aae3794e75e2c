//! `auth = "proxy"`: the user named by a header, believed only from trusted proxies.

use std::net::IpAddr;

use axum::http::HeaderMap;

use super::{CurrentUser, Source};
use crate::config::ProxyAuth;
use crate::store::Role;

/// Longest user name taken from a header, in bytes.
const MAX_NAME_BYTES: usize = 256;

/// What the proxy headers say about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProxyIdentity {
    /// No trusted user header: from another address, or the proxy sent none.
    Nobody,
    /// A user the proxy signed in, with no role: in no mapped group and no default role.
    NoRole(String),
    /// A user with a role.
    User(CurrentUser),
}

/// Reads the user and groups headers when `peer` is a trusted proxy; from anyone else
/// they are ignored, whatever they say.
pub fn identify(settings: &ProxyAuth, peer: Option<IpAddr>, headers: &HeaderMap) -> ProxyIdentity {
    let Some(peer) = peer.filter(|ip| settings.trusts(*ip)) else {
        if headers.contains_key(settings.user_header.as_str()) {
            tracing::debug!(
                client.address = ?peer,
                "user header from an untrusted address ignored"
            );
        }
        return ProxyIdentity::Nobody;
    };

    let name = headers
        .get(settings.user_header.as_str())
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|n| !n.is_empty() && n.len() <= MAX_NAME_BYTES);
    let Some(name) = name else {
        tracing::debug!(client.address = %peer, "trusted proxy sent no user");
        return ProxyIdentity::Nobody;
    };

    match role_of(settings, headers) {
        Some(role) => ProxyIdentity::User(CurrentUser {
            name: name.to_owned(),
            role,
            source: Source::Proxy,
        }),
        None => ProxyIdentity::NoRole(name.to_owned()),
    }
}

/// The highest role of the user's mapped groups, else the default role.
fn role_of(settings: &ProxyAuth, headers: &HeaderMap) -> Option<Role> {
    let groups = settings
        .groups_header
        .as_deref()
        .and_then(|h| headers.get(h))
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    groups
        .split([',', ' ', ';'])
        .map(str::trim)
        .filter_map(|group| settings.group_roles.get(group).copied())
        .max()
        .or(settings.default_role)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn settings() -> ProxyAuth {
        ProxyAuth {
            user_header: "x-forwarded-user".into(),
            groups_header: Some("x-forwarded-groups".into()),
            trusted_proxies: vec!["10.0.0.0/8".parse().unwrap()],
            group_roles: [
                ("ops".to_owned(), Role::Operator),
                ("admins".to_owned(), Role::Admin),
            ]
            .into_iter()
            .collect(),
            default_role: None,
        }
    }

    fn headers(groups: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-user", HeaderValue::from_static("ann"));
        headers.insert("x-forwarded-groups", HeaderValue::from_str(groups).unwrap());
        headers
    }

    #[test]
    fn highest_mapped_group_wins_and_untrusted_addresses_are_ignored() {
        let trusted = Some("10.1.1.1".parse().unwrap());
        match identify(&settings(), trusted, &headers("staff, ops,admins")) {
            ProxyIdentity::User(user) => assert_eq!(user.role, Role::Admin),
            other => panic!("{other:?}"),
        }
        assert_eq!(
            identify(&settings(), trusted, &headers("staff")),
            ProxyIdentity::NoRole("ann".into())
        );
        let outside = Some("192.0.2.1".parse().unwrap());
        assert_eq!(
            identify(&settings(), outside, &headers("admins")),
            ProxyIdentity::Nobody
        );
        assert_eq!(
            identify(&settings(), None, &headers("admins")),
            ProxyIdentity::Nobody
        );
    }
}
