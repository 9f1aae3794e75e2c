//! `GET /login`, `POST /login` and `POST /logout` for local users.

use axum::Form;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::limiter::{self, Lockout};
use super::{ClientAddr, cookies, password, session};
use crate::config::AuthMode;
use crate::domain::text::bounded;
use crate::secret::Secret;
use crate::views::auth::LoginPage;
use crate::web::AppState;
use crate::web::error::WebError;

/// Longest user name looked up, in characters.
const MAX_USER_CHARS: usize = 128;

/// The query of the sign-in page.
#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    /// Where to go after signing in.
    pub next: Option<String>,
}

/// The sign-in form as sent. There is no `Debug`: it holds the password.
#[derive(Deserialize)]
pub struct LoginForm {
    /// User name.
    #[serde(default)]
    pub user: String,
    /// Password, wrapped in a [`Secret`] at once.
    #[serde(default)]
    pub password: String,
    /// Where to go after signing in.
    #[serde(default)]
    pub next: String,
}

/// `GET /login`: the form, or the fleet when sign-in is not done here.
pub async fn page(
    State(state): State<AppState>,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Response {
    if state.auth.config.mode != AuthMode::Local {
        return Redirect::to("/").into_response();
    }
    let next = query.ok().and_then(|q| q.0.next).unwrap_or_default();
    LoginPage {
        problem: None,
        user_name: String::new(),
        next: safe_next(&next).to_owned(),
    }
    .into_response()
}

/// `POST /login`: checks the password, and on success starts a new session (always with
/// a new id, whatever cookie came along) and goes on to `next`.
pub async fn submit(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
    form: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, WebError> {
    if state.auth.config.mode != AuthMode::Local {
        return Err(WebError::NotFound(
            "Sign-in is not done on this page.".to_owned(),
        ));
    }
    let Form(form) =
        form.map_err(|_| WebError::BadRequest("The sign-in form is incomplete.".into()))?;
    // No user name holds a line break or a tab; one that does would split a log line.
    let user_name = bounded(form.user.trim(), MAX_USER_CHARS).replace(['\n', '\t'], "\u{fffd}");
    let password = Secret::new(form.password);
    let next = safe_next(&form.next).to_owned();
    let address = client.label();

    let turn = state.auth.sign_in_turn.lock().await;
    let lockout = limiter::locked(&state.store, &user_name, &address, Utc::now())
        .await
        .map_err(WebError::internal)?;
    if let Some(lockout) = lockout {
        tracing::warn!(
            user.name = %user_name,
            client.address = %address,
            ?lockout,
            "sign-in refused: too many failures"
        );
        let why = match lockout {
            Lockout::User => {
                "Too many failed sign-ins for this user. Wait 15 minutes and try again."
            }
            Lockout::Address => {
                "Too many failed sign-ins from your address. Wait 15 minutes and try again."
            }
        };
        return Ok(form_again(
            StatusCode::TOO_MANY_REQUESTS,
            why,
            user_name,
            next,
        ));
    }

    let credentials = state
        .store
        .user_credentials(&user_name)
        .await
        .map_err(WebError::internal)?;
    let stored = credentials.as_ref().map(|c| c.password_hash.clone());
    let matches =
        tokio::task::spawn_blocking(move || password::verify(stored.as_deref(), &password))
            .await
            .map_err(WebError::internal)?;

    let Some(user) = credentials.filter(|_| matches) else {
        let counted = limiter::record_failure(&state.store, &user_name, &address, Utc::now());
        if let Err(e) = counted.await {
            tracing::error!(error = %e, "could not count a failed sign-in");
        }
        drop(turn);
        tracing::warn!(user.name = %user_name, client.address = %address, "sign-in failed");
        let why = "The user name or the password is wrong.";
        return Ok(form_again(StatusCode::UNAUTHORIZED, why, user_name, next));
    };
    drop(turn);

    if let Some(old) = cookies::read(&headers, cookies::SESSION) {
        session::end(&state.store, &old)
            .await
            .map_err(WebError::internal)?;
    }
    let token = session::start(&state.store, &state.auth.config, user.id, Utc::now())
        .await
        .map_err(WebError::internal)?;
    if let Err(e) = limiter::clear_user(&state.store, &user_name).await {
        tracing::error!(user.name = %user.name, error = %e, "could not clear failed sign-ins");
    }
    tracing::info!(
        user.name = %user.name,
        user.role = %user.role,
        client.address = %address,
        "signed in"
    );

    let secure = super::gate::cookies_secure(&state.auth, client.0, &headers);
    let mut response = Redirect::to(&next).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(cookies::SESSION, &token, secure, None),
    );
    Ok(response)
}

/// `POST /logout`: ends the session and clears its cookie.
pub async fn logout(
    State(state): State<AppState>,
    client: ClientAddr,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    if let Some(token) = cookies::read(&headers, cookies::SESSION) {
        session::end(&state.store, &token)
            .await
            .map_err(WebError::internal)?;
        tracing::info!(client.address = %client.label(), "signed out");
    }
    let target = if state.auth.config.mode == AuthMode::Local {
        "/login"
    } else {
        "/"
    };
    let secure = super::gate::cookies_secure(&state.auth, client.0, &headers);
    let mut response = Redirect::to(target).into_response();
    response
        .headers_mut()
        .append(header::SET_COOKIE, cookies::clear(cookies::SESSION, secure));
    Ok(response)
}

fn form_again(status: StatusCode, why: &str, user_name: String, next: String) -> Response {
    let page = LoginPage {
        problem: Some(why.to_owned()),
        user_name,
        next,
    };
    (status, page).into_response()
}

/// Only a path on this site: `/x` but not `//host` or `https://host`, so that a link to
/// the sign-in page cannot send people elsewhere afterwards.
fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(char::is_control);
    if local { next } else { "/" }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next("/appliances/a?x=1"), "/appliances/a?x=1");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next(""), "/");
    }
}
