//! The usual process series, read from `/proc` on Linux and left out elsewhere.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};

use super::exposition::{Exposition, Kind};

/// When this process first asked for its start time; see [`mark_start`].
static STARTED: OnceLock<DateTime<Utc>> = OnceLock::new();

/// Notes the start time of the process; the first call wins. Called as the web server is
/// built, so the time is that of start-up rather than of the first scrape.
pub fn mark_start() {
    STARTED.get_or_init(Utc::now);
}

/// Writes the process families that this platform can tell.
pub fn write(out: &mut Exposition) {
    mark_start();
    if let Some(started) = STARTED.get() {
        out.family(
            "process_start_time_seconds",
            Kind::Gauge,
            "When the process started, in seconds since the epoch.",
        );
        out.sample(
            "process_start_time_seconds",
            &[],
            started.timestamp_millis() as f64 / 1000.0,
        );
    }

    if let Some(bytes) = resident_memory_bytes() {
        out.family(
            "process_resident_memory_bytes",
            Kind::Gauge,
            "Resident memory size of the process.",
        );
        out.sample("process_resident_memory_bytes", &[], bytes as f64);
    }

    if let Some(count) = open_fds() {
        out.family(
            "process_open_fds",
            Kind::Gauge,
            "File descriptors the process holds open.",
        );
        out.sample("process_open_fds", &[], count as f64);
    }
}

/// `VmRSS` of `/proc/self/status`, which is in kibibytes whatever the page size.
fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

/// Entries of `/proc/self/fd`, less the one the listing itself holds open.
fn open_fds() -> Option<usize> {
    let entries = std::fs::read_dir("/proc/self/fd").ok()?;
    Some(entries.count().saturating_sub(1))
}
