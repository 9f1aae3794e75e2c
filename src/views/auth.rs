//! The sign-in page and the users page.

use askama::Template;
use askama_web::WebTemplate;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::format::Moment;
use crate::store::UserSummary;

/// The sign-in form.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "auth/login.html")]
pub struct LoginPage {
    /// Why the last attempt failed, in words.
    pub problem: Option<String>,
    /// The user name typed last time, kept in the field.
    pub user_name: String,
    /// Where to go after signing in (a local path).
    pub next: String,
}

/// One user as a table row: no password hash, nothing secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    /// User name.
    pub name: String,
    /// Role word.
    pub role: &'static str,
    /// When the user was added.
    pub created: Moment,
    /// Last change of the password or the role.
    pub updated: Moment,
}

/// The list of local users, for admins.
#[derive(Debug, Template, WebTemplate)]
#[template(path = "users/index.html")]
pub struct UsersPage {
    /// Every local user by name.
    pub users: Vec<UserRow>,
    /// Local users are what signs in (`auth = "local"`); otherwise a note says they are
    /// not used.
    pub local_sign_in: bool,
}

impl UsersPage {
    /// The page for `users`.
    pub fn new(
        users: &[UserSummary],
        local_sign_in: bool,
        now: DateTime<Utc>,
        zone: Tz,
    ) -> UsersPage {
        UsersPage {
            users: users
                .iter()
                .map(|u| UserRow {
                    name: u.name.clone(),
                    role: u.role.as_str(),
                    created: Moment::new(u.created_at, now, zone),
                    updated: Moment::new(u.updated_at, now, zone),
                })
                .collect(),
            local_sign_in,
        }
    }
}
