//! The `users` table: dashboard users, their role and the hash of their password.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use super::overview::from_ms;
use super::{Context, Store, StoreError, StoreResult};

/// What a dashboard user may do; each role may do all that the ones before it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Reads every page.
    Viewer,
    /// Also starts, validates and cancels backups.
    Operator,
    /// Also changes schedules and sees the users.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 3] = [Role::Viewer, Role::Operator, Role::Admin];

    /// The word stored and shown: `viewer`, `operator` or `admin`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Admin => "admin",
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A word that is not a role.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a role; use viewer, operator or admin")]
pub struct UnknownRole(pub String);

impl std::str::FromStr for Role {
    type Err = UnknownRole;

    fn from_str(word: &str) -> Result<Role, UnknownRole> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == word.trim())
            .ok_or_else(|| UnknownRole(word.to_owned()))
    }
}

/// A user as listed: no password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSummary {
    pub name: String,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    /// Last change of the password or the role.
    pub updated_at: DateTime<Utc>,
}

/// What sign-in needs to check a password. `Debug` leaves the hash out.
#[derive(Clone)]
pub struct UserCredentials {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// PHC string of the argon2id hash.
    pub password_hash: String,
}

impl std::fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCredentials")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

#[derive(FromRow)]
struct UserRow {
    id: i64,
    name: String,
    role: String,
    password_hash: String,
    created_ms: i64,
    updated_ms: i64,
}

pub(super) fn parse_role(word: &str) -> StoreResult<Role> {
    word.parse().map_err(|e: UnknownRole| StoreError::Corrupt {
        what: "user role",
        detail: e.to_string(),
    })
}

impl Store {
    /// Adds a user; `false` when the name is taken.
    pub async fn add_user(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "INSERT INTO users (name, role, password_hash, created_ms, updated_ms) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(password_hash)
        .bind(now.timestamp_millis())
        .bind(now.timestamp_millis())
        .execute(&self.writer)
        .await
        .context("adding a user")?;
        Ok(done.rows_affected() == 1)
    }

    /// Replaces a user's password and ends every session of the user; `false` when there
    /// is no such user.
    pub async fn set_password(
        &self,
        name: &str,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut tx = self.writer.begin().await.context("changing a password")?;
        let done = sqlx::query("UPDATE users SET password_hash = ?, updated_ms = ? WHERE name = ?")
            .bind(password_hash)
            .bind(now.timestamp_millis())
            .bind(name)
            .execute(&mut *tx)
            .await
            .context("changing a password")?;
        sqlx::query("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE name = ?)")
            .bind(name)
            .execute(&mut *tx)
            .await
            .context("ending the sessions of a user")?;
        tx.commit().await.context("changing a password")?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes a user and, with it, every session of the user; `false` when there is none.
    pub async fn remove_user(&self, name: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM users WHERE name = ?")
            .bind(name)
            .execute(&self.writer)
            .await
            .context("removing a user")?;
        Ok(done.rows_affected() == 1)
    }

    /// Every user by name.
    pub async fn list_users(&self) -> StoreResult<Vec<UserSummary>> {
        let rows: Vec<UserRow> = sqlx::query_as("SELECT * FROM users ORDER BY name")
            .fetch_all(&self.reader)
            .await
            .context("listing users")?;
        rows.into_iter()
            .map(|row| {
                Ok(UserSummary {
                    role: parse_role(&row.role)?,
                    created_at: from_ms("user creation time", row.created_ms)?,
                    updated_at: from_ms("user change time", row.updated_ms)?,
                    name: row.name,
                })
            })
            .collect()
    }

    /// The credentials of the user `name`, for sign-in.
    pub async fn user_credentials(&self, name: &str) -> StoreResult<Option<UserCredentials>> {
        let row: Option<UserRow> = sqlx::query_as("SELECT * FROM users WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.reader)
            .await
            .context("reading a user")?;
        row.map(|row| {
            Ok(UserCredentials {
                id: row.id,
                role: parse_role(&row.role)?,
                name: row.name,
                password_hash: row.password_hash,
            })
        })
        .transpose()
    }
}
