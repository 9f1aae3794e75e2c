//! Connection settings of one appliance.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::error::VcError;
use crate::secret::Secret;

/// Where and how to reach one appliance.
#[derive(Debug, Clone)]
pub struct Target {
    /// The appliance's name in the configuration; its stable key.
    pub name: String,
    /// `https://host` in production. May carry a path prefix (`http://127.0.0.1:8000/vcsa-01`),
    /// under which `/api/...` and `/rest/...` are joined.
    pub base_url: Url,
    /// Login user, such as `svc-monitor@vsphere.local`.
    pub username: String,
    /// Login password; sent only in the login request.
    pub password: Secret,
    /// How the certificate is checked.
    pub tls: TlsMode,
    /// Limit for connecting and for each whole request.
    pub timeout: Duration,
}

/// How the appliance's certificate is checked.
// Known gap: no pinning by certificate fingerprint; trusting one appliance's own root
// means giving its CA file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    /// Against the system's trusted roots.
    Verify,
    /// Against the certificates of this PEM file only (usually the appliance's VMCA root).
    CaFile(PathBuf),
    /// Not at all. For labs only; a warning is logged when the client is built.
    Insecure,
}

impl Target {
    /// Refuses settings that can never work, before any connection is tried.
    pub(crate) fn validate(&self) -> Result<(), VcError> {
        let invalid = |reason: &str| {
            Err(VcError::InvalidTarget {
                reason: reason.to_owned(),
            })
        };

        if !matches!(self.base_url.scheme(), "http" | "https") {
            return invalid("the base URL must start with http:// or https://");
        }
        if self.base_url.cannot_be_a_base() || self.base_url.host().is_none() {
            return invalid("the base URL has no host");
        }
        if self.timeout.is_zero() {
            return invalid("the timeout must be longer than zero");
        }
        if self.username.is_empty() {
            return invalid("the user name is empty");
        }
        Ok(())
    }
}
