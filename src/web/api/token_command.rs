//! `vbdash token create|list|revoke`: the API's bearer tokens, kept in the dashboard's
//! database as digests. The binary and the tests run the same code.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

use super::auth::{new_token, token_digest};
use crate::config::Config;
use crate::store::{Store, TokenScope};

/// What to do with API tokens.
#[derive(Debug, Args)]
pub struct TokenCommand {
    /// Configuration file; its [database] table says where tokens are kept.
    #[arg(long, short, default_value = "vbdash.toml", global = true)]
    config: PathBuf,

    #[command(subcommand)]
    action: TokenAction,
}

#[derive(Debug, Subcommand)]
enum TokenAction {
    /// Make a token and print it once; only its digest is kept.
    Create {
        /// Name of the token, shown in the audit log as `token:NAME`.
        #[arg(long)]
        name: String,
        /// read (every GET of the API) or operate (also starts and cancels backups).
        #[arg(long)]
        scope: TokenScope,
        /// Lifetime, such as 90d or 12h; the token never expires when not given.
        #[arg(long, value_parser = parse_lifetime)]
        expires_in: Option<Duration>,
    },
    /// List tokens: name, scope, created, last used and expiry (never the token).
    List,
    /// Revoke a token at once.
    Revoke {
        /// Name of the token.
        name: String,
    },
}

/// Parses the words after `vbdash token`, as the binary does.
pub fn parse<I, T>(args: I) -> Result<TokenCommand, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    #[derive(Parser)]
    #[command(name = "token")]
    struct Words {
        #[command(flatten)]
        command: TokenCommand,
    }
    let words =
        std::iter::once(std::ffi::OsString::from("token")).chain(args.into_iter().map(Into::into));
    Words::try_parse_from(words).map(|w| w.command)
}

fn parse_lifetime(text: &str) -> Result<Duration, String> {
    let lifetime = humantime::parse_duration(text)
        .map_err(|e| format!("`{text}` is not a lifetime such as 90d or 12h: {e}"))?;
    if lifetime.is_zero() {
        return Err("a lifetime must be longer than nothing".to_owned());
    }
    Ok(lifetime)
}

/// Runs one `vbdash token` command, writing what it has to say to `out`.
pub async fn run(command: TokenCommand, out: &mut dyn Write) -> anyhow::Result<()> {
    let database = Config::load_database(&command.config, &Config::process_env())?;
    let store = Store::open(&database.url)
        .await
        .with_context(|| format!("cannot open the database {}", database.url))?;
    let result = act(&store, command.action, Utc::now(), out).await;
    store.close().await;
    result
}

async fn act(
    store: &Store,
    action: TokenAction,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match action {
        TokenAction::Create {
            name,
            scope,
            expires_in,
        } => {
            check_name(&name)?;
            let expires_at = match expires_in {
                Some(lifetime) => Some(
                    chrono::Duration::from_std(lifetime)
                        .ok()
                        .and_then(|d| now.checked_add_signed(d))
                        .context("that lifetime reaches past the calendar")?,
                ),
                None => None,
            };
            let token = new_token();
            if !store
                .add_api_token(&name, scope, &token_digest(&token), now, expires_at)
                .await?
            {
                bail!("a token named {name} exists already; revoke it first or pick another name");
            }
            writeln!(out, "{token}")?;
            writeln!(
                out,
                "token {name} ({scope}, expires {}) created; it is shown only this once",
                when(expires_at, "never")
            )?;
        }
        TokenAction::List => {
            let tokens = store.list_api_tokens().await?;
            if tokens.is_empty() {
                writeln!(
                    out,
                    "no tokens yet; make one with `vbdash token create --name NAME --scope read`"
                )?;
            }
            for token in tokens {
                let expiry = match token.expires_at {
                    Some(at) if at <= now => format!("expired {}", stamp(at)),
                    Some(at) => format!("expires {}", stamp(at)),
                    None => "never expires".to_owned(),
                };
                writeln!(
                    out,
                    "{:<32} {:<7} created {}  last used {}  {expiry}",
                    token.name,
                    token.scope,
                    stamp(token.created_at),
                    when(token.last_used_at, "never"),
                )?;
            }
        }
        TokenAction::Revoke { name } => {
            if !store.revoke_api_token(&name).await? {
                bail!("there is no token named {name}");
            }
            writeln!(out, "revoked {name}")?;
        }
    }
    Ok(())
}

fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn when(at: Option<DateTime<Utc>>, otherwise: &str) -> String {
    at.map_or_else(|| otherwise.to_owned(), stamp)
}

/// Token names end up in the audit log and in listings: printable, bounded, no spaces.
fn check_name(name: &str) -> anyhow::Result<()> {
    if let Some(why) = crate::web::typed_text::problem(name) {
        bail!("this token name cannot be used: {why}");
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || name.len() > 64 || !name.chars().all(ok) {
        bail!("`{name}` is not a valid token name; use 1 to 64 letters, digits, '-', '_' or '.'");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lifetimes_and_names_are_checked() {
        assert_eq!(
            parse_lifetime("90d").unwrap(),
            Duration::from_secs(90 * 86_400)
        );
        assert!(parse_lifetime("0s").is_err());
        assert!(parse_lifetime("soon").is_err());
        assert!(check_name("ci-nightly.1").is_ok());
        for bad in ["", "has space", "token:x", &"x".repeat(65), "\u{202e}"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        let why = check_name("ci\u{200f}1").unwrap_err().to_string();
        assert!(why.contains("U+200F"), "{why}");
    }

    #[test]
    fn words_parse_as_the_binary_reads_them() {
        let create = parse([
            "create",
            "--name",
            "ci",
            "--scope",
            "operate",
            "--expires-in",
            "90d",
        ]);
        assert!(create.is_ok());
        assert!(parse(["create", "--name", "ci", "--scope", "admin"]).is_err());
        assert!(parse(["revoke"]).is_err());
    }
}
