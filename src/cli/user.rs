//! `vbdash user add|passwd|remove|list`: local users, kept in the dashboard's database.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::Utc;
use clap::{Args, Subcommand};
use vbdash::config::Config;
use vbdash::secret::Secret;
use vbdash::store::{Role, Store};
use vbdash::web::auth::password;

/// What to do with local users.
#[derive(Debug, Args)]
pub struct UserCommand {
    /// Configuration file; its [database] table says where users are kept.
    #[arg(long, short, default_value = "vbdash.toml", global = true)]
    config: PathBuf,

    #[command(subcommand)]
    action: UserAction,
}

#[derive(Debug, Subcommand)]
enum UserAction {
    /// Add a user; the password is asked for (or read from standard input).
    Add {
        /// User name.
        name: String,
        /// viewer (reads everything), operator (also runs backups) or admin.
        #[arg(long, default_value = "viewer")]
        role: Role,
        /// Read the password from the first line of standard input, for scripts.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password; the user's sessions end.
    Passwd {
        /// User name.
        name: String,
        /// Read the password from the first line of standard input, for scripts.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Remove a user and end their sessions.
    Remove {
        /// User name.
        name: String,
    },
    /// List users and roles.
    List,
}

/// Runs one `vbdash user` command.
pub async fn run(command: UserCommand) -> anyhow::Result<()> {
    let database = Config::load_database(&command.config, &Config::process_env())?;
    let store = Store::open(&database.url)
        .await
        .with_context(|| format!("cannot open the database {}", database.url))?;
    let result = act(&store, command.action).await;
    store.close().await;
    result
}

async fn act(store: &Store, action: UserAction) -> anyhow::Result<()> {
    match action {
        UserAction::Add {
            name,
            role,
            password_stdin,
        } => {
            check_name(&name)?;
            let hash = new_password_hash(password_stdin).await?;
            if !store.add_user(&name, role, &hash, Utc::now()).await? {
                bail!("a user named {name} exists already; use `vbdash user passwd {name}`");
            }
            println!("added {name} ({role})");
        }
        UserAction::Passwd {
            name,
            password_stdin,
        } => {
            if store.user_credentials(&name).await?.is_none() {
                bail!("there is no user named {name}");
            }
            let hash = new_password_hash(password_stdin).await?;
            store.set_password(&name, &hash, Utc::now()).await?;
            println!("password of {name} changed; their sessions have ended");
        }
        UserAction::Remove { name } => {
            if !store.remove_user(&name).await? {
                bail!("there is no user named {name}");
            }
            println!("removed {name}");
        }
        UserAction::List => {
            let users = store.list_users().await?;
            if users.is_empty() {
                println!("no users yet; add one with `vbdash user add NAME --role admin`");
            }
            for user in users {
                println!(
                    "{:<32} {:<9} added {}",
                    user.name,
                    user.role,
                    user.created_at.format("%Y-%m-%d %H:%M UTC")
                );
            }
        }
    }
    Ok(())
}

/// User names are typed at sign-in and shown on pages: printable, no spaces, bounded.
fn check_name(name: &str) -> anyhow::Result<()> {
    if let Some(why) = vbdash::web::typed_text::problem(name) {
        bail!("this user name cannot be used: {why}");
    }
    let ok = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '@');
    if name.is_empty() || name.chars().count() > 64 || !name.chars().all(ok) {
        bail!(
            "`{name}` is not a valid user name; use 1 to 64 letters, digits, '-', '_', '.' or '@'"
        );
    }
    Ok(())
}

/// Reads a new password (prompt without echo, asked twice; or one line of standard
/// input), checks it and hashes it.
async fn new_password_hash(from_stdin: bool) -> anyhow::Result<String> {
    let password = tokio::task::spawn_blocking(move || read_password(from_stdin)).await??;
    password::check_new(&password)?;
    let hash = tokio::task::spawn_blocking(move || password::hash(&password)).await??;
    Ok(hash)
}

fn read_password(from_stdin: bool) -> anyhow::Result<Secret> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        return Ok(Secret::new(line.trim_end_matches(['\n', '\r'])));
    }
    let first = rpassword::prompt_password("New password: ")
        .context("cannot read the password; use --password-stdin when there is no terminal")?;
    let again =
        rpassword::prompt_password("Same password again: ").context("cannot read the password")?;
    if first != again {
        bail!("the two passwords differ; nothing was changed");
    }
    Ok(Secret::new(first))
}
