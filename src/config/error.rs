//! Configuration errors that point at the file, the line and the key.

use std::path::PathBuf;

/// A configuration problem, said so that a person can fix it without reading code.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    // The io error is part of the message, not a `source`, so that a report of the
    // whole chain does not say it twice.
    #[error("cannot read {file}: {reason}")]
    Read {
        file: PathBuf,
        reason: std::io::Error,
    },
    /// A problem at a known place in the file.
    #[error("{file}, line {line}, key `{key}`: {message}")]
    At {
        file: PathBuf,
        line: usize,
        key: String,
        message: String,
    },
    /// A bad value given by a `VBDASH_*` environment variable.
    #[error("environment variable {variable} (overrides `{key}`): {message}")]
    Env {
        variable: String,
        key: String,
        message: String,
    },
    /// A problem with no single line (a missing table, an environment variable).
    #[error("{file}, key `{key}`: {message}")]
    Key {
        file: PathBuf,
        key: String,
        message: String,
    },
}

/// 1-based line number of a byte offset in `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}
