//! Request bodies the simulated operations take, and the checks the appliance makes on
//! them. These structs hold passwords, so they derive no `Debug` and are never logged.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::errors::VapiError;
use super::version::ApplianceVersion;

/// `BackupRequest`, the body of job create and validate.
#[derive(Deserialize)]
pub(crate) struct BackupRequest {
    pub parts: Option<Vec<String>>,
    pub backup_password: Option<String>,
    pub location_type: Option<String>,
    pub location: Option<String>,
    pub location_user: Option<String>,
    #[expect(dead_code, reason = "accepted like the appliance does, never stored")]
    pub location_password: Option<String>,
    pub comment: Option<String>,
    #[expect(
        dead_code,
        reason = "accepted from 7.0.2 on, no effect on the simulation"
    )]
    pub fast_backup: Option<bool>,
}

/// `{"piece": BackupRequest}`, the `/rest` wrapping.
#[derive(Deserialize)]
pub(crate) struct PieceBody {
    pub piece: Option<BackupRequest>,
}

/// A backup request that passed the checks.
pub(crate) struct CheckedBackup {
    pub location: String,
    pub location_user: Option<String>,
    pub comment: String,
}

/// Schedule `CreateSpec` and `UpdateSpec`: the same fields, all optional on update.
#[derive(Deserialize)]
pub(crate) struct ScheduleSpec {
    pub parts: Option<Vec<String>>,
    pub backup_password: Option<String>,
    pub location: Option<String>,
    pub location_user: Option<String>,
    #[expect(dead_code, reason = "accepted like the appliance does, never stored")]
    pub location_password: Option<String>,
    pub enable: Option<bool>,
    pub recurrence_info: Option<RecurrenceSpec>,
    pub retention_info: Option<RetentionSpec>,
    pub fast_backup: Option<bool>,
}

/// `RecurrenceInfo` as sent.
#[derive(Deserialize)]
pub(crate) struct RecurrenceSpec {
    pub minute: i64,
    pub hour: i64,
    pub days: Option<Vec<String>>,
}

/// `RetentionInfo` as sent.
#[derive(Deserialize)]
pub(crate) struct RetentionSpec {
    pub max_count: i64,
}

/// `/rest` schedule create and update: `{"spec": ..}`.
#[derive(Deserialize)]
pub(crate) struct RestScheduleBody {
    pub spec: Option<ScheduleSpec>,
}

/// `/api` schedule create: `{"schedule": id, "spec": ..}`.
#[derive(Deserialize)]
pub(crate) struct ApiScheduleCreate {
    pub schedule: Option<String>,
    pub spec: Option<ScheduleSpec>,
}

/// Schedule run: an optional comment at the top level.
#[derive(Deserialize, Default)]
pub(crate) struct RunBody {
    pub comment: Option<String>,
}

/// Reads a JSON body; an empty body reads as `null`.
pub(crate) fn read_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, VapiError> {
    let text: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"null"
    } else {
        body
    };
    serde_json::from_slice(text).map_err(|err| VapiError::bad_body(err.to_string()))
}

/// Reads an optional body such as the run comment: empty and `null` give the default.
pub(crate) fn read_optional_json<T: DeserializeOwned + Default>(
    body: &[u8],
) -> Result<T, VapiError> {
    let value: Option<T> = read_json(body)?;
    Ok(value.unwrap_or_default())
}

/// Checks a backup request as the appliance would before starting a job.
pub(crate) fn check_backup_request(
    request: BackupRequest,
    version: ApplianceVersion,
) -> Result<CheckedBackup, VapiError> {
    let Some(parts) = request.parts else {
        return Err(missing("parts"));
    };
    check_parts(&parts, version)?;
    if let Some(password) = &request.backup_password {
        check_backup_password(password)?;
    }

    let Some(location_type) = request.location_type else {
        return Err(missing("location_type"));
    };
    check_location_type(&location_type, version)?;
    let Some(location) = request.location else {
        return Err(missing("location"));
    };
    if location.trim().is_empty() {
        return Err(missing("location"));
    }

    Ok(CheckedBackup {
        location,
        location_user: request.location_user,
        comment: request.comment.unwrap_or_default(),
    })
}

/// The part ids this appliance knows.
pub(crate) fn known_parts(version: ApplianceVersion) -> &'static [&'static str] {
    if version.has_supervisors_part() {
        &["common", "seat", "supervisors"]
    } else {
        &["common", "seat"]
    }
}

/// Every part must be one the appliance offers.
pub(crate) fn check_parts(parts: &[String], version: ApplianceVersion) -> Result<(), VapiError> {
    let known = known_parts(version);
    match parts.iter().find(|part| !known.contains(&part.as_str())) {
        Some(unknown) => Err(VapiError::invalid_argument(
            "com.vmware.applmgmt.backup.invalid.part",
            format!("Unknown backup part: {unknown}."),
        )),
        None => Ok(()),
    }
}

/// 8 to 20 printable ASCII characters without spaces, with at least one upper-case
/// letter, one lower-case letter, one digit and one other character.
pub(crate) fn check_backup_password(password: &str) -> Result<(), VapiError> {
    let length_ok = (8..=20).contains(&password.chars().count());
    let printable = password.chars().all(|c| c.is_ascii_graphic());
    let upper = password.chars().any(|c| c.is_ascii_uppercase());
    let lower = password.chars().any(|c| c.is_ascii_lowercase());
    let digit = password.chars().any(|c| c.is_ascii_digit());
    let special = password.chars().any(|c| !c.is_ascii_alphanumeric());

    if length_ok && printable && upper && lower && digit && special {
        return Ok(());
    }
    Err(VapiError::invalid_argument(
        "com.vmware.applmgmt.backup.invalid.password",
        "The backup password must be 8-20 printable ASCII characters without spaces, \
         with at least one upper-case letter, one lower-case letter, one digit and one \
         special character.",
    ))
}

/// The location types of this version: NFS and SMB arrived in 6.7 U2.
fn check_location_type(word: &str, version: ApplianceVersion) -> Result<(), VapiError> {
    let known = match word {
        "FTP" | "FTPS" | "HTTP" | "HTTPS" | "SCP" | "SFTP" => true,
        "NFS" | "SMB" => version.has_build_info(),
        _ => false,
    };
    if known {
        return Ok(());
    }
    Err(VapiError::invalid_argument(
        "com.vmware.applmgmt.backup.invalid.location.type",
        format!("Unsupported location type: {word}."),
    ))
}

/// A schedule location must be a URL with a scheme the appliance can write to.
pub(crate) fn check_schedule_location(
    location: &str,
    version: ApplianceVersion,
) -> Result<(), VapiError> {
    let scheme = location
        .split_once("://")
        .map(|(s, _)| s.to_ascii_uppercase());
    match scheme {
        Some(scheme) => check_location_type(&scheme, version),
        None => Err(VapiError::invalid_argument(
            "com.vmware.applmgmt.backup.invalid.location",
            format!("The location {location} is not a URL such as nfs://host/path."),
        )),
    }
}

fn missing(field: &str) -> VapiError {
    VapiError::invalid_argument(
        "com.vmware.applmgmt.backup.missing.field",
        format!("The field {field} is required."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_rule() {
        assert!(check_backup_password("Xk7#pLq2mW").is_ok());
        for bad in [
            "short1!",
            "alllower1!",
            "ALLUPPER1!",
            "NoDigits!!",
            "NoSpecial12",
            "Has Space1!",
        ] {
            assert!(check_backup_password(bad).is_err(), "{bad}");
        }
        assert!(check_backup_password("Aa1!aaaaaaaaaaaaaaaaa").is_err());
    }

    #[test]
    fn empty_bodies_read_as_defaults() {
        let run: RunBody = read_optional_json(b"").unwrap();
        assert!(run.comment.is_none());
        let run: RunBody = read_optional_json(br#"{"comment":"x"}"#).unwrap();
        assert_eq!(run.comment.as_deref(), Some("x"));
        assert!(read_json::<RunBody>(b"{").is_err());
    }
}
