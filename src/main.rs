//! The `vbdash` command: dashboard, demo, simulator, configuration check and users.

mod allocator;
mod cli;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use vbdash::config::Config;
use vbdash::telemetry::{self, LogFormat};

/// One dashboard for the backups of many vCenter Server Appliances.
#[derive(Debug, Parser)]
#[command(name = "vbdash", version, about)]
struct Cli {
    /// Format of log lines.
    #[arg(
        long,
        global = true,
        env = "VBDASH_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: LogFormat,

    /// Log filter, for example "info" or "warn,vbdash=debug".
    #[arg(long, global = true, env = "VBDASH_LOG")]
    log: Option<String>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the dashboard for a handful of simulated appliances, with months of history.
    Demo {
        /// Address of the dashboard.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Database file; a fresh temporary one when not given.
        #[arg(long)]
        database: Option<PathBuf>,
        /// Send notifications of the demo fleet as JSON to this URL (see README,
        /// "Notifications"), such as a receiver of your own on 127.0.0.1.
        #[arg(long)]
        webhook: Option<url::Url>,
        /// Also send them by e-mail through this mail server (no encryption, no sign-in),
        /// such as a test mail catcher on 127.0.0.1:1025; needs --mail-to.
        #[arg(long, requires = "mail_to")]
        smtp: Option<SocketAddr>,
        /// Recipient of the demo's e-mail.
        #[arg(long, requires = "smtp")]
        mail_to: Option<String>,
    },
    /// Poll the configured appliances and serve the dashboard.
    Serve {
        /// Configuration file.
        #[arg(long, short, default_value = "vbdash.toml")]
        config: PathBuf,
    },
    /// Run only the appliance simulator, for manual tests and docker-compose.
    Simulate {
        /// Simulator configuration file (see sim.example.toml).
        #[arg(long, short)]
        config: PathBuf,
        /// Address to serve the simulated appliances on [default: the file's `listen`, else
        /// 127.0.0.1:8443].
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Add, change, remove and list the local users who sign in to the dashboard.
    User(cli::user::UserCommand),
    /// Measure a large simulated fleet in one run and write BENCHMARKS.md.
    Bench(cli::bench::BenchCommand),
    /// Create, list and revoke the bearer tokens of the JSON API under /api/v1.
    Token(vbdash::web::api::token_command::TokenCommand),
    /// Check a configuration file and exit: 0 when valid, 1 with the reason when not.
    CheckConfig {
        /// Configuration file.
        #[arg(long, short, default_value = "vbdash.toml")]
        config: PathBuf,
    },
}

fn main() -> ExitCode {
    allocator::tune();
    let cli = Cli::parse();
    telemetry::init(cli.log_format, cli.log.as_deref());

    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Demo {
            listen,
            database,
            webhook,
            smtp,
            mail_to,
        } => {
            let notify = vbdash::demo::DemoNotifications {
                webhook,
                smtp,
                mail_to,
            };
            vbdash::demo::run_with_notifications(listen, database, notify).await
        }
        Command::Serve { config } => {
            let config = Config::load(&config, &Config::process_env())?;
            vbdash::app::serve(config).await
        }
        Command::Simulate { config, listen } => vbdash::app::simulate(&config, listen).await,
        Command::User(command) => cli::user::run(command).await,
        Command::Bench(command) => cli::bench::run(command).await,
        Command::Token(command) => {
            vbdash::web::api::token_command::run(command, &mut std::io::stdout()).await
        }
        Command::CheckConfig { config } => {
            let loaded = Config::load(&config, &Config::process_env())?;
            println!(
                "{}: valid, {} appliance(s), database {}, listening on {}, sign-in {}",
                config.display(),
                loaded.appliances.len(),
                loaded.database.url,
                loaded.server.listen,
                match loaded.auth.mode {
                    vbdash::config::AuthMode::None => "off (loopback only)",
                    vbdash::config::AuthMode::Local => "by local users",
                    vbdash::config::AuthMode::Proxy(_) => "by a trusted proxy",
                }
            );
            Ok(())
        }
    }
}
