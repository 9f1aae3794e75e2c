//! The HTTP server: every route in one place, handlers, static assets.
//!
//! Handlers gather from the store, let `views` build ready-to-print structs, and return
//! them; askama renders and escapes. Full pages and htmx fragments have their own structs.
#![warn(missing_docs)]

pub mod acks;
pub mod actions;
pub mod api;
pub mod appliances;
pub mod assets;
pub mod auth;
pub mod error;
pub mod fleet;
pub mod health;
pub mod htmx;
pub mod jobs;
pub mod listener;
pub mod metrics;
pub mod notifications;
pub mod trends;
pub mod typed_text;
pub mod users;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware;
use axum::routing::{any, get, post};
use chrono_tz::Tz;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::config::MaintenanceWindow;
use crate::store::silence::Silencer;
use crate::store::{Store, TokenScope};
use auth::{Auth, Role};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// Where pages read from.
    pub store: Store,
    /// How pages look and refresh.
    pub settings: WebSettings,
    /// Sign-in settings, sessions and CSRF keys.
    pub auth: Arc<Auth>,
    /// Appliance clients and presets for the actions.
    pub actions: Arc<actions::Actions>,
}

/// Settings of the pages.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Seconds between refreshes of the fleet rows.
    pub refresh_secs: u32,
    /// Zone in which times are shown.
    pub display_zone: Tz,
    /// Maintenance windows, by tag.
    pub maintenance: Arc<[MaintenanceWindow]>,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            refresh_secs: 5,
            display_zone: Tz::UTC,
            maintenance: Arc::new([]),
        }
    }
}

impl AppState {
    /// Whether appliances are acknowledged or in maintenance, over this state's store.
    pub fn silencer(&self) -> Silencer {
        Silencer::new(&self.store, &self.settings.maintenance)
    }
}

/// Every page allows only its own scripts, styles and forms: nothing inline, no framing.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; \
    form-action 'self'; frame-ancestors 'none'";

/// Largest request body accepted: forms are small.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Longest a request may take before it is answered with 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The whole web application.
pub fn router(state: AppState) -> Router {
    metrics::process::mark_start();
    let admin = || middleware::from_fn_with_state(Role::Admin, auth::require_role);
    Router::new()
        .route("/", get(fleet::index))
        .route("/fleet/rows", get(fleet::rows))
        .route("/appliances/{name}", get(appliances::show))
        .route("/appliances/{name}/jobs", get(appliances::jobs))
        .route("/appliances/{name}/jobs/{job_id}", get(jobs::show))
        .merge(operator_routes())
        .merge(admin_routes())
        .merge(api_read_routes(&state))
        .merge(api_operate_routes(&state))
        .route("/api/v1/openapi.json", get(api::openapi))
        .route("/api/v1", any(api::error::no_route))
        .route("/api/v1/{*rest}", any(api::error::no_route))
        .route("/appliances/{name}/trends", get(trends::appliance))
        .route("/trends", get(trends::index))
        .route("/trends/as-of", get(trends::as_of))
        .route("/trends/causes", get(trends::causes))
        .route("/trends/export.csv", get(trends::export))
        .route("/trends/report", get(trends::report))
        .route("/users", get(users::index).route_layer(admin()))
        .route("/login", get(auth::login::page).post(auth::login::submit))
        .route("/logout", post(auth::login::logout))
        .route("/static/{*path}", get(assets::show))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::show))
        .fallback(error::no_route)
        .with_state(state.clone())
        .layer(middleware::from_fn_with_state(state, auth::gate))
        .layer(middleware::from_fn(error::htmx_errors))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        // Outside the limits and the time limit, so that their answers get the API's shape.
        .layer(middleware::from_fn(api::error::json_errors))
        .layer(header_layer(
            header::CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY,
        ))
        .layer(header_layer(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(header_layer(header::REFERRER_POLICY, "same-origin"))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        // Pages carry a per-session token; assets set their own caching.
        .layer(header_layer(header::CACHE_CONTROL, "no-store"))
        .layer(TraceLayer::new_for_http())
}

/// Routes that change something on an appliance: operators and admins. Kept one route a
/// line, which is how the role matrix test finds them.
#[rustfmt::skip]
fn operator_routes() -> Router<AppState> {
    use actions::{audit, backup, bulk, cancel, validate};
    let operator = middleware::from_fn_with_state(Role::Operator, auth::require_role);
    Router::new()
        .route("/appliances/{name}/backup", get(backup::form_page).post(backup::start))
        .route("/appliances/{name}/validate", post(validate::validate))
        .route("/appliances/{name}/jobs/{job_id}/cancel", post(cancel::cancel))
        .route("/audit", get(audit::index))
        .route("/fleet/backup", get(bulk::form_page).post(bulk::start))
        .route("/fleet/backup/review", post(bulk::review))
        .route("/fleet/backup/runs/{id}", get(bulk::show))
        .route("/fleet/backup/runs/{id}/rows", get(bulk::rows))
        .route("/fleet/backup/runs/{id}/stop", post(bulk::stop))
        .route("/audit.csv", get(audit::export))
        .route("/notifications", get(notifications::index))
        .route("/appliances/{name}/acknowledgement", post(acks::create))
        .route("/appliances/{name}/acknowledgement/delete", post(acks::delete))
        .route_layer(operator)
}

/// The JSON API's reads: any live token. Not role-guarded; the gate lets `/api/v1`
/// through without a session, and `tests/auth.rs` checks these with tokens.
#[rustfmt::skip]
fn api_read_routes(state: &AppState) -> Router<AppState> {
    use api::{appliances, jobs, trends};
    let token = api::auth::Guard::new(&state.store, TokenScope::Read);
    Router::new()
        .route("/api/v1/appliances", get(appliances::list))
        .route("/api/v1/appliances/{name}", get(appliances::show))
        .route("/api/v1/jobs", get(jobs::list))
        .route("/api/v1/appliances/{name}/jobs/{job_id}", get(jobs::show))
        .route("/api/v1/trends", get(trends::show))
        .route_layer(middleware::from_fn_with_state(token, api::auth::require_token))
}

/// The JSON API's actions: operate tokens only.
#[rustfmt::skip]
fn api_operate_routes(state: &AppState) -> Router<AppState> {
    use api::{backups, jobs};
    let token = api::auth::Guard::new(&state.store, TokenScope::Operate);
    Router::new()
        .route("/api/v1/appliances/{name}/backups", post(backups::start))
        .route("/api/v1/appliances/{name}/jobs/{job_id}/cancel", post(jobs::cancel))
        .route_layer(middleware::from_fn_with_state(token, api::auth::require_token))
}

/// Routes that change an appliance's settings: admins only.
#[rustfmt::skip]
fn admin_routes() -> Router<AppState> {
    use actions::schedule;
    let admin = middleware::from_fn_with_state(Role::Admin, auth::require_role);
    Router::new()
        .route("/appliances/{name}/schedule", get(schedule::form_page).post(schedule::save))
        .route("/appliances/{name}/schedule/delete", post(schedule::delete))
        .route_layer(admin)
}

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}
