//! The client for the appliance API, both generations (`/rest` and `/api`).
//!
//! [`ApplianceClient`] holds one session per appliance and offers the reads the poller
//! needs. The layers below it are public so that tests and actions can use them directly:
//! [`paths`] builds every URL, [`envelope`] unwraps answers and reads error envelopes,
//! [`models`] holds the wire types and [`mapping`] turns them into `crate::domain` types.

pub mod backup;
pub mod backup_password;
pub mod client;
pub mod envelope;
pub mod error;
pub mod location;
pub mod mapping;
pub mod models;
pub mod paths;
pub mod target;
pub mod tls;

pub use client::{ApplianceClient, HttpClients, MAX_BODY_BYTES};
pub use error::{ApplianceFault, VcError};
pub use paths::{Endpoint, Route};
pub use target::{Target, TlsMode};
