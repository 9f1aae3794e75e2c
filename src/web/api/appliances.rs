//! `GET /api/v1/appliances` and `GET /api/v1/appliances/{name}`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, ErrorBody};
use super::model::ApplianceJson;
use super::query::{self, present};
use crate::domain::Status;
use crate::domain::text::bounded;
use crate::web::AppState;

/// Filters of the appliance list; blank values filter nothing.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AppliancesQuery {
    /// Only appliances with this status word (`failed`, `missed`, `good`, ...).
    pub status: Option<String>,
    /// Only appliances with this tag (ignoring case).
    pub tag: Option<String>,
}

/// Every appliance matching the filters, by name, with counts by status.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppliancesAnswer {
    /// The appliances, by name.
    pub appliances: Vec<ApplianceJson>,
    /// How many of the listed appliances have each status.
    pub counts: BTreeMap<String, usize>,
}

/// Every appliance with its status: the facts of the fleet page.
#[utoipa::path(
    get,
    path = "/api/v1/appliances",
    tag = "appliances",
    params(AppliancesQuery),
    responses(
        (status = 200, description = "The appliances, by name", body = AppliancesAnswer),
        (status = 400, description = "A filter value is wrong", body = ErrorBody),
        (status = 401, description = "No valid token", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    query: Result<Query<AppliancesQuery>, QueryRejection>,
) -> Result<Json<AppliancesAnswer>, ApiError> {
    let Query(query) = query.map_err(query::rejected)?;
    let words: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
    let status = query::word("status", &query.status, &words)?;
    let tag = present(&query.tag);

    let fleet = state
        .store
        .fleet_overview()
        .await
        .map_err(ApiError::internal)?;

    let now = Utc::now();
    let appliances: Vec<ApplianceJson> = fleet
        .iter()
        .filter(|o| tag.is_none_or(|t| o.tags.iter().any(|have| have.eq_ignore_ascii_case(t))))
        .map(|o| ApplianceJson::new(o, state.store.acknowledgement(&o.name, now).as_ref(), now))
        .filter(|a| status.as_deref().is_none_or(|s| a.status == s))
        .collect();
    let mut counts = BTreeMap::new();
    for appliance in &appliances {
        *counts.entry(appliance.status.clone()).or_insert(0) += 1;
    }
    Ok(Json(AppliancesAnswer { appliances, counts }))
}

/// One appliance with its status.
#[utoipa::path(
    get,
    path = "/api/v1/appliances/{name}",
    tag = "appliances",
    params(("name" = String, Path, description = "Configured appliance name")),
    responses(
        (status = 200, description = "The appliance", body = ApplianceJson),
        (status = 401, description = "No valid token", body = ErrorBody),
        (status = 404, description = "No appliance has this name", body = ErrorBody),
    ),
    security(("token" = []))
)]
pub async fn show(
    State(state): State<AppState>,
    name: Result<Path<String>, PathRejection>,
) -> Result<Json<ApplianceJson>, ApiError> {
    let Path(name) = name?;
    let overview = state
        .store
        .appliance_overview(&name)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| unknown_appliance(&name))?;
    let now = Utc::now();
    let ack = state.store.acknowledgement(&overview.name, now);
    Ok(Json(ApplianceJson::new(&overview, ack.as_ref(), now)))
}

/// The 404 of a name no configured appliance has.
pub fn unknown_appliance(name: &str) -> ApiError {
    ApiError::not_found(format!("no appliance is named {}", bounded(name, 100)))
}
