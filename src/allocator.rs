//! Settings of glibc's allocator for a long-running dashboard.
//!
//! Measured at 5,000 appliances (see BENCHMARKS.md): with glibc's defaults the resident
//! memory after a burst of page loads stayed about 30 MiB above what the data needed. Two
//! defaults cause it: one memory arena per busy thread (the runtime's workers and one
//! thread per database connection each keep their own freed memory), and a threshold for
//! giving large blocks their own mapping that rises after the first large block is freed,
//! so the multi-megabyte buffers of each fleet read and page render then come from, and
//! stay in, the arenas. Fixing both returns those buffers to the system when they are freed.
//!
//! An operator's own `MALLOC_ARENA_MAX` or `MALLOC_MMAP_THRESHOLD_` is left in force.

/// Arenas shared by all threads.
const ARENAS: i32 = 2;

/// Blocks of this size or larger get their own mapping, returned to the system when freed.
const OWN_MAPPING_FROM_BYTES: i32 = 256 * 1024;

/// Applies the settings; call first thing in `main`, before any thread starts.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn tune() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only sets a parameter of the allocator; no thread is running yet.
        unsafe { libc::mallopt(libc::M_ARENA_MAX, ARENAS) };
    }
    if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
        // SAFETY: as above.
        unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, OWN_MAPPING_FROM_BYTES) };
    }
}

/// Other C libraries keep their own defaults.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn tune() {}
