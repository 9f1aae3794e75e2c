//! `[[preset]]` tables: named backup locations that actions offer, with their credentials
//! given by reference like the appliance passwords.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::ConfigError;
use super::raw::{At, Blame};
use super::values::check_name;
use crate::domain::text::bounded;
use crate::secret::Secret;
use crate::vcenter::location::LocationType;

/// A named backup location.
#[derive(Debug, Clone)]
pub struct Preset {
    /// Name shown in forms and stored in the audit log.
    pub name: String,
    /// The location as sent to the appliance.
    pub url: Url,
    /// The protocol, decided by the URL's scheme.
    pub location_type: LocationType,
    /// User at the location; `None` when it needs no sign-in.
    pub user: Option<String>,
    /// Password at the location.
    pub password: Option<Secret>,
}

/// The `[actions]` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActionsConfig {
    /// Backups a bulk run keeps running at once at one backup target.
    pub per_target_limit: usize,
}

impl Default for ActionsConfig {
    fn default() -> Self {
        ActionsConfig {
            per_target_limit: 2,
        }
    }
}

/// The `[actions]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawActions {
    pub per_target_limit: At<i64>,
}

/// Checks the `[actions]` table.
pub(super) fn validate_actions(
    raw: &RawActions,
    blame: &Blame<'_>,
) -> Result<ActionsConfig, ConfigError> {
    let per_target_limit = blame.value(
        &raw.per_target_limit,
        "actions.per_target_limit",
        ActionsConfig::default().per_target_limit,
        |n| {
            usize::try_from(*n)
                .ok()
                .filter(|n| (1..=64).contains(n))
                .ok_or_else(|| format!("{n} is out of range; use a number from 1 to 64"))
        },
    )?;
    Ok(ActionsConfig { per_target_limit })
}

/// A `[[preset]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPreset {
    pub name: Spanned<String>,
    pub url: Spanned<String>,
    pub user: At<String>,
    pub password_env: At<String>,
    pub password_file: At<String>,
}

/// Checks every preset: unique names, a URL whose scheme is a location type, and a
/// password that resolves when one is referenced.
pub(super) fn validate(
    raw: &[RawPreset],
    blame: &Blame<'_>,
    env: &[(String, String)],
) -> Result<Vec<Preset>, ConfigError> {
    let mut seen: HashMap<&str, ()> = HashMap::new();
    let mut presets = Vec::with_capacity(raw.len());
    for (index, p) in raw.iter().enumerate() {
        let key = |field: &str| format!("preset[{index}].{field}");
        let name = p.name.get_ref();
        check_name(name).map_err(|m| blame.at(Some(p.name.span()), &key("name"), m))?;
        if seen.insert(name, ()).is_some() {
            let m = format!("preset name `{name}` is used twice; names must be unique");
            return Err(blame.at(Some(p.name.span()), &key("name"), m));
        }

        let (url, location_type) = parse_location(p.url.get_ref())
            .map_err(|m| blame.at(Some(p.url.span()), &key("url"), m))?;
        let user = p.user.as_ref().map(|u| u.get_ref().clone());
        if let Some(u) = &p.user
            && u.get_ref().trim().is_empty()
        {
            let m = "the user is empty; leave the key out for a location without sign-in";
            return Err(blame.at(Some(u.span()), &key("user"), m.to_owned()));
        }

        presets.push(Preset {
            name: name.clone(),
            url,
            location_type,
            user,
            password: resolve_password(p, blame, env, &key)?,
        });
    }
    Ok(presets)
}

/// The URL and the location type its scheme names.
fn parse_location(written: &str) -> Result<(Url, LocationType), String> {
    let shown = bounded(written, 200);
    let url = Url::parse(written).map_err(|_| {
        format!("`{shown}` is not a URL; write it like \"sftp://backup-01.example.test/vcsa\"")
    })?;
    let location_type = LocationType::from_scheme(url.scheme()).ok_or_else(|| {
        format!(
            "the scheme `{}` is not a backup location type; use one of nfs, smb, sftp, ftp, \
             ftps, http, https or scp",
            bounded(url.scheme(), 20)
        )
    })?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "`{shown}` holds a user or password; use the keys user and password_env instead"
        ));
    }
    if url.host().is_none() {
        return Err(format!("`{shown}` names no host"));
    }
    Ok((url, location_type))
}

fn resolve_password(
    p: &RawPreset,
    blame: &Blame<'_>,
    env: &[(String, String)],
    key: &dyn Fn(&str) -> String,
) -> Result<Option<Secret>, ConfigError> {
    match (&p.password_env, &p.password_file) {
        (None, None) => Ok(None),
        (Some(var), Some(_)) => {
            let m = "give either password_env or password_file, not both".to_owned();
            Err(blame.at(Some(var.span()), &key("password_env"), m))
        }
        (Some(var), None) => super::raw::password_from_env(var, blame, env, key).map(Some),
        (None, Some(file)) => {
            let path = blame.relative_path(file.get_ref());
            super::raw::read_password_file(Path::new(&path))
                .map(Some)
                .map_err(|m| blame.at(Some(file.span()), &key("password_file"), m))
        }
    }
}
