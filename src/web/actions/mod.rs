//! Things people do to appliances through vbdash: start, validate and cancel backups,
//! change schedules, and the audit log that records each of them.
//!
//! Every action checks its input before anything is sent, talks to the appliance through
//! the shared [`ApplianceClient`]s, and writes one audit line however it ends.

pub mod audit;
pub mod backup;
pub mod bulk;
pub mod bulk_run;
pub mod cancel;
pub mod form;
pub mod schedule;
pub mod validate;

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;

use super::auth::CurrentUser;
use super::error::WebError;
use bulk_run::{BulkRuns, BulkSettings};

use crate::config::Preset;
use crate::store::{AuditEntry, Store};
use crate::vcenter::ApplianceClient;

/// What actions need besides the store: a client per appliance and the presets.
#[derive(Default)]
pub struct Actions {
    clients: HashMap<String, Arc<ApplianceClient>>,
    presets: Vec<Preset>,
    bulk: Arc<BulkRuns>,
}

impl Actions {
    /// Actions over `clients` (keyed by appliance name) and `presets`.
    pub fn new(clients: &[Arc<ApplianceClient>], presets: Vec<Preset>) -> Arc<Actions> {
        Actions::with_settings(clients, presets, BulkSettings::default())
    }

    /// Actions whose bulk runs follow `bulk`.
    pub fn with_settings(
        clients: &[Arc<ApplianceClient>],
        presets: Vec<Preset>,
        bulk: BulkSettings,
    ) -> Arc<Actions> {
        let clients = clients
            .iter()
            .map(|c| (c.name().to_owned(), Arc::clone(c)))
            .collect();
        Arc::new(Actions {
            clients,
            presets,
            bulk: Arc::new(BulkRuns::new(bulk)),
        })
    }

    /// Bulk runs of this process.
    pub fn bulk(&self) -> &Arc<BulkRuns> {
        &self.bulk
    }

    /// No appliance and no preset: pages that offer actions say there is nothing to use.
    pub fn none() -> Arc<Actions> {
        Arc::new(Actions::default())
    }

    /// The client of appliance `name`.
    pub fn client(&self, name: &str) -> Option<&Arc<ApplianceClient>> {
        self.clients.get(name)
    }

    /// Every preset, in configuration order.
    pub fn presets(&self) -> &[Preset] {
        &self.presets
    }

    /// The preset named `name`.
    pub fn preset(&self, name: &str) -> Option<&Preset> {
        self.presets.iter().find(|p| p.name == name)
    }
}

/// The client of `name`, or the 404 of an appliance vbdash does not manage.
pub(crate) fn client_of<'a>(
    actions: &'a Actions,
    name: &str,
) -> Result<&'a Arc<ApplianceClient>, WebError> {
    actions
        .client(name)
        .ok_or_else(|| super::appliances::unknown_appliance(name))
}

/// One audit line about to be written.
pub(crate) struct Audit<'a> {
    pub user: &'a CurrentUser,
    pub appliance: Option<&'a str>,
    pub action: &'static str,
    pub detail: String,
    pub reason: Option<String>,
}

impl Audit<'_> {
    /// Writes the line with how the action ended. A failed write fails the request: an
    /// action that cannot be recorded is not reported as done.
    pub async fn record(self, store: &Store, ok: bool, outcome: &str) -> Result<(), WebError> {
        let entry = AuditEntry {
            at: Utc::now(),
            user: self.user.name.clone(),
            appliance: self.appliance.map(str::to_owned),
            action: self.action.to_owned(),
            detail: self.detail,
            outcome: outcome.to_owned(),
            ok,
            reason: self.reason,
        };
        tracing::info!(
            user = %entry.user,
            appliance.name = entry.appliance.as_deref().unwrap_or(""),
            action = %entry.action,
            ok,
            "action recorded"
        );
        store.append_audit(&entry).await.map_err(WebError::internal)
    }
}
