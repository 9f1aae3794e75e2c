//! Page and fragment structs for askama, and display helpers.
//!
//! Handlers hand domain values to the builders here and get back structs whose fields are
//! ready to print; templates only place them. Everything from an appliance is escaped by
//! askama on the way out.
#![warn(missing_docs)]

pub mod actions;
pub mod appliance;
pub mod audit;
pub mod auth;
pub mod bulk;
pub mod charts;
pub mod common;
pub mod error;
pub mod export;
pub mod fleet;
pub mod format;
pub mod job;
pub mod notifications;
pub mod schedule_form;
pub mod silence;
pub mod trends;
