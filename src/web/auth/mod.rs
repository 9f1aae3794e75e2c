//! Who is asking, and may they: sign-in (local users, a trusted proxy, or nobody on a
//! loopback address), sessions, CSRF tokens and roles.
//!
//! [`gate`] runs before every handler. It finds the [`CurrentUser`], refuses a request
//! that changes something without the right CSRF token, sends signed-out visitors to the
//! sign-in page, and makes the user and token available to every page template through
//! [`page_context`]. A route that needs more than reading gets
//! `.route_layer(middleware::from_fn_with_state(Role::Operator, auth::require_role))`, or
//! its handler calls [`CurrentUser::require`].

pub mod cookies;
pub mod csrf;
mod gate;
pub mod limiter;
pub mod login;
pub mod password;
pub mod proxy;
pub mod session;
pub mod tokens;

use std::convert::Infallible;
use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::RngCore;

use super::error::WebError;
use crate::config::AuthConfig;

pub use crate::store::Role;
pub use gate::gate;

/// Sign-in settings and what requests share about them.
#[derive(Debug)]
pub struct Auth {
    /// The `[auth]` table.
    pub config: AuthConfig,
    /// Key for the CSRF tokens of browsers without a session; new in every process.
    key: [u8; 32],
    /// Held from the lockout check of a sign-in to the count of its failure, so that
    /// passwords sent at the same moment cannot all pass the check before any is counted.
    /// Password checks are bound by the processor anyway, so little is lost by their
    /// running one at a time; a locked-out attempt is refused without checking.
    pub(crate) sign_in_turn: tokio::sync::Mutex<()>,
}

impl Auth {
    /// Shared settings for `config`.
    pub fn new(config: AuthConfig) -> Arc<Auth> {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Arc::new(Auth {
            config,
            key,
            sign_in_turn: tokio::sync::Mutex::new(()),
        })
    }

    /// No sign-in: everyone is an admin (only allowed on a loopback address).
    pub fn none() -> Arc<Auth> {
        Auth::new(AuthConfig::default())
    }
}

/// How the current user was recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Sign-in is off; the person at this machine.
    NoAuth,
    /// A local user's session.
    Session,
    /// A trusted proxy's header.
    Proxy,
    /// A bearer token of the JSON API.
    Token,
}

/// The person making the request. Available to handlers as an extractor on every route
/// but the public ones (sign-in page, static files, health check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    /// User name as signed in.
    pub name: String,
    /// What the user may do.
    pub role: Role,
    /// How the user was recognised.
    pub source: Source,
}

impl CurrentUser {
    /// The user of a dashboard without sign-in.
    pub fn local_admin() -> CurrentUser {
        CurrentUser {
            name: "local".to_owned(),
            role: Role::Admin,
            source: Source::NoAuth,
        }
    }

    /// `Ok` when the user has at least `role`, else a 403 that says what is needed.
    pub fn require(&self, role: Role) -> Result<(), WebError> {
        if self.role >= role {
            return Ok(());
        }
        Err(WebError::Forbidden(format!(
            "This needs the {role} role; you are signed in as {} with the {} role.",
            self.name, self.role
        )))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or_else(|| WebError::Unauthorized("Sign in to see this page.".to_owned()))
    }
}

/// The client's address: the peer of the connection (a proxy's when behind one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub Option<IpAddr>);

impl ClientAddr {
    /// The address for logs and rate limits.
    pub fn label(self) -> String {
        self.0
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientAddr>()
            .copied()
            .unwrap_or(ClientAddr(None)))
    }
}

/// Middleware for one route: lets the request through only for users with at least the
/// role given as state; others get a 403 page that says which role is needed.
pub async fn require_role(State(role): State<Role>, request: Request, next: Next) -> Response {
    let allowed = match request.extensions().get::<CurrentUser>() {
        Some(user) => user.require(role),
        None => Err(WebError::Unauthorized(
            "Sign in to see this page.".to_owned(),
        )),
    };
    match allowed {
        Ok(()) => next.run(request).await,
        Err(refused) => refused.into_response(),
    }
}

/// What every page shows about the signed-in user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageContext {
    /// Signed-in user's name; `None` when signed out.
    pub user_name: Option<String>,
    /// Their role, as a word.
    pub role: String,
    /// The CSRF token for forms and htmx requests of this page.
    pub csrf_token: String,
    /// A sign-out button makes sense (local users only).
    pub can_sign_out: bool,
    /// The users page link is shown (admins).
    pub can_see_users: bool,
    /// Sign-in is off: there is no user to name, and the header says so instead.
    pub sign_in_off: bool,
}

tokio::task_local! {
    static PAGE: PageContext;
}

/// The page context of the request being answered; empty outside a request (such as in
/// template unit tests). Called from `templates/base.html`.
pub fn page_context() -> PageContext {
    PAGE.try_with(Clone::clone).unwrap_or_default()
}
