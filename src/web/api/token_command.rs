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
use crate::store::{ApiToken, Store, TokenScope};

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
            } else {
                write!(out, "{}", token_table(&tokens, now))?;
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

/// The token listing as columns under a header line, each as wide as its widest cell,
/// so that every row lines up whatever was filled in.
fn token_table(tokens: &[ApiToken], now: DateTime<Utc>) -> String {
    let header = ["NAME", "SCOPE", "CREATED", "LAST USED", "EXPIRES"].map(str::to_owned);
    let rows: Vec<[String; 5]> = tokens
        .iter()
        .map(|token| {
            let expiry = match token.expires_at {
                Some(at) if at <= now => format!("expired {}", stamp(at)),
                Some(at) => stamp(at),
                None => "never expires".to_owned(),
            };
            [
                token.name.clone(),
                token.scope.to_string(),
                stamp(token.created_at),
                when(token.last_used_at, "never"),
                expiry,
            ]
        })
        .collect();

    let mut widths = header.clone().map(|cell| cell.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }

    let mut table = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        table.push_str(cells.join("  ").trim_end());
        table.push('\n');
    }
    table
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
    use chrono::TimeZone;

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
    fn the_listing_lines_up_whatever_each_row_holds() {
        let at = |day: u32| {
            Utc.with_ymd_and_hms(2026, 12, day, 9, 30, 0)
                .single()
                .unwrap()
        };
        let token = |name: &str, last: Option<u32>, expires: Option<u32>| ApiToken {
            id: 1,
            name: name.to_owned(),
            scope: TokenScope::Read,
            created_at: at(1),
            expires_at: expires.map(at),
            last_used_at: last.map(at),
        };
        let tokens = [
            token("ci", None, None),
            token("nightly-report-runner", Some(3), Some(2)),
            token("grafana", Some(4), Some(20)),
        ];

        let table = token_table(&tokens, at(10));

        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 4, "{table}");
        assert!(lines[0].starts_with("NAME"), "{table}");
        for heading in ["SCOPE", "CREATED", "LAST USED", "EXPIRES"] {
            let column = lines[0].find(heading).unwrap();
            for line in &lines[1..] {
                let before = &line[..column];
                assert!(before.ends_with("  "), "{heading} not lined up:\n{table}");
                assert_ne!(&line[column..column + 1], " ", "{heading}:\n{table}");
            }
        }
        assert!(lines[1].ends_with("never expires"), "{table}");
        assert!(
            lines[2].ends_with("expired 2026-12-02 09:30 UTC"),
            "{table}"
        );
        assert!(lines[3].ends_with("2026-12-20 09:30 UTC"), "{table}");
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
