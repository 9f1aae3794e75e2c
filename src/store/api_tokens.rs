//! The `api_tokens` table: bearer tokens of the JSON API, kept as digests only.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::overview::{from_ms, to_ms};
use super::{Context, Store, StoreError, StoreResult};

/// A used token's `last_used_ms` is written again only when older than this, so that a
/// busy script does not turn every read into a write.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;

/// What a token may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TokenScope {
    /// Every read of the API.
    Read,
    /// Also starts and cancels backups.
    Operate,
}

impl TokenScope {
    /// The word stored, typed and shown: `read` or `operate`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Operate => "operate",
        }
    }
}

impl fmt::Display for TokenScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TokenScope {
    type Err = String;

    fn from_str(word: &str) -> Result<TokenScope, String> {
        match word.trim() {
            "read" => Ok(TokenScope::Read),
            "operate" => Ok(TokenScope::Operate),
            other => Err(format!("`{other}` is not a scope; use read or operate")),
        }
    }
}

/// A token as listed and as checked: everything but its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    /// Row id.
    pub id: i64,
    /// Name given at creation.
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it stops working; `None` for never.
    pub expires_at: Option<DateTime<Utc>>,
    /// Its last accepted request, to the minute.
    pub last_used_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// True when the token no longer works at `now`.
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

#[derive(FromRow)]
struct TokenRow {
    id: i64,
    name: String,
    scope: String,
    created_ms: i64,
    expires_ms: Option<i64>,
    last_used_ms: Option<i64>,
}

impl TokenRow {
    fn into_token(self) -> StoreResult<ApiToken> {
        let scope = self.scope.parse().map_err(|detail| StoreError::Corrupt {
            what: "token scope",
            detail,
        })?;
        Ok(ApiToken {
            id: self.id,
            name: self.name,
            scope,
            created_at: from_ms("token creation time", self.created_ms)?,
            expires_at: self
                .expires_ms
                .map(|ms| from_ms("token expiry", ms))
                .transpose()?,
            last_used_at: self
                .last_used_ms
                .map(|ms| from_ms("token use time", ms))
                .transpose()?,
        })
    }
}

macro_rules! token_select {
    () => {
        "SELECT id, name, scope, created_ms, expires_ms, last_used_ms FROM api_tokens "
    };
}

impl Store {
    /// Stores a new token under the digest of its text; `false` when the name is taken.
    pub async fn add_api_token(
        &self,
        name: &str,
        scope: TokenScope,
        token_hash: &str,
        created_at: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO api_tokens (name, scope, token_hash, created_ms, expires_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(scope.as_str())
        .bind(token_hash)
        .bind(to_ms(created_at))
        .bind(expires_at.map(to_ms))
        .execute(&self.writer)
        .await
        .context("adding an API token")?;
        Ok(done.rows_affected() == 1)
    }

    /// Every token by name.
    pub async fn list_api_tokens(&self) -> StoreResult<Vec<ApiToken>> {
        let rows: Vec<TokenRow> = sqlx::query_as(concat!(token_select!(), "ORDER BY name"))
            .fetch_all(&self.reader)
            .await
            .context("listing API tokens")?;
        rows.into_iter().map(TokenRow::into_token).collect()
    }

    /// Deletes the token named `name`; `false` when there is none.
    pub async fn revoke_api_token(&self, name: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE name = ?1")
            .bind(name)
            .execute(&self.writer)
            .await
            .context("revoking an API token")?;
        Ok(done.rows_affected() == 1)
    }

    /// The token whose digest is `token_hash`, expired or not.
    pub async fn api_token_by_hash(&self, token_hash: &str) -> StoreResult<Option<ApiToken>> {
        let row: Option<TokenRow> =
            sqlx::query_as(concat!(token_select!(), "WHERE token_hash = ?1"))
                .bind(token_hash)
                .fetch_optional(&self.reader)
                .await
                .context("reading an API token")?;
        row.map(TokenRow::into_token).transpose()
    }

    /// Notes that token `id` was used at `now` (to the minute).
    pub async fn touch_api_token(&self, id: i64, now: DateTime<Utc>) -> StoreResult<()> {
        let now_ms = to_ms(now);
        sqlx::query(
            "UPDATE api_tokens SET last_used_ms = ?2 WHERE id = ?1 \
             AND (last_used_ms IS NULL OR last_used_ms < ?2 - ?3)",
        )
        .bind(id)
        .bind(now_ms)
        .bind(LAST_USED_RESOLUTION_MS)
        .execute(&self.writer)
        .await
        .context("noting the use of an API token")?;
        Ok(())
    }
}
