//! The question asked before anything is sent: is this appliance silenced right now
//! (acknowledged, or in a maintenance window)? Silenced events are kept, marked as such.

use chrono::{DateTime, Utc};

/// Says whether announcements about an appliance are held back, and why.
pub trait Silencer: Send + Sync {
    /// The reason `appliance` (with `tags`) is silenced at `at`, or `None` to send.
    fn silenced(&self, appliance: &str, tags: &[String], at: DateTime<Utc>) -> Option<String>;
}

/// Silences nothing: the default until acknowledgements and maintenance windows exist.
#[derive(Debug, Clone, Copy, Default)]
pub struct NeverSilenced;

impl Silencer for NeverSilenced {
    fn silenced(&self, _: &str, _: &[String], _: DateTime<Utc>) -> Option<String> {
        None
    }
}

/// Acknowledgements and maintenance windows, as the store keeps them.
impl Silencer for crate::store::silence::Silencer {
    fn silenced(&self, appliance: &str, tags: &[String], at: DateTime<Utc>) -> Option<String> {
        crate::store::silence::Silencer::silenced(self, appliance, tags, at)
    }
}
