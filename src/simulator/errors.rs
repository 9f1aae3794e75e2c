//! vAPI errors as each generation sends them: `{"error_type":..,"messages":[..]}` bare on
//! `/api`, `{"type":"com.vmware.vapi.std.errors.<kind>","value":{"messages":[..]}}` on
//! `/rest`, with the status code of the vAPI error table.

use axum::http::StatusCode;
use axum::response::Response;
use serde::Serialize;

use super::wire::{Generation, Message, json_response};

/// The error kinds the simulated operations raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorKind {
    AlreadyExists,
    FeatureInUse,
    InvalidArgument,
    InvalidRequest,
    NotFound,
    Unauthenticated,
    Unauthorized,
    ServiceUnavailable,
}

impl ErrorKind {
    /// The `/api` word, such as `FEATURE_IN_USE`.
    fn api_word(self) -> &'static str {
        match self {
            ErrorKind::AlreadyExists => "ALREADY_EXISTS",
            ErrorKind::FeatureInUse => "FEATURE_IN_USE",
            ErrorKind::InvalidArgument => "INVALID_ARGUMENT",
            ErrorKind::InvalidRequest => "INVALID_REQUEST",
            ErrorKind::NotFound => "NOT_FOUND",
            ErrorKind::Unauthenticated => "UNAUTHENTICATED",
            ErrorKind::Unauthorized => "UNAUTHORIZED",
            ErrorKind::ServiceUnavailable => "SERVICE_UNAVAILABLE",
        }
    }

    /// The `/rest` type, such as `com.vmware.vapi.std.errors.feature_in_use`.
    fn rest_type(self) -> String {
        format!(
            "com.vmware.vapi.std.errors.{}",
            self.api_word().to_ascii_lowercase()
        )
    }

    fn status(self) -> StatusCode {
        match self {
            ErrorKind::AlreadyExists
            | ErrorKind::FeatureInUse
            | ErrorKind::InvalidArgument
            | ErrorKind::InvalidRequest => StatusCode::BAD_REQUEST,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorKind::Unauthorized => StatusCode::FORBIDDEN,
            ErrorKind::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }
}

/// An error an operation answers with.
#[derive(Debug, Clone)]
pub(crate) struct VapiError {
    pub kind: ErrorKind,
    pub messages: Vec<Message>,
}

#[derive(Serialize)]
struct ApiBody<'a> {
    error_type: &'static str,
    messages: &'a [Message],
}

#[derive(Serialize)]
struct RestBody<'a> {
    #[serde(rename = "type")]
    kind: String,
    value: RestValue<'a>,
}

#[derive(Serialize)]
struct RestValue<'a> {
    messages: &'a [Message],
}

impl VapiError {
    pub fn new(kind: ErrorKind, message: Message) -> VapiError {
        VapiError {
            kind,
            messages: vec![message],
        }
    }

    /// Missing, unknown or expired session; also a failed login.
    pub fn unauthenticated() -> VapiError {
        let message = Message::new(
            "com.vmware.vapi.endpoint.method.authentication.required",
            "Authentication required.",
        );
        VapiError::new(ErrorKind::Unauthenticated, message)
    }

    /// The session's user lacks the role for the operation.
    pub fn unauthorized() -> VapiError {
        let message = Message::new(
            "com.vmware.vapi.authorization.permission.denied",
            "Permission to perform this operation was denied.",
        );
        VapiError::new(ErrorKind::Unauthorized, message)
    }

    /// A path no operation answers.
    pub fn unknown_url(generation: Generation, path: &str) -> VapiError {
        let message = match generation {
            Generation::Api => Message::new("com.vmware.vapi.rest.httpNotFound", "Not found."),
            Generation::Rest => Message::new(
                "com.vmware.vapi.rest.operationsForUrlNotFound",
                format!("Unable to find operations for URL: {path}."),
            )
            .with_args(vec![path.to_owned()]),
        };
        VapiError::new(ErrorKind::NotFound, message)
    }

    /// Another backup or restore is running.
    pub fn feature_in_use() -> VapiError {
        let message = Message::new(
            "com.vmware.applmgmt.backup.job.in.progress",
            "A backup or restore is already in progress.",
        );
        VapiError::new(ErrorKind::FeatureInUse, message)
    }

    pub fn invalid_argument(id: &'static str, text: impl Into<String>) -> VapiError {
        VapiError::new(ErrorKind::InvalidArgument, Message::new(id, text))
    }

    /// A body that is not the JSON the operation takes.
    pub fn bad_body(detail: impl Into<String>) -> VapiError {
        let message = Message::new(
            "com.vmware.vapi.rest.badRequest",
            format!("Unable to read the request body: {}", detail.into()),
        );
        VapiError::new(ErrorKind::InvalidRequest, message)
    }

    pub fn job_not_found(id: &str) -> VapiError {
        let message = Message::new(
            "com.vmware.applmgmt.backup.job.not.found",
            format!("Backup job {id} was not found."),
        )
        .with_args(vec![id.to_owned()]);
        VapiError::new(ErrorKind::NotFound, message)
    }

    pub fn schedule_not_found(id: &str) -> VapiError {
        let message = Message::new(
            "com.vmware.applmgmt.backup.schedule.not.found",
            format!("Backup schedule {id} was not found."),
        )
        .with_args(vec![id.to_owned()]);
        VapiError::new(ErrorKind::NotFound, message)
    }

    pub fn part_not_found(id: &str) -> VapiError {
        let message = Message::new(
            "com.vmware.applmgmt.backup.part.not.found",
            format!("Backup part {id} was not found."),
        )
        .with_args(vec![id.to_owned()]);
        VapiError::new(ErrorKind::NotFound, message)
    }

    /// The per-user session cap is reached.
    pub fn session_limit(user: &str, cap: usize) -> VapiError {
        let message = Message::new(
            "com.vmware.vapi.endpoint.failedToLoginMaxSessionCountReached",
            format!(
                "Unable to create a session for user {user}: the limit of {cap} sessions \
                 per user has been reached. Close unused sessions and try again."
            ),
        )
        .with_args(vec![user.to_owned(), cap.to_string()]);
        VapiError::new(ErrorKind::ServiceUnavailable, message)
    }

    /// The reply for this error on the given generation.
    pub fn into_response(self, generation: Generation) -> Response {
        let text = match generation {
            Generation::Api => serde_json::to_string(&ApiBody {
                error_type: self.kind.api_word(),
                messages: &self.messages,
            }),
            Generation::Rest => serde_json::to_string(&RestBody {
                kind: self.kind.rest_type(),
                value: RestValue {
                    messages: &self.messages,
                },
            }),
        };
        json_response(self.kind.status(), text.unwrap_or_default())
    }
}
