//! Reading action forms: repeated fields (`parts`), secrets kept masked, and every
//! refusal collected per field so the form can be shown again with its reasons.

use axum::body::Bytes;

use super::Actions;
use crate::config::Preset;
use crate::domain::text::bounded;
use crate::secret::Secret;
use crate::store::Store;
use crate::vcenter::ApplianceClient;
use crate::vcenter::backup::BackupRequest;
use crate::vcenter::backup_password;
use crate::views::actions::FieldErrors;

/// Longest comment accepted.
pub const MAX_COMMENT_CHARS: usize = 200;
/// Longest reason accepted.
pub const MAX_REASON_CHARS: usize = 200;
/// Most parts one request may name.
const MAX_PARTS: usize = 32;

/// The fields of a urlencoded form, in order, repeated keys kept.
pub struct FormFields(Vec<(String, String)>);

impl FormFields {
    /// Parses a urlencoded body.
    pub fn parse(body: &Bytes) -> FormFields {
        FormFields::from_encoded(url::form_urlencoded::parse(body))
    }

    /// Parses a query string.
    pub fn from_query(query: Option<&str>) -> FormFields {
        FormFields::from_encoded(url::form_urlencoded::parse(
            query.unwrap_or_default().as_bytes(),
        ))
    }

    fn from_encoded<'a>(
        pairs: impl Iterator<Item = (std::borrow::Cow<'a, str>, std::borrow::Cow<'a, str>)>,
    ) -> FormFields {
        FormFields(
            pairs
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

    /// The first value of `key`, trimmed, or the empty string: for showing a form again.
    pub fn kept(&self, key: &str) -> String {
        self.one(key).map(|v| bounded(v, 500)).unwrap_or_default()
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

/// The preset the form names, or its reason in `errors`.
pub fn preset<'a>(
    actions: &'a Actions,
    fields: &FormFields,
    errors: &mut FieldErrors,
) -> Option<&'a Preset> {
    let Some(name) = fields.one("preset") else {
        errors.add("preset", "choose a backup location");
        return None;
    };
    let found = actions.preset(name);
    if found.is_none() {
        errors.add(
            "preset",
            format!("no preset is named {}", bounded(name, 64)),
        );
    }
    found
}

/// Checks the location type against the appliance's version.
pub fn check_supported(preset: &Preset, version: Option<&str>, errors: &mut FieldErrors) {
    if let Err(why) = preset.location_type.supported_by(version) {
        errors.add("preset", why);
    }
}

/// The part ids ticked, each checked.
pub fn parts(fields: &FormFields, errors: &mut FieldErrors) -> Vec<String> {
    let parts = fields.all("parts");
    if parts.len() > MAX_PARTS {
        errors.add("parts", "too many parts");
        return Vec::new();
    }
    let part_ok = |p: &&str| {
        p.len() <= 64
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    };
    if let Some(bad) = parts.iter().find(|p| !part_ok(p)) {
        errors.add(
            "parts",
            format!("\u{201c}{}\u{201d} is not a part id", bounded(bad, 64)),
        );
        return Vec::new();
    }
    parts.into_iter().map(str::to_owned).collect()
}

/// The encryption password, checked against the appliance's rule. Never kept anywhere
/// else than the request it goes into.
pub fn backup_password(fields: &FormFields, errors: &mut FieldErrors) -> Option<Secret> {
    let password = fields.secret("backup_password")?;
    match backup_password::check(password.expose()) {
        Ok(()) => Some(password),
        Err(why) => {
            errors.add("backup_password", why);
            None
        }
    }
}

/// A one-line text of at most `max` characters, such as a comment or a reason.
pub fn line(
    fields: &FormFields,
    field: &'static str,
    max: usize,
    errors: &mut FieldErrors,
) -> Option<String> {
    let text = fields.one(field)?;
    if text.chars().count() > max {
        errors.add(field, format!("it is longer than {max} characters"));
        return None;
    }
    if let Some(why) = crate::web::typed_text::problem(text) {
        errors.add(field, why);
        return None;
    }
    Some(text.to_owned())
}

/// The reason of a bulk run: required, one line.
pub fn reason(fields: &FormFields, errors: &mut FieldErrors) -> Option<String> {
    let reason = line(fields, "reason", MAX_REASON_CHARS, errors);
    if reason.is_none() && errors.get("reason").is_none() {
        errors.add("reason", "say why these backups are needed");
    }
    reason
}

/// The backup request of a start or validate form for `preset`; every problem lands in
/// `errors` and the request is `None` then.
pub fn backup_request(
    preset: Option<&Preset>,
    fields: &FormFields,
    errors: &mut FieldErrors,
) -> Option<BackupRequest> {
    let parts = parts(fields, errors);
    let comment = line(fields, "comment", MAX_COMMENT_CHARS, errors);
    let backup_password = backup_password(fields, errors);
    let preset = preset?;
    errors.is_empty().then(|| BackupRequest {
        parts,
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
    store: &Store,
    name: &str,
    client: Option<&ApplianceClient>,
) -> Option<String> {
    let stored = store
        .appliance_overview(name)
        .await
        .ok()
        .flatten()
        .and_then(|o| o.version)
        .map(|v| v.version);
    if stored.is_some() {
        return stored;
    }
    client?.version().await.ok().map(|v| v.version)
}

/// A checked backup form for appliance `name`: its preset and the request to send.
/// Refuses a preset the appliance's known version does not take.
pub async fn checked_request<'a>(
    state: &'a crate::web::AppState,
    name: &str,
    fields: &FormFields,
) -> Result<(&'a Preset, BackupRequest), FieldErrors> {
    let mut errors = FieldErrors::default();
    let preset = preset(&state.actions, fields, &mut errors);
    if let Some(preset) = preset {
        let client = state.actions.client(name).map(|c| &**c);
        let version = known_version(&state.store, name, client).await;
        check_supported(preset, version.as_deref(), &mut errors);
    }
    let request = backup_request(preset, fields, &mut errors);
    match (preset, request) {
        (Some(preset), Some(request)) if errors.is_empty() => Ok((preset, request)),
        _ => Err(errors),
    }
}
