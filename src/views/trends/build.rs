//! Whether a backup made by today's build exists: a restore needs the same build.

use crate::domain::ApplianceOverview;

/// The build now against the build of the last good backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildMatch {
    /// Build the appliance reports now.
    pub current: Option<String>,
    /// Build that ran the newest succeeded job.
    pub last_good: Option<String>,
    /// True when both are known and differ.
    pub patched: bool,
    /// The comparison in words.
    pub words: String,
}

impl BuildMatch {
    /// Compares the builds of an appliance's overview.
    pub fn new(o: &ApplianceOverview) -> BuildMatch {
        let current = o
            .version
            .as_ref()
            .map(|v| v.build.clone())
            .filter(|b| !b.is_empty());
        let last_good = o.last_good_job.as_ref().and_then(|j| j.build.clone());
        let patched = matches!((&current, &last_good), (Some(a), Some(b)) if a != b);
        let words = match (&current, &last_good, o.last_good_job.is_some()) {
            (_, _, false) => "no good backup yet to compare with".to_owned(),
            (Some(now), Some(then), _) if now == then => {
                format!("build {now}, the same as the last good backup")
            }
            (Some(now), Some(then), _) => format!(
                "patched since the last good backup: now build {now}, the backup was made \
                 by build {then}"
            ),
            (_, None, _) => "the last good backup does not say which build made it".to_owned(),
            (None, Some(then), _) => format!("last good backup made by build {then}"),
        };
        BuildMatch {
            current,
            last_good,
            patched,
            words,
        }
    }
}
