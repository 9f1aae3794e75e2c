//! Bearer tokens in front of the API routes: who is calling, and may they.
//!
//! A token is `vbd_` followed by 64 hex digits (256 random bits). Only its SHA-256 digest
//! is stored; a request's token is hashed and looked up by that digest.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::error::ApiError;
use crate::store::{Store, TokenScope};
use crate::web::auth::tokens::{digest, random_token};
use crate::web::auth::{CurrentUser, Role, Source};

/// What every token starts with, so that secret scanners and people recognise one.
pub const TOKEN_PREFIX: &str = "vbd_";

/// A new random token text. Shown once; only [`token_digest`] of it is kept.
pub fn new_token() -> String {
    format!("{TOKEN_PREFIX}{}", random_token())
}

/// What the database keeps of a token.
pub fn token_digest(token: &str) -> String {
    digest(token)
}

/// The token a request was accepted with; an extractor on every guarded API route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name.
    pub name: String,
    /// What it may do.
    pub scope: TokenScope,
}

impl Caller {
    /// The actor written to the audit log for this caller: `token:NAME`, so that a token
    /// is never mistaken for a dashboard user of the same name.
    pub fn actor(&self) -> CurrentUser {
        CurrentUser {
            name: format!("token:{}", self.name),
            role: Role::Operator,
            source: Source::Token,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("send a token: Authorization: Bearer <token>"))
    }
}

/// The state of one guard: where tokens are looked up and the scope the routes need.
#[derive(Clone)]
pub struct Guard {
    store: Store,
    scope: TokenScope,
}

impl Guard {
    /// A guard for routes that need `scope`.
    pub fn new(store: &Store, scope: TokenScope) -> Guard {
        Guard {
            store: store.clone(),
            scope,
        }
    }
}

/// Middleware: lets a request through with a live token of the guard's scope (or wider)
/// and makes its [`Caller`] available; 401 for a missing, unknown or expired token, 403
/// for a token whose scope is too narrow.
pub async fn require_token(
    State(guard): State<Guard>,
    mut request: Request,
    next: Next,
) -> Response {
    let caller = match check(&guard, request.headers()).await {
        Ok(caller) => caller,
        Err(refused) => {
            tracing::warn!(
                path = request.uri().path(),
                status = refused.status().as_u16(),
                "API request refused"
            );
            return refused.into_response();
        }
    };
    tracing::debug!(token.name = %caller.name, path = request.uri().path(), "API request");
    request.extensions_mut().insert(caller);
    next.run(request).await
}

async fn check(guard: &Guard, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let token = bearer(headers)?;

    let now = Utc::now();
    let found = guard
        .store
        .api_token_by_hash(&token_digest(token))
        .await
        .map_err(ApiError::internal)?;
    let Some(found) = found else {
        return Err(ApiError::unauthorized(
            "the token is not known or has been revoked",
        ));
    };
    if found.is_expired(now) {
        return Err(ApiError::unauthorized("the token has expired"));
    }
    if found.scope < guard.scope {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "the token {} has the {} scope; this needs the {} scope",
                found.name, found.scope, guard.scope
            ),
        ));
    }

    guard
        .store
        .touch_api_token(found.id, now)
        .await
        .map_err(ApiError::internal)?;
    Ok(Caller {
        name: found.name,
        scope: found.scope,
    })
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("send a token: Authorization: Bearer <token>"))?;
    let text = value
        .to_str()
        .map_err(|_| ApiError::unauthorized("the Authorization header is not readable text"))?;
    let (kind, token) = text.trim().split_once(' ').ok_or_else(|| {
        ApiError::unauthorized("the Authorization header is not `Bearer <token>`")
    })?;
    if !kind.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized(
            "the Authorization header is not `Bearer <token>`",
        ));
    }
    Ok(token.trim())
}
