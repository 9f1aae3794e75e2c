//! The one error type of the appliance client. Each variant is a failure a person can act
//! on, and its `Display` says what went wrong in plain words, without secrets or raw bodies.

use std::time::Duration;

use crate::domain::PollOutcome;

/// An appliance's own error, read from one of its error envelopes (or from the HTTP status
/// when the body was not an envelope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplianceFault {
    /// The HTTP status of the answer.
    pub status: u16,
    /// The error type in the `/api` spelling, such as `NOT_FOUND`.
    pub error_type: String,
    /// Every message text, in the appliance's order, bounded.
    pub messages: Vec<String>,
    /// What the body was when it was no error envelope, such as `a web page titled "502
    /// Bad Gateway"`: proxies in front of an appliance answer that way.
    pub body_note: Option<String>,
}

impl ApplianceFault {
    /// All messages in one line; the later ones are often the real cause.
    pub fn joined_messages(&self) -> String {
        if !self.messages.is_empty() {
            return self.messages.join("; ");
        }
        match &self.body_note {
            Some(note) => format!("HTTP {} with {note}", self.status),
            None => format!("HTTP {} without an appliance message", self.status),
        }
    }
}

/// Why a call to an appliance failed.
#[derive(Debug, thiserror::Error)]
pub enum VcError {
    /// No connection: refused, reset, name not resolved, network down.
    #[error("cannot reach the appliance: {detail}")]
    Unreachable {
        /// The lowest-level cause, such as "Connection refused (os error 111)".
        detail: String,
    },

    /// No complete answer within the configured time.
    #[error("no answer within {}", humantime::format_duration(*after))]
    Timeout {
        /// The configured limit that ran out.
        after: Duration,
    },

    /// The answer began (status and headers arrived) but its body did not finish in time.
    #[error(
        "the answer stalled: headers arrived but the body was not complete within {}",
        humantime::format_duration(*after)
    )]
    Stalled {
        /// The configured limit that ran out.
        after: Duration,
    },

    /// The connection dropped while the answer was arriving.
    #[error("connection lost: {detail}")]
    ConnectionLost {
        /// How much of the answer arrived, and the lowest-level cause.
        detail: String,
    },

    /// The TLS handshake failed; `check` names the certificate check in plain words.
    #[error("TLS handshake failed: {check}")]
    Tls {
        /// The failed check, such as "certificate has expired".
        check: String,
    },

    /// A CA file given for the target could not be used.
    #[error("cannot use CA file {path}: {reason}")]
    CaFile {
        /// The file as configured.
        path: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The target's settings cannot work (for example a base URL that is not http or https).
    #[error("invalid appliance settings: {reason}")]
    InvalidTarget {
        /// Which setting cannot work.
        reason: String,
    },

    /// A fresh login was refused.
    #[error("login refused: {detail}")]
    Authentication {
        /// The appliance's messages, or a plain sentence when it gave none.
        detail: String,
    },

    /// Logged in, but the account lacks the role for the call.
    #[error("permission denied: {detail}")]
    Permission {
        /// The appliance's messages.
        detail: String,
    },

    /// The appliance refused a new session because too many are open.
    #[error("session limit reached: {detail}")]
    SessionLimit {
        /// The appliance's messages.
        detail: String,
    },

    /// The answer was not what the API defines.
    #[error("bad response: {reason}")]
    BadResponse {
        /// A short reason; never the body itself.
        reason: String,
    },

    /// The appliance answered with one of its own errors.
    #[error("{}: {}", .0.error_type, .0.joined_messages())]
    Appliance(ApplianceFault),
}

impl VcError {
    /// The kind of failure, as the poller records it.
    pub fn kind(&self) -> PollOutcome {
        match self {
            VcError::Unreachable { .. } => PollOutcome::Unreachable,
            VcError::InvalidTarget { .. } => PollOutcome::Unreachable,
            VcError::ConnectionLost { .. } => PollOutcome::Unreachable,
            VcError::Timeout { .. } | VcError::Stalled { .. } => PollOutcome::Timeout,
            VcError::Tls { .. } | VcError::CaFile { .. } => PollOutcome::Tls,
            VcError::Authentication { .. } => PollOutcome::Authentication,
            VcError::Permission { .. } => PollOutcome::Permission,
            VcError::SessionLimit { .. } => PollOutcome::SessionLimit,
            VcError::BadResponse { .. } => PollOutcome::BadResponse,
            VcError::Appliance(_) => PollOutcome::ApplianceError,
        }
    }

    /// A bad-response error with a short reason.
    pub fn bad_response(reason: impl Into<String>) -> VcError {
        VcError::BadResponse {
            reason: reason.into(),
        }
    }

    /// Turns an appliance error into the matching kind: an unauthenticated answer is an
    /// authentication failure, an unauthorized one a permission failure.
    pub fn from_fault(fault: ApplianceFault) -> VcError {
        match fault.error_type.as_str() {
            "UNAUTHENTICATED" => VcError::Authentication {
                detail: fault.joined_messages(),
            },
            "UNAUTHORIZED" => VcError::Permission {
                detail: fault.joined_messages(),
            },
            _ => VcError::Appliance(fault),
        }
    }

    /// True when the appliance said the session is missing or expired.
    pub fn is_unauthenticated(&self) -> bool {
        matches!(self, VcError::Authentication { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appliance_error_shows_every_message() {
        let err = VcError::Appliance(ApplianceFault {
            status: 500,
            error_type: "INTERNAL_SERVER_ERROR".into(),
            messages: vec!["outer".into(), "real cause".into()],
            body_note: None,
        });
        assert_eq!(err.to_string(), "INTERNAL_SERVER_ERROR: outer; real cause");
        assert_eq!(err.kind(), PollOutcome::ApplianceError);
    }

    #[test]
    fn timeout_reads_as_a_duration() {
        let err = VcError::Timeout {
            after: Duration::from_secs(20),
        };
        assert_eq!(err.to_string(), "no answer within 20s");
    }
}
