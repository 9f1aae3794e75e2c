//! The middleware in front of every route.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

use super::proxy::{self, ProxyIdentity};
use super::{Auth, ClientAddr, CurrentUser, PAGE, PageContext, cookies, csrf, session};
use crate::config::AuthMode;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::htmx::HxRequest;

/// Who a request is from, before any decision.
struct Identity {
    user: Option<CurrentUser>,
    /// A proxy user the configuration gives no role.
    roleless: Option<String>,
    /// Session id of a signed-in local user.
    session: Option<String>,
    /// A session cookie that no longer names a live session.
    stale_session: bool,
}

/// Finds the user, checks the CSRF token of state-changing requests, keeps signed-out
/// visitors to the public routes, and runs the rest with the page context set. Requests
/// to the JSON API under `/api/v1` pass straight through to its token check.
pub async fn gate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let auth = state.auth.clone();
    let local_sign_in = auth.config.mode == AuthMode::Local;
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip());
    request.extensions_mut().insert(ClientAddr(peer));

    // The JSON API takes a bearer token and nothing else: no session cookie, no CSRF
    // token, no sign-in page. Its own guard checks the token on every route.
    if crate::web::api::is_api_path(request.uri().path()) {
        return next.run(request).await;
    }

    let secure = cookies_secure(&auth, peer, request.headers());

    let identity = match identify(&state, peer, request.headers()).await {
        Ok(identity) => identity,
        Err(error) => return error.into_response(),
    };

    let sent_browser = cookies::read(request.headers(), cookies::BROWSER);
    let browser = sent_browser
        .clone()
        .unwrap_or_else(super::tokens::random_token);
    let user_name = identity.user.as_ref().map_or("", |u| u.name.as_str());
    let binding = match &identity.session {
        Some(token) => csrf::Binding::Session(token),
        None => csrf::Binding::Browser {
            key: &auth.key,
            browser: &browser,
            user: user_name,
        },
    };
    let context = PageContext {
        user_name: identity.user.as_ref().map(|u| u.name.clone()),
        role: identity
            .user
            .as_ref()
            .map(|u| u.role.to_string())
            .unwrap_or_default(),
        csrf_token: csrf::token(&binding),
        can_sign_out: identity.session.is_some(),
        can_see_users: identity
            .user
            .as_ref()
            .is_some_and(|u| u.role >= super::Role::Admin),
        sign_in_off: auth.config.mode == AuthMode::None,
    };

    let mut response = PAGE
        .scope(
            context.clone(),
            decide(
                request,
                next,
                identity.clone_parts(),
                context,
                local_sign_in,
            ),
        )
        .await;

    let headers = response.headers_mut();
    if sent_browser.is_none() {
        let cookie = cookies::set(cookies::BROWSER, &browser, secure, None);
        headers.append(header::SET_COOKIE, cookie);
    }
    if identity.stale_session {
        headers.append(header::SET_COOKIE, cookies::clear(cookies::SESSION, secure));
    }
    response
}

impl Identity {
    fn clone_parts(&self) -> (Option<CurrentUser>, Option<String>) {
        (self.user.clone(), self.roleless.clone())
    }
}

/// The checks, in order: CSRF on state changes, then sign-in, then a role at all.
async fn decide(
    request: Request,
    next: Next,
    (user, roleless): (Option<CurrentUser>, Option<String>),
    context: PageContext,
    local_sign_in: bool,
) -> Response {
    let mut request = request;
    if csrf::is_unsafe(request.method()) {
        match csrf::verify(request, &context.csrf_token).await {
            Ok(checked) => request = checked,
            Err((refusal, refused)) => {
                tracing::warn!(
                    method = %refused.method(),
                    path = refused.uri().path(),
                    reason = ?refusal,
                    "request refused: CSRF token"
                );
                let status = if refusal == csrf::Refusal::TooLarge {
                    WebError::TooLarge(refusal.explain().to_owned())
                } else {
                    WebError::Forbidden(refusal.explain().to_owned())
                };
                return status.into_response();
            }
        }
    }

    if is_public(request.uri().path()) {
        if let Some(user) = user {
            request.extensions_mut().insert(user);
        }
        return next.run(request).await;
    }

    match (user, roleless) {
        (Some(user), _) => {
            request.extensions_mut().insert(user);
            next.run(request).await
        }
        (None, Some(name)) => WebError::Forbidden(format!(
            "You are signed in as {name}, but none of your groups gives a role in vbdash. \
             Ask an administrator to map one of your groups to a role."
        ))
        .into_response(),
        (None, None) => sign_in_first(&request, local_sign_in),
    }
}

/// The user of the request, by the configured mode.
async fn identify(
    state: &AppState,
    peer: Option<std::net::IpAddr>,
    headers: &HeaderMap,
) -> Result<Identity, WebError> {
    let mut identity = Identity {
        user: None,
        roleless: None,
        session: None,
        stale_session: false,
    };
    match &state.auth.config.mode {
        AuthMode::None => identity.user = Some(CurrentUser::local_admin()),
        AuthMode::Local => {
            if let Some(token) = cookies::read(headers, cookies::SESSION) {
                let resumed = session::resume(&state.store, &state.auth.config, &token, Utc::now())
                    .await
                    .map_err(WebError::internal)?;
                match resumed {
                    Some(resumed) => {
                        identity.user = Some(resumed.user);
                        identity.session = Some(resumed.token);
                    }
                    None => identity.stale_session = true,
                }
            }
        }
        AuthMode::Proxy(settings) => match proxy::identify(settings, peer, headers) {
            ProxyIdentity::User(user) => identity.user = Some(user),
            ProxyIdentity::NoRole(name) => identity.roleless = Some(name),
            ProxyIdentity::Nobody => {}
        },
    }
    Ok(identity)
}

/// Routes anyone may reach: signing in, assets, the health checks, the metrics.
fn is_public(path: &str) -> bool {
    matches!(path, "/login" | "/healthz" | "/readyz" | "/metrics") || path.starts_with("/static/")
}

/// A signed-out visitor. With local sign-in, pages go to the sign-in page and come back
/// after, and htmx is told to go there; anything else gets a 401. Behind a proxy there is
/// no sign-in page here: the request did not come through the proxy, or the proxy named
/// nobody.
fn sign_in_first(request: &Request, local_sign_in: bool) -> Response {
    if !local_sign_in {
        return WebError::Unauthorized(
            "This dashboard signs people in through a proxy, and this request did not come \
             through it with a user."
                .into(),
        )
        .into_response();
    }
    let target = request
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let login = format!(
        "/login?next={}",
        url::form_urlencoded::byte_serialize(target.as_bytes()).collect::<String>()
    );

    let hx = HxRequest::from_headers(request.headers());
    if hx.is_htmx {
        let mut response =
            WebError::Unauthorized("Your session has ended; sign in again.".into()).into_response();
        if let Ok(value) = HeaderValue::from_str(&login) {
            response.headers_mut().insert("hx-redirect", value);
        }
        return response;
    }
    if request.method() == axum::http::Method::GET {
        return Redirect::to(&login).into_response();
    }
    WebError::Unauthorized("Sign in first.".into()).into_response()
}

/// Cookies get `Secure` when vbdash is configured as behind TLS, or when a trusted proxy
/// says the browser used HTTPS.
pub(super) fn cookies_secure(
    auth: &Auth,
    peer: Option<std::net::IpAddr>,
    headers: &HeaderMap,
) -> bool {
    if auth.config.behind_tls {
        return true;
    }
    let AuthMode::Proxy(settings) = &auth.config.mode else {
        return false;
    };
    peer.is_some_and(|ip| settings.trusts(ip))
        && headers
            .get("x-forwarded-proto")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"))
}
