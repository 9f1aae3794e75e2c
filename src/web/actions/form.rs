//! Reading action forms: repeated fields (`parts`), secrets kept masked, and every
//! refusal naming the field and the reason.

use axum::body::Bytes;

use super::Actions;
use crate::config::Preset;
use crate::domain::text::bounded;
use crate::secret::Secret;
use crate::vcenter::backup::BackupRequest;
use crate::vcenter::backup_password;
use crate::web::error::WebError;

/// Longest comment accepted.
pub const MAX_COMMENT_CHARS: usize = 200;
/// Most parts one request may name.
const MAX_PARTS: usize = 32;

/// The fields of a urlencoded form, in order, repeated keys kept.
pub struct FormFields(Vec<(String, String)>);

impl FormFields {
    /// Parses a urlencoded body.
    pub fn parse(body: &Bytes) -> FormFields {
        FormFields(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// Fields given as pairs, such as those of a JSON request body.
    pub fn from_pairs(pairs: Vec<(String, String)>) -> FormFields {
        FormFields(pairs)
    }

    /// The first value of `key`, trimmed; `None` when absent or blank.
    pub fn one(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// Every non-blank value of `key`.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// A secret field, untrimmed (spaces are the rule's business); `None` when empty.
    pub fn secret(&self, key: &str) -> Option<Secret> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .filter(|(_, v)| !v.is_empty())
            .map(|(_, v)| Secret::new(v.clone()))
    }
}

/// A 400 that names the field and says that nothing was sent.
pub fn refuse(field: &str, why: &str) -> WebError {
    WebError::BadRequest(format!(
        "The field \u{201c}{field}\u{201d} cannot be used: {why}. Nothing was sent to the \
         appliance."
    ))
}

/// The preset the form names.
pub fn preset<'a>(actions: &'a Actions, fields: &FormFields) -> Result<&'a Preset, WebError> {
    let name = fields
        .one("preset")
        .ok_or_else(|| refuse("preset", "choose a backup location"))?;
    actions.preset(name).ok_or_else(|| {
        refuse(
            "preset",
            &format!("no preset is named {}", bounded(name, 64)),
        )
    })
}

/// Checks the location type against the appliance's version.
pub fn check_supported(preset: &Preset, version: Option<&str>) -> Result<(), WebError> {
    preset
        .location_type
        .supported_by(version)
        .map_err(|why| refuse("preset", &why))
}

/// The backup request of a start or validate form.
pub fn backup_request(preset: &Preset, fields: &FormFields) -> Result<BackupRequest, WebError> {
    let parts = fields.all("parts");
    if parts.len() > MAX_PARTS {
        return Err(refuse("parts", "too many parts"));
    }
    let part_ok = |p: &&str| {
        p.len() <= 64
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    if let Some(bad) = parts.iter().find(|p| !part_ok(p)) {
        return Err(refuse(
            "parts",
            &format!("\u{201c}{}\u{201d} is not a part id", bounded(bad, 64)),
        ));
    }

    let comment = fields.one("comment").map(str::to_owned);
    if let Some(c) = &comment {
        if c.chars().count() > MAX_COMMENT_CHARS {
            return Err(refuse(
                "comment",
                &format!("it is longer than {MAX_COMMENT_CHARS} characters"),
            ));
        }
        if c.chars().any(char::is_control) {
            return Err(refuse("comment", "it holds control characters"));
        }
    }

    let backup_password = fields.secret("backup_password");
    if let Some(password) = &backup_password {
        backup_password::check(password.expose()).map_err(|why| refuse("backup_password", &why))?;
    }

    Ok(BackupRequest {
        parts: parts.into_iter().map(str::to_owned).collect(),
        backup_password,
        location_type: preset.location_type,
        location: preset.url.to_string(),
        location_user: preset.user.clone(),
        location_password: preset.password.clone(),
        comment,
    })
}

/// The version an action trusts: the one the poller stored, else the appliance's answer.
pub async fn known_version(
    store: &crate::store::Store,
    client: &crate::vcenter::ApplianceClient,
) -> Option<String> {
    let stored = store
        .appliance_overview(client.name())
        .await
        .ok()
        .flatten()
        .and_then(|o| o.version)
        .map(|v| v.version);
    if stored.is_some() {
        return stored;
    }
    client.version().await.ok().map(|v| v.version)
}

/// A checked backup form for appliance `name`: its preset, the request to send and the
/// client to send it with. Refuses a preset the appliance's known version does not take.
pub async fn checked_request<'a>(
    state: &'a crate::web::AppState,
    name: &str,
    fields: &FormFields,
) -> Result<
    (
        &'a Preset,
        BackupRequest,
        &'a std::sync::Arc<crate::vcenter::ApplianceClient>,
    ),
    WebError,
> {
    let preset = preset(&state.actions, fields)?;
    let request = backup_request(preset, fields)?;
    let client = super::client_of(&state.actions, name)?;
    check_supported(preset, known_version(&state.store, client).await.as_deref())?;
    Ok((preset, request, client))
}
