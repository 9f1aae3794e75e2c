//! Subcommands of the `vbdash` binary that are more than a call into the library.

pub mod bench;
pub mod user;
