//! Logging set-up: human-readable text by default, JSON lines for log collectors.

use tracing_subscriber::EnvFilter;

/// The output format of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Installs the global subscriber. The filter comes from `filter` (the `VBDASH_LOG`
/// variable, same syntax as `RUST_LOG`), defaulting to info for vbdash and warn elsewhere.
pub fn init(format: LogFormat, filter: Option<&str>) {
    let filter = filter
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new("warn,vbdash=info"));
    // Logs go to stderr so that what a command prints for people stays on stdout; colour
    // only when a person is watching.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(colour);

    // A second init (tests) is harmless: the first subscriber stays.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
