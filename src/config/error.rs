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
    /// Text that is not TOML, or a mistake that belongs to no single key: the place is
    /// said as line, column and the table it is in ("in table [server]", "at the top
    /// level").
    #[error("{file}, line {line}, column {column}, {table}: {message}")]
    Syntax {
        file: PathBuf,
        line: usize,
        column: usize,
        table: String,
        message: String,
    },
    /// A problem with the file as a whole, such as a missing table.
    #[error("{file}, at the top level: {message}")]
    TopLevel { file: PathBuf, message: String },
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

/// 1-based column, in characters, of a byte offset in `text`.
pub(crate) fn column_of(text: &str, offset: usize) -> usize {
    let end = floor_char_boundary(text, offset);
    let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..end].chars().count() + 1
}

/// The table a byte offset of `text` is in, in words: "in table [server]", "in an
/// [[appliance]] entry", or "at the top level" before the first header.
pub(crate) fn table_of(text: &str, offset: usize) -> String {
    let end = floor_char_boundary(text, offset);
    let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
    let header = text[..line_start]
        .lines()
        .rev()
        .map(str::trim_start)
        .find(|line| line.starts_with('['));
    match header {
        Some(line) if line.starts_with("[[") => match line[2..].split_once("]]") {
            Some((name, _)) => format!("in an [[{}]] entry", name.trim()),
            None => "after an unclosed table header".to_owned(),
        },
        Some(line) => match line[1..].split_once(']') {
            Some((name, _)) => format!("in table [{}]", name.trim()),
            None => "after an unclosed table header".to_owned(),
        },
        None => "at the top level".to_owned(),
    }
}

/// `offset` moved back to the start of the character it falls in, so slicing never panics.
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut end = offset.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    end
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
